"""Access to the versioned reference tables in `reference/`.

Tables are tab-separated with a `#` header block (version, sources) and one
header row. They are read once and cached; callers get plain lists of dicts.
"""

from __future__ import annotations

import csv
import functools
import os
from pathlib import Path

from .errors import InputError


def reference_dir() -> Path:
    """Folder holding the reference tables.

    `VERIFY_REFERENCE` overrides; otherwise the `reference/` folder of the
    source checkout (the package is installed editable, see README).
    """
    env = os.environ.get("VERIFY_REFERENCE")
    if env:
        return Path(env)
    here = Path(__file__).resolve()
    for parent in here.parents:
        cand = parent / "reference"
        if (cand / "adducts.tsv").is_file():
            return cand
    raise InputError("reference tables not found; set VERIFY_REFERENCE or install with `pip install -e .`")


def _convert(value: str):
    v = value.strip()
    if v == "":
        return None
    try:
        if v.lower() in ("nan",):
            return None
        if any(ch in v for ch in ".eE") or v.lstrip("+-").isdigit():
            f = float(v)
            return int(f) if v.lstrip("+-").isdigit() else f
    except ValueError:
        pass
    return v


@functools.lru_cache(maxsize=None)
def _load(name: str) -> tuple:
    path = reference_dir() / name
    if not path.is_file():
        raise InputError("reference table missing", path)
    with open(path, newline="", encoding="utf-8") as fh:
        lines = [ln for ln in fh if ln.strip() and not ln.lstrip().startswith("#")]
    reader = csv.DictReader(lines, delimiter="\t")
    rows = []
    for row in reader:
        rows.append({k.strip(): _convert(v or "") for k, v in row.items() if k is not None})
    return tuple(rows)


def table(name: str) -> list[dict]:
    """Rows of `reference/<name>` as dicts (numbers converted, blanks None)."""
    return [dict(r) for r in _load(name)]


@functools.lru_cache(maxsize=None)
def table_meta(name: str) -> dict:
    """`# key<TAB>value` lines of a table's header block (numbers converted)."""
    meta = {}
    with open(reference_dir() / name, encoding="utf-8") as fh:
        for ln in fh:
            if not ln.startswith("#"):
                break
            parts = ln[1:].strip().split("\t")
            if len(parts) == 2 and parts[0] and " " not in parts[0]:
                meta[parts[0]] = _convert(parts[1])
    return meta


def table_version(name: str) -> str | None:
    """The `# version:` line of a reference table, for provenance in results."""
    path = reference_dir() / name
    with open(path, encoding="utf-8") as fh:
        for ln in fh:
            if ln.startswith("# version:"):
                return ln.split(":", 1)[1].strip()
            if not ln.startswith("#"):
                break
    return None
