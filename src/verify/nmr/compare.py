"""Observed multiplets against the structure: solvent, impurities, H scale, assignment, side products.

Pure functions (no file access): the input is the list of `verify.nmr.peaks.Multiplet` of one spectrum,
the `Expectation` built for the acquisition's solvent and the spectrometer frequency.

compare() runs small steps in order over one `ComparisonState` (verify.nmr.records): each reads what the
earlier ones set and adds its part, and the findings come out in step order. How each step decides:
  1. Solvent (verify.nmr.solvent_lines): residual solvent lines, water/HOD, TMS (DSS/TSP in D2O), 13C
     satellites and spinning sidebands, a small shoulder of a strong water line, and water in fast
     exchange with the compound's OH/NH/COOH.
  2. Impurities (verify.nmr.impurities): an entry of reference/impurities.tsv is a candidate only when
     its whole pattern fits; one of its signals may hide under a bigger (target) signal.
  3. Scale and assignment in one optimisation (verify.nmr.assign: a small linear programme, HiGHS).
  4. Where each group went (GroupCall), which groups are strongly coupled at this field, and whether the
     patterns of the signals they sit on allow them (verify.nmr.multiplicity_checks).
  5. Side products of this chemistry (only those side_products(target) lists) from what is left
     unexplained (verify.nmr.side_product_signals): Boc not removed, leftover aldehyde, alcohol from
     the aldehyde's reduction, over-alkylation; then the impurities' mol %.
  6. Each signal's status; integrals over regions of touching multiplets and over the whole spectrum
     (verify.nmr.integral_checks); missing, shifted and unexplained signals as findings with the
     thresholds of verify.nmr.thresholds.

The records (ObservedPeak, GroupCall, ImpurityHit, Comparison) live in verify.nmr.records and are
importable from here.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..expectation import Expectation
from ..findings import Finding
from ..solvents import Solvent
from ..structure.couplings import strong_partners
from .assign import assign
from .impurities import find_impurities, nearest_impurity_hint
from .integral_checks import check_h_count, check_region_integrals
from .multiplicity_checks import outer_lines_of_neighbours, pattern_mismatches, singlet_mismatches
from .peaks import Multiplet
from .records import (
    Comparison,
    ComparisonState,
    GroupCall,
    ImpurityHit,
    ObservedPeak,
    interval_gap,
    join_notes,
    signal_bounds,
)
from .side_product_signals import (
    name_alcohol_byproduct,
    name_aldehyde_leftover,
    name_boc_not_removed,
    name_impurities,
    name_over_alkylation,
)
from .solvent_lines import classify_solvent, exchange_averaged_water, hidden_solvent_share
from .thresholds import NMR_THRESHOLDS, NmrThresholds

__all__ = ["Comparison", "ComparisonState", "GroupCall", "ImpurityHit", "ObservedPeak", "compare", "rule_col"]


def rule_col(solvent: Solvent | None) -> int:
    """0 for CDCl3-like solvents, 1 for DMSO-like (same split as the shift rules)."""
    return 1 if solvent is not None and solvent.rule_key == "dmso" else 0


def compare(
    mults: list[Multiplet],
    expectation: Expectation,
    sf_mhz: float,
    th: NmrThresholds = NMR_THRESHOLDS,
    side_products: list | None = None,
    water_line_is_compound: bool = False,
) -> Comparison:
    """Classify every multiplet, scale integrals to H, assign the expected groups, name side products.

    Parameters
    ----------
    mults : list of verify.nmr.peaks.Multiplet
        The observed multiplets of one spectrum (integrals in raw units).
    expectation : verify.expectation.Expectation
        The target's expected 1H groups, built for the acquisition's solvent.
    sf_mhz : float
        Spectrometer frequency, MHz (turns ppm into Hz for couplings and line widths).
    th : NmrThresholds, optional
        Thresholds (default verify.nmr.thresholds.NMR_THRESHOLDS).
    side_products : list, optional
        verify.structure.side_products.side_products(target.mol); computed when None.
    water_line_is_compound : bool, optional
        Set by the second pass below, when the line at water's table shift was wholly the compound's
        (see classify_solvent). Default False.

    Returns
    -------
    Comparison
        Every peak with its status, every group's call, the findings, impurities and side products.
    """
    st = _start(mults, expectation, sf_mhz, th, side_products, water_line_is_compound)
    for step in (mark_solvent_lines, find_impurity_signals, budget_surplus, assign_groups):
        step(st)
    if _water_may_have_moved(st):
        return compare(mults, expectation, sf_mhz, th, side_products, water_line_is_compound=True)
    for step in (
        call_groups,
        check_multiplicities,
        name_boc_not_removed,
        name_aldehyde_leftover,
        name_alcohol_byproduct,
        name_over_alkylation,
        name_impurities,
        check_water_exchange,
        set_statuses,
        check_region_integrals,
        check_h_count,
        report_group_positions,
        report_unexplained,
    ):
        step(st)
    return _result(st)


# ------------------------------------------------------------------------------------- the steps


def _start(
    mults: list[Multiplet],
    expectation: Expectation,
    sf_mhz: float,
    th: NmrThresholds,
    side_products: list | None,
    water_line_is_compound: bool,
) -> ComparisonState:
    if side_products is None:
        from ..structure.side_products import side_products as _sp

        try:
            side_products = _sp(expectation.mol)
        except Exception:  # a structure the side-product rules cannot handle: name nothing
            side_products = []
    return ComparisonState(
        mults=mults,
        expectation=expectation,
        sf_mhz=sf_mhz,
        th=th,
        side_product_kinds={s.kind: s.name for s in side_products},
        water_line_is_compound=water_line_is_compound,
        groups=list(expectation.h_groups),
        solvent=expectation.solvent,
        rule_col=rule_col(expectation.solvent),
        peaks=[ObservedPeak(mult=m) for m in mults],
    )


def mark_solvent_lines(st: ComparisonState) -> None:
    """Residual solvent, water, reference and artefact lines (verify.nmr.solvent_lines)."""
    th = st.th
    # water hydrogen-bonds to the compound's amines and exchanges with its N-H/O-H: it moves downfield
    moves = st.expectation.n_basic_nitrogens or any(g.exchangeable for g in st.groups)
    st.water_drift_ppm = th.water_exchange_drift_ppm if moves else 0.0
    st.solvent_lines = classify_solvent(st.mults, st.solvent, th, st.water_drift_ppm, st.water_line_is_compound)
    for i, (kind, label, itself) in st.solvent_lines.items():
        st.peaks[i].solvent_label = label
        if itself:
            st.peaks[i].kind = kind if kind in ("artefact", "reference") else "solvent"
    st.artefacts = {i for i, v in st.solvent_lines.items() if v[0] == "artefact"}
    st.reference_lines = {i for i, v in st.solvent_lines.items() if v[0] == "reference" and v[2]}


def find_impurity_signals(st: ComparisonState) -> None:
    """Impurities of reference/impurities.tsv whose whole pattern fits (verify.nmr.impurities)."""
    solvent_itself = {i for i, v in st.solvent_lines.items() if v[2]}
    st.impurities = find_impurities(st.mults, st.solvent, excluded=solvent_itself, th=st.th)
    st.impurity_of = {i: h for h in st.impurities for i in h.peaks}
    st.hides_impurity = {i for h in st.impurities for i in h.hidden}


def budget_surplus(st: ComparisonState) -> None:
    """Which multiplets the assignment may use, and how much each may hold beyond the target."""
    mults, th, solvent = st.mults, st.th, st.solvent
    st.eligible = [
        i for i in range(len(mults)) if i not in st.artefacts and i not in st.reference_lines and mults[i].integral > 0
    ]
    for i in st.eligible:
        solv = st.solvent_lines.get(i)
        hidden = hidden_solvent_share(mults[i], solv, solvent, st.sf_mhz, th) if solv is not None else None
        if hidden is not None:
            # a residual solvent line resolved inside a wider multiplet (CHCl3 among the aromatic H): the
            # line-shape fit measured its part, and only that much surplus (with a margin: a compound line
            # may lie on it) is the solvent's
            st.solvent_allowance[i] = hidden * mults[i].integral * (1.0 + th.hidden_solvent_margin)
        elif solv is not None:
            # the solvent line itself, or a multiplet hiding one the fit could not measure: how much of
            # its integral is solvent is unknown (residual CHCl3 can be 0.1-3 H-equivalents), so its
            # surplus is free
            st.free_surplus[i] = 0.0
        elif i in st.impurity_of or i in st.hides_impurity:
            st.free_surplus[i] = 0.05
    st.exchange_seen = not (solvent is not None and solvent.exchanges_labile_h)
    # smallest unexplained signal that counts (H): integration error grows with the compound's size
    st.min_unexplained_h = max(
        th.unexplained_min_h, th.unexplained_min_fraction * sum(g.n_h for g in st.groups if not g.exchangeable)
    )
    # the shape of a multiplet that hides an impurity line is judged without that line (an acetyl CH3
    # rotamer pair with ethyl acetate's 2.05 singlet between them is still a pair of singlets)
    st.shapes = list(mults)
    for h in st.impurities:
        for i, p_ in zip(h.hidden, h.hidden_ppm):
            lines = st.shapes[i].lines
            if len(lines) > 1:
                k = min(range(len(lines)), key=lambda n: abs(lines[n].ppm - p_))
                if abs(lines[k].ppm - p_) <= th.impurity_tol_ppm:
                    st.shapes[i] = replace(st.shapes[i], lines=lines[:k] + lines[k + 1 :])


def assign_groups(st: ComparisonState) -> None:
    """H scale and assignment in one optimisation (verify.nmr.assign); each peak's H, surplus and deficit."""
    solved = assign(
        st.shapes,
        st.groups,
        st.free_surplus,
        st.eligible,
        st.th,
        st.exchange_seen,
        st.solvent.key if st.solvent is not None else "cdcl3",
        st.solvent_allowance,
        st.sf_mhz,
    )
    st.placed, st.missing, st.units_per_h = solved.placed, solved.missing, solved.units_per_h
    peaks, groups = st.peaks, st.groups
    for i, p in enumerate(peaks):
        p.h = st.mults[i].integral / st.units_per_h
    for (gi, j), v in st.placed.items():
        peaks[j].placed[groups[gi].id] = peaks[j].placed.get(groups[gi].id, 0.0) + v
    for j in st.eligible:
        placed = sum(peaks[j].placed.values())
        peaks[j].surplus_h = max(0.0, peaks[j].h - placed)
        peaks[j].deficit_h = max(0.0, placed - peaks[j].h)


