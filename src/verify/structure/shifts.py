"""Where the expected 1H windows come from.

One small interface, `ShiftPredictor.predict(mol, solvent) -> {atom_idx: ShiftWindow}`, keyed by the
heavy atom that carries the hydrogens. The rule-based predictor reads SMARTS-keyed windows from
`reference/shift_rules.tsv`, refines benzene CH by substituent increments and gives 1,4-diazepane ring
CH2 their neighbour-dependent windows. Two structure-wide corrections follow (numbers and sources in the
header of shift_rules.tsv): a CH2 of a rigid bridged bicyclic gets a higher upper edge (its two H are held
apart), higher still when it is held 1,3 to a pendant aryl, and in an aromatic solvent (C6D6, toluene-d8) every window is widened by its aromatic-solvent-induced
shift margin. A learned per-atom predictor can sit beside it with the same interface (`predict` returning
centre +/- its own error estimate).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from typing import Any, Protocol

from rdkit import Chem

from .. import reference
from .diazepane import find_diazepanes

# Solvents with their own column in the rule tables; others use the nearest (documented in README).
RULE_COLUMNS = {"cdcl3": "cdcl3", "dmso": "dmso"}


@dataclass(frozen=True)
class ShiftWindow:
    lo: float
    hi: float
    label: str  # environment a chemist recognises, e.g. "ArCH2-N (benzylic amine)"
    exchangeable: bool = False
    source: str = "rules"  # which rule table or predictor gave the window
    note: str = ""
    centre: float | None = None  # point prediction where the method gives one
    # per-H point predictions, ascending, where the method tells the H of one carbon apart (a learned model sees
    # the two faces of a ring CH2 in 3D: menthol's C6-H2 at 2.04 and 0.93, observed 1.98 and 0.95); the centre is
    # their mean, which sits where neither H is
    h_centres: tuple[float, ...] = ()

    @property
    def mid(self) -> float:
        return self.centre if self.centre is not None else 0.5 * (self.lo + self.hi)


class ShiftPredictor(Protocol):
    name: str

    def predict(self, mol: Chem.Mol, solvent: str) -> dict[int, ShiftWindow]: ...


def rule_column(solvent_key: str) -> str:
    """Column of the rule tables used for a solvent: DMSO-d6 and strongly H-bonding solvents use the
    DMSO column, everything else CDCl3 (documented in the README)."""
    return "dmso" if solvent_key in ("dmso", "cd3od", "d2o", "acetone", "cd3cn") else "cdcl3"


def _row_window(row: dict, solvent_key: str, col: str) -> tuple[float, float]:
    """(lo, hi) of a shift_rules.tsv row for a solvent. D2O/H2O uses the row's own d2o columns where the
    table gives them (water changes the species: zwitterions, protonated amines), else the DMSO column."""
    if solvent_key == "d2o" and row.get("d2o_lo") is not None and row.get("d2o_hi") is not None:
        return float(row["d2o_lo"]), float(row["d2o_hi"])
    return float(row[f"{col}_lo"]), float(row[f"{col}_hi"])


def _meta() -> dict:
    return reference.table_meta("shift_rules.tsv")


def asis_solvents() -> frozenset[str]:
    """Solvent keys whose windows get the aromatic-solvent-induced shift margins (C6D6, toluene-d8)."""
    return frozenset(str(_meta().get("asis_solvents", "")).split(";")) - {""}


_HETERO = (7, 8, 15, 16, 9, 17, 35, 53)  # N, O, P, S, halogens: the polar groups benzene solvates


def _is_polar_neighbour(atom: Chem.Atom) -> bool:
    """A heteroatom, or a carbon carrying C=O / C=N / C#N / C=S (the dipole benzene sits against)."""
    if atom.GetAtomicNum() in _HETERO:
        return True
    if atom.GetAtomicNum() == 6:
        for b in atom.GetBonds():
            o = b.GetOtherAtom(atom)
            if o.GetAtomicNum() in (7, 8, 16) and b.GetBondType() in (Chem.BondType.DOUBLE, Chem.BondType.TRIPLE):
                return True
    return False


