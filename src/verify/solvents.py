"""NMR solvent names -> the solvent record of reference/solvents.tsv."""

from __future__ import annotations

import re
from dataclasses import dataclass

from . import reference
from .errors import UsageError


@dataclass(frozen=True)
class Solvent:
    key: str  # "cdcl3", "dmso", ...
    name: str  # "CDCl3", "DMSO-d6"
    residual: tuple[float, ...]  # residual protio-solvent signals (ppm)
    residual_mult: tuple[str, ...]
    water: float
    reference: float
    rule_key: str

    @property
    def exchanges_labile_h(self) -> bool:
        """True for D2O and CD3OD: N-H, O-H and salt N+-H of the solute exchange with the solvent's D and give no
        1H signal; their H sit in the HOD/CD3OH line."""
        return self.key in ("d2o", "cd3od")


def _norm(s: str) -> str:
    return re.sub(r"[^a-z0-9%+/]", "", s.lower())


def all_solvents() -> list[Solvent]:
    out = []
    for r in reference.table("solvents.tsv"):
        out.append(
            Solvent(
                key=r["key"],
                name=r["name"],
                residual=tuple(float(x) for x in str(r["residual"]).split(";")),
                residual_mult=tuple(str(r["residual_mult"]).split(";")),
                water=float(r["water"]),
                reference=float(r["reference"]),
                rule_key=r["rule_key"],
            )
        )
    return out


def find_solvent(name: str | None) -> Solvent | None:
    """Look a solvent up by key, name or spectrometer alias; None when unknown or empty."""
    if not name:
        return None
    n = _norm(name)
    for r, s in zip(reference.table("solvents.tsv"), all_solvents()):
        names = [r["key"], r["name"]] + str(r["aliases"]).split(";")
        if n in {_norm(x) for x in names}:
            return s
    return None


def solvent_or_error(name: str) -> Solvent:
    s = find_solvent(name)
    if s is None:
        known = ", ".join(x.name for x in all_solvents())
        raise UsageError(f"unknown solvent {name!r} (known: {known})", "--solvent")
    return s