def _water_may_have_moved(st: ComparisonState) -> bool:
    """The line taken for water at its table shift went wholly to the compound's singlets (a Boc tert-butyl
    near 1.5 ppm): water was not seen there, so it may have moved into the drift band and the comparison
    is run again. A coupled group (a ring CH2 quintet) on that singlet is a misplacement, not proof."""
    if st.water_drift_ppm <= 0 or st.water_line_is_compound:
        return False
    peaks = st.peaks
    singlet_ids = {g.id for g in st.groups if g.multiplicity == "s" and not g.exchangeable}
    seen = [i for i, v in st.solvent_lines.items() if v[0] == "water" and v[2]]
    return bool(seen) and all(
        peaks[i].h > 0
        and set(peaks[i].placed) <= singlet_ids
        and sum(peaks[i].placed.values()) >= st.th.found_fraction * peaks[i].h
        for i in seen
    )


def call_groups(st: ComparisonState) -> None:
    """Where each expected group went (GroupCall): found or not, its shift, its H, inside its window."""
    th, mults, peaks, x = st.th, st.mults, st.peaks, st.placed
    gcalls: list[GroupCall] = []
    for gi, g in enumerate(st.groups):
        pl = [(j, v) for (g2, j), v in x.items() if g2 == gi and v > 1e-6]
        if not pl:
            gcalls.append(GroupCall(g, False, None, None, 0.0))
            continue
        placed = sum(v for _, v in pl)
        need = (0.3 if g.exchangeable else th.found_fraction) * g.n_h
        found = placed >= need - 1e-9 and placed > 0
        m = mults[max(pl, key=lambda t_: t_[1])[0]]
        dist = interval_gap(g.lo, g.hi, *signal_bounds(m, st.sf_mhz))
        integ = sum(peaks[j].h * v / (sum(peaks[j].placed.values()) or 1.0) for j, v in pl)
        gcalls.append(
            GroupCall(
                g,
                bool(found),
                round(m.ppm, 3),
                round(integ, 2),
                placed,
                dist <= th.window_slack_ppm,
                dist,
                [round(mults[j].ppm, 3) for j, _ in pl],
                sum(mults[j].ppm * v for j, v in pl) / placed,
            )
        )
    # strongly coupled partners at this field (delta-nu / J) from the predicted shifts: where the assignment
    # put the groups would be circular (two groups piled on one multiplet would excuse themselves)
    shift_of = {g.id: g.mid for g in st.groups if not g.exchangeable}
    st.group_calls = [
        replace(
            gc,
            strongly_coupled_with=tuple(
                strong_partners(gc.group.couplings, shift_of, gc.group.id, st.sf_mhz, th.strong_coupling_ratio)
            ),
        )
        for gc in gcalls
    ]


