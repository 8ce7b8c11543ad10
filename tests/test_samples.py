"""Sample spectra: the committed FIDs and mzML runs read back with the field's readers and show what
was injected; generation is deterministic."""

from __future__ import annotations

import csv
import filecmp
import json
import warnings
from pathlib import Path

import numpy as np
import pytest

from verify.samples.tables import multiplet_lines

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_spectra"


def _sample_dirs():
    return sorted(p.parent for p in SAMPLES.glob("*/truth.json"))


SAMPLE_IDS = [p.name for p in _sample_dirs()]


def _truth(name: str) -> dict:
    return json.loads((SAMPLES / name / "truth.json").read_text())


def processed(expdir: Path, truth: dict):
    """The documented processing with the injected phase: returns (ppm, real spectrum)."""
    import nmrglue as ng

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dic, data = ng.bruker.read(str(expdir))
    assert data.dtype.kind == "c" and data.size == dic["acqus"]["TD"] // 2
    s = ng.proc_base.fft(data)
    s = ng.bruker.remove_digital_filter(dic, s, truncate=False, post_proc=True)
    s = ng.proc_base.rev(s)
    s = ng.proc_base.ps(s, p0=truth["p0"], p1=truth["p1"])
    uc = ng.fileiobase.uc_from_udic(ng.bruker.guess_udic(dic, s))
    return uc.ppm_scale(), s


def _clusters(comps, bf1):
    """Merge components whose windows (multiplet span + 40 line widths) overlap."""
    spans = []
    for c in comps:
        half = (c["span_hz"] + 40 * c["lw_hz"] + 4.0) / bf1
        spans.append([c["ppm"] - half, c["ppm"] + half, [c]])
    spans.sort(key=lambda x: x[0])
    out = []
    for lo, hi, cs in spans:
        if out and lo <= out[-1][1]:
            out[-1][1] = max(out[-1][1], hi)
            out[-1][2].extend(cs)
        else:
            out.append([lo, hi, list(cs)])
    return out


def test_committed_samples_exist():
    names = set(SAMPLE_IDS)
    assert "boc_benzyl_diazepane" in names
    assert (SAMPLES / "boc_benzyl_diazepane" / "compound.smi").read_text().split()[0] == (
        "CC(C)(C)OC(=O)N1CCCN(Cc2ccccc2)CC1"
    )
    rows = [
        r
        for r in csv.DictReader((ln for ln in open(SAMPLES / "MANIFEST.tsv") if not ln.startswith("#")), delimiter="\t")
    ]
    assert {r["sample"] for r in rows} == names
    good = [r for r in rows if r["failure"] == "none"]
    assert len(good) >= 8
    for r in rows:
        d = SAMPLES / r["sample"]
        assert (d / "nmr" / "1" / "fid").is_file() and (d / "nmr" / "1" / "acqus").is_file()
        assert (d / "ms.mzML").is_file() and (d / "compound.smi").is_file()
    total = sum(f.stat().st_size for f in SAMPLES.rglob("*") if f.is_file())
    assert total < 17.5e6  # about 0.9 MB a sample; the demo plate is made on demand, not committed


