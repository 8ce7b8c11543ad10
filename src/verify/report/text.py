"""Plain-text rendering of a compound result for the terminal."""

from __future__ import annotations

from .tables import shift_prediction_text, window_origin


def _fmt(v, nd=4):
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.{nd}f}"
    return str(v)


def _table(headers: list[str], rows: list[list], indent: str = "  ") -> list[str]:
    cells = [[str(c) for c in r] for r in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    line = indent + "  ".join(h.ljust(w) for h, w in zip(headers, widths))
    out = [line.rstrip(), indent + "  ".join("-" * w for w in widths)]
    for r in cells:
        out.append((indent + "  ".join(c.ljust(w) for c, w in zip(r, widths))).rstrip())
    return out


def render_text(result: dict) -> str:
    """Human-readable report from the JSON-shaped result dict (schema verify/2)."""
    t = result["target"]
    e = result["expected"]
    lines = []
    title = t["name"] or t["smiles"]
    lines.append(f"{title}")
    lines.append(f"  SMILES             {t['smiles']}")
    lines.append(f"  formula            {t['formula']}")
    lines.append(f"  monoisotopic mass  {t['monoisotopic_mass']:.4f}")
    lines.append("")
    lines.append("Expected ions (HRMS)")
    rows = []
    for ion in e["ions"]:
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
        lines.append("  " + shift_prediction_text(e))
    for ring in e.get("diazepane_rings", []):
        lines.append("")
        lines.append(
            f"1,4-Diazepane ring: N1 {ring['n1_substituent']}, N4 {ring['n4_substituent']}"
        )
        for p in ring["ring_ch2"]:
            lo, hi = p["window"]
            rot = "  (rotamers: broad/doubled)" if p["rotamers"] else ""
            lines.append(f"  {p['position']}H2 next to {p['next_to']}: {lo:.2f}-{hi:.2f} ppm{rot}")
    if result.get("nmr"):
        lines.append("")
        lines += render_nmr(result["nmr"])
    if result.get("ms"):
        lines.append("")
        lines += render_ms(result["ms"])
    lines.append("")
    if result["verdict"] == "unchecked":
        lines.append("Verdict: UNCHECKED (expectation only: nothing was verified)")
    else:
        by = {"nmr": "1H NMR", "ms": "HRMS"}
        basis = " + ".join(by.get(t, t) for t in result.get("checked_by") or [])
        lines.append(f"Verdict: {result['verdict'].upper()}" + (f" (checked by {basis})" if basis else ""))
    for f in result["findings"]:
        lines.append(f"  [{f['severity']}] {_technique(f['code'])}{f['message']}")
    return "\n".join(lines) + "\n"


# which part raised a finding, from its code's prefix: a chemist reads "HRMS:" before the reason
_TECHNIQUE = {"nmr": "1H NMR", "ms": "HRMS", "structure": "structure", "target": "structure", "plate": "plate",
              "remedy": "next step"}


def _technique(code: str) -> str:
    name = _TECHNIQUE.get(code.split(".", 1)[0])
    return f"{name}: " if name else ""


def render_nmr(nmr: dict) -> list[str]:
    lines = [f"1H NMR: {nmr['verdict']}"]
    for k in ("source", "solvent"):
        if nmr.get(k):
            lines.append(f"  {k}: {nmr[k]}")
    ref = nmr.get("referencing")
    if isinstance(ref, dict) and ref:
        conf = f", confidence {ref['confidence']}" if ref.get("confidence") else ""
        lines.append(f"  referencing: {ref.get('method', '?')}{conf}; {ref.get('detail', '')}".rstrip("; "))
    elif ref:
        lines.append(f"  referencing: {ref}")
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
        lines.append(f"  {what}: {g['id']} {g['n_h']}H {g['label']} ({g['window'][0]:.2f}-{g['window'][1]:.2f} ppm)")
    return lines


def render_ms(ms: dict) -> list[str]:
    lines = [f"HRMS: {ms['verdict']}"]
    for k in ("source", "rt_s", "isotope_score", "ms_purity"):
        if ms.get(k) is None:
            continue
        if k == "rt_s":  # people read retention times in minutes, as the instrument software shows them
            lines.append(f"  RT: {_fmt(ms[k] / 60, 2)} min")
        else:
            lines.append(f"  {k}: {_fmt(ms[k], 3)}")
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