def check_multiplicities(st: ComparisonState) -> None:
    """Groups placed on signals whose pattern they cannot have (verify.nmr.multiplicity_checks)."""
    mults = st.mults
    # multiplets whose lines are about as narrow as the spectrum's own: lines much wider are several
    # unresolved lines merged (overlapping multiplets, strong coupling)
    widths = [L.width_hz for m in mults if not m.flag for L in m.lines]
    max_w = st.th.pattern_max_width_ratio * float(np.percentile(widths, 20)) if widths else 0.0
    readable = {j for j, m in enumerate(mults) if m.lines and max(L.width_hz for L in m.lines) <= max_w}
    st.findings += pattern_mismatches(st.group_calls, st.placed, st.groups, mults, st.peaks, st.th, readable)
    st.findings += singlet_mismatches(st.group_calls, st.placed, st.groups, mults, st.peaks, st.expectation.mol)


def check_water_exchange(st: ComparisonState) -> None:
    """Water in fast exchange with the compound's OH/NH/COOH (verify.nmr.solvent_lines)."""
    st.findings += exchange_averaged_water(
        st.mults,
        st.peaks,
        st.groups,
        st.group_calls,
        st.solvent_lines,
        st.impurity_of,
        st.eligible,
        st.solvent,
        st.sf_mhz,
        st.th,
    )