def asis_class(mol: Chem.Mol, idx: int, exchangeable: bool) -> str:
    """How exposed an H-bearing atom is to the aromatic-solvent shift: exchangeable | polar (bonded to a
    polar group, or an H on a heteroaromatic ring) | aromatic (benzene-type ring CH) | beta (one bond further
    from a polar group, or next to an aromatic ring/C=C) | remote (saturated hydrocarbon part)."""
    atom = mol.GetAtomWithIdx(idx)
    if exchangeable or atom.GetAtomicNum() != 6:
        return "exchangeable"
    if atom.GetIsAromatic():
        ri = mol.GetRingInfo()
        for ring in ri.AtomRings():
            if idx in ring and any(mol.GetAtomWithIdx(i).GetAtomicNum() != 6 for i in ring):
                return "polar"
        return "aromatic"
    nbs = list(atom.GetNeighbors())
    if any(_is_polar_neighbour(nb) for nb in nbs):
        return "polar"
    for nb in nbs:
        if nb.GetIsAromatic() or any(_is_polar_neighbour(nn) for nn in nb.GetNeighbors() if nn.GetIdx() != idx):
            return "beta"
        if any(b.GetBondType() != Chem.BondType.SINGLE for b in nb.GetBonds()):
            return "beta"
    return "remote"


def _with_note(w: ShiftWindow, note: str, **changes) -> ShiftWindow:
    """`w` with `changes` and `note` appended to its notes (each correction says what it did)."""
    return replace(w, note="; ".join(x for x in (w.note, note) if x), **changes)


def _bridged_systems(mol: Chem.Mol) -> list[set[int]]:
    """Atom sets of bridged ring systems: two smallest rings sharing three or more atoms (a bridge of at
    least one atom between two bridgeheads, e.g. norbornane C7), merged over shared rings."""
    rings = [set(r) for r in mol.GetRingInfo().AtomRings()]
    systems: list[set[int]] = []
    for i in range(len(rings)):
        for j in range(i + 1, len(rings)):
            if len(rings[i] & rings[j]) >= 3:
                merged = rings[i] | rings[j]
                for s in [s for s in systems if s & merged]:
                    merged |= s
                    systems.remove(s)
                systems.append(merged)
    return systems


def bicyclic_aryl_ch2(mol: Chem.Mol) -> dict[int, int]:
    """CH2 of a rigid bridged bicyclic that sit 1,3 to a ring carbon carrying a pendant (non-ring-fused)
    aryl or heteroaryl: {CH2 atom: aryl-bearing carbon}. A flexible monocyclic or open chain averages the
    through-space effect over conformers and is not included."""
    out: dict[int, int] = {}
    for system in _bridged_systems(mol):
        carriers = set()
        for c in system:
            a = mol.GetAtomWithIdx(c)
            if a.GetIsAromatic() or a.GetAtomicNum() != 6:
                continue
            for b in a.GetBonds():
                o = b.GetOtherAtom(a)
                if o.GetIsAromatic() and not b.IsInRing():
                    carriers.add(c)
        for c in carriers:
            for mid in mol.GetAtomWithIdx(c).GetNeighbors():
                if mid.GetIdx() not in system:
                    continue
                for ch2 in mid.GetNeighbors():
                    k = ch2.GetIdx()
                    if (
                        k != c
                        and k in system
                        and ch2.GetAtomicNum() == 6
                        and not ch2.GetIsAromatic()
                        and ch2.GetTotalNumHs() == 2
                    ):
                        out.setdefault(k, c)
    return out


@functools.cache
def _rules() -> tuple:
    out = []
    for row in reference.table("shift_rules.tsv"):
        patt = Chem.MolFromSmarts(row["smarts"])
        if patt is None:
            raise ValueError(f"bad SMARTS in shift_rules.tsv: {row['smarts']}")
        out.append((row, patt))
    return tuple(out)


@functools.cache
def _increments() -> tuple:
    out = []
    for row in reference.table("aromatic_increments.tsv"):
        out.append((row, Chem.MolFromSmarts(row["smarts"])))
    return tuple(out)


def _isolated_benzene_rings(mol: Chem.Mol) -> list[tuple[int, ...]]:
    ri = mol.GetRingInfo()
    rings = []
    for ring in ri.AtomRings():
        if len(ring) != 6:
            continue
        atoms = [mol.GetAtomWithIdx(i) for i in ring]
        if all(a.GetSymbol() == "C" and a.GetIsAromatic() and ri.NumAtomRings(a.GetIdx()) == 1 for a in atoms):
            rings.append(ring)
    return rings


