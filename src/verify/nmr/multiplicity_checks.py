"""Multiplet patterns against the structure: the ring neighbours and vicinal H each group must show.

Step of the comparison (verify.nmr.compare) after the assignment. A resolved first-order multiplet
says how many 4-10 Hz couplings its H has; an aromatic C-H has as many ortho (3J 6.5-9.5 Hz) couplings
as ring C-H beside it, and a CH3 with no H on the next carbon is a singlet. A group placed on a signal
whose pattern forbids it is a finding; a small line beside a target multiplet is that multiplet's
outer line.
"""

from __future__ import annotations

import re

import numpy as np

from ..findings import Finding
from ..structure.hgroups import HGroup
from .peaks import Multiplet
from .records import GroupCall, ObservedPeak, join_notes
from .thresholds import NMR_THRESHOLDS, NmrThresholds

__all__ = ["ortho_couplings", "outer_lines_of_neighbours", "pattern_mismatches", "singlet_mismatches"]

_FIRST_ORDER_J = (6.5, 9.5)  # an ortho (3J) aromatic coupling, Hz


def _clean_ortho_pattern(m: Multiplet, name: str, n_lines: int) -> bool:
    """A resolved first-order pattern of aromatic-ortho couplings only (a 2-line d, a 3-line t)."""
    return (
        m.multiplicity == name
        and len(m.lines) == n_lines
        and bool(m.j_hz)
        and all(_FIRST_ORDER_J[0] <= j <= _FIRST_ORDER_J[1] for j in m.j_hz)
    )


_SPINS = {"d": 1, "t": 2, "q": 3, "quint": 4, "sext": 5, "sept": 6}
_ORTHO_RANGE_HZ = (4.0, 10.0)  # 3J between ring C-H: 6.5-9.5 in benzenes, 4.5-5.5 for pyridine H2-H3;
# meta 4J stays below 3 Hz and para 5J below 1 Hz, so the count of couplings in this range is the count
# of ring H ortho to the one observed
_RING_H = ("no", "one", "two")
_ORTHO_WANT = (
    "meta couplings only: a narrow singlet or a 1-3 Hz d/t",
    "one 4-10 Hz coupling: a d, dd or dt",
    "two 4-10 Hz couplings: a t, dd or td",
)


def ortho_couplings(m: Multiplet) -> int | None:
    """How many 4-10 Hz couplings a resolved first-order multiplet shows (a 'td' of 7.5 and 1.4 Hz: two),
    or None when its name says nothing (s, br s, m, or J values that do not pair with its letters)."""
    if m.multiplicity in ("s", "br s", "m") or not m.j_hz or len(m.lines) < 2:
        return None
    letters = re.findall(r"quint|sext|sept|d|t|q", m.multiplicity)
    if "".join(letters) != m.multiplicity or len(letters) != len(m.j_hz):
        return None
    lo, hi = _ORTHO_RANGE_HZ
    return sum(_SPINS[c] for c, j in zip(letters, m.j_hz) if lo <= j <= hi)


