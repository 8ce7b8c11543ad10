"""H counts checked as a chemist integrates: over regions of touching multiplets, and over the whole spectrum.

Step of the comparison (verify.nmr.compare) after the statuses are set. The split of an integral between
two touching multiplets is not reliable, so each region of touching target multiplets is compared with the
H placed in it (tolerance th.integral_tol_h or th.integral_tol_rel of the placed H, whichever is larger);
each clean region is measured again on the scale of the others alone (a jackknife: one region with a wrong
count pulls the common scale), and the H the whole spectrum lacks against the structure is summed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..findings import Finding
from .records import ComparisonState, join_notes
from .thresholds import NmrThresholds

__all__ = ["IntegralRegions", "check_h_count", "check_region_integrals", "leave_one_out_counts", "touching_regions"]


def h_text(n: float) -> str:
    """An H count as a chemist writes it: whole when it is whole, else one decimal (part of a split group)."""
    return f"{n:.0f}" if abs(n - round(n)) < 0.05 else f"{n:.1f}"


@dataclass
class IntegralRegions:
    """Regions of touching target multiplets (indices, downfield first) with their observed and placed H."""

    members: list[list[int]]
    observed_h: list[float]
    placed_h: list[float]
    allowed_h: list[float]  # H of surplus a solvent line the line-shape fit measured may account for
    th: NmrThresholds
    # H placed per region after the moves regroupable() has made so far
    regrouped_h: list[float] = field(default_factory=list)

    def tol_h(self, placed_h: float) -> float:
        """How far a region's integral may stray from the H placed in it, H."""
        return max(self.th.integral_tol_h, self.th.integral_tol_rel * placed_h)

    def where(self, st: ComparisonState, ri: int) -> str:
        reg = self.members[ri]
        m = st.mults
        return f"{m[reg[0]].ppm:.2f} ppm" if len(reg) == 1 else f"{m[reg[-1]].lo:.2f}-{m[reg[0]].hi:.2f} ppm"

    def regroupable(self, st: ComparisonState, r: int, excess: float) -> bool:
        """Whether a surplus in region r is only a fractional split: a group placed here in part has H
        placed in other regions that could move here whole while those regions stay within tolerance
        (the assignment shares a 1H group 0.5/0.5 between two signals where 1/0 fits as well)."""
        regrouped = self.regrouped_h
        region_of = {j: k for k, reg in enumerate(self.members) for j in reg}
        need = excess - self.tol_h(regrouped[r])
        gids = {g for j in self.members[r] for g in st.peaks[j].placed}
        for j2, p2 in enumerate(st.peaks):
            r2 = region_of.get(j2)
            if r2 is None or r2 == r or need <= 0:
                continue
            for gid in gids & set(p2.placed):
                spare = self.tol_h(regrouped[r2]) - (self.observed_h[r2] - regrouped[r2])  # what r2 can give up
                give = min(p2.placed[gid], max(0.0, spare), need)
                if give > 0:
                    regrouped[r2] -= give
                    regrouped[r] += give
                    need -= give
        return need <= 0


def touching_regions(st: ComparisonState) -> IntegralRegions:
    """The target multiplets grouped into regions that touch (at most 0.01 ppm apart), downfield first."""
    mults, peaks = st.mults, st.peaks
    tgt = sorted([j for j in st.eligible if peaks[j].kind == "target"], key=lambda j: -mults[j].ppm)
    regions: list[list[int]] = []
    for j in tgt:
        if regions and mults[regions[-1][-1]].lo - mults[j].hi <= 0.01:
            regions[-1].append(j)
        else:
            regions.append([j])
    placed = [sum(sum(peaks[j].placed.values()) for j in reg) for reg in regions]
    return IntegralRegions(
        members=regions,
        observed_h=[sum(peaks[j].h for j in reg) for reg in regions],
        placed_h=placed,
        allowed_h=[sum(st.solvent_allowance.get(j, 0.0) for j in reg) / st.units_per_h for reg in regions],
        th=st.th,
        regrouped_h=list(placed),
    )


def check_region_integrals(st: ComparisonState) -> None:
    """Each region's integral against the H placed in it, then each clean region on the others' scale.

    A deficit beyond tolerance is always a finding; a surplus only where no solvent line, hidden impurity
    or exchangeable H may account for it, where it is at least the smallest signal that counts, and
    where moving a split group whole would not cure it. Sets st.integral_deficit_h."""
    th, peaks = st.th, st.peaks
    regs = touching_regions(st)
    exch_ids = {g.id for g in st.groups if g.exchangeable}
    flagged: set[int] = set()  # regions already reported
    total_deficit = 0.0
    for ri, reg in enumerate(regs.members):
        obs, placed = regs.observed_h[ri], regs.placed_h[ri]
        ids = "+".join(dict.fromkeys(g for j in reg for g in peaks[j].placed))
        # a solvent line inside, or an exchangeable OH/NH (its integral follows exchange with water):
        # surplus in that region is not counted
        free = any(st.free_surplus.get(j, 1.0) < 1.0 or exch_ids & set(peaks[j].placed) for j in reg)
        allowed = regs.allowed_h[ri]
        deficit = placed - obs
        total_deficit += max(0.0, deficit)
        if deficit > regs.tol_h(placed):
            flagged.add(ri)
            st.findings.append(
                Finding(
                    "warning",
                    "nmr.integral_mismatch",
                    f"the signal(s) at {regs.where(st, ri)} integrate to {obs:.2f} H where {ids} need {h_text(placed)} H",
                )
            )
        elif (
            not free
            and -deficit - allowed > regs.tol_h(placed)
            and -deficit - allowed >= st.min_unexplained_h
            and not regs.regroupable(st, ri, -deficit - allowed)
        ):
            flagged.add(ri)
            st.findings.append(
                Finding(
                    "warning",
                    "nmr.integral_mismatch",
                    f"the signal(s) at {regs.where(st, ri)} integrate to {obs:.2f} H where {ids} account for "
                    f"{h_text(placed)} H ({-deficit:.2f} H more: an overlapping impurity?)",
                )
            )
            for j in reg:
                if peaks[j].surplus_h >= th.report_min_h:
                    peaks[j].note = join_notes(peaks[j].note, f"{peaks[j].surplus_h:.2f} H more than assigned")
    st.integral_deficit_h = total_deficit
    # exchangeable H the assignment left unplaced: a broad N-H/O-H may lie under any region (not in D2O/CD3OD)
    unplaced_exch = (
        sum(max(0.0, gc.group.n_h - gc.placed_h) for gc in st.group_calls if gc.group.exchangeable)
        if st.exchange_seen
        else 0.0
    )
    st.findings += leave_one_out_counts(st, regs, exch_ids, flagged, unplaced_exch)


