"""A fitted line-shape model of the 1H spectrum: how much of each multiplet is each of its lines.

Region sums (`verify.nmr.peaks`) measure a multiplet well when it stands alone, but where signals
overlap they cannot say how much of the sum belongs to which: a range split at the intensity minimum
between two multiplets hands each the other's tail, and the residual CHCl3 line inside an aromatic
multiplet is counted as aromatic H. Here every line of every multiplet is fitted as a pseudo-Voigt line
(centre, width, height free within bounds around the picked line; one Lorentzian/Gaussian mix per region)
on a straight local baseline, region by region: multiplets whose integration ranges touch are fitted
together, each region on its own points only (the whole-spectrum fit is too slow, see
../shared/field-notes.md). `scipy.optimize.least_squares` (bounded trust-region, analytic Jacobian).

What the fit gives back, and how it is used:

* `SpectrumFit.regions`: per region the fitted lines (ppm, FWHM in Hz, area in the integral units of
  `verify.nmr.peaks`: intensity x ppm), the model curve and the residual (data - model) in noise units;
  these go into the JSON and the report's expansions.
* `apply_fit(mults, fit)`: the multiplets again, with `line_shares` (each line's fraction of its
  multiplet's fitted area) and, where several multiplets were fitted together and the fit explains the
  region, their integrals re-apportioned by fitted area. The region's total stays its measured sum: the
  sum does not depend on the line shape, the split between overlapping signals does.

Units: ppm axis, intensities as in the spectrum, widths in Hz (FWHM) at `sf_mhz` MHz.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from .peaks import Multiplet
from .thresholds import NMR_THRESHOLDS, NmrThresholds

_LN2 = math.log(2.0)
# area of a pseudo-Voigt line of height 1 and half width at half height 1: Lorentzian pi, Gaussian sqrt(pi/ln 2)
_AREA_L = math.pi
_AREA_G = math.sqrt(math.pi / _LN2)


@dataclass(frozen=True)
class FittedLine:
    """One fitted line: centre (ppm), height (intensity units), FWHM (Hz), area (intensity x ppm)."""

    ppm: float
    height: float
    width_hz: float
    area: float
    multiplet: int  # index of the multiplet it belongs to (in the list given to fit_multiplets)
    line: int  # index of the line within that multiplet's `lines`


@dataclass(frozen=True)
class RegionFit:
    """Multiplets fitted together over the spectrum points i0..i1 (inclusive)."""

    i0: int
    i1: int
    lo: float  # ppm range of the fitted points
    hi: float
    multiplets: tuple[int, ...]
    lines: tuple[FittedLine, ...]
    gauss_fraction: float  # 0 = Lorentzian, 1 = Gaussian
    model: np.ndarray  # fitted curve over y[i0 : i1 + 1], baseline included
    residual: np.ndarray  # data - model over the same points (intensity units)
    residual_rms_noise: float  # rms of the residual / the spectrum's noise
    unexplained_fraction: float  # (sum |residual| beyond the noise) / sum |data| over the region
    explains: bool  # the fit is good enough to apportion the region's integral by it

    def area_of(self, j: int) -> float:
        """Fitted area (intensity x ppm) of multiplet `j`'s lines."""
        return float(sum(L.area for L in self.lines if L.multiplet == j))


