"""Expected 1H groups: sets of symmetry-equivalent hydrogens with their predicted windows."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from rdkit import Chem

from .couplings import group_couplings
from .shifts import ShiftPredictor, ShiftWindow


@dataclass(frozen=True)
class HGroup:
    """One group of equivalent protons the spectrum should show."""

    id: str  # "G1", "G2", ... in order of decreasing predicted shift
    atoms: tuple[int, ...]  # heavy atoms carrying these H (RDKit indices of the parent)
    n_h: int  # how many H
    label: str  # environment in a chemist's words
    lo: float  # predicted window (ppm) in the requested solvent
    hi: float
    exchangeable: bool = False
    source: str = "rules"
    note: str = ""
    centre: float | None = None
    # each H's own point prediction, ascending, where the predictor gives one for every member (the learned model:
    # the two H of a diastereotopic CH2 apart); empty for rule windows
    h_centres: tuple[float, ...] = ()
    multiplicity: str = ""  # first-order hint from neighbouring CH count: s, d, t, q, m
    # may show as more than one signal: diastereotopic (a stereocentre, a ring CH2), rotameric (next to an
    # amide/carbamate N) or exchangeable; otherwise equivalent H give ONE multiplet
    may_split: bool = False
    # aromatic CH of a six-membered ring with no F/P near: how many ring C-H sit ortho to it (0, 1 or 2;
    # ortho 3J 7-9 Hz, meta 4J 1-3 Hz): 1 makes a doublet, 2 a triplet/dd, 0 a (narrow) singlet
    ortho_h: int | None = None
    # coupling partners through the graph with typical |J| (verify.structure.couplings.Coupling, by partner id)
    couplings: tuple = ()

    @property
    def mid(self) -> float:
        return self.centre if self.centre is not None else 0.5 * (self.lo + self.hi)

    @property
    def sigma_ppm(self) -> float:
        """Standard deviation of the shift prediction, ppm: the window is a ~90 % interval (the model's 5-95 %
        quantiles widened by a conformal margin, about +-1.645 sigma), so sigma = width / 3.29, at least 0.03."""
        return max((self.hi - self.lo) * (1.0 / 3.29), 0.03)

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "atoms": list(self.atoms),
            "n_h": self.n_h,
            "label": self.label,
            "window": [round(self.lo, 3), round(self.hi, 3)],
            "centre": None if self.centre is None else round(self.centre, 3),
            "h_centres": [round(c, 3) for c in self.h_centres],
            "multiplicity": self.multiplicity,
            "exchangeable": self.exchangeable,
            "source": self.source,
            "note": self.note,
            "may_split": self.may_split,
            "ortho_h": self.ortho_h,
            "couplings": [c.to_dict() for c in self.couplings],
        }


def _near_spin_half_heteroatom(mol: Chem.Mol, idx: int) -> bool:
    """19F or 31P within two bonds of the carbon (so within three of its H: a resolved H-F/H-P coupling)."""
    dist = Chem.GetDistanceMatrix(mol)
    return any(a.GetAtomicNum() in (9, 15) and dist[idx][a.GetIdx()] <= 2 for a in mol.GetAtoms())


def _multiplicity_hint(mol: Chem.Mol, atoms: tuple[int, ...], exchangeable: bool) -> str:
    """First-order guess from the number of H on neighbouring sp3/sp2 carbons (n+1 rule)."""
    if exchangeable:
        return "br s"
    atom = mol.GetAtomWithIdx(atoms[0])
    neighbours_h = 0
    for nb in atom.GetNeighbors():
        if nb.GetAtomicNum() == 6:
            neighbours_h += nb.GetTotalNumHs()
    if not neighbours_h and _near_spin_half_heteroatom(mol, atom.GetIdx()):
        return "m"  # 2J/3J(H,F) and (H,P) split it: a CF3CH2 is a quartet, a CH2F a doublet
    if atom.GetIsAromatic():
        return "m" if neighbours_h else "s"
    return {0: "s", 1: "d", 2: "t", 3: "q"}.get(neighbours_h, "m")


_ACYL_N = Chem.MolFromSmarts("[NX3;!$([N]-[#1])]-[CX3,SX4]=[O,S]")  # tertiary amide/carbamate/urea/sulfonamide N


def _rotamer_ns(mol: Chem.Mol) -> list[int]:
    """Tertiary amide/carbamate/urea/sulfonamide N: slow C-N rotation gives rotamers."""
    return [m[0] for m in mol.GetSubstructMatches(_ACYL_N) if mol.GetAtomWithIdx(m[0]).GetDegree() == 3]


def _has_stereocentre(mol: Chem.Mol) -> bool:
    return bool(Chem.FindMolChiralCenters(mol, includeUnassigned=True, useLegacyImplementation=False))


def _may_split(
    mol: Chem.Mol,
    atoms: tuple[int, ...],
    exchangeable: bool,
    note: str,
    rotamer_ns: list[int] | None = None,
    chiral: bool | None = None,
) -> bool:
    """Whether a group of equivalent H may legitimately show as more than one signal.

    Exchangeable H (several NH/OH species, exchange with water); H within two bonds of a tertiary
    amide/carbamate N (slow C-N rotation: two rotamers, each its own set of signals); a CH2 whose two H are
    diastereotopic (a stereocentre in the molecule, or the CH2 in a ring whose two faces differ:
    `_ring_faces_differ`); two
    or more equivalent CH3/CH2 in a molecule with a stereocentre (diastereotopic groups, e.g. an
    isopropyl next to a stereocentre). Everything else (aromatic CH, a lone CH, a CH3, an achiral chain
    CH2) is one multiplet. `rotamer_ns` and `chiral` are properties of the whole molecule
    (`_rotamer_ns`, `_has_stereocentre`): computed here when not given, once per molecule by
    `expected_groups`.
    """
    if exchangeable or "rotamer" in note:
        return True
    dist = Chem.GetDistanceMatrix(mol)
    # the C-H next to the amide/carbamate N (H two bonds from it) doubles; one C further the two rotamers
    # differ by a few hundredths of a ppm, inside one multiplet
    if any(dist[a][n] <= 1 for n in (_rotamer_ns(mol) if rotamer_ns is None else rotamer_ns) for a in atoms):
        return True
    chiral = _has_stereocentre(mol) if chiral is None else chiral
    first = mol.GetAtomWithIdx(atoms[0])
    if first.GetTotalNumHs() == 2 and (
        chiral or _ring_faces_differ(mol, first.GetIdx()) or first.GetHybridization() == Chem.HybridizationType.SP2
    ):
        return True  # (a =CH2's two H sit cis and trans to the other end: two signals)
    return chiral and len(atoms) > 1 and not first.GetIsAromatic()


def _ring_faces_differ(mol: Chem.Mol, idx: int) -> bool:
    """Whether the two faces of the ring holding CH2 `idx` differ, so that its two H are diastereotopic.

    They do when a ring carbon carries a substituent (its cis and trans H: a 4-substituted cyclohexane,
    a 2-methylpiperazine) or the ring is fused, bridged or spiro (its flip is hindered). A ring substituted
    on nitrogen only (an N,N'-disubstituted piperazine or 1,4-diazepane, an N-alkylpiperidine) flips and
    inverts at N fast at room temperature: its CH2 are one signal each.
    """
    info = mol.GetRingInfo()
    for ring in info.AtomRings():
        if idx not in ring:
            continue
        members = set(ring)
        for a in ring:
            atom = mol.GetAtomWithIdx(a)
            if info.NumAtomRings(a) > 1:
                return True
            if (
                atom.GetAtomicNum() == 6
                and not atom.GetIsAromatic()
                and any(n.GetIdx() not in members and n.GetAtomicNum() > 1 for n in atom.GetNeighbors())
            ):
                return True
    return False


def _ortho_h(mol: Chem.Mol, idx: int) -> int | None:
    """Ring C-H ortho to the aromatic C-H `idx` in its six-membered ring, or None where the count does not
    set the pattern (not aromatic, not a 6-ring, a 19F/31P within two bonds: J(H,F) adds large splittings)."""
    atom = mol.GetAtomWithIdx(idx)
    if not atom.GetIsAromatic() or atom.GetAtomicNum() != 6 or _near_spin_half_heteroatom(mol, idx):
        return None
    ri = mol.GetRingInfo()
    if not any(len(r) == 6 and idx in r for r in ri.AtomRings()):
        return None
    return sum(
        1
        for nb in atom.GetNeighbors()
        if nb.GetIsAromatic()
        and nb.GetAtomicNum() == 6
        and nb.GetTotalNumHs() > 0
        and any(len(r) == 6 and idx in r and nb.GetIdx() in r for r in ri.AtomRings())
    )


def group_window(windows: list[ShiftWindow]) -> ShiftWindow:
    """One window for a group of symmetry-equivalent atoms: the union of its members' windows, centred on the
    mean of their centres. (Rule windows of equivalent atoms are equal; a learned model, which sees one 3D
    conformer, gives equivalent atoms slightly different values.)"""
    first = windows[0]
    if len(windows) == 1:
        return first
    centres = [w.centre for w in windows if w.centre is not None]
    per_h = tuple(sorted(c for w in windows for c in w.h_centres)) if all(w.h_centres for w in windows) else ()
    return ShiftWindow(
        lo=min(w.lo for w in windows),
        hi=max(w.hi for w in windows),
        label=first.label,
        exchangeable=first.exchangeable,
        source=first.source,
        note=first.note,
        centre=round(sum(centres) / len(centres), 3) if len(centres) == len(windows) else first.centre,
        h_centres=per_h,
    )


def expected_groups(mol: Chem.Mol, solvent: str = "cdcl3", predictor: ShiftPredictor | None = None) -> list[HGroup]:
    """Group the molecule's hydrogens by topological symmetry and give each group its window.

    Equivalence: RDKit canonical ranks without tie-breaking; hydrogens on heavy atoms of equal rank
    are taken as equivalent (diastereotopic CH2 protons stay one group of 2H). `predictor` defaults to the
    project's default (`verify.structure.learned.default_predictor`: the learned model where it applies, the
    rules elsewhere).
    """
    if predictor is None:
        from .learned import default_predictor

        predictor = default_predictor()
    ranks = list(Chem.CanonicalRankAtoms(mol, breakTies=False))
    windows = predictor.predict(mol, solvent)
    by_rank: dict[int, list[int]] = defaultdict(list)
    for atom in mol.GetAtoms():
        if atom.GetTotalNumHs() > 0:
            by_rank[ranks[atom.GetIdx()]].append(atom.GetIdx())
    groups = []
    rotamer_ns, chiral = _rotamer_ns(mol), _has_stereocentre(mol)  # once per molecule, not per group
    for _rank, members in by_rank.items():
        atoms = tuple(sorted(members))
        n_h = sum(mol.GetAtomWithIdx(a).GetTotalNumHs() for a in atoms)
        if any(a not in windows for a in atoms):
            # a partial predictor (the learned model alone gives no window for N-H/O-H): the rules fill in
            from .shifts import RuleShiftPredictor

            windows = {**RuleShiftPredictor().predict(mol, solvent), **windows}
        w = group_window([windows[a] for a in atoms])
        groups.append(
            HGroup(
                id="",
                atoms=atoms,
                n_h=n_h,
                label=w.label,
                lo=w.lo,
                hi=w.hi,
                exchangeable=w.exchangeable,
                source=w.source,
                note=w.note,
                centre=w.centre,
                h_centres=w.h_centres,
                multiplicity=_multiplicity_hint(mol, atoms, w.exchangeable),
                may_split=_may_split(mol, atoms, w.exchangeable, w.note, rotamer_ns, chiral),
                ortho_h=_ortho_h(mol, atoms[0]),
            )
        )
    groups.sort(key=lambda g: (-g.mid, g.atoms))
    named = [HGroup(**{**g.__dict__, "id": f"G{i + 1}"}) for i, g in enumerate(groups)]
    partners = group_couplings(mol, named)
    return [HGroup(**{**g.__dict__, "couplings": partners.get(g.id, ())}) for g in named]
