"""Reading assigned 1H shifts from NMReDATA records (nmredata.org).

An NMReDATA file is an SDF record: a molfile block followed by SDF data items. Of these, only
the structure, ``NMREDATA_SOLVENT`` and the assignment tag (``NMREDATA_ASSIGNMENT``, or the older
``NMR_ASSIGNMENT`` some writers use) are read. Each assignment line is::

    label, shift, atom[, atom ...]          e.g.  h1, 8.038, H5     or   H1eq, 1.6822, 12\\

Atom references are 1-based molfile atom numbers. In version 1.1 every line ends with a
backslash, and ``;`` starts a comment. An atom reference names a proton when

* it is written with an ``H`` prefix (``H5``: the hydrogen(s) carried by atom 5, or atom 5
  itself when atom 5 is an explicit hydrogen), or
* it is a plain number pointing at an explicit hydrogen atom of the molfile.

A plain number pointing at a heavy atom is that atom's own (13C, 15N, ...) shift and is ignored.
Both molfiles with explicit hydrogens (all or some) and with implicit hydrogens are handled:
shifts are always reported on the heavy atom that carries the hydrogen, with the RDKit indices
of the record's molecule after the hydrogens have been made implicit.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

from rdkit import Chem, RDLogger

from ..errors import InputError, MissingInputError

RDLogger.DisableLog("rdApp.*")  # type: ignore[attr-defined]  # not in rdkit's stubs

__all__ = ["AssignedSpectrum", "read_assignments", "find_assigned_spectra", "choose_assignment_file"]

ASSIGNMENT_TAGS = ("NMREDATA_ASSIGNMENT", "NMR_ASSIGNMENT")
SOLVENT_TAG = "NMREDATA_SOLVENT"
EXCHANGEABLE_ELEMENTS = frozenset({7, 8, 16})  # N, O, S
MAX_BYTES = 20_000_000  # an NMReDATA record is a few kB; refuse anything absurd

_TAG_RE = re.compile(r"^>.*?<([^>]+)>")
_ATOM_RE = re.compile(r"^([Hh]?)(\d+)$")
_QUOTED_LABEL_RE = re.compile(r'^<".*?">')


@dataclass(frozen=True)
class AssignedSpectrum:
    """The assigned 1H shifts of one NMReDATA record.

    Attributes
    ----------
    name : str
        Title line of the molfile block, else the file name without ``.nmredata.sdf``.
    solvent : str
        ``NMREDATA_SOLVENT`` as written (trailing backslash removed; ``""`` when absent).
    mol : rdkit.Chem.Mol
        The record's molecule, sanitized, hydrogens implicit.
    h_shifts : dict of int to tuple of float
        Heavy atom index of `mol` -> assigned 1H shifts (ppm) of the hydrogens it carries, in
        file order: one value per assignment line naming the atom (or its H). A CH2 whose two
        protons are assigned on two lines has two values; a CH3, or a CH2 whose H are listed
        together on one line, has one.
    exchangeable : frozenset of int
        Heavy atoms of `mol` that are N, O or S and carry hydrogen (OH, NH, SH).
    atom_numbers : dict of int to int
        Heavy atom index of `mol` -> its 1-based atom number in the molfile block.
    path : str
        The file read.
    notes : tuple of str
        Assignment lines or atom references that were skipped, and why.
    """

    name: str
    solvent: str
    mol: Chem.Mol = field(repr=False)
    h_shifts: dict[int, tuple[float, ...]]
    exchangeable: frozenset[int]
    atom_numbers: dict[int, int] = field(default_factory=dict, repr=False)
    path: str = ""
    notes: tuple[str, ...] = ()

    def ch_shifts(self) -> list[tuple[int, float]]:
        """All assigned shifts of non-exchangeable hydrogens.

        Returns
        -------
        list of (int, float)
            ``(heavy atom index, shift)`` pairs, ordered by atom index then file order.
        """
        return [(a, s) for a in sorted(self.h_shifts) if a not in self.exchangeable for s in self.h_shifts[a]]


def _split_record(text: str, path: str) -> tuple[str, dict[str, str]]:
    """First SDF record -> (molfile block, {TAG: value with lines joined by newlines})."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    end = next((i for i, ln in enumerate(lines) if ln.startswith("M  END")), None)
    if end is None:
        raise InputError("not an NMReDATA/SDF record: no molfile block ('M  END' missing)", path)
    if end < 3:
        raise InputError("molfile block too short (no header and counts line)", path)
    molblock = "\n".join(lines[: end + 1]) + "\n"
    tags: dict[str, str] = {}
    i = end + 1
    while i < len(lines):
        ln = lines[i]
        if ln.startswith("$$$$"):
            break
        m = _TAG_RE.match(ln)
        if not m:
            i += 1
            continue
        name = m.group(1).strip().upper()
        body = []
        i += 1
        while i < len(lines) and lines[i].strip() and not lines[i].startswith("$$$$"):
            body.append(lines[i])
            i += 1
        tags.setdefault(name, "\n".join(body))
    return molblock, tags