@dataclass(frozen=True)
class SpectrumFit:
    """All fitted regions of one spectrum, and the noise (intensity units) they were judged by."""

    regions: tuple[RegionFit, ...]
    noise: float
    sf_mhz: float

    def curve(self, size: int) -> np.ndarray:
        """The model over the whole spectrum's index range (NaN outside the fitted regions)."""
        out = np.full(size, np.nan)
        for r in self.regions:
            out[r.i0 : r.i1 + 1] = r.model
        return out

    def to_dict(self, scale: float = 0.0, max_points_per_hz: float = 1.0, ppm: np.ndarray | None = None) -> dict:
        """JSON form: per region the lines (areas in H when `scale`, integral units per H, is known) and the
        curve and residual, relative to the tallest fitted line, at most `max_points_per_hz` points per Hz."""
        top = max((L.height for r in self.regions for L in r.lines), default=0.0) or 1.0
        regions = []
        for r in self.regions:
            n = r.i1 - r.i0 + 1
            span_hz = (r.hi - r.lo) * self.sf_mhz
            step = max(1, int(math.ceil(n / max(2.0, span_hz * max_points_per_hz))))
            idx = np.arange(0, n, step)
            d = {
                "range": [round(r.lo, 4), round(r.hi, 4)],
                "gauss_fraction": round(r.gauss_fraction, 2),
                "residual_rms_noise": round(r.residual_rms_noise, 2),
                "unexplained_fraction": round(r.unexplained_fraction, 3),
                "explains": r.explains,
                "lines": [
                    {
                        "ppm": round(L.ppm, 4),
                        "width_hz": round(L.width_hz, 2),
                        "height": round(L.height / top, 4),
                        **({"area_h": round(L.area / scale, 3)} if scale > 0 else {}),
                    }
                    for L in r.lines
                ],
                "curve": {
                    "first_ppm": None if ppm is None else round(float(ppm[r.i0]), 5),
                    "last_ppm": None if ppm is None else round(float(ppm[r.i0 + int(idx[-1])]), 5),
                    "points": int(idx.size),
                    "model": [round(float(v) / top, 3) for v in r.model[idx]],
                    "residual": [round(float(v) / top, 3) for v in r.residual[idx]],
                },
            }
            regions.append(d)
        return {"lineshape": "pseudo-Voigt", "intensity_unit": "tallest fitted line = 1", "regions": regions}


def _regions(mults: list[Multiplet], ppm: np.ndarray) -> list[list[int]]:
    """Multiplets whose integration ranges touch (within two points), as groups of indices, low ppm first."""
    step = abs(float(ppm[1] - ppm[0])) if ppm.size > 1 else 0.0
    order = sorted((j for j, m in enumerate(mults) if m.lines and m.flag != "baseline hump"), key=lambda j: mults[j].lo)
    out: list[list[int]] = []
    hi = -np.inf
    for j in order:
        m = mults[j]
        if out and m.lo <= hi + 2 * step:
            out[-1].append(j)
            hi = max(hi, m.hi)
        else:
            out.append([j])
            hi = m.hi
    return out


def _index_range(ppm: np.ndarray, lo: float, hi: float) -> tuple[int, int]:
    desc = ppm[0] > ppm[-1]
    if desc:
        i0 = int(np.searchsorted(-ppm, -hi, side="left"))
        i1 = int(np.searchsorted(-ppm, -lo, side="right")) - 1
    else:
        i0 = int(np.searchsorted(ppm, lo, side="left"))
        i1 = int(np.searchsorted(ppm, hi, side="right")) - 1
    return max(0, i0), min(ppm.size - 1, max(i0, i1))


def _model(p: np.ndarray, x: np.ndarray, k: int, want_jac: bool = False):
    """Sum of k pseudo-Voigt lines (params c, g, h per line; then eta, b0, b1) at x (Hz)."""
    c = p[0 : 3 * k : 3]
    g = p[1 : 3 * k : 3]
    h = p[2 : 3 * k : 3]
    eta, b0, b1 = p[3 * k], p[3 * k + 1], p[3 * k + 2]
    u = (x[:, None] - c[None, :]) / g[None, :]
    u2 = u * u
    lor = 1.0 / (1.0 + u2)
    gau = np.exp(-_LN2 * u2)
    shape = (1.0 - eta) * lor + eta * gau
    f = shape @ h + b0 + b1 * x
    if not want_jac:
        return f, None
    ds_du = (1.0 - eta) * (-2.0 * u * lor * lor) + eta * (-2.0 * _LN2 * u * gau)
    jac = np.empty((x.size, 3 * k + 3))
    jac[:, 0 : 3 * k : 3] = -h[None, :] * ds_du / g[None, :]
    jac[:, 1 : 3 * k : 3] = -h[None, :] * ds_du * u / g[None, :]
    jac[:, 2 : 3 * k : 3] = shape
    jac[:, 3 * k] = (gau - lor) @ h
    jac[:, 3 * k + 1] = 1.0
    jac[:, 3 * k + 2] = x
    return f, jac