def leave_one_out_counts(
    st: ComparisonState,
    regs: IntegralRegions,
    exch_ids: set[str],
    flagged: set[int],
    unplaced_exch_h: float = 0.0,
) -> list[Finding]:
    """H count of each clean region measured on the scale of the other clean regions (jackknife).

    The assignment's scale is the best fit of all integrals, so one region with a wrong H count (a 4-fluoro-
    benzyl target on a benzyl compound's spectrum: 5 aromatic H where 4 are expected) pulls it and the error is
    shared out below every region's tolerance. Measured against the others alone, the region shows its count.
    Only regions whose groups are placed wholly in them are tested (a whole number of H is expected there),
    and only clean regions (no solvent line, no exchangeable H, no hidden impurity) set the scale. A region
    holding a solvent or impurity line is tested for a deficit only (those lines add intensity, never hide
    missing H); one holding exchangeable H is not tested (their count there is free). A surplus up to the
    exchangeable H left unplaced (`unplaced_exch_h`) is not counted either: a broad N-H or O-H may lie under
    any multiplet. A region hiding a solvent line the line-shape fit measured (`regs.allowed_h`: H of surplus
    that line may account for) is tested for a surplus beyond that. Regions in `flagged` (already reported by
    the region check) are not reported twice.
    """
    peaks, th, free_surplus = st.peaks, st.th, st.free_surplus
    regions, reg_obs, reg_placed, allowed_h = regs.members, regs.observed_h, regs.placed_h, regs.allowed_h
    n_h = {g.id: g.n_h for g in st.groups}
    clean, additive = [], []
    for ri, reg in enumerate(regions):
        placed_ids = {g for j in reg for g in peaks[j].placed}
        extra = any(free_surplus.get(j, 1.0) < 1.0 for j in reg) or allowed_h[ri] > 0
        exch = bool(exch_ids & placed_ids)
        clean.append(not extra and not exch and reg_placed[ri] > 0)
        additive.append(extra and not exch and reg_placed[ri] > 0)
    out = []
    for ri, reg in enumerate(regions):
        if ri in flagged or not (clean[ri] or additive[ri]):
            continue
        ids = list(dict.fromkeys(g for j in reg for g in peaks[j].placed))
        # each group whole in this region (a group shared with another region has no whole-number count here)
        if any(abs(sum(peaks[j].placed.get(g, 0.0) for j in reg) - n_h[g]) > 0.05 * n_h[g] for g in ids):
            continue
        others = [k for k in range(len(regions)) if k != ri and clean[k]]
        other_placed = sum(reg_placed[k] for k in others)
        if len(others) < 2 or other_placed < th.integral_loo_min_scale_h:
            continue
        implied = reg_obs[ri] * other_placed / sum(reg_obs[k] for k in others)
        off = implied - reg_placed[ri]
        if off > 0:
            measured = allowed_h[ri] > 0 and not any(free_surplus.get(j, 1.0) < 1.0 for j in reg)
            off = (
                max(0.0, off - allowed_h[ri] - unplaced_exch_h)
                if measured
                else (0.0 if additive[ri] else max(0.0, off - unplaced_exch_h))
            )
        if abs(off) <= max(regs.tol_h(reg_placed[ri]), th.integral_loo_min_h):
            continue
        out.append(
            Finding(
                "warning",
                "nmr.integral_mismatch",
                f"the signal(s) at {regs.where(st, ri)} integrate to {implied:.2f} H against the compound's other "
                f"signals, where {'+'.join(ids)} {'need' if off < 0 else 'account for'} "
                f"{h_text(reg_placed[ri])} H (a different count of H there?)",
            )
        )
    return out


def check_h_count(st: ComparisonState) -> None:
    """An error when the spectrum lacks more non-exchangeable H than integration error can explain
    (signals too small for their groups, or groups placed nowhere)."""
    th, groups = st.th, st.groups
    exp_nonex = sum(g.n_h for g in groups if not g.exchangeable)
    missing_h = sum(st.missing.get(gi, 0.0) for gi, g in enumerate(groups) if not g.exchangeable)
    lacking = st.integral_deficit_h + missing_h
    if exp_nonex and lacking > max(th.integral_wrong_h * 2, th.h_count_wrong_fraction * exp_nonex):
        st.findings.append(
            Finding(
                "error",
                "nmr.h_count_wrong",
                f"the spectrum lacks {lacking:.1f} of the {exp_nonex} non-exchangeable H the "
                f"structure needs (signals too small for their groups, or absent)",
            )
        )
