"""Plausible competing structures: what else the chemist may have made, or what else the data could be.

Each is one edit of the target's graph that this chemistry (or a wrong building block) makes easily:
  position   a ring substituent moved to another ring C-H of the same aromatic 6-ring (o/m/p on a benzene;
             2-/3-/4-pyridyl when the moved bond is the attachment of a pyridine), same formula;
  swap       the substituents of the two N of one ring exchanged (1,4-disubstituted ring with an
             unsymmetric ring: which N was alkylated), same formula;
  ring       a 1,4-diazepane ring contracted to a piperazine (C6 removed) or a piperazine expanded;
  homologue  an acyclic CH2 removed or doubled (+/- CH2);
  methyl     an amine N-H methylated or an amine N-CH3 demethylated;
  redox      a ketone reduced to the secondary alcohol, or a secondary alcohol oxidised to the ketone.
Which of them the data tell apart is decided downstream (verify.nmr.alternatives for 1H, the HRMS
formula for the rest); this module only names them.
"""

from __future__ import annotations

from dataclasses import dataclass

from rdkit import Chem

__all__ = ["Alternative", "competing_structures"]

# same-formula edits first: 1H alone must tell them apart
KIND_ORDER = ("position", "swap", "ring", "homologue", "methyl", "redox")

_AMIDE_N = Chem.MolFromSmarts("[#7]-[#6,#16]=[#8,#16]")
_KETONE = Chem.MolFromSmarts("[#6]-[CX3](=[OX1])-[#6]")
_SEC_ALCOHOL = Chem.MolFromSmarts("[#6]-[CX4;H1](-[OX2H1])-[#6]")


@dataclass(frozen=True)
class Alternative:
    """One competing structure: canonical SMILES, the kind of edit and a chemist's description."""

    smiles: str
    kind: str
    description: str

    def to_dict(self) -> dict:
        return {"smiles": self.smiles, "kind": self.kind, "description": self.description}


def _finish(rw: Chem.RWMol) -> str | None:
    """Canonical SMILES of an edited molecule, or None when the edit left an impossible structure."""
    mol = rw.GetMol()
    for a in mol.GetAtoms():
        a.SetNoImplicit(False)
        if a.GetAtomicNum() == 6:  # carbon H counts follow from the new bonds
            a.SetNumExplicitHs(0)
    try:
        Chem.SanitizeMol(mol)
    except (Chem.rdchem.AtomValenceException, Chem.rdchem.KekulizeException, ValueError, RuntimeError):
        return None
    smi = Chem.MolToSmiles(mol)
    return smi if Chem.MolFromSmiles(smi) is not None else None


def _editable(mol: Chem.Mol) -> Chem.RWMol:
    rw = Chem.RWMol(mol)
    Chem.Kekulize(rw, clearAromaticFlags=True)
    return rw


def _insert_ch2(mol: Chem.Mol, i: int, j: int) -> str | None:
    """`mol` with a CH2 inserted into the single bond i-j."""
    rw = _editable(mol)
    rw.RemoveBond(i, j)
    c = rw.AddAtom(Chem.Atom(6))
    rw.AddBond(i, c, Chem.BondType.SINGLE)
    rw.AddBond(c, j, Chem.BondType.SINGLE)
    return _finish(rw)


def _position_isomers(mol: Chem.Mol):
    ri = mol.GetRingInfo()
    for ring in ri.AtomRings():
        if len(ring) != 6 or not all(mol.GetAtomWithIdx(i).GetIsAromatic() for i in ring):
            continue
        ring_set = set(ring)
        free = [
            i for i in ring if mol.GetAtomWithIdx(i).GetAtomicNum() == 6 and mol.GetAtomWithIdx(i).GetTotalNumHs() > 0
        ]
        for r in ring:
            for nb in mol.GetAtomWithIdx(r).GetNeighbors():
                s = nb.GetIdx()
                bond = mol.GetBondBetweenAtoms(r, s)
                if s in ring_set or bond.IsInRing() or bond.GetBondType() != Chem.BondType.SINGLE:
                    continue
                for t in free:
                    rw = _editable(mol)
                    rw.RemoveBond(r, s)
                    rw.AddBond(t, s, Chem.BondType.SINGLE)
                    smi = _finish(rw)
                    if smi:
                        yield smi, "position", "a ring substituent at another position of the same ring"


def _n_swaps(mol: Chem.Mol):
    ri = mol.GetRingInfo()
    for ring in ri.AtomRings():
        ns = [
            i for i in ring if mol.GetAtomWithIdx(i).GetAtomicNum() == 7 and not mol.GetAtomWithIdx(i).GetIsAromatic()
        ]
        if len(ns) != 2:
            continue
        a, b = ns
        ring_set = set(ring)
        exo = {
            n: [
                x.GetIdx()
                for x in mol.GetAtomWithIdx(n).GetNeighbors()
                if x.GetIdx() not in ring_set and not mol.GetBondBetweenAtoms(n, x.GetIdx()).IsInRing()
            ]
            for n in ns
        }
        if len(exo[a]) > 1 or len(exo[b]) > 1 or (not exo[a] and not exo[b]):
            continue
        rw = _editable(mol)
        for n, other in ((a, b), (b, a)):
            for s in exo[n]:
                bt = mol.GetBondBetweenAtoms(n, s).GetBondType()
                rw.RemoveBond(n, s)
                rw.AddBond(other, s, bt)
        for n in ns:
            rw.GetAtomWithIdx(n).SetNumExplicitHs(0)
        smi = _finish(rw)
        if smi:
            yield smi, "swap", "the substituents of the two ring N exchanged"


