"""Reading a plate map: which compound is in which well, and where its data are.

A plate map is a CSV/TSV file with a header row (columns `well`, `compound_id`, `smiles`, and
optionally `nmr`, `ms`, `solvent`; any other column is kept and carried to the outputs), or an SDF whose
records carry `well` and `id` properties. Wells are A1..H12 (96) or A1..P24 (384), written `A1` or `A01`.
Paths in the map are relative to the map's folder.

Every problem with the map itself (a missing column, a bad or duplicate well name) is collected with
its line number and raised together as one `PlateMapError` before any well runs.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError, MissingInputError

ROWS_96, COLS_96 = "ABCDEFGH", 12
ROWS_384, COLS_384 = "ABCDEFGHIJKLMNOP", 24

_WELL_RE = re.compile(r"^\s*([A-Za-z])\s*0*([0-9]{1,2})\s*$")

# Accepted header spellings (compared after lower-casing and dropping spaces, '-' and '_').
COLUMN_ALIASES = {
    "well": ("well", "wellid", "position", "wellposition", "pos"),
    "compound_id": ("compoundid", "id", "compound", "cmpdid", "cmpd", "sampleid", "name"),
    "smiles": ("smiles", "structure", "canonicalsmiles"),
    "nmr": ("nmr", "nmrpath", "nmrfile", "fid", "1hnmr", "hnmr"),
    "ms": ("ms", "mspath", "msfile", "lcms", "hrms", "mzml"),
    "solvent": ("solvent", "nmrsolvent"),
}
REQUIRED = ("well", "compound_id", "smiles")


class PlateMapError(InputError):
    """The plate map cannot be used as it is (exit 65); `problems` lists (line, message)."""

    def __init__(self, problems: list[tuple[int | None, str]], path):
        self.problems = problems
        parts = [f"line {ln}: {msg}" if ln else msg for ln, msg in problems]
        head = "plate map error" if len(problems) == 1 else f"{len(problems)} plate map errors"
        super().__init__(f"{head}: " + "; ".join(parts), path)


@dataclass
class WellEntry:
    """One well of the plate as the map gives it (paths resolved against the map's folder)."""

    well: str  # canonical, e.g. "A1"
    compound_id: str
    smiles: str = ""
    molblock: str = ""  # SDF maps: the record's connection table (takes precedence over smiles)
    nmr: Path | None = None
    ms: Path | None = None
    solvent: str = ""
    extra: dict = field(default_factory=dict)  # the map's other columns, in order
    line: int = 0  # line of the map where this well is given
    padded: bool = False  # written A01 rather than A1 in the map
    notes: list[str] = field(default_factory=list)  # how data were found (dir search), problems found

    @property
    def row(self) -> int:
        return ord(self.well[0]) - ord("A")

    @property
    def col(self) -> int:
        return int(self.well[1:])


@dataclass
class PlateMap:
    path: Path
    name: str
    wells: list[WellEntry]
    extra_columns: list[str]
    rows: str = ROWS_96
    cols: int = COLS_96
    padded: bool = False  # the map writes wells as A01: the outputs do too

    def label(self, row: str, col: int) -> str:
        return f"{row}{col:02d}" if self.padded else f"{row}{col}"

    @property
    def size(self) -> int:
        return len(self.rows) * self.cols

    def by_well(self) -> dict[str, WellEntry]:
        return {w.well: w for w in self.wells}


def parse_well(text: str) -> str | None:
    """'a01' -> 'A1'; None when not a well of a 384-well plate (A..P, 1..24)."""
    m = _WELL_RE.match(text or "")
    if not m:
        return None
    row, col = m.group(1).upper(), int(m.group(2))
    if row not in ROWS_384 or not 1 <= col <= COLS_384:
        return None
    return f"{row}{col}"


def is_padded(text: str) -> bool:
    m = _WELL_RE.match(text or "")
    return bool(m) and text.strip()[1:].lstrip().startswith("0")


def well_sort_key(well: str) -> tuple[int, int]:
    return (ord(well[0]) - ord("A"), int(well[1:]))


def _norm_header(h: str) -> str:
    return re.sub(r"[\s_\-]", "", (h or "").strip().lower().lstrip("\ufeff"))


def _resolve(base: Path, cell: str) -> Path | None:
    cell = (cell or "").strip()
    if not cell:
        return None
    p = Path(cell).expanduser()
    return p if p.is_absolute() else base / p


def _plate_geometry(wells: list[WellEntry]) -> tuple[str, int]:
    if all(w.well[0] in ROWS_96 and w.col <= COLS_96 for w in wells):
        return ROWS_96, COLS_96
    return ROWS_384, COLS_384


def read_plate_map(path: str | Path) -> PlateMap:
    """Read a CSV/TSV or SDF plate map. Raises MissingInputError (66), InputError/PlateMapError (65)."""
    p = Path(path)
    if not p.exists():
        raise MissingInputError("no such plate map", p)
    if p.is_dir():
        raise InputError("is a directory, not a plate map", p)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read plate map ({exc.strerror})", p) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = raw.decode("cp1252")  # Excel on Windows
        except UnicodeDecodeError:
            raise InputError("plate map is not text (UTF-8 or Windows-1252)", p) from None
    if "\x00" in text:
        raise InputError("plate map is not a text file", p)
    if p.suffix.lower() in (".sdf", ".sd") or re.search(r"^\$\$\$\$\s*$", text, re.M):
        wells, extra = _read_sdf(text, p)
    else:
        wells, extra = _read_table(text, p)
    if not wells:
        raise PlateMapError([(None, "no wells in the plate map")], p)
    wells.sort(key=lambda w: well_sort_key(w.well))
    rows, cols = _plate_geometry(wells)
    padded = any(w.padded for w in wells)
    if padded:
        for w in wells:
            w.well = f"{w.well[0]}{int(w.well[1:]):02d}"
    return PlateMap(path=p, name=p.stem, wells=wells, extra_columns=extra, rows=rows, cols=cols, padded=padded)


def _sniff_delimiter(text: str, path: Path) -> str:
    if path.suffix.lower() in (".tsv", ".tab"):
        return "\t"
    first = next((ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")), "")
    counts = {d: first.count(d) for d in ("\t", ",", ";")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _read_table(text: str, path: Path) -> tuple[list[WellEntry], list[str]]:
    base = path.parent
    delim = _sniff_delimiter(text, path)
    # Leading comment lines ("# plate 7, made 2026-11-02") are skipped; line numbers stay physical.
    lines = text.splitlines(keepends=True)
    skip = 0
    while skip < len(lines) and (not lines[skip].strip() or lines[skip].lstrip().startswith("#")):
        skip += 1
    reader = csv.reader(io.StringIO("".join(lines[skip:])), delimiter=delim)
    problems: list[tuple[int | None, str]] = []
    try:
        header = next(reader)
    except StopIteration:
        raise PlateMapError([(None, "empty plate map (no header row)")], path) from None
    except csv.Error as exc:
        raise PlateMapError([(skip + 1, f"cannot parse the header ({exc})")], path) from None
    header_line = skip + 1
    colmap: dict[str, int] = {}
    extra: list[tuple[str, int]] = []
    for i, h in enumerate(header):
        n = _norm_header(h)
        key = next((k for k, al in COLUMN_ALIASES.items() if n in al), None)
        if key and key not in colmap:
            colmap[key] = i
        elif h.strip():
            extra.append((h.strip(), i))
    missing = [c for c in REQUIRED if c not in colmap]
    if missing:
        found = ", ".join(h.strip() for h in header if h.strip()) or "nothing"
        problems.append(
            (
                header_line,
                f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
                f"(header has {found}; delimiter {'TAB' if delim == chr(9) else repr(delim)})",
            )
        )
        raise PlateMapError(problems, path)

    wells: list[WellEntry] = []
    seen: dict[str, int] = {}
    prev_end = header_line
    try:
        for cells in reader:
            line = prev_end + 1
            prev_end = skip + reader.line_num
            if not any(c.strip() for c in cells) or cells[0].lstrip().startswith("#"):
                continue

            def cell(key: str) -> str:
                i = colmap.get(key)
                return cells[i].strip() if i is not None and i < len(cells) else ""

            raw_well = cell("well")
            well = parse_well(raw_well)
            if not raw_well:
                problems.append((line, "empty well name"))
                continue
            if well is None:
                problems.append((line, f"bad well name {raw_well!r} (expected A1..H12 or A1..P24, e.g. B07)"))
                continue
            if well in seen:
                problems.append((line, f"duplicate well {well} (already on line {seen[well]})"))
                continue
            seen[well] = line
            entry = WellEntry(
                well=well,
                compound_id=cell("compound_id"),
                smiles=cell("smiles"),
                nmr=_resolve(base, cell("nmr")),
                ms=_resolve(base, cell("ms")),
                solvent=cell("solvent"),
                extra={name: (cells[i].strip() if i < len(cells) else "") for name, i in extra},
                line=line,
                padded=is_padded(raw_well),
            )
            wells.append(entry)
    except csv.Error as exc:
        problems.append((skip + reader.line_num, f"cannot parse the row ({exc})"))
    if problems:
        raise PlateMapError(problems, path)
    return wells, [name for name, _ in extra]


_PROP_RE = re.compile(r"^>\s*(?:.*?)<([^>]+)>")


def _read_sdf(text: str, path: Path) -> tuple[list[WellEntry], list[str]]:
    """SDF records with a well property (well/position) and an id property (id/compound_id/name).

    The structure is the record's molfile; data paths may be given as nmr/ms properties.
    """
    base = path.parent
    lines = text.splitlines()
    problems: list[tuple[int | None, str]] = []
    wells: list[WellEntry] = []
    extra_names: list[str] = []
    seen: dict[str, int] = {}
    start = 0
    records: list[tuple[int, list[str]]] = []
    for i, ln in enumerate(lines):
        if ln.strip() == "$$$$":
            records.append((start, lines[start:i]))
            start = i + 1
    if any(s.strip() for s in lines[start:]):
        records.append((start, lines[start:]))
    for start, rec in records:
        line = start + 1
        mol_end = next((j for j, s in enumerate(rec) if s.strip() == "M  END"), None)
        if mol_end is None:
            problems.append((line, "SDF record without 'M  END'"))
            continue
        molblock = "\n".join(rec[: mol_end + 1]) + "\n"
        props: dict[str, str] = {}
        j = mol_end + 1
        while j < len(rec):
            m = _PROP_RE.match(rec[j])
            if m:
                name = m.group(1).strip()
                vals = []
                j += 1
                while j < len(rec) and rec[j].strip() != "":
                    vals.append(rec[j].strip())
                    j += 1
                props[name] = "\n".join(vals)
            j += 1
        by_key: dict[str, str] = {}
        other: dict[str, str] = {}
        for name, val in props.items():
            n = _norm_header(name)
            key = next((k for k, al in COLUMN_ALIASES.items() if n in al), None)
            if key and key not in by_key:
                by_key[key] = val
            else:
                other[name] = val
                if name not in extra_names:
                    extra_names.append(name)
        title = rec[0].strip() if rec else ""
        raw_well = by_key.get("well", "")
        if not raw_well:
            problems.append((line, "SDF record has no well property (> <well>)"))
            continue
        well = parse_well(raw_well)
        if well is None:
            problems.append((line, f"bad well name {raw_well!r} (expected A1..H12 or A1..P24, e.g. B07)"))
            continue
        if well in seen:
            problems.append((line, f"duplicate well {well} (already in the record on line {seen[well]})"))
            continue
        seen[well] = line
        cid = by_key.get("compound_id") or title
        if not cid:
            problems.append((line, "SDF record has no id property (> <id>) and no title"))
            continue
        e = WellEntry(
            well=well,
            compound_id=cid,
            smiles=by_key.get("smiles", ""),
            molblock=molblock,
            nmr=_resolve(base, by_key.get("nmr", "")),
            ms=_resolve(base, by_key.get("ms", "")),
            solvent=by_key.get("solvent", ""),
            extra=other,
            line=line,
            padded=is_padded(raw_well),
        )
        wells.append(e)
    if problems:
        raise PlateMapError(problems, path)
    for w in wells:
        w.extra = {n: w.extra.get(n, "") for n in extra_names}
    return wells, extra_names