def benzene_increment_shifts(mol: Chem.Mol) -> dict[int, tuple[float, list[str]]]:
    """Predicted shift (CDCl3) of each CH of an isolated benzene ring: 7.27 + sum of Z_ortho/meta/para."""
    meta = reference.table_meta("aromatic_increments.tsv")
    base = float(meta.get("base", 7.27))
    result = {}
    for ring in _isolated_benzene_rings(mol):
        ring_set = set(ring)
        subst: dict[int, tuple[dict, int]] = {}  # ring atom -> (increment row, substituent atom)
        for atom_idx in ring:
            atom = mol.GetAtomWithIdx(atom_idx)
            for nb in atom.GetNeighbors():
                if nb.GetIdx() in ring_set or nb.GetAtomicNum() == 1:
                    continue
                row = None
                for r, patt in _increments():
                    for m in mol.GetSubstructMatches(patt, uniquify=False):
                        if m[0] == atom_idx and m[1] == nb.GetIdx():
                            row = r
                            break
                    if row:
                        break
                subst[atom_idx] = (
                    (row, nb.GetIdx())
                    if row
                    else ({"substituent": "unknown", "z_ortho": 0.0, "z_meta": 0.0, "z_para": 0.0}, nb.GetIdx())
                )
        n = len(ring)
        for i, atom_idx in enumerate(ring):
            if mol.GetAtomWithIdx(atom_idx).GetTotalNumHs() == 0:
                continue
            delta = base
            used = []
            for j, other in enumerate(ring):
                if other not in subst:
                    continue
                d = min((i - j) % n, (j - i) % n)
                row = subst[other][0]
                z = {1: row["z_ortho"], 2: row["z_meta"], 3: row["z_para"]}.get(d)
                if z is None:
                    continue
                delta += float(z)
                used.append(f"{'o' if d == 1 else 'm' if d == 2 else 'p'}-{str(row['substituent']).split(' (')[0]}")
            result[atom_idx] = (delta, used)
    return result


