"""HRMS on real instrument data (../shared/realdata/ms): every known compound found where the source's
annotations put it; nothing real comes out inconsistent; a formula absent from a file does."""

from __future__ import annotations

import csv
import functools

import pytest

from verify.errors import InputError
from verify.expectation import build_expectation
from verify.ms.check import check_ms
from verify.ms.read import read_run
from verify.structure.target import read_target

pytestmark = pytest.mark.realdata

# Runs without a single MS1 scan: the compound cannot be found by an extracted-ion chromatogram, its mass error
# judged over a chromatographic peak or its isotope pattern scored, so every check of such a file must stop with
# a one-line InputError (exit 65) that names the file and says there is no MS1 scan -- never a verdict.
MS2_ONLY = {
    "ms/msmint_uracil_HILICNeg15_FragSample_QExactive.mzXML": "targeted HCD of m/z 111.02 at six collision energies, 1617 MS2 scans and no MS1 survey scan (the source "
    "project, ms-mint, keeps it as the file its pipeline must skip)",
}


def _assert_no_ms1_error(path, exp):
    with pytest.raises(InputError) as ei:
        check_ms(path, exp)
    msg = str(ei.value)
    assert ei.value.exit_code == 65 and "\n" not in msg
    assert str(path) in msg and "no MS1" in msg


def _manifest(realdata):
    with open(realdata / "MANIFEST.tsv", newline="") as fh:
        return [r for r in csv.DictReader(fh, delimiter="\t") if r["kind"] == "ms"]


