"""Figures for the HTML reports: structure, 1H spectrum, EIC, apex spectrum, isotope pattern.

Everything is drawn with matplotlib's object API (no pyplot, no global backend switch) and returned as
SVG text; spectra are reduced to a min/max envelope of a few thousand points first, so one figure
costs tens of milliseconds and a few tens of kB. The functions read the documented result objects
(NmrResult, MsResult; see docs/INTERFACES.md) and tolerate missing parts.
"""

from __future__ import annotations

import base64
import io
import math
import re as _re
from typing import Any

import numpy as np

STATUS_COLORS = {
    "consistent": "#2e7d32",
    "solvent": "#5c7c99",
    "impurity": "#e07b00",
    "suspicious": "#c62828",
}
VERDICT_COLORS = {
    "consistent": "#2e7d32",
    "suspicious": "#f2a900",
    "inconsistent": "#c62828",
    "error": "#6d4c8d",
}
WINDOW_FOUND = "#7fb77e"
WINDOW_MISSING = "#e57373"
LINE = "#222222"
FIT_COLOR = "#d35400"  # the fitted line-shape model (verify.nmr.fit)
RESIDUAL_COLOR = "#7f8c8d"
_RC = {
    "svg.fonttype": "none",  # text stays text: smaller files, selectable labels
    "font.size": 8,
    "font.family": "sans-serif",
    "axes.linewidth": 0.6,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "xtick.major.width": 0.6,
    "ytick.major.width": 0.6,
    "path.simplify_threshold": 0.3,
}


# --------------------------------------------------------------------------------------------- utils

_PATH_D = _re.compile(r'\bd="([^"]*)"')
_PATH_TOKEN = _re.compile(r"[MLz]|-?\d+(?:\.\d*)?(?:e-?\d+)?")
_POLYLINE = _re.compile(r"^[MLz\s\d.e-]*$")
_NUM = _re.compile(r"-?\d+\.\d+")
_ATTR_NUM = _re.compile(r'\b(x|y|x1|x2|y1|y2|width|height)="(-?\d+\.\d+)"')
_TRANSFORM = _re.compile(r'transform="([^"]*)"')
_FONT_LIST = _re.compile(r"font-family: [^;\"]*")


def svg_data_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def _fig(w: float, h: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(w, h), dpi=72)


def _svg(fig) -> str:
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": None}):
        fig.savefig(buf, format="svg", metadata={"Date": None})
    txt = buf.getvalue()
    i = txt.find("<svg")
    txt = txt[i:] if i > 0 else txt
    return compact_svg(txt)


def _num(v: float) -> str:
    """A coordinate in as few characters as SVG allows: 0.1 pt, no trailing zeros, no leading 0."""
    t = f"{v:.1f}".rstrip("0").rstrip(".")
    if t in ("-0", ""):
        return "0"
    return t.replace("0.", ".", 1) if t.startswith(("0.", "-0.")) else t


def _compact_path(d: str) -> str:
    """A matplotlib polyline ("M x y L x y ... z") as relative moves to 0.1 pt: "M12.3 4l.5-.2.4 0...".

    Spectra are most of a report's bytes and most of a spectrum's path is a near-flat baseline, whose
    relative steps are two or three characters each; the deltas are taken between the rounded absolute
    points, so the error never accumulates. Paths with curves (markers) only get their numbers rounded.
    """
    if not _POLYLINE.match(d):
        return _NUM.sub(lambda m: _num(float(m.group(0))), d)
    toks = _PATH_TOKEN.findall(d)
    out: list[str] = []
    cur = None
    px = py = 0
    i = 0
    last_cmd = ""
    while i < len(toks):
        t = toks[i]
        if t == "z":
            out.append("z")
            last_cmd = "z"
            i += 1
            continue
        if t in ("M", "L"):
            cur = t
            i += 1
            continue
        x, y = round(float(toks[i]) * 10), round(float(toks[i + 1]) * 10)
        i += 2
        if cur == "M":
            out.append(f"M{_num(x / 10)} {_num(y / 10)}")
            last_cmd = "M"
        else:
            dx, dy = _num((x - px) / 10), _num((y - py) / 10)
            sep = "" if last_cmd != "l" else ("" if dx.startswith("-") else " ")
            out.append(("l" if last_cmd != "l" else sep) + dx + ("" if dy.startswith("-") else " ") + dy)
            last_cmd = "l"
        px, py = x, y
    return "".join(out)


def compact_svg(txt: str) -> str:
    """Matplotlib's SVG without what a report does not need: metadata, group ids, indentation; path data
    as compact relative polylines (see `_compact_path`). Text, styles and clip paths are left as they are."""
    txt = _re.sub(r"<metadata>.*?</metadata>", "", txt, flags=_re.S)
    txt = _re.sub(r'<g id="[^"]*">', "<g>", txt)
    txt = _PATH_D.sub(lambda m: 'd="' + _compact_path(m.group(1)) + '"', txt)
    # matplotlib writes its ten fallback fonts into every <text> (~120 bytes a label) and a rotate(-0)
    txt = _FONT_LIST.sub("font-family: 'DejaVu Sans', Arial, sans-serif", txt)
    txt = _re.sub(r' transform="rotate\(-?0 [^")]*\)"', "", txt)
    # positions of ticks and text: 0.1 pt too
    txt = _ATTR_NUM.sub(lambda m: m.group(1) + '="' + _num(float(m.group(2))) + '"', txt)
    txt = _TRANSFORM.sub(lambda m: 'transform="' + _NUM.sub(lambda n: _num(float(n.group(0))), m.group(1)) + '"', txt)
    return _re.sub(r">\s+<", "><", txt)


def _rc():
    import matplotlib

    return matplotlib.rc_context(_RC)


def _arr(x) -> np.ndarray | None:
    if x is None:
        return None
    try:
        a = np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        return None
    return a if a.ndim == 1 and a.size else None


def envelope(x: np.ndarray, y: np.ndarray, nbins: int = 1500) -> tuple[np.ndarray, np.ndarray]:
    """Reduce a dense trace to a min/max envelope of about 2*nbins points (peaks keep their height)."""
    n = len(x)
    if n <= 2 * nbins:
        return x, y
    per = n // nbins
    m = per * nbins
    yb = y[:m].reshape(nbins, per)
    base = np.arange(nbins) * per
    imax = base + np.argmax(yb, axis=1)
    imin = base + np.argmin(yb, axis=1)
    ymax, ymin = y[imax], y[imin]
    if m < n:  # the remainder joins the last bin
        tail = slice(m, n)
        j = m + int(np.argmax(y[tail]))
        if y[j] > ymax[-1]:
            imax[-1], ymax[-1] = j, y[j]
        j = m + int(np.argmin(y[tail]))
        if y[j] < ymin[-1]:
            imin[-1], ymin[-1] = j, y[j]
    first_is_max = imax < imin
    xs = np.empty(2 * nbins)
    ys = np.empty(2 * nbins)
    xs[0::2] = np.where(first_is_max, x[imax], x[imin])
    ys[0::2] = np.where(first_is_max, ymax, ymin)
    xs[1::2] = np.where(first_is_max, x[imin], x[imax])
    ys[1::2] = np.where(first_is_max, ymin, ymax)
    return xs, ys


