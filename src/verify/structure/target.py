"""Reading the intended structure (TARGET) and stripping salts to the parent.

TARGET is a `.smi`/`.smiles` file (first non-empty, non-`#` line: SMILES, whitespace, optional name),
a `.mol`/`.sdf` (first record, name from its title line) or a literal SMILES.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from rdkit import Chem, RDLogger
from rdkit.Chem.MolStandardize import rdMolStandardize

from ..errors import InputError, MissingInputError

RDLogger.DisableLog("rdApp.*")

SMILES_SUFFIXES = {".smi", ".smiles"}
MOL_SUFFIXES = {".mol", ".sdf", ".sd", ".mdl"}


@dataclass
class Target:
    """The compound the chemist meant to make (parent, salts removed)."""

    name: str
    smiles: str  # canonical SMILES of the parent
    mol: Chem.Mol = field(repr=False)
    input_smiles: str = ""  # as given (may include counter-ions)
    notes: list[str] = field(default_factory=list)
    source: str = ""  # file path or "literal"


def _looks_like_path(arg: str) -> bool:
    p = Path(arg)
    return p.suffix.lower() in SMILES_SUFFIXES | MOL_SUFFIXES or "/" in arg or p.exists()


def read_target(arg: str) -> Target:
    """Parse TARGET (a path or a literal SMILES) into a salt-free `Target`.

    Raises MissingInputError (exit 66) for a path that does not exist and InputError (exit 65)
    for an unreadable file or invalid SMILES.
    """
    p = Path(arg)
    if p.suffix.lower() in SMILES_SUFFIXES | MOL_SUFFIXES:
        if not p.exists():
            raise MissingInputError("no such file", arg)
        if p.is_dir():
            raise InputError("is a directory, not a structure file", arg)
        if p.suffix.lower() in SMILES_SUFFIXES:
            smiles, name = _read_smiles_file(p)
            mol = Chem.MolFromSmiles(smiles)
            if mol is None:
                raise InputError(f"invalid SMILES {smiles!r}", arg)
            return parent_target(mol, name or p.stem, smiles, source=str(p))
        mol, name = _read_mol_file(p)
        return parent_target(mol, name or p.stem, Chem.MolToSmiles(mol), source=str(p))
    if p.exists() and p.is_file():
        # A structure file with an unusual suffix: try SMILES first, then molfile.
        try:
            smiles, name = _read_smiles_file(p)
            mol = Chem.MolFromSmiles(smiles)
            if mol is not None:
                return parent_target(mol, name or p.stem, smiles, source=str(p))
        except InputError:
            pass
        mol, name = _read_mol_file(p)
        return parent_target(mol, name or p.stem, Chem.MolToSmiles(mol), source=str(p))
    literal = arg.strip()
    if not literal:
        raise InputError("empty SMILES", "TARGET")
    mol = Chem.MolFromSmiles(literal)
    if mol is None:
        if "/" in arg and not p.exists() and (p.parent.name or "").strip() and not p.parent.exists():
            # looks like a path (its folder does not exist either): say so rather than "invalid SMILES"
            raise MissingInputError("no such file", arg)
        raise InputError(f"invalid SMILES {literal!r} (and no file of that name)", "TARGET")
    return parent_target(mol, "", literal, source="literal")


def _read_smiles_file(p: Path) -> tuple[str, str]:
    try:
        text = p.read_text(encoding="utf-8", errors="strict")
    except (UnicodeDecodeError, OSError) as exc:
        raise InputError(f"cannot read as text ({exc.__class__.__name__})", p) from None
    for line in text.splitlines():
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        parts = s.split(None, 1)
        return parts[0], (parts[1].strip() if len(parts) > 1 else "")
    raise InputError("no SMILES line found", p)


def _read_mol_file(p: Path) -> tuple[Chem.Mol, str]:
    try:
        if p.suffix.lower() == ".mol" or p.suffix.lower() == ".mdl":
            mol = Chem.MolFromMolFile(str(p), sanitize=True, removeHs=True)
        else:
            supplier = Chem.SDMolSupplier(str(p), sanitize=True, removeHs=True)
            mol = next(iter(supplier), None) if len(supplier) else None
    except (OSError, RuntimeError) as exc:
        raise InputError(f"cannot read molfile ({exc})", p) from None
    if mol is None:
        raise InputError("not a readable molfile/SDF record", p)
    name = mol.GetProp("_Name").strip() if mol.HasProp("_Name") else ""
    return mol, name


def parent_target(mol: Chem.Mol, name: str, input_smiles: str, source: str = "") -> Target:
    """Strip counter-ions and neutralise a protonated amine salt to its free base.

    The chemist often registers the salt (HCl, TFA); HRMS and the structure check concern the parent.
    """
    notes: list[str] = []
    frags = Chem.GetMolFrags(mol, asMols=True, sanitizeFrags=True)
    parent = mol
    if len(frags) > 1:
        chooser = rdMolStandardize.LargestFragmentChooser(preferOrganic=True)
        parent = chooser.choose(mol)
        removed = sorted(
            {Chem.MolToSmiles(f) for f in frags if Chem.MolToSmiles(f) != Chem.MolToSmiles(parent)}
        )
        notes.append(f"salt/counter-ion stripped: {', '.join(removed)}; checking the parent")
    charged = any(a.GetFormalCharge() != 0 for a in parent.GetAtoms())
    if charged:
        uncharged = rdMolStandardize.Uncharger().uncharge(parent)
        if Chem.MolToSmiles(uncharged) != Chem.MolToSmiles(parent):
            notes.append("charged parent neutralised (protonated amine taken as its free base)")
            parent = uncharged
    if parent.GetNumHeavyAtoms() == 0:
        raise InputError("structure has no heavy atoms", source or "TARGET")
    return Target(
        name=name,
        smiles=Chem.MolToSmiles(parent),
        mol=parent,
        input_smiles=input_smiles,
        notes=notes,
        source=source,
    )
