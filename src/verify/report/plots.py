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
import re as _re

_ROUND = _re.compile(r"(\d\.\d\d)\d+")
_PATH_D = _re.compile(r'\bd="([^"]*)"')

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
    # path data to 0.01 pt is plenty (~20 % smaller files); text content is left alone
    return _PATH_D.sub(lambda m: 'd="' + _ROUND.sub(r"\1", m.group(1)) + '"', txt)


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
    return f"{v / 10 ** e:.1f}e{e}"


def _layout_labels(xs: list[float], width: float, nrows: int) -> list[int]:
    """Greedy row assignment so that labels `width` apart do not overlap (x in data units)."""
    last = [-math.inf] * nrows
    rows = []
    for x in xs:
        for r in range(nrows):
            if abs(x - last[r]) >= width:
                last[r] = x
                rows.append(r)
                break
        else:
            r = int(np.argmin([abs(x - v) for v in last]))
            last[r] = x
            rows.append(r)
    return rows


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
        return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">'
                f'<text x="8" y="{height // 2}" font-size="13" fill="#667">structure not drawn: {n_heavy} heavy '
                f'atoms (above {MAX_DEPICTED_HEAVY_ATOMS})</text></svg>')
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
def nmr_spectrum_svg(nmr: Any, width: float = 10.5, height: float = 3.4) -> str | None:
    """Processed 1H spectrum with expected windows shaded and labelled, peaks coloured by status,
    integrals (in H) above each multiplet. None when the result has no spectrum."""
    spec = getattr(nmr, "spectrum", None)
    ppm = _arr(getattr(spec, "ppm", None))
    inten = _arr(getattr(spec, "intensity", None))
    if ppm is None or inten is None or len(ppm) != len(inten):
        return None
    peaks = list(getattr(nmr, "peaks", None) or [])
    gmatches = list(getattr(nmr, "groups", None) or [])
    windows = []
    for gm in gmatches:
        g = getattr(gm, "group", None)
        if g is None:
            continue
        lo, hi = float(getattr(g, "lo", np.nan)), float(getattr(g, "hi", np.nan))
        if math.isfinite(lo) and math.isfinite(hi):
            windows.append((min(lo, hi), max(lo, hi), getattr(g, "id", ""), getattr(g, "n_h", ""),
                            bool(getattr(gm, "found", False))))
    if not gmatches:  # no comparison ran: still shade the expectation when there is one
        for g in getattr(getattr(nmr, "expectation", None), "h_groups", None) or []:
            windows.append((float(g.lo), float(g.hi), g.id, g.n_h, True))
    windows = _merge_windows(windows)

    pmin, pmax = float(np.nanmin(ppm)), float(np.nanmax(ppm))
    xs = [w[0] for w in windows] + [w[1] for w in windows] + [float(getattr(p, "ppm", np.nan)) for p in peaks]
    xs = [x for x in xs if math.isfinite(x)]
    lo_x = min([0.0] + xs) - 0.4
    hi_x = max([5.0] + xs) + 0.5
    lo_x, hi_x = max(lo_x, pmin), min(hi_x, pmax)
    order = np.argsort(ppm)
    ppm_s, int_s = ppm[order], inten[order]
    i0, i1 = np.searchsorted(ppm_s, [lo_x, hi_x])
    x, y = ppm_s[i0:i1], int_s[i0:i1]
    if len(x) < 2:
        x, y = ppm_s, int_s
    ex, ey = envelope(x, y, 1400)

    def height_in(lo, hi):
        j0, j1 = np.searchsorted(ppm_s, [lo, hi])
        seg = int_s[j0 : max(j1, j0 + 1)]
        return float(np.max(seg)) if seg.size else 0.0

    pk = []
    for p in peaks:
        c = float(getattr(p, "ppm", np.nan))
        if not math.isfinite(c):
            continue
        lo = float(getattr(p, "lo", c - 0.01) or c - 0.01)
        hi = float(getattr(p, "hi", c + 0.01) or c + 0.01)
        lo, hi = min(lo, hi), max(lo, hi)
        pk.append((c, lo, hi, getattr(p, "status", "") or "", getattr(p, "integral", None), height_in(lo, hi)))

    ymax_all = float(np.max(y)) if y.size else 1.0
    target_h = [h for (_, _, _, st, _, h) in pk if st in ("consistent", "suspicious", "impurity")]
    top = 1.12 * max(target_h) if target_h else 1.05 * ymax_all
    if top <= 0:
        top = ymax_all or 1.0
    clipped = ymax_all > 1.25 * top

    with _rc():
        fig = _fig(width, height)
        ax = fig.add_axes((0.035, 0.15, 0.955, 0.66))
        nwin_rows = 3
        rows = _layout_labels([(w[0] + w[1]) / 2 for w in sorted(windows, key=lambda w: -(w[0] + w[1]))],
                              (hi_x - lo_x) * 0.035, nwin_rows)
        for (wlo, whi, gid, nh, found), r in zip(sorted(windows, key=lambda w: -(w[0] + w[1])), rows):
            col = WINDOW_FOUND if found else WINDOW_MISSING
            ax.axvspan(wlo, whi, color=col, alpha=0.16 if found else 0.22, lw=0, zorder=0)
            ax.text((wlo + whi) / 2, 1.02 + 0.085 * r, f"{gid}" + (f" {nh}H" if nh != "" else ""),
                    transform=ax.get_xaxis_transform(), ha="center", va="bottom", fontsize=6.5,
                    color="#2e5e2d" if found else "#b71c1c", clip_on=False)
        ax.plot(ex, ey, color=LINE, lw=0.55, zorder=2)
        lab_rows = _layout_labels([c for c, *_ in sorted(pk, key=lambda t: -t[0])], (hi_x - lo_x) * 0.03, 2)
        for (c, lo, hi, st, integ, h), r in zip(sorted(pk, key=lambda t: -t[0]), lab_rows):
            col = STATUS_COLORS.get(st, "#888888")
            j0, j1 = np.searchsorted(ppm_s, [lo, hi])
            sx, sy = ppm_s[j0:j1], int_s[j0:j1]
            if sx.size > 1:
                sx, sy = envelope(sx, sy, 200)
                ax.plot(sx, sy, color=col, lw=0.8, zorder=3)
            else:
                ax.plot([c], [h], marker="|", color=col, zorder=3)
            if integ is not None and isinstance(integ, (int, float)) and math.isfinite(integ):
                ty = min(h, top) + top * (0.03 + 0.075 * r)
                ax.text(c, ty, f"{integ:.2f}", ha="center", va="bottom", fontsize=6, color=col,
                        rotation=90 if len(pk) > 28 else 0, zorder=4)
        ax.set_xlim(hi_x, lo_x)
        ax.set_ylim(-0.06 * top, top * 1.22)
        ax.set_yticks([])
        ax.spines["left"].set_visible(False)
        ax.set_xlabel("δ 1H (ppm)", labelpad=1)
        ax.xaxis.set_major_locator(_locator(hi_x - lo_x))
        if clipped:
            ax.text(0.995, 0.98, "tallest peaks clipped", transform=ax.transAxes, ha="right", va="top",
                    fontsize=6, color="#666666")
        handles = _status_handles(fig, {p[3] for p in pk})
        if handles:
            ax.legend(handles=handles, loc="upper left", fontsize=6, frameon=False, ncol=len(handles),
                      bbox_to_anchor=(0.0, -0.07), handlelength=1.2, columnspacing=0.8, borderaxespad=0)
        return _svg(fig)