def _sticks(x: np.ndarray, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centroid sticks as one polyline broken by NaNs: one SVG path instead of one per stick."""
    n = len(x)
    xs = np.empty(3 * n)
    ys = np.empty(3 * n)
    xs[0::3], xs[1::3], xs[2::3] = x, x, np.nan
    ys[0::3], ys[1::3], ys[2::3] = 0.0, h, np.nan
    return xs, ys


def _fmt_sig(v: float) -> str:
    if v == 0 or not math.isfinite(v):
        return "0"
    e = int(math.floor(math.log10(abs(v))))
    return f"{v / 10**e:.1f}e{e}"


def text_width_pt(text: str, fontsize: float) -> float:
    """Width of a one-line label in points, on the generous side.

    DejaVu Sans (matplotlib's default) has 0.64 em digits; the sans-serif fonts browsers substitute are
    narrower, so a layout made with this width does not overlap in either.
    """
    return fontsize * (0.64 * len(text) + 0.3)


def spread_labels(centers: list[float], widths: list[float], lo: float, hi: float, gap: float = 2.0) -> list[float]:
    """Centres for labels wanted at `centers` (one axis, in points) such that no two overlap.

    Parameters
    ----------
    centers, widths : list of float
        Where each label would like to sit and how wide it is.
    lo, hi : float
        The span the labels must stay in (when they fit in it at all).
    gap : float
        Free space kept between neighbours.

    Returns
    -------
    list of float
        The label centres, in the order of `centers`.

    Notes
    -----
    Neighbours that would collide are packed side by side into a block centred on the mean of their wanted
    places (so each moves as little as the others), and blocks that then touch are merged the same way; a
    block is pushed back inside [lo, hi]. Labels keep their left-to-right order, so the leader lines drawn
    from them to their peaks never cross.
    """
    n = len(centers)
    order = sorted(range(n), key=lambda k: centers[k])
    blocks: list[list] = []  # [left edge, width, members, offsets of the members from the left edge]
    for k in order:
        w = widths[k] + gap
        blocks.append([centers[k] - w / 2, w, [k], [0.0]])
        while True:
            b = blocks[-1]
            b[0] = min(max(b[0], lo), max(lo, hi - b[1]))
            if len(blocks) < 2 or blocks[-2][0] + blocks[-2][1] <= b[0] + 1e-9:
                break
            a = blocks[-2]
            members = a[2] + b[2]
            offs = a[3] + [a[1] + o for o in b[3]]
            want = [centers[m] - (widths[m] + gap) / 2 - o for m, o in zip(members, offs)]
            blocks[-2:] = [[sum(want) / len(want), a[1] + b[1], members, offs]]
    out = [0.0] * n
    for left, _, members, offs in blocks:
        for m, o in zip(members, offs):
            out[m] = left + o + (widths[m] + gap) / 2
    return out


def label_rows(
    centers: list[float], widths: list[float], lo: float, hi: float, max_rows: int = 3, gap: float = 2.0
) -> tuple[list[float], list[int]]:
    """Spread labels over as few rows as they need (at most `max_rows`): (centres, row of each).

    One row when the labels fit side by side in [lo, hi]; otherwise every r-th label (in axis order) goes
    to the same row, so that neighbours alternate rows and each row has r times the room.
    """
    n = len(centers)
    if n == 0:
        return [], []
    need = sum(w + gap for w in widths)
    nrows = max(1, min(max_rows, math.ceil(need / max(hi - lo, 1e-9))))
    order = sorted(range(n), key=lambda k: centers[k])
    rows = [0] * n
    for i, k in enumerate(order):
        rows[k] = i % nrows
    out = [0.0] * n
    for r in range(nrows):
        ks = [k for k in order if rows[k] == r]
        for k, c in zip(ks, spread_labels([centers[k] for k in ks], [widths[k] for k in ks], lo, hi, gap)):
            out[k] = c
    return out, rows


# ----------------------------------------------------------------------------------------- structure
COORDGEN_MAX_RING = 30  # largest ring (atoms) laid out with CoordGen
MAX_DEPICTED_HEAVY_ATOMS = 150  # larger structures get a note instead of a drawing


def structure_svg(mol, width: int = 320, height: int = 240, groups: list | None = None) -> str:
    """RDKit drawing of the target; carbons/heteroatoms carrying an expected 1H group get its id."""
    from rdkit import Chem
    from rdkit.Chem.Draw import rdMolDraw2D

    m = Chem.Mol(mol)
    n_heavy = m.GetNumHeavyAtoms()
    if n_heavy > MAX_DEPICTED_HEAVY_ATOMS:
        # a layout of this size takes seconds to minutes and reads as a tangle at 320 px
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">'
            f'<text x="8" y="{height // 2}" font-size="13" fill="#667">structure not drawn: {n_heavy} heavy '
            f"atoms (above {MAX_DEPICTED_HEAVY_ATOMS})</text></svg>"
        )
    try:
        from rdkit.Chem import rdDepictor

        rings = m.GetRingInfo().AtomRings()
        # CoordGen draws rings best but hangs or takes GBs on macrocycles (a 44-membered ring: minutes);
        # RDKit's own layout is used above COORDGEN_MAX_RING
        rdDepictor.SetPreferCoordGen(max((len(r) for r in rings), default=0) <= COORDGEN_MAX_RING)
        if not m.GetNumConformers():
            rdDepictor.Compute2DCoords(m)
    except Exception:  # drawing still works with RDKit's own coordinates
        pass
    for g in groups or []:
        gid = getattr(g, "id", None)
        for a in getattr(g, "atoms", ()) or ():
            if gid and 0 <= a < m.GetNumAtoms():
                at = m.GetAtomWithIdx(int(a))
                prev = at.GetProp("atomNote") if at.HasProp("atomNote") else ""
                if gid not in prev.split(","):
                    at.SetProp("atomNote", f"{prev},{gid}" if prev else gid)
    d = rdMolDraw2D.MolDraw2DSVG(width, height)
    opts = d.drawOptions()
    opts.clearBackground = False
    opts.annotationFontScale = 0.55
    opts.padding = 0.08
    opts.fixedBondLength = 32  # small molecules are not blown up to fill the box
    d.DrawMolecule(m)
    d.FinishDrawing()
    svg = d.GetDrawingText()
    i = svg.find("<svg")
    return svg[i:] if i > 0 else svg


# ------------------------------------------------------------------------------------------- 1H NMR
NMR_MAX_EXPANSIONS = 6
NMR_MERGE_GAP_PPM = 0.30  # signals closer than this share one expansion (a multiplet and its neighbours)
NMR_TOUCH_PPM = 0.08  # signals this close always share one
NMR_SCALE_SPLIT = 4.0  # height ratio above which neighbours 0.08-0.30 ppm apart get expansions of their own
NMR_PAD_PPM = 0.06  # room either side of the outermost signals of an expansion
NMR_MIN_SPAN_PPM = 0.25  # a lone singlet still gets a readable stretch of baseline around it
NMR_MIN_PANEL_IN = 1.1  # narrowest expansion (inches): three tick labels and a few integrals
NMR_FONT = 6.5  # pt, integral and window labels
_ROW_PT = 8.5  # height of one label row (pt)
_EXP_BASE = 0.26  # expansions: baseline at this fraction of the axes height; integral labels below it
_FULL_BASE = 0.2  # full spectrum: room below the baseline for the expansion markers
_DPI = 72  # figure units: 1 pt = 1 px at 100 % zoom


def expansion_regions(
    peaks: list,
    max_regions: int = NMR_MAX_EXPANSIONS,
    gap: float = NMR_MERGE_GAP_PPM,
    pad: float = NMR_PAD_PPM,
    min_span: float = NMR_MIN_SPAN_PPM,
    heights: list[float] | None = None,
) -> list[tuple[float, float]]:
    """The stretches of the spectrum worth an expansion, from where the observed signals are.

    Parameters
    ----------
    peaks : list
        Observed peaks (``ppm``, ``lo``, ``hi``, ``status``); solvent peaks do not make a region of their own
        (a lone TMS or water line needs no close-up), but show in the region they fall in.
    max_regions : int
        At most this many regions: the neighbours cheapest to join are merged until the count fits.
    gap, pad, min_span : float
        Signals less than `gap` ppm apart share a region; each region gets `pad` ppm either side and is at
        least `min_span` ppm wide.
    heights : list of float, optional
        The tallest line of each peak (same order as `peaks`). Neighbours more than `NMR_SCALE_SPLIT` times
        apart in height are kept apart unless they touch: an expansion is scaled to its tallest line, and
        a 2H quintet next to a 9H Boc singlet would be flattened by it.

    Returns
    -------
    list of (lo, hi)
        In ppm, high shift first (the order of the full spectrum, left to right).
    """
    iv = []
    for k, p in enumerate(peaks):
        if (getattr(p, "status", "") or "") == "solvent":
            continue
        c = float(getattr(p, "ppm", np.nan))
        if not math.isfinite(c):
            continue
        lo, hi = _peak_range(p, c)
        h = heights[k] if heights is not None and k < len(heights) and heights[k] > 0 else 1.0
        iv.append([lo, hi, h])
    iv.sort()
    clusters: list[list[float]] = []  # [lo, hi, tallest]

    def ratio(a, b):
        return max(a[2], b[2]) / max(min(a[2], b[2]), 1e-300)

    for cur in iv:
        if clusters:
            last = clusters[-1]
            d = cur[0] - last[1]
            if d <= NMR_TOUCH_PPM or (d <= gap and ratio(last, cur) <= NMR_SCALE_SPLIT):
                last[1], last[2] = max(last[1], cur[1]), max(last[2], cur[2])
                continue
        clusters.append(list(cur))
    while len(clusters) > max_regions:
        # cheapest join: a narrow gap between lines of like height
        cost = [
            (clusters[k + 1][0] - clusters[k][1]) * (1 + math.log(ratio(clusters[k], clusters[k + 1])))
            for k in range(len(clusters) - 1)
        ]
        i = int(np.argmin(cost))
        a, b = clusters[i], clusters[i + 1]
        clusters[i : i + 2] = [[a[0], max(a[1], b[1]), max(a[2], b[2])]]
    out: list[list[float]] = []
    for lo, hi, _ in clusters:
        lo, hi = lo - pad, hi + pad
        if hi - lo < min_span:
            c = (lo + hi) / 2
            lo, hi = c - min_span / 2, c + min_span / 2
        if out and lo <= out[-1][1]:  # padding made two regions overlap: share the gap between them
            mid = (out[-1][1] + lo) / 2 if out[-1][1] - lo < pad else None
            if mid is None:
                out[-1][1] = max(out[-1][1], hi)
                continue
            out[-1][1], lo = mid, mid
        out.append([lo, hi])
    return [(lo, hi) for lo, hi in reversed(out)]


def _peak_range(p, c: float) -> tuple[float, float]:
    lo = getattr(p, "lo", None)
    hi = getattr(p, "hi", None)
    lo = float(lo) if isinstance(lo, (int, float)) and math.isfinite(lo) else c - 0.01
    hi = float(hi) if isinstance(hi, (int, float)) and math.isfinite(hi) else c + 0.01
    return min(lo, hi), max(lo, hi)


def _nmr_windows(nmr) -> list[tuple]:
    """(lo, hi, ids, n_h, found) of the expected groups, identical or nearly identical windows merged."""
    windows = []
    gmatches = list(getattr(nmr, "groups", None) or [])
    for gm in gmatches:
        g = getattr(gm, "group", None)
        if g is None:
            continue
        lo, hi = float(getattr(g, "lo", np.nan)), float(getattr(g, "hi", np.nan))
        if math.isfinite(lo) and math.isfinite(hi):
            windows.append(
                (
                    min(lo, hi),
                    max(lo, hi),
                    getattr(g, "id", ""),
                    getattr(g, "n_h", ""),
                    bool(getattr(gm, "found", False)),
                )
            )
    if not gmatches:  # no comparison ran: still shade the expectation when there is one
        for g in getattr(getattr(nmr, "expectation", None), "h_groups", None) or []:
            windows.append((float(g.lo), float(g.hi), g.id, g.n_h, True))
    return _merge_windows(windows)


def nmr_spectrum_svg(nmr: Any, width: float = 10.5) -> str | None:
    """The 1H figure of a report as SVG text: full spectrum above, expansions of every region with signals
    below (see `nmr_figure`). None when the result has no spectrum."""
    made = nmr_figure(nmr, width)
    if made is None:
        return None
    return _svg(made[0])


def nmr_figure(nmr: Any, width: float = 10.5):
    """The 1H figure: the full spectrum and automatic expansions.

    Parameters
    ----------
    nmr : NmrResult-like
        Reads ``spectrum`` (ppm, intensity), ``peaks`` (ppm, lo, hi, status, integral) and ``groups``
        (group windows, found); missing parts are tolerated.
    width : float
        Figure width in inches (72 dpi: 1 pt = 1 px).

    Returns
    -------
    (Figure, dict) or None
        The figure and what was laid out: ``full`` and ``expansions`` (each a dict with ``lo``, ``hi``,
        ``top`` = the tallest line it is scaled to, ``ax``), ``integral_labels`` and ``window_labels``
        (matplotlib Text artists). None when there is no spectrum.

    Notes
    -----
    The full spectrum is scaled to its tallest non-solvent line (taller solvent lines are clipped), each
    expansion to its own tallest non-solvent line, so a 1H multiplet next to a 9H Boc singlet is as readable
    as the singlet. Expansions carry the integral curves and the integrals in H, laid out by
    `label_rows` so that no two overlap; each expected window is labelled once, in the expansion that
    shows most of it (in the full spectrum when none does: the missing groups).
    """
    spec = getattr(nmr, "spectrum", None)
    ppm = _arr(getattr(spec, "ppm", None))
    inten = _arr(getattr(spec, "intensity", None))
    if ppm is None or inten is None or len(ppm) != len(inten):
        return None
    peaks = list(getattr(nmr, "peaks", None) or [])
    windows = _nmr_windows(nmr)
    order = np.argsort(ppm)
    ppm_s, int_s = ppm[order], inten[order]
    fit = getattr(nmr, "fit", None)
    fit_s = None
    if fit is not None and hasattr(fit, "curve"):
        curve = np.asarray(fit.curve(len(ppm)), dtype=float)
        if curve.shape == ppm.shape and np.isfinite(curve).any():
            fit_s = curve[order]

    def height_in(lo, hi):
        j0, j1 = np.searchsorted(ppm_s, [lo, hi])
        seg = int_s[j0 : max(j1, j0 + 1)]
        return float(np.max(seg)) if seg.size else 0.0

    pk = []
    for p in peaks:
        c = float(getattr(p, "ppm", np.nan))
        if not math.isfinite(c):
            continue
        lo, hi = _peak_range(p, c)
        integ = getattr(p, "integral", None)
        integ = float(integ) if isinstance(integ, (int, float)) and math.isfinite(integ) else None
        pk.append((c, lo, hi, getattr(p, "status", "") or "", integ, height_in(lo, hi)))

    pmin, pmax = float(np.nanmin(ppm)), float(np.nanmax(ppm))
    xs = [w[0] for w in windows] + [w[1] for w in windows] + [t[0] for t in pk]
    lo_x = max(min([0.0] + xs) - 0.4, pmin)
    hi_x = min(max([5.0] + xs) + 0.5, pmax)
    heights = []
    for p in peaks:
        c = float(getattr(p, "ppm", np.nan))
        heights.append(height_in(*_peak_range(p, c)) if math.isfinite(c) else 0.0)
    regions = [(max(lo, lo_x), min(hi, hi_x)) for lo, hi in expansion_regions(peaks, heights=heights)]
    regions = [r for r in regions if r[1] > r[0]]

    def top_of(lo, hi):
        """The tallest non-solvent line in [lo, hi] (everything there when it holds only solvent)."""
        hs = [h for (c, plo, phi, st, _, h) in pk if st != "solvent" and lo <= c <= hi]
        return max(hs) if hs else height_in(lo, hi)

    # ---- layout (inches), planned before drawing: label rows decide the heights
    left, right, hgap = 0.3, 0.15, 0.28
    avail = width - left - right
    full = {"lo": lo_x, "hi": hi_x, "top": top_of(lo_x, hi_x), "w": avail, "x": left}
    exps = []
    if regions:
        spans = np.array([hi - lo for lo, hi in regions])
        med = float(np.median(spans))
        weights = np.clip(spans, med / 2, med * 2)  # comparable Hz scales, without a sliver for a singlet
        inner = avail - hgap * (len(regions) - 1)
        ws = inner * weights / weights.sum()
        small = ws < NMR_MIN_PANEL_IN
        if small.any() and not small.all():  # room for tick labels: take it from the wide panels
            ws[small] = NMR_MIN_PANEL_IN
            ws[~small] *= (inner - ws[small].sum()) / ws[~small].sum()
        x = left
        for (lo, hi), w in zip(regions, ws):
            w = float(w)
            exps.append({"lo": lo, "hi": hi, "top": top_of(lo, hi), "w": w, "x": x})
            x += w + hgap
    # each window labelled once: where most of it is shown
    for panel in [full] + exps:
        panel["windows"] = []
    for win in windows:
        best, over = full, 0.0
        for e in exps:
            o = min(win[1], e["hi"]) - max(win[0], e["lo"])
            if o > over + 1e-9:
                best, over = e, o
        best["windows"].append(win)
    for panel in [full] + exps:
        _plan_window_labels(panel)
    for e in exps:
        _plan_integrals(e, pk)

    exp_h, full_h = 1.75, 1.3
    legend_h, title_h, xlab_h = 0.24, 0.16, 0.42
    exp_rows = max([e["wrows"] for e in exps], default=0)
    full_rows = full["wrows"]
    bottom = 0.32
    y_exp = bottom
    y_full = (y_exp + exp_h + title_h + exp_rows * _ROW_PT / _DPI + xlab_h) if exps else bottom
    height = y_full + full_h + max(full_rows, 0) * _ROW_PT / _DPI + 0.08 + legend_h

    with _rc():
        fig = _fig(width, height)
        info: dict = {"full": full, "expansions": exps, "integral_labels": [], "window_labels": []}
        ax = fig.add_axes((full["x"] / width, y_full / height, full["w"] / width, full_h / height))
        full["ax"] = ax
        _draw_nmr_panel(ax, full, ppm_s, int_s, pk, windows, _FULL_BASE, info)
        info["fit_drawn"] = False
        ax.set_xlabel("δ 1H (ppm)", labelpad=1)
        ax.xaxis.set_major_locator(_locator(hi_x - lo_x))
        letters = "ABCDEFGH"
        for k, e in enumerate(exps):
            # where each expansion sits in the full spectrum: a bar under the baseline, lettered
            mid = (e["lo"] + e["hi"]) / 2
            ax.plot(
                [e["lo"], e["hi"]],
                [0.05, 0.05],
                color="#8a99a8",
                lw=1.6,
                solid_capstyle="butt",
                transform=ax.get_xaxis_transform(),
                zorder=5,
            )
            ax.text(
                mid,
                0.075,
                letters[k],
                transform=ax.get_xaxis_transform(),
                ha="center",
                va="bottom",
                fontsize=6,
                color="#56677a",
                fontweight="bold",
                zorder=6,
            )
            eax = fig.add_axes((e["x"] / width, y_exp / height, e["w"] / width, exp_h / height))
            e["ax"] = eax
            _draw_nmr_panel(eax, e, ppm_s, int_s, pk, windows, _EXP_BASE, info)
            if fit_s is not None:
                info["fit_drawn"] |= _draw_fit(eax, e, ppm_s, int_s, fit_s)
            eax.text(
                0.0,
                1.0,
                f" {letters[k]} ",
                transform=eax.transAxes,
                ha="left",
                va="top",
                fontsize=7,
                fontweight="bold",
                color="white",
                bbox=dict(boxstyle="square,pad=0.15", fc="#8a99a8", ec="none"),
                zorder=7,
            )
            span = e["hi"] - e["lo"]
            eax.xaxis.set_major_locator(_maxn(max(1, int(e["w"] * _DPI / 50))))  # ~50 pt a tick label
            eax.xaxis.set_major_formatter(_ppm_formatter(span))
        statuses = {t[3] for t in pk}
        handles = _status_handles(fig, statuses)
        handles += _window_handles({w[4] for w in windows})
        if any(e["integrals"] for e in exps) or info["fit_drawn"]:
            from matplotlib.lines import Line2D

            if any(e["integrals"] for e in exps):
                handles.append(Line2D([], [], color="#555555", lw=0.8, label="integral (H)"))
            if info["fit_drawn"]:
                handles.append(Line2D([], [], color=FIT_COLOR, lw=0.8, ls=(0, (2.0, 1.2)), label="fitted model"))
                handles.append(Line2D([], [], color=RESIDUAL_COLOR, lw=0.6, label="residual"))
        if handles:
            fig.legend(
                handles=handles,
                loc="upper right",
                fontsize=6.5,
                frameon=False,
                ncol=len(handles),
                bbox_to_anchor=(1 - right / width, 1.0),
                handlelength=1.4,
                columnspacing=1.0,
                borderaxespad=0.2,
            )
        fig.text(
            left / width,
            1 - 0.04 / height,
            "1H NMR: full spectrum"
            + (" (A, B …: expansions below, each scaled to its own tallest line)" if exps else ""),
            ha="left",
            va="top",
            fontsize=7,
            color="#444444",
        )
        return fig, info


def _draw_fit(ax, panel: dict, ppm_s, int_s, fit_s) -> bool:
    """The fitted line-shape model over the data (dashed) and the residual (data - model) along the baseline,
    on the panel's own scale (`panel["y_top"]`, set by _draw_nmr_panel); fitted stretches only. Returns whether
    anything was drawn."""
    lo, hi, y_top = panel["lo"], panel["hi"], panel["y_top"]
    j0, j1 = np.searchsorted(ppm_s, [lo, hi])
    x, y, f = ppm_s[j0:j1], int_s[j0:j1], fit_s[j0:j1]
    ok = np.isfinite(f)
    if ok.sum() < 2:
        return False
    # the residual on the baseline itself: flat where the model explains the data, the misfit standing out
    # of it (the band under the baseline holds the integral labels)
    y_res = 0.0
    half_band = 0.25 * y_top
    w_pt = panel["w"] * _DPI
    edges = np.flatnonzero(np.diff(ok.astype(np.int8)))
    starts = ([0] if ok[0] else []) + list(edges[~ok[edges]] + 1)
    ends = list(edges[ok[edges]] + 1) + ([len(ok)] if ok[-1] else [])
    for a, b in zip(starts, ends):
        if b - a < 2:
            continue
        nb = max(10, int(w_pt / 1.5 * (x[b - 1] - x[a]) / max(hi - lo, 1e-12)))
        ex, ef = envelope(x[a:b], f[a:b], nb)
        ax.plot(ex, ef, color=FIT_COLOR, lw=0.6, ls=(0, (2.0, 1.2)), zorder=3.5)
        rx, rr = envelope(x[a:b], np.clip(y[a:b] - f[a:b], -half_band, half_band), nb)
        ax.plot(rx, y_res + rr, color=RESIDUAL_COLOR, lw=0.45, zorder=3.5)
    return True


def _plan_window_labels(panel: dict) -> None:
    """Rows and x positions of a panel's window labels ("G5/G6 4H"), in points along the axis."""
    w_pt = panel["w"] * _DPI
    lo, hi = panel["lo"], panel["hi"]
    texts, centers, widths = [], [], []
    for wlo, whi, gid, nh, _found in panel["windows"]:
        a, b = max(wlo, lo), min(whi, hi)
        c = (a + b) / 2 if b > a else (wlo + whi) / 2
        t = f"{gid}" + (f" {nh}H" if nh != "" else "")
        texts.append(t)
        centers.append((hi - c) / (hi - lo) * w_pt)
        widths.append(text_width_pt(t, NMR_FONT))
    pos, rows = label_rows(centers, widths, 0.0, w_pt, max_rows=4)
    panel["wlabels"] = list(zip(texts, pos, rows))
    panel["wrows"] = (max(rows) + 1) if rows else 0


def _plan_integrals(panel: dict, pk: list) -> None:
    """The integrals an expansion shows (non-solvent peaks centred in it) and their label places."""
    lo, hi = panel["lo"], panel["hi"]
    w_pt = panel["w"] * _DPI
    items = [t for t in pk if t[3] != "solvent" and t[4] is not None and lo <= t[0] <= hi]
    texts = [f"{t[4]:.2f}" for t in items]
    centers = [(hi - (max(t[1], lo) + min(t[2], hi)) / 2) / (hi - lo) * w_pt for t in items]
    widths = [text_width_pt(s, NMR_FONT) for s in texts]
    pos, rows = label_rows(centers, widths, 0.0, w_pt, max_rows=3)
    panel["integrals"] = [(t, s, c, x, r) for t, s, c, x, r in zip(items, texts, centers, pos, rows)]


def _draw_nmr_panel(ax, panel: dict, ppm_s, int_s, pk: list, windows: list, base: float, info: dict) -> None:
    lo, hi, top = panel["lo"], panel["hi"], panel["top"]
    if not top > 0:
        top = 1.0
    w_pt = panel["w"] * _DPI
    j0, j1 = np.searchsorted(ppm_s, [lo, hi])
    x, y = ppm_s[j0:j1], int_s[j0:j1]
    if len(x) < 2:
        x, y = ppm_s, int_s
    # about one min/max pair per 1.5 px: every line keeps its height, the file stays small
    ex, ey = envelope(x, y, max(50, int(w_pt / 1.5)))
    for wlo, whi, _gid, _nh, found in windows:
        if whi >= lo and wlo <= hi:
            ax.axvspan(
                wlo, whi, color=WINDOW_FOUND if found else WINDOW_MISSING, alpha=0.16 if found else 0.22, lw=0, zorder=0
            )
    ax.plot(ex, ey, color=LINE, lw=0.55, zorder=2)
    for _c, plo, phi, st, _integ, _h in pk:
        if phi < lo or plo > hi:
            continue
        col = STATUS_COLORS.get(st, "#888888")
        a = max(int(np.searchsorted(ex, plo)) - 1, 0)
        b = min(int(np.searchsorted(ex, phi)) + 1, len(ex))
        if b - a > 1:
            ax.plot(ex[a:b], ey[a:b], color=col, lw=0.85, zorder=3)
    # expansions: headroom for the integral curves above the tallest line
    y_top = (1.42 if panel.get("integrals") else 1.1) * top
    panel["y_top"] = y_top  # the fitted model is drawn on the same scale (_draw_fit)
    ax.set_ylim(-base / (1 - base) * y_top, y_top)
    ax.set_xlim(hi, lo)
    ax.set_yticks([])
    ax.spines["left"].set_visible(False)
    if float(np.max(ey)) > y_top:
        ax.text(
            1.0,
            1.0,
            "taller lines clipped ",
            transform=ax.transAxes,
            ha="right",
            va="top",
            fontsize=5.5,
            color="#777777",
            zorder=6,
        )
    # window labels above the axes, in rows
    for text, u, r in panel["wlabels"]:
        found = next(
            (w[4] for w in panel["windows"] if (f"{w[2]}" + (f" {w[3]}H" if w[3] != "" else "")) == text), True
        )
        t = ax.annotate(
            text,
            xy=(hi - u / w_pt * (hi - lo), 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(0, 2 + r * _ROW_PT),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=NMR_FONT,
            color="#2e5e2d" if found else "#b71c1c",
            annotation_clip=False,
        )
        info["window_labels"].append(t)
    # integrals: curve over each multiplet, a bracket under it, the value below (moved aside with a leader)
    integrals = panel.get("integrals") or []
    if not integrals:
        return
    max_int = max(t[4] for t, *_ in integrals) or 1.0
    ax_h_pt = ax.get_position().height * ax.figure.get_figheight() * _DPI
    yb = base - 3.0 / ax_h_pt  # bracket just under the baseline (axes fraction)
    for (_c, plo, phi, st, integ, h), text, cu, u, r in integrals:
        col = STATUS_COLORS.get(st, "#888888")
        a, b = max(plo, lo), min(phi, hi)
        k0, k1 = np.searchsorted(ppm_s, [a, b])
        seg_x, seg_y = ppm_s[k0:k1], int_s[k0:k1]
        if len(seg_x) > 2:
            cum = np.concatenate([[0.0], np.cumsum((seg_y[1:] + seg_y[:-1]) / 2 * np.diff(seg_x))])
            if cum[-1] > 0:
                keep = np.unique(np.linspace(0, len(cum) - 1, min(len(cum), 40)).astype(int))
                start = min(h, top) + 0.06 * top
                rise = 0.3 * top * max(integ, 0.0) / max_int
                # cumulative from high to low ppm, as the spectrum is read
                cy = start + rise * (1 - cum[keep] / cum[-1])
                ax.plot(seg_x[keep], cy, color=col, lw=0.7, alpha=0.85, zorder=4)
        ax.plot(
            [a, b], [yb, yb], color=col, lw=0.8, transform=ax.get_xaxis_transform(), zorder=4, solid_capstyle="butt"
        )
        xl = hi - u / w_pt * (hi - lo)
        ty = yb - (2.5 + r * _ROW_PT) / ax_h_pt
        moved = abs(u - cu) > 2.0 or r > 0
        t = ax.annotate(
            text,
            xy=((a + b) / 2, yb),
            xycoords=("data", "axes fraction"),
            xytext=(xl, ty),
            textcoords=("data", "axes fraction"),
            ha="center",
            va="top",
            fontsize=NMR_FONT,
            color=col,
            annotation_clip=False,
            zorder=5,
            arrowprops=dict(arrowstyle="-", lw=0.4, color=col, shrinkA=0.5, shrinkB=0) if moved else None,
        )
        info["integral_labels"].append(t)


def _ppm_formatter(span: float):
    from matplotlib.ticker import FormatStrFormatter

    return FormatStrFormatter("%.2f" if span < 0.6 else "%.1f")


def _window_handles(found_states: set) -> list:
    from matplotlib.patches import Patch

    out = []
    if True in found_states:
        out.append(Patch(color=WINDOW_FOUND, alpha=0.35, lw=0, label="expected window, found"))
    if False in found_states:
        out.append(Patch(color=WINDOW_MISSING, alpha=0.4, lw=0, label="expected window, missing"))
    return out


def _merge_windows(windows: list[tuple], overlap: float = 0.8) -> list[tuple]:
    """Groups whose windows (nearly) coincide get one shaded band and one label ("G1/G2/G3 5H").

    Two windows merge when they agree on found/missing and share at least `overlap` of the narrower one:
    the three ring CH of a phenyl or the two CH2 of a symmetric ring are one band to the eye, and three
    stacked labels over it read as noise.
    """
    groups: list[list] = []  # [lo, hi, found, members]
    for lo, hi, gid, nh, found in sorted(windows, key=lambda w: (w[0], w[1])):
        for g in groups:
            shared = min(hi, g[1]) - max(lo, g[0])
            narrow = min(hi - lo, max(m[1] - m[0] for m in g[3]))
            if g[2] == found and shared >= overlap * narrow - 1e-9:
                g[0], g[1] = min(g[0], lo), max(g[1], hi)
                g[3].append((lo, hi, gid, nh))
                break
        else:
            groups.append([lo, hi, found, [(lo, hi, gid, nh)]])
    out = []
    for lo, hi, found, items in groups:
        ids = "/".join(str(i[2]) for i in sorted(items, key=lambda i: _gid_key(i[2])))
        try:
            nh = sum(int(i[3]) for i in items)
        except (TypeError, ValueError):
            nh = ""
        out.append((lo, hi, ids, nh, found))
    return out


def _gid_key(gid) -> tuple:
    """G2 before G10."""
    s = str(gid)
    digits = "".join(ch for ch in s if ch.isdigit())
    return (s.rstrip("0123456789"), int(digits) if digits else 0, s)


def _locator(span: float):
    from matplotlib.ticker import MultipleLocator

    return MultipleLocator(1.0 if span > 4 else 0.5 if span > 2 else 0.1)


def _maxn(n: int):
    from matplotlib.ticker import MaxNLocator

    return MaxNLocator(nbins=n, steps=[1, 2, 2.5, 5, 10])


def _status_handles(fig, statuses: set) -> list:
    from matplotlib.lines import Line2D

    return [Line2D([], [], color=STATUS_COLORS[s], lw=1.5, label=s) for s in STATUS_COLORS if s in statuses]


# -------------------------------------------------------------------------------------------- HRMS
MS_MAX_MARKS = 8  # chromatographic peaks labelled on the chromatogram, largest share first
MS_FONT = 6.5


def ms_panels_svg(ms: Any, width: float = 10.5) -> str | None:
    """The HRMS figure of a report as SVG text (see `ms_figure`); None when there is nothing to draw."""
    made = ms_figure(ms, width)
    return None if made is None else _svg(made[0])


def ms_figure(ms: Any, width: float = 10.5):
    """The HRMS figure: the run's chromatogram with every peak the check found marked, the spectrum of the
    target's peak (of the run's main peak when the target is absent) and the isotope pattern.

    Parameters
    ----------
    ms : MsResult-like
        Reads ``chromatogram`` (BPC), ``eic``, ``chromatographic_peaks`` (dicts: rt_s, mz, area_share,
        status, assignment), ``apex_spectrum``, ``spectrum_of``/``spectrum_rt_s``, ``peaks``, ``ions``,
        ``isotope_comparison``; missing parts are tolerated.
    width : float
        Figure width in inches.

    Returns
    -------
    (Figure, dict) or None
        The figure and ``marks``: one dict per labelled chromatographic peak (rt_min, status, text, artist).
    """
    chrom = getattr(ms, "chromatogram", None)
    eic = getattr(ms, "eic", None)
    apex = getattr(ms, "apex_spectrum", None)
    iso = list(getattr(ms, "isotope_comparison", None) or [])
    if chrom is None and eic is None and apex is None and not iso:
        return None
    top_h, bot_h = 1.75, 1.75
    marks = _chrom_marks(ms)
    label_rows_h = 2 * 2 * _ROW_PT / _DPI  # two rows of two-line labels
    height = 0.36 + bot_h + 0.62 + top_h + label_rows_h + 0.12
    with _rc():
        fig = _fig(width, height)
        left, right = 0.55, 0.15
        ax = fig.add_axes(
            (left / width, (0.36 + bot_h + 0.62) / height, (width - left - right) / width, top_h / height)
        )
        info = {"marks": []}
        _draw_chromatogram(ax, ms, chrom, eic, marks, info, (width - left - right) * _DPI)
        gs = fig.add_gridspec(
            1,
            2,
            width_ratios=(2.3, 0.75),
            left=left / width,
            right=1 - right / width,
            bottom=0.36 / height,
            top=(0.36 + bot_h) / height,
            wspace=0.14,
        )
        _draw_apex(fig.add_subplot(gs[0]), apex, ms)
        _draw_isotopes(fig.add_subplot(gs[1]), iso, ms)
        return fig, info


def _chrom_marks(ms) -> list[dict]:
    """The chromatographic peaks to label: the check's list (one mark per RT and status, its ions' shares
    added) plus the target's EIC apex when the list lacks it."""
    rows = [
        c
        for c in getattr(ms, "chromatographic_peaks", None) or []
        if isinstance(c, dict) and isinstance(c.get("rt_s"), (int, float))
    ]
    rows.sort(key=lambda c: -(c.get("area_share") or 0.0))
    marks: list[dict] = []
    for c in rows:
        st = c.get("status") or "suspicious"
        for m in marks:
            # the target's [M+H]+, [M+Na]+ and fragments are one compound, one mark
            if m["status"] == st and abs(m["rt_s"] - c["rt_s"]) <= 1.5:
                m["share"] += c.get("area_share") or 0.0
                break
        else:
            marks.append(
                {
                    "rt_s": float(c["rt_s"]),
                    "status": st,
                    "mz": c.get("mz"),
                    "assignment": c.get("assignment") or "unexplained",
                    "share": c.get("area_share") or 0.0,
                }
            )
    eic = getattr(ms, "eic", None)
    apex = getattr(eic, "apex_s", None) if eic is not None else None
    if apex is not None and not any(m["status"] == "consistent" and abs(m["rt_s"] - apex) <= 3.0 for m in marks):
        mi = getattr(ms, "main_ion", None)
        marks.append(
            {
                "rt_s": float(apex),
                "status": "consistent",
                "mz": getattr(mi, "mz", None),
                "assignment": f"target {getattr(eic, 'ion', '')}".strip(),
                "share": None,
            }
        )
    return marks[:MS_MAX_MARKS]


def _mark_text(m: dict) -> str:
    name = m["assignment"]
    if name == "unexplained" and isinstance(m.get("mz"), (int, float)):
        name = f"unexplained m/z {m['mz']:.4f}"
    elif isinstance(m.get("mz"), (int, float)) and "m/z" not in name:
        name += f" {m['mz']:.4f}"
    if len(name) > 52:  # keep the ion and m/z, shorten the name
        head, sep, tail = name.rpartition(" [")
        name = (head[: 52 - len(tail) - 3] + "…" + sep + tail) if sep and len(tail) < 40 else name[:51] + "…"
    share = f" · {m['share'] * 100:.0f}%" if isinstance(m.get("share"), (int, float)) else ""
    return f"{name}\n{m['rt_s'] / 60:.2f} min{share}"


def _draw_chromatogram(ax, ms, chrom, eic, marks: list[dict], info: dict, w_pt: float) -> None:
    rt = _arr(getattr(chrom, "rt_s", None)) if chrom is not None else None
    it = _arr(getattr(chrom, "intensity", None)) if chrom is not None else None
    ert = _arr(getattr(eic, "rt_s", None)) if eic is not None else None
    eit = _arr(getattr(eic, "intensity", None)) if eic is not None else None
    have_chrom = rt is not None and it is not None and len(rt) == len(it)
    have_eic = ert is not None and eit is not None and len(ert) == len(eit)
    if not have_chrom and not have_eic:
        _empty(ax, "Chromatogram", "no chromatographic peak\nfor the expected ions")
        return
    nb = max(100, int(w_pt / 1.5))
    ymax = 0.0
    if have_chrom:
        x, y = envelope(rt / 60.0, it, nb)
        pol = getattr(chrom, "polarity", "") or ""
        ax.plot(
            x,
            y,
            color="#555555",
            lw=0.6,
            label=f"{getattr(chrom, 'kind', 'BPC')} (base peak" + (f", {pol}" if pol else "") + ")",
        )
        ymax = max(ymax, float(np.max(it)))
    if have_eic:
        ex, ey = envelope(ert / 60.0, eit, nb)
        ion = getattr(eic, "ion", "") or ""
        mz = getattr(eic, "mz", None)
        lab = f"EIC {ion}" + (f" m/z {mz:.4f}" if isinstance(mz, (int, float)) else "")
        ax.plot(ex, ey, color=STATUS_COLORS["consistent"], lw=0.8, label=lab, zorder=3)
        start, end = getattr(eic, "start_s", None), getattr(eic, "end_s", None)
        if start is not None and end is not None:
            m = (ert >= start) & (ert <= end)
            if m.any():
                ax.fill_between(ert[m] / 60, 0, eit[m], color=STATUS_COLORS["consistent"], alpha=0.25, lw=0)
        ymax = max(ymax, float(np.max(eit)))
    ymax = ymax or 1.0
    ax.set_ylim(0, ymax * 1.12)
    xr = (rt if have_chrom else ert) / 60.0
    lo, hi = float(np.min(xr)), float(np.max(xr))
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    ax.set_xlim(lo, hi)
    ax.set_xlabel("retention time (min)", labelpad=1)
    ax.xaxis.set_major_locator(_maxn(10))
    ax.set_yticks([])
    ax.spines["left"].set_visible(False)
    # inside the axes: the band above holds the peak labels
    ax.text(
        1.0,
        0.98,
        f"full scale {_fmt_sig(ymax)}",
        transform=ax.transAxes,
        ha="right",
        va="top",
        fontsize=6,
        color="#777777",
    )
    ax.legend(loc="upper left", fontsize=6, frameon=False, handlelength=1.4, borderaxespad=0.2)
    # marks: a triangle over each peak's apex, its label above the axes with a leader line
    tr = (rt, it) if have_chrom else (ert, eit)
    ax_h_pt = ax.get_position().height * ax.figure.get_figheight() * _DPI
    texts = [_mark_text(m) for m in marks]
    widths = [max(text_width_pt(line, MS_FONT) for line in t.split("\n")) for t in texts]
    centers = [(m["rt_s"] / 60 - lo) / (hi - lo) * w_pt for m in marks]
    pos, rows = label_rows(centers, widths, 0.0, w_pt, max_rows=2, gap=6.0)
    for m, text, u, r in zip(marks, texts, pos, rows):
        col = STATUS_COLORS.get(m["status"], "#888888")
        ya = float(np.interp(m["rt_s"], tr[0], tr[1])) if len(tr[0]) > 1 else ymax
        xa = m["rt_s"] / 60
        ax.plot([xa], [ya], marker="v", ms=4.5, color=col, zorder=5, clip_on=False)
        ty = 1.0 + (4 + r * 2 * _ROW_PT) / ax_h_pt
        t = ax.annotate(
            text,
            xy=(xa, ya + 0.02 * ymax),
            xycoords="data",
            xytext=(lo + u / w_pt * (hi - lo), ty),
            textcoords=("data", "axes fraction"),
            ha="center",
            va="bottom",
            fontsize=MS_FONT,
            color=col,
            annotation_clip=False,
            linespacing=1.05,
            arrowprops=dict(arrowstyle="-", lw=0.45, color=col, shrinkA=0, shrinkB=3),
        )
        info["marks"].append({"rt_min": xa, "status": m["status"], "text": text, "artist": t})


def _title(ax, text: str) -> None:
    ax.text(0.0, 1.03, text, transform=ax.transAxes, ha="left", va="bottom", fontsize=8)


def _no_yticks(ax, top: float) -> None:
    """Intensities are arbitrary: no y ticks (costly to lay out), just the full-scale value."""
    ax.set_yticks([])
    ax.spines["left"].set_visible(False)
    if top > 0 and math.isfinite(top):
        ax.text(
            1.0,
            1.03,
            f"full scale {_fmt_sig(top)}",
            transform=ax.transAxes,
            ha="right",
            va="bottom",
            fontsize=6,
            color="#777777",
        )


def _empty(ax, title: str, msg: str) -> None:
    _title(ax, title)
    ax.text(0.5, 0.5, msg, ha="center", va="center", transform=ax.transAxes, fontsize=7, color="#777777", wrap=True)
    ax.set_xticks([])
    ax.set_yticks([])


def _draw_apex(ax, apex, ms) -> None:
    if apex is None or len(apex) != 2:
        _empty(ax, "Spectrum at the apex", "no spectrum")
        return
    mz, it = _arr(apex[0]), _arr(apex[1])
    if mz is None or it is None or len(mz) != len(it):
        _empty(ax, "Spectrum at the apex", "no spectrum")
        return
    order = np.argsort(mz)
    mz, it = mz[order], it[order]
    ions = list(getattr(ms, "ions", None) or [])
    peaks = list(getattr(ms, "peaks", None) or [])
    apex_rt = getattr(ms, "rt_s", None)
    spectrum_of = getattr(ms, "spectrum_of", "") or ""
    if apex_rt is None:  # target absent: the spectrum is the run's main peak's
        apex_rt = getattr(ms, "spectrum_rt_s", None)
    found_mz = [
        float(getattr(i, "mz", None) or getattr(i, "theoretical_mz", 0) or 0)
        for i in ions
        if getattr(i, "found", False)
    ]
    top_mz = mz[np.argsort(it)[-8:]] if len(mz) else np.array([])
    focus = [m for m in list(found_mz) + list(top_mz) if m and math.isfinite(m)]
    if focus:
        lo, hi = max(float(mz[0]), min(focus) - 25), min(float(mz[-1]), max(focus) + 25)
        if hi - lo < 20:
            lo, hi = lo - 10, hi + 10
    else:
        lo, hi = float(mz[0]), float(mz[-1])
    m = (mz >= lo) & (mz <= hi)
    mz, it = mz[m], it[m]
    ymax = float(np.max(it)) if it.size else 1.0
    profile = len(mz) > 50 and float(np.median(np.diff(mz))) < 0.02
    if profile:
        ex, ey = envelope(mz, it, 500)  # ~1 min/max pair per pixel of the panel
        ax.plot(ex, ey, color="#888888", lw=0.5)
    else:
        keep = np.sort(np.argsort(it)[-400:])
        ax.plot(*_sticks(mz[keep], it[keep]), color="#9e9e9e", lw=0.6)
    # observed ions of the combined spectrum, coloured by status
    labelled = []
    for p in peaks:
        pm, pi = getattr(p, "mz", None), getattr(p, "intensity", None)
        if pm is None or pi is None or not lo <= pm <= hi:
            continue
        prt = getattr(p, "rt_s", None)
        if prt is not None and apex_rt is not None and abs(float(prt) - float(apex_rt)) > 30:
            continue  # another chromatographic peak: not in this spectrum
        col = STATUS_COLORS.get(getattr(p, "status", ""), "#888888")
        ax.vlines([pm], 0, [pi], color=col, lw=1.1, zorder=3)
        labelled.append((float(pi), float(pm), getattr(p, "assignment", "") or "", col))
    # the five most intense named ions (not their isotopes), labelled in two rows above the spectrum and
    # joined to their lines: labels at the line tops collide as soon as two ions are 1-2 Da apart
    big = [t for t in sorted(labelled, reverse=True) if t[2] and "isotope" not in t[2] and t[0] >= 0.04 * ymax][:5]
    top = ymax * 1.8
    w_pt = ax.get_position().width * ax.figure.get_figwidth() * _DPI
    ax_h_pt = ax.get_position().height * ax.figure.get_figheight() * _DPI
    texts = [f"{name}\n{pm:.4f}" for _, pm, name, _ in big]
    widths = [max(text_width_pt(x, 5.5) for x in t.split("\n")) for t in texts]
    pos, rows = label_rows([(pm - lo) / (hi - lo) * w_pt for _, pm, _, _ in big], widths, 0.0, w_pt, 2, 4.0)
    for (pi, pm, _name, col), text, u, r in zip(big, texts, pos, rows):
        ty = ymax / top + (4 + r * 16) / ax_h_pt
        ax.annotate(
            text,
            xy=(pm, pi),
            xycoords="data",
            xytext=(lo + u / w_pt * (hi - lo), ty),
            textcoords=("data", "axes fraction"),
            ha="center",
            va="bottom",
            fontsize=5.5,
            color=col,
            linespacing=1.05,
            annotation_clip=False,
            arrowprops=dict(arrowstyle="-", lw=0.4, color=col, shrinkA=0, shrinkB=1),
        )
    # expected ions: filled marker when found, hollow when not
    for ion in ions:
        t = getattr(ion, "theoretical_mz", None)
        if t is None or not lo <= t <= hi:
            continue
        found = bool(getattr(ion, "found", False))
        ax.plot(
            [t],
            [top * 0.97],
            marker="v",
            ms=4,
            color=STATUS_COLORS["consistent"] if found else "#b0b0b0",
            markerfacecolor=STATUS_COLORS["consistent"] if found else "none",
            zorder=4,
            clip_on=False,
        )
    ax.set_xlim(lo, hi)
    ax.set_ylim(0, top)
    if spectrum_of:
        title = f"Spectrum of the {spectrum_of}"
        title += f" at {float(apex_rt) / 60:.2f} min" if apex_rt is not None else ""
        title += " (the target is not detected)"
    else:
        title = "Spectrum at the apex"
        title += f" ({float(apex_rt) / 60:.2f} min)" if apex_rt is not None else ""
        title += "  ▼ expected ion"
    _title(ax, title)
    ax.set_xlabel("m/z", labelpad=1)
    ax.xaxis.set_major_locator(_maxn(6))
    _no_yticks(ax, ymax)


def _draw_isotopes(ax, iso: list, ms) -> None:
    rows = [r for r in iso if isinstance(r, dict)]
    if not rows:
        _empty(ax, "Isotope pattern", "not measured")
        return
    labels = [str(r.get("label", "")) for r in rows]
    theo = [float(r.get("theoretical") or 0.0) for r in rows]
    obs = [r.get("observed") for r in rows]
    obs = [float(o) if isinstance(o, (int, float)) and math.isfinite(o) else 0.0 for o in obs]
    x = np.arange(len(rows))
    ax.bar(x - 0.2, theo, 0.38, color="white", edgecolor="#555555", lw=0.7, label="theoretical")
    ax.bar(x + 0.2, obs, 0.38, color=STATUS_COLORS["consistent"], alpha=0.8, label="observed")
    ax.set_xticks(x)
    ax.set_xticklabels(labels, fontsize=6.5)
    score = getattr(ms, "isotope_score", None)
    t = "Isotope pattern"
    if isinstance(score, (int, float)) and math.isfinite(score):
        t += f" (score {score:.2f})"
    _title(ax, t)
    ax.set_ylabel("relative to M", labelpad=1)
    ax.set_ylim(0, max(theo + obs + [1.0]) * 1.15)
    ax.set_yticks([0, 0.5, 1.0])
    ax.legend(fontsize=6, frameon=False, loc="upper right")
