"""Extracted-ion chromatograms, chromatographic peaks and spectra combined across a peak."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .read import Run
from .tolerance import ppm_window

trapezoid_area = getattr(np, "trapezoid", None) or np.trapz  # type: ignore[attr-defined]  # numpy < 2


@dataclass
class Eic:
    """An extracted-ion chromatogram: per-scan most intense centroid within the window."""

    ion: str
    mz: float  # centre of the window (theoretical m/z)
    rt_s: np.ndarray
    intensity: np.ndarray
    mz_obs: np.ndarray  # m/z of that centroid (nan where none)
    apex_s: float | None = None
    start_s: float | None = None
    end_s: float | None = None
    fwhm_s: float | None = None  # peak width at half height
    area: float | None = None  # peak area (intensity x s)

    def to_dict(self) -> dict:
        return {
            "ion": self.ion,
            "mz": self.mz,
            "apex_s": self.apex_s,
            "start_s": self.start_s,
            "end_s": self.end_s,
            "rt_s": self.rt_s.tolist(),
            "intensity": self.intensity.tolist(),
        }


@dataclass
class ChromPeak:
    apex_i: int
    start_i: int
    end_i: int
    apex_s: float
    start_s: float
    end_s: float
    height: float
    area: float
    fwhm_s: float
    n_scans: int  # scans with the ion inside the peak


@dataclass
class Chromatogram:
    """A whole-run trace for the report: the base-peak chromatogram (most intense centroid per scan)."""

    kind: str  # "BPC"
    polarity: str
    rt_s: np.ndarray
    intensity: np.ndarray


def base_peak_chromatogram(run: Run, polarity: str = "") -> Chromatogram:
    """Most intense centroid of every scan of `run` (0 for an empty scan).

    The base peak, not the total ion current, because in ESI the TIC is dominated by the chemical noise
    and background ions present all run long; the BPC shows the compounds' peaks as the instrument
    software does.
    """
    n = run.n_scans
    bpc = np.zeros(n)
    counts = np.diff(run.offsets)
    nz = counts > 0
    if nz.any():
        bpc[nz] = np.maximum.reduceat(run.intensity, run.offsets[:-1][nz])
    return Chromatogram("BPC", polarity, np.asarray(run.rt_s, dtype=float), bpc)


class RunIndex:
    """Vectorised window look-ups over all scans of a run at once (key = scan * K + m/z)."""

    def __init__(self, run: Run):
        self.run = run
        self.k = float(np.ceil(run.mz.max()) + 10.0) if len(run.mz) else 1.0
        # one float64 key per centroid (12 M centroids -> 97 MB); scan offsets repeated, then m/z added in place
        self.key = np.repeat(np.arange(run.n_scans, dtype=np.float64) * self.k, np.diff(run.offsets))
        self.key += run.mz

    def scan_floor(self) -> np.ndarray:
        """Per-scan detection floor: the weakest centroid of each scan (inf for empty scans)."""
        if getattr(self, "_floor", None) is None:
            run = self.run
            counts = np.diff(run.offsets)
            floor = np.full(run.n_scans, np.inf)
            nz = counts > 0
            if nz.any():
                floor[nz] = np.minimum.reduceat(run.intensity, run.offsets[:-1][nz])
            self._floor = floor
        return self._floor

    def hits(self, lo: float, hi: float, scans: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(scan index, centroid index) of every centroid with lo <= m/z <= hi."""
        n = self.run.n_scans
        sc = np.arange(n) if scans is None else np.asarray(scans)
        a = np.searchsorted(self.key, sc * self.k + lo, "left")
        b = np.searchsorted(self.key, sc * self.k + hi, "right")
        lens = b - a
        nz = lens > 0
        if not nz.any():
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        starts, ln = a[nz], lens[nz]
        total = int(ln.sum())
        idx = np.repeat(starts - np.concatenate([[0], np.cumsum(ln)[:-1]]), ln) + np.arange(total)
        return np.repeat(sc[nz], ln), idx

    def eic(self, mz: float, ppm: float, name: str = "") -> Eic:
        tol = ppm_window(mz, ppm)
        sc, idx = self.hits(mz - tol, mz + tol)
        n = self.run.n_scans
        inten = np.zeros(n)
        mzo = np.full(n, np.nan)
        if len(sc):
            vals = self.run.intensity[idx].astype(np.float64)
            order = np.lexsort((vals, sc))  # by scan, then intensity ascending: last per scan is max
            sc_o, idx_o, v_o = sc[order], idx[order], vals[order]
            last = np.nonzero(np.r_[sc_o[1:] != sc_o[:-1], True])[0]
            inten[sc_o[last]] = v_o[last]
            mzo[sc_o[last]] = self.run.mz[idx_o[last]]
        return Eic(name, mz, self.run.rt_s, inten, mzo)

    def presence(self, mz: float, ppm: float) -> tuple[float, np.ndarray]:
        """Fraction of scans with a centroid in the window, and the per-scan max intensity."""
        e = self.eic(mz, ppm)
        return float(np.mean(e.intensity > 0)) if len(e.intensity) else 0.0, e.intensity


