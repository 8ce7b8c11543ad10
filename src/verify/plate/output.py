"""Writing a plate's reports from its stored well records: results.json, results.csv, index.html."""

from __future__ import annotations

from pathlib import Path

from ..report import tables as T
from ..report.atomic import output_error, write_atomic
from ..report.safe import csv_text, json_text

PLATE_SCHEMA = "verify-plate/1"


def results_json(meta: dict, records: list[dict]) -> str:
    wells = []
    for r in records:
        wells.append(
            {
                "well": r["well"],
                "compound_id": r.get("compound_id", ""),
                "smiles": r.get("smiles", ""),
                "verdict": r.get("verdict") or "error",
                "status": r.get("status") or "error",
                "error": r.get("error"),
                "part_errors": r.get("part_errors") or {},
                "data": r.get("sources") or {},
                "extra": r.get("extra") or {},
                "notes": r.get("notes") or [],
                "result": r.get("result"),
            }
        )
    return json_text({"schema": PLATE_SCHEMA, "plate": meta, "wells": wells}, indent=1)


def results_csv(records: list[dict], extra_columns: list[str]) -> str:
    """results.csv text; cells a spreadsheet would run as formulas are neutralised (see verify.report.safe)."""
    return csv_text(T.csv_header(extra_columns), (T.csv_row(r, extra_columns) for r in records))


def write_reports(outdir: Path, meta: dict, records: list[dict], extra_columns: list[str]) -> dict[str, Path]:
    from ..report.html import plate_html, well_file, well_page_html

    try:
        outdir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise output_error(exc, outdir, "report folder") from None
    paths = {
        "json": outdir / "results.json",
        "csv": outdir / "results.csv",
        "html": outdir / "index.html",
    }
    write_atomic(paths["json"], results_json(meta, records), "report")
    write_atomic(paths["csv"], results_csv(records, extra_columns), "report")
    # each well's full report on its own page: the overview stays small (a 384-well plate with every
    # well's figures inline was 40 MB and took 9 s to open)
    wells_dir = outdir / "wells"
    try:
        wells_dir.mkdir(exist_ok=True)
    except OSError as exc:
        raise output_error(exc, wells_dir, "report folder") from None
    names = [r["well"] for r in records]
    written = set()
    for k, r in enumerate(records):
        page = outdir / well_file(r["well"])
        write_atomic(
            page,
            well_page_html(meta, r, names[k - 1] if k else None, names[k + 1] if k + 1 < len(names) else None),
            "report",
        )
        written.add(page.name)
    for old in wells_dir.glob("*.html"):
        if old.name not in written:  # a well no longer in the map: its old page must not linger
            try:
                old.unlink()
            except OSError:
                pass
    write_atomic(paths["html"], plate_html(meta, records), "report")
    return paths
