"""Side products of this chemistry named from what the assignment left unexplained.

Steps of the comparison (verify.nmr.compare) after the assignment; each names only the side products
that verify.structure.side_products lists for the target, and marks the signals it takes:
  - Boc not removed, or Boc-protected starting material: a 9H tert-butyl singlet at 1.38-1.52 ppm
    (1.30-1.47 in DMSO-d6) that the target, having no Boc, cannot explain;
  - leftover aldehyde: a CHO signal at 9.4-10.6 ppm;
  - alcohol from the aldehyde's reduction: an ArCH2OH singlet at 4.55-4.80 ppm (4.40-4.60 in DMSO-d6);
  - over-alkylation: the benzylic CH2 singlets and the aromatic H both integrate above what the ring
    signals predict (a second benzyl group on the ring);
  - and the impurities of reference/impurities.tsv that are this chemistry's own reagents (benzaldehyde,
    benzyl alcohol) named as those side products, every other impurity as itself.
"""

from __future__ import annotations

import numpy as np
from rdkit import Chem

from ..findings import Finding
from ..structure.hgroups import HGroup
from .impurities import impurity_signal_h
from .records import ComparisonState, ObservedPeak, is_split, join_notes, line_span
from .thresholds import NmrThresholds

__all__ = [
    "SIDE_WINDOWS",
    "name_alcohol_byproduct",
    "name_aldehyde_leftover",
    "name_boc_not_removed",
    "name_impurities",
    "name_over_alkylation",
]

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
_REAGENT_CODE = {"aldehyde": "nmr.aldehyde_leftover", "alcohol": "nmr.alcohol_byproduct"}


def side_severity(mol_percent: float, th: NmrThresholds) -> str:
    """A named side product is a warning from th.side_product_warn_mol_percent, info below (judged on the
    whole mol % the finding prints)."""
    return "warning" if round(mol_percent) >= th.side_product_warn_mol_percent else "info"


def _name_side(p: ObservedPeak, name: str, note: str) -> None:
    p.kind = "side_product"
    p.status = "impurity"
    p.assignment = name
    p.note = join_notes(p.note, note)


def _unexplained_in(st: ComparisonState, lo: float, hi: float, singlet: bool = False) -> list[int]:
    """Multiplets at lo-hi ppm that are neither solvent nor a listed impurity (singlet-like ones only, when
    `singlet`)."""
    out = []
    for j in st.eligible:
        m = st.mults[j]
        if not (lo <= m.ppm <= hi) or j in st.solvent_lines or j in st.impurity_of:
            continue
        if singlet and is_split(m) and m.multiplicity != "m":
            continue
        out.append(j)
    return out


def _record(st: ComparisonState, j: int, name: str, note: str, mol: float, code: str, message: str) -> None:
    _name_side(st.peaks[j], name, note)
    st.side_products.append(name)
    st.findings.append(Finding(side_severity(mol, st.th), code, message))


def name_boc_not_removed(st: ComparisonState) -> None:
    """A tert-butyl 9H singlet the target (without Boc) cannot explain: Boc not removed, or Boc-protected
    starting material."""
    kinds, peaks, th = st.side_product_kinds, st.peaks, st.th
    name = kinds.get("boc_not_removed") or kinds.get("starting_material")
    if not name or st.expectation.mol.HasSubstructMatch(BOC_SMARTS):
        return
    lo, hi = SIDE_WINDOWS["boc"][st.rule_col]
    for j in _unexplained_in(st, lo, hi, singlet=True):
        # a singlet judged by its lines: its integration range may run on to a neighbour (water at 1.56)
        # named from side_product_min_h per H, or as soon as it would otherwise count as unexplained
        if peaks[j].surplus_h >= min(9 * th.side_product_min_h, st.min_unexplained_h) and line_span(st.mults[j]) < 0.08:
            mol = 100 * peaks[j].surplus_h / 9
            _record(
                st,
                j,
                name,
                f"tert-butyl 9H singlet of a Boc group the target does not have; ~{mol:.0f} mol %",
                mol,
                "nmr.boc_not_removed",
                f"{name}: a 9H-type singlet at {st.mults[j].ppm:.2f} ppm ({peaks[j].surplus_h:.2f} H, "
                f"about {mol:.0f} mol %) is a Boc tert-butyl group, and the target has no Boc",
            )
            return