@pytest.mark.parametrize("name", SAMPLE_IDS)
def test_fid_reads_back_with_groups_at_table_shifts(name):
    import nmrglue as ng

    truth = _truth(name)
    t = truth["nmr"]
    expdir = SAMPLES / name / "nmr" / "1"
    dic, _ = ng.bruker.read(str(expdir))
    a = dic["acqus"]
    assert a["AQ_mod"] == 3 and a["DTYPA"] == 0 and a["BYTORDA"] in (0, 1) and a["TD"] == 65536
    assert a["DSPFVS"] == 20 and a["GRPDLY"] > 60 and a["SOLVENT"] in ("CDCl3", "DMSO", "D2O")
    assert (expdir / "fid").stat().st_size == 4 * a["TD"]
    ppm, s = processed(expdir, t)
    bf1 = t["bf1"]
    comps = [c for c in t["components"] if c["n_h"] > 0.02]
    y = s.real.copy()
    # baseline from signal-free points: the generator adds an offset and one Fourier period across the
    # window (corrupt first FID points)
    free = np.ones(y.size, bool)
    for c in comps:
        half = (c["span_hz"] + 60 * c["lw_hz"] + 130.0) / bf1
        free &= np.abs(ppm - c["ppm"]) > half
    free &= (ppm > -2.0) & (ppm < 13.0)
    u = 2.0 * np.pi * np.arange(y.size) / y.size
    basis = np.stack([np.ones_like(u), np.cos(u), np.sin(u)], axis=1)
    coef, *_ = np.linalg.lstsq(basis[free], y[free], rcond=None)
    y -= basis @ coef
    # independent model: analytic Lorentzians at the table's first-order line positions, areas in H
    model = np.zeros_like(y)
    for c in comps:
        if c.get("lines"):  # second-order (AB) pattern as simulated
            offs, w = np.array([x[0] for x in c["lines"]]), np.array([x[1] for x in c["lines"]])
        else:
            offs, w = multiplet_lines(c["mult"], tuple(c["j_hz"]))
        sats = c.get("satellites", [])
        main = 1.0 - sum(f for _, f in sats)
        offs = np.concatenate([offs, [o for o, _ in sats]])
        w = np.concatenate([w * main, [f for _, f in sats]])
        gam = c["lw_hz"] / 2.0 / bf1
        for o, wi in zip(offs, w):
            model += c["n_h"] * wi * gam / np.pi / ((ppm - c["ppm"] - o / bf1) ** 2 + gam**2)
    # exchange-broadened NH spreads over many clusters: in the model, but no window of its own
    sharp = [c for c in comps if not c["assignment"].startswith(("NH", "N+H"))]  # amine N-H, ammonium N+H
    scale = None
    checked = 0
    for lo, hi, cs in _clusters(sharp, bf1):
        sel = (ppm >= lo) & (ppm <= hi)
        area, marea = y[sel].sum(), model[sel].sum()
        centre = float((ppm[sel] * y[sel]).sum() / area)
        mcentre = float((ppm[sel] * model[sel]).sum() / marea)
        assert abs(centre - mcentre) < 0.005, (name, [c["assignment"] for c in cs], centre, mcentre)
        nh = sum(c["n_h"] for c in cs)
        if len(cs) == 1 and nh >= 1:  # an isolated group: its centre is its table shift
            assert abs(centre - cs[0]["ppm"]) < 0.005, (name, cs[0]["assignment"], centre)
        if nh >= 0.9:
            if scale is None:
                scale = area / marea
            assert area / marea / scale == pytest.approx(1.0, rel=0.04), (name, [c["assignment"] for c in cs])
            checked += 1
    assert checked >= 2
    # singlets stand at their table shift (interpolated top)
    for c in sharp:
        if c["mult"] != "s" or c["n_h"] < 1 or any(o is not c and abs(o["ppm"] - c["ppm"]) < 0.04 for o in comps):
            continue
        i = int(np.argmin(np.abs(ppm - c["ppm"])))
        j = i - 20 + int(np.argmax(y[i - 20 : i + 21]))
        a, b, cc = y[j - 1], y[j], y[j + 1]
        top = ppm[j] + 0.5 * (a - cc) / (a - 2 * b + cc) * (ppm[j + 1] - ppm[j])
        assert abs(top - c["ppm"]) < 0.005, (name, c["assignment"], top)


def test_digital_filter_is_in_the_raw_fid_and_nmrglue_removes_it():
    import nmrglue as ng

    expdir = SAMPLES / "boc_benzyl_diazepane" / "nmr" / "1"
    dic, data = ng.bruker.read(str(expdir))
    g = dic["acqus"]["GRPDLY"]
    # the echo top sits at the group delay, the points before it are the filter's ramp
    top = int(np.argmax(np.abs(data[:200])))
    assert abs(top - g) <= 1.0
    assert np.abs(data[:40]).max() < 0.05 * np.abs(data[top])
    # nmrglue's time-domain removal brings the top to the first points
    fd = ng.bruker.remove_digital_filter(dic, data)
    assert int(np.argmax(np.abs(fd[:200]))) <= 2


