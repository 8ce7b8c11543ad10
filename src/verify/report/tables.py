"""Tables for the reports: HTML tables from the JSON-shaped result (schema verify/3) and the plate CSV.

Everything here reads plain dicts (a result's `to_dict()` or a stored plate record), so the same
tables can be rebuilt from the results store without recomputing anything.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from .templating import render_macro

# results.csv: fixed columns first, then the plate map's extra columns.
CSV_COLUMNS = [
    "well",
    "compound_id",
    "smiles",
    "verdict",
    "score",
    "nmr_verdict",
    "ms_verdict",
    "main_ion_ppm_error",
    "ms_purity",
    "reasons",
    "part_errors",  # a data file that could not be read, with its message (partial and error wells)
]
PART_LABELS = {"nmr": "1H NMR", "ms": "LC-MS"}


def part_errors_text(part_errors: dict | None) -> str:
    """{"nmr": msg, "ms": msg} as one line: `1H NMR: msg; LC-MS: msg` (results.csv, console)."""
    return "; ".join(f"{PART_LABELS.get(k, k)}: {m}" for k, m in (part_errors or {}).items())


def fmt(v: Any, nd: int = 2) -> str:
    if v is None or v == "":
        return ""
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        if not math.isfinite(v):
            return ""
        out = f"{v:.{nd}f}"
        return out[1:] if out.startswith("-") and float(out) == 0 else out
    if isinstance(v, (list, tuple)):
        return ", ".join(fmt(x, nd) for x in v)
    return str(v)


def badge(status: str | None, kind: str = "st"):
    """A status badge (Markup; "" without a status)."""
    return render_macro("macros.html.j2", "status_badge", kind, status) if status else ""


def html_table(headers: list[str], rows: Iterable[list], cls: str = "tbl") -> str:
    """A table (templates/macros.html.j2 `data_table`); cells are text, escaped there, or Markup badges.
    "" when there is no row."""
    rows = [[c if hasattr(c, "__html__") else str(c) for c in r] for r in rows]
    return str(render_macro("macros.html.j2", "data_table", headers, rows, cls)) if rows else ""


# ------------------------------------------------------------------------------------------------ NMR
def nmr_peak_table(nmr: dict) -> str:
    rows = []
    for p in nmr.get("peaks") or []:
        rng = p.get("range") or []
        rows.append(
            [
                fmt(p.get("ppm"), 3),
                f"{fmt(rng[0], 2)}–{fmt(rng[1], 2)}" if len(rng) == 2 else "",
                fmt(p.get("multiplicity")),
                fmt([round(j, 1) for j in p.get("j_hz") or []], 1),
                fmt(p.get("integral"), 2),
                badge(p.get("status")),
                fmt(p.get("assignment")),
                fmt(p.get("note")),
            ]
        )
    return html_table(
        ["δ (ppm)", "range", "mult", "J (Hz)", "H (integral)", "status", "assignment", "note"], rows, "tbl peaks"
    )


def nmr_group_table(nmr: dict) -> str:
    rows = []
    for g in nmr.get("groups") or []:
        w = g.get("window") or []
        found = g.get("found")
        rows.append(
            [
                fmt(g.get("id")),
                fmt(g.get("label")),
                fmt(g.get("n_h")),
                f"{fmt(w[0], 2)}–{fmt(w[1], 2)}" if len(w) == 2 else "",
                badge("found" if found else "missing", "gm"),
                fmt(g.get("peak_ppm"), 3),
                fmt(g.get("integral"), 2),
            ]
        )
    return html_table(
        ["group", "environment", "H expected", "window (ppm)", "", "found at (ppm)", "H (integral)"], rows, "tbl groups"
    )


def window_origin(group: dict) -> str:
    """Where a group's window came from, in two words: the learned model or the hand-written rules."""
    return "model" if group.get("source") == "model" else "rules"


def shift_prediction_text(expected: dict) -> str:
    """One line on how the 1H windows were predicted (empty when nothing is recorded)."""
    sp = expected.get("shift_prediction") or {}
    if sp.get("method") == "model":
        return (
            f"windows: learned model {sp.get('model', '')} for {sp.get('model_windows', 0)} C-H atoms, "
            f"rules for the rest (exchangeable H, diazepane ring)"
        )
    return sp.get("reason", "")


def expected_group_table(expected: dict) -> str:
    rows = []
    for g in expected.get("h_groups") or []:
        w = g.get("window") or []
        rows.append(
            [
                g.get("id", ""),
                g.get("label", ""),
                fmt(g.get("n_h")),
                f"{fmt(w[0], 2)}–{fmt(w[1], 2)}" if len(w) == 2 else "",
                g.get("multiplicity", ""),
                window_origin(g),
            ]
        )
    return html_table(["group", "environment", "H", "window (ppm)", "mult", "window from"], rows, "tbl groups")


# ----------------------------------------------------------------------------------------------- HRMS
def ms_ion_table(ms: dict) -> str:
    rows = []
    for i in ms.get("ions") or []:
        if not isinstance(i, dict):
            continue
        found = i.get("found")
        rows.append(
            [
                fmt(i.get("name")),
                fmt(i.get("theoretical_mz"), 4),
                badge("found" if found else "not found", "gm"),
                fmt(i.get("mz"), 4),
                fmt(i.get("ppm_error"), 1),
                _sci(i.get("intensity")),
                fmt(i.get("isotope_score"), 2),
            ]
        )
    return html_table(
        ["ion", "m/z theoretical", "", "m/z observed", "error (ppm)", "intensity", "isotope score"], rows, "tbl ions"
    )


