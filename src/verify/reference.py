"""Access to the versioned reference tables in `reference/`.

Tables are tab-separated with a `#` header block (version, sources) and one
header row. They are read once and cached; callers get plain lists of dicts.

The repository keeps the tables in its top-level `reference/` folder; the package reaches it through the
symlink `src/verify/reference_tables`, so a wheel carries copies of the tables and an editable install reads
them in place, both found with `importlib.resources` (no path relative to a checkout; see pyproject.toml).
"""

from __future__ import annotations

import csv
import functools
import io
import os
from importlib import resources
from pathlib import Path
from typing import IO

try:
    from importlib.resources.abc import Traversable
except ImportError:  # Python 3.10
    from importlib.abc import Traversable

from .errors import InputError


def reference_dir() -> Traversable:
    """Folder holding the reference tables.

    Returns
    -------
    importlib.resources.abc.Traversable
        `VERIFY_REFERENCE` (a folder) when set, else the tables installed with the package
        (`verify/reference_tables`, in the repository a symlink to `reference/`). Join names with ``/``.

    Raises
    ------
    InputError
        When the tables are not installed (a package built without its package data).
    """
    env = os.environ.get("VERIFY_REFERENCE")
    if env:
        return Path(env)
    root = resources.files("verify") / "reference_tables"
    if not (root / "adducts.tsv").is_file():
        raise InputError(
            "reference tables not found in the installed package (verify/reference_tables); "
            "reinstall verify or set VERIFY_REFERENCE to a folder holding them"
        )
    return root


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


def _open(name: str) -> IO[str]:
    """Open one table as text; a missing one is an InputError naming it (no traceback)."""
    path = reference_dir() / name
    if not path.is_file():
        raise InputError("reference table missing", str(path))
    # newline="": csv handles the line endings itself (a quoted field may hold one).
    return io.TextIOWrapper(path.open("rb"), encoding="utf-8", newline="")


@functools.cache
def _load(name: str) -> tuple:
    with _open(name) as fh:
        lines = [ln for ln in fh if ln.strip() and not ln.lstrip().startswith("#")]
    reader = csv.DictReader(lines, delimiter="\t")
    rows = []
    for row in reader:
        rows.append({k.strip(): _convert(v or "") for k, v in row.items() if k is not None})
    return tuple(rows)


def table(name: str) -> list[dict]:
    """Rows of `reference/<name>` as dicts (numbers converted, blanks None)."""
    return [dict(r) for r in _load(name)]


@functools.cache
def table_meta(name: str) -> dict:
    """`# key<TAB>value` lines of a table's header block (numbers converted)."""
    meta = {}
    with _open(name) as fh:
        for ln in fh:
            if not ln.startswith("#"):
                break
            parts = ln[1:].strip().split("\t")
            if len(parts) == 2 and parts[0] and " " not in parts[0]:
                meta[parts[0]] = _convert(parts[1])
    return meta


def table_version(name: str) -> str | None:
    """The `# version:` line of a reference table, for provenance in results."""
    with _open(name) as fh:
        for ln in fh:
            if ln.startswith("# version:"):
                return ln.split(":", 1)[1].strip()
            if not ln.startswith("#"):
                break
    return None
