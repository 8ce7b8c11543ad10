"""Raw 1H FID -> phased, baseline-corrected, referenced Spectrum1D (nmrglue primitives, numpy/scipy, pybaselines).

Order (field notes, /work/shared/field-notes.md): exponential line broadening (0.3 Hz) -> zero-fill ->
FT -> digital-filter removal after the FT (first-order phase of the group delay, not truncated) ->
reverse to a descending ppm axis -> automatic zero+first-order phase (ACME on a small, broadened copy;
then checked: negative-area fraction and a restart from other phases) -> arPLS baseline (on a block-
averaged copy, lam scaled to its point count, interpolated back) -> referencing (TMS / DSS at 0.00,
else the residual solvent signal searched only near its expected position, the two cross-checked).
"""

from __future__ import annotations

import math
import time
import warnings

import numpy as np

from ..errors import InputError
from .spectrum import RawFID, Spectrum1D

LB_HZ = 0.3  # exponential line broadening
MIN_SI = 16384  # smallest zero-filled size
MAX_SI = 131072  # largest zero-filled size
PHASE_N = 8192  # points of the subsampled copy the automatic phasing works on (phases do not depend on it)
NEG_FRACTION_MAX = 0.08  # phasing is "checked failed" above this negative-area fraction
BASELINE_N = 8192  # block-averaged copy the baseline is fitted on
TMS_WINDOW = 0.35  # ppm either side of 0 searched for TMS/DSS on the file's own axis
SOLVENT_WINDOW = 0.30  # ppm either side of the nominal residual-solvent position
CROSSCHECK_TOL = 0.02  # ppm: TMS and solvent must agree within this

# J(1H-2H) of the CHD2 quintets of common residual solvents (Hz; Fulmer 2010 Table 1 notes)
QUINTET_J = {"dmso": 1.9, "acetone": 2.2, "cd3od": 1.7, "cd3cn": 2.5}


def _ng():
    import nmrglue as ng

    return ng


# ----------------------------------------------------------------------------- public API


def load_spectrum(path, solvent: str | None = None, use_pdata: bool = False) -> Spectrum1D:
    """Read and, for time-domain data, process a 1D 1H dataset; processed input is only referenced-checked."""
    from .read import read_nmr

    t0 = time.perf_counter()
    obj = read_nmr(path, use_pdata=use_pdata)
    t1 = time.perf_counter()
    if isinstance(obj, Spectrum1D):
        if solvent:
            obj.solvent = solvent
        obj.processing.setdefault("timing_ms", {})["read"] = round((t1 - t0) * 1e3, 1)
        return obj
    spec = process(obj, solvent=solvent)
    spec.processing.setdefault("timing_ms", {})["read"] = round((t1 - t0) * 1e3, 1)
    return spec