def smooth(y: np.ndarray) -> np.ndarray:
    if len(y) < 5:
        return y.astype(float)
    k = np.array([1.0, 2.0, 3.0, 2.0, 1.0]) / 9.0
    return np.convolve(np.pad(y.astype(float), 2, mode="edge"), k, mode="valid")


def find_peaks(
    rt: np.ndarray, y: np.ndarray, min_scans: int = 3, edge: float = 0.05, max_peaks: int = 6, min_rel: float = 0.02
) -> list[ChromPeak]:
    """Chromatographic peaks, tallest first: apex of the smoothed trace, limits where it falls below
    `edge` x apex or reaches a valley, area by the trapezoid rule on the raw trace."""
    n = len(y)
    if n == 0 or not np.any(y > 0):
        return []
    ys = smooth(y)
    free = np.ones(n, dtype=bool)
    peaks: list[ChromPeak] = []
    top = None
    for _ in range(max_peaks * 3):
        cand = np.where(free, ys, -1.0)
        a = int(np.argmax(cand))
        h = cand[a]
        if h <= 0 or (top is not None and h < min_rel * top):
            break
        floor = edge * h
        lo = a
        while lo > 0 and free[lo - 1] and ys[lo - 1] > floor and not (ys[lo - 1] > ys[lo] * 1.05 and ys[lo] < 0.5 * h):
            lo -= 1
        hi = a
        while (
            hi < n - 1 and free[hi + 1] and ys[hi + 1] > floor and not (ys[hi + 1] > ys[hi] * 1.05 and ys[hi] < 0.5 * h)
        ):
            hi += 1
        free[lo : hi + 1] = False
        seg = y[lo : hi + 1]
        n_on = int(np.count_nonzero(seg > 0))
        if n_on < min(min_scans, n):
            continue
        raw_apex = lo + int(np.argmax(seg))
        area = float(trapezoid_area(seg, rt[lo : hi + 1])) if hi > lo else float(seg.sum())
        half = y[raw_apex] / 2
        above = np.nonzero(seg >= half)[0]
        fwhm = float(rt[lo + above[-1]] - rt[lo + above[0]]) if len(above) > 1 else 0.0
        peaks.append(
            ChromPeak(
                raw_apex,
                lo,
                hi,
                float(rt[raw_apex]),
                float(rt[lo]),
                float(rt[hi]),
                float(y[raw_apex]),
                area,
                fwhm,
                n_on,
            )
        )
        if top is None:
            top = h
        if len(peaks) >= max_peaks:
            break
    peaks.sort(key=lambda p: -p.height)
    return peaks


def combine(run: Run, scans: np.ndarray, ppm: float) -> tuple[np.ndarray, np.ndarray]:
    """Average spectrum of the given scans: centroids within `ppm` of each other merged (m/z
    intensity-weighted, intensity summed / number of scans)."""
    scans = np.asarray(scans)
    if len(scans) == 0:
        return np.zeros(0), np.zeros(0)
    parts = [np.arange(run.offsets[i], run.offsets[i + 1]) for i in scans]
    idx = np.concatenate(parts)
    mz = run.mz[idx]
    it = run.intensity[idx].astype(np.float64)
    order = np.argsort(mz, kind="stable")
    mz, it = mz[order], it[order]
    if len(mz) == 0:
        return mz, it
    gap = np.diff(mz) > ppm_window(mz[1:], ppm)
    starts = np.r_[0, np.nonzero(gap)[0] + 1]
    isum = np.add.reduceat(it, starts)
    wmz = np.add.reduceat(mz * it, starts) / np.where(isum > 0, isum, 1)
    return wmz, isum / len(scans)


def is_infusion(e: Eic, presence: float = 0.8, flatness: float = 3.0) -> bool:
    y = e.intensity
    if len(y) < 5:
        return True
    on = y[y > 0]
    if len(on) < presence * len(y):
        return False
    return bool(on.max() <= flatness * np.median(on))