class RuleShiftPredictor:
    """Windows from SMARTS rules (reference/shift_rules.tsv) with benzene increments and diazepane rules."""

    name = "rules"
    status: Any = (
        None  # a PredictionStatus, set by verify.structure.learned when the rules stand in for the learned model
    )

    def predict(self, mol: Chem.Mol, solvent: str = "cdcl3") -> dict[int, ShiftWindow]:
        col = rule_column(solvent)
        windows: dict[int, ShiftWindow] = {}
        for row, patt in _rules():
            for match in mol.GetSubstructMatches(patt, uniquify=False, maxMatches=100000):
                idx = match[0]
                if idx in windows:
                    continue
                lo, hi = _row_window(row, solvent, col)
                windows[idx] = ShiftWindow(
                    lo=lo,
                    hi=hi,
                    label=row["label"],
                    exchangeable=row["exchangeable"] == "yes",
                    source="shift_rules.tsv",
                    note=row.get("note") or "",
                )
                if row["method"] == "increments":
                    windows[idx] = self._increment_window(mol, idx, windows[idx], col)
        # benzene rows that need increments (computed once per molecule)
        for ring in find_diazepanes(mol):
            for p in ring.positions:
                lo, hi = p.window(solvent)
                note = "rotamers may broaden or double this signal" if p.rotamers else ""
                windows[p.atom_idx] = ShiftWindow(lo=lo, hi=hi, label=p.label, source="diazepane_ring.tsv", note=note)
        self._bicyclic_spread(mol, windows)
        self._bicyclic_aryl(mol, windows)
        if solvent in asis_solvents():
            self._asis(mol, windows, solvent)
        return windows

    @staticmethod
    def _bicyclic_spread(mol: Chem.Mol, windows: dict[int, ShiftWindow]) -> None:
        """CH2 of a rigid bridged bicyclic: its diastereotopic H are held apart (exo/endo, ax/eq) and no
        conformer averages them. The open-chain rules' windows already reach the shielded H (they are built on
        the more shielded ring values), so only the upper edge moves up (shift_rules.tsv header; cocaine H-4
        2.45/1.73)."""
        spread = float(_meta().get("bicyclic_ch2_spread", 0.0))
        if spread <= 0:
            return
        for system in _bridged_systems(mol):
            for idx in system:
                a = mol.GetAtomWithIdx(idx)
                w = windows.get(idx)
                if w is None or w.exchangeable or a.GetAtomicNum() != 6 or a.GetIsAromatic() or a.GetTotalNumHs() != 2:
                    continue
                note = f"rigid bicyclic CH2: one of its two H may lie up to {spread:.2f} ppm above the window"
                windows[idx] = _with_note(w, note, hi=round(w.hi + spread, 3))

    @staticmethod
    def _bicyclic_aryl(mol: Chem.Mol, windows: dict[int, ShiftWindow]) -> None:
        """Rigid bridged bicyclic CH2 held 1,3 to a pendant aryl: one of its H sits in the aryl's deshielding
        zone (norbornane syn-7/endo-6 H), so the upper edge is raised (shift_rules.tsv header)."""
        hi_edge = float(_meta().get("bicyclic_aryl_hi", 0.0))
        for idx, carrier in bicyclic_aryl_ch2(mol).items():
            w = windows.get(idx)
            if w is None or w.exchangeable or w.hi >= hi_edge:
                continue
            note = (
                f"rigid bicyclic CH2 1,3 to the aryl-bearing ring carbon (atom {carrier + 1}): one H may lie "
                f"in the aryl's deshielding zone (upper edge {w.hi:.2f} -> {hi_edge:.2f})"
            )
            windows[idx] = _with_note(w, note, hi=hi_edge, label=w.label + " (rigid bicyclic, near aryl)")

    @staticmethod
    def _asis(mol: Chem.Mol, windows: dict[int, ShiftWindow], solvent: str) -> None:
        """Aromatic solvent: CDCl3 windows widened by the aromatic-solvent-induced shift margin of each H's
        environment (mostly upfield, largest next to polar groups; shift_rules.tsv header)."""
        meta = _meta()
        downfield_ch = float(meta.get("asis_downfield", 0.0))
        for idx, w in list(windows.items()):
            cls = asis_class(mol, idx, w.exchangeable)
            upfield = float(meta.get(f"asis_{cls}", 0.0))
            # C-H move upfield (benzene sits at the positive end of the dipole), rarely and little downfield;
            # exchangeable NH/OH can go either way (H-bond changes), so both of their edges move
            downfield = upfield if cls == "exchangeable" else downfield_ch
            note = f"aromatic-solvent shift margin in {solvent} ({cls}): -{upfield:.2f}/+{downfield:.2f} ppm"
            windows[idx] = _with_note(
                w,
                note,
                lo=round(w.lo - upfield, 3),
                hi=round(w.hi + downfield, 3),
                centre=None if w.centre is None else round(w.centre - upfield / 2, 3),
            )

    def _increment_window(self, mol, idx, fallback: ShiftWindow, col: str) -> ShiftWindow:
        shifts = _cached_increments(mol)
        if idx not in shifts:
            return fallback
        delta, used = shifts[idx]
        meta = reference.table_meta("aromatic_increments.tsv")
        # increments add up well on a ring without neighbouring substituents; ortho pairs twist out of
        # plane and interact (non-additive), and an unlisted substituent adds nothing where it should
        if any(u.endswith("-unknown") for u in used):
            hw = float(meta.get("half_width_unknown", 0.30))
        elif _ortho_pair(mol, idx):
            hw = float(meta.get("half_width_crowded", 0.22))
        else:
            hw = float(meta.get("half_width", 0.15))
        if col == "dmso":
            delta += float(meta.get("dmso_offset", 0.0))
        return ShiftWindow(
            lo=round(delta - hw, 3),
            hi=round(delta + hw, 3),
            label="aromatic CH" + (f" ({', '.join(used)})" if used else ""),
            source="aromatic_increments.tsv",
            note="7.27 + increments " + (", ".join(used) if used else "(unsubstituted)"),
            centre=round(delta, 3),
        )


def _ortho_pair(mol: Chem.Mol, idx: int) -> bool:
    """Whether the benzene ring of aromatic C-H atom idx carries substituents on two neighbouring carbons
    (a ring-fusion bond counts: naphthalene peri/ortho effects are not additive either)."""
    ri = mol.GetRingInfo()
    for ring in ri.AtomRings():
        if idx not in ring or len(ring) != 6:
            continue
        ring_set = set(ring)

        def substituted(a_idx: int) -> bool:
            a = mol.GetAtomWithIdx(a_idx)
            return any(n.GetIdx() not in ring_set and n.GetAtomicNum() > 1 for n in a.GetNeighbors())

        flags = [substituted(a) for a in ring]
        if any(flags[k] and flags[(k + 1) % 6] for k in range(6)):
            return True
    return False


def _cached_increments(mol: Chem.Mol) -> dict:
    # cache on the molecule object (a plain attribute; RDKit mols accept Python attributes)
    cache = getattr(mol, "_verify_increments", None)
    if cache is None:
        cache = benzene_increment_shifts(mol)
        try:
            mol._verify_increments = cache
        except AttributeError:
            pass
    return cache
