"""Referencing of a processed 1H spectrum (the last step of process.py, and re-referencing of processed input).

Referencing: TMS (DSS/TSP in D2O) at 0.00, else the residual solvent line searched only near its expected shift
(sharpest singlet / 1:2:3:2:1 quintet, not the nearest line: the aspirin trap), the two cross-checked when both
exist.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .transform import noise_level

TMS_WINDOW = 0.35  # ppm either side of 0 searched for TMS/DSS on the file's own axis
SOLVENT_WINDOW = 0.30  # ppm either side of the nominal residual-solvent position
CROSSCHECK_TOL = 0.02  # ppm: TMS and solvent must agree within this

# J(1H-2H) of the CHD2 quintets of common residual solvents (Hz; Fulmer 2010 Table 1 notes)
QUINTET_J = {"dmso": 1.9, "acetone": 2.2, "cd3od": 1.7, "cd3cn": 2.5}


def _peaks_in(ppm, y, lo, hi, noise, min_snr):
    """Local maxima in [lo, hi] above min_snr * noise: list of (index, ppm, height)."""
    idx = np.nonzero((ppm >= lo) & (ppm <= hi))[0]
    if idx.size < 3:
        return []
    a, b = idx.min(), idx.max()
    seg = y[a : b + 1]
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


def _fwhm_hz(ppm, y, i, sf, max_hz=60.0):
    """Full width at half height (Hz) of the line whose apex is at index i (searched within max_hz)."""
    h = y[i] / 2.0
    span = max(3, int(max_hz / (abs(ppm[1] - ppm[0]) * sf)))
    left = y[max(0, i - span) : i + 1][::-1]
    right = y[i : i + span + 1]
    bl = np.argmax(left <= h) if np.any(left <= h) else left.size - 1
    br = np.argmax(right <= h) if np.any(right <= h) else right.size - 1
    return float((bl + br) * abs(ppm[1] - ppm[0]) * sf)


def _prominence(ppm, y, i, sf, base_hz=12.0):
    """Height of the apex at i above the higher of the minima within base_hz on either side."""
    nb = max(2, int(base_hz / (abs(ppm[1] - ppm[0]) * sf)))
    return float(y[i] - max(np.min(y[max(0, i - nb) : i + 1]), np.min(y[i : i + nb + 1])))


def _top(cands, k=40):
    """The k tallest candidates (index, ppm, height)."""
    return sorted(cands, key=lambda c: -c[2])[:k]


def _find_tms(ppm, y, sf, noise, wide=False):
    """TMS/DSS/TSP: a sharp singlet within TMS_WINDOW of 0 (anywhere, upfield-most, when `wide`)."""
    if wide:
        lo, hi = float(ppm[-1]), float(ppm[0])
    else:
        lo, hi = -TMS_WINDOW, TMS_WINDOW
    tallest = float(np.max(y))
    cands = _peaks_in(ppm, y, lo, hi, noise, 20.0)
    cands = _top([c for c in cands if c[2] >= (0.02 if wide else 0.005) * tallest])
    if not cands:
        return None
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
    if wide:
        strong = [g for g in good if g[0] >= 0.02 * tallest]
        if not strong:
            return None
        h, i, p, w = min(strong, key=lambda g: g[2])  # the upfield-most strong sharp singlet
        # nothing strong may lie further upfield than TMS
        if np.any(y[ppm < p - 0.1] > 0.3 * h):
            return None
    else:
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


def _without_13c_satellites(cands, ppm, y, sf, noise):
    """Drop candidate lines that are one of the two 13C satellites of a much taller line.

    Each 13C satellite of a residual line is ~0.55 % of it at +-1J(CH)/2 (CHCl3 209 Hz, C6HD5 159 Hz,
    CHD2 groups 125-140 Hz): sharp, isolated and as singlet-like as the line itself, and 0.08-0.2 ppm
    from it, so it can sit nearer the nominal shift than the residual line when the axis is off (cyclosporin
    in C6D6 with a CDCl3 lock reference: the true C6HD5 line at 7.27, its satellite at 7.11). Both
    satellites must be there, mirror images about the parent within 3 Hz: one small line that happens to
    sit 50-110 Hz from a tall one (a CHD2 quintet's centre line) is kept.
    """
    span = 115.0 / sf
    keep = []
    for i, p, h in cands:
        around = _peaks_in(ppm, y, p - span, p + span, noise, 3.0)
        sat = False
        for _, q, hh in around:
            d_hz = (q - p) * sf
            if not (50.0 <= abs(d_hz) <= 110.0 and 0.002 <= h / hh <= 0.02):
                continue
            mirror = q + (q - p)
            if any(
                abs(r - mirror) * sf <= 3.0 and 0.3 <= hr / h <= 3.0
                for _, r, hr in _peaks_in(ppm, y, mirror - 4.0 / sf, mirror + 4.0 / sf, noise, 3.0)
            ):
                sat = True
                break
        if not sat:
            keep.append((i, p, h))
    return keep


def _find_solvent_line(ppm, y, sf, noise, solvent, tms_offset=None):
    """Residual-solvent line nearest its nominal position; returns dict or None (with candidates)."""
    if solvent is None:
        return None
    nominal = solvent.residual[0]
    # D2O: HOD moves with temperature/pH; only a fallback
    centre = nominal + (tms_offset or 0.0)
    win = 0.10 if tms_offset is not None else SOLVENT_WINDOW
    cands = _top(_peaks_in(ppm, y, centre - win, centre + win, noise, 5.0))
    # a real line stands out of its local floor (wiggles and noise on a big line's tail do not)
    cands = [c for c in cands if _prominence(ppm, y, c[0], sf) >= 20.0 * noise]
    cands = _without_13c_satellites(cands, ppm, y, sf, noise)
    if not cands:
        return None
    j = QUINTET_J.get(solvent.key)
    digital_res = abs(ppm[0] - ppm[1]) * sf
    widths = [_fwhm_hz(ppm, y, i, sf) for i, _, h in cands if h > 20 * noise]
    widths = [w for w in widths if w > 1.5 * digital_res] or [2.0]
    w_ref = min(widths)
    scored = []
    for i, p, h in cands:
        w = _fwhm_hz(ppm, y, i, sf)
        dist = abs(p - centre)
        if j:
            shape = _quintet_score(ppm, y, p, sf, j, noise)
        else:
            # a residual CHCl3/C6D6/HOD line has no resolved or unresolved couplings: it is the sharpest line
            # around (the aspirin trap: the line nearest the nominal position is often one of the compound's)
            ratio = w / max(w_ref, 1e-6)
            sharp = 1.0 if ratio <= 1.3 else (1.3 / ratio) ** 3
            near = _peaks_in(ppm, y, p - 8.0 / sf, p + 8.0 / sf, noise, 3.0)
            crowd = max([hh / h for _, q, hh in near if abs(q - p) * sf > 0.8] + [0.0])
            if crowd >= 0.3 and ratio > 1.3:
                shape = 0.0  # an ordinary-width line with partners of comparable height: a multiplet line
            else:
                shape = sharp * (1.0 if crowd < 0.6 else 0.6)
        # with TMS on the axis the residual line sits within a few hundredths of its nominal shift
        score = shape * math.exp(-((dist / (0.03 if tms_offset is not None else 0.12)) ** 2))
        if h < 20 * noise:
            score *= 0.2
        scored.append((score, p, h, w, shape, dist))
    scored.sort(reverse=True)
    best = scored[0]
    if best[0] <= 0.05:
        return {"found": False, "candidates": len(scored)}
    runner = scored[1][0] if len(scored) > 1 else 0.0
    conf = "high" if (best[0] > 0.5 and runner < 0.5 * best[0]) else "low"
    return {
        "found": True,
        "ppm": best[1],
        "nominal": nominal,
        "shape_score": round(best[4], 3),
        "height_rel": best[2] / float(np.max(y)),
        "fwhm_hz": best[3],
        "confidence": conf,
        "candidates": len(scored),
        "runner_up_score_ratio": round(runner / best[0], 3),
    }


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


def reference_spectrum(ppm, y, sf, solvent_name: str, axis_known: bool = True) -> dict:
    """Offset (ppm) to subtract from the axis, and how it was found: TMS/DSS, else residual solvent.

    axis_known=False (the file gives no usable carrier/reference) widens the TMS search to the whole
    spectrum: the upfield-most strong sharp singlet."""
    noise = noise_level(y)
    solvent = _solvent_record(solvent_name)
    tms = _find_tms(ppm, y, sf, noise)
    if tms is None and not axis_known:
        tms = _find_tms(ppm, y, sf, noise, wide=True)
        if tms is not None:
            tms["wide_search"] = True
    sol = None
    if solvent is not None and solvent.key != "d2o":
        sol = _find_solvent_line(ppm, y, sf, noise, solvent, tms_offset=tms["ppm"] if tms else None)
    if tms is not None:
        off = tms["ppm"]
        ref_name = "DSS/TSP" if solvent is not None and solvent.key == "d2o" else "TMS"
        detail = f"{ref_name} singlet found at {tms['ppm']:+.4f} ppm on the file's axis, set to 0.00"
        conf = "high"
        if tms.get("wide_search"):
            detail += (
                " (the file gives no usable shift reference: taken as the upfield-most strong sharp "
                "singlet of the whole spectrum)"
            )
            conf = "medium"
        out: dict[str, Any] = {
            "method": "TMS",
            "offset_ppm": float(off),
            "detail": detail,
            "confidence": conf,
            "tms": _round(tms),
        }
        if sol and sol.get("found"):
            diff = (sol["ppm"] - off) - sol["nominal"]
            out["solvent_check"] = {
                "solvent": solvent.name,
                "observed_ppm": round(sol["ppm"] - off, 4),
                "nominal_ppm": sol["nominal"],
                "difference_ppm": round(diff, 4),
                "agrees": bool(abs(diff) <= CROSSCHECK_TOL),
            }
            out["detail"] += (
                f"; residual {solvent.name} then at {sol['ppm'] - off:.3f} ppm "
                f"(nominal {sol['nominal']:.2f}: {'agrees' if abs(diff) <= CROSSCHECK_TOL else 'DISAGREES'})"
            )
            if abs(diff) > CROSSCHECK_TOL:
                out["confidence"] = "medium"
        elif solvent is not None:
            out["detail"] += f"; residual {solvent.name} not identified for the cross-check"
        return out
    if solvent is None:
        return {
            "method": "file",
            "offset_ppm": 0.0,
            "confidence": "low",
            "detail": f"no TMS and no known solvent ({solvent_name!r}): axis from the file's own parameters, "
            "may be off by 0.1-0.2 ppm",
        }
    if solvent.key == "d2o":
        sol = _find_solvent_line(ppm, y, sf, noise, solvent)
        if sol and sol.get("found"):
            off = sol["ppm"] - sol["nominal"]
            return {
                "method": "solvent",
                "offset_ppm": float(off),
                "confidence": "low",
                "detail": f"no DSS/TSP; HOD at {sol['ppm']:.3f} set to {sol['nominal']:.2f} ppm "
                "(HOD moves with temperature and pH)",
                "solvent_line": _round(sol),
            }
        return {
            "method": "file",
            "offset_ppm": 0.0,
            "confidence": "low",
            "detail": "D2O without DSS/TSP: axis from the file's parameters",
        }
    if sol and sol.get("found"):
        off = sol["ppm"] - sol["nominal"]
        conf = sol["confidence"]
        if solvent.key == "cdcl3" and sol["height_rel"] < 0.01:
            conf = "low"
        return {
            "method": "solvent",
            "offset_ppm": float(off),
            "confidence": conf,
            "detail": f"residual {solvent.name} at {sol['ppm']:.4f} ppm on the file's axis set to "
            f"{sol['nominal']:.2f} ({sol['candidates']} candidate line(s) near it; "
            f"{conf} confidence)",
            "solvent_line": _round(sol),
        }
    return {
        "method": "file",
        "offset_ppm": 0.0,
        "confidence": "low",
        "detail": f"no TMS and residual {solvent.name} not found near {solvent.residual[0]:.2f} ppm: "
        "axis from the file's parameters",
    }


def _round(d: dict) -> dict:
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in d.items()}