def name_aldehyde_leftover(st: ComparisonState) -> None:
    """An aldehyde CHO signal (9.4-10.6 ppm) when the target has no H that far downfield."""
    if "aldehyde" not in st.side_product_kinds:
        return
    peaks = st.peaks
    lo, hi = SIDE_WINDOWS["aldehyde"][st.rule_col]
    cho = [j for j in _unexplained_in(st, lo, hi) if peaks[j].surplus_h >= st.th.side_product_min_h]
    if not cho or any(g.lo >= 9.0 for g in st.groups if not g.exchangeable):
        return
    j = max(cho, key=lambda k: peaks[k].surplus_h)
    mol = 100 * peaks[j].surplus_h
    name = st.side_product_kinds["aldehyde"]
    _record(
        st,
        j,
        name,
        f"aldehyde CHO; ~{mol:.0f} mol %",
        mol,
        "nmr.aldehyde_leftover",
        f"{name}: an aldehyde CHO signal at {st.mults[j].ppm:.2f} ppm ({peaks[j].surplus_h:.2f} H, about {mol:.0f} mol %)",
    )


def name_alcohol_byproduct(st: ComparisonState) -> None:
    """A benzylic CH2OH singlet (or narrow doublet) from reduction of the aldehyde."""
    if "alcohol" not in st.side_product_kinds:
        return
    peaks, mults = st.peaks, st.mults
    lo, hi = SIDE_WINDOWS["alcohol"][st.rule_col]
    oh = [
        j
        for j in _unexplained_in(st, lo, hi)
        if peaks[j].surplus_h >= 2 * st.th.side_product_min_h
        and (mults[j].multiplicity in ("s", "br s", "d") or mults[j].hi - mults[j].lo < 0.05)
    ]
    if not oh:
        return
    j = max(oh, key=lambda k: peaks[k].surplus_h)
    mol = 100 * peaks[j].surplus_h / 2
    name = st.side_product_kinds["alcohol"]
    _record(
        st,
        j,
        name,
        f"ArCH2OH; ~{mol:.0f} mol %",
        mol,
        "nmr.alcohol_byproduct",
        f"{name}: a benzylic CH2OH signal at {mults[j].ppm:.2f} ppm ({peaks[j].surplus_h:.2f} H, about {mol:.0f} mol %)",
    )


def group_class(g: HGroup) -> str:
    """benzylic | aromatic | rest | exchangeable (for the over-alkylation rule)."""
    if g.exchangeable:
        return "exchangeable"
    lab = g.label.lower()
    if lab.startswith("arch2") or "benzylic" in lab:
        return "benzylic"
    if "aromatic" in lab or "benzene" in lab:
        return "aromatic"
    return "rest"


def class_ratios(
    peaks: list[ObservedPeak], groups: list[HGroup], eligible: list[int], free_surplus: dict[int, float]
) -> dict[str, float]:
    """Observed/expected H for benzylic CH2, aromatic CH and all other non-exchangeable target groups.

    Observed H of a multiplet are shared among the groups placed on it in proportion to their H;
    multiplets with a solvent line inside are left out (their integral is not the target's alone).
    """
    cls_of = {g.id: group_class(g) for g in groups if not g.exchangeable}
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


def _region_h(st: ComparisonState, lo: float, hi: float, singlets: bool = False) -> float:
    """H of the target-like signals at lo-hi ppm (singlet-like ones only, when `singlets`).

    Multiplets with a solvent line inside but wider than it (CHCl3 under the aromatic H) count."""
    peaks, mults = st.peaks, st.mults
    return sum(
        peaks[j].h
        for j in st.eligible
        if lo <= mults[j].ppm <= hi
        and j not in st.impurity_of
        and (
            peaks[j].kind not in ("solvent", "reference", "artefact", "side_product")
            or (j in st.solvent_lines and not st.solvent_lines[j][2])
        )
        and (
            not singlets or (mults[j].hi - mults[j].lo <= 0.08 and (len(mults[j].lines) <= 2 or not is_split(mults[j])))
        )
    )


