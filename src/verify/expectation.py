"""What the intended structure predicts: formula, exact mass, ions, 1H groups, diazepane rings.

`build_expectation(target, solvent)` is a pure function of the structure; everything downstream
(NMR and HRMS comparison, reports) reads this plain object.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rdkit import Chem

from .solvents import Solvent, find_solvent
from .structure.diazepane import DiazepaneRing, find_diazepanes
from .structure.hgroups import HGroup, expected_groups
from .structure.masses import (
    AdductIon,
    adduct_ions,
    composition,
    count_basic_nitrogens,
    hill_formula,
    monoisotopic_mass,
)
from .structure.target import Target


@dataclass
class Expectation:
    target: Target
    formula: str
    monoisotopic_mass: float
    composition: dict
    ions: list[AdductIon]
    h_groups: list[HGroup]
    diazepanes: list[DiazepaneRing]
    solvent: Solvent | None
    n_basic_nitrogens: int
    total_h: int = 0
    notes: list[str] = field(default_factory=list)
    # where the 1H windows came from: {"method": "model"|"rules", "model", "reason", "model_windows", ...}
    shift_prediction: dict = field(default_factory=dict)

    @property
    def mol(self) -> Chem.Mol:
        return self.target.mol

    def ion(self, name: str) -> AdductIon | None:
        return next((i for i in self.ions if i.name == name), None)

    def to_dict(self) -> dict:
        return {
            "ions": [i.to_dict() for i in self.ions],
            "h_groups": [g.to_dict() for g in self.h_groups],
            "diazepane_rings": [r.to_dict(self.solvent.key if self.solvent else None) for r in self.diazepanes],
            "solvent": self.solvent.name if self.solvent else None,
            "total_h": self.total_h,
            "basic_nitrogens": self.n_basic_nitrogens,
            "shift_prediction": self.shift_prediction,
        }


def build_expectation(target: Target, solvent: str | Solvent | None = "CDCl3", predictor=None) -> Expectation:
    """Everything the structure predicts, for the given NMR solvent (CDCl3 when unknown).

    `predictor` gives the 1H windows (default: `verify.structure.learned.default_predictor()`, the learned
    model for C-H and the rules elsewhere, or the rules alone when the model is absent or turned off).
    """
    from .structure.learned import default_predictor

    solv = solvent if isinstance(solvent, Solvent) else find_solvent(solvent or "CDCl3")
    rule_key = solv.key if solv else "cdcl3"
    counts = composition(target.mol)
    predictor = predictor if predictor is not None else default_predictor()
    groups = expected_groups(target.mol, rule_key, predictor)
    status = getattr(predictor, "status", None)
    return Expectation(
        target=target,
        formula=hill_formula(counts),
        monoisotopic_mass=monoisotopic_mass(counts),
        composition=dict(counts),
        ions=adduct_ions(target.mol),
        h_groups=groups,
        diazepanes=find_diazepanes(target.mol),
        solvent=solv,
        n_basic_nitrogens=count_basic_nitrogens(target.mol),
        total_h=int(counts.get("H", 0)),
        notes=list(target.notes),
        shift_prediction=status.to_dict() if status is not None else {"method": "rules"},
    )
