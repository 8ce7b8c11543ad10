"""Chromatographic features of a whole run: mass traces -> peaks -> (de-isotoped) features with
their share of the ion current. Used for "other chromatographic peaks" and the MS purity."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .chromatogram import RunIndex, find_peaks, trapezoid_area
from .isotopes import C13_DELTA
from .thresholds import MsThresholds
from .tolerance import ppm_window


@dataclass
class Feature:
    mz: float
    rt_s: float
    start_s: float
    end_s: float
    height: float
    area: float  # own area
    background: bool = False
    isotope_of: Feature | None = None
    total_area: float = 0.0  # own + its isotopes' areas
    share: float = 0.0
    status: str = "suspicious"
    assignment: str = ""
    note: str = ""
    theoretical_mz: float | None = None
    ppm_error: float | None = None


def find_features(idx: RunIndex, ppm: float, th: MsThresholds) -> list[Feature]:
    run = idx.run
    if run.n_scans == 0 or len(run.mz) == 0:
        return []
    thr = th.feature_min_fraction * float(run.intensity.max())
    sel = np.nonzero(run.intensity >= thr)[0]
    if len(sel) == 0:
        return []
    order = sel[np.argsort(run.mz[sel], kind="stable")]
    mz = run.mz[order]
    it = run.intensity[order].astype(np.float64)
    gap = np.diff(mz) > ppm_window(mz[1:], ppm)
    starts = np.r_[0, np.nonzero(gap)[0] + 1]
    ends = np.r_[starts[1:], len(mz)]
    imax = np.maximum.reduceat(it, starts)
    isum = np.add.reduceat(it, starts)
    cmz = np.add.reduceat(mz * it, starts) / isum
    nsc = ends - starts
    cand = np.nonzero(nsc >= min(th.min_scans, run.n_scans))[0]
    cand = cand[np.argsort(-imax[cand])][: th.max_features]
    feats: list[Feature] = []
    n = run.n_scans
    for c in cand:
        e = idx.eic(float(cmz[c]), ppm)
        y = e.intensity
        on = y > 0
        presence = float(on.mean())
        flat = presence >= th.background_presence and y.max() <= th.background_flatness * np.median(y[on])
        if flat and n >= 10:
            feats.append(
                Feature(
                    float(cmz[c]),
                    float(run.rt_s[int(np.argmax(y))]),
                    float(run.rt_s[0]),
                    float(run.rt_s[-1]),
                    float(y.max()),
                    float(trapezoid_area(y, run.rt_s)) if n > 1 else float(y.sum()),
                    background=True,
                    status="solvent",
                    assignment="background (present all run long)",
                )
            )
            continue
        for p in find_peaks(run.rt_s, y, min_scans=th.min_scans, edge=th.peak_edge_fraction, max_peaks=3, min_rel=0.1):
            seg = slice(p.start_i, p.end_i + 1)
            w = y[seg]
            m = e.mz_obs[seg]
            ok = w > 0
            fmz = float((m[ok] * w[ok]).sum() / w[ok].sum()) if ok.any() else float(cmz[c])
            feats.append(Feature(fmz, p.apex_s, p.start_s, p.end_s, p.height, p.area))
    # de-isotope in m/z order: a heavier co-eluting feature at k x 1.00335/z (k <= 4) of a lighter one,
    # no taller than the isotope pattern of a Br2/Cl3 compound allows, is that feature's isotope
    dt = float(np.median(np.diff(run.rt_s))) if n > 1 else 1.0
    kept: list[Feature] = []
    for f in sorted(feats, key=lambda f: f.mz):
        f.total_area = f.area
        if not f.background:
            parent = _isotope_parent(f, kept, dt, ppm, th)
            if parent is not None:
                f.isotope_of = parent
                parent.total_area += f.area
        kept.append(f)
    kept.sort(key=lambda f: -f.height)
    main = [f for f in kept if not f.background and f.isotope_of is None]
    total = sum(f.total_area for f in main)
    for f in main:
        f.share = f.total_area / total if total > 0 else 0.0
    return kept


def _isotope_parent(f: Feature, kept: list[Feature], dt: float, ppm: float, th: MsThresholds) -> Feature | None:
    for g in sorted(kept, key=lambda g: -g.height):
        if g.background or g.isotope_of is not None:
            continue
        if abs(g.rt_s - f.rt_s) > max(2.5 * dt, (g.end_s - g.start_s) / 4):
            continue
        d = f.mz - g.mz
        if abs(d) < ppm_window(g.mz, ppm) and f.height <= g.height:
            return g  # the same ion found twice
        for z in (1, 2, 3):
            for k in (1, 2, 3, 4):
                limit = 1.3 if k == 1 else 2.2
                if (
                    abs(d - k * C13_DELTA / z) <= th.isotope_window_da / z + ppm_window(g.mz, ppm)
                    and f.height <= limit * g.height
                ):
                    return g
    return None
