"""Peaks a chemist trusts: noise, lines, multiplets with multiplicity and J, integrals.

Pure functions on numpy arrays (no file access). Conventions:
  * `ppm` is the chemical-shift axis (descending or ascending; both work), `y` the real intensity
    (arbitrary units) of a phased, baseline-corrected spectrum, `sf_mhz` the spectrometer frequency,
    so that Hz = ppm * sf_mhz.
  * noise is the rms of the signal-free baseline, in intensity units; S/N = line height / noise.
  * integrals are sums of intensity over the multiplet range times the point spacing (intensity * ppm),
    after subtracting a straight local baseline drawn between the range ends. They are in arbitrary
    units until `verify.nmr.compare` scales them to H.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from .thresholds import NMR_THRESHOLDS, NmrThresholds


@dataclass
class Line:
    """One resolved line (local maximum)."""

    ppm: float
    height: float  # intensity units
    width_hz: float  # full width at half height (Hz)
    index: int  # index into the spectrum arrays


@dataclass
class Multiplet:
    """A group of lines read as one signal."""

    ppm: float  # centre (ppm): intensity-weighted mean of the lines
    lo: float  # integration range, low end (ppm)
    hi: float  # integration range, high end (ppm)
    lines: list[Line]
    multiplicity: str  # s, br s, d, t, q, quint, sext, sept, dd, dt, td, ddd, ..., m
    j_hz: list[float]  # coupling constants (Hz), largest first; empty when not resolvable
    integral: float  # baseline-corrected integral (intensity * ppm), arbitrary units
    height: float  # tallest line (intensity units)
    snr: float  # tallest line / noise
    flag: str = ""  # "" | "13C satellite" | "spinning sideband"
    note: str = ""
    parent: int | None = None  # for satellites/sidebands: index of the parent multiplet
    # each line's fraction of the multiplet's fitted area (verify.nmr.fit.apply_fit); empty when not fitted
    line_shares: tuple[float, ...] = ()

    @property
    def width_ppm(self) -> float:
        return self.hi - self.lo


# --------------------------------------------------------------------------------------- noise


def estimate_noise(y: np.ndarray, th: NmrThresholds = NMR_THRESHOLDS) -> float:
    """Robust rms noise (intensity units) from the signal-free parts of the spectrum.

    The spectrum (outer 3 % at each end dropped: digital-filter roll-off) is cut into
    `th.noise_segments` segments; each is detrended by a straight line and its standard deviation taken;
    the 20th percentile of those is the noise. Signals occupy a minority of a 1H spectrum's width, so the
    quietest segments are baseline.
    """
    y = np.asarray(y, dtype=float)
    n = y.size
    if n < 64:
        return float(np.std(y)) or 1.0
    cut = int(0.03 * n)
    core = y[cut : n - cut] if n - 2 * cut > 64 else y
    segs = np.array_split(core, max(8, min(th.noise_segments, core.size // 16)))
    sds = []
    for s in segs:
        x = np.arange(s.size, dtype=float)
        a, b = np.polyfit(x, s, 1)
        sds.append(np.std(s - (a * x + b)))
    sd = float(np.percentile(sds, 20))
    if not np.isfinite(sd) or sd <= 0:
        sd = float(np.std(core)) or 1.0
    return sd


# --------------------------------------------------------------------------------------- lines


def pick_lines(
    ppm: np.ndarray, y: np.ndarray, noise: float, sf_mhz: float, th: NmrThresholds = NMR_THRESHOLDS
) -> list[Line]:
    """Local maxima with height >= th.snr_pick * noise and prominence >= th.prominence_snr * noise,
    away from the outer th.edge_fraction of the spectrum at each end.

    Positions are refined by a parabola through the three top points; widths are full widths at
    half height (Hz). Returned in the order of the ppm axis.
    """
    from scipy.signal import find_peaks, peak_widths

    ppm = np.asarray(ppm, dtype=float)
    y = np.asarray(y, dtype=float)
    idx, _ = find_peaks(y, height=th.snr_pick * noise, prominence=th.prominence_snr * noise)
    edge = int(th.edge_fraction * y.size)
    idx = idx[(idx >= edge) & (idx < y.size - edge)]  # filter roll-off / baseline-fit edges
    if idx.size == 0:
        return []
    widths = peak_widths(y, idx, rel_height=0.5)[0]
    step_ppm = abs(float(ppm[1] - ppm[0]))
    out = []
    for i, w in zip(idx, widths):
        p = float(ppm[i])
        h = float(y[i])
        if 0 < i < y.size - 1:
            a, b, c = y[i - 1], y[i], y[i + 1]
            den = a - 2 * b + c
            if den < 0:
                d = 0.5 * (a - c) / den
                p = float(ppm[i] + d * (ppm[i + 1] - ppm[i]))
                h = float(b - 0.25 * (a - c) * d)
        out.append(Line(ppm=p, height=h, width_hz=float(w) * step_ppm * sf_mhz, index=int(i)))
    return out


# --------------------------------------------------------------------------------------- multiplets


_LETTERS = {1: "d", 2: "t", 3: "q", 4: "quint", 5: "sext", 6: "sept"}


def _pattern(js: tuple[float, ...], spins: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """First-order line positions (Hz, from the first line) and binomial weights."""
    pos = np.array([0.0])
    w = np.array([1.0])
    for j, n in zip(js, spins):
        from math import comb

        sub_p = np.arange(n + 1) * j
        sub_w = np.array([comb(n, k) for k in range(n + 1)], dtype=float)
        pos = (pos[:, None] + sub_p[None, :]).ravel()
        w = (w[:, None] * sub_w[None, :]).ravel()
    order = np.argsort(pos)
    return pos[order], w[order]


def _merge(pos: np.ndarray, w: np.ndarray, tol: float) -> tuple[np.ndarray, np.ndarray]:
    mp, mw = [pos[0]], [w[0]]
    for p, x in zip(pos[1:], w[1:]):
        if p - mp[-1] <= tol:
            tot = mw[-1] + x
            mp[-1] = (mp[-1] * mw[-1] + p * x) / tot
            mw[-1] = tot
        else:
            mp.append(p)
            mw.append(x)
    return np.array(mp), np.array(mw)


def analyse_multiplet(
    pos_hz: np.ndarray, heights: np.ndarray, width_hz: float, th: NmrThresholds = NMR_THRESHOLDS
) -> tuple[str, list[float]]:
    """Name a group of lines as a first-order multiplet.

    `pos_hz`: line positions (Hz, any origin), `heights`: line heights, `width_hz`: typical line width.
    Every coupling constant of a first-order multiplet is the distance of some line from the first line,
    so candidate J sets are drawn from those distances (up to three distinct couplings, each to 1-3
    equivalent spins, or 4-6 spins for a single coupling; none above `th.max_j_hz`); a candidate fits when its merged pattern has
    the same lines within `th.line_match_hz` (+15 % of the smallest J) and heights within
    `th.line_height_tolerance`. The simplest fitting pattern wins. Returns (multiplicity, [J Hz, largest
    first]); ("m", []) when nothing fits.
    """
    order = np.argsort(pos_hz)
    pos = np.asarray(pos_hz, float)[order]
    hgt = np.asarray(heights, float)[order]
    n = pos.size
    if n == 1:
        return "s", []
    if n > 12:
        return "m", []
    rel = pos - pos[0]
    span = rel[-1]
    hn = hgt / hgt.sum()
    # symmetric about the centre? (first-order multiplets are; strong roofing is tolerated in heights)
    tol0 = th.line_match_hz + 0.05 * span / max(n - 1, 1)
    if np.max(np.abs((rel + rel[::-1]) - span)) > 2 * tol0:
        return "m", []
    cands = sorted({round(float(x), 2) for x in rel[1:]})
    best = None
    merge_tol = max(0.5 * width_hz, 0.3)
    for k in (1, 2, 3):
        if best is not None:
            break
        for js in itertools.combinations(sorted(cands, reverse=True), k):
            if js[0] > th.max_j_hz:
                # no H-H coupling is that large (the joining's own limit): two neighbouring triplets,
                # rotamers of one N-CH2, are no "dt, J = 25 Hz"
                continue
            spin_opts = [range(1, 7)] if k == 1 else [range(1, 4)] * k
            for spins in itertools.product(*spin_opts):
                tot = 1
                for s_ in spins:
                    tot *= s_ + 1
                if tot < n:
                    continue
                if abs(sum(j * s_ for j, s_ in zip(js, spins)) - span) > 2 * tol0:
                    continue
                p, w = _pattern(js, spins)
                p, w = _merge(p, w, merge_tol)
                if p.size != n:
                    continue
                tol = th.line_match_hz + 0.15 * min(js)
                if np.max(np.abs(p - rel)) > tol:
                    continue
                wn = w / w.sum()
                err = np.max(np.abs(wn - hn) / wn)
                if err > (0.3 if n == 2 else th.line_height_tolerance):  # two unequal singlets are no doublet
                    continue
                score = (k, sum(spins), err)
                if best is None or score < best[0]:
                    best = (score, js, spins)
    if best is None:
        return "m", []
    _, js, spins = best
    pairs = sorted(zip(js, spins), key=lambda t: -t[0])
    name = "".join(
        _LETTERS[s_] if len(pairs) == 1 else ("d" if s_ == 1 else "t" if s_ == 2 else "q") for _, s_ in pairs
    )
    return name, [round(float(j), 1) for j, _ in pairs]


def _integrate(ppm: np.ndarray, y: np.ndarray, i0: int, i1: int) -> float:
    """Sum of intensity over index range [i0, i1] (inclusive) times |ppm step|, minus the baseline
    offset common to both ends (medians of 3 points at each end; nothing when either end is <= 0)."""
    i0, i1 = max(0, min(i0, i1)), min(y.size - 1, max(i0, i1))
    seg = y[i0 : i1 + 1]
    if seg.size < 3:
        return float(seg.sum()) * abs(float(ppm[1] - ppm[0]))
    a = float(np.median(y[max(0, i0 - 1) : i0 + 2]))
    b = float(np.median(y[i1 - 1 : min(y.size, i1 + 2)]))
    # the spectrum is already baseline-corrected; only an offset common to both ends (a neighbour's
    # tail, a residual hump) is removed -- a slope between the ends is usually a phase tail, whose
    # dispersive part cancels over a symmetric range
    off = min(a, b) if a > 0 and b > 0 else 0.0
    raw = float(seg.sum())
    val = raw - off * seg.size
    if val < 0.5 * raw:
        val = 0.5 * raw
    return val * abs(float(ppm[1] - ppm[0]))


def group_multiplets(
    ppm: np.ndarray, y: np.ndarray, lines: list[Line], noise: float, sf_mhz: float, th: NmrThresholds = NMR_THRESHOLDS
) -> list[Multiplet]:
    """Group lines into multiplets, name them, and integrate each over its range.

    Lines are joined when closer than `th.max_j_hz`, or when the intensity between them never falls
    below 2 % of the smaller line (overlapping broad signals). The integration range runs from the
    outer lines outwards until the intensity falls below max(2 x noise, 0.5 % of the tallest line) or
    to 6 line widths, and is split at the intensity minimum where neighbouring ranges would overlap.
    Multiplets are returned in order of decreasing ppm.
    """
    ppm = np.asarray(ppm, dtype=float)
    y = np.asarray(y, dtype=float)
    if not lines:
        return []
    desc = ppm[0] > ppm[-1]
    ls = sorted(lines, key=lambda L: L.index)
    clusters = _cluster_lines(ppm, y, ls, noise, sf_mhz, th)
    med_w = float(np.median([L.width_hz for L in ls])) if ls else 1.0
    hz_per_pt = abs(float(ppm[1] - ppm[0])) * sf_mhz
    ranges = []
    for c in clusters:
        top = max(L.height for L in c)
        thr = max(2 * noise, 0.005 * top)
        maxw = max(L.width_hz for L in c)
        cap = max(3, int(round(6 * maxw / hz_per_pt)))
        i0 = c[0].index
        k = 0
        while i0 > 0 and k < cap and y[i0 - 1] > thr:
            i0 -= 1
            k += 1
        i0 = max(0, i0 - max(1, int(round(1.0 * maxw / hz_per_pt))))
        i1 = c[-1].index
        k = 0
        while i1 < y.size - 1 and k < cap and y[i1 + 1] > thr:
            i1 += 1
            k += 1
        i1 = min(y.size - 1, i1 + max(1, int(round(1.0 * maxw / hz_per_pt))))
        # symmetric about the outer lines: a phase tail that crosses zero on one side must not cut
        # the range short there (the dispersive part then cancels)
        ext = max(c[0].index - i0, i1 - c[-1].index)
        i0, i1 = max(0, c[0].index - ext), min(y.size - 1, c[-1].index + ext)
        ranges.append([i0, i1])
    for a in range(len(ranges) - 1):
        if ranges[a][1] >= ranges[a + 1][0]:
            l0 = clusters[a][-1].index
            l1 = clusters[a + 1][0].index
            m = l0 + int(np.argmin(y[l0 : l1 + 1])) if l1 > l0 else l0
            ranges[a][1] = max(m - 1, clusters[a][-1].index)
            ranges[a + 1][0] = min(m, clusters[a + 1][0].index)
    out = []
    for c, (i0, i1) in zip(clusters, ranges):
        centre, mult, js, top = _describe(c, sf_mhz, med_w, th)
        lo, hi = sorted((float(ppm[i0]), float(ppm[i1])))
        integral = _integrate(ppm, y, i0, i1)
        out.append(
            Multiplet(
                ppm=centre,
                lo=lo,
                hi=hi,
                lines=list(c),
                multiplicity=mult,
                j_hz=js,
                integral=integral,
                height=top,
                snr=top / noise if noise > 0 else float("inf"),
            )
        )
    out.sort(key=lambda m: -m.ppm)
    del desc
    return out


def _describe(c: list[Line], sf_mhz: float, med_w: float, th: NmrThresholds) -> tuple[float, str, list[float], float]:
    """Centre (ppm), multiplicity, J (Hz) and height of a group of lines read as one multiplet.

    The centre is the midpoint of a symmetric pattern, else the height-weighted mean; a singlet wider than
    th.broad_hz and three times `med_w` (the spectrum's median line width, Hz) is a broad singlet."""
    hs = np.array([L.height for L in c])
    ps = np.array([L.ppm for L in c])
    centre = float(np.sum(ps * hs) / hs.sum()) if len(c) > 1 else float(ps[0])
    if len(c) > 1:
        centre = 0.5 * (ps.min() + ps.max()) if _symmetric(ps, hs, sf_mhz, th) else centre
    width = float(np.median([L.width_hz for L in c]))
    mult, js = analyse_multiplet(ps * sf_mhz, hs, width, th)
    if mult == "s" and c[0].width_hz > max(th.broad_hz, 3 * med_w):
        mult = "br s"
    return centre, mult, js, float(hs.max())


def _cluster_lines(ppm, y, ls: list[Line], noise: float, sf_mhz: float, th: NmrThresholds) -> list[list[Line]]:
    """Lines -> clusters (one per multiplet).

    1. Pieces: neighbouring lines whose valley stays high
       overlap and belong together (valley above max(3 x noise, 3 % of the taller line)).
    2. Pieces separated by baseline but closer than th.max_j_hz are joined when together they form a
       named first-order multiplet (a resolved triplet's lines are three pieces at high field); the
       longest such run wins.
    3. Remaining (unnamed) pieces closer than th.max_j_hz are joined as one complex multiplet while
       its span stays within 2 x th.max_j_hz.
    """
    med_w = float(np.median([L.width_hz for L in ls]))

    def broad(L: Line) -> bool:  # an exchange-broadened line is its own signal, even under sharp ones
        return L.width_hz > max(2.5 * th.broad_hz, 6 * med_w)

    pieces: list[list[Line]] = [[ls[0]]]
    piece_top, top_ppm = ls[0].height, ls[0].ppm
    for L in ls[1:]:
        prev = pieces[-1][-1]
        valley = float(np.min(y[prev.index : L.index + 1]))
        wb = max(L.width_hz if broad(L) else 0.0, prev.width_hz if broad(prev) else 0.0)
        dist_hz = abs(L.ppm - prev.ppm) * sf_mhz
        # beyond two J of the piece's tallest line, the valley is judged against that line, not only the
        # pair: otherwise a chain of small lines (13C satellites, truncation wiggles, a broad line's tail)
        # bridges two multiplets 100+ Hz apart with near-baseline between them
        far = abs(L.ppm - top_ppm) * sf_mhz > 2 * th.max_j_hz
        ref = max(piece_top if far else prev.height, L.height)
        if wb and dist_hz > 0.5 * wb:
            # a broad line beside (not under) sharp lines is a separate signal
            pieces.append([L])
            piece_top, top_ppm = L.height, L.ppm
        elif valley > max(3 * noise, 0.03 * ref) and (
            dist_hz <= 2 * th.max_j_hz or valley > 0.5 * min(prev.height, L.height)
        ):
            pieces[-1].append(L)
            if L.height > piece_top:
                piece_top, top_ppm = L.height, L.ppm
        else:
            pieces.append([L])
            piece_top, top_ppm = L.height, L.ppm

    def gap(a: list[Line], b: list[Line]) -> float:
        return abs(a[-1].ppm - b[0].ppm) * sf_mhz

    out: list[tuple[bool, list[Line]]] = []  # (named multiplet, its lines)
    i = 0
    n = len(pieces)
    while i < n:
        # reachable run
        k = i
        while k + 1 < n and gap(pieces[k], pieces[k + 1]) <= th.max_j_hz and k - i < 9:
            k += 1
        merged = None
        for kk in range(k, i, -1):
            run = [L for p in pieces[i : kk + 1] for L in p]
            if len(run) > 12:
                continue
            ps = np.array([L.ppm for L in run]) * sf_mhz
            hs = np.array([L.height for L in run])
            w = float(np.median([L.width_hz for L in run]))
            name, _ = analyse_multiplet(ps, hs, w, th)
            if name not in ("m", "s"):
                merged = (kk, run)
                break
        if merged:
            out.append((True, merged[1]))
            i = merged[0] + 1
        else:
            out.append((False, list(pieces[i])))
            i += 1
    # join unnamed leftovers that sit close together (parts of one complex multiplet)
    final: list[tuple[bool, list[Line]]] = [out[0]]
    for named, c in out[1:]:
        pn, pc = final[-1]
        span = abs(pc[0].ppm - c[-1].ppm) * sf_mhz
        if not named and not pn and gap(pc, c) <= th.max_j_hz and span <= 2 * th.max_j_hz:
            final[-1] = (False, pc + c)
        else:
            final.append((named, c))
    return [c for _, c in final]


def _symmetric(ps, hs, sf_mhz, th) -> bool:
    hz = np.sort(ps * sf_mhz)
    rel = hz - hz[0]
    return bool(np.max(np.abs(rel + rel[::-1] - rel[-1])) <= 2 * th.line_match_hz + 0.05 * rel[-1])


# --------------------------------------------------------------------------------------- artefacts


def flag_artefacts(mults: list[Multiplet], sf_mhz: float, th: NmrThresholds = NMR_THRESHOLDS) -> None:
    """Mark 13C satellites and spinning sidebands in place (`flag`, `note`, `parent`).

    13C satellites: a small signal at +/- J(CH)/2 (th.satellite_half_hz) from a big signal carrying
    th.satellite_ratio of its integral (~0.55 % each), accepted when its mirror partner is also seen
    or would be hidden under another signal. Spinning sidebands: a symmetric pair of small signals
    (< th.sideband_ratio_max of the parent's height) 5-55 Hz on either side of a big line.
    """
    if not mults:
        return
    order = sorted(range(len(mults)), key=lambda i: -abs(mults[i].integral))
    centres = np.array([m.ppm for m in mults])

    def covered(ppm_val: float, exclude: set[int]) -> bool:
        return any(m.lo <= ppm_val <= m.hi for k, m in enumerate(mults) if k not in exclude)

    for pi in order[: max(1, min(12, len(order)))]:
        P = mults[pi]
        if P.flag or P.integral <= 0:
            continue
        for qi, Q in enumerate(mults):
            if qi == pi or Q.flag:
                continue
            d_hz = (Q.ppm - P.ppm) * sf_mhz
            ratio = Q.integral / P.integral if P.integral else 0
            lo_h, hi_h = th.satellite_half_hz
            if lo_h <= abs(d_hz) <= hi_h and th.satellite_ratio[0] <= ratio <= th.satellite_ratio[1]:
                mirror = P.ppm - d_hz / sf_mhz
                k = int(np.argmin(np.abs(centres - mirror)))
                partner = abs(centres[k] - mirror) * sf_mhz <= 2.5 and k != qi
                if partner or covered(mirror, {qi}):
                    for idx in [qi, k] if partner and mults[k].integral <= th.satellite_ratio[1] * P.integral else [qi]:
                        mults[idx].flag = "13C satellite"
                        mults[idx].parent = pi
                        mults[idx].note = f"13C satellite of the {P.ppm:.2f} ppm signal"
                    if not partner:
                        _remove_hidden_satellite(mults, pi, qi, mirror, sf_mhz, th)
                continue
            if 5.0 <= abs(d_hz) <= 55.0 and Q.height <= th.sideband_ratio_max * P.height and len(P.lines) <= 2:
                mirror = P.ppm - d_hz / sf_mhz
                k = int(np.argmin(np.abs(centres - mirror)))
                if (
                    k != qi
                    and k != pi
                    and abs(centres[k] - mirror) * sf_mhz <= 1.0
                    and mults[k].height <= th.sideband_ratio_max * P.height
                    and 0.5 <= mults[k].height / max(Q.height, 1e-30) <= 2.0
                ):
                    for idx in (qi, k):
                        mults[idx].flag = "spinning sideband"
                        mults[idx].parent = pi
                        mults[idx].note = f"spinning sideband of the {P.ppm:.2f} ppm signal"


def _remove_hidden_satellite(
    mults: list[Multiplet], pi: int, qi: int, mirror: float, sf_mhz: float, th: NmrThresholds
) -> None:
    """The mirror satellite of a flagged one sits inside another (small) signal: take its line and its
    integral (that of the seen satellite) out of that signal, which is then named from its own lines (a
    tert-butyl satellite merged with grease's 1.26 line read as a 16 Hz 'doublet')."""
    P, Q = mults[pi], mults[qi]
    for R in mults:
        if R is P or R is Q or R.flag or not (R.lo <= mirror <= R.hi) or len(R.lines) < 2:
            continue
        k = min(range(len(R.lines)), key=lambda n: abs(R.lines[n].ppm - mirror))
        L = R.lines[k]
        if abs(L.ppm - mirror) * sf_mhz > 2.5 or not 0.3 <= L.height / max(Q.height, 1e-30) <= 3.0:
            return
        old_lo, old_hi = min(x.ppm for x in R.lines), max(x.ppm for x in R.lines)
        R.lines = R.lines[:k] + R.lines[k + 1 :]
        R.integral = max(0.0, R.integral - Q.integral)
        # the range keeps its margins beyond the remaining outer lines
        R.lo = min(x.ppm for x in R.lines) - (old_lo - R.lo)
        R.hi = max(x.ppm for x in R.lines) + (R.hi - old_hi)
        med_w = float(np.median([x.width_hz for m in mults for x in m.lines]))
        R.ppm, R.multiplicity, R.j_hz, R.height = _describe(R.lines, sf_mhz, med_w, th)
        R.note = f"13C satellite of the {P.ppm:.2f} ppm signal taken out"
        return


def _plateau(m: Multiplet, sf_mhz: float, th: NmrThresholds) -> bool:
    """A raised stretch of baseline picked as many small lines: hundreds of Hz wide, many lines, most of
    them of even height (under th.plateau_peak_ratio x the median). A real multiplet of that width (an
    overlapped CH2/CH3 envelope) is mostly lines that tower over the others."""
    if (m.hi - m.lo) * sf_mhz < th.plateau_min_hz or len(m.lines) < th.plateau_min_lines:
        return False
    return len(_even_lines(m, th)) / len(m.lines) >= th.plateau_even_fraction


def _even_lines(m: Multiplet, th: NmrThresholds) -> list[Line]:
    """The lines of m under th.plateau_peak_ratio times their median height (a plateau's noise)."""
    limit = th.plateau_peak_ratio * float(np.median([L.height for L in m.lines]))
    return [L for L in m.lines if L.height < limit]


def line_wings(ppm: np.ndarray, y: np.ndarray, lines: list[Line], sf_mhz: float, reach_hz: float = 400.0) -> np.ndarray:
    """Lorentzian model of the picked lines out to `reach_hz` Hz each side: what their wings add between
    and beside them. Each line has its FWHM and, as amplitude, its prominence in `y` (a noise spike riding
    on a hump has the hump under it, not wings). Same length as `ppm`."""
    from scipy.signal import peak_prominences

    ppm = np.asarray(ppm, float)
    out = np.zeros(ppm.size)
    if not lines:
        return out
    step = abs(float(ppm[1] - ppm[0]))
    prom = peak_prominences(y, [L.index for L in lines])[0]
    for L, amp in zip(lines, prom):
        half = max(L.width_hz, 0.1) / 2 / sf_mhz  # ppm
        i0 = max(0, L.index - int(reach_hz / sf_mhz / step))
        i1 = min(ppm.size, L.index + int(reach_hz / sf_mhz / step) + 1)
        d = (ppm[i0:i1] - L.ppm) / half
        out[i0:i1] += min(L.height, float(amp)) / (1.0 + d * d)
    return out


def broad_background(
    ppm: np.ndarray,
    y: np.ndarray,
    noise: float,
    sf_mhz: float,
    th: NmrThresholds = NMR_THRESHOLDS,
    lines: list[Line] | None = None,
) -> np.ndarray:
    """The body of broad humps (probe background, baseline rolls), zero elsewhere.

    Parameters
    ----------
    ppm, y : ndarray
        The spectrum's axis (ppm) and real intensity.
    noise : float
        Noise level (units of `y`).
    sf_mhz : float
        Spectrometer frequency (MHz), to turn th.hump_* widths (Hz) into points.
    lines : list of Line, optional
        The narrow lines picked: their Lorentzian wings (`line_wings`) are taken off first, so that the
        overlapping wings of a neat liquid's or a low-field spectrum's lines are not read as a hump.

    Returns
    -------
    ndarray like `y`: a running median over th.hump_window_hz (computed on block medians, so it costs
    a few ms on 64k points), kept over each stretch where it is above one noise level whose top is at
    least th.hump_min_snr x noise and at least th.hump_min_width_hz wide at half that top, and over its central
    th.hump_min_width_hz mostly bare (the robust spread of the spectrum about it at most th.hump_max_spread
    noise levels); zero elsewhere.
    """
    from scipy.ndimage import median_filter
    from scipy.signal import find_peaks

    y = np.asarray(y, float)
    n = y.size
    if n < 64 or noise <= 0:
        return np.zeros_like(y)
    step_hz = abs(float(ppm[1] - ppm[0])) * sf_mhz
    win = max(9, int(th.hump_window_hz / step_hz))
    block = max(1, win // 9)
    nb = n // block
    rest = y - line_wings(ppm, y, lines, sf_mhz) if lines else y
    coarse = np.median(rest[: nb * block].reshape(nb, block), axis=1)
    coarse = median_filter(coarse, size=9, mode="nearest")
    body = np.interp(np.arange(n), np.arange(nb) * block + 0.5 * (block - 1), coarse)
    out = np.zeros_like(y)
    min_pts = th.hump_min_width_hz / step_hz
    tops, _ = find_peaks(body, height=th.hump_min_snr * noise)
    for top in tops:
        # a hump is wide at half its own height; the foot of a tall narrow line (the median rising into
        # its wings) peaks at that line and falls under half within a few tens of Hz
        above = body >= 0.5 * body[top]
        lo = top - (np.argmin(above[top::-1]) if not above[top::-1].all() else top + 1) + 1
        hi = top + (np.argmin(above[top:]) if not above[top:].all() else n - top) - 1
        if hi - lo + 1 < min_pts:
            continue
        # and it is mostly bare: noise about a smooth body. A crowded stretch of overlapping multiplets
        # (menthol's 0.8-2.2 ppm) also lifts the running median, but there the lines fill the stretch
        a, b = max(lo, top - int(min_pts / 2)), min(hi, top + int(min_pts / 2)) + 1  # its central part
        dev = y[a:b] - body[a:b]
        spread = 1.4826 * float(np.median(np.abs(dev - np.median(dev))))  # robust sigma of what rides on it
        if spread > th.hump_max_spread * noise:
            continue
        # its extent: down both flanks from the top to the baseline or to the valley that parts it from
        # a neighbour (a crowded region's raised floor beside it is not the hump's)
        i0, i1 = _descent(body, top, -1, noise), _descent(body, top, 1, noise)
        out[i0 : i1 + 1] = np.maximum(out[i0 : i1 + 1], body[i0 : i1 + 1])
    return out


def _descent(body: np.ndarray, top: int, step: int, floor: float) -> int:
    """Index where `body` stops falling from `top` in direction `step` (+1/-1), or drops under `floor`."""
    i = top
    while 0 <= i + step < body.size and body[i + step] <= body[i] and body[i + step] > floor:
        i += step
    return i


def _stretches(ppm: np.ndarray, mask_values: np.ndarray) -> list[tuple[float, float]]:
    """(lo, hi) ppm of each run of non-zero values."""
    nz = np.flatnonzero(mask_values)
    if nz.size == 0:
        return []
    cuts = np.flatnonzero(np.diff(nz) > 1)
    starts = np.r_[nz[0], nz[cuts + 1]]
    ends = np.r_[nz[cuts], nz[-1]]
    return [(float(min(ppm[a], ppm[b])), float(max(ppm[a], ppm[b]))) for a, b in zip(starts, ends)]


def find_multiplets(
    ppm: np.ndarray, y: np.ndarray, sf_mhz: float, th: NmrThresholds = NMR_THRESHOLDS
) -> tuple[list[Multiplet], float]:
    """Noise, lines, multiplets, integrals and artefact flags in one call: (multiplets, noise)."""
    noise = estimate_noise(y, th)
    lines = pick_lines(ppm, y, noise, sf_mhz, th)
    # lines wider than th.hump_hz are baseline rolls (or a broad exchange hump): not signals to group
    humps = [L for L in lines if L.width_hz > th.hump_hz]
    lines = [L for L in lines if L.width_hz <= th.hump_hz]
    background = broad_background(ppm, y, noise, sf_mhz, th, lines)
    if background.any():
        # noise and small lines riding on a hump stand on it, not on the baseline: measure and integrate
        # them above the hump's own profile, or its body is read as a 0.5 H "signal"
        y = y - background
        lines = [L for L in pick_lines(ppm, y, noise, sf_mhz, th) if L.width_hz <= th.hump_hz]
        for lo, hi in _stretches(ppm, background):
            # listed at its top, as wide as it is at half that height (its foot runs much further)
            inside = np.flatnonzero((ppm >= lo) & (ppm <= hi))
            top = int(inside[np.argmax(background[inside])])
            half = inside[background[inside] >= 0.5 * background[top]]
            humps.append(
                Line(
                    ppm=float(ppm[top]),
                    height=float(background[top]),
                    width_hz=abs(float(ppm[half[0]] - ppm[half[-1]])) * sf_mhz,
                    index=top,
                )
            )
    mults = group_multiplets(ppm, y, lines, noise, sf_mhz, th)
    plateaus = [m for m in mults if _plateau(m, sf_mhz, th)]
    if plateaus:
        # the even lines of a plateau are its noise: drop them and group what stands out of it again (a
        # small real multiplet sitting on the plateau is kept, integrated above the plateau's level)
        even = {id(L) for m in plateaus for L in _even_lines(m, th)}
        mults = group_multiplets(ppm, y, [L for L in lines if id(L) not in even], noise, sf_mhz, th)
    flag_artefacts(mults, sf_mhz, th)
    for m in plateaus:
        mults.append(
            Multiplet(
                ppm=m.ppm,
                lo=m.lo,
                hi=m.hi,
                lines=[],
                multiplicity="br",
                j_hz=[],
                integral=0.0,
                height=m.height,
                snr=m.snr,
                flag="baseline hump",
                note=f"{(m.hi - m.lo) * sf_mhz:.0f} Hz wide plateau of {len(m.lines)} lines of even "
                "height: baseline distortion (e.g. the foot of a dominant line), not integrated",
            )
        )
    for L in humps:
        half = 0.5 * L.width_hz / sf_mhz
        mults.append(
            Multiplet(
                ppm=L.ppm,
                lo=L.ppm - half,
                hi=L.ppm + half,
                lines=[L],
                multiplicity="br",
                j_hz=[],
                integral=0.0,
                height=L.height,
                snr=L.height / noise if noise > 0 else 0.0,
                flag="baseline hump",
                note=f"{L.width_hz:.0f} Hz wide: baseline distortion, not integrated",
            )
        )
    mults.sort(key=lambda m: -m.ppm)
    return mults, noise