def ms_peak_table(ms: dict) -> str:
    rows = []
    for p in ms.get("peaks") or []:
        rows.append(
            [
                fmt(p.get("mz"), 4),
                _sci(p.get("intensity")),
                fmt(p.get("theoretical_mz"), 4),
                fmt(p.get("ppm_error"), 1),
                fmt(p.get("rt_s") / 60 if isinstance(p.get("rt_s"), (int, float)) else None, 2),
                badge(p.get("status")),
                fmt(p.get("assignment")),
                fmt(p.get("note")),
            ]
        )
    return html_table(
        ["m/z", "intensity", "m/z theoretical", "error (ppm)", "RT (min)", "status", "assignment", "note"],
        rows,
        "tbl peaks",
    )


def ms_chrom_table(ms: dict) -> str:
    rows = []
    for p in ms.get("chromatographic_peaks") or []:
        share = p.get("area_share")
        rows.append(
            [
                fmt(p.get("mz"), 4),
                fmt(p.get("rt_s") / 60 if isinstance(p.get("rt_s"), (int, float)) else None, 2),
                f"{share * 100:.1f} %" if isinstance(share, (int, float)) else "",
                badge(p.get("status")),
                fmt(p.get("assignment")),
            ]
        )
    return html_table(["m/z", "RT (min)", "area share", "status", "assignment"], rows, "tbl chrom")


def _sci(v) -> str:
    if not isinstance(v, (int, float)) or not math.isfinite(v):
        return ""
    return f"{v:.3g}"


# ------------------------------------------------------------------------------------------- findings
def findings_list(findings: list[dict], empty: str = "No findings.") -> str:
    """The findings as a list, errors first (templates/macros.html.j2 `findings_list`)."""
    order = {"error": 0, "warning": 1, "info": 2}
    items = []
    for f in sorted(findings, key=lambda f: order.get(f.get("severity"), 3)):
        sev = f.get("severity", "info")
        label = "next step" if str(f.get("code", "")).startswith("remedy.") else sev
        items.append({"severity": sev, "label": label, "message": f.get("message", ""), "code": f.get("code", "")})
    return str(render_macro("macros.html.j2", "findings_list", items, empty))


# --------------------------------------------------------------------------------------- plate rows
def main_ion(ms: dict | None) -> dict | None:
    """The main ion as a dict, whatever shape `ms.main_ion` has (dict, name, or absent)."""
    if not ms:
        return None
    mi = ms.get("main_ion")
    ions = [i for i in ms.get("ions") or [] if isinstance(i, dict)]
    if isinstance(mi, dict):
        return mi
    if isinstance(mi, str):
        return next((i for i in ions if i.get("name") == mi), {"name": mi})
    return next((i for i in ions if i.get("found")), None)


def reasons(result: dict | None, error: str | None = None, limit: int = 6) -> str:
    """The findings that made the verdict (errors first, then warnings), one line."""
    if error:
        return error
    if not result:
        return ""
    fs = [f for f in result.get("findings") or [] if f.get("severity") in ("error", "warning")]
    fs.sort(key=lambda f: 0 if f.get("severity") == "error" else 1)
    msgs = []
    for f in fs:
        m = (f.get("message") or "").strip()
        if m and m not in msgs:
            msgs.append(m)
    more = len(msgs) - limit
    out = "; ".join(msgs[:limit])
    return out + (f"; (+{more} more)" if more > 0 else "")


def score_text(result: dict | None) -> str:
    """The compound's 0-1 score with 3 decimals ("" for an unchecked or failed well)."""
    v = ((result or {}).get("score") or {}).get("value")
    return f"{v:.3f}" if isinstance(v, (int, float)) and math.isfinite(v) else ""


def csv_row(rec: dict, extra_columns: list[str]) -> dict:
    """One results.csv row from a plate well record (see verify.plate.run)."""
    res = rec.get("result") or {}
    nmr, ms = res.get("nmr"), res.get("ms")
    part_errors = rec.get("part_errors") or {}
    mi = main_ion(ms)
    ppm_err = mi.get("ppm_error") if mi else None
    purity = ms.get("ms_purity") if ms else None
    row = {
        "well": rec.get("well", ""),
        "compound_id": rec.get("compound_id", ""),
        "smiles": rec.get("smiles", ""),
        "verdict": rec.get("verdict") or "error",
        "score": score_text(res),
        "nmr_verdict": nmr.get("verdict", "") if nmr else ("error" if "nmr" in part_errors else ""),
        "ms_verdict": ms.get("verdict", "") if ms else ("error" if "ms" in part_errors else ""),
        "main_ion_ppm_error": f"{ppm_err:.2f}" if isinstance(ppm_err, (int, float)) and math.isfinite(ppm_err) else "",
        "ms_purity": f"{purity:.3f}" if isinstance(purity, (int, float)) and math.isfinite(purity) else "",
        "reasons": reasons(res, rec.get("error")),
        "part_errors": part_errors_text(part_errors),
    }
    extra = rec.get("extra") or {}
    for c in extra_columns:
        key = c if c not in row else f"map_{c}"
        row[key] = extra.get(c, "")
    return row


def csv_header(extra_columns: list[str]) -> list[str]:
    return CSV_COLUMNS + [c if c not in CSV_COLUMNS else f"map_{c}" for c in extra_columns]
