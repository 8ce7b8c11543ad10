"""Observed multiplets against the structure: solvent, impurities, H scale, assignment, side products.

Pure functions (no file access): the input is the list of `verify.nmr.peaks.Multiplet` of one spectrum,
the `Expectation` built for the acquisition's solvent and the spectrometer frequency.

How it decides, in order (compare() runs the steps; each module's docstring says how its step decides):
  1. Solvent (verify.nmr.solvent_lines): residual solvent lines, water/HOD, TMS (DSS/TSP in D2O), 13C
     satellites and spinning sidebands, a small shoulder of a strong water line, and water in fast
     exchange with the compound's OH/NH/COOH.
  2. Impurities (verify.nmr.impurities): an entry of reference/impurities.tsv is a candidate only when
     its whole pattern fits; one of its signals may hide under a bigger (target) signal.
  3. Scale and assignment in one optimisation (verify.nmr.assign: a small linear programme, HiGHS).
  4. Side products of this chemistry (only those side_products(target) lists) from what is left
     unexplained: Boc not removed (9H singlet at 1.38-1.52), over-alkylation (benzylic CH2 singlets and
     aromatic H both above what the ring signals predict), leftover aldehyde (CHO 9.4-10.6, or the
     benzaldehyde pattern), alcohol from aldehyde reduction (ArCH2OH 4.55-4.80).
  5. Findings (verify.findings.Finding) with the thresholds of verify.nmr.thresholds.

The records (ObservedPeak, GroupCall, ImpurityHit, Comparison) live in verify.nmr.records and are
importable from here.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from rdkit import Chem

from ..expectation import Expectation
from ..findings import Finding
from ..solvents import Solvent
from ..structure.couplings import strong_partners
from ..structure.hgroups import HGroup
from .assign import assign
from .impurities import _nearest_impurity_hint, _nh, find_impurities
from .peaks import Multiplet
from .records import (
    Comparison,
    GroupCall,
    ImpurityHit,
    ObservedPeak,
    _interval_gap,
    _join,
    _line_span,
    _signal_bounds,
    _split_j,
)
from .solvent_lines import _exchange_averaged_water, classify_solvent, hidden_solvent_share
from .thresholds import NMR_THRESHOLDS, NmrThresholds

__all__ = ["Comparison", "GroupCall", "ImpurityHit", "ObservedPeak", "compare", "rule_col"]

BOC_SMARTS = Chem.MolFromSmarts("[CH3]C([CH3])([CH3])OC(=O)[#7]")

# side-product windows (ppm) per rule column: (cdcl3, dmso)
SIDE_WINDOWS = {
    "boc": ((1.38, 1.52), (1.30, 1.47)),
    "aldehyde": ((9.40, 10.60), (9.40, 10.60)),
    "alcohol": ((4.55, 4.80), (4.40, 4.60)),
    "benzylic": ((3.40, 3.75), (3.35, 3.70)),
    "aromatic": ((6.50, 8.30), (6.50, 8.40)),
}


# impurity-table entries that are this chemistry's own leftovers (named as side products when the
# target's side products include that kind)
REAGENT_SIDE_KIND = {"benzaldehyde": "aldehyde", "benzyl alcohol": "alcohol"}


# ------------------------------------------------------------------------------------- helpers


def rule_col(solvent: Solvent | None) -> int:
    """0 for CDCl3-like solvents, 1 for DMSO-like (same split as the shift rules)."""
    return 1 if solvent is not None and solvent.rule_key == "dmso" else 0


# ------------------------------------------------------------------------------------- main


def _fmt_groups(ids: list[str]) -> str:
    return "+".join(ids)


def _side_severity(mol_percent: float, th: NmrThresholds) -> str:
    """A named side product is a warning from th.side_product_warn_mol_percent, info below (judged on the
    whole mol % the finding prints)."""
    return "warning" if round(mol_percent) >= th.side_product_warn_mol_percent else "info"


def compare(
    mults: list[Multiplet],
    expectation: Expectation,
    sf_mhz: float,
    th: NmrThresholds = NMR_THRESHOLDS,
    side_products: list | None = None,
    water_line_is_compound: bool = False,
) -> Comparison:
    """Classify every multiplet, scale integrals to H, assign the expected groups, name side products.

    `side_products`: verify.structure.side_products.side_products(target.mol) (computed when None).
    `water_line_is_compound`: set by the second pass below, when the line at water's table shift was
    wholly the compound's (see classify_solvent).
    """
    solvent = expectation.solvent
    groups = list(expectation.h_groups)
    col = rule_col(solvent)
    if side_products is None:
        from ..structure.side_products import side_products as _sp

        try:
            side_products = _sp(expectation.mol)
        except Exception:  # a structure the side-product rules cannot handle: name nothing
            side_products = []
    sp_kinds = {s.kind: s.name for s in side_products}
    peaks = [ObservedPeak(mult=m) for m in mults]
    findings: list[Finding] = []

    # water hydrogen-bonds to the compound's amines and exchanges with its N-H/O-H: it moves downfield
    drift = (
        th.water_exchange_drift_ppm if (expectation.n_basic_nitrogens or any(g.exchangeable for g in groups)) else 0.0
    )
    solv = classify_solvent(mults, solvent, th, drift, water_line_is_compound)
    for i, (kind, label, itself) in solv.items():
        peaks[i].solvent_label = label
        if itself:
            peaks[i].kind = "artefact" if kind == "artefact" else ("reference" if kind == "reference" else "solvent")
    artefacts = {i for i, v in solv.items() if v[0] == "artefact"}
    reference_idx = {i for i, v in solv.items() if v[0] == "reference" and v[2]}
    solvent_itself = {i for i, v in solv.items() if v[2]}
    hits = find_impurities(mults, solvent, excluded=solvent_itself, th=th)
    imp_of: dict[int, ImpurityHit] = {}
    for h in hits:
        for i in h.peaks:
            imp_of[i] = h
    hidden_host = {i for h in hits for i in h.hidden}

    eligible = [i for i in range(len(mults)) if i not in artefacts and i not in reference_idx and mults[i].integral > 0]
    free_surplus = {}
    allowance: dict[int, float] = {}  # H a solvent line may add to a target multiplet it hides under
    for i in eligible:
        hidden = hidden_solvent_share(mults[i], solv[i], solvent, sf_mhz, th) if i in solv else None
        if hidden is not None:
            # a residual solvent line resolved inside a wider multiplet (CHCl3 among the aromatic H): the
            # line-shape fit measured its part, and only that much surplus (with a margin: a compound line
            # may lie on it) is the solvent's
            allowance[i] = hidden * mults[i].integral * (1.0 + th.hidden_solvent_margin)
        elif i in solv:
            # the solvent line itself, or a multiplet hiding one the fit could not measure: how much of
            # its integral is solvent is unknown (residual CHCl3 can be 0.1-3 H-equivalents), so its
            # surplus is free
            free_surplus[i] = 0.0
        elif i in imp_of or i in hidden_host:
            free_surplus[i] = 0.05
    exch_ok = not (solvent is not None and solvent.exchanges_labile_h)
    # smallest unexplained signal that counts (H): integration error grows with the compound's size
    min_h = max(th.unexplained_min_h, th.unexplained_min_fraction * sum(g.n_h for g in groups if not g.exchangeable))
    # the shape of a multiplet that hides an impurity line is judged without that line (an acetyl CH3
    # rotamer pair with ethyl acetate's 2.05 singlet between them is still a pair of singlets)
    shapes = list(mults)
    for h in hits:
        for i, p_ in zip(h.hidden, h.hidden_ppm):
            lines = shapes[i].lines
            if len(lines) > 1:
                k = min(range(len(lines)), key=lambda n: abs(lines[n].ppm - p_))
                if abs(lines[k].ppm - p_) <= th.impurity_tol_ppm:
                    shapes[i] = replace(shapes[i], lines=lines[:k] + lines[k + 1 :])
    solved = assign(
        shapes,
        groups,
        free_surplus,
        eligible,
        th,
        exch_ok,
        solvent.key if solvent is not None else "cdcl3",
        allowance,
        sf_mhz,
    )
    x, miss = solved.placed, solved.missing
    scale = solved.units_per_h
    for i, p in enumerate(peaks):
        p.h = mults[i].integral / scale
    # placements
    for (gi, j), v in x.items():
        peaks[j].placed[groups[gi].id] = peaks[j].placed.get(groups[gi].id, 0.0) + v
    for j in eligible:
        placed = sum(peaks[j].placed.values())
        peaks[j].surplus_h = max(0.0, peaks[j].h - placed)
        peaks[j].deficit_h = max(0.0, placed - peaks[j].h)
    if drift > 0 and not water_line_is_compound:
        # the line taken for water at its table shift went wholly to the compound's singlets (a Boc
        # tert-butyl near 1.5 ppm): water was not seen there, so it may have moved into the drift band;
        # look again. A coupled group (a ring CH2 quintet) on that singlet is a misplacement, not proof.
        singlet_ids = {g.id for g in groups if g.multiplicity == "s" and not g.exchangeable}
        seen = [i for i, v in solv.items() if v[0] == "water" and v[2]]
        if seen and all(
            peaks[i].h > 0
            and set(peaks[i].placed) <= singlet_ids
            and sum(peaks[i].placed.values()) >= th.found_fraction * peaks[i].h
            for i in seen
        ):
            return compare(mults, expectation, sf_mhz, th, side_products, water_line_is_compound=True)

    # groups
    gcalls: list[GroupCall] = []
    for gi, g in enumerate(groups):
        pl = [(j, v) for (g2, j), v in x.items() if g2 == gi and v > 1e-6]
        placed = sum(v for _, v in pl)
        need = (0.3 if g.exchangeable else th.found_fraction) * g.n_h
        found = placed >= need - 1e-9 and placed > 0
        if not pl:
            gcalls.append(GroupCall(g, False, None, None, 0.0))
            continue
        jm = max(pl, key=lambda t_: t_[1])[0]
        m = mults[jm]
        dist = _interval_gap(g.lo, g.hi, *_signal_bounds(m, sf_mhz))
        integ = 0.0
        for j, v in pl:
            tot = sum(peaks[j].placed.values()) or 1.0
            integ += peaks[j].h * v / tot
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

    # strongly coupled partners at this field (delta-nu / J) from the predicted shifts: where the assignment put
    # the groups would be circular (two groups piled on one multiplet would excuse themselves)
    shift_of = {g.id: g.mid for g in groups if not g.exchangeable}
    gcalls = [
        replace(
            gc,
            strongly_coupled_with=tuple(
                strong_partners(gc.group.couplings, shift_of, gc.group.id, sf_mhz, th.strong_coupling_ratio)
            ),
        )
        for gc in gcalls
    ]

    # multiplets whose lines are about as narrow as the spectrum's own: lines much wider are several
    # unresolved lines merged (overlapping multiplets, strong coupling)
    widths = [L.width_hz for m in mults if not m.flag for L in m.lines]
    max_w = th.pattern_max_width_ratio * float(np.percentile(widths, 20)) if widths else 0.0
    readable = {j for j, m in enumerate(mults) if m.lines and max(L.width_hz for L in m.lines) <= max_w}
    findings += _pattern_mismatches(gcalls, x, groups, mults, peaks, th, readable)
    findings += _singlet_mismatches(gcalls, x, groups, mults, peaks, expectation.mol)

    # side products from unexplained intensity
    named_sp: list[str] = []

    def unexplained_in(lo: float, hi: float, singlet: bool = False) -> list[int]:
        out = []
        for j in eligible:
            m = mults[j]
            if not (lo <= m.ppm <= hi) or j in solv or j in imp_of:
                continue
            if singlet and _split_j(m) and m.multiplicity != "m":
                continue
            out.append(j)
        return out

    has_boc = expectation.mol.HasSubstructMatch(BOC_SMARTS)
    boc_name = sp_kinds.get("boc_not_removed") or sp_kinds.get("starting_material")
    if boc_name and not has_boc:
        lo, hi = SIDE_WINDOWS["boc"][col]
        for j in unexplained_in(lo, hi, singlet=True):
            # a singlet judged by its lines: its integration range may run on to a neighbour (water at 1.56)
            # named from side_product_min_h per H, or as soon as it would otherwise count as unexplained
            if peaks[j].surplus_h >= min(9 * th.side_product_min_h, min_h) and _line_span(mults[j]) < 0.08:
                mol = 100 * peaks[j].surplus_h / 9
                _name_side(
                    peaks[j],
                    boc_name,
                    f"tert-butyl 9H singlet of a Boc group the target does not have; ~{mol:.0f} mol %",
                )
                named_sp.append(boc_name)
                findings.append(
                    Finding(
                        _side_severity(mol, th),
                        "nmr.boc_not_removed",
                        f"{boc_name}: a 9H-type singlet at {mults[j].ppm:.2f} ppm ({peaks[j].surplus_h:.2f} H, "
                        f"about {mol:.0f} mol %) is a Boc tert-butyl group, and the target has no Boc",
                    )
                )
                break
    if "aldehyde" in sp_kinds:
        lo, hi = SIDE_WINDOWS["aldehyde"][col]
        cho = [j for j in unexplained_in(lo, hi) if peaks[j].surplus_h >= th.side_product_min_h]
        if cho and not any(g.lo >= 9.0 for g in groups if not g.exchangeable):
            j = max(cho, key=lambda k: peaks[k].surplus_h)
            mol = 100 * peaks[j].surplus_h
            nm_ = sp_kinds["aldehyde"]
            _name_side(peaks[j], nm_, f"aldehyde CHO; ~{mol:.0f} mol %")
            named_sp.append(nm_)
            findings.append(
                Finding(
                    _side_severity(mol, th),
                    "nmr.aldehyde_leftover",
                    f"{nm_}: an aldehyde CHO signal at {mults[j].ppm:.2f} ppm ({peaks[j].surplus_h:.2f} H, about {mol:.0f} mol %)",
                )
            )
    if "alcohol" in sp_kinds:
        lo, hi = SIDE_WINDOWS["alcohol"][col]
        oh = [
            j
            for j in unexplained_in(lo, hi)
            if peaks[j].surplus_h >= 2 * th.side_product_min_h
            and (mults[j].multiplicity in ("s", "br s", "d") or mults[j].hi - mults[j].lo < 0.05)
        ]
        if oh:
            j = max(oh, key=lambda k: peaks[k].surplus_h)
            mol = 100 * peaks[j].surplus_h / 2
            nm_ = sp_kinds["alcohol"]
            _name_side(peaks[j], nm_, f"ArCH2OH; ~{mol:.0f} mol %")
            named_sp.append(nm_)
            findings.append(
                Finding(
                    _side_severity(mol, th),
                    "nmr.alcohol_byproduct",
                    f"{nm_}: a benzylic CH2OH signal at {mults[j].ppm:.2f} ppm ({peaks[j].surplus_h:.2f} H, about {mol:.0f} mol %)",
                )
            )
    if "over_alkylation" in sp_kinds:
        ratio = _class_ratios(peaks, groups, eligible, free_surplus)
        blo, bhi = SIDE_WINDOWS["benzylic"][col]
        alo, ahi = SIDE_WINDOWS["aromatic"][col]
        bj = [
            j
            for j in eligible
            if blo <= mults[j].ppm <= bhi and j not in solv and j not in imp_of and peaks[j].kind != "side_product"
        ]
        b_sur = sum(peaks[j].surplus_h for j in bj)
        rr = ratio.get("rest")
        n_b = sum(g.n_h for g in groups if _class(g) == "benzylic")
        n_a = sum(g.n_h for g in groups if _class(g) == "aromatic")

        def region_h(lo_: float, hi_: float, singlets: bool = False) -> float:
            # multiplets with a solvent line inside but wider than it (CHCl3 under the aromatic H) count
            return sum(
                peaks[j].h
                for j in eligible
                if lo_ <= mults[j].ppm <= hi_
                and j not in imp_of
                and (
                    peaks[j].kind not in ("solvent", "reference", "artefact", "side_product")
                    or (j in solv and not solv[j][2])
                )
                and (
                    not singlets
                    or (mults[j].hi - mults[j].lo <= 0.08 and (len(mults[j].lines) <= 2 or not _split_j(mults[j])))
                )
            )

        # N-benzyl CH2 are singlets: ring CH2 multiplets of other species in the same window do not count
        rb = region_h(blo, bhi, singlets=True) / n_b if n_b else None
        ra = region_h(alo, ahi) / n_a if n_a else None
        excess_b = (rb / rr - 1) if rb and rr else 0.0
        excess_a = (ra / rr - 1) if ra and rr else 0.0
        if (
            (b_sur >= 4 * th.side_product_min_h or excess_b >= th.over_alkylation_excess)
            and excess_a >= th.over_alkylation_excess
            and b_sur + excess_b > 0
        ):
            nm_ = sp_kinds["over_alkylation"]
            # target 2H ArCH2 + f * 4H: (2 + 4f) / 2 = 1 + excess (relative to the ring signals, which
            # the side product also doubles) -> f ~ excess / (2 - 2 excess) for a symmetric dibenzyl product
            f = max(excess_b, 0.0) / max(2 - 2 * max(excess_b, 0.0), 0.5)
            mol = 100 * max(f, b_sur / 4)
            for j in bj:
                peaks[j].note = _join(
                    peaks[j].note, f"benzylic CH2 {100 * excess_b:.0f} % above the ring signals: {nm_}"
                )
                if not peaks[j].placed:
                    _name_side(peaks[j], nm_, f"~{mol:.0f} mol %")
            named_sp.append(nm_)
            findings.append(
                Finding(
                    _side_severity(mol, th),
                    "nmr.over_alkylation",
                    f"{nm_}: the benzylic CH2 ({blo:.2f}-{bhi:.2f} ppm) integrates {100 * excess_b:.0f} % and the "
                    f"aromatic H {100 * excess_a:.0f} % above what the ring signals predict: a second benzyl "
                    f"group on the ring (about {mol:.0f} mol %)",
                )
            )

    # statuses
    imp_findings = []
    for h in hits:
        target_use = sum(sum(peaks[i].placed.values()) for i in h.peaks)
        own = sum(peaks[i].h for i in h.peaks)
        if own <= 0 or target_use > 0.5 * own or min(peaks[i].h for i in h.peaks) < th.report_min_h:
            continue
        r_h = float(np.median([peaks[i].surplus_h / max(float(_nh(h, mults[i], solvent)), 1) for i in h.peaks]))
        h.mol_percent = 100 * r_h
        for i in h.peaks:
            if peaks[i].kind in ("side_product",):
                continue
            peaks[i].kind = "impurity"
            peaks[i].assignment = h.name
            peaks[i].note = _join(
                peaks[i].note, f"{h.kind}; ~{h.mol_percent:.0f} mol %" if h.kind else f"~{h.mol_percent:.0f} mol %"
            )
        for i in h.hidden:
            peaks[i].note = _join(peaks[i].note, f"includes a {h.name} signal")
        sp_kind = REAGENT_SIDE_KIND.get(h.name)
        if sp_kind and sp_kind in sp_kinds:
            code = {"aldehyde": "nmr.aldehyde_leftover", "alcohol": "nmr.alcohol_byproduct"}[sp_kind]
            if code not in {f.code for f in findings}:
                named_sp.append(sp_kinds[sp_kind])
                imp_findings.append(
                    Finding(
                        _side_severity(h.mol_percent, th),
                        code,
                        f"{sp_kinds[sp_kind]}: {h.name} signals present "
                        f"(about {h.mol_percent:.0f} mol % of the compound)",
                    )
                )
            continue
        sev = "warning" if h.mol_percent > th.impurity_warn_mol_percent else "info"
        imp_findings.append(
            Finding(sev, "nmr.impurity", f"{h.name} present (about {h.mol_percent:.0f} mol % of the compound)")
        )
    findings += imp_findings

    findings += _exchange_averaged_water(mults, peaks, groups, gcalls, solv, imp_of, eligible, solvent, sf_mhz, th)

    range_lo = min([th.shift_range_ppm[0]] + [g.lo - 0.5 for g in groups])
    range_hi = max([th.shift_range_ppm[1]] + [g.hi + 1.0 for g in groups])
    out_of_range: list[int] = []
    unexplained = []
    for j, p in enumerate(peaks):
        m = mults[j]
        placed = sum(p.placed.values())
        if p.kind == "side_product":
            p.status = "impurity"
            continue
        if p.kind == "artefact":
            p.status, p.assignment = "solvent", m.flag
            p.note = m.note
            continue
        if placed > 0.05 and (placed >= 0.25 * p.h or placed >= 0.3):
            p.status = "consistent"
            p.kind = "target"
            p.assignment = " + ".join(f"{gid} {_label(groups, gid)}" for gid in p.placed)
            if p.solvent_label:
                p.note = _join(p.note, f"overlaps {p.solvent_label}")
            if len(p.placed) > 1:
                p.note = _join(p.note, "overlapping groups " + "+".join(p.placed))
            continue
        if p.kind in ("solvent", "reference"):
            p.status = "solvent"
            p.assignment = p.solvent_label
            continue
        if p.kind == "impurity":
            p.status = "impurity"
            continue
        if p.solvent_label:  # a multiplet with a solvent line inside and nothing of the target
            p.status = "solvent"
            p.assignment = p.solvent_label
            p.note = _join(p.note, "wider than the solvent line alone")
            continue
        if not (range_lo <= m.ppm <= range_hi):
            # nothing organic the structure or a listed impurity has comes there: an edge or baseline
            # artefact (a real metal hydride or chelated enol would need its own group in the structure)
            p.kind, p.status, p.assignment = "artefact", "solvent", "outside the 1H shift range"
            p.note = _join(
                p.note,
                f"no 1H of the structure or of a listed impurity is expected outside "
                f"{range_lo:.1f}-{range_hi:.1f} ppm: taken as an artefact",
            )
            out_of_range.append(j)
            continue
        p.kind = "unexplained"
        p.status = "suspicious"
        p.assignment = ""
        if p.h >= min_h:
            p.note = _join(p.note, _nearest_impurity_hint(m, solvent, th))
        unexplained.append(j)

    unexplained = _outer_lines_of_neighbours(unexplained, mults, peaks, min_h, sf_mhz, th)
    for j in unexplained:
        if peaks[j].h < min_h:
            peaks[j].note = _join(peaks[j].note, f"minor ({peaks[j].h:.2f} H, below the {min_h:.2g} H threshold)")

    # integral checks, as a chemist integrates: over regions of touching multiplets (the split of an
    # integral between two touching multiplets is not reliable), and over the whole spectrum
    tgt = sorted([j for j in eligible if peaks[j].kind == "target"], key=lambda j: -mults[j].ppm)
    regions: list[list[int]] = []
    for j in tgt:
        if regions and mults[regions[-1][-1]].lo - mults[j].hi <= 0.01:
            regions[-1].append(j)
        else:
            regions.append([j])
    total_deficit = 0.0
    reg_obs = [sum(peaks[j].h for j in reg) for reg in regions]
    reg_placed = [sum(sum(peaks[j].placed.values()) for j in reg) for reg in regions]
    region_of = {j: r for r, reg in enumerate(regions) for j in reg}
    regrouped = list(reg_placed)  # H placed per region after the moves regroupable() has made so far

    def tol_h(placed_h: float) -> float:
        return max(th.integral_tol_h, th.integral_tol_rel * placed_h)

    def regroupable(r: int, excess: float) -> bool:
        """Whether a surplus in region r is only a fractional split: a group placed here in part has H
        placed in other regions that could move here whole while those regions stay within tolerance
        (the assignment shares a 1H group 0.5/0.5 between two signals where 1/0 fits as well)."""
        need = excess - tol_h(regrouped[r])
        gids = {g for j in regions[r] for g in peaks[j].placed}
        for j2, p2 in enumerate(peaks):
            r2 = region_of.get(j2)
            if r2 is None or r2 == r or need <= 0:
                continue
            for gid in gids & set(p2.placed):
                spare = tol_h(regrouped[r2]) - (reg_obs[r2] - regrouped[r2])  # what r2 can give up
                give = min(p2.placed[gid], max(0.0, spare), need)
                if give > 0:
                    regrouped[r2] -= give
                    regrouped[r] += give
                    need -= give
        return need <= 0

    exch_ids = {g.id for g in groups if g.exchangeable}
    # H of surplus a solvent line the fit measured may account for, per region (raw units -> H)
    allowed_h = [sum(allowance.get(j, 0.0) for j in reg) / scale for reg in regions]
    flagged: set[int] = set()  # regions already reported as a marginal integral
    for ri, reg in enumerate(regions):
        obs, placed = reg_obs[ri], reg_placed[ri]
        ids = "+".join(dict.fromkeys(g for j in reg for g in peaks[j].placed))
        where = (
            f"{mults[reg[0]].ppm:.2f} ppm" if len(reg) == 1 else f"{mults[reg[-1]].lo:.2f}-{mults[reg[0]].hi:.2f} ppm"
        )
        # a solvent line inside, or an exchangeable OH/NH (its integral follows exchange with water):
        # surplus in that region is not counted
        free = any(free_surplus.get(j, 1.0) < 1.0 or exch_ids & set(peaks[j].placed) for j in reg)
        allowed = allowed_h[ri]
        deficit = placed - obs
        total_deficit += max(0.0, deficit)
        if deficit > tol_h(placed):
            flagged.add(ri)
            findings.append(
                Finding(
                    "warning",
                    "nmr.integral_mismatch",
                    f"the signal(s) at {where} integrate to {obs:.2f} H where {ids} need {_h(placed)} H",
                )
            )
        elif (
            not free
            and -deficit - allowed > tol_h(placed)
            and -deficit - allowed >= min_h
            and not regroupable(ri, -deficit - allowed)
        ):
            flagged.add(ri)
            findings.append(
                Finding(
                    "warning",
                    "nmr.integral_mismatch",
                    f"the signal(s) at {where} integrate to {obs:.2f} H where {ids} account for {_h(placed)} H "
                    f"({-deficit:.2f} H more: an overlapping impurity?)",
                )
            )
            for j in reg:
                if peaks[j].surplus_h >= th.report_min_h:
                    peaks[j].note = _join(peaks[j].note, f"{peaks[j].surplus_h:.2f} H more than assigned")
    # exchangeable H the assignment left unplaced: a broad N-H/O-H may lie under any region (not in D2O/CD3OD)
    unplaced_exch = (
        sum(max(0.0, gc.group.n_h - gc.placed_h) for gc in gcalls if gc.group.exchangeable) if exch_ok else 0.0
    )
    findings += _leave_one_out_counts(
        regions,
        reg_obs,
        reg_placed,
        peaks,
        mults,
        groups,
        free_surplus,
        exch_ids,
        flagged,
        tol_h,
        th,
        unplaced_exch,
        allowed_h,
    )
    exp_nonex = sum(g.n_h for g in groups if not g.exchangeable)
    missing_h = sum(miss.get(gi, 0.0) for gi, g in enumerate(groups) if not g.exchangeable)
    if exp_nonex and total_deficit + missing_h > max(th.integral_wrong_h * 2, th.h_count_wrong_fraction * exp_nonex):
        findings.append(
            Finding(
                "error",
                "nmr.h_count_wrong",
                f"the spectrum lacks {total_deficit + missing_h:.1f} of the {exp_nonex} non-exchangeable H the "
                f"structure needs (signals too small for their groups, or absent)",
            )
        )

    # groups: missing / outside window
    missing = [gc for gc in gcalls if not gc.found and not gc.group.exchangeable]
    for gc in missing:
        g = gc.group
        where = f"{g.lo:.2f}-{g.hi:.2f} ppm"
        extra = f" (only {gc.placed_h:.1f} H placed)" if gc.placed_h > 0 else ""
        findings.append(
            Finding(
                "error",
                "nmr.group_missing",
                f"{g.id} ({g.n_h}H, {g.label}) expected at {where}: no matching signal{extra}",
            )
        )
    for gc in gcalls:
        if gc.found and not gc.in_window and not gc.group.exchangeable:
            g = gc.group
            findings.append(
                Finding(
                    "warning",
                    "nmr.group_shifted",
                    f"{g.id} ({g.n_h}H, {g.label}) found at {gc.peak_ppm:.2f} ppm, {gc.distance_ppm:.2f} ppm outside "
                    f"its predicted window {g.lo:.2f}-{g.hi:.2f}",
                )
            )
    if out_of_range:
        desc = ", ".join(f"{mults[j].ppm:.2f}" for j in out_of_range[:8])
        findings.append(
            Finding(
                "info",
                "nmr.out_of_range",
                f"{len(out_of_range)} signal(s) outside {range_lo:.1f}-{range_hi:.1f} ppm ({desc}) taken as "
                "edge/baseline artefacts: no 1H of the structure or of a listed impurity comes there",
            )
        )
    # unexplained
    big = [j for j in unexplained if peaks[j].h >= min_h]
    minor = [j for j in unexplained if peaks[j].h < min_h]
    major = [j for j in big if peaks[j].h >= th.unexplained_major_h]
    big = [j for j in big if j not in major]
    if major:
        desc = ", ".join(f"{mults[j].ppm:.2f} ({mults[j].multiplicity}, {peaks[j].h:.2f} H)" for j in major[:8])
        findings.append(
            Finding(
                "error",
                "nmr.unexplained_major",
                f"signal(s) as large as a whole group of the compound that the structure does not explain: {desc}",
            )
        )
    if big:
        desc = ", ".join(f"{mults[j].ppm:.2f} ({mults[j].multiplicity}, {peaks[j].h:.2f} H)" for j in big[:8])
        findings.append(
            Finding(
                "warning",
                "nmr.unexplained_peak",
                f"{len(big)} signal(s) not explained by the target, solvent or a known impurity: {desc}",
            )
        )
    minor_h = sum(peaks[j].h for j in minor)
    exp_total = sum(g.n_h for g in groups if not g.exchangeable) or 1
    if minor_h > max(th.unexplained_total_h, th.unexplained_total_fraction * exp_total):
        findings.append(
            Finding(
                "warning", "nmr.unexplained_minor", f"{len(minor)} small unexplained signals add up to {minor_h:.2f} H"
            )
        )
    observed_h = sum(
        sum(p.placed.values()) + (p.surplus_h if free_surplus.get(j, 1.0) >= 1.0 else 0.0)
        for j, p in enumerate(peaks)
        if p.kind == "target"
    )
    exp_h = sum(g.n_h for g in groups if not g.exchangeable)
    return Comparison(
        scale=scale,
        peaks=peaks,
        groups=gcalls,
        findings=findings,
        impurities=[h for h in hits if h.mol_percent > 0],
        side_products=named_sp,
        observed_h=observed_h,
        expected_h=exp_h,
    )


def _leave_one_out_counts(
    regions,
    reg_obs,
    reg_placed,
    peaks,
    mults,
    groups,
    free_surplus,
    exch_ids,
    flagged: set[int],
    tol_h,
    th: NmrThresholds,
    unplaced_exch_h: float = 0.0,
    allowed_h: list[float] | None = None,
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
    any multiplet. A region hiding a solvent line the line-shape fit measured (`allowed_h`: H of surplus that
    line may account for) is tested for a surplus beyond that. Regions in `flagged` (already reported by the
    region check) are not reported twice.
    """
    n_h = {g.id: g.n_h for g in groups}
    allowed_h = allowed_h or [0.0] * len(regions)
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
        if abs(off) <= max(tol_h(reg_placed[ri]), th.integral_loo_min_h):
            continue
        where = (
            f"{mults[reg[0]].ppm:.2f} ppm" if len(reg) == 1 else f"{mults[reg[-1]].lo:.2f}-{mults[reg[0]].hi:.2f} ppm"
        )
        out.append(
            Finding(
                "warning",
                "nmr.integral_mismatch",
                f"the signal(s) at {where} integrate to {implied:.2f} H against the compound's other "
                f"signals, where {'+'.join(ids)} {'need' if off < 0 else 'account for'} "
                f"{_h(reg_placed[ri])} H (a different count of H there?)",
            )
        )
    return out


