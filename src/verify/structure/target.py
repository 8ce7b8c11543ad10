"""Reading the intended structure (TARGET) and stripping salts to the parent.

TARGET is a `.smi`/`.smiles` file (first non-empty, non-`#` line: SMILES, whitespace, optional name),
a `.mol`/`.sdf` (first record, name from its title line) or a literal SMILES.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from rdkit import Chem, RDLogger, rdBase
from rdkit.Chem.MolStandardize import rdMolStandardize

from ..errors import InputError, MissingInputError

RDLogger.DisableLog("rdApp.*")  # type: ignore[attr-defined]  # not in rdkit's stubs

SMILES_SUFFIXES = {".smi", ".smiles"}
MOL_SUFFIXES = {".mol", ".sdf", ".sd", ".mdl"}
# Bounds on what a small-molecule check is asked to take (each step below is then bounded too): a salt,
# solvate or co-crystal has a few fragments; 300 of them made the fragment handling run for minutes.
MAX_FRAGMENTS = 20
MAX_HEAVY_ATOMS = 250  # a peptide of ~30 residues; beyond this the 1H and isotope models are not meant
MAX_STRUCTURE_BYTES = 5_000_000  # a .smi/.mol/.sdf read for its first record only


def _exists(p: Path) -> bool:
    """Path.exists() that answers False where the name cannot be a path at all (too long, NUL byte)."""
    try:
        return p.exists()
    except (OSError, ValueError):
        return False


def _short(text: str, n: int = 60) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def rdkit_reason(messages: str) -> str:
    """RDKit's own words for a failed parse, in one line: "extra open parentheses (position 3)"."""
    lines = [re.sub(r"^\[\d\d:\d\d:\d\d\]\s*", "", ln).strip() for ln in messages.splitlines()]
    lines = [ln for ln in lines if ln]
    if not lines:
        return ""
    first = re.sub(r"^SMILES Parse Error:\s*", "", lines[0])
    first = re.sub(r"\s+(while parsing|for input):.*$", "", first)
    pos = next((m.group(1) for ln in lines if (m := re.search(r"around position (\d+)", ln))), None)
    return first + (f" (position {pos})" if pos else "")


def parse_smiles(smiles: str) -> tuple[Chem.Mol | None, str]:
    """(molecule or None, RDKit's reason when None) for a SMILES string."""
    with rdBase.CaptureErrorLog() as log:
        mol = Chem.MolFromSmiles(smiles)
    return mol, ("" if mol is not None else rdkit_reason(log.messages))


def _invalid_smiles(smiles: str, reason: str) -> str:
    return f"invalid SMILES {_short(smiles)!r}" + (f": RDKit: {reason}" if reason else "")


@dataclass
class Target:
    """The compound the chemist meant to make (parent, salts removed)."""

    name: str
    smiles: str  # canonical SMILES of the parent
    mol: Chem.Mol = field(repr=False)
    input_smiles: str = ""  # as given (may include counter-ions)
    notes: list[str] = field(default_factory=list)
    source: str = ""  # file path or "literal"


def read_target(arg: str) -> Target:
    """Parse TARGET (a path or a literal SMILES) into a salt-free `Target`.

    Raises MissingInputError (exit 66) for a path that does not exist and InputError (exit 65)
    for an unreadable file or invalid SMILES.
    """
    p = Path(arg)
    suffix = p.suffix.lower() if len(arg) < 4096 else ""
    if suffix in SMILES_SUFFIXES | MOL_SUFFIXES:
        if not _exists(p):
            raise MissingInputError("no such file", arg)
        if p.is_dir():
            raise InputError("is a directory, not a structure file", arg)
        if suffix in SMILES_SUFFIXES:
            smiles, name = _read_smiles_file(p)
            mol, why = parse_smiles(smiles)
            if mol is None:
                raise InputError(_invalid_smiles(smiles, why), arg)
            return parent_target(mol, name or p.stem, smiles, source=str(p))
        mol, name = _read_mol_file(p)
        return parent_target(mol, name or p.stem, Chem.MolToSmiles(mol), source=str(p))
    if _exists(p) and p.is_file():
        # A structure file with an unusual suffix: try SMILES first, then molfile.
        try:
            smiles, name = _read_smiles_file(p)
            mol, _ = parse_smiles(smiles)
            if mol is not None:
                return parent_target(mol, name or p.stem, smiles, source=str(p))
        except InputError:
            pass
        mol, name = _read_mol_file(p)
        return parent_target(mol, name or p.stem, Chem.MolToSmiles(mol), source=str(p))
    literal = arg.strip()
    if not literal:
        raise InputError("empty SMILES", "TARGET")
    # a literal SMILES (any length: a long one is no file name) is parsed before it is taken for a path
    mol, why = parse_smiles(literal)
    if mol is None:
        if "/" in arg and (p.parent.name or "").strip() and not _exists(p.parent):
            # looks like a path (its folder does not exist either): say so rather than "invalid SMILES"
            raise MissingInputError("no such file", arg)
        raise InputError(_invalid_smiles(literal, why) + " (and no file of that name)", "TARGET")
    return parent_target(mol, "", literal, source="literal")


