"""Plain-text rendering of a compound result for the terminal."""

from __future__ import annotations

import textwrap

from .tables import shift_prediction_text, window_origin


def _fmt(v, nd=4):
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.{nd}f}"
    return str(v)


WIDTH = 100  # columns of a terminal report


def _table(headers: list[str], rows: list[list], indent: str = "  ", width: int = WIDTH) -> list[str]:
    """Columns padded to their widest cell; when the table is wider than `width`, the widest columns are
    narrowed (to no less than 12 characters or their header) and their cells wrap onto continuation lines."""
    cells = [[str(c) for c in r] for r in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    floor = [max(len(h), 12) for h in headers]
    while len(indent) + sum(widths) + 2 * (len(widths) - 1) > width:
        k = max(range(len(widths)), key=lambda i: widths[i] - floor[i])
        if widths[k] <= floor[k]:
            break
        widths[k] -= 1
    out = [
        (indent + "  ".join(h.ljust(w) for h, w in zip(headers, widths))).rstrip(),
        indent + "  ".join("-" * w for w in widths),
    ]
    for r in cells:
        parts = [textwrap.wrap(c, w, break_on_hyphens=False) or [""] for c, w in zip(r, widths)]
        for k in range(max(len(x) for x in parts)):
            out.append(
                (indent + "  ".join((x[k] if k < len(x) else "").ljust(w) for x, w in zip(parts, widths))).rstrip()
            )
    return out


def _wrap(text: str, first: str = "  ", rest: str = "      ", width: int = WIDTH) -> list[str]:
    return textwrap.wrap(text, width, initial_indent=first, subsequent_indent=rest, break_on_hyphens=False) or [first]


def render_text(result: dict, verbose: bool = False) -> str:
    """Human-readable report from the JSON-shaped result dict (schema verify/3), at most 100 columns.

    The verdict and its reasons come first, then the observed peak and ion tables. What the structure
    predicts (ions, 1H groups, ring windows) follows when nothing was checked, or with `verbose`; the ion
    list then holds only the polarities the LC-MS run recorded.
    """
    t = result["target"]
    lines = [f"{t['name'] or t['smiles']}"]
    lines += _wrap(t["smiles"], "  SMILES             ", " " * 21)
    lines.append(f"  formula            {t['formula']}")
    lines.append(f"  monoisotopic mass  {t['monoisotopic_mass']:.4f}")
    lines.append("")
    if result["verdict"] == "unchecked":
        lines.append("Verdict: UNCHECKED (expectation only: nothing was verified)")
    else:
        by = {"nmr": "1H NMR", "ms": "HRMS"}
        basis = " + ".join(by.get(t, t) for t in result.get("checked_by") or [])
        score = (result.get("score") or {}).get("value")
        lines.append(
            f"Verdict: {result['verdict'].upper()}"
            + (f" (checked by {basis})" if basis else "")
            + (f", score {score:.2f} of 1" if isinstance(score, (int, float)) else "")
        )
    for f in result["findings"]:
        lines += _wrap(f"[{f['severity']}] {_technique(f['code'])}{f['message']}")
    if result.get("nmr"):
        lines.append("")
        lines += render_nmr(result["nmr"])
    if result.get("ms"):
        lines.append("")
        lines += render_ms(result["ms"])
    if verbose or result["verdict"] == "unchecked":
        lines.append("")
        lines += render_expectation(result)
    return "\n".join(lines) + "\n"


def render_expectation(result: dict) -> list[str]:
    """What the structure predicts: the HRMS ions (of the run's polarities when a run was checked), the 1H
    groups with their windows and the 1,4-diazepane ring summary."""
    e = result["expected"]
    run_pols = set(((result.get("ms") or {}).get("run") or {}).get("polarities") or [])
    ions = [i for i in e["ions"] if not run_pols or i.get("polarity") in run_pols]
    lines = ["Expected ions (HRMS" + (f", {'/'.join(sorted(run_pols))} as in the run)" if run_pols else ")")]
    rows = []
    for ion in ions:
        iso = "  ".join(f"{i['label']} {i['relative'] * 100:.1f}%" for i in ion["isotopes"][1:])
        rows.append([ion["name"], f"{ion['mz']:.4f}", ion["formula"], iso])
    lines += _table(["ion", "m/z", "formula", "isotopes (of M)"], rows)
    lines.append("")
    lines.append(f"Expected 1H groups ({e['solvent'] or 'CDCl3'}; {e['total_h']} H in all)")
    rows = []
    for g in e["h_groups"]:
        lo, hi = g["window"]
        label = g["label"] + (" (exchangeable)" if g["exchangeable"] else "")
        rows.append([g["id"], f"{lo:.2f}-{hi:.2f}", f"{g['n_h']}H", g["multiplicity"], window_origin(g), label])
    lines += _table(["group", "ppm", "H", "mult", "from", "environment"], rows)
    if shift_prediction_text(e):
        lines += _wrap(shift_prediction_text(e), "  ", "  ")
    # the rings of the form the spectrum was read as (a salt's ring CH2 sit downfield of the free base's)
    species = (result.get("nmr") or {}).get("species") or {}
    rings, as_read = e.get("diazepane_rings", []), ""
    if species.get("diazepane_rings") and species.get("form") not in (None, "free base"):
        rings, as_read = species["diazepane_rings"], f" (as read: {species['form']})"
    for ring in rings:
        lines.append("")
        lines.append(f"1,4-Diazepane ring{as_read}: N1 {ring['n1_substituent']}, N4 {ring['n4_substituent']}")
        for p in ring["ring_ch2"]:
            lo, hi = p["window"]
            rot = "  (rotamers: broad/doubled)" if p["rotamers"] else ""
            lines.append(f"  {p['position']}H2 next to {p['next_to']}: {lo:.2f}-{hi:.2f} ppm{rot}")
    return lines


# which part raised a finding, from its code's prefix: a chemist reads "HRMS:" before the reason
_TECHNIQUE = {
    "nmr": "1H NMR",
    "ms": "HRMS",
    "structure": "structure",
    "target": "structure",
    "plate": "plate",
    "remedy": "next step",
}


def _technique(code: str) -> str:
    name = _TECHNIQUE.get(code.split(".", 1)[0])
    return f"{name}: " if name else ""


def render_nmr(nmr: dict) -> list[str]:
    lines = [f"1H NMR: {nmr['verdict']}"]
    for k in ("source", "solvent"):
        if nmr.get(k):
            lines += _wrap(f"{k}: {nmr[k]}", "  ", "    ")
    ref = nmr.get("referencing")
    if isinstance(ref, dict) and ref:
        conf = f", confidence {ref['confidence']}" if ref.get("confidence") else ""
        lines += _wrap(
            f"referencing: {ref.get('method', '?')}{conf}; {ref.get('detail', '')}".rstrip("; "), "  ", "    "
        )
    elif ref:
        lines += _wrap(f"referencing: {ref}", "  ", "    ")
    rows = []
    for p in nmr.get("peaks", []):
        j = p.get("j_hz") or []
        rows.append(
            [
                f"{p['ppm']:.3f}",
                p.get("multiplicity", ""),
                ", ".join(f"{x:.1f}" for x in j) if j else "",
                _fmt(p.get("integral"), 2),
                p["status"],
                p.get("assignment") or "",
                p.get("note") or "",
            ]
        )
    lines += _table(["ppm", "mult", "J (Hz)", "H", "status", "assignment", "note"], rows)
    for g in nmr.get("groups", []):
        if g.get("found"):
            continue
        if not g.get("exchangeable"):
            what = "missing"
        elif str(g.get("note", "")).startswith("exchanged for D"):
            what = "not seen (exchanged for D, as expected)"
        else:
            what = "not seen (exchangeable, optional)"
        lines += _wrap(
            f"{what}: {g['id']} {g['n_h']}H {g['label']} ({g['window'][0]:.2f}-{g['window'][1]:.2f} ppm)", "  ", "    "
        )
    return lines


def render_ms(ms: dict) -> list[str]:
    lines = [f"HRMS: {ms['verdict']}"]
    if ms.get("source"):
        lines += _wrap(f"source: {ms['source']}", "  ", "    ")
    if ms.get("rt_s") is not None:  # people read retention times in minutes, as the instrument software shows them
        lines.append(f"  retention time: {ms['rt_s'] / 60:.2f} min")
    if ms.get("isotope_score") is not None:
        lines.append(f"  isotope score: {ms['isotope_score']:.2f} (1 = the pattern the formula predicts)")
    if ms.get("ms_purity") is not None:
        lines.append(f"  MS purity (ion current): {100 * ms['ms_purity']:.0f} %")
    rows = []
    for p in ms.get("peaks", []):
        rows.append(
            [
                p.get("assignment") or "",
                _fmt(p.get("mz"), 4),
                _fmt(p.get("theoretical_mz"), 4),
                _fmt(p.get("ppm_error"), 1),
                _fmt(p.get("isotope_score"), 2),
                _fmt(p["rt_s"] / 60 if isinstance(p.get("rt_s"), (int, float)) else None, 2),
                p["status"],
                p.get("note") or "",
            ]
        )
    lines += _table(["ion", "m/z obs", "m/z theo", "ppm", "iso", "RT min", "status", "note"], rows)
    return lines