def _merge_windows(windows: list[tuple]) -> list[tuple]:
    """Groups with the same window get one shaded band and one label ("G7/G8 4H")."""
    merged: dict[tuple, list] = {}
    for lo, hi, gid, nh, found in windows:
        key = (round(lo, 2), round(hi, 2), found)
        merged.setdefault(key, []).append((lo, hi, gid, nh, found))
    out = []
    for items in merged.values():
        lo, hi, _, _, found = items[0]
        ids = "/".join(str(i[2]) for i in items)
        try:
            nh = sum(int(i[3]) for i in items)
        except (TypeError, ValueError):
            nh = ""
        out.append((lo, hi, ids, nh, found))
    return out


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
def ms_panels_svg(ms: Any, width: float = 10.5, height: float = 2.9) -> str | None:
    """Three panels: EIC with the peak marked, the apex spectrum with expected ions marked, and the
    isotope pattern observed vs theoretical. None when there is nothing to draw."""
    eic = getattr(ms, "eic", None)
    apex = getattr(ms, "apex_spectrum", None)
    iso = list(getattr(ms, "isotope_comparison", None) or [])
    if eic is None and apex is None and not iso:
        return None
    with _rc():
        fig = _fig(width, height)
        gs = fig.add_gridspec(1, 3, width_ratios=(1.0, 1.55, 0.75), left=0.055, right=0.99, bottom=0.17,
                              top=0.86, wspace=0.22)
        _draw_eic(fig.add_subplot(gs[0]), eic, ms)
        _draw_apex(fig.add_subplot(gs[1]), apex, ms)
        _draw_isotopes(fig.add_subplot(gs[2]), iso, ms)
        return _svg(fig)


