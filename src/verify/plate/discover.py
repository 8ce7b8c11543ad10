"""Finding a well's data in --nmr-dir / --ms-dir when the plate map does not give the paths.

A data set matches a well when one of its names (file or folder name, the Bruker data-set folder,
the experiment title in `pdata/1/title`) equals or contains, as a separate token, the compound id or
the well (`A1` or `A01`). Exact names beat tokens, compound ids beat wells; two equally good matches
are reported as ambiguous rather than guessed.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

JCAMP_SUFFIXES = (".jdx", ".dx", ".jcamp", ".jcm")
NMR_FILE_SUFFIXES = JCAMP_SUFFIXES + (".jdf",)  # single-file 1H data sets: JCAMP-DX, JEOL Delta
MS_SUFFIXES = (".mzml", ".mzml.gz", ".mzxml")
_MAX_DEPTH = 4


@dataclass
class Candidate:
    path: Path
    names: list[str] = field(default_factory=list)  # file/folder names (exact-match candidates)
    text: str = ""  # free text searched for tokens (Bruker title)

    def label(self, root: Path) -> str:
        try:
            return str(self.path.relative_to(root))
        except ValueError:
            return str(self.path)


def _read_title(exp: Path) -> str:
    for t in (exp / "pdata" / "1" / "title", exp / "pdata" / "1" / "TITLE"):
        try:
            return t.read_text(encoding="utf-8", errors="replace")[:1000].strip()
        except OSError:
            continue
    return ""


def index_nmr_dir(root: Path) -> list[Candidate]:
    """Bruker experiment folders, Varian .fid folders (complete or not), Magritek (Spinsolve/Kea, Prospa)
    experiment folders (acqu.par), JCAMP-DX and JEOL .jdf files under `root`."""
    out: list[Candidate] = []
    root = Path(root)
    for dirpath, dirnames, filenames in os.walk(root):
        d = Path(dirpath)
        depth = len(d.relative_to(root).parts)
        lower = {n.lower() for n in filenames}
        # A data set with a file missing (acqus, fid, procpar) is found all the same: checking it says
        # what is wrong (a partial or error well), where skipping it would pass for "no NMR acquired".
        if d.name.lower().endswith(".fid") and lower & {"fid", "procpar"}:
            names = [d.name[:-4]]
            if d.parent != root:
                names.append(d.parent.name)
            out.append(Candidate(d, names))
            dirnames[:] = []
            continue
        if "acqu.par" in lower:  # Magritek/Prospa: the folder is the data set
            out.append(Candidate(d, [d.name] if d != root else []))
            dirnames[:] = []
            continue
        if lower & {"acqus", "fid", "ser"}:
            if d.name.isdigit():  # an expno folder: the data-set folder above carries the name
                names = [d.parent.name] if d != root and d.parent != root else []
            else:
                names = [d.name] if d != root else []
            out.append(Candidate(d, names, _read_title(d)))
            dirnames[:] = []
            continue
        for f in sorted(filenames):
            if f.lower().endswith(NMR_FILE_SUFFIXES):
                names = [Path(f).stem]
                if d != root:
                    names.append(d.name)
                out.append(Candidate(d / f, names))
        if depth >= _MAX_DEPTH:
            dirnames[:] = []
        dirnames.sort()
    return out


def index_ms_dir(root: Path) -> list[Candidate]:
    """LC-MS runs (.mzML, .mzML.gz, .mzXML, any case) under `root`."""
    out: list[Candidate] = []
    root = Path(root)
    for dirpath, dirnames, filenames in os.walk(root):
        d = Path(dirpath)
        for f in sorted(filenames):
            fl = f.lower()
            suffix = next((s for s in MS_SUFFIXES if fl.endswith(s)), None)
            if suffix:
                names = [f[: -len(suffix)]]
                if d != root:
                    names.append(d.name)
                out.append(Candidate(d / f, names))
        if len(d.relative_to(root).parts) >= _MAX_DEPTH:
            dirnames[:] = []
        dirnames.sort()
    return out


def _token_re(s: str) -> re.Pattern:
    return re.compile(r"(?<![A-Za-z0-9])" + re.escape(s) + r"(?![A-Za-z0-9])", re.I)


def _well_forms(well: str) -> list[str]:
    row, col = well[0], int(well[1:])
    return sorted({f"{row}{col}", f"{row}{col:02d}"})


def _score(c: Candidate, compound_id: str, well: str) -> int:
    names = [n.lower() for n in c.names if n]
    cid = compound_id.strip().lower()
    wells = [w.lower() for w in _well_forms(well)]
    if cid and cid in names:
        return 4
    if any(n in wells for n in names):
        return 3
    hay = names + ([c.text] if c.text else [])
    if cid and any(_token_re(cid).search(h) for h in hay):
        return 2
    if any(_token_re(w).search(h) for w in wells for h in hay):
        return 1
    return 0


def find_data(cands: list[Candidate], compound_id: str, well: str) -> tuple[Path | None, list[Candidate]]:
    """The best-matching data set for a well, or (None, ties) when several match equally well."""
    scored = [(s, c) for c in cands if (s := _score(c, compound_id, well)) > 0]
    if not scored:
        return None, []
    best = max(s for s, _ in scored)
    top = [c for s, c in scored if s == best]
    if len(top) == 1:
        return top[0].path, top
    return None, top