@pytest.mark.parametrize("name", SAMPLE_IDS)
def test_mzml_reads_back_with_mh_at_exact_mz(name):
    from pyteomics import mzml

    from verify.structure.masses import adduct_ions

    truth = _truth(name)
    m = truth["ms"]
    from verify.structure.target import read_target

    target = read_target(truth["target"]["smiles"]).mol  # a salt's parent: ESI+ sees the free base + H+
    mh = next(i for i in adduct_ions(target) if i.name == "[M+H]+")
    times, obs = [], []
    with mzml.MzML(str(SAMPLES / name / "ms.mzML")) as reader:
        for spec in reader:
            assert spec["ms level"] == 1 and "positive scan" in spec
            mz, it = spec["m/z array"], spec["intensity array"]
            j = np.flatnonzero(np.abs(mz - mh.mz) / mh.mz * 1e6 < 15)
            times.append(spec["scanList"]["scan"][0]["scan start time"])
            obs.append((mz[j], it[j]))
    assert len(times) >= 200
    ints = np.array([o[1].sum() for o in obs])
    same = truth["data_compound"] == truth["target"]["key"]
    if not m["compound_present"] or not same:
        assert ints.max() < 5e3, "target [M+H]+ must be absent"
        return
    apex = ints.max()
    sel = ints > 0.2 * apex
    assert 3 <= sel.sum() <= 60  # a chromatographic peak, not the whole run
    mzs = np.concatenate([o[0] for o, s in zip(obs, sel) if s])
    ws = np.concatenate([o[1] for o, s in zip(obs, sel) if s])
    err = ((mzs * ws).sum() / ws.sum() - mh.mz) / mh.mz * 1e6
    offset = m["ppm_offset"]
    assert abs(err - offset) < 1.0, (err, offset)
    assert abs(err) <= abs(offset) + 1.0


def test_same_seed_same_bytes(tmp_path):
    from verify.samples.catalog import sample_defs
    from verify.samples.generate import generate_sample

    d = next(x for x in sample_defs() if x.name == "fail_residual_solvents")
    a, b = tmp_path / "a", tmp_path / "b"
    generate_sample(d, a, 0)
    generate_sample(d, b, 0)
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert {str(f) for f in files} >= {"nmr/1/fid", "nmr/1/acqus", "ms.mzML", "compound.smi", "truth.json"}
    for f in files:
        assert filecmp.cmp(a / f, b / f, shallow=False), f
    c = tmp_path / "c"
    generate_sample(d, c, 1)
    assert not filecmp.cmp(a / "nmr/1/fid", c / "nmr/1/fid", shallow=False)


def test_committed_nmr_matches_generator(tmp_path):
    """The committed headline sample is exactly what the generator writes (NMR depends only on our tables)."""
    from verify.samples.catalog import sample_defs
    from verify.samples.generate import generate_sample

    d = next(x for x in sample_defs() if x.name == "boc_benzyl_diazepane")
    generate_sample(d, tmp_path / "s", 0)
    for f in ("nmr/1/fid", "nmr/1/acqus", "compound.smi"):
        assert filecmp.cmp(tmp_path / "s" / f, SAMPLES / d.name / f, shallow=False), f


def test_multiplet_lines_first_order():
    from verify.samples.tables import multiplet_lines

    o, w = multiplet_lines("t", (7.0,))
    assert np.allclose(o, [-7, 0, 7]) and np.allclose(w, [0.25, 0.5, 0.25])
    o, w = multiplet_lines("dd", (8.6, 5.5))
    assert np.allclose(sorted(o), [-7.05, -1.55, 1.55, 7.05]) and np.allclose(w, 0.25)
    o, w = multiplet_lines("quint", (1.9,))
    assert np.allclose(w * 16, [1, 4, 6, 4, 1])
    o, w = multiplet_lines("br s", ())
    assert np.allclose(o, [0]) and np.allclose(w, [1])


def test_plate_design():
    from verify.samples import catalog

    design = catalog.plate_design(96)
    assert len(design) == 96 and len({w for w, _, _ in design}) == 96
    specials = [s for _, _, s in design if s]
    assert {"corrupt_fid", "garbage_mzml", "no_nmr", "no_ms", "missing_file", "invalid_smiles"} <= set(specials)
    verdicts = [d.expect_overall for _, d, _ in design]
    assert verdicts.count("consistent") > 48
    assert verdicts.count("inconsistent") >= 5 and verdicts.count("suspicious") >= 5 and verdicts.count("error") >= 1
    # a well with one unreadable file keeps the other part's verdict, at best suspicious (a partial well)
    for _, d, special in design:
        if special in ("corrupt_fid", "missing_file", "garbage_mzml"):
            assert d.expect_overall == (
                "inconsistent" if "inconsistent" in (d.expect_nmr, d.expect_ms) else "suspicious"
            )
        if special == "invalid_smiles":
            assert d.expect_overall == "error"


