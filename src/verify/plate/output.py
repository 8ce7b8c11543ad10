"""Writing a plate's reports from its stored well records: results.json, results.csv, index.html."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

from ..errors import UsageError
from ..report import tables as T

PLATE_SCHEMA = "verify-plate/1"


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        tmp.write_text(text, encoding="utf-8", newline="")
        os.replace(tmp, path)
    except OSError as exc:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise UsageError(f"cannot write report ({exc.strerror})", path) from None


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
    return json.dumps({"schema": PLATE_SCHEMA, "plate": meta, "wells": wells}, indent=1, allow_nan=False) + "\n"


def results_csv(records: list[dict], extra_columns: list[str]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=T.csv_header(extra_columns), lineterminator="\n", extrasaction="ignore")
    w.writeheader()
    for r in records:
        w.writerow(T.csv_row(r, extra_columns))
    return buf.getvalue()


def write_reports(outdir: Path, meta: dict, records: list[dict], extra_columns: list[str]) -> dict[str, Path]:
    from ..report.html import plate_html

    outdir.mkdir(parents=True, exist_ok=True)
    paths = {
        "json": outdir / "results.json",
        "csv": outdir / "results.csv",
        "html": outdir / "index.html",
    }
    _atomic_write(paths["json"], results_json(meta, records))
    _atomic_write(paths["csv"], results_csv(records, extra_columns))
    _atomic_write(paths["html"], plate_html(meta, records))
    return paths