def _status_of(st: ComparisonState, j: int) -> None:
    """One peak's status and assignment, from what it was taken for and what was placed on it."""
    p, m, groups = st.peaks[j], st.mults[j], st.groups
    placed = sum(p.placed.values())
    if p.kind == "side_product":
        p.status = "impurity"
    elif p.kind == "artefact":
        p.status, p.assignment = "solvent", m.flag
        p.note = m.note
    elif placed > 0.05 and (placed >= 0.25 * p.h or placed >= 0.3):
        p.status = "consistent"
        p.kind = "target"
        label = {g.id: g.label for g in groups}
        p.assignment = " + ".join(f"{gid} {label.get(gid, '')}" for gid in p.placed)
        if p.solvent_label:
            p.note = join_notes(p.note, f"overlaps {p.solvent_label}")
        if len(p.placed) > 1:
            p.note = join_notes(p.note, "overlapping groups " + "+".join(p.placed))
    elif p.kind in ("solvent", "reference"):
        p.status = "solvent"
        p.assignment = p.solvent_label
    elif p.kind == "impurity":
        p.status = "impurity"
    elif p.solvent_label:  # a multiplet with a solvent line inside and nothing of the target
        p.status = "solvent"
        p.assignment = p.solvent_label
        p.note = join_notes(p.note, "wider than the solvent line alone")
    elif not (st.shift_range[0] <= m.ppm <= st.shift_range[1]):
        # nothing organic the structure or a listed impurity has comes there: an edge or baseline
        # artefact (a real metal hydride or chelated enol would need its own group in the structure)
        lo, hi = st.shift_range
        p.kind, p.status, p.assignment = "artefact", "solvent", "outside the 1H shift range"
        p.note = join_notes(
            p.note,
            f"no 1H of the structure or of a listed impurity is expected outside "
            f"{lo:.1f}-{hi:.1f} ppm: taken as an artefact",
        )
        st.out_of_range.append(j)
    else:
        p.kind = "unexplained"
        p.status = "suspicious"
        p.assignment = ""
        if p.h >= st.min_unexplained_h:
            p.note = join_notes(p.note, nearest_impurity_hint(m, st.solvent, st.th))
        st.unexplained.append(j)


