"""NMR peaks and comparison on synthetic spectra (numpy only, no files)."""

from __future__ import annotations

import numpy as np
import pytest
from nmr_spectra import BENZYL_DIAZEPANE, BENZYL_DIAZEPANE_SIGNALS, BOC_BENZYL, SF, codes, lorentz, multiplet, spectrum

from verify.expectation import build_expectation
from verify.nmr.check import check_spectrum
from verify.nmr.compare import compare
from verify.nmr.impurities import find_impurities
from verify.nmr.peaks import analyse_multiplet, estimate_noise, find_multiplets
from verify.nmr.spectrum import Spectrum1D
from verify.solvents import find_solvent
from verify.structure.target import read_target

T = 7.0


def check(signals, smiles=BENZYL_DIAZEPANE, **kw):
    return check_spectrum(spectrum(signals, **kw), read_target(smiles))


# ---------------------------------------------------------------------------------- peaks


def test_noise_estimate_ignores_signals():
    rng = np.random.default_rng(0)
    ppm = np.linspace(12, -1, 32768)
    y = rng.normal(0, 2.0, ppm.size) + multiplet(ppm, 3.0, 50) + multiplet(ppm, 7.2, 30, [(8, 2)])
    assert estimate_noise(y) == pytest.approx(2.0, rel=0.15)


@pytest.mark.parametrize(
    "couplings,name,js",
    [
        ([], "s", []),
        ([(7.0, 1)], "d", [7.0]),
        ([(7.0, 2)], "t", [7.0]),
        ([(7.1, 3)], "q", [7.1]),
        ([(6.5, 4)], "quint", [6.5]),
        ([(10.0, 1), (3.0, 1)], "dd", [10.0, 3.0]),
        ([(12.0, 1), (4.0, 2)], "dt", [12.0, 4.0]),
        ([(8.0, 2), (2.0, 1)], "td", [8.0, 2.0]),
        ([(6.9, 6)], "sept", [6.9]),
    ],
)
def test_multiplicity_and_j(couplings, name, js):
    s = spectrum([(3.0, 1, couplings)], noise=0.01)
    mults, _ = find_multiplets(s.ppm, s.intensity, SF)
    m = [m for m in mults if abs(m.ppm - 3.0) < 0.1]
    assert len(m) == 1
    assert m[0].multiplicity == name
    assert m[0].j_hz == pytest.approx(js, abs=0.3)


def test_analyse_multiplet_rejects_unsymmetric():
    assert analyse_multiplet(np.array([0.0, 7.0, 9.0]), np.array([1.0, 1.0, 0.3]), 1.0)[0] == "m"


def test_13c_satellites_are_not_real_peaks():
    # a big singlet with 0.55 % satellites at +/- 64 Hz
    sig = [(3.80, 30, []), (3.80 + 64 / SF, 30 * 0.0055, []), (3.80 - 64 / SF, 30 * 0.0055, [])]
    s = spectrum(sig, noise=0.002)
    mults, _ = find_multiplets(s.ppm, s.intensity, SF)
    sats = [m for m in mults if m.flag == "13C satellite"]
    assert len(sats) == 2
    assert all(abs(abs(m.ppm - 3.80) * SF - 64) < 1 for m in sats)


def test_integrals_proportional_to_h():
    s = spectrum([(3.6, 2, []), (1.2, 9, []), (7.3, 5, [(7.5, 2)])], noise=0.01)
    mults, _ = find_multiplets(s.ppm, s.intensity, SF)
    by = {round(m.ppm, 1): m.integral for m in mults}
    assert by[1.2] / by[3.6] == pytest.approx(4.5, rel=0.05)
    assert by[7.3] / by[3.6] == pytest.approx(2.5, rel=0.05)


# ---------------------------------------------------------------------------------- comparison


def test_correct_diazepane_is_consistent():
    res = check(BENZYL_DIAZEPANE_SIGNALS)
    assert res.verdict == "consistent", [f.message for f in res.findings]
    assert all(g.found for g in res.groups if not g.group.exchangeable)
    statuses = {round(p.ppm, 2): p.status for p in res.peaks}
    assert statuses[1.56] == "solvent"
    assert all(p.status in ("consistent", "solvent") for p in res.peaks)


