"""The working records of the NMR comparison, and the small helpers every step of it shares.

`ObservedPeak` (one observed multiplet and what it was taken for), `GroupCall` (where an expected
group was placed), `ImpurityHit` (an impurity whose pattern fits) and `Comparison` (the result of
verify.nmr.compare.compare); verify.nmr.compare re-exports them. No logic of its own: which lines are
solvent is decided in verify.nmr.solvent_lines, impurities in verify.nmr.impurities, the H scale and
the assignment in verify.nmr.assign, side products and findings in verify.nmr.compare.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..findings import Finding
from ..structure.hgroups import HGroup
from .peaks import Multiplet


@dataclass
class ObservedPeak:
    """One observed multiplet with its classification (the working record of the comparison)."""

    mult: Multiplet
    h: float = 0.0  # integral in H of the target (after scaling)
    status: str = "suspicious"  # consistent | solvent | impurity | suspicious
    assignment: str = ""
    note: str = ""
    kind: str = ""  # target | solvent | water | reference | artefact | impurity | side_product | unexplained
    solvent_label: str = ""  # solvent/water line sitting on (or under) this multiplet
    placed: dict = field(default_factory=dict)  # group id -> H placed here
    surplus_h: float = 0.0  # H observed beyond what is placed here
    deficit_h: float = 0.0  # H placed here beyond what is observed

    @property
    def ppm(self) -> float:
        return self.mult.ppm


@dataclass
class GroupCall:
    group: HGroup
    found: bool
    peak_ppm: float | None
    integral: float | None  # observed H attributed to the group
    placed_h: float = 0.0
    in_window: bool = False
    distance_ppm: float = 0.0  # how far outside its window (0 inside)
    peaks: list = field(default_factory=list)  # ppm of every multiplet it was placed on
    placed_ppm: float | None = None  # H-weighted mean ppm of those multiplets (where the group's H sit)
    strongly_coupled_with: tuple[str, ...] = ()  # partner group ids with delta-nu / J under the threshold


@dataclass
class ImpurityHit:
    name: str
    peaks: list[int]  # indices of free multiplets
    hidden: list[int]  # indices of multiplets hiding one of its signals
    per_h: float  # raw integral per impurity H (median over free signals)
    mol_percent: float = 0.0
    kind: str = ""
    hidden_ppm: list = field(default_factory=list)  # table shift of each hidden signal (same order as hidden)


@dataclass
class Comparison:
    scale: float  # raw integral units per H
    peaks: list[ObservedPeak]
    groups: list[GroupCall]
    findings: list[Finding]
    impurities: list[ImpurityHit]
    side_products: list[str]
    observed_h: float  # H on target signals
    expected_h: int  # non-exchangeable H expected


# ------------------------------------------------------------------------------------- helpers


def _interval_gap(a_lo: float, a_hi: float, b_lo: float, b_hi: float) -> float:
    """Distance (ppm) between two intervals, 0 when they overlap."""
    return max(0.0, b_lo - a_hi, a_lo - b_hi)


def _signal_bounds(m: Multiplet, sf_mhz: float) -> tuple[float, float]:
    """Where a signal's own lines lie (ppm): outermost lines widened by half their width at half height.

    How far a signal sits from a group's window is measured from these, not from the integration range,
    which runs on along the Lorentzian tails (a 7.49 ppm dd integrated from 7.40 would pass for a
    7.10-7.33 window within a 0.1 ppm slack). Without lines (or a frequency) the integration range."""
    if not m.lines or not sf_mhz or sf_mhz <= 0:
        return m.lo, m.hi
    lo = min(L.ppm - 0.5 * L.width_hz / sf_mhz for L in m.lines)
    hi = max(L.ppm + 0.5 * L.width_hz / sf_mhz for L in m.lines)
    return max(lo, m.lo), min(hi, m.hi)


def _split_j(m: Multiplet) -> bool:
    """Resolved coupling of 4 Hz or more (not a singlet-like signal)."""
    return bool(m.j_hz) and max(m.j_hz) >= 4.0


def _join(a: str, b: str) -> str:
    """Two notes as one, '; '-separated; an empty one adds nothing (no dangling separator)."""
    return "; ".join(x for x in (a, b) if x)


def _line_span(m: Multiplet) -> float:
    """ppm between the outermost lines of a multiplet (0 for one line); its range when it has no lines.

    A multiplet's integration range may run on along a tail or into a neighbour; where its lines are says
    how wide the signal itself is."""
    return max(L.ppm for L in m.lines) - min(L.ppm for L in m.lines) if m.lines else m.hi - m.lo