def _h(n: float) -> str:
    """An H count as a chemist writes it: whole when it is whole, else one decimal (part of a split group)."""
    return f"{n:.0f}" if abs(n - round(n)) < 0.05 else f"{n:.1f}"


def _class(g: HGroup) -> str:
    """benzylic | aromatic | rest | exchangeable (for the over-alkylation rule)."""
    if g.exchangeable:
        return "exchangeable"
    lab = g.label.lower()
    if lab.startswith("arch2") or "benzylic" in lab:
        return "benzylic"
    if "aromatic" in lab or "benzene" in lab:
        return "aromatic"
    return "rest"


def _class_ratios(
    peaks: list[ObservedPeak], groups: list[HGroup], eligible: list[int], free_surplus: dict[int, float]
) -> dict[str, float]:
    """Observed/expected H for benzylic CH2, aromatic CH and all other non-exchangeable target groups.

    Observed H of a multiplet are shared among the groups placed on it in proportion to their H;
    multiplets with a solvent line inside are left out (their integral is not the target's alone).
    """
    cls_of = {g.id: _class(g) for g in groups if not g.exchangeable}
    obs: dict[str, float] = {}
    exp: dict[str, float] = {}
    for j in eligible:
        p = peaks[j]
        if not p.placed or free_surplus.get(j, 1.0) < 1.0:
            continue
        tot = sum(p.placed.values())
        for gid, v in p.placed.items():
            c = cls_of.get(gid)
            if c is None:
                continue
            obs[c] = obs.get(c, 0.0) + p.h * v / tot
            exp[c] = exp.get(c, 0.0) + v
    return {c: obs[c] / exp[c] for c in obs if exp.get(c)}


