"""The fitted line-shape model (verify.nmr.fit): areas of overlapping lines, a hidden solvent line's share,
and what the comparison does with them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from verify.nmr.fit import apply_fit, fit_multiplets, line_share_near
from verify.nmr.peaks import find_multiplets
from verify.nmr.solvent_lines import hidden_solvent_share
from verify.solvents import find_solvent

SF = 400.0
ROOT = Path(__file__).resolve().parents[2]


def _axis(n: int = 65536, hi: float = 12.0, lo: float = -1.0) -> np.ndarray:
    return np.linspace(hi, lo, n)


def _lorentz(ppm: np.ndarray, centre: float, fwhm_hz: float, area: float) -> np.ndarray:
    """A Lorentzian line of `area` (intensity x ppm) and full width `fwhm_hz` at SF MHz."""
    g = 0.5 * fwhm_hz / SF  # half width, ppm
    return area / (np.pi * g) / (1.0 + ((ppm - centre) / g) ** 2)


def _spectrum(lines: list[tuple[float, float, float]], noise: float = 0.01, seed: int = 3):
    ppm = _axis()
    y = np.zeros_like(ppm)
    for c, w, a in lines:
        y += _lorentz(ppm, c, w, a)
    y += np.random.default_rng(seed).normal(0.0, noise, ppm.size)
    return ppm, y


def test_overlapping_multiplets_get_their_fitted_areas():
    # a 3:1 pair of singlets 25 Hz apart: the range split at the minimum between them hands the small one
    # part of the big one's tail; the fit gives each its own area back
    ppm, y = _spectrum([(3.500, 3.0, 3.0), (3.4375, 3.0, 1.0)])
    mults, noise = find_multiplets(ppm, y, SF)
    pair = sorted([m for m in mults if 3.40 < m.ppm < 3.53], key=lambda m: -m.ppm)
    assert len(pair) == 2
    summed = pair[1].integral / pair[0].integral
    fit = fit_multiplets(ppm, y, mults, noise, SF)
    fitted = apply_fit(mults, fit)
    by_ppm = sorted([m for m in fitted if 3.40 < m.ppm < 3.53], key=lambda m: -m.ppm)
    ratio = by_ppm[1].integral / by_ppm[0].integral
    assert ratio == pytest.approx(1 / 3, rel=0.01)
    assert abs(summed - 1 / 3) > abs(ratio - 1 / 3)  # the sums were further off
    # the region's measured total is kept
    assert by_ppm[0].integral + by_ppm[1].integral == pytest.approx(pair[0].integral + pair[1].integral, rel=1e-9)
    region = next(r for r in fit.regions if len(r.multiplets) == 2)
    assert region.explains and region.residual_rms_noise < 3.0
    assert [round(L.ppm, 4) for L in sorted(region.lines, key=lambda L: -L.ppm)] == [3.5000, 3.4375]


def test_fitted_line_widths_and_areas():
    ppm, y = _spectrum([(1.230, 1.2, 0.5)])
    mults, noise = find_multiplets(ppm, y, SF)
    fit = fit_multiplets(ppm, y, mults, noise, SF)
    (line,) = [L for r in fit.regions for L in r.lines if abs(L.ppm - 1.23) < 0.01]
    assert line.width_hz == pytest.approx(1.2, rel=0.05)
    assert line.area == pytest.approx(0.5, rel=0.03)
    assert line.ppm == pytest.approx(1.230, abs=2e-4)


def test_hidden_chcl3_line_is_measured():
    # an aromatic doublet of doublets with residual CHCl3 between its lines: the multiplet holds both
    arom = [(7.300, 1.0, 0.5), (7.280, 1.0, 0.5), (7.250, 1.0, 0.5), (7.230, 1.0, 0.5)]
    ppm, y = _spectrum(arom + [(7.262, 0.8, 0.4)])
    mults, noise = find_multiplets(ppm, y, SF)
    mults = apply_fit(mults, fit_multiplets(ppm, y, mults, noise, SF))
    (m,) = [m for m in mults if m.lo <= 7.26 <= m.hi]
    assert len(m.lines) == 5
    share = hidden_solvent_share(m, ("residual", "residual CDCl3", False), find_solvent("CDCl3"), SF)
    assert share == pytest.approx(0.4 / 2.4, abs=0.02)
    # the solvent line itself, water and HOD are not measured this way
    assert hidden_solvent_share(m, ("residual", "residual CDCl3", True), find_solvent("CDCl3"), SF) is None
    assert hidden_solvent_share(m, ("water", "water", False), find_solvent("CDCl3"), SF) is None
    assert line_share_near(m, 7.40, 0.03) is None


def test_unexplained_region_keeps_its_sums():
    # a dispersive (unphased) pair cannot be fitted by absorption lines: its sums stand, no shares
    ppm = _axis()
    g = 0.5 * 3.0 / SF
    u1, u2 = (ppm - 2.50) / g, (ppm - 2.48) / g
    y = 1.0 / (1 + u1**2) + 1.0 / (1 + u2**2) + 0.9 * u1 / (1 + u1**2) + 0.9 * u2 / (1 + u2**2)
    y += np.random.default_rng(1).normal(0.0, 1e-4, ppm.size)
    mults, noise = find_multiplets(ppm, y, SF)
    fit = fit_multiplets(ppm, y, mults, noise, SF)
    fitted = apply_fit(mults, fit)
    for r in fit.regions:
        if not r.explains:
            for j in r.multiplets:
                assert fitted[j].integral == mults[j].integral
                assert fitted[j].line_shares == ()
    assert any(not r.explains for r in fit.regions)


def test_fit_json_and_curve():
    ppm, y = _spectrum([(3.500, 3.0, 3.0), (3.4375, 3.0, 1.0), (1.0, 1.0, 1.0)])
    mults, noise = find_multiplets(ppm, y, SF)
    fit = fit_multiplets(ppm, y, mults, noise, SF)
    d = fit.to_dict(scale=1.0, ppm=ppm)
    assert d["lineshape"] == "pseudo-Voigt"
    assert len(d["regions"]) == len(fit.regions) == 2
    reg = next(r for r in d["regions"] if len(r["lines"]) == 2)
    assert sum(L["area_h"] for L in reg["lines"]) == pytest.approx(4.0, rel=0.03)
    c = reg["curve"]
    assert c["points"] == len(c["model"]) == len(c["residual"]) > 10
    assert max(c["model"]) <= 1.0 + 1e-6 and max(abs(v) for v in c["residual"]) < 0.05
    curve = fit.curve(ppm.size)
    assert np.isnan(curve[0]) and np.nanmax(curve) == pytest.approx(float(np.max(y)), rel=0.02)


@pytest.mark.parametrize(
    "analogue",
    [
        "CC(C)(C)OC(=O)N1CCCN(Cc2ccc(Cl)cc2F)CC1",  # one aromatic C-H of the tube's compound made C-F
    ],
)
def test_chcl3_no_longer_absorbs_a_wrong_h_count(analogue):
    # the bundled 4-chlorobenzyl sample in CDCl3: the residual CHCl3 line sits inside the aromatic
    # multiplet. Its fitted area bounds how much surplus it may explain, so an analogue with one aromatic
    # H fewer is no longer consistent, while the compound itself stays consistent
    from verify.nmr.check import check_nmr
    from verify.structure.target import read_target

    folder = ROOT / "sample_spectra" / "boc_chlorobenzyl_diazepane"
    own = (folder / "compound.smi").read_text().split()[0]
    assert check_nmr(folder / "nmr" / "1", read_target(own)).verdict == "consistent"
    res = check_nmr(folder / "nmr" / "1", read_target(analogue))
    assert res.verdict != "consistent"
    assert any(f.code == "nmr.integral_mismatch" and "7.26" in f.message for f in res.findings)
    fit = res.to_dict()["fit"]
    arom = [r for r in fit["regions"] if r["range"][0] < 7.26 < r["range"][1]]
    assert arom and arom[0]["explains"]