def test_integrals_scaled_to_h():
    res = check(BENZYL_DIAZEPANE_SIGNALS)
    benzylic = next(p for p in res.peaks if abs(p.ppm - 3.63) < 0.02)
    assert benzylic.integral == pytest.approx(2.0, abs=0.15)
    ring = next(p for p in res.peaks if abs(p.ppm - 2.66) < 0.03)
    assert ring.integral == pytest.approx(4.0, abs=0.3)
    assert res.observed_h == pytest.approx(17, abs=1.0)


def test_scale_not_taken_from_tallest_peak():
    # a huge DMSO-like singlet impurity (acetone, 30 mol %) must not set the scale
    res = check(BENZYL_DIAZEPANE_SIGNALS + [(2.17, 6 * 0.3, [])])
    benzylic = next(p for p in res.peaks if abs(p.ppm - 3.63) < 0.02)
    assert benzylic.integral == pytest.approx(2.0, abs=0.15)
    acetone = next(p for p in res.peaks if abs(p.ppm - 2.17) < 0.02)
    assert acetone.status == "impurity" and acetone.assignment == "acetone"


def test_boc_not_removed_is_suspicious():
    res = check(BENZYL_DIAZEPANE_SIGNALS + [(1.46, 9 * 0.15, [])])
    assert res.verdict == "suspicious"
    assert "nmr.boc_not_removed" in codes(res)
    boc = next(p for p in res.peaks if abs(p.ppm - 1.46) < 0.02)
    assert boc.assignment == "Boc not removed"
    assert any("Boc not removed" in f.message for f in res.findings)


def test_boc_on_boc_target_is_consistent():
    sig = [
        (7.33, 2, [(7.5, 1)]),  # phenyl o-H (d) and m-H (t): a 4H "doublet" would hide a triplet
        (7.30, 2, [(7.5, 2)]),
        (7.24, 1, [(7.3, 2)]),
        (3.60, 2, []),
        (3.50, 2, [(6.0, 2)]),
        (3.43, 2, [(6.0, 2)]),
        (2.65, 2, [(5.0, 2)]),
        (2.58, 2, [(5.0, 2)]),
        (1.82, 2, [(6.0, 4)]),
        (1.46, 9, []),
        (7.26, 0.05, []),
    ]
    res = check(sig, smiles=BOC_BENZYL)
    assert res.verdict == "consistent", [f.message for f in res.findings]


def test_wrong_structure_is_inconsistent():
    # the benzyl-diazepane spectrum checked against 4-methoxyacetanilide
    res = check(BENZYL_DIAZEPANE_SIGNALS, smiles="CC(=O)Nc1ccc(OC)cc1")
    assert res.verdict == "inconsistent"
    assert "nmr.group_missing" in codes(res)


def test_missing_group_is_inconsistent():
    # no benzylic CH2 at all
    sig = [s for s in BENZYL_DIAZEPANE_SIGNALS if s[0] != 3.63]
    res = check(sig)
    assert res.verdict == "inconsistent"
    missing = [g for g in res.groups if not g.found]
    assert any("ArCH2" in g.group.label for g in missing)


def test_ethyl_acetate_named():
    etoac = [(2.05, 3 * 0.1, []), (4.12, 2 * 0.1, [(7.1, 3)]), (1.26, 3 * 0.1, [(7.1, 2)])]
    res = check(BENZYL_DIAZEPANE_SIGNALS + etoac)
    named = {p.assignment for p in res.peaks if p.status == "impurity"}
    assert "ethyl acetate" in named
    assert res.verdict == "consistent"  # 10 mol % residual EtOAc does not question the structure
    assert any("ethyl acetate" in f.message for f in res.findings)


ACETYL_BENZYL = "CC(=O)N1CCCN(Cc2ccccc2)CC1"
# 1-(4-benzyl-1,4-diazepan-1-yl)ethan-1-one in CDCl3: amide rotamers give two acetyl CH3 singlets
ACETYL_BENZYL_SIGNALS = [
    (7.33, 2, [(7.5, 1)]),
    (7.30, 2, [(7.5, 2)]),
    (7.24, 1, [(7.2, 2)]),
    (3.61, 2, []),
    (3.58, 2, [(6.0, 2)], 4.0),
    (3.50, 2, [(6.2, 2)], 4.0),
    (2.66, 2, [(6.0, 2)], 2.0),
    (2.59, 2, [(5.6, 2)], 2.0),
    (2.07, 1.65, []),
    (2.04, 1.35, []),
    (1.84, 2, [(6.0, 4)], 3.0),
    (7.26, 0.1, []),  # CHCl3
    (1.56, 0.5, [], 3.5),  # water
]