def outer_lines_of_neighbours(
    unexplained: list[int],
    mults: list[Multiplet],
    peaks: list[ObservedPeak],
    min_h: float,
    sf_mhz: float,
    th: NmrThresholds = NMR_THRESHOLDS,
) -> list[int]:
    """Give a minor line beside a target multiplet to that multiplet; return the signals still unexplained.

    A small signal (below the reporting threshold) whose line lies within one coupling (th.max_j_hz) of a
    line of a neighbouring multiplet carrying the target, and is as narrow as that multiplet's lines, is
    an outer line the grouping cut off (a triplet's wing beside a residual solvent line in a crowded
    aromatic region), not a signal of its own: a chemist integrates it with its neighbour. The lines of
    one multiplet are then never split between statuses. Larger signals stay unexplained: they count.
    """
    still = []
    for j in unexplained:
        p, m = peaks[j], mults[j]
        host = None
        if p.h < min_h and m.lines:
            for k in (j - 1, j + 1):
                if not (0 <= k < len(mults)) or peaks[k].kind != "target" or not mults[k].lines:
                    continue
                gap_hz = min(abs(a.ppm - b.ppm) for a in m.lines for b in mults[k].lines) * sf_mhz
                narrow = max(L.width_hz for L in m.lines) <= 2.0 * float(
                    np.median([L.width_hz for L in mults[k].lines])
                )
                if gap_hz <= th.max_j_hz and narrow and (host is None or gap_hz < host[1]):
                    host = (k, gap_hz)
        if host is None:
            still.append(j)
            continue
        k = host[0]
        p.kind, p.status, p.assignment = "target", "consistent", peaks[k].assignment
        p.note = join_notes(
            p.note, f"outer line of the {mults[k].ppm:.2f} ppm multiplet ({host[1]:.1f} Hz from its lines)"
        )
    return still


def pattern_mismatches(
    gcalls: list[GroupCall],
    x: dict,
    groups: list[HGroup],
    mults: list[Multiplet],
    peaks: list[ObservedPeak],
    th: NmrThresholds = NMR_THRESHOLDS,
    readable: set[int] | None = None,
) -> list[Finding]:
    """Aromatic CH whose ring neighbours forbid the pattern they were placed on.

    An aromatic C-H with two ring C-H ortho to it has two 7-9 Hz couplings (a triplet or dd): it cannot sit
    on a clean two-line doublet, even shared with another H. One with a single ortho C-H is a doublet, and
    one with none a narrow singlet: neither is, alone, a clean triplet (or, for the isolated H, a doublet)
    of ortho couplings. Groups near F/P (large J(H,F)) carry no expectation (HGroup.ortho_h None). A
    mismatch that trading signals with another group of the same H count would cure is the assignment's
    arbitrary pick between equal optima (the o- and m-H of a phenyl), not the structure's fault.
    """

    def why_not(g: HGroup, j: int, leaving: str = "") -> str:
        # leaving: a group taken off mults[j] (a trade of signals being tried)
        if peaks[j].solvent_label:
            return ""  # a residual solvent line inside the multiplet makes its pattern (and its J) meaningless
        m = mults[j]
        alone = not [k for k, h in peaks[j].placed.items() if h > 0.1 and k not in (g.id, leaving)]
        # shared with other groups, a d is a first-order doublet only when its lines are as narrow as the
        # spectrum's: two overlapping triplets with broadened lines merge into an apparent d
        if g.ortho_h == 2 and _clean_ortho_pattern(m, "d", 2) and (alone or readable is None or j in readable):
            return "has two ring H ortho to it (a triplet or dd of two 7-9 Hz couplings)"
        if alone:
            n = ortho_couplings(m)
            if n is not None and g.ortho_h is not None and n != g.ortho_h:
                return f"has {_RING_H[g.ortho_h]} ring H ortho to it ({_ORTHO_WANT[g.ortho_h]})"
        return ""

    def swap_cost(g: HGroup, j: int) -> float:
        # the misfit of putting g on mults[j] (as nmr.alternatives scores shifts: 0.5 n_H z^2, capped)
        if g.centre is None:
            return 0.0
        sigma = g.sigma_ppm
        return 0.5 * g.n_h * min(((mults[j].ppm - g.centre) / sigma) ** 2, 9.0)

    main: dict[int, int] = {}  # group index -> the multiplet carrying most of it
    for (gi, j), v in x.items():
        if v >= 0.5 * groups[gi].n_h and (gi not in main or v > x[(gi, main[gi])]):
            main[gi] = j
    out = []
    for gi, j in main.items():
        g = groups[gi]
        if g.ortho_h is None or not gcalls[gi].found:
            continue
        strong = set(gcalls[gi].strongly_coupled_with)
        if any(c.partner in strong and c.kind == "aromatic ortho" for c in g.couplings):
            continue  # second order with an ortho partner: its lines follow no first-order pattern
        if x[(gi, j)] < 0.9 * sum(v for (g2, _), v in x.items() if g2 == gi):
            continue  # spread over several signals: the pattern of one piece says nothing
        why = why_not(g, j)
        if not why:
            continue
        # a swap with a group of the same H count that cures both is the assignment's free pick, not a misfit
        # and costs the shifts little: a swap across the ring (a p-OMe H on an o-H's signal) is no free pick
        if any(
            groups[gi2].n_h == g.n_h
            and groups[gi2].ortho_h is not None
            and not why_not(g, j2, groups[gi2].id)
            and not why_not(groups[gi2], j, g.id)
            and (swap_cost(g, j2) + swap_cost(groups[gi2], j) - swap_cost(g, j) - swap_cost(groups[gi2], j2)) / g.n_h
            <= th.pattern_swap_misfit
            for gi2, j2 in main.items()
            if gi2 != gi
        ):
            continue
        m = mults[j]
        js = ", ".join(f"{jj:.1f}" for jj in m.j_hz)
        out.append(
            Finding(
                "warning",
                "nmr.multiplicity_mismatch",
                f"{g.id} ({g.n_h}H, {g.label}) {why}, but sits on the {m.multiplicity} at "
                f"{m.ppm:.2f} ppm (J = {js} Hz): another substitution pattern of the ring?",
            )
        )
    return out