def _fit_region(
    ppm: np.ndarray,
    y: np.ndarray,
    mults: list[Multiplet],
    members: list[int],
    noise: float,
    sf_mhz: float,
    th: NmrThresholds,
) -> RegionFit | None:
    from scipy.optimize import least_squares

    lines = [(j, li, L) for j in members for li, L in enumerate(mults[j].lines)]
    if not lines:
        return None
    hz_per_pt = abs(float(ppm[1] - ppm[0])) * sf_mhz
    widest = max(L.width_hz for _, _, L in lines)
    lo = min(mults[j].lo for j in members) - 0.5 * widest / sf_mhz
    hi = max(mults[j].hi for j in members) + 0.5 * widest / sf_mhz
    i0, i1 = _index_range(ppm, lo, hi)
    if i1 - i0 + 1 < 4:
        return None
    # not every point is needed: near each line, th.fit_points_per_width points per FWHM of the narrowest
    # line there; between lines (tails and baseline), one point in eight
    mid = 0.5 * (float(ppm[i0]) + float(ppm[i1]))
    full_x = (ppm[i0 : i1 + 1] - mid) * sf_mhz  # Hz from the region's centre
    keep = np.zeros(full_x.size, dtype=bool)
    keep[::8] = True
    for _, _, L in lines:
        c = (L.ppm - mid) * sf_mhz
        reach = max(th.fit_near_widths * L.width_hz, 4 * hz_per_pt)
        near = np.abs(full_x - c) <= reach
        stride = max(1, int(L.width_hz / hz_per_pt / th.fit_points_per_width))
        idx = np.flatnonzero(near)[::stride]
        keep[idx] = True
    x = full_x[keep]
    data = y[i0 : i1 + 1][keep]
    k = len(lines)
    p0, lb, ub = [], [], []
    top = max(float(np.max(data)), noise)
    for _, _, L in lines:
        fw = max(L.width_hz, 0.8 * hz_per_pt)
        c0 = (L.ppm - mid) * sf_mhz
        dc = max(0.6 * fw, 1.5 * hz_per_pt)
        g0 = 0.5 * fw
        h0 = max(L.height, noise)
        p0 += [c0, g0, h0]
        lb += [c0 - dc, max(0.3 * g0, 0.3 * hz_per_pt), 0.0]
        ub += [c0 + dc, max(2.5 * g0, 0.6 * hz_per_pt), 2.0 * h0 + 3.0 * noise]
    p0 += [0.2, 0.0, 0.0]
    lb += [0.0, -0.2 * top, -np.inf]
    ub += [1.0, 0.2 * top, np.inf]
    p0 = np.clip(np.array(p0), np.array(lb) + 1e-12, np.array(ub) - 1e-12)

    def res(p):
        return _model(p, x, k)[0] - data

    def jac(p):
        return _model(p, x, k, True)[1]

    try:
        sol = least_squares(
            res,
            p0,
            jac=jac,
            bounds=(np.array(lb), np.array(ub)),
            method="trf",
            x_scale="jac",
            max_nfev=th.fit_max_evaluations,
        )
    except (ValueError, np.linalg.LinAlgError):  # a degenerate region (flat data, bounds pinched): no fit
        return None
    p = sol.x
    model = _model(p, full_x, k)[0]
    resid = y[i0 : i1 + 1] - model
    data = y[i0 : i1 + 1]
    eta = float(p[3 * k])
    shape_area = (1.0 - eta) * _AREA_L + eta * _AREA_G
    fitted = []
    for n, (j, li, _) in enumerate(lines):
        c, g, h = p[3 * n : 3 * n + 3]
        fitted.append(
            FittedLine(
                ppm=float(mid + c / sf_mhz),
                height=float(h),
                width_hz=float(2 * g),
                area=float(h * g * shape_area / sf_mhz),
                multiplet=j,
                line=li,
            )
        )
    rms = float(np.sqrt(np.mean(resid * resid)))
    # what the residual holds beyond the noise (the mean |residual| of pure noise is 0.80 x its rms), as a
    # fraction of the region's signal: a perfect fit of a weak line is not "unexplained" by its noise
    beyond_noise = max(0.0, float(np.sum(np.abs(resid))) - 0.8 * noise * resid.size)
    unexplained = beyond_noise / max(float(np.sum(np.abs(data))), 1e-300)
    rms_noise = rms / noise if noise > 0 else float("inf")
    return RegionFit(
        i0=i0,
        i1=i1,
        lo=float(min(ppm[i0], ppm[i1])),
        hi=float(max(ppm[i0], ppm[i1])),
        multiplets=tuple(members),
        lines=tuple(fitted),
        gauss_fraction=eta,
        model=model,
        residual=resid,
        residual_rms_noise=rms_noise,
        unexplained_fraction=unexplained,
        explains=bool(sol.status > 0 and unexplained <= th.fit_max_unexplained),
    )