def test_ethyl_acetate_named_with_its_singlet_under_an_acetyl_ch3():
    # 0.2 eq EtOAc: its 2.05 CH3CO singlet sits between the acetyl rotamer singlets (one multiplet with
    # them); the free 4.12 q and 1.26 t agree per H, so the pattern is ethyl acetate, not two unexplained
    # signals (plate well B04)
    etoac = [(2.05, 3 * 0.2, []), (4.12, 2 * 0.2, [(7.1, 3)]), (1.26, 3 * 0.2, [(7.1, 2)])]
    res = check(ACETYL_BENZYL_SIGNALS + etoac, smiles=ACETYL_BENZYL)
    named = {round(p.ppm, 2): p.assignment for p in res.peaks if p.status == "impurity"}
    assert named.get(4.12) == "ethyl acetate" and named.get(1.26) == "ethyl acetate"
    host = [p for p in res.peaks if p.lo <= 2.05 <= p.hi]
    assert host and host[0].status == "consistent" and "ethyl acetate" in host[0].note
    assert res.verdict == "consistent", [f.message for f in res.findings]


def test_triethylamine_named_with_its_quartet_under_the_ring_ch2():
    # 0.05 eq Et3N: the 2.53 q hides in the N-benzyl-side ring CH2 multiplet, the 1.03 t is free (well E01)
    et3n = [(1.03, 9 * 0.05, [(7.2, 2)]), (2.53, 6 * 0.05, [(7.2, 3)])]
    sig = [s for s in BENZYL_DIAZEPANE_SIGNALS if s[0] != 2.66] + [(2.55, 4, [(5.8, 2)])]
    res = check(sig + et3n)
    named = {round(p.ppm, 2): p.assignment for p in res.peaks if p.status == "impurity"}
    assert named.get(1.03) == "triethylamine"
    assert res.verdict == "consistent", [f.message for f in res.findings]


def test_impurity_pattern_needs_agreeing_free_signals_when_one_is_hidden():
    # the q and t of "ethyl acetate" disagreeing by x3 per H are no ethyl acetate, even with a big
    # signal at 2.05 that could hide its singlet
    bad = [(2.05, 0.6, []), (4.12, 2 * 0.3, [(7.1, 3)]), (1.26, 3 * 0.1, [(7.1, 2)])]
    res = check(ACETYL_BENZYL_SIGNALS + bad, smiles=ACETYL_BENZYL)
    assert not any(p.assignment == "ethyl acetate" for p in res.peaks)
    assert res.verdict == "suspicious"


def _mult(ppm, lo, hi, mult, js, integral):
    from verify.nmr.peaks import Line, Multiplet

    return Multiplet(
        ppm=ppm,
        lo=lo,
        hi=hi,
        lines=[Line(ppm, 1.0, 1.0, 0)],
        multiplicity=mult,
        j_hz=js,
        integral=integral,
        height=1.0,
        snr=100.0,
    )


@pytest.mark.parametrize("host_integral,named", [(10.0, True), (1.0, False)])
def test_hidden_impurity_line_must_fit_under_its_host(host_integral, named):
    # ethyl acetate's free 4.12 q and 1.26 t say 1 unit per H, so its 2.05 singlet carries 3 units: a
    # multiplet at 2.05 carrying less cannot hide it
    mults = [
        _mult(4.12, 4.08, 4.16, "q", [7.1], 2.0),
        _mult(2.08, 1.95, 2.20, "dt", [12.0, 6.0], host_integral),
        _mult(1.26, 1.22, 1.30, "t", [7.1], 3.0),
    ]
    hits = find_impurities(mults, find_solvent("CDCl3"))
    assert ("ethyl acetate" in [h.name for h in hits]) is named


def test_lone_singlet_at_205_is_not_ethyl_acetate():
    # a 2.05 singlet alone is not ethyl acetate (its q and t are missing)
    res = check(BENZYL_DIAZEPANE_SIGNALS + [(2.05, 0.6, [])])
    assert not any(p.assignment == "ethyl acetate" for p in res.peaks)
    assert "nmr.unexplained_peak" in codes(res)


