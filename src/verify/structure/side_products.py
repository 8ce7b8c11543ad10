"""This chemistry's usual suspects, derived from the target itself.

For a 1,4-diazepane made by Boc protection, reductive amination / N-alkylation and Boc deprotection,
the side products and leftovers a chemist looks for are:
  * Boc not removed: the target with a Boc on a free ring N-H (+C5H8O2, +100.0524 Da);
  * over-alkylation: the substituent the chemistry put on one ring N also on the other, free N-H;
  * de-benzylation / starting amine: a benzyl or alkyl group on a ring N replaced by H;
  * Boc-protected starting material: Boc on one ring N, H on the other;
  * the aldehyde of a benzyl group (reductive amination leftover) and its alcohol (aldehyde reduction).
All are plain RDKit molecules with names; NMR and HRMS both use them to name what they see.
"""

from __future__ import annotations

from dataclasses import dataclass

from rdkit import Chem

from .diazepane import find_diazepanes
from .masses import composition, hill_formula, monoisotopic_mass

BOC = "C(=O)OC(C)(C)C"


@dataclass(frozen=True)
class SideProduct:
    name: str  # "Boc not removed", "over-alkylation (benzyl)", ...
    kind: str  # boc_not_removed | over_alkylation | dealkylation | starting_material | aldehyde | alcohol
    smiles: str
    formula: str
    monoisotopic_mass: float
    delta_mass: float  # relative to the target (Da)

    @property
    def mol(self) -> Chem.Mol:
        return Chem.MolFromSmiles(self.smiles)


def _make(name: str, kind: str, mol: Chem.Mol | None, target_mass: float) -> SideProduct | None:
    if mol is None:  # the substituent could not be put on
        return None
    try:
        Chem.SanitizeMol(mol)
    except Exception:
        return None
    counts = composition(mol)
    m = monoisotopic_mass(counts)
    return SideProduct(name, kind, Chem.MolToSmiles(mol), hill_formula(counts), m, m - target_mass)


def _substituent_smiles(mol: Chem.Mol, n_idx: int, ring: set[int]) -> tuple[str, int] | None:
    """SMILES of the exocyclic substituent on a ring N (attachment atom first) and its first atom."""
    n = mol.GetAtomWithIdx(n_idx)
    for nb in n.GetNeighbors():
        if nb.GetIdx() in ring:
            continue
        em = Chem.RWMol(mol)
        bond = em.GetBondBetweenAtoms(n_idx, nb.GetIdx())
        frag = Chem.FragmentOnBonds(mol, [bond.GetIdx()], addDummies=False)
        for f_atoms in Chem.GetMolFrags(frag, asMols=False):
            if nb.GetIdx() in f_atoms:
                sub = Chem.MolFragmentToSmiles(mol, atomsToUse=list(f_atoms), rootedAtAtom=nb.GetIdx())
                return sub, nb.GetIdx()
    return None


def _replace_nh(mol: Chem.Mol, n_idx: int, substituent_smiles: str) -> Chem.Mol | None:
    """Put a substituent (SMILES, attachment atom first) on N-H atom n_idx."""
    sub = Chem.MolFromSmiles(substituent_smiles)
    if sub is None:
        return None
    combo = Chem.RWMol(Chem.CombineMols(mol, sub))
    offset = mol.GetNumAtoms()
    combo.AddBond(n_idx, offset, Chem.BondType.SINGLE)
    a = combo.GetAtomWithIdx(n_idx)
    a.SetNumExplicitHs(0)
    a.SetNoImplicit(False)
    return combo.GetMol()


def _remove_substituent(mol: Chem.Mol, n_idx: int, ring: set[int]) -> Chem.Mol | None:
    # keep everything reachable from the ring without crossing n_idx -> exocyclic bond
    n = mol.GetAtomWithIdx(n_idx)
    exo = [nb.GetIdx() for nb in n.GetNeighbors() if nb.GetIdx() not in ring]
    if not exo:
        return None
    rw = Chem.RWMol(mol)
    for a in rw.GetAtoms():  # remember original indices across atom removal
        a.SetIntProp("orig_idx", a.GetIdx())
    rw.RemoveBond(n_idx, exo[0])
    frags = Chem.GetMolFrags(rw, asMols=False, sanitizeFrags=False)
    main = next(f for f in frags if n_idx in f)
    drop = sorted(set(range(mol.GetNumAtoms())) - set(main), reverse=True)
    for i in drop:
        rw.RemoveAtom(i)
    m = rw.GetMol()
    for a in m.GetAtoms():
        a.SetNoImplicit(False)
        if a.GetSymbol() == "N":
            a.SetNumExplicitHs(0)
    return m