def _observed(realdata):
    with open(realdata / "ms" / "_annotations" / "observed_ions.tsv", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


@functools.cache
def _check(path: str, smiles: str):
    exp = build_expectation(read_target(smiles))
    return exp, check_ms(path, exp)


def _cases():
    # the manifest is read at collection time only for ids; skipped cleanly when absent
    from conftest import _realdata_dir

    d = _realdata_dir()
    if not (d / "MANIFEST.tsv").is_file():
        return [pytest.param(None, None, None, id="no-realdata")]
    return [
        pytest.param(
            r["path"], r["compound_name"], r["smiles"], id=f"{r['path'].split('/')[-1][:28]}-{r['compound_name'][:20]}"
        )
        for r in _manifest(d)
    ]


@pytest.mark.parametrize("rel, name, smiles", _cases())
def test_known_compound_found_where_annotated(realdata, rel, name, smiles):
    path = realdata / rel
    if rel in MS2_ONLY:
        # the annotation is read off an MS2 scan (precursor [M-H]- and a fragment): there is no MS1 peak to find
        # it in, so the right answer is the no-MS1 error, not a located compound (see MS2_ONLY)
        _assert_no_ms1_error(path, build_expectation(read_target(smiles)))
        return
    exp, res = _check(str(path), smiles)
    rows = [o for o in _observed(realdata) if o["file"] == path.name and o["formula"] == exp.formula]
    assert rows, f"no annotation for {name} ({exp.formula})"
    assert res.verdict != "inconsistent", [f.message for f in res.findings]
    assert res.main_ion is not None
    # the main ion sits at the annotated m/z and RT (apex RT may be in minutes in the annotation)
    main_row = next((o for o in rows if o["ion"] == res.main_ion.name), None)
    assert main_row is not None, f"main ion {res.main_ion.name} not among annotated ions {[o['ion'] for o in rows]}"
    obs = float(main_row["obs_mz"])
    # the annotation reads the apex scan; ours is intensity-weighted across the peak, so on strong
    # (saturating) TOF ions it sits between the apex value and the theoretical m/z
    assert abs(res.main_ion.mz - obs) / obs * 1e6 < 5.0, (res.main_ion.mz, obs)
    assert abs(res.main_ion.ppm_error) <= max(abs(float(main_row["ppm"])) + 1.5, 3.0)
    rt_annot = float(main_row["rt_apex"])
    if res.to_dict()["run"]["rt_unit_in_file"] == "minute":
        rt_annot *= 60
    assert res.rt_s == pytest.approx(rt_annot, abs=3.0)
    # every ion annotated with high confidence is found, within 3 ppm of the annotated m/z
    for o in rows:
        if o["confidence"] != "high":
            continue
        im = next(i for i in res.ions if i.name == o["ion"])
        assert im.found, f"{name} {o['ion']} not found"
        assert abs(im.mz - float(o["obs_mz"])) / float(o["obs_mz"]) * 1e6 < 5.0, (o["ion"], im.mz, o["obs_mz"])
    # mass error within tolerance, or excused as saturation
    if abs(res.main_ion.ppm_error) > 5:
        assert any(f.code == "ms.saturation" for f in res.findings)
    assert res.isotope_score is None or res.isotope_score > 0.5


def _files(realdata):
    return sorted({r["path"] for r in _manifest(realdata)})


def test_absent_formula_is_inconsistent_in_every_file(realdata):
    exp = build_expectation(read_target("CC(C)(C)OC(=O)N1CCCN(Cc2ccccc2)CC1"))  # Boc-benzyl-diazepane, not there
    for rel in _files(realdata):
        if rel in MS2_ONLY:  # no MS1 scan: no verdict at all, the no-MS1 error instead (see MS2_ONLY)
            _assert_no_ms1_error(realdata / rel, exp)
            continue
        res = check_ms(realdata / rel, exp)
        assert res.verdict == "inconsistent", (rel, [f.message for f in res.findings])
        assert any(f.code == "ms.no_expected_ion" for f in res.findings)


def test_wrong_formula_at_a_present_mass_is_not_consistent(realdata):
    # cyproconazole with F instead of Cl: nothing at that mass
    exp = build_expectation(read_target("CC(C1CC1)C(Cn2cncn2)(c3ccc(cc3)F)O"))
    res = check_ms(realdata / "ms" / "openms_PestMix1pos_TripleTOF6600.mzML", exp)
    assert res.verdict == "inconsistent"


def test_profile_orbitrap_is_centroided(realdata):
    run = read_run(realdata / "ms" / "openms_nucleosides_QExactive.mzML")
    assert run.spectrum_mode == "profile" and run.n_scans == 380
    _exp, res = _check(
        str(realdata / "ms" / "openms_nucleosides_QExactive.mzML"), "Nc1ncnc2c1ncn2[C@@H]1O[C@H](CO)[C@@H](O)[C@H]1O"
    )
    assert abs(res.main_ion.ppm_error) < 2.5
    assert res.isotope_score > 0.9
    assert 0.2 < res.ms_purity < 0.8  # six nucleosides in the run
    shares = {round(c["mz"], 2) for c in res.chromatographic_peaks}
    assert 252.11 in shares  # 2'-deoxyadenosine reported as another chromatographic peak


def test_polarity_switching_both_polarities(realdata):
    path = realdata / "ms" / "openms_ginkgotoxin_ms-switching_QExactive.mzML"
    run = read_run(path)
    assert run.polarities == {1, -1} and run.rt_unit == "minute"
    assert run.rt_s.min() > 170 and run.rt_s.max() < 186
    _exp, res = _check(str(path), "COCc1c(CO)cnc(C)c1O")
    neg = next(i for i in res.ions if i.name == "[M-H]-")
    assert neg.found and abs(neg.mz - 182.08168) < 0.001


@pytest.mark.parametrize(
    "smiles, name",
    [
        ("CCOP(=O)(NC(C)C)Oc1ccc(c(c1)C)SC", "fenamiphos"),
        ("CCCCC(Cn1cncn1)(C#N)c2ccc(cc2)Cl", "myclobutanil"),
    ],
)
def test_saturated_tripletof_ions(realdata, smiles, name):
    _exp, res = _check(str(realdata / "ms" / "openms_PestMix1_1ngSolventDDA20-50_TripleTOF6600.mzML"), smiles)
    assert any(f.code == "ms.saturation" for f in res.findings), name
    assert not any(f.code == "ms.mass_error" for f in res.findings), name
    assert res.verdict != "inconsistent"
    # the weaker sodium adduct of fenamiphos carries the accurate mass
    if name == "fenamiphos":
        na = next(i for i in res.ions if i.name == "[M+Na]+")
        assert na.found and abs(na.ppm_error) < 5