def test_aldehyde_and_alcohol_named():
    extra = [(10.02, 0.1, []), (4.68, 0.3, [])]
    res = check(BENZYL_DIAZEPANE_SIGNALS + extra)
    assert res.verdict == "suspicious"
    c = codes(res)
    assert "nmr.aldehyde_leftover" in c
    assert "nmr.alcohol_byproduct" in c


def test_over_alkylation_named():
    # 30 mol % 1,4-dibenzyl-1,4-diazepane: 4H benzylic at 3.62, 10 ArH, ring 2.70 / 1.80
    f = 0.3
    extra = [(3.61, 4 * f, []), (7.31, 10 * f, [(7.5, 2)]), (2.70, 8 * f, [(5.8, 2)]), (1.80, 2 * f, [(6.0, 4)])]
    res = check(BENZYL_DIAZEPANE_SIGNALS + extra)
    assert res.verdict == "suspicious"
    assert "nmr.over_alkylation" in codes(res)


def test_impurity_table_only_for_acquisition_solvent():
    s = spectrum(
        [(2.50, 0.1, [(1.9, 4)]), (1.99, 0.3, []), (4.03, 0.2, [(7.1, 3)]), (1.17, 0.3, [(7.1, 2)])],
        solvent="DMSO-d6",
        noise=0.01,
    )
    mults, _ = find_multiplets(s.ppm, s.intensity, SF)
    hits = find_impurities(mults, find_solvent("DMSO-d6"))
    assert [h.name for h in hits] == ["ethyl acetate"]
    hits_cdcl3 = find_impurities(mults, find_solvent("CDCl3"))
    assert "ethyl acetate" not in [h.name for h in hits_cdcl3]


def test_compare_is_pure_and_reports_every_group():
    s = spectrum(BENZYL_DIAZEPANE_SIGNALS)
    mults, _ = find_multiplets(s.ppm, s.intensity, SF)
    e = build_expectation(read_target(BENZYL_DIAZEPANE), find_solvent("CDCl3"))
    cmp = compare(mults, e, SF)
    assert {g.group.id for g in cmp.groups} == {g.id for g in e.h_groups}
    assert all(p.status in ("consistent", "solvent", "impurity", "suspicious") for p in cmp.peaks)


def test_to_dict_contract():
    res = check(BENZYL_DIAZEPANE_SIGNALS)
    d = res.to_dict()
    for k in ("verdict", "source", "solvent", "referencing", "processing", "peaks", "groups"):
        assert k in d
    p = d["peaks"][0]
    assert set(p) >= {"ppm", "range", "multiplicity", "j_hz", "integral", "status", "assignment", "note"}
    g = d["groups"][0]
    assert set(g) >= {"id", "n_h", "label", "window", "found", "peak_ppm", "integral"}


def test_solvent_defaults_to_cdcl3_with_info():
    s = spectrum(BENZYL_DIAZEPANE_SIGNALS, solvent="")
    res = check_spectrum(s, read_target(BENZYL_DIAZEPANE))
    assert res.expectation.solvent.key == "cdcl3"
    assert any(f.code == "nmr.solvent_assumed" for f in res.findings)


def test_missing_path_and_bad_input(tmp_path):
    from verify.errors import InputError, MissingInputError
    from verify.nmr.check import check_nmr

    with pytest.raises(MissingInputError):
        check_nmr(tmp_path / "nope", read_target(BENZYL_DIAZEPANE))
    bad = tmp_path / "junk.dx"
    bad.write_text("not a spectrum\n")
    with pytest.raises(InputError):
        check_nmr(bad, read_target(BENZYL_DIAZEPANE))


def test_failed_phase_check_is_reported():
    s = spectrum(BENZYL_DIAZEPANE_SIGNALS)
    assert "nmr.phase_low_confidence" not in {f.code for f in check_spectrum(s, read_target(BENZYL_DIAZEPANE)).findings}
    s.processing = {"phase_check": {"passed": False, "neg_fraction": 0.12}}
    res = check_spectrum(s, read_target(BENZYL_DIAZEPANE))
    f = [f for f in res.findings if f.code == "nmr.phase_low_confidence"]
    assert f and f[0].severity == "info" and "12 %" in f[0].message


# ------------------------------------------------------------------ water that is not at its table shift

