"""Where the expected 1H windows come from.

One small interface, `ShiftPredictor.predict(mol, solvent) -> {atom_idx: ShiftWindow}`, keyed by the
heavy atom that carries the hydrogens. The rule-based predictor reads SMARTS-keyed windows from
`reference/shift_rules.tsv`, refines benzene CH by substituent increments and gives 1,4-diazepane ring
CH2 their neighbour-dependent windows. A learned per-atom predictor can sit beside it with the same
interface (`predict` returning centre +/- its own error estimate).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Protocol

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


@functools.lru_cache(maxsize=None)
def _rules() -> tuple:
    out = []
    for row in reference.table("shift_rules.tsv"):
        patt = Chem.MolFromSmarts(row["smarts"])
        if patt is None:
            raise ValueError(f"bad SMARTS in shift_rules.tsv: {row['smarts']}")
        out.append((row, patt))
    return tuple(out)


@functools.lru_cache(maxsize=None)
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
                subst[atom_idx] = (row, nb.GetIdx()) if row else ({"substituent": "unknown", "z_ortho": 0.0, "z_meta": 0.0, "z_para": 0.0}, nb.GetIdx())
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

    def predict(self, mol: Chem.Mol, solvent: str = "cdcl3") -> dict[int, ShiftWindow]:
        col = rule_column(solvent)
        windows: dict[int, ShiftWindow] = {}
        for row, patt in _rules():
            for match in mol.GetSubstructMatches(patt, uniquify=False, maxMatches=100000):
                idx = match[0]
                if idx in windows:
                    continue
                windows[idx] = ShiftWindow(
                    lo=float(row[f"{col}_lo"]),
                    hi=float(row[f"{col}_hi"]),
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
                lo, hi = p.window_dmso if col == "dmso" else p.window_cdcl3
                note = "rotamers may broaden or double this signal" if p.rotamers else ""
                windows[p.atom_idx] = ShiftWindow(lo=lo, hi=hi, label=p.label, source="diazepane_ring.tsv", note=note)
        return windows

    def _increment_window(self, mol, idx, fallback: ShiftWindow, col: str) -> ShiftWindow:
        shifts = _cached_increments(mol)
        if idx not in shifts:
            return fallback
        delta, used = shifts[idx]
        meta = reference.table_meta("aromatic_increments.tsv")
        hw = float(meta.get("half_width", 0.22))
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


DEFAULT_PREDICTOR = RuleShiftPredictor()