def process(raw: RawFID, solvent: str | None = None) -> Spectrum1D:
    ng = _ng()
    timing = {}
    t = time.perf_counter()
    fid = np.asarray(raw.data, dtype=np.complex128)
    n = fid.size
    if n < 16:
        raise InputError(f"FID too short to process ({n} points)", raw.source)
    sw, sf = float(raw.sw_hz), float(raw.sf_mhz)
    if not (sw > 0 and sf > 0):
        raise InputError("spectral width or spectrometer frequency missing", raw.source)
    gd = float(raw.group_delay or 0.0)
    fid = fid.copy()
    if gd <= 0:
        fid[0] *= 0.5  # analog-style FID: halve the first point (no baseline offset)
    si = _zf_size(n)
    # --- full-resolution spectrum
    spec = _ft(ng, fid, sw, LB_HZ, si, gd)
    timing["ft"] = _lap(t)
    # --- automatic phase on a small broadened copy, then applied to the full spectrum
    t = time.perf_counter()
    k = max(1, si // PHASE_N)
    p0, p1, phase_info = _autophase(ng, spec[::k])
    spec = ng.proc_base.ps(spec, p0=p0, p1=p1)
    timing["phase"] = _lap(t)
    # --- baseline
    t = time.perf_counter()
    real = np.ascontiguousarray(spec.real)
    base, base_info = _baseline(real)
    real = real - base
    timing["baseline"] = _lap(t)
    phase_info.update(_phase_check(real))
    # --- axis (descending ppm, unreferenced)
    freq = (np.arange(si) - si // 2) * (sw / si)  # ascending Hz
    ppm = raw.carrier_ppm + freq[::-1] / sf
    real = real[::-1].copy() if False else real  # spectrum already runs high -> low frequency (see _ft)
    if raw.reverse:
        real = real[::-1].copy()
    # --- referencing
    t = time.perf_counter()
    solvent_name = solvent or raw.solvent or ""
    ref = reference_spectrum(ppm, real, sf, solvent_name)
    ppm = ppm - ref["offset_ppm"]
    timing["reference"] = _lap(t)
    processing = {
        "line_broadening_hz": LB_HZ,
        "zero_filled_to": si,
        "acquired_points": n,
        "group_delay_points": gd,
        "digital_filter": "first-order phase after FT (group delay, not truncated)" if gd > 0 else "none",
        "phase0_deg": round(float(p0), 2),
        "phase1_deg": round(float(p1), 2),
        "phase_method": "ACME (nmrglue autops) on a %d-point subsampled copy" % min(PHASE_N, si),
        "phase_check": phase_info,
        "baseline": base_info,
        "axis_reversed_from_file": bool(raw.reverse),
        "timing_ms": timing,
    }
    return Spectrum1D(
        ppm=ppm,
        intensity=real,
        sf_mhz=sf,
        solvent=solvent_name,
        source=raw.source,
        referencing=ref,
        processing=processing,
        params=dict(raw.params) | {"vendor": raw.vendor, "nucleus": raw.nucleus, "sw_hz": sw,
                                    "carrier_ppm": raw.carrier_ppm},
    )


# ----------------------------------------------------------------------------- steps


def _lap(t):
    return round((time.perf_counter() - t) * 1e3, 1)


def _zf_size(n: int) -> int:
    si = 1 << int(math.ceil(math.log2(max(2 * n, 2))))
    return int(min(max(si, MIN_SI), max(MAX_SI, 1 << int(math.ceil(math.log2(n))))))


def _ft(ng, fid, sw, lb_hz, si, gd):
    """Apodise, zero-fill, FT, remove the digital filter; returns the spectrum high -> low frequency."""
    d = ng.proc_base.em(fid, lb=lb_hz / sw)
    if d.size > si:
        d = d[:si]
    d = ng.proc_base.zf_size(d, si)
    s = ng.proc_base.fft(d)
    if gd > 0:
        s = ng.bruker.rm_dig_filter(s, 1, 20, grpdly=gd, truncate_grpdly=False, post_proc=True)
    # nmrglue's fft (fftshift) runs low -> high frequency; a chemist's axis runs high -> low
    return s[::-1].copy()


def _acme(ng, data, p0, p1):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, ph = ng.proc_autophase.autops(data, "acme", p0=p0, p1=p1, return_phases=True, disp=False)
    p0, p1 = float(ph[0]), float(ph[1])
    return p0, p1, float(ng.proc_autophase._ps_acme_score((p0, p1), data))


def _neg_fraction(y: np.ndarray) -> float:
    """Negative area / total absolute area of the signal part of a baseline-free real spectrum."""
    noise = _noise(y)
    sig = np.abs(y) > 5 * noise
    if not np.any(sig):
        return 0.0
    ys = y[sig]
    return float(-ys[ys < 0].sum() / np.abs(ys).sum())


def _autophase(ng, small):
    """ACME from (0,0), checked: if the result leaves much negative area, restart from other phases."""
    d = small / np.max(np.abs(small))
    best = None
    tried = []
    starts = [(0.0, 0.0), (90.0, 0.0), (180.0, 0.0), (-90.0, 0.0)]
    for i, (a, b) in enumerate(starts):
        p0, p1, score = _acme(ng, d, a, b)
        y = ng.proc_base.ps(d, p0=p0, p1=p1).real
        y = y - np.median(y)
        neg = _neg_fraction(y)
        tried.append({"start": [a, b], "p0": round(p0 % 360, 1), "p1": round(p1, 1), "score": round(score, 6),
                      "neg_fraction": round(neg, 4)})
        cand = (neg > NEG_FRACTION_MAX, score, p0, p1, neg)
        if best is None or cand[:2] < best[:2]:
            best = cand
        if i == 0 and neg <= NEG_FRACTION_MAX and abs(p1) < 720:
            break  # first start passed the check; the alternatives are only for failures
    _, score, p0, p1, neg = best
    info = {"starts_tried": len(tried), "small_copy_neg_fraction": round(neg, 4)}
    if len(tried) > 1:
        info["alternatives"] = tried
    p0 = ((p0 + 180.0) % 360.0) - 180.0
    return p0, p1, info


def _phase_check(real: np.ndarray) -> dict:
    neg = _neg_fraction(real)
    ok = neg <= NEG_FRACTION_MAX
    return {"neg_fraction": round(neg, 4), "passed": bool(ok),
            "confidence": "normal" if ok else "low (much negative signal area after automatic phasing)"}


def _noise(y: np.ndarray) -> float:
    """Noise standard deviation: a low percentile of the detrended standard deviations of 64 segments."""
    m = 64
    k = y.size // m
    if k < 8:
        return float(np.std(y)) or 1e-12
    seg = y[: m * k].reshape(m, k)
    x = np.arange(k) - (k - 1) / 2.0
    slope = (seg * x).sum(axis=1) / (x * x).sum()
    res = seg - seg.mean(axis=1, keepdims=True) - slope[:, None] * x
    sd = np.sort(res.std(axis=1))
    return float(sd[m // 8]) or 1e-12


def _baseline(real: np.ndarray):
    """arPLS (pybaselines) on a block-averaged copy, interpolated back to full resolution."""
    from pybaselines.whittaker import arpls

    n = real.size
    k = max(1, n // BASELINE_N)
    m = n // k
    blocks = real[: m * k].reshape(m, k).mean(axis=1)
    lam = 1e7 * (m / 8192.0) ** 4  # stiffness fixed per spectral width: lam scales with points^4
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        b, _ = arpls(blocks, lam=lam, max_iter=100, tol=1e-3)
    xb = (np.arange(m) * k + (k - 1) / 2.0)
    base = np.interp(np.arange(n), xb, b)
    return base, {"method": "arPLS (pybaselines)", "lam": float(f"{lam:.3g}"), "points_fitted": int(m)}


# ----------------------------------------------------------------------------- referencing


def _peaks_in(ppm, y, lo, hi, noise, min_snr):
    """Local maxima in [lo, hi] above min_snr * noise: list of (index, ppm, height)."""
    idx = np.nonzero((ppm >= lo) & (ppm <= hi))[0]
    if idx.size < 3:
        return []
    a, b = idx.min(), idx.max()
    seg = y[a: b + 1]
    i = np.nonzero((seg[1:-1] > seg[:-2]) & (seg[1:-1] >= seg[2:]) & (seg[1:-1] > min_snr * noise))[0] + 1
    return [(int(a + j), float(_apex(ppm, y, a + j)), float(seg[j])) for j in i]


def _apex(ppm, y, i):
    """Parabolic interpolation of the apex position."""
    if 0 < i < y.size - 1:
        ym, y0, yp = y[i - 1], y[i], y[i + 1]
        den = ym - 2 * y0 + yp
        if den < 0:
            d = 0.5 * (ym - yp) / den
            return ppm[i] + d * (ppm[i + 1] - ppm[i])
    return ppm[i]


def _fwhm_hz(ppm, y, i, sf):
    h = y[i] / 2.0
    lo = i
    while lo > 0 and y[lo] > h:
        lo -= 1
    hi = i
    while hi < y.size - 1 and y[hi] > h:
        hi += 1
    return abs(ppm[lo] - ppm[hi]) * sf


def _find_tms(ppm, y, sf, noise):
    """TMS/DSS/TSP: a sharp singlet within TMS_WINDOW of 0 with nothing comparable upfield of it."""
    cands = _peaks_in(ppm, y, -TMS_WINDOW, TMS_WINDOW, noise, 20.0)
    if not cands:
        return None
    tallest = float(np.max(y))
    good = []
    for i, p, h in cands:
        w = _fwhm_hz(ppm, y, i, sf)
        if w > 4.0:
            continue
        # a singlet: no line of > 30% of its height within 1-8 Hz either side
        near = _peaks_in(ppm, y, p - 8.0 / sf, p + 8.0 / sf, noise, 5.0)
        if any(abs(q - p) * sf > 0.8 and hh > 0.3 * h for _, q, hh in near):
            continue
        good.append((h, i, p, w))
    if not good:
        return None
    h, i, p, w = max(good)
    if h < 0.005 * tallest:
        return None
    return {"ppm": p, "height_rel": h / tallest, "fwhm_hz": w, "snr": h / noise}


def _quintet_score(ppm, y, p, sf, j_hz, noise):
    """How well a 1:2:3:2:1 quintet with spacing J centred at p fits (0..1)."""
    offs = np.arange(-2, 3) * j_hz / sf
    vals = np.interp(-(p + offs), -ppm, y)  # ppm descending -> interp on the negated axis
    if vals[2] <= 10 * noise:
        return 0.0
    ideal = np.array([1, 2, 3, 2, 1], float) / 3.0
    r = vals / vals[2]
    err = np.abs(r - ideal).mean()
    # the dips between lines must be real dips
    mids = np.interp(-(p + (np.arange(-2, 2) + 0.5) * j_hz / sf), -ppm, y)
    dips = float(np.all(mids < np.minimum(vals[:-1], vals[1:]) * 0.95))
    return max(0.0, 1.0 - 2.0 * err) * (0.5 + 0.5 * dips)


def _find_solvent_line(ppm, y, sf, noise, solvent, tms_offset=None):
    """Residual-solvent line nearest its nominal position; returns dict or None (with candidates)."""
    if solvent is None:
        return None
    nominal = solvent.residual[0]
    # D2O: HOD moves with temperature/pH; only a fallback
    centre = nominal + (tms_offset or 0.0)
    win = 0.05 if tms_offset is not None else SOLVENT_WINDOW
    cands = _peaks_in(ppm, y, centre - win, centre + win, noise, 5.0)
    if not cands:
        return None
    j = QUINTET_J.get(solvent.key)
    scored = []
    for i, p, h in cands:
        w = _fwhm_hz(ppm, y, i, sf)
        dist = abs(p - centre)
        if j:
            shape = _quintet_score(ppm, y, p, sf, j, noise)
        else:
            # singlet: sharp, and no line of comparable height 1-8 Hz away
            near = _peaks_in(ppm, y, p - 8.0 / sf, p + 8.0 / sf, noise, 3.0)
            crowd = any(abs(q - p) * sf > 0.8 and hh > 0.25 * h for _, q, hh in near)
            shape = (0.0 if crowd else 1.0) * (1.0 if w < 3.0 else 0.5)
        score = shape * math.exp(-((dist / 0.12) ** 2))
        scored.append((score, p, h, w, shape, dist))
    scored.sort(reverse=True)
    best = scored[0]
    if best[0] <= 0.05:
        return {"found": False, "candidates": len(scored)}
    runner = scored[1][0] if len(scored) > 1 else 0.0
    conf = "high" if (best[0] > 0.5 and runner < 0.5 * best[0]) else "low"
    return {"found": True, "ppm": best[1], "nominal": nominal, "shape_score": round(best[4], 3),
            "height_rel": best[2] / float(np.max(y)), "fwhm_hz": best[3], "confidence": conf,
            "candidates": len(scored), "runner_up_score_ratio": round(runner / best[0], 3)}


def _solvent_record(name: str):
    from ..solvents import find_solvent

    if not name:
        return None
    s = find_solvent(name)
    if s is None:
        # "Chloroform-d 90vol%", "CDCl3 (1.06 mol/L)", "<DMSO>"
        for tok in name.replace("(", " ").replace(",", " ").split():
            s = find_solvent(tok)
            if s is not None:
                break
    return s


def reference_spectrum(ppm, y, sf, solvent_name: str) -> dict:
    """Offset (ppm) to subtract from the axis, and how it was found: TMS/DSS, else residual solvent."""
    noise = _noise(y)
    solvent = _solvent_record(solvent_name)
    tms = _find_tms(ppm, y, sf, noise)
    sol = None
    if solvent is not None and solvent.key != "d2o":
        sol = _find_solvent_line(ppm, y, sf, noise, solvent, tms_offset=tms["ppm"] if tms else None)
    if tms is not None:
        off = tms["ppm"]
        ref_name = "DSS/TSP" if solvent is not None and solvent.key == "d2o" else "TMS"
        detail = f"{ref_name} singlet found at {tms['ppm']:+.4f} ppm on the file's axis, set to 0.00"
        out = {"method": "TMS", "offset_ppm": float(off), "detail": detail, "confidence": "high",
               "tms": _round(tms)}
        if sol and sol.get("found"):
            diff = (sol["ppm"] - off) - sol["nominal"]
            out["solvent_check"] = {"solvent": solvent.name, "observed_ppm": round(sol["ppm"] - off, 4),
                                    "nominal_ppm": sol["nominal"], "difference_ppm": round(diff, 4),
                                    "agrees": bool(abs(diff) <= CROSSCHECK_TOL)}
            out["detail"] += (f"; residual {solvent.name} then at {sol['ppm'] - off:.3f} ppm "
                              f"(nominal {sol['nominal']:.2f}: {'agrees' if abs(diff) <= CROSSCHECK_TOL else 'DISAGREES'})")
            if abs(diff) > CROSSCHECK_TOL:
                out["confidence"] = "medium"
        elif solvent is not None:
            out["detail"] += f"; residual {solvent.name} not identified for the cross-check"
        return out
    if solvent is None:
        return {"method": "file", "offset_ppm": 0.0, "confidence": "low",
                "detail": "no TMS and no known solvent (%r): axis from the file's own parameters, may be off by "
                          "0.1-0.2 ppm" % solvent_name}
    if solvent.key == "d2o":
        sol = _find_solvent_line(ppm, y, sf, noise, solvent)
        if sol and sol.get("found"):
            off = sol["ppm"] - sol["nominal"]
            return {"method": "solvent", "offset_ppm": float(off), "confidence": "low",
                    "detail": f"no DSS/TSP; HOD at {sol['ppm']:.3f} set to {sol['nominal']:.2f} ppm "
                              "(HOD moves with temperature and pH)", "solvent_line": _round(sol)}
        return {"method": "file", "offset_ppm": 0.0, "confidence": "low",
                "detail": "D2O without DSS/TSP: axis from the file's parameters"}
    if sol and sol.get("found"):
        off = sol["ppm"] - sol["nominal"]
        conf = sol["confidence"]
        if solvent.key == "cdcl3" and sol["height_rel"] < 0.01:
            conf = "low"
        return {"method": "solvent", "offset_ppm": float(off), "confidence": conf,
                "detail": f"residual {solvent.name} at {sol['ppm']:.4f} ppm on the file's axis set to "
                          f"{sol['nominal']:.2f} ({sol['candidates']} candidate line(s) near it; "
                          f"{conf} confidence)", "solvent_line": _round(sol)}
    return {"method": "file", "offset_ppm": 0.0, "confidence": "low",
            "detail": f"no TMS and residual {solvent.name} not found near {solvent.residual[0]:.2f} ppm: "
                      "axis from the file's parameters"}


def _round(d: dict) -> dict:
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in d.items()}