BENZOIC_ACETONE = [
    (8.05, 2, [(7.8, 1)]),
    (7.62, 1, [(7.5, 2)]),
    (7.51, 2, [(7.7, 2)]),
    (2.05, 0.2, [(2.2, 4)]),  # residual acetone-d5 quintet
]


def test_water_exchange_averaged_with_cooh_is_solvent():
    # wet acetone-d6 with an acid: no water line at 2.84, no COOH line, one averaged line near 3.3
    res = check(BENZOIC_ACETONE + [(3.45, 0.4, [], 3.0)], smiles="OC(=O)c1ccccc1", solvent="acetone-d6")
    line = next(p for p in res.peaks if abs(p.ppm - 3.45) < 0.02)
    assert line.status == "solvent" and "exchang" in line.assignment
    assert "nmr.exchange_averaged_water" in {f.code for f in res.findings}
    assert res.verdict == "consistent", [f.message for f in res.findings]


@pytest.mark.parametrize(
    "smiles, extra",
    [
        ("COC(=O)c1ccccc1", [(3.90, 3, [])]),  # methyl benzoate: no exchangeable H to exchange with
        ("OC(=O)c1ccccc1", [(2.84, 0.5, [], 3.0)]),  # the water line itself is there
    ],
)
def test_line_near_water_stays_unexplained_without_exchange(smiles, extra):
    res = check(BENZOIC_ACETONE + extra + [(3.45, 0.4, [], 3.0)], smiles=smiles, solvent="acetone-d6")
    line = next(p for p in res.peaks if abs(p.ppm - 3.45) < 0.02)
    assert line.status == "suspicious"
    assert res.verdict == "suspicious"


GABA_D2O = [
    (3.01, 2, [(7.6, 2)]),
    (2.29, 2, [(7.4, 2)]),
    (1.89, 2, [(7.5, 4)]),
]


def test_shoulder_of_a_presaturated_hod_line_is_water():
    res = check(GABA_D2O + [(4.79, 20, [], 8.0), (4.87, 0.3, [], 3.0)], smiles="NCCCC(=O)O", solvent="D2O")
    shoulder = next(p for p in res.peaks if abs(p.ppm - 4.87) < 0.02)
    assert shoulder.status == "solvent" and "shoulder" in shoulder.assignment
    assert res.verdict == "consistent", [f.message for f in res.findings]


def test_line_beside_a_small_water_line_is_not_absorbed():
    # CDCl3 water is ~0.3 H: a 0.4 H line 0.07 ppm away is far more than a shoulder of it
    res = check(BENZYL_DIAZEPANE_SIGNALS + [(1.63, 0.4, [])])
    line = next(p for p in res.peaks if abs(p.ppm - 1.63) < 0.02)
    assert line.status == "suspicious"


def test_line_with_13c_satellites_is_not_taken_for_water():
    # a CH3-O singlet (1J(CH) = 142 Hz satellites, 0.55 % each) where averaged water could sit
    sats = [(3.45 + 71.0 / SF, 0.4 * 0.0055, []), (3.45 - 71.0 / SF, 0.4 * 0.0055, [])]
    res = check(BENZOIC_ACETONE + [(3.45, 0.4, [])] + sats, smiles="OC(=O)c1ccccc1", solvent="acetone-d6")
    line = next(p for p in res.peaks if abs(p.ppm - 3.45) < 0.01)
    assert line.status == "suspicious" and "13C satellites" in line.note
    assert "nmr.exchange_averaged_water" not in {f.code for f in res.findings}