def side_products(target_mol: Chem.Mol) -> list[SideProduct]:
    """Named side products and leftovers for a diazepane target (empty for other chemotypes)."""
    target_mass = monoisotopic_mass(composition(target_mol))
    out: dict[str, SideProduct] = {}  # keyed by canonical SMILES
    rings = find_diazepanes(target_mol)
    target_smiles = Chem.MolToSmiles(target_mol)

    def add(sp):
        if not sp or sp.smiles == target_smiles:
            return
        if sp.smiles in out:
            # one molecule, two routes to it (e.g. de-benzylation of a Boc/benzyl target gives the
            # Boc-protected starting amine): keep both names so the chemist sees either reading
            prev = out[sp.smiles]
            if sp.name not in prev.name:
                out[sp.smiles] = SideProduct(
                    f"{prev.name} / {sp.name}",
                    prev.kind,
                    prev.smiles,
                    prev.formula,
                    prev.monoisotopic_mass,
                    prev.delta_mass,
                )
            return
        out[sp.smiles] = sp

    for ring in rings:
        ring_atoms = {ring.n1, ring.n4} | {p.atom_idx for p in ring.positions}
        for n_idx, cls, other_idx, other_cls in (
            (ring.n1, ring.n1_class, ring.n4, ring.n4_class),
            (ring.n4, ring.n4_class, ring.n1, ring.n1_class),
        ):
            if cls == "H":
                add(_make("Boc not removed", "boc_not_removed", _replace_nh(target_mol, n_idx, BOC), target_mass))
                if other_cls in ("benzyl", "alkyl"):
                    sub = _substituent_smiles(target_mol, other_idx, ring_atoms)
                    if sub:
                        add(
                            _make(
                                f"over-alkylation ({_name(sub[0])})",
                                "over_alkylation",
                                _replace_nh(target_mol, n_idx, sub[0]),
                                target_mass,
                            )
                        )
            if cls in ("benzyl", "alkyl", "acyl/amide", "sulfonyl", "aryl"):
                sub = _substituent_smiles(target_mol, n_idx, ring_atoms)
                stripped = _remove_substituent(target_mol, n_idx, ring_atoms)
                if stripped is not None:
                    label = "de-benzylation" if cls == "benzyl" else f"loss of N-{cls} (starting amine)"
                    if other_cls == "Boc/carbamate" and cls in ("benzyl", "alkyl"):
                        # the target was made from this Boc-protected amine: it is also the starting material
                        label += " / unreacted starting amine"
                    add(_make(label, "dealkylation", stripped, target_mass))
                    if other_cls == "H":
                        boc_sm = _replace_nh(Chem.Mol(stripped), _find_orig(stripped, other_idx), BOC)
                        add(_make("Boc-protected starting amine", "starting_material", boc_sm, target_mass))
                if cls == "benzyl" and sub:
                    ald = Chem.MolFromSmiles(sub[0])
                    if ald is not None:
                        rw = Chem.RWMol(ald)
                        o = rw.AddAtom(Chem.Atom(8))
                        rw.AddBond(0, o, Chem.BondType.DOUBLE)
                        add(_make("aldehyde (reductive amination leftover)", "aldehyde", rw.GetMol(), target_mass))
                        rw2 = Chem.RWMol(ald)
                        o2 = rw2.AddAtom(Chem.Atom(8))
                        rw2.AddBond(0, o2, Chem.BondType.SINGLE)
                        add(_make("alcohol from aldehyde reduction", "alcohol", rw2.GetMol(), target_mass))
    return list(out.values())


def _find_orig(mol: Chem.Mol, orig_idx: int) -> int:
    for a in mol.GetAtoms():
        if a.HasProp("orig_idx") and a.GetIntProp("orig_idx") == orig_idx:
            return a.GetIdx()
    raise KeyError(orig_idx)


def _name(sub_smiles: str) -> str:
    m = Chem.MolFromSmiles(sub_smiles)
    if (
        m is not None
        and m.GetNumAtoms() > 1
        and m.GetAtomWithIdx(0).GetDegree() == 1
        and any(a.GetIsAromatic() for a in m.GetAtomWithIdx(0).GetNeighbors())
    ):
        return "benzyl"
    return sub_smiles
