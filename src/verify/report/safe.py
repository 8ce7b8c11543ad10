"""Values made safe for the writers: strict JSON (no NaN/inf) and CSV cells no spreadsheet runs as a formula.

JSON: the contract is strict JSON (RFC 8259 has no NaN or Infinity), so a non-finite float, wherever it
comes from (a header value, a failed fit), becomes `null`; numpy scalars become Python numbers.

CSV: a text cell that begins with `=`, `+`, `-`, `@`, a tab or a carriage return is read as a formula by
Excel, LibreOffice and most LIMS imports (CSV/formula injection). Such a cell gets a leading apostrophe
(the OWASP rule), which spreadsheets show as text and strip from the value. Numbers are left as they
are: a cell that is one plain decimal number (`-0.52`, `+3`, `1e-5`) is a number, not a formula, and a
ppm error of -0.52 stays -0.52 in the file.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Iterable
from typing import Any

__all__ = ["json_safe", "json_text", "csv_cell", "csv_text", "FORMULA_PREFIXES"]

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# one decimal number and nothing else: what a spreadsheet reads as a number, never as a formula
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def json_safe(obj: Any) -> Any:
    """A copy of `obj` that `json.dumps(..., allow_nan=False)` accepts.

    Parameters
    ----------
    obj : Any
        Nested dicts, lists, tuples, numbers, strings (a result's `to_dict()`).

    Returns
    -------
    Any
        The same structure with NaN/inf floats as None, numpy scalars and arrays as Python values,
        tuples as lists and dict keys as strings.
    """
    if isinstance(obj, bool) or obj is None or isinstance(obj, (int, str)):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    if hasattr(obj, "tolist") and callable(obj.tolist):  # numpy scalar or array
        try:
            return json_safe(obj.tolist())
        except (TypeError, ValueError):
            return str(obj)
    return obj


def json_text(obj: Any, indent: int | None = 2) -> str:
    """Strict JSON text of `obj` (non-finite numbers as null), ending in a newline."""
    return json.dumps(json_safe(obj), indent=indent, allow_nan=False) + "\n"


def csv_cell(value: Any) -> Any:
    """One CSV cell made safe to open in a spreadsheet.

    Parameters
    ----------
    value : Any
        The cell as the report computed it.

    Returns
    -------
    Any
        None and non-finite floats as "" (empty); numbers unchanged; text that a spreadsheet would run as a
        formula (first character in `FORMULA_PREFIXES`, and not a plain number) prefixed with an apostrophe.
    """
    if value is None:
        return ""
    if isinstance(value, float):
        return value if math.isfinite(value) else ""
    if isinstance(value, (bool, int)):
        return value
    text = str(value)
    if text.startswith(FORMULA_PREFIXES) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def csv_text(header: list[str], rows: Iterable[dict]) -> str:
    """CSV text (header row, then one row per dict, missing keys empty) with every cell through `csv_cell`."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=header, lineterminator="\n", extrasaction="ignore", restval="")
    w.writerow({h: csv_cell(h) for h in header})
    for r in rows:
        w.writerow({k: csv_cell(v) for k, v in r.items()})
    return buf.getvalue()