def test_acetyl_rotamer_pair_with_hidden_ethyl_acetate_keeps_its_assignment():
    # 1-acetyl-4-benzyl-1,4-diazepane (amide rotamers: two CH3 singlets) with ethyl acetate, whose 2.05
    # singlet falls between the rotamer singlets: the CH3 stays on its singlets, the ring C6 on its quintet
    sig = [
        (7.33, 2, [(7.5, 1)]),  # phenyl o-H (d) and m-H (t): a 4H "doublet" would hide a triplet
        (7.30, 2, [(7.5, 2)]),
        (7.24, 1, [(7.3, 2)]),
        (3.62, 2, []),
        (3.58, 2, [(6.0, 2)]),
        (3.50, 2, [(6.0, 2)]),
        (2.66, 2, [(5.0, 2)]),
        (2.58, 2, [(5.0, 2)]),
        (2.07, 1.7, []),
        (2.035, 1.3, []),
        (1.84, 2, [(5.9, 4)]),
        (2.05, 0.66, []),
        (4.12, 0.44, [(7.1, 3)]),
        (1.26, 0.66, [(7.1, 2)]),  # ethyl acetate, 22 mol %
        (7.26, 0.05, []),
        (1.56, 0.3, [], 4.0),
    ]
    res = check(sig, smiles="CC(=O)N1CCCN(Cc2ccccc2)CC1")
    acetyl = next(p for p in res.peaks if abs(p.ppm - 2.05) < 0.03)
    ring = next(p for p in res.peaks if abs(p.ppm - 1.84) < 0.02)
    assert "acetyl" in acetyl.assignment and "acetyl" not in ring.assignment, (acetyl.assignment, ring.assignment)
    assert "C6" in ring.assignment
    assert res.verdict == "consistent", [f.message for f in res.findings]


def test_water_with_a_long_exchange_tail_is_still_the_water_line():
    # p-propionotoluidide in CDCl3: water's lines sit at 1.65-1.70 but its integration range runs to 1.99
    # along the broad tail; a small triplet below it must not be taken for the water instead
    from verify.nmr.peaks import Line, Multiplet
    from verify.nmr.solvent_lines import classify_solvent

    def mult(ppm, lo, hi, lines, name, j=()):
        return Multiplet(
            ppm=ppm,
            lo=lo,
            hi=hi,
            lines=[Line(p, h, w, 0) for p, h, w in lines],
            multiplicity=name,
            j_hz=list(j),
            integral=1.0,
            height=max(h for _, h, _ in lines),
            snr=100.0,
        )

    water = mult(1.673, 1.589, 1.989, [(1.703, 9e5, 7.0), (1.675, 7.8e5, 1.6), (1.65, 1.05e6, 20.5)], "m")
    small_t = mult(1.362, 1.319, 1.588, [(1.377, 1.3e5, 2.7), (1.362, 1.8e5, 4.2), (1.347, 1.3e5, 2.8)], "t", [7.7])
    out = classify_solvent([water, small_t], find_solvent("CDCl3"))
    assert out[0] == ("water", "water (H2O/HOD)", True)
    assert 1 not in out


def test_plateau_of_even_small_lines_is_a_baseline_hump():
    # the foot of a dominant TMS line (cocaine at 700 MHz): a ~1 ppm raised stretch picked as many small
    # lines of even height; a real triplet standing on it is kept and integrated on its own
    ppm = np.linspace(12.0, -1.0, 65536)
    y = np.zeros_like(ppm)
    for c in np.arange(0.20, 1.10, 0.025):  # 36 ripples of even height, 10 Hz apart (a plateau)
        y += lorentz(ppm, c, 30.0, fwhm_hz=8.0)
    y += multiplet(ppm, 0.88, 0.6, [(7.0, 2)], fwhm_hz=1.0)  # a small real CH3 triplet on it
    y += np.random.default_rng(3).normal(0, 0.05, ppm.size)
    mults, _ = find_multiplets(ppm, y, SF)
    humps = [m for m in mults if m.flag == "baseline hump"]
    assert len(humps) == 1 and humps[0].lo < 0.3 and humps[0].hi > 1.0 and humps[0].integral == 0.0
    t = [m for m in mults if not m.flag and abs(m.ppm - 0.88) < 0.01]
    assert len(t) == 1 and t[0].multiplicity == "t"


def test_hidden_13c_satellite_taken_out_of_a_small_signal():
    # a tert-butyl singlet's upfield 13C satellite (1J = 126 Hz) falls 13 Hz from a small grease line at
    # 1.27: the two read as a 'doublet' until the satellite (seen mirrored at 1.62) is taken out
    half = 63.0 / SF
    sig = [(1.46, 9, []), (1.46 + half, 9 * 0.0055, []), (1.46 - half, 9 * 0.0055, []), (1.27, 0.3, [], 4.0)]
    s = spectrum(sig, noise=0.01)
    mults, _ = find_multiplets(s.ppm, s.intensity, SF)
    tbu = next(m for m in mults if abs(m.ppm - 1.46) < 0.01)
    small = next(m for m in mults if 1.2 < m.ppm < 1.32 and not m.flag)
    assert small.multiplicity in ("s", "br s") and "satellite" in small.note
    assert abs(small.ppm - 1.27) < 0.01
    assert small.integral / tbu.integral == pytest.approx(0.3 / 9, rel=0.25)


