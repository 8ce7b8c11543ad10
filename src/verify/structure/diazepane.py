"""1,4-Diazepane awareness: find each ring, classify what sits on N1 and N4.

The ring CH2 windows depend on the nitrogen they sit next to (reference/diazepane_ring.tsv):
N-H or N-alkyl about 2.5-3.0 ppm, carbamate or amide about 3.3-3.7 (with rotamer broadening), C6 about 1.6-2.0.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from rdkit import Chem

from .. import reference

# Saturated seven-membered ring N1-C2-C3-N4-C5-C6-C7 (atom order of the match follows this SMARTS).
_RING = Chem.MolFromSmarts("[#7;R]1-[CX4;R]-[CX4;R]-[#7;R]-[CX4;R]-[CX4;R]-[CX4;R]-1")


@dataclass(frozen=True)
class RingPosition:
    atom_idx: int
    position: str  # "C2", "C3", "C5", "C6", "C7"
    next_to: str  # "N1", "N4" or "C" (for C6)
    nitrogen_class: str  # class of the adjacent nitrogen (or "c6")
    window_cdcl3: tuple[float, float]
    window_dmso: tuple[float, float]
    rotamers: bool
    label: str
    window_d2o: tuple[float, float] | None = None  # None: D2O uses the DMSO-d6 window

    def window(self, solvent_key: str | None) -> tuple[float, float]:
        """The window (ppm) for a solvent key: D2O's own where the table gives one, the DMSO-d6 column for
        DMSO-d6 and the other H-bonding solvents, CDCl3 otherwise (`verify.structure.shifts.rule_column`)."""
        from .shifts import rule_column  # noqa: PLC0415 - shifts imports this module

        if solvent_key == "d2o" and self.window_d2o is not None:
            return self.window_d2o
        return self.window_dmso if rule_column(solvent_key or "cdcl3") == "dmso" else self.window_cdcl3


@dataclass
class DiazepaneRing:
    n1: int
    n4: int
    n1_class: str
    n4_class: str
    positions: list[RingPosition] = field(default_factory=list)

    def to_dict(self, solvent_key: str | None = None) -> dict:
        """Plain form; each ring CH2 carries its windows per solvent column and `window`, the one that applies
        to `solvent_key` (CDCl3 when None)."""
        return {
            "n1_atom": self.n1,
            "n4_atom": self.n4,
            "n1_substituent": self.n1_class,
            "n4_substituent": self.n4_class,
            "ring_ch2": [
                {
                    "atom": p.atom_idx,
                    "position": p.position,
                    "next_to": p.next_to,
                    "window_cdcl3": list(p.window_cdcl3),
                    "window_dmso": list(p.window_dmso),
                    "window_d2o": list(p.window_d2o) if p.window_d2o is not None else None,
                    "window": list(p.window(solvent_key)),
                    "rotamers": p.rotamers,
                    "label": p.label,
                }
                for p in self.positions
            ],
        }


@functools.cache
def _class_rows() -> tuple:
    rows = []
    for r in reference.table("diazepane_ring.tsv"):
        patt = None if r["class"].startswith("c6") else Chem.MolFromSmarts(r["smarts"])
        rows.append((r, patt))
    return tuple(rows)


def nitrogen_class(mol: Chem.Mol, n_idx: int, ring_atoms: set[int]) -> tuple[str, dict]:
    """Substituent class of a ring nitrogen: H, alkyl, benzyl, aryl, Boc/carbamate, acyl/amide,
    sulfonyl or protonated salt (first matching row of the reference table)."""
    for row, patt in _class_rows():
        if patt is None:
            continue
        for match in mol.GetSubstructMatches(patt, uniquify=False):
            if match[0] != n_idx:
                continue
            # the substituent atom must be outside the ring (the ring's own CH2 are alkyl too)
            if len(match) > 1 and match[1] in ring_atoms:
                continue
            return row["class"], row
    return "alkyl", dict(_row_for("alkyl"))


def _row_for(cls: str) -> dict:
    for row, _ in _class_rows():
        if row["class"] == cls:
            return row
    raise KeyError(cls)


def find_diazepanes(mol: Chem.Mol) -> list[DiazepaneRing]:
    """Every 1,4-diazepane ring with its N1/N4 substituent classes and ring CH2 windows.

    N1 is the nitrogen with the higher-priority (more deshielding) class, so that for
    tert-butyl 4-benzyl-1,4-diazepane-1-carboxylate N1 carries the Boc, as in its name.
    """
    rings = []
    seen: set[frozenset] = set()
    for match in mol.GetSubstructMatches(_RING):
        key = frozenset(match)
        if key in seen:
            continue
        seen.add(key)
        ring_atoms = set(match)
        n_a, c_a, c_b, n_b, c_5, c_6, c_7 = match
        cls_a, _ = nitrogen_class(mol, n_a, ring_atoms)
        cls_b, _ = nitrogen_class(mol, n_b, ring_atoms)
        order = [r["class"] for r, _ in _class_rows()]
        # ring walk from the SMARTS: n_a-c_a-c_b-n_b-c_5-c_6-c_7-n_a
        # numbering: N1 = n_a gives C2=c_a, C3=c_b, N4=n_b, C5=c_5, C6=c_6, C7=c_7
        if order.index(cls_b) < order.index(cls_a):
            n1, n4, cls1, cls4 = n_b, n_a, cls_b, cls_a
            # renumber from n_b: N1=n_b, C2=c_b, C3=c_a, N4=n_a, then C5 is next to N4 (n_a) on the propylene side: c_7
            pos = {c_b: ("C2", "N1"), c_a: ("C3", "N4"), c_7: ("C5", "N4"), c_6: ("C6", "C"), c_5: ("C7", "N1")}
        else:
            n1, n4, cls1, cls4 = n_a, n_b, cls_a, cls_b
            pos = {c_a: ("C2", "N1"), c_b: ("C3", "N4"), c_5: ("C5", "N4"), c_6: ("C6", "C"), c_7: ("C7", "N1")}
        ring = DiazepaneRing(n1=n1, n4=n4, n1_class=cls1, n4_class=cls4)
        for idx, (label, next_to) in sorted(pos.items(), key=lambda kv: kv[1][0]):
            # C6 is beta to both ring N: each ammonium N moves it downfield (the free base's window otherwise)
            n_ammonium = (cls1, cls4).count("protonated salt")
            c6 = ("c6", "c6 one ammonium", "c6 two ammonium")[n_ammonium]
            cls = {"N1": cls1, "N4": cls4, "C": c6}[next_to]
            row = _row_for(cls)
            ring.positions.append(
                RingPosition(
                    atom_idx=idx,
                    position=label,
                    next_to=next_to,
                    nitrogen_class=cls,
                    window_cdcl3=(row["cdcl3_lo"], row["cdcl3_hi"]),
                    window_dmso=(row["dmso_lo"], row["dmso_hi"]),
                    window_d2o=(row["d2o_lo"], row["d2o_hi"]) if row.get("d2o_lo") is not None else None,
                    rotamers=(row["rotamers"] == "yes")
                    or (next_to == "C" and "yes" in (_row_for(cls1)["rotamers"], _row_for(cls4)["rotamers"])),
                    label=f"diazepane {label}H2 ({row['label']})",
                )
            )
        rings.append(ring)
    return rings