def fit_multiplets(
    ppm: np.ndarray,
    y: np.ndarray,
    mults: list[Multiplet],
    noise: float,
    sf_mhz: float,
    th: NmrThresholds = NMR_THRESHOLDS,
) -> SpectrumFit:
    """Fit every multiplet's lines, region by region.

    Parameters
    ----------
    ppm, y : ndarray
        The chemical-shift axis (ppm; either direction) and the real, phased intensity (the spectrum the
        multiplets were found in).
    mults : list of Multiplet
        From `verify.nmr.peaks.find_multiplets`; baseline humps and multiplets without lines are not fitted.
    noise : float
        Baseline rms (intensity units), from the same call.
    sf_mhz : float
        Spectrometer frequency (MHz).
    th : NmrThresholds
        `fit_max_lines` (lines in one region; larger regions are left to their sums), `fit_max_evaluations`,
        `fit_max_unexplained` (fraction of a region's absolute intensity the fit may leave before it is not
        used to apportion integrals).

    Returns
    -------
    SpectrumFit
    """
    ppm = np.asarray(ppm, dtype=float)
    y = np.asarray(y, dtype=float)
    out = []
    if ppm.size < 8 or not (sf_mhz > 0) or not mults:
        return SpectrumFit((), float(noise), float(sf_mhz))
    from threadpoolctl import threadpool_limits

    # the trust-region steps are SVDs of small dense matrices: BLAS threads only fight over the cores there
    # (3-4x slower on a loaded 2-core machine than one thread)
    with threadpool_limits(limits=1, user_api="blas"):
        for members in _regions(mults, ppm):
            if sum(len(mults[j].lines) for j in members) > th.fit_max_lines:
                continue
            r = _fit_region(ppm, y, mults, members, float(noise), float(sf_mhz), th)
            if r is not None:
                out.append(r)
    return SpectrumFit(tuple(out), float(noise), float(sf_mhz))


def apply_fit(mults: list[Multiplet], fit: SpectrumFit) -> list[Multiplet]:
    """The multiplets with `line_shares` from the fit (only in regions it explains) and, in such regions
    when they hold several multiplets, integrals re-apportioned by fitted area (the region's measured total
    kept)."""
    out = list(mults)
    for r in fit.regions:
        areas = {j: r.area_of(j) for j in r.multiplets}
        for j in r.multiplets:
            m = out[j]
            tot = areas[j]
            shares = [0.0] * len(m.lines)
            for L in r.lines:
                if L.multiplet == j and tot > 0:
                    shares[L.line] = L.area / tot
            # shares only from a fit that explains its region (a poorly fitted unresolved blob says nothing)
            out[j] = replace(m, line_shares=tuple(shares) if tot > 0 and r.explains else ())
        total_fit = sum(areas.values())
        if len(r.multiplets) > 1 and r.explains and total_fit > 0:
            total_sum = sum(max(mults[j].integral, 0.0) for j in r.multiplets)
            for j in r.multiplets:
                out[j] = replace(out[j], integral=total_sum * areas[j] / total_fit)
    return out


def line_share_near(m: Multiplet, ppm: float, tol_ppm: float, half_width_ppm: float = 0.0) -> float | None:
    """Fitted fraction of multiplet `m` carried by the pattern centred on its line nearest `ppm` (within
    `tol_ppm`): that line and every line within `half_width_ppm` of it (the five lines of a CHD2 quintet).
    None when no line is that close or the multiplet was not fitted. Used to measure a solvent line hidden
    in a multiplet."""
    if not m.line_shares or not m.lines:
        return None
    k = min(range(len(m.lines)), key=lambda n: abs(m.lines[n].ppm - ppm))
    centre = m.lines[k].ppm
    if abs(centre - ppm) > tol_ppm:
        return None
    return float(sum(sh for L, sh in zip(m.lines, m.line_shares) if abs(L.ppm - centre) <= half_width_ppm + 1e-9))