def _read_text(p: Path, what: str) -> str:
    """A structure file's text: UTF-8, else latin-1 (names written by older Windows tools); binary
    content (NUL bytes) or more than MAX_STRUCTURE_BYTES is refused."""
    from ..io_limits import read_capped

    raw = read_capped(p, MAX_STRUCTURE_BYTES, what)
    if b"\x00" in raw:
        raise InputError(f"not a {what}: binary content (NUL bytes)", p)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _read_smiles_file(p: Path) -> tuple[str, str]:
    text = _read_text(p, "SMILES file")
    for line in text.splitlines():
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        parts = s.split(None, 1)
        return parts[0], (parts[1].strip() if len(parts) > 1 else "")
    raise InputError("no SMILES line found", p)


def _read_mol_file(p: Path) -> tuple[Chem.Mol, str]:
    text = _read_text(p, "molfile/SDF")
    block = text.split("$$$$", 1)[0]  # the first record; a mol block is the same text
    with rdBase.CaptureErrorLog() as log:
        try:
            mol = Chem.MolFromMolBlock(block, sanitize=True, removeHs=True)
        except RuntimeError as exc:
            raise InputError(f"cannot read molfile ({exc})", p) from None
    if mol is None:
        why = rdkit_reason(log.messages)
        raise InputError("not a readable molfile/SDF record" + (f": RDKit: {why}" if why else ""), p)
    name = mol.GetProp("_Name").strip() if mol.HasProp("_Name") else ""
    return mol, name


def _where(source: str) -> str:
    return source if source and source != "literal" else "TARGET"


def parent_target(mol: Chem.Mol, name: str, input_smiles: str, source: str = "") -> Target:
    """Strip counter-ions and neutralise a protonated amine salt to its free base.

    The chemist often registers the salt (HCl, TFA); HRMS and the structure check concern the parent.
    """
    notes: list[str] = []
    n_frags = len(Chem.GetMolFrags(mol))  # atom index tuples only: cheap, bounded before any fragment work
    if n_frags > MAX_FRAGMENTS:
        raise InputError(
            f"{n_frags} fragments; at most {MAX_FRAGMENTS} are accepted (a salt or solvate has a few)", _where(source)
        )
    if mol.GetNumHeavyAtoms() > MAX_HEAVY_ATOMS:
        raise InputError(
            f"{mol.GetNumHeavyAtoms()} heavy atoms; at most {MAX_HEAVY_ATOMS} are accepted (a small molecule verifier)",
            _where(source),
        )
    frags = Chem.GetMolFrags(mol, asMols=True, sanitizeFrags=True)
    parent = mol
    if len(frags) > 1:
        chooser = rdMolStandardize.LargestFragmentChooser(preferOrganic=True)
        parent = chooser.choose(mol)
        parent_smiles = Chem.MolToSmiles(parent)
        removed = sorted({smi for smi in map(Chem.MolToSmiles, frags) if smi != parent_smiles})
        notes.append(f"salt/counter-ion stripped: {', '.join(removed)}; checking the parent")
    charged = any(a.GetFormalCharge() != 0 for a in parent.GetAtoms())
    if charged:
        uncharged = rdMolStandardize.Uncharger().uncharge(parent)
        if Chem.MolToSmiles(uncharged) != Chem.MolToSmiles(parent):
            notes.append("charged parent neutralised (protonated amine taken as its free base)")
            parent = uncharged
    if parent.GetNumHeavyAtoms() == 0:
        raise InputError("structure has no heavy atoms", _where(source))
    return Target(
        name=name,
        smiles=Chem.MolToSmiles(parent),
        mol=parent,
        input_smiles=input_smiles,
        notes=notes,
        source=source,
    )
