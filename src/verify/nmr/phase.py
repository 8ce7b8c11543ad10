"""Automatic zero+first-order phase of a 1H spectrum, and its check on the full spectrum (steps of process.py).

Automatic zero+first-order phase (autophase): ACME started from p0 = 0, 90, 180 and -90 degrees on a 4k
low-resolution copy (FT of the first 4k FID points, lines ~2 points wide), the best start refined on a 32k copy;
before scoring, a complex baseline (quadratic plus one Fourier period across the window: the roll corrupt first FID
points give) is removed from the copies (a baseline offset rotates with the trial phase and would own ACME's
negativity penalty), and the filter roll-off at the edges, a suppressed-water region and a dominant line (TMS 20+
times every other line) are kept out of the score; a dominant line is then phased on its own and the phase line
pinned there (its tail would otherwise lift and sink the baseline over ppm). Data without a digital filter and
without a stated acquisition delay (Varian, most benchtop files) keep ACME on a subsampled copy of the full
spectrum. A stated pre-acquisition delay (the reader's negative group delay: the first point comes that many dwell
times after the pulse; Q Magnetics, 1.9 points, about 700 degrees of first-order phase across the window, beyond
ACME's reach from 0) is taken off after the FT as the digital filter's delay is, and the spectrum then phased like
filtered data. bench/phase_accuracy.py measures all this against simulated spectra of known phase.

After the baseline (process.py): phase CHECK on the full spectrum (negative share of the signal area, the regions
the score left out excepted); a line-phase linear fit (and, for Varian data, the spectrometer's rp/lp; ACME started
from the line fit when the check fails) is kept instead when clearly less negative (with a dominant line: only when
the check failed), and a failure that remains is reported as low confidence.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from .spectrum import RawFID
from .transform import fourier_transform, index_at_ppm, noise_level, ppm_mask

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
PHASE_BASELINE_EDGE = (
    0.03  # fraction of either edge (digital-filter roll-off, no lines) left out of that fit and the score
)
PHASE_BASELINE_POINTS = 2048  # points that fit is made on (every k-th): plenty for a quadratic
DOMINANT_RATIO = 20.0  # a line this many times taller (magnitude) than any other is kept out of the phase score
DOMINANT_HALF_HZ = 80.0  # half-width kept out around it: its wings and 13C satellites (TMS: +-59 Hz)
DOMINANT_MIN_SNR = 50.0  # ...only when the rest of the spectrum has lines this far above the noise to phase on
DOMINANT_PIN_HZ = 300.0  # half-width of the window a dominant line is phased on by itself (its tails decide)
NEG_FRACTION_MAX = 0.08  # phasing is "checked failed" above this negative-area fraction


def vendor_phase(raw: RawFID):
    """The spectrometer's own phases in our frame, or None. Varian/Agilent rp/lp: the FID is mirrored
    relative to ours, so the phase changes sign: p0 = -rp (HMDB00005 rp=203 -> 157, ACME finds 148 + 19/2;
    HMDB00001 rp=-5.9 -> 5.9, ACME -1.5 + 6.1/2). p1 = -lp by the same argument (lp is 0 on both real sets,
    so its sign is not checked on data); the result only wins on the full-spectrum negative-area check."""
    if raw.vendor != "varian":
        return None
    try:
        rp = float(raw.params.get("rp"))  # type: ignore[arg-type]  # None: TypeError, caught
        lp = float(raw.params.get("lp") or 0.0)
    except (TypeError, ValueError):
        return None
    if not (math.isfinite(rp) and math.isfinite(lp)):
        return None
    return -rp, -lp


class AcmeScore:
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


def acme_phase(score: AcmeScore, p0, p1, step=10.0, xtol=ACME_XTOL, ftol=ACME_FTOL):
    """Nelder-Mead on the ACME score from (p0, p1): (p0, p1, score)."""
    from scipy.optimize import fmin

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ph, f, *_ = fmin(
            score, [p0, p1], xtol=xtol, ftol=ftol, disp=False, full_output=True, initial_simplex=_simplex(p0, p1, step)
        )
    return float(ph[0]), float(ph[1]), float(f)


def _complex_baseline(
    d: np.ndarray,
    mask: np.ndarray | None = None,
    centres=(),
    order: int = PHASE_BASELINE_ORDER,
    iters: int = 4,
    split: bool = False,
    fourier_terms: int = PHASE_BASELINE_FOURIER,
):
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
        r = np.abs(
            ds
            - np.polyval(c[: order + 1], xs)
            - fourier(xs) @ c[order + 1 : order + 1 + nf]
            - tails(idx) @ c[order + 1 + nf :]
        )
        thr = 3.0 * 1.4826 * float(np.median(r[keep]))
        nxt = keep & (r < thr)
        if nxt.sum() < 10 * ncol:
            break
        keep = nxt
    # (v @ c with a real matrix and a complex vector takes a slow 8 ms matmul path: polyval instead)
    poly = np.polyval(c[: order + 1], x)
    for k in range(1, fourier_terms + 1):
        poly = poly + c[order + k] * np.cos(np.pi * k * x) + c[order + fourier_terms + k] * np.sin(np.pi * k * x)
    tail = tails(np.arange(n)) @ c[order + 1 + nf :] if centres else np.zeros(n, complex)
    return (poly, tail) if split else poly + tail


def _neg_fraction(y: np.ndarray) -> float:
    """Negative area / total absolute area of the signal part of a baseline-free real spectrum."""
    noise = noise_level(y)
    sig = np.abs(y) > 5 * noise
    if not np.any(sig):
        return 0.0
    ys = y[sig]
    return float(-ys[ys < 0].sum() / np.abs(ys).sum())


def peak_phase_fit(d, mask=None, n_peaks=40):
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


def _phase_copy(
    ng, fid, raw: RawFID, n: int, lb_points: float, regions, centres=()
) -> tuple[np.ndarray, np.ndarray | None]:
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
    d = fourier_transform(ng, fid, sw, lb_points * sw / n, n, gd)
    # the digital filter's roll-off at either edge holds no lines, but can hold a steep slope (the tail of a
    # strong line folded in from beyond the window: cocaine's TMS, 0.5 ppm from the edge) whose negative part
    # would own the score's penalty
    mask = np.ones(n, bool)
    e = max(1, int(PHASE_BASELINE_EDGE * n))
    mask[:e] = False
    mask[-e:] = False
    for reg in regions:
        mask &= ppm_mask(raw, n, reg)
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
    pp = index_at_ppm(raw, n)
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
    rest[max(0, i - half) : i + half + 1] = 0.0
    e = max(1, int(PHASE_BASELINE_EDGE * d.size))  # the filter roll-off at the edges holds no lines
    rest[:e] = 0.0
    rest[-e:] = 0.0
    other = float(rest.max())
    if other <= 0 or mag[i] < DOMINANT_RATIO * other or other < DOMINANT_MIN_SNR * noise_level(d.real):
        return None
    pp = index_at_ppm(raw, d.size)
    half_ppm = DOMINANT_HALF_HZ / float(raw.sf_mhz)
    return float(pp[i]), (float(pp[i] - half_ppm), float(pp[i] + half_ppm))


def _restart_record(start: float, p0: float, p1: float, score: float, neg: float) -> dict:
    """One ACME restart as the processing record keeps it (phases in degrees)."""
    return {
        "start": start,
        "p0": round(p0 % 360, 1),
        "p1": round(p1, 1),
        "score": round(score, 7),
        "neg_fraction": round(neg, 4),
    }


def autophase(ng, fid, spec, raw: RawFID, regions):
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
    score = AcmeScore(coarse, cmask)
    best = None
    tried = []
    for a in RESTART_P0:
        p0, p1, f = acme_phase(score, a, 0.0, xtol=COARSE_XTOL, ftol=COARSE_FTOL)
        neg = _neg_fraction(score.real((p0, p1)))
        tried.append(_restart_record(a, p0, p1, f, neg))
        cand = (neg > NEG_FRACTION_MAX, f, p0, p1)
        if best is None or cand[:2] < best[:2]:
            best = cand
    assert best is not None  # RESTART_P0 holds at least one start
    fine, fmask = _phase_copy(ng, fid, raw, PHASE_N, FINE_LB_POINTS, regions, centres)
    fscore = AcmeScore(fine, fmask)
    p0, p1, f = acme_phase(fscore, best[2], best[3], step=REFINE_STEP)
    info: dict[str, Any] = {"starts": tried, "coarse": [round(best[2] % 360, 1), round(best[3], 1)]}
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
    p1 ~2300 degrees) the low-resolution restarts of `autophase` settle 2300 degrees off in p1 before the
    refinement walks most of the way back, and the result leaves a broad baseline hump the old scheme did
    not have; on the two Varian sets both schemes agree within 4 degrees."""
    k = max(1, spec.size // PHASE_N_SUBSAMPLED)
    small = spec[::k]
    mask = None
    for reg in regions:
        m = ppm_mask(raw, small.size, reg)
        mask = m if mask is None else mask & m
    d = small / max(float(np.max(np.abs(small))), 1e-300)
    score = AcmeScore(d, mask)
    best = None
    tried = []
    for i, a in enumerate(RESTART_P0):
        p0, p1, f = acme_phase(score, a, 0.0)
        y = score.real((p0, p1))
        neg = _neg_fraction(y - np.median(y))
        tried.append(_restart_record(a, p0, p1, f, neg))
        cand = (neg > NEG_FRACTION_MAX, f, p0, p1)
        if best is None or cand[:2] < best[:2]:
            best = cand
        if i == 0 and neg <= NEG_FRACTION_MAX:
            break
    assert best is not None  # at least one start was tried
    p0 = ((best[2] + 180.0) % 360.0) - 180.0
    return p0, best[3], {"starts": tried, "copy": f"every {k}-th point"}, d, mask


def _pin_dominant(ng, fid, raw: RawFID, centre_ppm: float, fscore: AcmeScore, p0: float, p1: float):
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
    d = fourier_transform(ng, fid, sw, FINE_LB_POINTS * sw / n, n, float(raw.group_delay or 0.0))
    pp = index_at_ppm(raw, n)
    ic = int(np.argmin(np.abs(pp - centre_ppm)))
    w = int(DOMINANT_PIN_HZ / (sw / n))
    seg = np.zeros(n, bool)
    seg[max(0, ic - w) : ic + w + 1] = True
    x_d = ic / n
    d = d / np.max(np.abs(d[seg]))
    # the baseline polynomial (fitted with the line's tail, outside its core) is removed, the tail kept: a
    # complex offset left under the window rotates with the trial phase and moves the optimum (simulated
    # TMS with a 0.3 % baseline offset: 4 degrees)
    half = DOMINANT_HALF_HZ / float(raw.sf_mhz)
    poly, _ = _complex_baseline(d, ppm_mask(raw, n, (centre_ppm - half, centre_ppm + half)), [ic], split=True)
    dscore = AcmeScore(d - poly, seg)
    start = p0 + p1 * x_d  # ACME's phase at the line, a few degrees off
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        phi = float(
            fmin(
                lambda a: dscore((a[0], 0.0)),
                [start],
                xtol=ACME_XTOL,
                ftol=ACME_FTOL,
                disp=False,
                initial_simplex=np.array([[start], [start + REFINE_STEP]]),
            )[0]
        )
        q1 = float(
            fmin(
                lambda b: fscore((phi - b[0] * x_d, b[0])),
                [p1],
                xtol=ACME_XTOL,
                ftol=ACME_FTOL,
                disp=False,
                initial_simplex=np.array([[p1], [p1 + REFINE_STEP]]),
            )[0]
        )
    return (
        phi - q1 * x_d,
        q1,
        {"dominant_line_phase": round(phi % 360, 2), "acme_without_pin": [round(p0 % 360, 2), round(p1, 2)]},
    )


def phase_check(real: np.ndarray, mask=None) -> dict:
    neg = _neg_fraction(real if mask is None else real[mask])
    ok = neg <= NEG_FRACTION_MAX
    return {
        "neg_fraction": round(neg, 4),
        "passed": bool(ok),
        "confidence": "normal" if ok else "low (much negative signal area after automatic phasing)",
    }