def set_statuses(st: ComparisonState) -> None:
    """Every peak's status (consistent, solvent, impurity, suspicious); minor lines beside a target
    multiplet given to it (verify.nmr.multiplicity_checks.outer_lines_of_neighbours)."""
    th, groups = st.th, st.groups
    st.shift_range = (
        min([th.shift_range_ppm[0]] + [g.lo - 0.5 for g in groups]),
        max([th.shift_range_ppm[1]] + [g.hi + 1.0 for g in groups]),
    )
    for j in range(len(st.peaks)):
        _status_of(st, j)
    min_h = st.min_unexplained_h
    st.unexplained = outer_lines_of_neighbours(st.unexplained, st.mults, st.peaks, min_h, st.sf_mhz, th)
    for j in st.unexplained:
        p = st.peaks[j]
        if p.h < min_h:
            p.note = join_notes(p.note, f"minor ({p.h:.2f} H, below the {min_h:.2g} H threshold)")


def report_group_positions(st: ComparisonState) -> None:
    """Groups missing, groups found outside their window, and signals outside the 1H shift range."""
    for gc in st.group_calls:
        g = gc.group
        if gc.found or g.exchangeable:
            continue
        extra = f" (only {gc.placed_h:.1f} H placed)" if gc.placed_h > 0 else ""
        st.findings.append(
            Finding(
                "error",
                "nmr.group_missing",
                f"{g.id} ({g.n_h}H, {g.label}) expected at {g.lo:.2f}-{g.hi:.2f} ppm: no matching signal{extra}",
            )
        )
    for gc in st.group_calls:
        g = gc.group
        if gc.found and not gc.in_window and not g.exchangeable:
            st.findings.append(
                Finding(
                    "warning",
                    "nmr.group_shifted",
                    f"{g.id} ({g.n_h}H, {g.label}) found at {gc.peak_ppm:.2f} ppm, {gc.distance_ppm:.2f} ppm outside "
                    f"its predicted window {g.lo:.2f}-{g.hi:.2f}",
                )
            )
    if st.out_of_range:
        lo, hi = st.shift_range
        desc = ", ".join(f"{st.mults[j].ppm:.2f}" for j in st.out_of_range[:8])
        st.findings.append(
            Finding(
                "info",
                "nmr.out_of_range",
                f"{len(st.out_of_range)} signal(s) outside {lo:.1f}-{hi:.1f} ppm ({desc}) taken as "
                "edge/baseline artefacts: no 1H of the structure or of a listed impurity comes there",
            )
        )


def report_unexplained(st: ComparisonState) -> None:
    """Unexplained signals by size: as large as a group (error), above the smallest that counts (warning),
    and the small ones when together they add up (warning)."""
    th, peaks, mults, min_h = st.th, st.peaks, st.mults, st.min_unexplained_h

    def described(js: list[int]) -> str:
        return ", ".join(f"{mults[j].ppm:.2f} ({mults[j].multiplicity}, {peaks[j].h:.2f} H)" for j in js[:8])

    big = [j for j in st.unexplained if peaks[j].h >= min_h]
    minor = [j for j in st.unexplained if peaks[j].h < min_h]
    major = [j for j in big if peaks[j].h >= th.unexplained_major_h]
    big = [j for j in big if j not in major]
    if major:
        st.findings.append(
            Finding(
                "error",
                "nmr.unexplained_major",
                "signal(s) as large as a whole group of the compound that the structure does not explain: "
                + described(major),
            )
        )
    if big:
        st.findings.append(
            Finding(
                "warning",
                "nmr.unexplained_peak",
                f"{len(big)} signal(s) not explained by the target, solvent or a known impurity: {described(big)}",
            )
        )
    minor_h = sum(peaks[j].h for j in minor)
    exp_total = sum(g.n_h for g in st.groups if not g.exchangeable) or 1
    if minor_h > max(th.unexplained_total_h, th.unexplained_total_fraction * exp_total):
        st.findings.append(
            Finding(
                "warning", "nmr.unexplained_minor", f"{len(minor)} small unexplained signals add up to {minor_h:.2f} H"
            )
        )


def _result(st: ComparisonState) -> Comparison:
    observed_h = sum(
        sum(p.placed.values()) + (p.surplus_h if st.free_surplus.get(j, 1.0) >= 1.0 else 0.0)
        for j, p in enumerate(st.peaks)
        if p.kind == "target"
    )
    return Comparison(
        scale=st.units_per_h,
        peaks=st.peaks,
        groups=st.group_calls,
        findings=st.findings,
        impurities=[h for h in st.impurities if h.mol_percent > 0],
        side_products=st.side_products,
        observed_h=observed_h,
        expected_h=sum(g.n_h for g in st.groups if not g.exchangeable),
    )