def _ring_size(mol: Chem.Mol):
    for ring in mol.GetRingInfo().AtomRings():
        atoms = [mol.GetAtomWithIdx(i) for i in ring]
        if any(a.GetIsAromatic() for a in atoms) or sum(a.GetAtomicNum() == 7 for a in atoms) != 2:
            continue
        if len(ring) == 7:
            # 1,4-diazepane C6: the ring carbon whose two ring neighbours are both carbons
            for i in ring:
                a = mol.GetAtomWithIdx(i)
                ring_nbs = [x.GetIdx() for x in a.GetNeighbors() if x.GetIdx() in ring]
                if (
                    a.GetAtomicNum() == 6
                    and a.GetDegree() == 2
                    and all(mol.GetAtomWithIdx(x).GetAtomicNum() == 6 for x in ring_nbs)
                ):
                    rw = _editable(mol)
                    rw.AddBond(ring_nbs[0], ring_nbs[1], Chem.BondType.SINGLE)
                    rw.RemoveAtom(i)
                    smi = _finish(rw)
                    if smi:
                        yield smi, "ring", "a piperazine in place of the 1,4-diazepane (one ring CH2 fewer)"
                    break
        elif len(ring) == 6:
            for k in range(6):
                i, j = ring[k], ring[(k + 1) % 6]
                if mol.GetAtomWithIdx(i).GetAtomicNum() == 6 and mol.GetAtomWithIdx(j).GetAtomicNum() == 6:
                    smi = _insert_ch2(mol, i, j)
                    if smi:
                        yield smi, "ring", "a 1,4-diazepane in place of the piperazine (one ring CH2 more)"
                    break


def _homologues(mol: Chem.Mol):
    for a in mol.GetAtoms():
        if (
            a.GetAtomicNum() != 6
            or a.IsInRing()
            or a.GetTotalNumHs() != 2
            or a.GetDegree() != 2
            or a.GetHybridization() != Chem.HybridizationType.SP3
        ):
            continue
        i = a.GetIdx()
        n1, n2 = (x.GetIdx() for x in a.GetNeighbors())
        rw = _editable(mol)
        rw.AddBond(n1, n2, Chem.BondType.SINGLE)
        rw.RemoveAtom(i)
        smi = _finish(rw)
        if smi:
            yield smi, "homologue", "one CH2 fewer in the chain"
        smi = _insert_ch2(mol, i, n2)
        if smi:
            yield smi, "homologue", "one CH2 more in the chain"


def _methyls(mol: Chem.Mol):
    amide_n = {m[0] for m in mol.GetSubstructMatches(_AMIDE_N)}
    for a in mol.GetAtoms():
        if a.GetAtomicNum() != 7 or a.GetIsAromatic() or a.GetIdx() in amide_n or a.GetFormalCharge():
            continue
        if a.GetTotalNumHs() > 0:
            rw = _editable(mol)
            c = rw.AddAtom(Chem.Atom(6))
            rw.AddBond(a.GetIdx(), c, Chem.BondType.SINGLE)
            rw.GetAtomWithIdx(a.GetIdx()).SetNumExplicitHs(0)
            smi = _finish(rw)
            if smi:
                yield smi, "methyl", "N-CH3 in place of the N-H"
        for nb in a.GetNeighbors():
            if nb.GetAtomicNum() == 6 and nb.GetDegree() == 1 and nb.GetTotalNumHs() == 3:
                rw = _editable(mol)
                rw.RemoveAtom(nb.GetIdx())
                smi = _finish(rw)
                if smi:
                    yield smi, "methyl", "N-H in place of the N-CH3"
                break


def _redox(mol: Chem.Mol):
    for m in mol.GetSubstructMatches(_KETONE):
        rw = _editable(mol)
        rw.GetBondBetweenAtoms(m[1], m[2]).SetBondType(Chem.BondType.SINGLE)
        smi = _finish(rw)
        if smi:
            yield smi, "redox", "the secondary alcohol in place of the ketone"
    for m in mol.GetSubstructMatches(_SEC_ALCOHOL):
        rw = _editable(mol)
        rw.GetBondBetweenAtoms(m[1], m[2]).SetBondType(Chem.BondType.DOUBLE)
        rw.GetAtomWithIdx(m[2]).SetNumExplicitHs(0)
        smi = _finish(rw)
        if smi:
            yield smi, "redox", "the ketone in place of the secondary alcohol"


_EDITS = (_position_isomers, _n_swaps, _ring_size, _homologues, _methyls, _redox)


def competing_structures(mol: Chem.Mol, limit: int = 12) -> list[Alternative]:
    """Plausible competing structures of `mol` (salt-free parent), same-formula isomers first.

    Parameters
    ----------
    mol : rdkit.Chem.Mol
        The target's parent structure.
    limit : int, optional
        At most this many alternatives (default 12): each costs one shift prediction and one comparison.

    Returns
    -------
    list of Alternative
        Distinct structures (canonical SMILES), none equal to the target, in the order of KIND_ORDER.
    """
    own = Chem.MolToSmiles(mol)
    seen = {own}
    out: list[Alternative] = []
    if mol.GetNumHeavyAtoms() > 80:  # a peptide or macrocycle: too many edits, none of them this chemistry's
        return out
    for edit in _EDITS:
        try:
            found = list(edit(mol))
        except (RuntimeError, ValueError, Chem.rdchem.KekulizeException):
            continue
        for smi, kind, desc in found:
            if smi not in seen and "." not in smi:
                seen.add(smi)
                out.append(Alternative(smi, kind, desc))
    out.sort(key=lambda a: KIND_ORDER.index(a.kind))
    return out[:limit]