def _clean_line(line: str) -> str:
    """Drop the NMReDATA 1.1 end-of-line backslash and any ``;`` comment."""
    s = line.strip()
    if s.endswith("\\"):
        s = s[:-1].rstrip()
    if ";" in s:  # 'value\\;comment' (1.1) or 'value;comment'
        s = s.split(";", 1)[0].rstrip()
        if s.endswith("\\"):
            s = s[:-1].rstrip()
    return s


def _molecule(molblock: str, path: str) -> tuple[Chem.Mol, Chem.Mol, dict[int, int]]:
    """(molecule as written with its explicit H, H-implicit molecule, written index -> new index)."""
    try:
        written = Chem.MolFromMolBlock(molblock, sanitize=True, removeHs=False)
    except Exception as exc:  # RDKit raises on some malformed blocks instead of returning None
        raise InputError(f"unreadable molfile block ({exc.__class__.__name__})", path) from None
    if written is None or written.GetNumAtoms() == 0:
        raise InputError("unreadable or empty molfile block (RDKit cannot parse or sanitize it)", path)
    for a in written.GetAtoms():
        a.SetIntProp("_nmredata_idx", a.GetIdx())
    try:
        implicit = Chem.RemoveHs(written, sanitize=True)
    except Exception as exc:
        raise InputError(f"molfile block cannot be sanitized without its H ({exc.__class__.__name__})", path) from None
    new_index = {a.GetIntProp("_nmredata_idx"): a.GetIdx() for a in implicit.GetAtoms()}
    return written, implicit, new_index


def read_assignments(path: str | Path) -> AssignedSpectrum:
    """Read the assigned 1H shifts of the first record of an NMReDATA file.

    Parameters
    ----------
    path : str or pathlib.Path
        An NMReDATA ``.sdf`` (version 1.0 or 1.1).

    Returns
    -------
    AssignedSpectrum
        Shifts by heavy atom of the record's H-implicit molecule, the solvent as written and the
        exchangeable (N/O/S) heavy atoms. Lines that cannot be read (no number where the shift
        should be, no atom reference) are skipped and listed in ``notes``; 13C/15N lines are
        ignored silently.

    Raises
    ------
    MissingInputError
        When `path` does not exist.
    InputError
        When the file is not text, has no readable molfile block, has no assignment tag, or an
        assignment names an atom number the molfile does not have. The message is one line.
    """
    p = Path(path)
    spath = str(p)
    if not p.exists():
        raise MissingInputError("no such file", spath)
    if not p.is_file():
        raise InputError("not a file", spath)
    if p.stat().st_size > MAX_BYTES:
        raise InputError(f"too large for an NMReDATA record ({p.stat().st_size} bytes)", spath)
    raw = p.read_bytes()
    if b"\x00" in raw:
        raise InputError("binary file, not an NMReDATA/SDF text record", spath)
    text = raw.decode("utf-8", errors="replace")
    molblock, tags = _split_record(text, spath)
    written, mol, new_index = _molecule(molblock, spath)

    tag = next((t for t in ASSIGNMENT_TAGS if t in tags), None)
    if tag is None:
        raise InputError("no NMREDATA_ASSIGNMENT (or NMR_ASSIGNMENT) tag", spath)
    solvent = _clean_line(tags.get(SOLVENT_TAG, "").split("\n")[0]) if SOLVENT_TAG in tags else ""

    n_atoms = written.GetNumAtoms()
    notes: list[str] = []
    shifts: dict[int, list[float]] = {}
    seen: set[tuple] = set()
    for raw_line in tags[tag].split("\n"):
        line = _clean_line(raw_line)
        if not line:
            continue
        line = _QUOTED_LABEL_RE.sub("label", line)
        tokens = [t.strip() for t in line.split(",")]
        if len(tokens) < 3:
            notes.append(f"skipped {line!r}: fewer than three fields")
            continue
        label, shift_s, refs = tokens[0], tokens[1], tokens[2:]
        try:
            shift = float(shift_s)
        except ValueError:
            notes.append(f"skipped {line!r}: shift {shift_s!r} is not a number")
            continue
        atom_refs = [(m.group(1), int(m.group(2))) for m in (_ATOM_RE.match(r) for r in refs) if m]
        if not atom_refs:
            notes.append(f"skipped {line!r}: no atom reference")
            continue
        on_this_line: set[int] = set()  # one shift counts once per heavy atom per line ("H5, 12, 13": one value)
        key: tuple  # ("H", number) or ("on", number, label)
        for prefix, number in atom_refs:
            if not 1 <= number <= n_atoms:
                raise InputError(f"{tag} line {line!r} names atom {number}, the molfile has {n_atoms} atoms", spath)
            atom = written.GetAtomWithIdx(number - 1)
            if atom.GetAtomicNum() == 1:
                heavy = [nb for nb in atom.GetNeighbors() if nb.GetAtomicNum() > 1]
                if len(heavy) != 1 or heavy[0].GetIdx() not in new_index:
                    notes.append(f"skipped atom {number} of {line!r}: hydrogen not bonded to one heavy atom")
                    continue
                carrier, key = heavy[0].GetIdx(), ("H", number)
            elif prefix:
                carrier, key = atom.GetIdx(), ("on", number, label)
            else:
                continue  # the heavy atom's own (13C/15N/...) shift
            if carrier not in new_index:
                notes.append(f"skipped atom {number} of {line!r}: atom not kept in the H-implicit molecule")
                continue
            idx = new_index[carrier]
            if mol.GetAtomWithIdx(idx).GetTotalNumHs() == 0:
                notes.append(f"skipped atom {number} of {line!r}: atom {number} carries no hydrogen")
                continue
            if (key, shift) in seen or idx in on_this_line:
                continue
            seen.add((key, shift))
            on_this_line.add(idx)
            shifts.setdefault(idx, []).append(shift)

    for idx, vals in shifts.items():
        n_h = mol.GetAtomWithIdx(idx).GetTotalNumHs()
        if len(vals) > n_h:
            notes.append(f"atom index {idx} carries {n_h} H but has {len(vals)} assigned shifts")
    exchangeable = frozenset(
        a.GetIdx() for a in mol.GetAtoms() if a.GetAtomicNum() in EXCHANGEABLE_ELEMENTS and a.GetTotalNumHs() > 0
    )
    title = molblock.split("\n", 1)[0].strip()
    stem = p.name
    for suffix in (".sdf", ".nmredata"):
        stem = stem[: -len(suffix)] if stem.lower().endswith(suffix) else stem
    numbers = {new: old + 1 for old, new in new_index.items() if written.GetAtomWithIdx(old).GetAtomicNum() > 1}
    return AssignedSpectrum(
        name=title or stem,
        solvent=solvent,
        mol=mol,
        h_shifts={k: tuple(v) for k, v in sorted(shifts.items())},
        exchangeable=exchangeable,
        atom_numbers=numbers,
        path=spath,
        notes=tuple(notes),
    )


