"""The species a sample of the target may be in solution: the free base, or its ammonium salt.

Diazepanes from this chemistry are often isolated as the TFA or HCl salt (Boc removal with acid), and
a registered free base may still be the salt, a registered salt may have been free-based in the work-up;
the stoichiometry (mono or bis) is rarely known. Protonation moves the N-CH2 signals downfield (ring N-CH2
about 2.5-2.9 -> 3.0-3.5 ppm, benzylic CH2 3.5 -> 4.2) and adds a broad N-H+ (8-10 ppm in DMSO-d6), so
the 1H check reads the spectrum as each form and keeps the one that explains it best.
"""

from __future__ import annotations

from dataclasses import dataclass

from rdkit import Chem

__all__ = ["Species", "protonated_forms", "basic_amines"]

# an amine N that takes a proton in acid: sp3, neutral, not on a carbonyl/sulfonyl/aryl/heteroatom
_BASIC_N = Chem.MolFromSmarts(
    "[NX3;H0,H1,H2;+0;!$(N-[#6,#16,#15]=[O,S,N]);!$(N-a);!$(N-[#7,#8,#16]);!$(N-C#N);!$(N=*)]"
)


@dataclass(frozen=True)
class Species:
    """One form of the target: its molecule, canonical SMILES and a chemist's name for it."""

    mol: Chem.Mol
    smiles: str
    name: str  # "free base", "mono-protonated (ammonium salt)", ...
    n_protonated: int


def basic_amines(mol: Chem.Mol) -> list[int]:
    """Indices of the amine N that take a proton in acid (alkyl amines; not amides, anilines, carbamates)."""
    return [m[0] for m in mol.GetSubstructMatches(_BASIC_N)]


def protonated_forms(mol: Chem.Mol, max_forms: int = 3) -> list[Species]:
    """Ammonium forms of a neutral parent: each basic N protonated alone, then all of them together.

    Parameters
    ----------
    mol : rdkit.Chem.Mol
        The neutral parent (salt stripped).
    max_forms : int, optional
        At most this many forms (default 3: each of two basic N alone, and both).

    Returns
    -------
    list of Species
        Distinct forms (canonical SMILES), mono-protonated first; empty without a basic N.
    """
    sites = basic_amines(mol)
    if not sites:
        return []
    sets: list[tuple[int, ...]] = [(i,) for i in sites[:2]]
    if len(sites) >= 2:
        sets.append(tuple(sites[:3]))  # the bis (or tris) salt
    out: list[Species] = []
    seen = set()
    for chosen in sets:
        rw = Chem.RWMol(mol)
        for i in chosen:
            a = rw.GetAtomWithIdx(i)
            a.SetFormalCharge(1)
            a.SetNumExplicitHs(a.GetTotalNumHs() + 1)
            a.SetNoImplicit(True)
        try:
            m = rw.GetMol()
            Chem.SanitizeMol(m)
        except (ValueError, RuntimeError):
            continue
        smi = Chem.MolToSmiles(m)
        if smi in seen:
            continue
        seen.add(smi)
        n = len(chosen)
        name = (
            "mono-protonated (ammonium salt)"
            if n == 1
            else ("bis-protonated (ammonium salt)" if n == 2 else f"{n}-fold protonated (ammonium salt)")
        )
        out.append(Species(Chem.MolFromSmiles(smi), smi, name, n))
    return out[:max_forms]
