"""Raw 1H FID -> phased, baseline-corrected, referenced Spectrum1D (nmrglue primitives, numpy/scipy, pybaselines).

Order (field notes, /work/shared/field-notes.md): half-cosine taper over the last half of a truncated FID
(signal still well above noise at the end) -> exponential line broadening (0.3 Hz) -> zero-fill
(>= 2x, power of two, 16k-128k) -> FT -> digital-filter removal after the FT (first-order phase of the
Bruker group delay, not truncated) -> high-to-low frequency order -> automatic zero+first-order phase
(_autophase): ACME started from p0 = 0, 90, 180 and -90 degrees on a 4k low-resolution copy (FT of the
first 4k FID points, lines ~2 points wide), the best start refined on a 32k copy; before scoring, a
complex baseline (quadratic plus one Fourier period across the window: the roll corrupt first FID points
give) is removed from the copies (a baseline offset rotates with the trial phase and would own ACME's
negativity penalty), and the filter roll-off at the edges, a suppressed-water region
and a dominant line (TMS 20+ times every other line) are kept out of the score; a dominant line is then
phased on its own and the phase line pinned there (its tail would otherwise lift and sink the baseline
over ppm). Data without a digital filter and without a stated acquisition delay (Varian, most benchtop files)
keep ACME on a subsampled copy of the full spectrum. A stated pre-acquisition delay (the reader's negative
group delay: the first point comes that many dwell times after the pulse; Q Magnetics, 1.9 points, about 700
degrees of first-order phase across the window, beyond ACME's reach from 0) is taken off after the FT as the
digital filter's delay is, and the spectrum then phased like filtered data. bench/phase_accuracy.py measures all this against simulated spectra of known phase ->
arPLS baseline (pybaselines, on a 4k block-averaged copy, lam scaled to its point count, bridged under a
suppressed-water region, the edges held level when a dominant line's tail folds into them, interpolated
back) -> phase CHECK on the full spectrum (negative share of the signal area, the regions the score left
out excepted); a line-phase linear fit (and, for Varian data, the spectrometer's rp/lp; ACME started from
the line fit when the check fails) is kept instead when clearly less negative (with a dominant line: only
when the check failed), and a failure that remains is reported as low confidence -> referencing: TMS
(DSS/TSP in D2O) at 0.00, else the residual solvent line searched only near its expected shift (sharpest
singlet / 1:2:3:2:1 quintet, not the nearest line: the aspirin trap), the two cross-checked when both exist.
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
# ACME starts from these p0 (degrees) on the coarse copy: one simplex from 0 alone ends 180 degrees off, or in
# a local minimum 50-100 degrees off, on a few % of simulated spectra (bench/phase_accuracy.py)
RESTART_P0 = (0.0, 90.0, 180.0, -90.0)
ACME_XTOL = 0.05  # degrees: the refinement stops when p0/p1 move less than this...
ACME_FTOL = 1e-9  # ...and the score by less than this (scores are ~1e-3: 8 nats of entropy / points)
PHASE_N_COARSE = 4096  # low-resolution copy the restarts run on (cheap; finds the basin, 1-3 degrees short)
COARSE_LB_POINTS = 2.0  # its lines broadened to ~2 points: narrower leaves the derivative ill-sampled
COARSE_XTOL = 1.0  # degrees: the restarts only need the basin (47 instead of 67 score calls per start)
COARSE_FTOL = 1e-6  # (score units, as ACME_FTOL)
PHASE_N = 32768  # copy the best start is refined on (80 simulated spectra: 16k median 2.0 / max 9 degrees, 32k 1.5 / 8)
PHASE_N_SUBSAMPLED = 8192  # data without a digital filter: every k-th point of the spectrum (_autophase_subsampled)
FINE_LB_POINTS = 1.0  # its lines broadened by ~1 point (0.25 Hz at 8 kHz spectral width)
REFINE_STEP = 3.0  # degrees: simplex edge for the refinement (it starts within a few degrees of the minimum)
PHASE_BASELINE_ORDER = 2  # complex polynomial removed before scoring: offset, tilt, curvature. A cubic also takes
# up part of the lines' summed dispersive tails (real sets: 2-5 degrees of p1 moved, marginal verdicts flipped)
PHASE_BASELINE_FOURIER = 1  # ...plus cos/sin of this many Fourier periods across the window (_complex_baseline)
PHASE_BASELINE_EDGE = 0.03  # fraction of either edge (digital-filter roll-off, no lines) left out of that fit and the score
PHASE_BASELINE_POINTS = 2048  # points that fit is made on (every k-th): plenty for a quadratic
DOMINANT_RATIO = 20.0  # a line this many times taller (magnitude) than any other is kept out of the phase score
DOMINANT_HALF_HZ = 80.0  # half-width kept out around it: its wings and 13C satellites (TMS: +-59 Hz)
DOMINANT_MIN_SNR = 50.0  # ...only when the rest of the spectrum has lines this far above the noise to phase on
DOMINANT_PIN_HZ = 300.0  # half-width of the window a dominant line is phased on by itself (its tails decide)
NEG_FRACTION_MAX = 0.08  # phasing is "checked failed" above this negative-area fraction
BASELINE_N = 4096  # block-averaged copy the baseline is fitted on
TMS_WINDOW = 0.35  # ppm either side of 0 searched for TMS/DSS on the file's own axis
SOLVENT_WINDOW = 0.30  # ppm either side of the nominal residual-solvent position
CROSSCHECK_TOL = 0.02  # ppm: TMS and solvent must agree within this
TRUNCATION_MIN = 0.05  # tail/head spectral ratio above which the FID counts as truncated
TRUNCATION_TAPER = 0.5  # fraction of a truncated FID (after the group delay) given a half-cosine taper

# J(1H-2H) of the CHD2 quintets of common residual solvents (Hz; Fulmer 2010 Table 1 notes)
QUINTET_J = {"dmso": 1.9, "acetone": 2.2, "cd3od": 1.7, "cd3cn": 2.5}


def _ng():
    import nmrglue as ng

    return ng


# ----------------------------------------------------------------------------- public API


def load_spectrum(path, solvent: str | None = None, use_pdata: bool = False, lb_hz: float | None = None) -> Spectrum1D:
    """Read and, for time-domain data, process a 1D 1H dataset; processed input is only referenced-checked."""
    from .read import read_nmr

    t0 = time.perf_counter()
    obj = read_nmr(path, use_pdata=use_pdata)
    t1 = time.perf_counter()
    if isinstance(obj, Spectrum1D):
        if solvent:
            obj.solvent = solvent
        if not use_pdata:
            # a processed spectrum from a JCAMP-DX file: its axis is whatever the exporting program left;
            # reference it the same way as our own spectra (TMS, else residual solvent)
            _rereference(obj)
        obj.processing.setdefault("timing_ms", {})["read"] = round((t1 - t0) * 1e3, 1)
        return obj
    try:
        spec = process(obj, solvent=solvent, lb_hz=lb_hz)
    except InputError:
        raise
    except (MemoryError, KeyboardInterrupt):
        raise
    except Exception as e:  # numerical failure on odd data: one clear line, not a traceback
        raise InputError(f"could not process the FID ({type(e).__name__}: {e})", str(path)) from e
    spec.processing.setdefault("timing_ms", {})["read"] = round((t1 - t0) * 1e3, 1)
    return spec


def _rereference(spec: Spectrum1D) -> None:
    """Reference an already processed spectrum in place (TMS, else residual solvent; else left as is)."""
    ref = reference_spectrum(spec.ppm, spec.intensity, spec.sf_mhz, spec.solvent or "")
    file_ref = dict(spec.referencing)
    if ref["method"] in ("TMS", "solvent"):
        spec.ppm = spec.ppm - ref["offset_ppm"]
        ref["detail"] = "processed spectrum re-referenced: " + ref["detail"]
        ref["file_referencing"] = file_ref
        spec.referencing = ref
    else:
        spec.referencing = file_ref | {"confidence": "low",
                                       "detail": file_ref.get("detail", "") + "; " + ref["detail"]}


def process(raw: RawFID, solvent: str | None = None, lb_hz: float | None = None) -> Spectrum1D:
    """Process a raw 1H FID into a Spectrum1D (lb_hz: exponential line broadening, default LB_HZ)."""
    ng = _ng()
    lb = LB_HZ if lb_hz is None else float(lb_hz)
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
    # the first point is NOT halved: benchtop and back-predicted FIDs do not start at t=0 (large first-order
    # phase), where halving turns into a rolling baseline; the constant offset it leaves otherwise is removed
    # by the baseline correction
    si = _zf_size(n)
    # --- a truncated FID (acquisition time short for the line widths: signal still well above noise at the
    # end) gives sinc wiggles at every sharp line once zero-filled; the peak picker then finds dozens of small
    # "lines" beside the big ones (1-naphthoic acid, AQ 0.47 s at 500 MHz). The TopSpin user's remedy,
    # automated: a half-cosine taper over the last half of the acquisition, which takes the FID smoothly to
    # zero (rather than a much larger exponential, which broadens every line)
    skip = max(0, int(round(gd)))  # the filter's delay points (a negative delay skips none)
    trunc = _truncation_ratio(fid, skip)
    taper = 0.0
    if trunc > TRUNCATION_MIN:
        taper = TRUNCATION_TAPER
        fid *= _end_taper(n, skip, taper)
    # --- full-resolution spectrum
    spec = _ft(ng, fid, sw, lb, si, gd)
    dc = 0j
    if gd == 0:
        # no digital filter and no known time origin (Varian, most benchtop files): a wrong first point (back-predicted or delayed FIDs) is a
        # complex constant across the spectrum that a large first-order phase would turn into a rolling
        # baseline. Remove it before phasing, measured on the outer 5% of either edge (no 1H signal there)
        e = max(8, si // 20)
        edges = np.concatenate([spec[:e], spec[-e:]])
        dc = complex(np.median(edges.real), np.median(edges.imag))
        spec = spec - dc
    timing["ft"] = _lap(t)
    # --- automatic phase on low-resolution copies (_autophase), then applied to the full spectrum
    t = time.perf_counter()
    water = _water_region(raw, solvent or raw.solvent or "")
    p0, p1, phase_info, fine, fmask = _autophase(ng, fid, spec, raw, [water] if water is not None else [])
    if water is not None:
        phase_info["excluded_ppm"] = list(water)
    spec0 = spec
    spec = ng.proc_base.ps(spec0, p0=p0, p1=p1)
    timing["phase"] = _lap(t)
    # --- baseline
    t = time.perf_counter()
    full_mask = None  # the baseline is bridged under a suppressed water line
    if water is not None:
        full_mask = _ppm_mask(raw, si, water)
    # the phase check leaves out what the phase score left out: a dominant TMS line would otherwise hold
    # most of the absolute area and make any phase of the compound's lines look fine
    check_mask = full_mask
    dom = phase_info.get("dominant_line_excluded_ppm")
    # a dominant line's tail folded in from beyond the window makes a steep slope in the filter's roll-off at
    # the edges: the baseline is then held level across the edges (_baseline), which are not judged either.
    # Only then: on the other sets it moves integrals by 1-3 % and reshuffles marginal assignments downstream
    edge_fix = dom is not None and gd > 0
    if edge_fix:
        e = int(PHASE_BASELINE_EDGE * si)
        m = np.ones(si, bool)
        m[:e] = False
        m[si - e:] = False
        check_mask = m if check_mask is None else check_mask & m
    if dom is not None:
        m = _ppm_mask(raw, si, dom)
        check_mask = m if check_mask is None else check_mask & m
    real = np.ascontiguousarray(spec.real)
    base, base_info = _baseline(real, full_mask, edges=edge_fix)
    real = real - base
    timing["baseline"] = _lap(t)
    phase_info.update(_phase_check(real, check_mask))
    # second opinion, always: the line-phase fit (cheap). ACME started from it only when the check failed.
    t = time.perf_counter()
    fit = _peak_phase_fit(fine, fmask)
    if fit is not None:
        f0, f1 = fit[0], fit[1]
        alts = [("line fit", f0, f1)]
        vp = _vendor_phase(raw)
        if vp is not None:
            alts.append(("spectrometer rp/lp", vp[0], vp[1]))
        if not phase_info["passed"]:
            a0, a1, _ = _acme(_AcmeScore(fine, fmask), f0, f1)
            alts.append(("ACME from line fit", a0, a1))
        best = (phase_info["neg_fraction"], "ACME", p0, p1, real, base_info)
        tried = {"ACME": round(phase_info["neg_fraction"], 4)}
        for name, q0, q1 in alts:
            r2 = np.ascontiguousarray(ng.proc_base.ps(spec0, p0=q0, p1=q1).real)
            b2, bi2 = _baseline(r2, full_mask, edges=edge_fix)
            r2 = r2 - b2
            neg2 = _phase_check(r2, check_mask)["neg_fraction"]
            tried[name] = round(neg2, 4)
            # the alternative must be clearly better (a quarter less negative area and 0.005 absolute). With a
            # dominant line kept out of the score, only when ACME's check failed: that line's tail reaches far
            # beyond the excluded range, and the negative area then judges the phase of the dominant line,
            # not of the compound's (cocaine: the line fit halves the TMS tail's negative area and puts the
            # O-CH3 10 and TMS 23 degrees off)
            adopt_ok = phase_info["passed"] is False or dom is None
            if adopt_ok and neg2 < best[0] * 0.75 and neg2 < best[0] - 0.005:
                best = (neg2, name, q0, q1, r2, bi2)
        phase_info["second_opinion"] = {"line_fit": [round(f0, 1), round(f1, 1)], "neg_fraction": tried,
                                        "chosen": best[1]}
        if best[1] != "ACME":
            _, _, p0, p1, real, base_info = best
            p0 = ((p0 + 180.0) % 360.0) - 180.0
            phase_info.update(_phase_check(real, check_mask))
    timing["phase_check"] = _lap(t)
    # --- axis (descending ppm, unreferenced)
    freq = (np.arange(si) - si // 2) * (sw / si)  # ascending Hz
    ppm = raw.carrier_ppm + freq[::-1] / sf
    if raw.reverse:
        real = real[::-1].copy()
    # --- referencing
    t = time.perf_counter()
    solvent_name = solvent or raw.solvent or ""
    axis_known = raw.params.get("carrier_from", "") != "none"
    ref = reference_spectrum(ppm, real, sf, solvent_name, axis_known=axis_known)
    ppm = ppm - ref["offset_ppm"]
    timing["reference"] = _lap(t)
    processing = {
        "line_broadening_hz": lb,
        "zero_filled_to": si,
        "truncation_ratio": round(float(trunc), 4),
        "end_taper": ("half-cosine over the last %d %% of the FID (truncated acquisition)" % round(taper * 100)
                      if taper else "none"),
        "acquired_points": n,
        "group_delay_points": gd,
        "dc_offset_removed": bool(dc != 0),
        "digital_filter": ("first-order phase after FT (group delay, not truncated)" if gd > 0 else
                           "none; acquisition delayed %.2f points after the pulse: first-order phase after FT" % -gd
                           if gd < 0 else "none"),
        "phase0_deg": round(float(p0), 2),
        "phase1_deg": round(float(p1), 2),
        "phase_method": "ACME from %d starting phases on a %d-point low-resolution copy, refined on a "
                        "%d-point copy (complex baseline removed first), checked on the full spectrum; line-phase "
                        "fit as second opinion" % (len(RESTART_P0), PHASE_N_COARSE, PHASE_N),
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


def _vendor_phase(raw: RawFID):
    """The spectrometer's own phases in our frame, or None. Varian/Agilent rp/lp: the FID is mirrored
    relative to ours, so the phase changes sign: p0 = -rp (HMDB00005 rp=203 -> 157, ACME finds 148 + 19/2;
    HMDB00001 rp=-5.9 -> 5.9, ACME -1.5 + 6.1/2). p1 = -lp by the same argument (lp is 0 on both real sets,
    so its sign is not checked on data); the result only wins on the full-spectrum negative-area check."""
    if raw.vendor != "varian":
        return None
    try:
        rp = float(raw.params.get("rp"))
        lp = float(raw.params.get("lp") or 0.0)
    except (TypeError, ValueError):
        return None
    if not (math.isfinite(rp) and math.isfinite(lp)):
        return None
    return -rp, -lp


def _truncation_ratio(fid: np.ndarray, gd: int = 0) -> float:
    """How much signal is left at the end of the FID: the tallest line of the Hann-windowed spectrum of the
    last 1/16 of the points over that of the first 1/16 (after the digital filter's group delay).
    About 0.001 for an FID that has decayed into the noise, 0.15 for 1-naphthoic acid (AQ 0.47 s)."""
    n = fid.size
    m = max(64, (n - gd) // 16)
    if n - gd < 2 * m + 16:
        return 0.0
    w = np.hanning(m)
    head = float(np.abs(np.fft.fft(fid[gd + 8: gd + 8 + m] * w)).max())
    tail = float(np.abs(np.fft.fft(fid[n - m:] * w)).max())
    return tail / head if head > 0 else 0.0


def _end_taper(n: int, gd: int, fraction: float) -> np.ndarray:
    """1 up to the last `fraction` of the points after gd, then a half cosine down to 0 at the last point."""
    w = np.ones(n)
    m = int(fraction * (n - gd))
    if m > 1:
        w[n - m:] = 0.5 * (1.0 + np.cos(np.pi * np.arange(1, m + 1) / m))
    return w


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
    elif gd < 0:
        # a pre-acquisition delay (the reader's negative group delay: the first point comes -gd dwell times after
        # the pulse): the same time shift as the filter's, the other way (rm_dig_filter takes only gd > 0)
        s = s * np.exp(2j * np.pi * gd * np.arange(si) / si)
    # nmrglue's fft (fftshift) runs low -> high frequency; a chemist's axis runs high -> low
    return s[::-1].copy()


class _AcmeScore:
    """ACME score (Chen et al., J. Magn. Reson. 2002, 158, 164; the form of nmrglue's `_ps_acme_score`):
    entropy of the first derivative of the real part plus a penalty on negative points, over the points
    of `mask` only. The phased real part is computed as re*cos - im*sin from stored float32 parts: the
    simplex calls it 40-70 times per start; float32 trigonometry costs a quarter of float64 on a 16k copy
    (0.3 against 1.2 ms) and its rounding (1e-7) is far below the score changes the simplex stops on.
    Sums are accumulated in float64; no BLAS dot products (their threads stall on a busy 2-core machine)."""

    def __init__(self, data: np.ndarray, mask: np.ndarray | None = None):
        sel = slice(None) if mask is None else mask
        self.re = np.ascontiguousarray(data.real[sel], dtype=np.float32)
        self.im = np.ascontiguousarray(data.imag[sel], dtype=np.float32)
        # nmrglue's ps: phase = p0 + p1 * i / size, i counted over the whole copy
        self.x = np.ascontiguousarray((np.arange(data.size) / data.size)[sel], dtype=np.float32)

    def real(self, ph) -> np.ndarray:
        phi = np.float32(math.radians(ph[0])) + np.float32(math.radians(ph[1])) * self.x
        return self.re * np.cos(phi) - self.im * np.sin(phi)

    def __call__(self, ph) -> float:
        y = self.real(ph)
        ds = np.abs(np.diff(y))
        tot = float(ds.sum(dtype=np.float64))
        if tot <= 0:
            return 0.0
        pr = ds / np.float32(tot)
        pr[pr == 0] = 1.0
        h = -float((pr * np.log(pr)).sum(dtype=np.float64))
        neg = y[y < 0]
        pen = 1000.0 * float((neg * neg).sum(dtype=np.float64)) if neg.size else 0.0
        return (h + pen) / y.size / max(float(np.max(y)), 1e-12)


def _simplex(p0, p1, step=10.0):
    """Nelder-Mead start with `step`-degree edges (fmin's default is 5% of the start: nothing at (0, 0))."""
    return np.array([[p0, p1], [p0 + step, p1], [p0, p1 + step]], float)


def _acme(score: _AcmeScore, p0, p1, step=10.0, xtol=ACME_XTOL, ftol=ACME_FTOL):
    """Nelder-Mead on the ACME score from (p0, p1): (p0, p1, score)."""
    from scipy.optimize import fmin

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ph, f, *_ = fmin(score, [p0, p1], xtol=xtol, ftol=ftol, disp=False, full_output=True,
                         initial_simplex=_simplex(p0, p1, step))
    return float(ph[0]), float(ph[1]), float(f)


def _complex_baseline(d: np.ndarray, mask: np.ndarray | None = None, centres=(), order: int = PHASE_BASELINE_ORDER,
                      iters: int = 4, split: bool = False, fourier_terms: int = PHASE_BASELINE_FOURIER):
    """Smooth complex baseline of an unphased spectrum: a polynomial fitted to the real and imaginary parts
    together, on the points whose distance from the fit is within 3 robust sigmas (lines and their near
    wings drop out over the iterations), the filter roll-off at the edges and `mask`ed regions left out.

    A baseline offset or tilt in the raw spectrum rotates with the trial phase: ACME's negativity penalty
    then prefers the phase that lifts the baseline rather than the one that puts the lines in absorption
    (simulated spectra with 0.3 % baseline distortion: 30-115 degrees off). Removing it first is
    phase-independent, because a rotated polynomial is still a polynomial.

    fourier_terms: cos/sin(k pi x) for k = 1.. fitted along. Corrupt first FID points (dead time, pulse
    breakthrough) roll the baseline by low Fourier terms of the window, periodic across its edges; a
    quadratic cannot follow a full sine period and leaves the rest to the negativity penalty (100 simulated
    spectra with such a roll: line phase error median 3.9 / max 44 degrees with the quadratic alone, 1.0 / 7.8
    with one Fourier period; unlike a cubic, it does not take up the lines' summed dispersive tails, which
    are not periodic).

    centres: indices of dominant lines (masked out of the score). Far from its centre such a line's
    dispersive tail falls as 1/distance and is most of what the baseline points hold; a polynomial alone
    takes up part of it and leaves a tail no phase can null (cocaine, TMS 60 times the tallest compound
    line: 10-20 degrees off). A complex Lorentzian tail per centre (free amplitude: any phase) is fitted
    along with the polynomial and removed with it (split=True: the two returned apart, polynomial first)."""
    n = d.size
    x = np.linspace(-1.0, 1.0, n)
    keep = np.ones(n, bool) if mask is None else mask.copy()
    e = max(1, int(PHASE_BASELINE_EDGE * n))
    keep[:e] = False
    keep[-e:] = False
    # a smooth curve needs no more than PHASE_BASELINE_POINTS points to fit (and large lstsq calls go
    # through threaded BLAS)
    idx = np.arange(0, n, max(1, n // PHASE_BASELINE_POINTS))
    xs, ds, keep = x[idx], d[idx], keep[idx]

    def tails(pts):
        # half-width 2 points: the tail is fitted far from the (masked) centre, where the width hardly matters
        return np.stack([2.0 / ((pts - c) + 2j) for c in centres], axis=1) if centres else np.zeros((pts.size, 0))

    def fourier(pts):
        k = np.arange(1, fourier_terms + 1)
        a = np.pi * np.outer(pts, k)
        return np.concatenate([np.cos(a), np.sin(a)], axis=1)

    nf = 2 * fourier_terms
    v = np.concatenate([np.vander(xs, order + 1).astype(complex), fourier(xs), tails(idx)], axis=1)
    ncol = v.shape[1]
    if keep.sum() < 10 * ncol:
        return (np.zeros(n, complex), np.zeros(n, complex)) if split else np.zeros(n, complex)
    c = np.zeros(ncol, complex)
    for _ in range(iters):
        c, *_ = np.linalg.lstsq(v[keep], ds[keep], rcond=None)
        r = np.abs(ds - np.polyval(c[: order + 1], xs) - fourier(xs) @ c[order + 1: order + 1 + nf]
                   - tails(idx) @ c[order + 1 + nf:])
        thr = 3.0 * 1.4826 * float(np.median(r[keep]))
        nxt = keep & (r < thr)
        if nxt.sum() < 10 * ncol:
            break
        keep = nxt
    # (v @ c with a real matrix and a complex vector takes a slow 8 ms matmul path: polyval instead)
    poly = np.polyval(c[: order + 1], x)
    for k in range(1, fourier_terms + 1):
        poly = poly + c[order + k] * np.cos(np.pi * k * x) + c[order + fourier_terms + k] * np.sin(np.pi * k * x)
    tail = tails(np.arange(n)) @ c[order + 1 + nf:] if centres else np.zeros(n, complex)
    return (poly, tail) if split else poly + tail


def _neg_fraction(y: np.ndarray) -> float:
    """Negative area / total absolute area of the signal part of a baseline-free real spectrum."""
    noise = _noise(y)
    sig = np.abs(y) > 5 * noise
    if not np.any(sig):
        return 0.0
    ys = y[sig]
    return float(-ys[ys < 0].sum() / np.abs(ys).sum())


def _peak_phase_fit(d, mask=None, n_peaks=40):
    """Zero- and first-order phase from the phases of the tallest lines (linear fit, wrap-safe).

    Every line's complex value at its magnitude apex should be real and positive once phased:
    p0 + p1*x_j = -theta_j (mod 360). p1 is found by maximising the length of the weighted resultant
    of exp(i(theta_j + p1*x_j)) over a fine grid (+-1440 degrees), p0 from its argument."""
    mag = np.abs(d)
    i = np.nonzero((mag[1:-1] > mag[:-2]) & (mag[1:-1] >= mag[2:]))[0] + 1
    if mask is not None:
        i = i[mask[i]]
    if i.size == 0:
        return None
    i = i[mag[i] > 0.01 * mag[i].max()]
    i = i[np.argsort(-mag[i])][:n_peaks]
    if i.size < 2:
        return None
    x = i / d.size
    th = np.angle(d[i])
    w = np.sqrt(mag[i])
    p1s = np.deg2rad(np.arange(-1440.0, 1440.01, 2.0))
    z = (w[None, :] * np.exp(1j * (th[None, :] + p1s[:, None] * x[None, :]))).sum(axis=1)
    k = int(np.argmax(np.abs(z)))
    # refine p1 around the best grid value
    fine = p1s[k] + np.deg2rad(np.arange(-2.0, 2.001, 0.05))
    zf = (w[None, :] * np.exp(1j * (th[None, :] + fine[:, None] * x[None, :]))).sum(axis=1)
    kf = int(np.argmax(np.abs(zf)))
    p1 = float(np.rad2deg(fine[kf]))
    p0 = float(np.rad2deg(-np.angle(zf[kf])))
    coherence = float(np.abs(zf[kf]) / w.sum())
    return p0, p1, coherence, int(i.size)


def _phase_copy(ng, fid, raw: RawFID, n: int, lb_points: float, regions, centres=()) -> tuple[np.ndarray, np.ndarray | None]:
    """An n-point spectrum for the phase search: FT of the first n FID points (zero-filled when shorter),
    lines broadened to about `lb_points` points, normalised, complex baseline removed; and the mask of
    the points the score may use (False inside `regions`, file-axis ppm ranges); `centres` (file-axis
    ppm) are dominant lines whose tails go with the baseline (`_complex_baseline`).

    A low-resolution spectrum has the same phases as the full one (a time shift is a time shift at any
    size) and, unlike every k-th point of the full spectrum, lines a few points wide: the derivative
    ACME's entropy is built on stays defined (subsampled 4k copy: median 3.1, max 14 degrees off on 80
    simulated spectra; low-resolution 4k copy 2.4 and 14, refined on a 16k copy 2.0 and 9)."""
    sw = float(raw.sw_hz)
    gd = float(raw.group_delay or 0.0)
    d = _ft(ng, fid, sw, lb_points * sw / n, n, gd)
    # the digital filter's roll-off at either edge holds no lines, but can hold a steep slope (the tail of a
    # strong line folded in from beyond the window: cocaine's TMS, 0.5 ppm from the edge) whose negative part
    # would own the score's penalty
    mask = np.ones(n, bool)
    e = max(1, int(PHASE_BASELINE_EDGE * n))
    mask[:e] = False
    mask[-e:] = False
    for reg in regions:
        mask &= _ppm_mask(raw, n, reg)
    if gd == 0:
        # no digital filter (Varian, benchtop): the wrong-first-point constant is removed as on the full
        # spectrum (process()), and no polynomial: with the first-order phase of a delayed acquisition
        # (Oxford benchtop, p1 ~2300 degrees) the baseline roll oscillates across the unphased window, and a
        # polynomial fitted to it sent the coarse search into a basin 2300 degrees off (35 % negative area)
        e = max(8, n // 20)
        edges = np.concatenate([d[:e], d[-e:]])
        d = d - complex(np.median(edges.real), np.median(edges.imag))
    top = float(np.max(np.abs(d[mask])))
    d = d / max(top, 1e-300)
    if gd == 0:
        return d, mask
    pp = _index_ppm(raw, n)
    idx = [int(np.argmin(np.abs(pp - c))) for c in centres]
    return d - _complex_baseline(d, mask, idx), mask


def _dominant_line(d: np.ndarray, mask: np.ndarray | None, raw: RawFID):
    """File-axis ppm of a line that dominates the spectrum, and the range around it kept out of the score (TMS at 100+ H-equivalents, an
    unsuppressed solvent), or None: its magnitude is DOMINANT_RATIO times that of every other point
    outside DOMINANT_HALF_HZ, and the rest still has lines well above the noise to phase on.

    Such a line owns the ACME score: the entropy of the derivative is that of its flanks and its own shape
    (TMS lines are often broadened and asymmetric by the shim), and the phase that suits it is a few degrees
    off for everything else (cocaine, 700 MHz: TMS 60 times the tallest compound line)."""
    mag = np.abs(d)
    if mask is not None:
        mag = np.where(mask, mag, 0.0)
    i = int(np.argmax(mag))
    half = int(math.ceil(DOMINANT_HALF_HZ / (float(raw.sw_hz) / d.size)))
    rest = mag.copy()
    rest[max(0, i - half): i + half + 1] = 0.0
    e = max(1, int(PHASE_BASELINE_EDGE * d.size))  # the filter roll-off at the edges holds no lines
    rest[:e] = 0.0
    rest[-e:] = 0.0
    other = float(rest.max())
    if other <= 0 or mag[i] < DOMINANT_RATIO * other or other < DOMINANT_MIN_SNR * _noise(d.real):
        return None
    pp = _index_ppm(raw, d.size)
    half_ppm = DOMINANT_HALF_HZ / float(raw.sf_mhz)
    return float(pp[i]), (float(pp[i] - half_ppm), float(pp[i] + half_ppm))


def _autophase(ng, fid, spec, raw: RawFID, regions):
    """ACME restarted from the p0 of RESTART_P0 on a coarse low-resolution copy, the best start (one that
    passes the negative-area check first, then the lowest score) refined on a finer copy.

    regions: file-axis ppm ranges kept out of the score (a suppressed water line, whose residue is distorted
    and would dominate it); a dominant line (`_dominant_line`) is added to them.
    Without a digital filter or a stated acquisition delay (group delay 0: Varian, most benchtop files:
    `_autophase_subsampled`) the previous scheme is kept. With a stated delay taken off (group delay < 0, Q
    Magnetics ibuprofen) the subsampled scheme moved p1 by 65 degrees from it, this one by 2.
    Returns p0, p1, an info dict, the fine copy and its mask (for the second opinions)."""
    if float(raw.group_delay or 0.0) == 0:
        return _autophase_subsampled(spec, raw, regions)
    regions = list(regions)
    coarse, cmask = _phase_copy(ng, fid, raw, PHASE_N_COARSE, COARSE_LB_POINTS, regions)
    dom = _dominant_line(coarse, cmask, raw)
    centres = []
    if dom is not None:
        centres.append(dom[0])
        regions.append(dom[1])
        coarse, cmask = _phase_copy(ng, fid, raw, PHASE_N_COARSE, COARSE_LB_POINTS, regions, centres)
    score = _AcmeScore(coarse, cmask)
    best = None
    tried = []
    for a in RESTART_P0:
        p0, p1, f = _acme(score, a, 0.0, xtol=COARSE_XTOL, ftol=COARSE_FTOL)
        neg = _neg_fraction(score.real((p0, p1)))
        tried.append({"start": a, "p0": round(p0 % 360, 1), "p1": round(p1, 1), "score": round(f, 7),
                      "neg_fraction": round(neg, 4)})
        cand = (neg > NEG_FRACTION_MAX, f, p0, p1)
        if best is None or cand[:2] < best[:2]:
            best = cand
    fine, fmask = _phase_copy(ng, fid, raw, PHASE_N, FINE_LB_POINTS, regions, centres)
    fscore = _AcmeScore(fine, fmask)
    p0, p1, f = _acme(fscore, best[2], best[3], step=REFINE_STEP)
    info = {"starts": tried, "coarse": [round(best[2] % 360, 1), round(best[3], 1)]}
    if dom is not None:
        info["dominant_line_excluded_ppm"] = [round(dom[1][0], 3), round(dom[1][1], 3)]
        p0, p1, dinfo = _pin_dominant(ng, fid, raw, dom[0], fscore, p0, p1)
        info.update(dinfo)
    info["fine_copy_neg_fraction"] = round(_neg_fraction(fscore.real((p0, p1))), 4)
    p0 = ((p0 + 180.0) % 360.0) - 180.0
    return p0, p1, info, fine, fmask


def _autophase_subsampled(spec: np.ndarray, raw: RawFID, regions):
    """ACME on every k-th point of the full spectrum (PHASE_N_SUBSAMPLED points), no baseline removal
    beyond process()'s first-point constant; the other starts of RESTART_P0 only when the first fails the
    negative-area check. For data without a digital filter: on the Oxford benchtop set (delayed acquisition,
    p1 ~2300 degrees) the low-resolution restarts of `_autophase` settle 2300 degrees off in p1 before the
    refinement walks most of the way back, and the result leaves a broad baseline hump the old scheme did
    not have; on the two Varian sets both schemes agree within 4 degrees."""
    k = max(1, spec.size // PHASE_N_SUBSAMPLED)
    small = spec[::k]
    mask = None
    for reg in regions:
        m = _ppm_mask(raw, small.size, reg)
        mask = m if mask is None else mask & m
    d = small / max(float(np.max(np.abs(small))), 1e-300)
    score = _AcmeScore(d, mask)
    best = None
    tried = []
    for i, a in enumerate(RESTART_P0):
        p0, p1, f = _acme(score, a, 0.0)
        y = score.real((p0, p1))
        neg = _neg_fraction(y - np.median(y))
        tried.append({"start": a, "p0": round(p0 % 360, 1), "p1": round(p1, 1), "score": round(f, 7),
                      "neg_fraction": round(neg, 4)})
        cand = (neg > NEG_FRACTION_MAX, f, p0, p1)
        if best is None or cand[:2] < best[:2]:
            best = cand
        if i == 0 and neg <= NEG_FRACTION_MAX:
            break
    p0 = ((best[2] + 180.0) % 360.0) - 180.0
    return p0, best[3], {"starts": tried, "copy": "every %d-th point" % k}, d, mask


def _pin_dominant(ng, fid, raw: RawFID, centre_ppm: float, fscore: _AcmeScore, p0: float, p1: float):
    """Phase a dominant line on its own and pin the phase line there; p1 is then re-fitted on the rest.

    Kept out of the score, a dominant line still needs its own phase right: 2 degrees off, the dispersive
    tail of a line 60 times the tallest compound line lifts the baseline by 2 % of that line over ppm on one
    side and sinks it on the other, and arPLS takes the sunk side for baseline (cocaine: a 6 H "multiplet"
    of TMS tail at 0.1-1 ppm). Its phase phi_d comes from ACME over +-DOMINANT_PIN_HZ around it, on a copy
    with the line intact (constant phase over the window: p1 changes it by < 1 degree there); then
    p0 = phi_d - p1 * x_d and p1 is chosen by the compound's (masked) score."""
    from scipy.optimize import fmin

    n = PHASE_N
    sw = float(raw.sw_hz)
    d = _ft(ng, fid, sw, FINE_LB_POINTS * sw / n, n, float(raw.group_delay or 0.0))
    pp = _index_ppm(raw, n)
    ic = int(np.argmin(np.abs(pp - centre_ppm)))
    w = int(DOMINANT_PIN_HZ / (sw / n))
    seg = np.zeros(n, bool)
    seg[max(0, ic - w): ic + w + 1] = True
    x_d = ic / n
    d = d / np.max(np.abs(d[seg]))
    # the baseline polynomial (fitted with the line's tail, outside its core) is removed, the tail kept: a
    # complex offset left under the window rotates with the trial phase and moves the optimum (simulated
    # TMS with a 0.3 % baseline offset: 4 degrees)
    half = DOMINANT_HALF_HZ / float(raw.sf_mhz)
    poly, _ = _complex_baseline(d, _ppm_mask(raw, n, (centre_ppm - half, centre_ppm + half)), [ic], split=True)
    dscore = _AcmeScore(d - poly, seg)
    start = p0 + p1 * x_d  # ACME's phase at the line, a few degrees off
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        phi = float(fmin(lambda a: dscore((a[0], 0.0)), [start], xtol=ACME_XTOL, ftol=ACME_FTOL, disp=False,
                         initial_simplex=np.array([[start], [start + REFINE_STEP]]))[0])
        q1 = float(fmin(lambda b: fscore((phi - b[0] * x_d, b[0])), [p1], xtol=ACME_XTOL, ftol=ACME_FTOL,
                        disp=False, initial_simplex=np.array([[p1], [p1 + REFINE_STEP]]))[0])
    return phi - q1 * x_d, q1, {"dominant_line_phase": round(phi % 360, 2),
                                "acme_without_pin": [round(p0 % 360, 2), round(p1, 2)]}


def _index_ppm(raw: RawFID, size: int) -> np.ndarray:
    """File-axis ppm of each point of a `size`-point spectrum in processing order (high -> low frequency;
    mirrored when the file's axis runs the other way)."""
    pp = raw.carrier_ppm + ((np.arange(size) - size // 2) * (raw.sw_hz / size))[::-1] / raw.sf_mhz
    return pp[::-1] if raw.reverse else pp


def _ppm_mask(raw: RawFID, size: int, region) -> np.ndarray:
    """False inside region (lo, hi ppm, file axis) for a spectrum of `size` points in processing order
    (high -> low frequency; mirrored when the file's axis runs the other way)."""
    pp = _index_ppm(raw, size)
    return ~((pp > region[0]) & (pp < region[1]))


def _water_region(raw: RawFID, solvent_name: str):
    """File-axis ppm range of the (suppressed) water line to keep out of the phase score, or None."""
    name = solvent_name.lower().replace(" ", "")
    pulprog = str(raw.params.get("PULPROG", "") or raw.params.get("seqfil", "")).lower()
    watery = any(x in name for x in ("d2o", "h2o", "water")) or any(
        x in pulprog for x in ("zgpr", "presat", "noesy", "wg", "esgp", "zgcppr"))
    if not watery:
        return None
    return (4.2, 5.4)


def _phase_check(real: np.ndarray, mask=None) -> dict:
    neg = _neg_fraction(real if mask is None else real[mask])
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


def _baseline(real: np.ndarray, mask: np.ndarray | None = None, edges: bool = False):
    """arPLS (pybaselines) on a block-averaged copy, interpolated back to full resolution.

    mask: False over a suppressed-water region. The residual water of a presaturation spectrum is
    100-1000 times the compound's lines and partly dispersive; arPLS takes its negative lobe for baseline
    and bends down by ~1 % of the water height over +-0.8 ppm, which after subtraction leaves a broad
    positive hump around the water and a negative offset over the rest of the spectrum (HMDB00005: 40 %
    of the signal area negative with correctly phased lines). The region is bridged by a straight line
    between the medians of its two flanks before the fit, so the baseline passes under the water.
    """
    from pybaselines.whittaker import arpls

    n = real.size
    k = max(1, n // BASELINE_N)
    m = n // k
    blocks = real[: m * k].reshape(m, k).mean(axis=1)
    bridged = None
    if mask is not None and not np.all(mask):
        bm = mask[: m * k].reshape(m, k).all(axis=1)  # blocks entirely outside the water region
        inside = np.nonzero(~bm)[0]
        if inside.size and inside[0] > 8 and inside[-1] < m - 9:
            a, b = int(inside[0]), int(inside[-1])
            w = max(4, (b - a) // 4)
            ya = float(np.median(blocks[max(0, a - w): a]))
            yb = float(np.median(blocks[b + 1: b + 1 + w]))
            blocks = blocks.copy()
            blocks[a: b + 1] = np.linspace(ya, yb, b - a + 1)
            bridged = [a * k, (b + 1) * k]
    lam = 1e9 * (m / 8192.0) ** 4  # stiffness fixed per spectral width: lam scales with points^4
    # edges=True (digitally filtered data): the outer edges, the filter's roll-off, are left out and the
    # baseline held level across them: a steep slope there (cocaine: a strong TMS tail folded in from beyond
    # the window, -6 % of the tallest compound line at 9.5 ppm) bent the stiff fit over 2 ppm and lifted the
    # aromatic region by 2-3 %. (Without a digital filter there is no roll-off, and a benchtop's wide window
    # needs its edges corrected.)
    e = int(PHASE_BASELINE_EDGE * m) if edges else 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        b, _ = arpls(blocks[e: m - e], lam=lam, max_iter=50, tol=1e-3)
    b = np.concatenate([np.full(e, b[0]), b, np.full(e, b[-1])])
    xb = (np.arange(m) * k + (k - 1) / 2.0)
    base = np.interp(np.arange(n), xb, b)
    info = {"method": "arPLS (pybaselines)", "lam": float(f"{lam:.3g}"), "points_fitted": int(m)}
    if bridged is not None:
        info["water_bridged_points"] = bridged
    return base, info


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


def _fwhm_hz(ppm, y, i, sf, max_hz=60.0):
    """Full width at half height (Hz) of the line whose apex is at index i (searched within max_hz)."""
    h = y[i] / 2.0
    span = max(3, int(max_hz / (abs(ppm[1] - ppm[0]) * sf)))
    left = y[max(0, i - span): i + 1][::-1]
    right = y[i: i + span + 1]
    bl = np.argmax(left <= h) if np.any(left <= h) else left.size - 1
    br = np.argmax(right <= h) if np.any(right <= h) else right.size - 1
    return float((bl + br) * abs(ppm[1] - ppm[0]) * sf)


def _prominence(ppm, y, i, sf, base_hz=12.0):
    """Height of the apex at i above the higher of the minima within base_hz on either side."""
    nb = max(2, int(base_hz / (abs(ppm[1] - ppm[0]) * sf)))
    return float(y[i] - max(np.min(y[max(0, i - nb): i + 1]), np.min(y[i: i + nb + 1])))


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
            if any(abs(r - mirror) * sf <= 3.0 and 0.3 <= hr / h <= 3.0
                   for _, r, hr in _peaks_in(ppm, y, mirror - 4.0 / sf, mirror + 4.0 / sf, noise, 3.0)):
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


def reference_spectrum(ppm, y, sf, solvent_name: str, axis_known: bool = True) -> dict:
    """Offset (ppm) to subtract from the axis, and how it was found: TMS/DSS, else residual solvent.

    axis_known=False (the file gives no usable carrier/reference) widens the TMS search to the whole
    spectrum: the upfield-most strong sharp singlet."""
    noise = _noise(y)
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
            detail += (" (the file gives no usable shift reference: taken as the upfield-most strong sharp "
                       "singlet of the whole spectrum)")
            conf = "medium"
        out = {"method": "TMS", "offset_ppm": float(off), "detail": detail, "confidence": conf,
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
