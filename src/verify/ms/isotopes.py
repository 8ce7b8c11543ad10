"""Isotope pattern of an observed ion against the theoretical one; charge from isotope spacing."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .thresholds import MsThresholds
from .tolerance import ppm_window

C13_DELTA = 1.00335483  # 13C - 12C (Da)


def window_sum(mz: np.ndarray, inten: np.ndarray, centre: float, half: float) -> tuple[float, float]:
    """Summed intensity and intensity-weighted m/z of the centroids within centre +- half."""
    a = np.searchsorted(mz, centre - half, "left")
    b = np.searchsorted(mz, centre + half, "right")
    if b <= a:
        return 0.0, float("nan")
    it = inten[a:b]
    s = float(it.sum())
    return s, float((mz[a:b] * it).sum() / s) if s > 0 else float("nan")


def detection_limit(inten: np.ndarray) -> float:
    """A floor below which a missing peak proves nothing: the 5th percentile of the spectrum's
    centroid intensities (centroid lists are already thresholded by the instrument software)."""
    pos = inten[inten > 0]
    if len(pos) == 0:
        return 0.0
    return float(np.percentile(pos, 5))


@dataclass
class IsotopeFit:
    score: float | None  # 0-1, None when no isotope was intense enough to judge
    comparison: list[dict] = field(default_factory=list)  # label, mz, theoretical, observed
    m1_ratio: float | None = None  # observed / expected M+1
    charge: int | None = None  # |z| from isotope spacing (None: no isotope seen)
    decisive: list[str] = field(default_factory=list)  # reasons the pattern contradicts the formula
    notes: list[str] = field(default_factory=list)


def detect_charge(
    mz: np.ndarray, inten: np.ndarray, mono_mz: float, mono_int: float, ppm: float, expected: int | None = None
) -> int | None:
    """|z| from the 13C spacing after M: z > 1 needs both M+1 (at +1.00335/z, 5-150 % of M) and M+2
    (at +2 x 1.00335/z, >= 1 %) so that a stray centroid does not make a charge; z = 1 needs M+1."""

    def peak(delta: float, z: int) -> float:
        half = 0.004 / z + ppm_window(mono_mz, ppm)
        s, _ = window_sum(mz, inten, mono_mz + delta, half)
        return s / mono_int if mono_int > 0 else 0.0

    for z in (3, 2):
        m1 = peak(C13_DELTA / z, z)
        if 0.05 <= m1 <= 1.5 and peak(2 * C13_DELTA / z, z) >= 0.01:
            return z
    if 0.01 <= peak(C13_DELTA, 1) <= 1.5:
        return 1
    return None


def _scan_sums(idx, scans: np.ndarray, centre: float, half: float) -> np.ndarray:
    sc, ci = idx.hits(centre - half, centre + half, scans)
    out = np.zeros(len(scans))
    if len(sc):
        np.add.at(out, np.searchsorted(scans, sc), idx.run.intensity[ci].astype(np.float64))
    return out


def compare_isotopes(
    idx,
    scans: np.ndarray,
    isotopes: tuple,
    charge: int,
    obs_mono_mz: float,
    ppm: float,
    th: MsThresholds,
    saturated: bool = False,
    spectrum: tuple | None = None,
) -> IsotopeFit:
    """Observed M+1, M+2, ... (relative to M) against theory, measured scan by scan over `scans` of
    the run behind `idx` (a RunIndex): in each scan an isotope counts only where it would be above
    that scan's detection limit (its weakest centroid x isotope_detect_factor), so thresholded centroid
    lists do not fake a missing isotope; an isotope whose scan profile does not follow M's (Pearson
    r < 0.5 over >= 4 scans) is another compound's ion and is not scored."""
    scans = np.sort(np.asarray(scans))
    z = abs(charge) or 1
    theo_mono = isotopes[0][1]
    shift = obs_mono_mz - theo_mono
    m_scan = _scan_sums(idx, scans, obs_mono_mz, ppm_window(obs_mono_mz, ppm) + 1e-4)
    i_m = float(m_scan.sum())
    comparison = [{"label": "M", "mz": round(theo_mono, 5), "theoretical": 1.0, "observed": 1.0 if i_m > 0 else None}]
    fit = IsotopeFit(None, comparison)
    if i_m <= 0:
        return fit
    if spectrum is not None:
        smz, sint = spectrum
        mono_c, _ = window_sum(smz, sint, obs_mono_mz, ppm_window(obs_mono_mz, ppm) + 1e-4)
        fit.charge = detect_charge(smz, sint, obs_mono_mz, mono_c, ppm, z)
    dl_scan = idx.scan_floor()[scans]
    terms = []
    for off, theo_mz, rel in isotopes[1:]:
        half = th.isotope_window_da / z + ppm_window(theo_mz, ppm)
        k_scan = _scan_sums(idx, scans, theo_mz + shift, half)
        usable = rel * m_scan >= th.isotope_detect_factor * dl_scan
        label = f"M+{off}"
        if not usable.any():
            obs_all = float(k_scan.sum() / i_m)
            comparison.append(
                {
                    "label": label,
                    "mz": round(theo_mz, 5),
                    "theoretical": round(rel, 4),
                    "observed": round(obs_all, 4) if k_scan.any() else None,
                }
            )
            continue
        obs = float(k_scan[usable].sum() / m_scan[usable].sum())
        comparison.append(
            {"label": label, "mz": round(theo_mz, 5), "theoretical": round(rel, 4), "observed": round(obs, 4)}
        )
        if off == 1:
            fit.m1_ratio = obs / rel if rel > 0 else None
        if usable.sum() >= 4 and k_scan[usable].std() > 0 and m_scan[usable].std() > 0:
            r = float(np.corrcoef(k_scan[usable], m_scan[usable])[0, 1])
            if r < 0.5 and obs > rel:
                fit.notes.append(f"{label} not scored: its chromatographic profile does not follow M (r={r:.2f})")
                continue
        if saturated and off == 1:
            fit.notes.append("M+1 not scored (saturated main isotope)")
            continue
        sigma = th.isotope_sigma_abs + th.isotope_sigma_rel * rel
        if saturated:
            sigma *= 2
        terms.append(((obs - rel) / sigma) ** 2)
        if rel >= th.isotope_decisive_rel and obs < 0.35 * rel:
            fit.decisive.append(f"{label} expected at {rel * 100:.0f}% of M but found at {obs * 100:.1f}%")
        elif off <= 2 and obs - rel > 0.2 and (obs - rel) / sigma > 4:
            fit.decisive.append(f"{label} found at {obs * 100:.0f}% of M, the formula gives {rel * 100:.1f}%")
    if terms:
        fit.score = float(np.exp(-0.5 * np.mean(terms)))
    return fit