def _label(groups: list[HGroup], gid: str) -> str:
    g = next((g for g in groups if g.id == gid), None)
    return g.label if g else ""


def _name_side(p: ObservedPeak, name: str, note: str) -> None:
    p.kind = "side_product"
    p.status = "impurity"
    p.assignment = name
    p.note = _join(p.note, note)


_FIRST_ORDER_J = (6.5, 9.5)  # an ortho (3J) aromatic coupling, Hz
# a window is the 5-95 % interval of the prediction (about +-1.645 sigma), as in nmr.alternatives
_SIGMA_PER_WIDTH = 1.0 / 3.29


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


def _ortho_couplings(m: Multiplet) -> int | None:
    """How many 4-10 Hz couplings a resolved first-order multiplet shows (a 'td' of 7.5 and 1.4 Hz: two),
    or None when its name says nothing (s, br s, m, or J values that do not pair with its letters)."""
    import re

    if m.multiplicity in ("s", "br s", "m") or not m.j_hz or len(m.lines) < 2:
        return None
    letters = re.findall(r"quint|sext|sept|d|t|q", m.multiplicity)
    if "".join(letters) != m.multiplicity or len(letters) != len(m.j_hz):
        return None
    lo, hi = _ORTHO_RANGE_HZ
    return sum(_SPINS[c] for c, j in zip(letters, m.j_hz) if lo <= j <= hi)


def _outer_lines_of_neighbours(
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
        p.note = _join(p.note, f"outer line of the {mults[k].ppm:.2f} ppm multiplet ({host[1]:.1f} Hz from its lines)")
    return still


def _pattern_mismatches(
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
            n = _ortho_couplings(m)
            if n is not None and n != g.ortho_h:
                return f"has {_RING_H[g.ortho_h]} ring H ortho to it ({_ORTHO_WANT[g.ortho_h]})"
        return ""

    def swap_cost(g: HGroup, j: int) -> float:
        # the misfit of putting g on mults[j] (as nmr.alternatives scores shifts: 0.5 n_H z^2, capped)
        if g.centre is None:
            return 0.0
        sigma = max((g.hi - g.lo) * _SIGMA_PER_WIDTH, 0.03)
        return 0.5 * g.n_h * min(((mults[j].ppm - g.centre) / sigma) ** 2, 9.0)

    main = {}  # group index -> the multiplet carrying most of it
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
    j = max(mine, key=mine.get)
    return j if mine[j] >= 0.9 * sum(mine.values()) else None


def _singlet_mismatches(
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
        n = _ortho_couplings(m)  # the count of 4-10 Hz couplings, whatever their origin
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
