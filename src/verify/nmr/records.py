"""The working records of the NMR comparison, and the small helpers every step of it shares.

`ObservedPeak` (one observed multiplet and what it was taken for), `GroupCall` (where an expected
group was placed), `ImpurityHit` (an impurity whose pattern fits) and `Comparison` (the result of
verify.nmr.compare.compare); verify.nmr.compare re-exports them. `ComparisonState` is what the steps of
compare() hand on to each other. No logic of its own: which lines are solvent is decided in
verify.nmr.solvent_lines, impurities in verify.nmr.impurities, the H scale and the assignment in
verify.nmr.assign, side products in verify.nmr.side_product_signals, integral counts in
verify.nmr.integral_checks, multiplet patterns in verify.nmr.multiplicity_checks, the rest of the findings
in verify.nmr.compare.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..findings import Finding
from ..structure.hgroups import HGroup
from .peaks import Multiplet

if TYPE_CHECKING:
    from ..expectation import Expectation
    from ..solvents import Solvent
    from .thresholds import NmrThresholds


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


@dataclass
class ComparisonState:
    """What the steps of verify.nmr.compare.compare hand on to each other, filled in step by step.

    Indices are positions in `mults` (one `ObservedPeak` per multiplet in `peaks`, same order). Each
    step reads what the earlier ones set and adds its own part; findings are appended in step order.
    """

    # the inputs
    mults: list[Multiplet]
    expectation: Expectation
    sf_mhz: float  # spectrometer frequency, MHz
    th: NmrThresholds
    side_product_kinds: dict[str, str]  # side-product kind -> name (verify.structure.side_products)
    water_line_is_compound: bool  # second pass: the line at water's table shift was wholly the compound's
    groups: list[HGroup]
    solvent: Solvent | None
    rule_col: int  # 0 CDCl3-like, 1 DMSO-like (the shift rules' and side-product windows' split)
    peaks: list[ObservedPeak]
    findings: list[Finding] = field(default_factory=list)
    # 1. solvent lines
    water_drift_ppm: float = 0.0  # how far water may move downfield (exchange with the compound's NH/OH)
    solvent_lines: dict[int, tuple[str, str, bool]] = field(default_factory=dict)  # i -> (kind, label, itself)
    artefacts: set[int] = field(default_factory=set)
    reference_lines: set[int] = field(default_factory=set)  # the TMS/DSS line itself
    # 2. impurities
    impurities: list[ImpurityHit] = field(default_factory=list)
    impurity_of: dict[int, ImpurityHit] = field(default_factory=dict)  # free impurity signal -> its hit
    hides_impurity: set[int] = field(default_factory=set)  # multiplets with an impurity signal under them
    # 3. what each multiplet may hold beyond the target
    eligible: list[int] = field(default_factory=list)  # multiplets the assignment may use
    free_surplus: dict[int, float] = field(default_factory=dict)  # i -> cost factor of its surplus (< 1: cheap)
    solvent_allowance: dict[int, float] = field(default_factory=dict)  # raw units a hidden solvent line adds
    exchange_seen: bool = True  # exchangeable H can show (not in D2O/CD3OD)
    min_unexplained_h: float = 0.0  # smallest unexplained signal that counts, H
    shapes: list[Multiplet] = field(default_factory=list)  # mults without the hidden impurity lines
    # 4. assignment
    placed: dict[tuple[int, int], float] = field(default_factory=dict)  # (group index, multiplet) -> H
    missing: dict[int, float] = field(default_factory=dict)  # group index -> H placed nowhere
    units_per_h: float = 1.0  # raw integral units per H
    group_calls: list[GroupCall] = field(default_factory=list)
    # 5. side products, statuses, integrals
    side_products: list[str] = field(default_factory=list)  # names of the side products seen
    unexplained: list[int] = field(default_factory=list)
    out_of_range: list[int] = field(default_factory=list)
    shift_range: tuple[float, float] = (0.0, 0.0)  # where the structure or an impurity may have 1H, ppm
    integral_deficit_h: float = 0.0  # H the target's regions lack, summed


# ------------------------------------------------------------------------------------- helpers


def interval_gap(a_lo: float, a_hi: float, b_lo: float, b_hi: float) -> float:
    """Distance (ppm) between two intervals, 0 when they overlap."""
    return max(0.0, b_lo - a_hi, a_lo - b_hi)


def signal_bounds(m: Multiplet, sf_mhz: float | None) -> tuple[float, float]:
    """Where a signal's own lines lie (ppm): outermost lines widened by half their width at half height.

    How far a signal sits from a group's window is measured from these, not from the integration range,
    which runs on along the Lorentzian tails (a 7.49 ppm dd integrated from 7.40 would pass for a
    7.10-7.33 window within a 0.1 ppm slack). Without lines (or a frequency) the integration range."""
    if not m.lines or not sf_mhz or sf_mhz <= 0:
        return m.lo, m.hi
    lo = min(L.ppm - 0.5 * L.width_hz / sf_mhz for L in m.lines)
    hi = max(L.ppm + 0.5 * L.width_hz / sf_mhz for L in m.lines)
    return max(lo, m.lo), min(hi, m.hi)


def is_split(m: Multiplet) -> bool:
    """Resolved coupling of 4 Hz or more (not a singlet-like signal)."""
    return bool(m.j_hz) and max(m.j_hz) >= 4.0


def join_notes(a: str, b: str) -> str:
    """Two notes as one, '; '-separated; an empty one adds nothing (no dangling separator)."""
    return "; ".join(x for x in (a, b) if x)


def line_span(m: Multiplet) -> float:
    """ppm between the outermost lines of a multiplet (0 for one line); its range when it has no lines.

    A multiplet's integration range may run on along a tail or into a neighbour; where its lines are says
    how wide the signal itself is."""
    return max(L.ppm for L in m.lines) - min(L.ppm for L in m.lines) if m.lines else m.hi - m.lo