def test_plate_mechanics(tmp_path):
    """A 16-well slice of the plate design: every special well kind is written as promised."""
    from pyteomics import mzml

    from verify.samples.cli import generate_plate

    rows = generate_plate(tmp_path, n_wells=16, seed=0, workers=2, run_s=40.0)  # short LC runs keep it fast
    plate = list(csv.DictReader(open(tmp_path / "plate.csv")))
    truth = {r["well"]: r for r in csv.DictReader(open(tmp_path / "truth.csv"))}
    assert [r["well"] for r in plate] == [r["well"] for r in rows] and len(plate) == 16
    assert list(plate[0]) == ["well", "compound_id", "smiles", "nmr", "ms"]
    for r in plate:
        t = truth[r["well"]]
        inj = t["injected"]
        if inj.startswith("no NMR"):
            assert r["nmr"] == "" and t["nmr_verdict"] == "not run"
        elif inj.startswith("map points"):
            assert not (tmp_path / r["nmr"]).exists() and t["expected_verdict"] in ("suspicious", "inconsistent")
        elif inj.startswith("corrupt NMR"):
            fid = tmp_path / r["nmr"] / "fid"
            assert fid.stat().st_size % 4 != 0 and fid.stat().st_size < 0.5 * 4 * 65536
            assert t["expected_verdict"] in ("suspicious", "inconsistent")
        elif inj.startswith("corrupt LC-MS"):
            with pytest.raises(Exception):  # noqa: B017 - any parser error will do: the file is corrupt
                with mzml.MzML(str(tmp_path / r["ms"])) as reader:
                    next(iter(reader))
        else:
            assert (tmp_path / r["nmr"] / "fid").stat().st_size == 4 * 65536
        if inj.startswith("invalid SMILES"):
            from rdkit import Chem

            assert Chem.MolFromSmiles(r["smiles"]) is None and t["expected_verdict"] == "error"
        if inj.startswith("no LC-MS"):
            assert r["ms"] == ""
        elif not inj.startswith("corrupt LC-MS"):
            assert (tmp_path / r["ms"]).is_file()


def test_profile_mode(tmp_path):
    from pyteomics import mzml

    from verify.samples.catalog import sample_defs
    from verify.samples.generate import generate_sample

    d = next(x for x in sample_defs() if x.name == "boc_chlorobenzyl_diazepane")
    d.profile = True
    generate_sample(d, tmp_path, 0)
    truth = json.loads((tmp_path / "truth.json").read_text())
    ion = next(s for s in truth["ms"]["species"] if s["role"] == "target")["ions"][0]
    mono = ion["mz"][0]
    with mzml.MzML(str(tmp_path / "ms.mzML")) as reader:
        best = None
        for spec in reader:
            assert "profile spectrum" in spec
            mz, it = spec["m/z array"], spec["intensity array"]
            sel = np.abs(mz - mono) < 0.02
            if sel.any() and (best is None or it[sel].max() > best[1].max()):
                best = (mz[sel], it[sel])
    mz, it = best
    assert len(mz) >= 8  # sampled peak shape, not a stick
    centre = (mz * it).sum() / it.sum()
    assert abs(centre - mono) / mono * 1e6 < abs(truth["ms"]["ppm_offset"]) + 2.0


def test_generator_without_its_extra_says_which_to_install(tmp_path, monkeypatch, capsys):
    # psims (the 'samples' extra) absent: one line naming the extra, exit 69, no traceback
    import builtins

    from verify.samples.cli import main

    real_import = builtins.__import__

    def no_psims(name, *args, **kw):
        if name.split(".")[0] == "psims":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return real_import(name, *args, **kw)

    monkeypatch.setattr(builtins, "__import__", no_psims)
    code = main(["plate", str(tmp_path / "p"), "--wells", "96", "--workers", "1"])
    err = capsys.readouterr().err
    assert code == 69 and "'samples' extra" in err and "pip install" in err and err.count("\n") == 1