def _title(ax, text: str) -> None:
    ax.text(0.0, 1.03, text, transform=ax.transAxes, ha="left", va="bottom", fontsize=8)


def _no_yticks(ax, top: float) -> None:
    """Intensities are arbitrary: no y ticks (costly to lay out), just the full-scale value."""
    ax.set_yticks([])
    ax.spines["left"].set_visible(False)
    if top > 0 and math.isfinite(top):
        ax.text(1.0, 1.03, f"full scale {_fmt_sig(top)}", transform=ax.transAxes, ha="right", va="bottom",
                fontsize=6, color="#777777")


def _empty(ax, title: str, msg: str) -> None:
    _title(ax, title)
    ax.text(0.5, 0.5, msg, ha="center", va="center", transform=ax.transAxes, fontsize=7, color="#777777",
            wrap=True)
    ax.set_xticks([])
    ax.set_yticks([])


def _draw_eic(ax, eic, ms) -> None:
    rt = _arr(getattr(eic, "rt_s", None))
    it = _arr(getattr(eic, "intensity", None))
    if rt is None or it is None or len(rt) != len(it):
        _empty(ax, "Extracted-ion chromatogram", "no chromatographic peak\nfor the expected ions")
        return
    rt_min = rt / 60.0
    if len(rt_min) > 3000:
        rt_min, it = envelope(rt_min, it, 1500)
    ax.plot(rt_min, it, color=LINE, lw=0.7)
    start, end = getattr(eic, "start_s", None), getattr(eic, "end_s", None)
    apex = getattr(eic, "apex_s", None)
    if apex is None:
        apex = getattr(ms, "rt_s", None)
    if start is not None and end is not None:
        m = (rt >= start) & (rt <= end)
        if m.any():
            ax.fill_between(rt_min[m] if len(rt_min) == len(rt) else rt[m] / 60, 0,
                            (it[m] if len(it) == len(rt) else np.interp(rt[m] / 60, rt_min, it)),
                            color=STATUS_COLORS["consistent"], alpha=0.3, lw=0)
    if apex is not None:
        a = float(apex) / 60.0
        ymax = float(np.interp(a, rt_min, it)) if len(rt_min) > 1 else float(np.max(it))
        ax.plot([a], [ymax], marker="v", color=STATUS_COLORS["consistent"], ms=5)
        ax.annotate(f"{a:.2f} min", (a, ymax), textcoords="offset points", xytext=(4, 2), fontsize=6.5)
    ion = getattr(eic, "ion", None) or ""
    _title(ax, f"EIC {ion}".strip())
    ax.set_xlabel("RT (min)", labelpad=1)
    top = max(float(np.max(it)), 1e-12) * 1.15
    ax.set_ylim(bottom=0, top=top)
    ax.xaxis.set_major_locator(_maxn(5))
    _no_yticks(ax, top / 1.15)


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
    found_mz = [float(getattr(i, "mz", None) or getattr(i, "theoretical_mz", 0) or 0) for i in ions
                if getattr(i, "found", False)]
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
        ex, ey = envelope(mz, it, 1500)
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
    big = [t for t in sorted(labelled, reverse=True) if t[2] and t[0] >= 0.04 * ymax][:5]
    placed: list[tuple[float, float]] = []
    span = hi - lo
    for pi, pm, name, col in big:
        y = pi
        for px, py in placed:  # lift a label that would sit on a neighbour's
            if abs(px - pm) < 0.09 * span and abs(py - y) < 0.16 * ymax:
                y = py + 0.17 * ymax
        placed.append((pm, y))
        ax.annotate(f"{name}\n{pm:.4f}", (pm, y), textcoords="offset points", xytext=(0, 2), ha="center",
                    va="bottom", fontsize=5.5, color=col)
    # expected ions: filled marker when found, hollow when not
    for ion in ions:
        t = getattr(ion, "theoretical_mz", None)
        if t is None or not lo <= t <= hi:
            continue
        found = bool(getattr(ion, "found", False))
        ax.plot([t], [ymax * 1.22], marker="v", ms=4, color=STATUS_COLORS["consistent"] if found else "#b0b0b0",
                markerfacecolor=STATUS_COLORS["consistent"] if found else "none", zorder=4, clip_on=False)
    ax.set_xlim(lo, hi)
    ax.set_ylim(0, ymax * 1.32)
    title = "Spectrum at the apex"
    if apex_rt is not None:
        title += f" ({float(apex_rt) / 60:.2f} min)"
    _title(ax, title + "  ▼ expected ion")
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