def name_over_alkylation(st: ComparisonState) -> None:
    """Benzylic CH2 and aromatic H both above what the ring signals predict: a second benzyl on the ring."""
    if "over_alkylation" not in st.side_product_kinds:
        return
    peaks, mults, groups, th = st.peaks, st.mults, st.groups, st.th
    ratio = class_ratios(peaks, groups, st.eligible, st.free_surplus)
    blo, bhi = SIDE_WINDOWS["benzylic"][st.rule_col]
    alo, ahi = SIDE_WINDOWS["aromatic"][st.rule_col]
    bj = [
        j
        for j in st.eligible
        if blo <= mults[j].ppm <= bhi
        and j not in st.solvent_lines
        and j not in st.impurity_of
        and peaks[j].kind != "side_product"
    ]
    b_sur = sum(peaks[j].surplus_h for j in bj)
    rr = ratio.get("rest")
    n_b = sum(g.n_h for g in groups if group_class(g) == "benzylic")
    n_a = sum(g.n_h for g in groups if group_class(g) == "aromatic")
    # N-benzyl CH2 are singlets: ring CH2 multiplets of other species in the same window do not count
    rb = _region_h(st, blo, bhi, singlets=True) / n_b if n_b else None
    ra = _region_h(st, alo, ahi) / n_a if n_a else None
    excess_b = (rb / rr - 1) if rb and rr else 0.0
    excess_a = (ra / rr - 1) if ra and rr else 0.0
    if not (
        (b_sur >= 4 * th.side_product_min_h or excess_b >= th.over_alkylation_excess)
        and excess_a >= th.over_alkylation_excess
        and b_sur + excess_b > 0
    ):
        return
    name = st.side_product_kinds["over_alkylation"]
    # target 2H ArCH2 + f * 4H: (2 + 4f) / 2 = 1 + excess (relative to the ring signals, which
    # the side product also doubles) -> f ~ excess / (2 - 2 excess) for a symmetric dibenzyl product
    f = max(excess_b, 0.0) / max(2 - 2 * max(excess_b, 0.0), 0.5)
    mol = 100 * max(f, b_sur / 4)
    for j in bj:
        peaks[j].note = join_notes(peaks[j].note, f"benzylic CH2 {100 * excess_b:.0f} % above the ring signals: {name}")
        if not peaks[j].placed:
            _name_side(peaks[j], name, f"~{mol:.0f} mol %")
    st.side_products.append(name)
    st.findings.append(
        Finding(
            side_severity(mol, th),
            "nmr.over_alkylation",
            f"{name}: the benzylic CH2 ({blo:.2f}-{bhi:.2f} ppm) integrates {100 * excess_b:.0f} % and the "
            f"aromatic H {100 * excess_a:.0f} % above what the ring signals predict: a second benzyl "
            f"group on the ring (about {mol:.0f} mol %)",
        )
    )


def name_impurities(st: ComparisonState) -> None:
    """Mark the signals of each impurity the target did not take, with its mol %; one finding each.

    A hit whose signals went mostly to the target, or with a signal below th.report_min_h, is dropped
    (its mol % stays 0). The chemistry's own reagents are named as their side product."""
    peaks, mults, th = st.peaks, st.mults, st.th
    kinds = st.side_product_kinds
    found: list[Finding] = []
    for h in st.impurities:
        target_use = sum(sum(peaks[i].placed.values()) for i in h.peaks)
        own = sum(peaks[i].h for i in h.peaks)
        if own <= 0 or target_use > 0.5 * own or min(peaks[i].h for i in h.peaks) < th.report_min_h:
            continue
        r_h = float(
            np.median([peaks[i].surplus_h / max(float(impurity_signal_h(h, mults[i], st.solvent)), 1) for i in h.peaks])
        )
        h.mol_percent = 100 * r_h
        for i in h.peaks:
            if peaks[i].kind == "side_product":
                continue
            peaks[i].kind = "impurity"
            peaks[i].assignment = h.name
            peaks[i].note = join_notes(
                peaks[i].note, f"{h.kind}; ~{h.mol_percent:.0f} mol %" if h.kind else f"~{h.mol_percent:.0f} mol %"
            )
        for i in h.hidden:
            peaks[i].note = join_notes(peaks[i].note, f"includes a {h.name} signal")
        sp_kind = REAGENT_SIDE_KIND.get(h.name)
        if sp_kind and sp_kind in kinds:
            code = _REAGENT_CODE[sp_kind]
            if code not in {f.code for f in st.findings}:
                st.side_products.append(kinds[sp_kind])
                found.append(
                    Finding(
                        side_severity(h.mol_percent, th),
                        code,
                        f"{kinds[sp_kind]}: {h.name} signals present (about {h.mol_percent:.0f} mol % of the compound)",
                    )
                )
            continue
        sev = "warning" if h.mol_percent > th.impurity_warn_mol_percent else "info"
        found.append(
            Finding(sev, "nmr.impurity", f"{h.name} present (about {h.mol_percent:.0f} mol % of the compound)")
        )
    st.findings += found