def test_signal_outside_the_1h_shift_range_is_an_artefact_not_suspicious():
    # a wide window (17 to -3 ppm): a ripple at 15.5 is outside any 1H shift of the structure or of a listed
    # impurity; a line at -0.8 is inside the range (cyclopropyl, silyl) and stays suspicious
    ppm = np.linspace(17.0, -3.0, 65536)
    y = np.zeros_like(ppm)
    for sig in BENZYL_DIAZEPANE_SIGNALS + [(15.5, 0.5, [], 30.0), (-0.8, 0.5, [], 3.0)]:
        y += multiplet(ppm, *sig)
    y += np.random.default_rng(1).normal(0, 0.05, ppm.size)
    res = check_spectrum(
        Spectrum1D(ppm=ppm, intensity=y, sf_mhz=SF, solvent="CDCl3", source="synthetic"), read_target(BENZYL_DIAZEPANE)
    )
    edge = next(p for p in res.peaks if abs(p.ppm - 15.5) < 0.05)
    inside = next(p for p in res.peaks if abs(p.ppm + 0.8) < 0.02)
    assert edge.status == "solvent" and "outside" in edge.assignment
    assert inside.status == "suspicious"
    assert "nmr.out_of_range" in {f.code for f in res.findings}


def test_impurity_hidden_under_a_target_signal_is_an_integral_warning():
    # 0.8 H of something unnamed exactly under the benzylic CH2 singlet: 2.8 H where the group needs 2
    sig = [s for s in BENZYL_DIAZEPANE_SIGNALS if s[0] != 3.63] + [(3.63, 2.8, [])]
    res = check(sig)
    assert "nmr.integral_mismatch" in codes(res), [f.message for f in res.findings]
    assert res.verdict == "suspicious"
    msg = next(f.message for f in res.findings if f.code == "nmr.integral_mismatch")
    assert "3.63" in msg and "more" in msg


@pytest.mark.parametrize(
    "analogue",
    [
        "C1CNCCN(C1)Cc1ccc(C)cc1",  # 4-methylbenzyl: no ArCH3 singlet near 2.3 (the ring CH2 triplets are not one)
        "C1CNCCN(C1)Cc1ccc(OC)cc1",  # 4-methoxybenzyl: no OCH3 singlet
    ],
)
def test_benzyl_spectrum_does_not_pass_for_a_para_substituted_analogue(analogue):
    res = check(BENZYL_DIAZEPANE_SIGNALS, smiles=analogue)
    assert res.verdict != "consistent", [f.message for f in res.findings]


def test_boc_singlet_whose_range_runs_into_water_is_named():
    # Boc not removed at 1.46 beside a strong water line at 1.56 (384-well demo B14): the singlet's integration
    # range runs on to the water multiplet (1.433-1.518), but its line is one sharp singlet
    sig = [s for s in BENZYL_DIAZEPANE_SIGNALS if s[0] != 1.56] + [(1.56, 1.5, [], 6.0), (1.46, 9 * 0.27, [])]
    spec = spectrum(sig)
    mults, _ = find_multiplets(spec.ppm, spec.intensity, SF)
    boc = next(m for m in mults if abs(m.ppm - 1.46) < 0.01)
    boc.lo, boc.hi = 1.433, 1.518
    cmp = compare(mults, build_expectation(read_target(BENZYL_DIAZEPANE), "CDCl3"), SF)
    assert "nmr.boc_not_removed" in {f.code for f in cmp.findings}, [f.message for f in cmp.findings]


@pytest.mark.parametrize("centre,width_hz", [(1.2, 300.0), (5.5, 600.0), (8.0, 300.0)])
def test_broad_hump_is_baseline_and_noise_on_it_is_no_signal(centre, width_hz):
    # a probe-background hump (300-600 Hz wide, not at the edge): its body and the noise riding on it
    # are not signals; the compound's own multiplets beside it keep their integrals
    hump = (centre, 1.0, [], width_hz)
    res = check(BENZYL_DIAZEPANE_SIGNALS + [hump], noise=0.02)
    assert res.verdict == "consistent", [f.message for f in res.findings if f.severity != "info"]
    assert not [p for p in res.peaks if abs(p.ppm - centre) < 0.3 and p.status == "suspicious" and p.integral >= 0.1]
    assert "nmr.baseline_hump" in {f.code for f in res.findings}