def _main_signal(gi: int, x: dict) -> int | None:
    """The multiplet carrying at least 90 % of group gi's placed H, or None when it is spread out."""
    mine = {j: v for (g2, j), v in x.items() if g2 == gi and v > 1e-6}
    if not mine:
        return None
    j = max(mine, key=mine.__getitem__)
    return j if mine[j] >= 0.9 * sum(mine.values()) else None


def singlet_mismatches(
    gcalls: list[GroupCall], x: dict, groups: list[HGroup], mults: list[Multiplet], peaks: list[ObservedPeak], mol
) -> list[Finding]:
    """A CH3 (or tert-butyl) with no vicinal H placed alone on a resolved multiplet split by 4-10 Hz.

    Such a group is a singlet: 3J(H,H) needs H on the next carbon, geminal couplings need inequivalent H
    on the same carbon, and long-range couplings stay under 3 Hz. Sitting alone on a d/dd/t of vicinal
    size, it was put on another group's signal (an N-CH3 on a ring N-CH2 dd when the data hold an
    N-ethyl). CH2 singlets are left out (diastereotopic CH2 give AB pairs), as are groups that may split
    (rotamers), CH3 next to an N-H/O-H (couples to it where exchange is slow: CH3-NH is a d in DMSO) and
    multiplets hiding a solvent line.
    """
    out = []
    for gi, g in enumerate(groups):
        if g.multiplicity != "s" or g.exchangeable or g.n_h < 3 or g.may_split or not gcalls[gi].found:
            continue
        if any(
            nb.GetAtomicNum() in (7, 8, 16) and nb.GetTotalNumHs() > 0
            for a in g.atoms
            for nb in mol.GetAtomWithIdx(a).GetNeighbors()
        ):
            continue
        j = _main_signal(gi, x)
        if j is None or peaks[j].solvent_label:
            continue
        if [k for k, h in peaks[j].placed.items() if h > 0.1 and k != g.id]:
            continue
        m = mults[j]
        n = ortho_couplings(m)  # the count of 4-10 Hz couplings, whatever their origin
        if not n:
            continue
        js = ", ".join(f"{jj:.1f}" for jj in m.j_hz)
        out.append(
            Finding(
                "warning",
                "nmr.multiplicity_mismatch",
                f"{g.id} ({g.n_h}H, {g.label}) has no vicinal H (a singlet), but sits alone on the "
                f"{m.multiplicity} at {m.ppm:.2f} ppm (J = {js} Hz): is that group there at all?",
            )
        )
    return out
