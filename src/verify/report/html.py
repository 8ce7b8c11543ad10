"""Self-contained HTML reports (no network: CSS inline, figures as inline data URIs).

* `compound_html(result)`: the page for `verify TARGET --format html -o FILE`.
* `compound_section(result, ...)`: the same content as one `<section>`, which the plate runner renders
  in its worker processes and stores, so that `plate_html(...)` can assemble index.html from stored
  fragments without recomputing anything.
* `error_section(...)`: the section of a well that could not be checked.
* `plate_html(meta, records)`: a plate's index.html, the overview only (grid, verdict filter, one summary row
  per well), small enough for 384 wells; `well_page_html(...)` each well's own page under `wells/`
  (`well_file`), with links back to the plate and to the wells beside it. Plain files: they work from disk.

The page shell, the compound page and section, the error section, the plate overview and the well page are
Jinja2 templates (`templates/*.html.j2`, autoescaped, undefined names an error; shared pieces in
macros.html.j2, the environment in verify.report.templating); this module gathers what they show, and
verify.report.tables the rows of the tables inside a section. No markup is built by hand with escape().

A `partial` plate well (one of its two data files unreadable) is drawn with its verdict colour, a dashed
error-coloured border and the failed part's message where that part's figures would be.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from typing import Any

from . import tables as T
from .templating import render, render_macro

VERDICT_ORDER = ("consistent", "suspicious", "inconsistent", "unchecked", "error")
VERDICT_SYMBOL = {"consistent": "✓", "suspicious": "?", "inconsistent": "✗", "unchecked": "–", "error": "!"}

CSS = """
:root{--ok:#2e7d32;--sus:#f2a900;--bad:#c62828;--err:#6d4c8d;--unc:#90a4ae;--empty:#eceff1;--ink:#1f2328;--muted:#667;}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:var(--ink);
 margin:0;background:#f6f7f9}
header.top{background:#fff;border-bottom:1px solid #dde;padding:14px 24px}
header.top h1{margin:0 0 4px;font-size:22px}
.meta{color:var(--muted);font-size:12.5px;margin:0}
main{padding:12px 24px 40px;max-width:1320px}
h2{font-size:18px;margin:0 0 8px;display:flex;align-items:center;gap:10px;flex-wrap:wrap}
h3{font-size:15px;margin:14px 0 6px}
.muted{color:var(--muted)}
code{font-size:11px;color:#777}
.vd{display:inline-block;padding:1px 9px;border-radius:10px;color:#fff;font-size:12.5px;font-weight:600}
.vd-consistent{background:var(--ok)}.vd-suspicious{background:var(--sus);color:#222}
.score{font-size:13px;font-weight:400;color:var(--muted)}
.vd-inconsistent{background:var(--bad)}.vd-error{background:var(--err)}.vd-unchecked{background:var(--unc)}.vd-none{background:#999}
.st{display:inline-block;padding:0 6px;border-radius:8px;font-size:11.5px;border:1px solid}
.st-consistent{color:#1b5e20;border-color:#81c784;background:#e8f5e9}
.st-solvent{color:#37546d;border-color:#9fb4c7;background:#eef3f8}
.st-impurity{color:#8a4a00;border-color:#f0b46a;background:#fff4e5}
.st-suspicious{color:#b71c1c;border-color:#ef9a9a;background:#ffebee}
.gm{font-size:11.5px;font-weight:600}.gm-found{color:var(--ok)}.gm-missing,.gm-not{color:var(--bad)}
.gm-not.found{color:var(--bad)}
section.well{background:#fff;border:1px solid #dde;border-left:6px solid #999;border-radius:6px;
 padding:14px 18px;margin:18px 0}
section.v-consistent{border-left-color:var(--ok)}section.v-suspicious{border-left-color:var(--sus)}
section.v-inconsistent{border-left-color:var(--bad)}section.v-error{border-left-color:var(--err)}
section.v-unchecked{border-left-color:var(--unc)}
.wellid{font-family:ui-monospace,Menlo,Consolas,monospace;background:#263238;color:#fff;padding:1px 7px;
 border-radius:4px;font-size:15px}
.cols{display:flex;gap:18px;flex-wrap:wrap;align-items:flex-start}
.struct{flex:0 0 320px;border:1px solid #eee;border-radius:4px;background:#fff}
.struct img{display:block;width:320px;height:240px}
.facts{flex:1 1 420px;min-width:300px}
table.kv{border-collapse:collapse;font-size:13px}
table.kv th{text-align:left;font-weight:500;color:var(--muted);padding:1px 12px 1px 0;vertical-align:top;white-space:nowrap}
table.kv td{padding:1px 0;word-break:break-all}
table.tbl{border-collapse:collapse;font-size:12.5px;margin:4px 0 8px;width:100%}
table.tbl th,table.tbl td{border-bottom:1px solid #e6e6ea;padding:2px 8px;text-align:left;vertical-align:top}
table.tbl th{background:#f1f3f5;font-weight:600}
table.tbl td:first-child{white-space:nowrap}
ul.findings{margin:4px 0;padding-left:18px}
ul.findings li{margin:2px 0}
li.sev-error b{color:var(--bad)}li.sev-warning b{color:#b07d00}li.sev-info b{color:var(--muted)}
img.plot{display:block;width:100%;max-width:1000px;height:auto;margin:4px 0}
details>summary{cursor:pointer;color:#345;font-size:13px;margin:4px 0}
.part{margin-top:10px;border-top:1px solid #eee;padding-top:4px}
.errbox{background:#f6f0fb;border:1px solid #c9b3de;border-radius:4px;padding:8px 12px;font-family:ui-monospace,monospace;
 font-size:12.5px;white-space:pre-wrap;word-break:break-word}
/* plate */
.plate-wrap{display:flex;gap:28px;flex-wrap:wrap;align-items:flex-start;margin:14px 0}
table.plate{border-collapse:separate;border-spacing:3px;background:#fff;padding:8px;border:1px solid #dde;
 border-radius:8px;table-layout:fixed}
table.plate th{font-size:11px;color:var(--muted);font-weight:600;padding:0 2px;width:auto}
table.plate thead th{height:16px}
table.plate td{width:74px;max-width:74px;height:50px;border-radius:50%/45%;text-align:center;font-size:9px;padding:0;
 background:var(--empty);border:1px solid #d5d9de;overflow:hidden}
table.plate.p384 td{width:34px;max-width:34px;height:26px;font-size:9px}
table.plate td a{display:flex;flex-direction:column;justify-content:center;align-items:center;width:100%;height:100%;
 color:inherit;text-decoration:none;overflow:hidden}
table.plate td a:hover{outline:2px solid #263238;border-radius:50%/45%}
table.plate td .sym{font-size:14px;font-weight:700;line-height:1.05}
table.plate.p384 td .sym{font-size:11px}
table.plate td .cid{display:-webkit-box;-webkit-line-clamp:2;-webkit-box-orient:vertical;overflow:hidden;
 word-break:break-all;line-height:1.15;max-width:64px;padding:0 2px}
td.v-consistent{background:var(--ok)!important;color:#fff;border-color:#1b5e20!important}
td.v-suspicious{background:var(--sus)!important;color:#222;border-color:#b07d00!important}
td.v-inconsistent{background:var(--bad)!important;color:#fff;border-color:#8e0000!important}
td.v-error{background:var(--err)!important;color:#fff;border-color:#4a2f66!important}
td.v-unchecked{background:var(--unc)!important;color:#fff;border-color:#607d8b!important}
td.partial{border:3px dashed var(--err)!important}
section.partial{border-right:6px dashed var(--err)}
.counts{display:flex;flex-direction:column;gap:6px;min-width:220px}
.counts button{display:flex;justify-content:space-between;gap:14px;align-items:center;border:1px solid #ccd;
 background:#fff;border-radius:6px;padding:6px 10px;font:inherit;cursor:pointer;text-align:left}
.counts button.active{outline:2px solid #345}
.counts .n{font-weight:700;font-size:16px}
.sw{display:inline-block;width:12px;height:12px;border-radius:50%;margin-right:6px;vertical-align:-1px}
table.summary td.reasons{font-size:12px;color:#444}
table.summary td:nth-child(2){white-space:nowrap}
.hidden{display:none!important}
nav.wellnav{font-size:13px;margin-bottom:4px}nav.wellnav a{color:#35507a}
/* print: one A4/Letter page per compound (structure, verdict, findings, spectra with expansions, the observed
   peak and ion tables); the explanations and the expectation tables stay on screen */
@page{size:A4;margin:7mm}
@media print{
 body{font-size:8.5px;line-height:1.25;margin:0}
 header.top{display:none}
 table.kv{font-size:8px}code{font-size:7.5px}.vd{font-size:8px;padding:0 5px}.st{font-size:7px;padding:0 3px}
 ul.findings{margin:1px 0;padding-left:12px}ul.findings li{margin:0}.wellid{font-size:10px}
 h2{font-size:12px;margin:0 0 2px}h3{font-size:10px;margin:2px 0 1px}
 .cols{gap:6px;flex-wrap:nowrap}.struct{flex:0 0 150px}.struct img{width:150px;height:112px}
 .facts{min-width:0}table.kv th,table.kv td{padding:0 6px 0 0}
 p.explain,details.print-skip,details>summary,.plate-wrap,.counts{display:none!important}
 details:not(.print-skip){display:block}
 table.tbl{font-size:7px;margin:1px 0 2px}table.tbl th,table.tbl td{padding:0 3px;line-height:1.15}
 img.plot{max-width:100%;max-height:62mm;width:auto;margin:1px auto}
 .part{margin-top:2px;padding-top:1px}
 section.well{break-inside:auto;break-before:page;border:none;box-shadow:none;padding:0;margin:0}
 main>section.well:first-of-type,body>section.well:first-of-type{break-before:auto}
 .counts button{border:none}}
"""

FILTER_JS = """
(function(){
  var buttons=document.querySelectorAll('.counts button[data-filter]');
  function apply(v){
    document.querySelectorAll('[data-verdict]').forEach(function(el){
      if(el.tagName==='TD')return;
      var hit=el.getAttribute('data-verdict')===v || el.getAttribute('data-status')===v;
      el.classList.toggle('hidden', v!=='all' && !hit);
    });
    buttons.forEach(function(b){b.classList.toggle('active', b.getAttribute('data-filter')===v && v!=='all');});
  }
  buttons.forEach(function(b){b.addEventListener('click',function(){
    var v=b.getAttribute('data-filter');
    apply(b.classList.contains('active')?'all':v);
  });});
})();
"""


def _render(template: str, **context) -> str:
    """A whole page from its template, with the stylesheet."""
    from markupsafe import Markup

    return render(template, css=Markup(CSS), **context)


def _render_fragment(template: str, **context) -> str:
    """A template that is a part of a page (no CSS, no page shell)."""
    return render(template, **context)


def _figure(svg: str | None, alt: str, error: str = "", cls: str = "plot") -> dict:
    """A figure for the templates: its data URI (empty when there is none) and the note shown instead."""
    from .plots import svg_data_uri

    return {"uri": svg_data_uri(svg) if svg else "", "alt": alt, "cls": cls, "error": error}


def _safe_plot(fn, *args) -> tuple[str | None, str]:
    """Run a plotting function; a failure becomes a note, never a lost report."""
    try:
        return fn(*args), ""
    except Exception as exc:  # a plot must not cost the well its result
        return None, f"figure could not be drawn ({exc.__class__.__name__}: {exc})"


def _num(v, nd=4, suffix="") -> str:
    if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
        return f"{v:.{nd}f}{suffix}"
    return ""


def _verdict_badge(v: str | None) -> str:
    """A verdict badge (Markup)."""
    return render_macro("macros.html.j2", "badge", v)


def _score_text(d: dict) -> str:
    """The compound's score as shown next to its verdict ("" when unchecked)."""
    v = (d.get("score") or {}).get("value")
    return f"{v:.2f}" if isinstance(v, (int, float)) and math.isfinite(v) else ""


def _facts(d: dict, part_errors: dict, sources: dict | None, extra: dict | None) -> list:
    """The compound's key-value facts: (label, text or Markup); empty values are left out by the template."""
    from markupsafe import Markup

    code = Markup("<code>{}</code>").format
    t = d.get("target", {})
    nmr, ms = d.get("nmr"), d.get("ms")
    no_data = Markup('<span class="muted">no data</span>')
    cuts = (d.get("score") or {}).get("cuts") or {}
    facts = [
        ("name", t.get("name") or ""),
        ("SMILES", code(t.get("smiles", ""))),
        (
            "as given",
            code(t["input_smiles"]) if t.get("input_smiles") and t.get("input_smiles") != t.get("smiles") else "",
        ),
        ("formula", t.get("formula", "")),
        ("monoisotopic mass", _num(t.get("monoisotopic_mass"), 4)),
        (
            "score",
            f"{_score_text(d)} (consistent from {cuts.get('consistent')}, inconsistent below "
            f"{cuts.get('inconsistent')})"
            if _score_text(d)
            else "",
        ),
        ("1H NMR", Markup(_part_badge(nmr, part_errors.get("nmr"), no_data))),
        ("HRMS", Markup(_part_badge(ms, part_errors.get("ms"), no_data))),
    ]
    if nmr:
        facts.append(("NMR solvent", T.fmt(nmr.get("solvent"))))
    if ms:
        mi = T.main_ion(ms)
        if mi:
            facts.append(
                (
                    "main ion",
                    f"{mi.get('name', '')} {_num(mi.get('mz'), 4)} ({_num(mi.get('ppm_error'), 1, ' ppm')})".strip(),
                )
            )
        rt = ms.get("rt_s")
        facts.append(("RT", _num(rt / 60 if isinstance(rt, (int, float)) else None, 2, " min")))
        facts.append(("isotope score", _num(ms.get("isotope_score"), 2)))
        pur = ms.get("ms_purity")
        facts.append(("MS purity", _num(pur * 100 if isinstance(pur, (int, float)) else None, 1, " %")))
    facts += [(k, code(str(v))) for k, v in (sources or {}).items() if v]
    facts += [(k, str(v)) for k, v in (extra or {}).items() if v not in (None, "")]
    return facts


def _table(summary: str, html: str, open_: bool = False, print_skip: bool = False) -> list[dict]:
    """One collapsible table for the templates ([] when the table is empty)."""
    from markupsafe import Markup

    return [{"summary": summary, "html": Markup(html), "open": open_, "print_skip": print_skip}] if html else []


def compound_section(
    result: Any,
    well: str | None = None,
    compound_id: str | None = None,
    extra: dict | None = None,
    data: dict | None = None,
    sources: dict | None = None,
    part_errors: dict | None = None,
) -> str:
    """One compound's report as a `<section>` (templates/section.html.j2): structure, facts, findings, NMR and
    HRMS figures/tables.

    `data` is `result.to_dict()` when the caller already has it; `sources` names the data files shown;
    `part_errors` ({"nmr"|"ms": message}) marks a technique whose data could not be read (a partial well).
    """
    from markupsafe import Markup

    from .plots import ms_panels_svg, nmr_spectrum_svg, structure_svg

    part_errors = part_errors or {}
    d = data if data is not None else result.to_dict()
    t = d.get("target", {})
    title = compound_id or t.get("name") or t.get("smiles", "")
    target = getattr(result, "target", None)
    expectation = getattr(result, "expectation", None)
    nmr_obj, ms_obj = getattr(result, "nmr", None), getattr(result, "ms", None)
    if nmr_obj is not None and getattr(nmr_obj, "expectation", None) is not None:
        expectation = nmr_obj.expectation
    structure = _figure(None, "", "no structure", "mol")
    if target is not None and getattr(target, "mol", None) is not None:
        svg, err = _safe_plot(structure_svg, target.mol, 320, 240, getattr(expectation, "h_groups", None))
        structure = _figure(svg, f"structure of {title}", err, "mol")
    nmr, ms = d.get("nmr"), d.get("ms")

    nmr_part, nmr_tables = None, []
    if nmr_obj is not None and nmr:
        svg, err = _safe_plot(nmr_spectrum_svg, nmr_obj)
        nmr_part = {"verdict": nmr.get("verdict"), "figure": _figure(svg, "processed 1H spectrum", err)}
        nmr_tables = _table("Expected groups and integrals", T.nmr_group_table(nmr), True, True) + _table(
            f"Observed peaks ({len(nmr.get('peaks') or [])})", T.nmr_peak_table(nmr), True
        )
    else:
        nmr_tables = _table("Expected 1H groups", T.expected_group_table(d.get("expected") or {}))

    ms_part, ms_tables = None, []
    if ms_obj is not None and ms:
        svg, err = _safe_plot(ms_panels_svg, ms_obj)
        ms_part = {
            "verdict": ms.get("verdict"),
            "figure": _figure(svg, "chromatogram, spectrum and isotope pattern", err),
        }
        ms_tables = (
            _table("Expected ions", T.ms_ion_table(ms), True, True)
            + _table(f"Observed ions ({len(ms.get('peaks') or [])})", T.ms_peak_table(ms), True)
            + _table("Chromatographic peaks", T.ms_chrom_table(ms))
        )
    else:
        ions = (d.get("expected") or {}).get("ions") or []
        rows = [[i.get("name", ""), T.fmt(i.get("mz"), 4), i.get("formula", "")] for i in ions]
        ms_tables = _table("Expected ions", T.html_table(["ion", "m/z", "formula"], rows) if rows else "")

    return _render_fragment(
        "section.html.j2",
        verdict=d.get("verdict", ""),
        partial=bool(part_errors),
        anchor=f"well-{well}" if well else "compound",
        well=well or "",
        title=title,
        structure=structure,
        facts=_facts(d, part_errors, sources, extra),
        findings=Markup(T.findings_list(d.get("findings") or [])),
        nmr=nmr_part,
        nmr_error=part_errors.get("nmr") or "",
        nmr_tables=nmr_tables,
        ms=ms_part,
        ms_error=part_errors.get("ms") or "",
        ms_tables=ms_tables,
    )


def _part_badge(part: dict | None, error: str | None, empty: str = "") -> str:
    """One technique's verdict badge; `error` (its message on hover) when its data could not be checked;
    `empty` (markup) without either."""
    return render_macro("macros.html.j2", "part_badge", (part or {}).get("verdict"), error or "", empty)


def error_section(
    well: str | None,
    compound_id: str,
    smiles: str,
    message: str,
    mol=None,
    extra: dict | None = None,
    sources: dict | None = None,
) -> str:
    """The section of a well that could not be checked (templates/error_section.html.j2): what went wrong,
    and what was given."""
    from markupsafe import Markup

    structure = ""
    if mol is not None:
        from .plots import structure_svg, svg_data_uri

        svg, _ = _safe_plot(structure_svg, mol, 320, 240, None)
        structure = svg_data_uri(svg) if svg else ""
    facts = [("SMILES", Markup("<code>{}</code>").format(smiles) if smiles else "")]
    facts += [(k, Markup("<code>{}</code>").format(str(v))) for k, v in (sources or {}).items() if v]
    facts += [(k, str(v)) for k, v in (extra or {}).items() if v not in (None, "")]
    return _render_fragment(
        "error_section.html.j2",
        anchor=f"well-{well}" if well else "compound",
        well=well or "",
        compound_id=compound_id,
        structure=structure,
        message=message,
        facts=facts,
    )


def compound_html(result: Any) -> str:
    """A self-contained page for one compound (`verify TARGET --format html -o FILE`), from
    templates/compound.html.j2."""
    from markupsafe import Markup

    d = result.to_dict()
    t = d.get("target", {})
    title = t.get("name") or t.get("smiles", "compound")
    sources = {}
    for part in ("nmr", "ms"):
        if d.get(part) and d[part].get("source"):
            sources[f"{'NMR' if part == 'nmr' else 'LC-MS'} data"] = d[part]["source"]
    return _render(
        "compound.html.j2",
        title=f"verify: {title}",
        heading=title,
        verdict=d.get("verdict"),
        score=_score_text(d),
        cuts=(d.get("score") or {}).get("cuts") or {},
        version=_version(),
        when=_now(),
        section=Markup(compound_section(result, data=d, sources=sources)),
        script="",
    )


def _version() -> str:
    from .. import __version__

    return __version__


def _now() -> str:
    return _dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")


# ---------------------------------------------------------------------------------------------- plate
def plate_html(meta: dict, records: list[dict]) -> str:
    """index.html of a plate from stored well records (each with well, compound_id, verdict, error,
    fragment, result, extra). `meta`: name, map, rows, cols, created, counts, elapsed_s...
    Rendered from templates/plate.html.j2 (autoescaped); each well links to its page (`well_file`)."""
    from markupsafe import Markup

    rows_letters = meta.get("rows") or "ABCDEFGH"
    ncols = int(meta.get("cols") or 12)
    by_well = {r["well"]: r for r in records}
    counts = {v: 0 for v in VERDICT_ORDER}
    for r in records:
        counts[r.get("verdict") or "error"] = counts.get(r.get("verdict") or "error", 0) + 1

    big = len(rows_letters) > 8
    grid = []
    for row in rows_letters:
        cells = []
        for c in range(1, ncols + 1):
            w = f"{row}{c:02d}" if meta.get("padded") else f"{row}{c}"
            r = by_well.get(w)
            if r is None:
                cells.append({"empty": True, "well": w})
                continue
            v = r.get("verdict") or "error"
            partial = r.get("status") == "partial"
            tip = f"{w} {r.get('compound_id', '')}: {v}" + (" (partial: a data file is unreadable)" if partial else "")
            why = T.reasons(r.get("result"), r.get("error"), limit=3)
            if why:
                tip += f" — {why}"
            cells.append(
                {
                    "empty": False,
                    "well": w,
                    "verdict": v,
                    "partial": partial,
                    "href": well_file(w),
                    "tip": tip,
                    "cid": None if big else r.get("compound_id", ""),
                    "symbol": VERDICT_SYMBOL.get(v, ""),
                }
            )
        grid.append({"letter": row, "cells": cells})

    colors = {
        "consistent": "var(--ok)",
        "suspicious": "var(--sus)",
        "inconsistent": "var(--bad)",
        "unchecked": "var(--unc)",
        "error": "var(--err)",
    }
    buttons = [
        {
            "filter": v,
            "count": counts.get(v, 0),
            "swatch": f"background:{colors[v]}",
            "label": f"{VERDICT_SYMBOL[v]} {v}",
            "title": "",
        }
        for v in VERDICT_ORDER
    ]
    n_partial = sum(r.get("status") == "partial" for r in records)
    if n_partial:  # also counted under their verdict above; this button shows them across verdicts
        buttons.append(
            {
                "filter": "partial",
                "count": n_partial,
                "swatch": "border:2px dashed var(--err)",
                "label": "partial",
                "title": "one data file unreadable: verdict from the other technique, at best suspicious",
            }
        )

    rows = []
    for r in records:
        v = r.get("verdict") or "error"
        res = r.get("result") or {}
        nmr, ms = res.get("nmr"), res.get("ms")
        mi = T.main_ion(ms)
        perr = r.get("part_errors") or {}
        rows.append(
            {
                "well": r["well"],
                "href": well_file(r["well"]),
                "verdict": v,
                "partial": r.get("status") == "partial",
                "compound_id": r.get("compound_id", ""),
                "badge": Markup(_verdict_badge(v)),
                "nmr_badge": Markup(_part_badge(nmr, perr.get("nmr"))),
                "ms_badge": Markup(_part_badge(ms, perr.get("ms"))),
                "score": _score_text(res),
                "ppm": _num(mi.get("ppm_error"), 1) if mi else "",
                "purity": _num(ms.get("ms_purity") * 100, 0, " %")
                if ms and isinstance(ms.get("ms_purity"), (int, float))
                else "",
                "reasons": T.reasons(res, r.get("error"), limit=4),
            }
        )
    elapsed = meta.get("elapsed_s")
    meta_line = Markup(" · ").join(
        x
        for x in (
            Markup("map <code>{}</code>").format(str(meta.get("map", ""))),
            f"{len(records)} wells",
            str(meta.get("created", "")),
            f"verify {meta.get('verify_version', _version())}",
            f"run {elapsed:.1f} s" if isinstance(elapsed, (int, float)) else "",
        )
        if x
    )
    return _render(
        "plate.html.j2",
        title=plate_page_title(meta),
        meta_line=meta_line,
        big=big,
        columns=list(range(1, ncols + 1)),
        grid=grid,
        buttons=buttons,
        n_wells=len(records),
        rows=rows,
        script=Markup(FILTER_JS),
    )


def plate_page_title(meta: dict) -> str:
    """The plate's title: `--title`, else the map's name as plate_title() made it."""
    return str(meta.get("title") or meta.get("name") or "plate")


def well_file(well: str) -> str:
    """Path of a well's page relative to the plate's index.html (`wells/A1.html`); characters that do not
    belong in a file name are replaced by `_`."""
    return f"wells/{re.sub(r'[^A-Za-z0-9_-]', '_', str(well)) or 'well'}.html"


def well_page_html(meta: dict, record: dict, previous: str | None = None, following: str | None = None) -> str:
    """One well's page (`wells/<well>.html` beside index.html): its full report section, a link back to the
    plate overview and to the wells before and after it in the map. `record` as for plate_html.
    Rendered from templates/well.html.j2."""
    from markupsafe import Markup

    well = str(record["well"])
    title = plate_page_title(meta)
    section = record.get("fragment") or error_section(
        well, record.get("compound_id", ""), record.get("smiles", ""), record.get("error") or "no report stored"
    )
    return _render(
        "well.html.j2",
        title=f"{well} {record.get('compound_id', '')} · {title}",
        plate_title=title,
        well=well,
        compound_id=str(record.get("compound_id", "")),
        section=Markup(section),
        previous={"well": previous, "href": well_file(previous)} if previous else None,
        following={"well": following, "href": well_file(following)} if following else None,
        script="",
    )