def test_crowded_multiplets_and_a_tall_lines_foot_are_not_humps():
    from verify.nmr.peaks import broad_background

    ppm = np.linspace(12.0, -1.0, 65536)
    y = np.zeros_like(ppm)
    rng = np.random.default_rng(11)
    for k in range(14):  # 0.8-2.1 ppm wall to wall with overlapping multiplets (a terpene's aliphatic region)
        y += multiplet(ppm, 0.8 + 0.1 * k, rng.uniform(1, 3), [(7.0, 2), (12.0, 1)], fwhm_hz=rng.uniform(2, 6))
    y += lorentz(ppm, 3.3, 4000.0, fwhm_hz=1.5)  # a tall methyl singlet: its wings rise above noise
    y += np.random.default_rng(5).normal(0, 0.05, ppm.size)
    noise = estimate_noise(y)
    assert not broad_background(ppm, y, noise, SF).any()
    # with the same spectrum plus a bare 400 Hz hump at 6 ppm, that hump and only it is found
    y2 = y + lorentz(ppm, 6.0, 2.0, fwhm_hz=400.0)
    bg = broad_background(ppm, y2, estimate_noise(y2), SF)
    found = ppm[bg > 0]
    assert found.size and found[np.argmax(bg[bg > 0])] == pytest.approx(6.0, abs=0.15)  # block-median grid
    assert not (bg[(ppm > 0.7) & (ppm < 2.2)] > 0).any() and not (bg[np.abs(ppm - 3.3) < 0.3] > 0).any()


@pytest.mark.parametrize("n_h,severity", [(0.45, "info"), (1.8, "warning")])
def test_boc_not_removed_warns_from_ten_mol_percent(n_h, severity):
    # the Boc precursor's 9H singlet beside the free amine: 0.45 H is 5 mol % (named, info), 1.8 H is 20 %
    res = check(BENZYL_DIAZEPANE_SIGNALS + [(1.46, n_h, [])])
    boc = [f for f in res.findings if f.code == "nmr.boc_not_removed"]
    assert boc and boc[0].severity == severity, [f.message for f in res.findings]
    assert res.verdict == ("consistent" if severity == "info" else "suspicious")


def test_two_neighbouring_triplets_are_no_25_hz_doublet_of_triplets():
    # rotamers of one N-CH2: two 1:2:1 triplets (J 5.4 Hz) whose centres lie 23 Hz apart, as one piece
    pos = np.array([0.0, 5.4, 10.8, 23.2, 28.6, 34.0])
    hgt = np.array([1.0, 2.0, 1.0, 1.0, 2.0, 1.0])
    name, js = analyse_multiplet(pos, hgt, 1.5)
    assert name == "m" and js == []
    # a real dt (J 7 and 2 Hz) is still named
    dt = np.array([0.0, 2.0, 4.0, 7.0, 9.0, 11.0])
    assert analyse_multiplet(dt, hgt, 0.8)[0] == "dt"


def test_benzyl_aromatic_lines_stay_with_their_groups():
    # the sample's benzyl ring: o/m-H multiplet at 7.32, the p-H triplet at 7.23 overlapping the CDCl3 line;
    # the triplet's high-field line (0.25 H) was cut off as a "suspicious" singlet, and the p-H placed on the
    # o/m multiplet at random among equal fits
    from pathlib import Path

    from verify.nmr.check import check_nmr

    sample = Path(__file__).resolve().parents[2] / "sample_spectra" / "boc_benzyl_diazepane"
    res = check_nmr(sample / "nmr", read_target(str(sample / "compound.smi")))
    assert res.verdict == "consistent"
    assert not [p for p in res.peaks if p.status == "suspicious"]
    para = next(g for g in res.expectation.h_groups if "p-" in g.label)
    carriers = [p for p in res.peaks if para.id + " " in p.assignment + " "]
    assert carriers and all(7.19 <= p.ppm <= 7.27 for p in carriers)
    outer = [p for p in carriers if "outer line" in p.note]
    assert len(outer) == 1 and outer[0].integral < 0.3
    assert not [p for p in res.peaks if p.multiplicity == "dt" and max(p.j_hz) > 18.0]