def choose_assignment_file(folder: str | Path) -> Path | None:
    """Pick the NMReDATA file of a data folder.

    Parameters
    ----------
    folder : str or pathlib.Path
        A data folder (e.g. ``realdata/nmr/aspirin_nmrdataset1``).

    Returns
    -------
    pathlib.Path or None
        Among the folder's ``*.sdf`` (top level, else anywhere below): a ``*.nmredata.sdf``,
        ``compound1.nmredata.sdf`` first when there are several, else the first (by name) plain
        ``.sdf`` that mentions an NMReDATA assignment tag; None when there is none.
    """
    d = Path(folder)
    if not d.is_dir():
        return None
    sdfs = sorted(x for x in d.glob("*.sdf") if x.is_file()) or sorted(x for x in d.rglob("*.sdf") if x.is_file())
    preferred = [x for x in sdfs if x.name.lower().endswith(".nmredata.sdf")]
    if preferred:
        exact = [x for x in preferred if x.name.lower() == "compound1.nmredata.sdf"]
        return (exact or preferred)[0]
    for x in sdfs:
        try:
            head = x.read_text(encoding="utf-8", errors="replace")[:MAX_BYTES]
        except OSError:
            continue
        if any(t in head.upper() for t in ASSIGNMENT_TAGS):
            return x
    return None


def find_assigned_spectra(realdata_dir: str | Path, strict: bool = True) -> list[tuple[dict, AssignedSpectrum]]:
    """Pair the ``nmr`` rows of a real-data MANIFEST.tsv with their folder's NMReDATA assignments.

    Parameters
    ----------
    realdata_dir : str or pathlib.Path
        The directory holding ``MANIFEST.tsv`` (columns ``path``, ``kind``, ...); a row's data
        folder is the first two parts of its ``path`` (``nmr/<folder>``).
    strict : bool, optional
        When True (default) an unreadable assignment file raises; when False it is left out.

    Returns
    -------
    list of (dict, AssignedSpectrum)
        One entry per distinct assignment file, paired with the first manifest row (in file order)
        of its folder, in manifest order.

    Raises
    ------
    MissingInputError
        When ``MANIFEST.tsv`` is missing.
    InputError
        When `strict` and an assignment file cannot be read.
    """
    root = Path(realdata_dir)
    manifest = root / "MANIFEST.tsv"
    if not manifest.is_file():
        raise MissingInputError("no MANIFEST.tsv", str(manifest))
    with open(manifest, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader((ln for ln in fh if not ln.startswith("#")), delimiter="\t"))
    out: list[tuple[dict, AssignedSpectrum]] = []
    done: set[Path] = set()
    for row in rows:
        if (row.get("kind") or "").strip() != "nmr" or not row.get("path"):
            continue
        parts = Path(row["path"]).parts
        if len(parts) < 2:
            continue
        sdf = choose_assignment_file(root.joinpath(*parts[:2]))
        if sdf is None or sdf.resolve() in done:
            continue
        done.add(sdf.resolve())
        try:
            out.append((row, read_assignments(sdf)))
        except InputError:
            if strict:
                raise
    return out
