"""Observed multiplets against the structure: solvent, impurities, H scale, assignment, side products.

Pure functions (no file access): the input is the list of `verify.nmr.peaks.Multiplet` of one spectrum,
the `Expectation` built for the acquisition's solvent and the spectrometer frequency.

How it decides, in order:
  1. Solvent: residual solvent lines, water/HOD, TMS (DSS/TSP in D2O), 13C satellites and spinning
     sidebands (flagged by peaks.flag_artefacts) are `solvent`; so are a small unsplit shoulder touching a
     strong (presaturated) water line, and, when neither water nor the compound's OH/NH/COOH is seen, the
     one line between them where fast exchange averages the two (unless 13C satellites show a C-H line).
  2. Impurities: an entry of reference/impurities.tsv (for the acquisition's solvent) is a candidate only
     when its whole pattern fits: every signal at its shift, at least two of them free-standing with
     per-H integrals agreeing (e.g. ethyl acetate needs its 2.05 s, 4.12 q and 1.26 t); a one-signal
     impurity needs a free singlet at its shift. A signal of the impurity may hide under a bigger
     (target) signal: a multiplet at its shift that is more than impurity_ratio_max times too big per H
     for the free signals is taken as the host of the hidden line, not as the line itself, and a host
     must carry at least the hidden line's expected integral.
  3. Scale and assignment in one optimisation (a small linear programme, HiGHS): the H of each
     expected group are placed on observed multiplets whose range lies within (or near) the group's
     window; each multiplet's integral times an unknown scale should equal the H placed on it. The cost
     counts unexplained H (surplus), missing H (deficit), groups left unplaced, distance outside a
     window and multiplicity misfits; solvent and impurity signals carry no cost for surplus, and the
     first 10 % of any signal's integral error costs little. Placements below 0.25 H are pruned and the
     programme solved again, so that a group sits on the few signals that carry it. Several groups may
     share one multiplet (overlap), one group may spread over several (rotamers, diastereotopic CH2);
     the scale is the one that explains the most intensity, not the tallest peak. Exchangeable H are
     optional (and absent in D2O/CD3OD).
  4. Side products of this chemistry (only those side_products(target) lists) from what is left
     unexplained: Boc not removed (9H singlet at 1.38-1.52), over-alkylation (benzylic CH2 singlets and
     aromatic H both above what the ring signals predict), leftover aldehyde (CHO 9.4-10.6, or the
     benzaldehyde pattern), alcohol from aldehyde reduction (ArCH2OH 4.55-4.80).
  5. Findings (verify.findings.Finding) with the thresholds of verify.nmr.thresholds.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
from rdkit import Chem

from .. import reference
from ..expectation import Expectation
from ..findings import Finding
from ..solvents import Solvent
from ..structure.hgroups import HGroup
from .peaks import Multiplet
from .thresholds import NMR_THRESHOLDS, NmrThresholds

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


def rule_col(solvent: Solvent | None) -> int:
    """0 for CDCl3-like solvents, 1 for DMSO-like (same split as the shift rules)."""
    return 1 if solvent is not None and solvent.rule_key == "dmso" else 0


def _interval_gap(a_lo: float, a_hi: float, b_lo: float, b_hi: float) -> float:
    """Distance (ppm) between two intervals, 0 when they overlap."""
    return max(0.0, b_lo - a_hi, a_lo - b_hi)


def _split_j(m: Multiplet) -> bool:
    """Resolved coupling of 4 Hz or more (not a singlet-like signal)."""
    return bool(m.j_hz) and max(m.j_hz) >= 4.0


def _mult_ok(expected: str, observed: Multiplet) -> bool:
    o = observed.multiplicity
    if expected == "s":
        return o in ("s", "br s") or (o == "m" and (observed.hi - observed.lo) < 0.03) or not _split_j(observed)
    if expected in ("br s", "m"):
        return True
    return o not in ("s", "br s") or (observed.hi - observed.lo) > 0.02


# ------------------------------------------------------------------------------------- solvent


def classify_solvent(mults: list[Multiplet], solvent: Solvent | None,
                     th: NmrThresholds = NMR_THRESHOLDS) -> dict[int, tuple[str, str, bool]]:
    """Which multiplets are solvent: {index: (kind, label, is_the_line_itself)}.

    kind: residual | water | reference | artefact. `is_the_line_itself` is False when the solvent
    line only sits inside a wider multiplet (overlap): that multiplet's surplus is then free.
    """
    out: dict[int, tuple[str, str, bool]] = {}
    lines: list[tuple[str, str, float, float, float, str]] = []  # kind, label, ppm, tol, max width, mult
    if solvent is not None:
        for p, mu in zip(solvent.residual, solvent.residual_mult):
            lab = "HOD" if solvent.key == "d2o" else f"residual {solvent.name}"
            lines.append(("residual", lab, p, th.solvent_tol_ppm, 0.30 if solvent.key == "d2o" else 0.06, mu))
        if solvent.key != "d2o":
            lines.append(("water", "water (H2O/HOD)", solvent.water, th.water_tol_ppm, 0.35, "br s"))
        ref_label = "DSS/TSP reference" if solvent.key in ("d2o",) else "TMS"
    else:
        lines.append(("residual", "residual CHCl3", 7.26, th.solvent_tol_ppm, 0.06, "s"))
        lines.append(("water", "water (H2O/HOD)", 1.56, th.water_tol_ppm, 0.35, "br s"))
        ref_label = "TMS"
    lines.append(("reference", ref_label, 0.0, th.solvent_tol_ppm, 0.08, "s"))
    for i, m in enumerate(mults):
        if m.flag:
            out[i] = ("artefact", m.flag, True)
    for kind, lab, p, tol, maxw, mu in lines:
        # the line itself: the nearest multiplet within tolerance that looks like it (a singlet for
        # CHCl3, a narrow quintet or unresolved line for CHD2 solvents; one per solvent line: a Boc
        # singlet 0.1 ppm from water is not water when water is seen too)
        def looks(m: Multiplet) -> bool:
            if kind in ("water", "reference") or (kind == "residual" and solvent is not None and solvent.key == "d2o"):
                return not (_split_j(m) and m.multiplicity != "m")
            if mu == "s":
                return m.multiplicity in ("s", "br s")
            return not _split_j(m)

        def width(m: Multiplet) -> float:
            if kind == "water" and m.lines:
                # water's integration range runs out along its broad exchange tail (p-propionotoluidide:
                # 1.59-1.99 for lines at 1.65-1.70): judge it by where its lines are
                return min(m.hi - m.lo, max(L.ppm for L in m.lines) - min(L.ppm for L in m.lines) + 0.05)
            return m.hi - m.lo

        cands = [i for i, m in enumerate(mults) if i not in out and abs(m.ppm - p) <= tol and width(m) <= maxw
                 and looks(m)]
        if cands:
            best = min(cands, key=lambda i: abs(mults[i].ppm - p))
            out[best] = (kind, lab, True)
            continue
        for i, m in enumerate(mults):
            if i not in out and m.lo - 0.005 <= p <= m.hi + 0.005:
                out[i] = (kind, lab, False)
    # A suppressed (presaturated) or very strong water line leaves shoulders and phase residues beside it:
    # a small unsplit line touching the water multiplet is still water. Bounded by the water line's own size
    # (th.water_shoulder_fraction of it), so next to an ordinary 1-2 H water line in CDCl3 nothing real can
    # be absorbed; a target signal next to water is still assigned (solvent lines stay eligible).
    water = [i for i, v in out.items() if v[0] in ("water", "residual") and v[2]
             and (v[0] == "water" or (solvent is not None and solvent.key == "d2o"))]
    for w in water:
        mw = mults[w]
        for i, m in enumerate(mults):
            if i in out or _split_j(m) and m.multiplicity != "m":
                continue
            if _interval_gap(mw.lo, mw.hi, m.lo, m.hi) <= th.water_shoulder_gap_ppm \
                    and 0 < m.integral <= th.water_shoulder_fraction * mw.integral:
                out[i] = ("water", f"{out[w][1]} (shoulder of the water line)", True)
    # DSS methylene signals (2.91, 1.76, 0.63) when DSS is the reference in water
    if solvent is not None and solvent.key == "d2o":
        ref = [i for i, v in out.items() if v[0] == "reference" and v[2]]
        if ref:
            r = mults[ref[0]]
            for p in (2.91, 1.76, 0.63):
                for i, m in enumerate(mults):
                    if i not in out and abs(m.ppm - p) <= 0.04 and m.integral <= 0.5 * r.integral:
                        out[i] = ("reference", "DSS (CH2)", True)
    return out


# ------------------------------------------------------------------------------------- impurities


def impurity_table(solvent: Solvent | None) -> dict[str, list[dict]]:
    """reference/impurities.tsv rows for the solvent (by key; CDCl3 when unknown), grouped by impurity."""
    key = solvent.key if solvent is not None else "cdcl3"
    out: dict[str, list[dict]] = {}
    for row in reference.table("impurities.tsv"):
        if row["solvent"] == key:
            out.setdefault(row["impurity"], []).append(row)
    return out


def find_impurities(mults: list[Multiplet], solvent: Solvent | None, excluded: set[int] = frozenset(),
                    th: NmrThresholds = NMR_THRESHOLDS) -> list[ImpurityHit]:
    """Impurities whose whole pattern fits the observed multiplets (see the module docstring).

    `excluded`: indices already explained (solvent, artefacts). A multiplet serves one impurity only;
    impurities with more signals are tried first.
    """
    table = impurity_table(solvent)
    used: set[int] = set(excluded)
    hits = []
    for name, rows in sorted(table.items(), key=lambda kv: -len(kv[1])):
        free: list[tuple[int, dict]] = []
        ok = True
        hidden_rows: list[tuple[int, dict]] = []
        for row in rows:
            p = float(row["ppm"])
            best = None
            for i, m in enumerate(mults):
                if i in used or m.flag:
                    continue
                if abs(m.ppm - p) <= th.impurity_tol_ppm and _mult_ok(str(row["mult"]), m) and (m.hi - m.lo) < 0.15:
                    if best is None or abs(m.ppm - p) < abs(mults[best].ppm - p):
                        best = i
            if best is not None:
                free.append((best, row))
                continue
            host = next((i for i, m in enumerate(mults) if m.lo <= p <= m.hi and not m.flag), None)
            if host is None or len(rows) == 1:
                ok = False
                break
            hidden_rows.append((host, row))
        if not ok:
            continue

        def per_h_of(i: int, r: dict) -> float:
            return mults[i].integral / float(r["nH"])

        # a signal at the impurity's shift that is several times too big for the rest of its pattern is
        # a target signal with the impurity's line hidden under it (ethyl acetate's 2.05 s under an
        # acetyl CH3, Et3N's 2.53 q under the ring CH2), not the impurity's own free signal
        while len(free) >= 2 and len(rows) >= 2:
            ph_ = [per_h_of(i, r) for i, r in free]
            k = int(np.argmax(ph_))
            rest = [v for kk, v in enumerate(ph_) if kk != k]
            if min(rest) <= 0 or max(rest) / min(rest) > th.impurity_ratio_max or ph_[k] <= th.impurity_ratio_max * max(rest):
                break
            i, r = free.pop(k)
            if not (mults[i].lo - th.impurity_tol_ppm <= float(r["ppm"]) <= mults[i].hi + th.impurity_tol_ppm):
                ok = False
                break
            hidden_rows.append((i, r))
        if not ok:
            continue
        hidden = [i for i, _ in hidden_rows]
        if len(rows) >= 3 and len(free) < 2:
            continue
        if len(rows) == 2 and len(free) < 2:
            # one signal may hide under the target when the free one has the right coupled
            # multiplicity (Et3N 1.03 t with its 2.53 q under the ring CH2)
            if not free or str(free[0][1]["mult"]) in ("s", "m", "br s") or mults[free[0][0]].multiplicity != str(free[0][1]["mult"]):
                continue
        per_h = [per_h_of(i, r) for i, r in free]
        if min(per_h) <= 0 or max(per_h) / min(per_h) > th.impurity_ratio_max:
            continue
        ph = float(np.median(per_h))
        # a hidden signal must not be bigger than its host (what hides it carries it and more)
        if any(ph * float(r["nH"]) > mults[i].integral for i, r in hidden_rows):
            continue
        idx = [i for i, _ in free]
        if len(set(idx)) != len(idx):
            continue
        used.update(idx)
        hits.append(ImpurityHit(name=name, peaks=idx, hidden=hidden, per_h=ph, kind=str(rows[0].get("kind", "")),
                                hidden_ppm=[float(r["ppm"]) for _, r in hidden_rows]))
    return hits


# ------------------------------------------------------------------------------------- assignment


def _line_span(m: Multiplet) -> float:
    """ppm between the outermost lines of a multiplet (0 for one line)."""
    return max(L.ppm for L in m.lines) - min(L.ppm for L in m.lines) if m.lines else m.hi - m.lo


def _has_singlet_line(m: Multiplet) -> bool:
    """A singlet, or a multiplet with one line at least 2.5 times as tall as any other (a methyl singlet
    on top of a multiplet; a 1:2:1 triplet's centre line is only twice its neighbours), or two similar tall
    lines (a rotamer pair of singlets)."""
    if m.multiplicity in ("s", "br s") or len(m.lines) <= 2:
        return True
    hs = sorted((L.height for L in m.lines), reverse=True)
    return hs[0] >= 2.5 * hs[1] or (hs[1] >= 0.7 * hs[0] and hs[1] >= 2 * hs[2])


def _sharp_singlet(m: Multiplet) -> bool:
    return m.multiplicity == "s" and bool(m.lines) and m.lines[0].width_hz < 2.5


def _broad(m: Multiplet, th: NmrThresholds = NMR_THRESHOLDS) -> bool:
    return m.multiplicity == "br s" or (bool(m.lines) and min(L.width_hz for L in m.lines) > th.broad_hz)


def _exchangeable_cost(g: HGroup, m: Multiplet, solvent_key: str) -> float:
    """Cost per H of putting an exchangeable group on multiplet m.

    Broad signals: 0.02. In DMSO-d6/acetone-d6 OH and amide NH are often sharp and coupled (d, t): 0.1,
    amine NH 0.5.
    Elsewhere amide/sulfonamide/heteroaromatic NH, phenol and acid OH may be sharp: 0.3; an alcohol OH
    on an uncoupled sharp line 0.5; amine NH exchange fast and are broad, so a sharp line is not theirs:
    1.05 (never pays off).
    """
    if _broad(m):
        return 0.02
    lab = g.label.lower()
    if solvent_key in ("dmso", "acetone"):
        # amine N-H exchange fast (usually broad) even there; OH and amide NH are sharp and coupled
        return 0.5 if ("amine nh" in lab or "ammonium" in lab) else 0.1
    if any(k in lab for k in ("amide", "sulfonamide", "aromatic nh", "phenol", "thiol", "ammonium", "carboxylic")):
        return 0.3
    if "alcohol" in lab and not _split_j(m):
        return 0.5
    return 1.05


def assign(mults: list[Multiplet], groups: list[HGroup], free_surplus: dict[int, float],
           eligible: list[int], th: NmrThresholds = NMR_THRESHOLDS, exchangeable_allowed: bool = True,
           solvent_key: str = "cdcl3", allowance: dict[int, float] | None = None):
    """Scale and assignment by linear programming (scipy.optimize.linprog / HiGHS; deterministic).

    Variables: x[g,j] >= 0 H of group g placed on multiplet j (edges only where j lies within
    th.max_outside_ppm of g's window), miss[g] H of g left unplaced,
    sur[j]/def[j] H observed beyond / short of what is placed on j, t the H-per-unit scale factor.
    For each group: sum_j x + miss = n_H; for each multiplet: sum_g x + sur - def = t * a_j with
    a_j its integral normalised by a first guess of the scale.
    Costs per H: surplus 1 (free_surplus[j] for solvent/impurity signals), deficit 1, missing 1.5
    (0 for exchangeable H), 0.5-2 for placement outside the window (0-0.2 within th.window_slack_ppm),
    0.3 for a singlet group on a resolved multiplet, plus 0.01 per H placed anywhere (ties).

    Returns (scale_factor_per_unit, a (normalised integrals), s0, x dict {(g,j): H}, miss, sur, deff).
    """
    a_raw = np.array([max(m.integral, 0.0) for m in mults])
    exp_h = sum(g.n_h for g in groups if not g.exchangeable) or sum(g.n_h for g in groups) or 1
    pool = [j for j in eligible if free_surplus.get(j, 1.0) >= 1.0]
    base = sum(a_raw[j] for j in pool) or sum(a_raw[j] for j in eligible) or 1.0
    s0 = base / exp_h
    a = a_raw / s0
    allowance = {j: v / s0 for j, v in (allowance or {}).items()}
    edges = []
    costs = []
    for gi, g in enumerate(groups):
        if g.exchangeable and not exchangeable_allowed:
            continue
        for j in eligible:
            m = mults[j]
            d = _interval_gap(g.lo, g.hi, m.lo, m.hi)
            if g.exchangeable and _broad(m) and d <= th.exchangeable_outside_ppm:
                # an exchange-broadened OH/NH moves with concentration, water and acid: its window is soft
                edges.append((gi, j))
                costs.append(0.05 + 0.01)
                continue
            if d > th.max_outside_ppm:
                continue
            # 0 inside the window, up to 0.2 within the slack (ties go to the signal inside the window),
            # 0.5-2 beyond it
            c = 0.2 * d / th.window_slack_ppm if d <= th.window_slack_ppm else 0.5 + 1.5 * (
                d - th.window_slack_ppm) / max(th.max_outside_ppm - th.window_slack_ppm, 1e-6)
            if g.exchangeable:
                c += _exchangeable_cost(g, m, solvent_key)
            elif g.multiplicity == "s" and _split_j(m) and m.multiplicity != "m":
                c += 0.3
            elif g.multiplicity == "s" and g.n_h >= 3 and _broad(m):
                c += 2.6  # a methyl singlet (NCH3, OCH3, tBu) is sharp, never an exchange-broadened hump:
                # rather missing (1.5/H) with the hump unexplained (1/H) than placed there
            elif g.multiplicity == "s" and g.n_h >= 3 and not _has_singlet_line(m):
                c += 1.6  # ... and a line standing out of its signal (dearer than leaving it missing)
            elif m.multiplicity == "br s" and m.lines and m.lines[0].width_hz > 2.5 * th.broad_hz \
                    and "rotamer" not in g.note:
                c += 1.05  # a C-H is not a lone 15+ Hz wide hump (that is exchange or baseline), unless
                # amide/carbamate rotamers exchanging at an intermediate rate broaden it (ring N-CH2 next to N-acyl)
            elif g.multiplicity not in ("s", "br s", "") and _sharp_singlet(m):
                c += 0.5  # a CH next to CH's is not a sharp singlet (e.g. a Boc 9H singlet is no ring CH2)
            edges.append((gi, j))
            costs.append(c + 0.01)
    sol, edges = _solve(edges, costs, groups, eligible, a, free_surplus, allowance or {})
    # a group smeared thinly over many small signals explains noise and impurities: drop placements
    # below 0.25 H (and below 20 % of the group) and solve again (twice), so that a group sits on the
    # few signals that carry it
    for _ in range(2):
        ne = len(edges)
        keep = []
        t_now = sol[len(edges) + len(groups) + 2 * len(eligible)]
        for e, (gi, j) in enumerate(edges):
            # keep used edges, and in-window edges to signals of half an H or more (so that a first
            # solution does not lock a group away from its own signal)
            if sol[e] >= max(0.25, 0.2 * groups[gi].n_h) - 1e-9 or (costs[e] <= 0.011 and a[j] * t_now >= 0.5):
                keep.append(e)
        for gi in range(len(groups)):
            mine = [e for e, (g2, _) in enumerate(edges) if g2 == gi]
            if mine and not any(e in keep for e in mine) and max(sol[e] for e in mine) > 1e-6:
                keep.append(max(mine, key=lambda e: sol[e]))
        keep = sorted(set(keep))
        if len(keep) == ne:
            break
        edges = [edges[e] for e in keep]
        costs = [costs[e] for e in keep]
        sol, edges = _solve(edges, costs, groups, eligible, a, free_surplus, allowance or {})
    ne = len(edges)
    ng_ = len(groups)
    nm = len(eligible)
    jpos = {j: k for k, j in enumerate(eligible)}
    it = ne + ng_ + 2 * nm
    t = float(sol[it])
    x = {(edges[e][0], edges[e][1]): float(sol[e]) for e in range(ne) if sol[e] > 1e-6}
    miss = {gi: float(sol[ne + gi]) for gi in range(ng_)}
    sur = {j: float(sol[ne + ng_ + jpos[j]]) for j in eligible}
    deff = {j: float(sol[ne + ng_ + nm + jpos[j]]) for j in eligible}
    return t, a, s0, x, miss, sur, deff


def _solve(edges, costs, groups, eligible, a, free_surplus, allowance):
    from scipy.optimize import linprog

    ne = len(edges)
    ng_ = len(groups)
    jpos = {j: k for k, j in enumerate(eligible)}
    nm = len(eligible)
    # variable layout: x[ne], miss[ng], sur[nm], def[nm], t, free_sur[nm], free_def[nm]
    # (free_*: the first 10 % of a multiplet's own integral off in either direction costs only 0.1 per H:
    # integration is not more accurate than that on real spectra; not 0, so the scale stays centred)
    nv = ne + ng_ + 2 * nm + 1 + 2 * nm
    it = ne + ng_ + 2 * nm
    c = np.zeros(nv)
    c[:ne] = costs
    for gi, g in enumerate(groups):
        c[ne + gi] = 0.0 if g.exchangeable else 1.5
    for k, j in enumerate(eligible):
        c[ne + ng_ + k] = free_surplus.get(j, 1.0)
        c[ne + ng_ + nm + k] = 1.0
        c[it + 1 + k] = 0.0 if j in allowance else min(0.1, free_surplus.get(j, 1.0))
        c[it + 1 + nm + k] = 0.1
    a_eq = np.zeros((ng_ + nm, nv))
    b_eq = np.zeros(ng_ + nm)
    for e, (gi, j) in enumerate(edges):
        a_eq[gi, e] = 1
        a_eq[ng_ + jpos[j], e] = 1
    for gi, g in enumerate(groups):
        a_eq[gi, ne + gi] = 1
        b_eq[gi] = g.n_h
    a_ub = np.zeros((2 * nm, nv))
    for k, j in enumerate(eligible):
        a_eq[ng_ + k, ne + ng_ + k] = 1
        a_eq[ng_ + k, ne + ng_ + nm + k] = -1
        a_eq[ng_ + k, it] = -a[j]
        a_eq[ng_ + k, it + 1 + k] = 1
        a_eq[ng_ + k, it + 1 + nm + k] = -1
        a_ub[k, it + 1 + k] = 1
        a_ub[k, it] = -0.1 * a[j]
        a_ub[nm + k, it + 1 + nm + k] = 1
        a_ub[nm + k, it] = -0.1 * a[j]
    bounds = [(0, None)] * it + [(0.2, 5.0)] + [(0, None)] * (2 * nm)
    sol = None
    if ng_ + nm:
        b_ub = np.zeros(2 * nm)
        for k, j in enumerate(eligible):
            b_ub[k] = allowance.get(j, 0.0)  # a hidden solvent line: this many H of surplus are free
        res = linprog(c, A_ub=a_ub if nm else None, b_ub=b_ub if nm else None,
                      A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        sol = res.x if res.status == 0 else None
    if sol is None:
        sol = np.zeros(nv)
        sol[it] = 1.0
        for gi, g in enumerate(groups):
            sol[ne + gi] = g.n_h
    return sol, edges


# ------------------------------------------------------------------------------------- main


def _fmt_groups(ids: list[str]) -> str:
    return "+".join(ids)


def compare(mults: list[Multiplet], expectation: Expectation, sf_mhz: float,
            th: NmrThresholds = NMR_THRESHOLDS, side_products: list | None = None) -> Comparison:
    """Classify every multiplet, scale integrals to H, assign the expected groups, name side products.

    `side_products`: verify.structure.side_products.side_products(target.mol) (computed when None).
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

    solv = classify_solvent(mults, solvent, th)
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
        if i in solv:
            # the solvent line itself, or a multiplet hiding one: how much of its integral is solvent
            # is unknown (residual CHCl3 can be 0.1-3 H-equivalents), so its surplus is free
            free_surplus[i] = 0.0
        elif i in imp_of or i in hidden_host:
            free_surplus[i] = 0.05
    exch_ok = not (solvent is not None and solvent.key in ("d2o", "cd3od"))
    # the shape of a multiplet that hides an impurity line is judged without that line (an acetyl CH3
    # rotamer pair with ethyl acetate's 2.05 singlet between them is still a pair of singlets)
    shapes = list(mults)
    for h in hits:
        for i, p_ in zip(h.hidden, h.hidden_ppm):
            lines = shapes[i].lines
            if len(lines) > 1:
                k = min(range(len(lines)), key=lambda n: abs(lines[n].ppm - p_))
                if abs(lines[k].ppm - p_) <= th.impurity_tol_ppm:
                    shapes[i] = replace(shapes[i], lines=lines[:k] + lines[k + 1:])
    t, a, s0, x, miss, sur, deff = assign(shapes, groups, free_surplus, eligible, th, exch_ok,
                                          solvent.key if solvent is not None else "cdcl3", allowance)
    scale = s0 / t if t > 0 else s0
    for i, p in enumerate(peaks):
        p.h = mults[i].integral / scale
    # placements
    for (gi, j), v in x.items():
        peaks[j].placed[groups[gi].id] = peaks[j].placed.get(groups[gi].id, 0.0) + v
    for j in eligible:
        placed = sum(peaks[j].placed.values())
        peaks[j].surplus_h = max(0.0, peaks[j].h - placed)
        peaks[j].deficit_h = max(0.0, placed - peaks[j].h)

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
        dist = _interval_gap(g.lo, g.hi, m.lo, m.hi)
        integ = 0.0
        for j, v in pl:
            tot = sum(peaks[j].placed.values()) or 1.0
            integ += peaks[j].h * v / tot
        gcalls.append(GroupCall(g, bool(found), round(m.ppm, 3), round(integ, 2), placed,
                                dist <= th.window_slack_ppm, dist, [round(mults[j].ppm, 3) for j, _ in pl]))

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
            if peaks[j].surplus_h >= 9 * th.side_product_min_h and _line_span(mults[j]) < 0.08:
                mol = 100 * peaks[j].surplus_h / 9
                _name_side(peaks[j], boc_name, f"tert-butyl 9H singlet of a Boc group the target does not have; ~{mol:.0f} mol %")
                named_sp.append(boc_name)
                findings.append(Finding("warning", "nmr.boc_not_removed",
                                        f"{boc_name}: a 9H-type singlet at {mults[j].ppm:.2f} ppm ({peaks[j].surplus_h:.2f} H, "
                                        f"about {mol:.0f} mol %) is a Boc tert-butyl group, and the target has no Boc"))
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
            findings.append(Finding("warning", "nmr.aldehyde_leftover",
                                    f"{nm_}: an aldehyde CHO signal at {mults[j].ppm:.2f} ppm ({peaks[j].surplus_h:.2f} H, about {mol:.0f} mol %)"))
    if "alcohol" in sp_kinds:
        lo, hi = SIDE_WINDOWS["alcohol"][col]
        oh = [j for j in unexplained_in(lo, hi) if peaks[j].surplus_h >= 2 * th.side_product_min_h
              and (mults[j].multiplicity in ("s", "br s", "d") or mults[j].hi - mults[j].lo < 0.05)]
        if oh:
            j = max(oh, key=lambda k: peaks[k].surplus_h)
            mol = 100 * peaks[j].surplus_h / 2
            nm_ = sp_kinds["alcohol"]
            _name_side(peaks[j], nm_, f"ArCH2OH; ~{mol:.0f} mol %")
            named_sp.append(nm_)
            findings.append(Finding("warning", "nmr.alcohol_byproduct",
                                    f"{nm_}: a benzylic CH2OH signal at {mults[j].ppm:.2f} ppm ({peaks[j].surplus_h:.2f} H, about {mol:.0f} mol %)"))
    if "over_alkylation" in sp_kinds:
        ratio = _class_ratios(peaks, groups, eligible, free_surplus)
        blo, bhi = SIDE_WINDOWS["benzylic"][col]
        alo, ahi = SIDE_WINDOWS["aromatic"][col]
        bj = [j for j in eligible if blo <= mults[j].ppm <= bhi and j not in solv and j not in imp_of
              and peaks[j].kind != "side_product"]
        b_sur = sum(peaks[j].surplus_h for j in bj)
        rr = ratio.get("rest")
        n_b = sum(g.n_h for g in groups if _class(g) == "benzylic")
        n_a = sum(g.n_h for g in groups if _class(g) == "aromatic")

        def region_h(lo_: float, hi_: float, singlets: bool = False) -> float:
            # multiplets with a solvent line inside but wider than it (CHCl3 under the aromatic H) count
            return sum(peaks[j].h for j in eligible if lo_ <= mults[j].ppm <= hi_ and j not in imp_of
                       and (peaks[j].kind not in ("solvent", "reference", "artefact", "side_product")
                            or (j in solv and not solv[j][2]))
                       and (not singlets or (mults[j].hi - mults[j].lo <= 0.08
                                             and (len(mults[j].lines) <= 2 or not _split_j(mults[j])))))

        # N-benzyl CH2 are singlets: ring CH2 multiplets of other species in the same window do not count
        rb = region_h(blo, bhi, singlets=True) / n_b if n_b else None
        ra = region_h(alo, ahi) / n_a if n_a else None
        excess_b = (rb / rr - 1) if rb and rr else 0.0
        excess_a = (ra / rr - 1) if ra and rr else 0.0
        if (b_sur >= 4 * th.side_product_min_h or excess_b >= th.over_alkylation_excess) and \
                excess_a >= th.over_alkylation_excess and b_sur + excess_b > 0:
            nm_ = sp_kinds["over_alkylation"]
            # target 2H ArCH2 + f * 4H: (2 + 4f) / 2 = 1 + excess (relative to the ring signals, which
            # the side product also doubles) -> f ~ excess / (2 - 2 excess) for a symmetric dibenzyl product
            f = max(excess_b, 0.0) / max(2 - 2 * max(excess_b, 0.0), 0.5)
            mol = 100 * max(f, b_sur / 4)
            for j in bj:
                peaks[j].note = _join(peaks[j].note, f"benzylic CH2 {100 * excess_b:.0f} % above the ring signals: {nm_}")
                if not peaks[j].placed:
                    _name_side(peaks[j], nm_, f"~{mol:.0f} mol %")
            named_sp.append(nm_)
            findings.append(Finding("warning", "nmr.over_alkylation",
                                    f"{nm_}: the benzylic CH2 ({blo:.2f}-{bhi:.2f} ppm) integrates {100 * excess_b:.0f} % and the "
                                    f"aromatic H {100 * excess_a:.0f} % above what the ring signals predict: a second benzyl "
                                    f"group on the ring (about {mol:.0f} mol %)"))

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
            peaks[i].note = _join(peaks[i].note, f"{h.kind}; ~{h.mol_percent:.0f} mol %" if h.kind else f"~{h.mol_percent:.0f} mol %")
        for i in h.hidden:
            peaks[i].note = _join(peaks[i].note, f"includes a {h.name} signal")
        sp_kind = REAGENT_SIDE_KIND.get(h.name)
        if sp_kind and sp_kind in sp_kinds:
            code = {"aldehyde": "nmr.aldehyde_leftover", "alcohol": "nmr.alcohol_byproduct"}[sp_kind]
            if code not in {f.code for f in findings}:
                named_sp.append(sp_kinds[sp_kind])
                imp_findings.append(Finding("warning", code, f"{sp_kinds[sp_kind]}: {h.name} signals present "
                                                             f"(about {h.mol_percent:.0f} mol % of the compound)"))
            continue
        sev = "warning" if h.mol_percent > th.impurity_warn_mol_percent else "info"
        imp_findings.append(Finding(sev, "nmr.impurity", f"{h.name} present (about {h.mol_percent:.0f} mol % of the compound)"))
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
            p.note = _join(p.note, f"no 1H of the structure or of a listed impurity is expected outside "
                                   f"{range_lo:.1f}-{range_hi:.1f} ppm: taken as an artefact")
            out_of_range.append(j)
            continue
        p.kind = "unexplained"
        p.status = "suspicious"
        p.assignment = ""
        if p.h < th.unexplained_min_h:
            p.note = _join(p.note, f"minor ({p.h:.2f} H, below the {th.unexplained_min_h:g} H threshold)")
        else:
            p.note = _join(p.note, _nearest_impurity_hint(m, solvent, th))
        unexplained.append(j)

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

    def tol_h(placed_h: float) -> float:
        return max(th.integral_tol_h, th.integral_tol_rel * placed_h)

    def regroupable(r: int, excess: float) -> bool:
        """Whether a surplus in region r is only a fractional split: a group placed here in part has H
        placed in other regions that could move here whole while those regions stay within tolerance
        (the assignment shares a 1H group 0.5/0.5 between two signals where 1/0 fits as well)."""
        need = excess - tol_h(reg_placed[r])
        gids = {g for j in regions[r] for g in peaks[j].placed}
        for j2, p2 in enumerate(peaks):
            r2 = region_of.get(j2)
            if r2 is None or r2 == r or need <= 0:
                continue
            for gid in gids & set(p2.placed):
                spare = tol_h(reg_placed[r2]) - (reg_obs[r2] - reg_placed[r2])  # what r2 can give up
                give = min(p2.placed[gid], max(0.0, spare), need)
                if give > 0:
                    reg_placed[r2] -= give
                    reg_placed[r] += give
                    need -= give
        return need <= 0

    for ri, reg in enumerate(regions):
        obs = sum(peaks[j].h for j in reg)
        placed = sum(sum(peaks[j].placed.values()) for j in reg)
        ids = "+".join(dict.fromkeys(g for j in reg for g in peaks[j].placed))
        where = f"{mults[reg[0]].ppm:.2f} ppm" if len(reg) == 1 else f"{mults[reg[-1]].lo:.2f}-{mults[reg[0]].hi:.2f} ppm"
        exch_ids = {g.id for g in groups if g.exchangeable}
        # a solvent line inside, or an exchangeable OH/NH (its integral follows exchange with water):
        # surplus in that region is not counted
        free = any(free_surplus.get(j, 1.0) < 1.0 or exch_ids & set(peaks[j].placed) for j in reg)
        allowed = sum(allowance.get(j, 0.0) for j in reg) / scale  # raw units -> H
        deficit = placed - obs
        total_deficit += max(0.0, deficit)
        if deficit > max(th.integral_tol_h, th.integral_tol_rel * placed):
            findings.append(Finding("warning", "nmr.integral_mismatch",
                                    f"the signal(s) at {where} integrate to {obs:.2f} H where {ids} need {_h(placed)} H"))
        elif not free and -deficit - allowed > max(th.integral_tol_h, th.integral_tol_rel * placed) \
                and -deficit - allowed >= th.unexplained_min_h and not regroupable(ri, -deficit - allowed):
            findings.append(Finding("warning", "nmr.integral_mismatch",
                                    f"the signal(s) at {where} integrate to {obs:.2f} H where {ids} account for {_h(placed)} H "
                                    f"({-deficit:.2f} H more: an overlapping impurity?)"))
            for j in reg:
                if peaks[j].surplus_h >= th.report_min_h:
                    peaks[j].note = _join(peaks[j].note, f"{peaks[j].surplus_h:.2f} H more than assigned")
    exp_nonex = sum(g.n_h for g in groups if not g.exchangeable)
    missing_h = sum(miss.get(gi, 0.0) for gi, g in enumerate(groups) if not g.exchangeable)
    if exp_nonex and total_deficit + missing_h > max(th.integral_wrong_h * 2, th.h_count_wrong_fraction * exp_nonex):
        findings.append(Finding("error", "nmr.h_count_wrong",
                                f"the spectrum lacks {total_deficit + missing_h:.1f} of the {exp_nonex} non-exchangeable H the "
                                f"structure needs (signals too small for their groups, or absent)"))

    # groups: missing / outside window
    missing = [gc for gc in gcalls if not gc.found and not gc.group.exchangeable]
    for gc in missing:
        g = gc.group
        where = f"{g.lo:.2f}-{g.hi:.2f} ppm"
        extra = f" (only {gc.placed_h:.1f} H placed)" if gc.placed_h > 0 else ""
        findings.append(Finding("error", "nmr.group_missing",
                                f"{g.id} ({g.n_h}H, {g.label}) expected at {where}: no matching signal{extra}"))
    for gc in gcalls:
        if gc.found and not gc.in_window and not gc.group.exchangeable:
            g = gc.group
            findings.append(Finding("warning", "nmr.group_shifted",
                                    f"{g.id} ({g.n_h}H, {g.label}) found at {gc.peak_ppm:.2f} ppm, {gc.distance_ppm:.2f} ppm outside "
                                    f"its predicted window {g.lo:.2f}-{g.hi:.2f}"))
    if out_of_range:
        desc = ", ".join(f"{mults[j].ppm:.2f}" for j in out_of_range[:8])
        findings.append(Finding("info", "nmr.out_of_range",
                                f"{len(out_of_range)} signal(s) outside {range_lo:.1f}-{range_hi:.1f} ppm ({desc}) taken as "
                                "edge/baseline artefacts: no 1H of the structure or of a listed impurity comes there"))
    # unexplained
    big = [j for j in unexplained if peaks[j].h >= th.unexplained_min_h]
    minor = [j for j in unexplained if peaks[j].h < th.unexplained_min_h]
    major = [j for j in big if peaks[j].h >= th.unexplained_major_h]
    big = [j for j in big if j not in major]
    if major:
        desc = ", ".join(f"{mults[j].ppm:.2f} ({mults[j].multiplicity}, {peaks[j].h:.2f} H)" for j in major[:8])
        findings.append(Finding("error", "nmr.unexplained_major",
                                f"signal(s) as large as a whole group of the compound that the structure does not explain: {desc}"))
    if big:
        desc = ", ".join(f"{mults[j].ppm:.2f} ({mults[j].multiplicity}, {peaks[j].h:.2f} H)" for j in big[:8])
        findings.append(Finding("warning", "nmr.unexplained_peak",
                                f"{len(big)} signal(s) not explained by the target, solvent or a known impurity: {desc}"))
    minor_h = sum(peaks[j].h for j in minor)
    exp_total = sum(g.n_h for g in groups if not g.exchangeable) or 1
    if minor_h > max(th.unexplained_total_h, th.unexplained_total_fraction * exp_total):
        findings.append(Finding("warning", "nmr.unexplained_minor",
                                f"{len(minor)} small unexplained signals add up to {minor_h:.2f} H"))
    observed_h = sum(sum(p.placed.values()) + (p.surplus_h if free_surplus.get(j, 1.0) >= 1.0 else 0.0)
                     for j, p in enumerate(peaks) if p.kind == "target")
    exp_h = sum(g.n_h for g in groups if not g.exchangeable)
    return Comparison(scale=scale, peaks=peaks, groups=gcalls, findings=findings,
                      impurities=[h for h in hits if h.mol_percent > 0],
                      side_products=named_sp, observed_h=observed_h, expected_h=exp_h)


def _exchange_averaged_water(mults: list[Multiplet], peaks: list[ObservedPeak], groups: list[HGroup],
                             gcalls: list[GroupCall], solv: dict, imp_of: dict, eligible: list[int],
                             solvent: Solvent | None, sf_mhz: float, th: NmrThresholds) -> list[Finding]:
    """Water in fast exchange with the compound's OH/NH/COOH shows as one averaged line.

    Its shift lies between the solvent's water shift and the XH window, weighted by the H of each (a
    carboxylic acid in wet acetone-d6: water 2.84 moves to ~3.3 and no COOH line is seen). Taken only when
    no water line and no exchangeable group of the target was seen, for one unsplit, unassigned line of at
    most th.exchange_water_max_h H; the peak becomes `solvent` and an info finding says so.
    """
    if solvent is not None and solvent.key in ("d2o", "cd3od"):
        return []  # exchangeable H are replaced by D there: HOD/CD3OH is the residual line
    exch = [gc for gc in gcalls if gc.group.exchangeable]
    if not exch or any(gc.found or gc.placed_h > 0 for gc in exch):
        return []
    if any(v[0] == "water" and v[2] for v in solv.values()):
        return []
    w = solvent.water if solvent is not None else 1.56
    lo, hi = w - th.water_tol_ppm, max(gc.group.hi for gc in exch)
    cands = [j for j in eligible if j not in solv and j not in imp_of and peaks[j].kind != "side_product"
             and not peaks[j].placed and lo <= mults[j].ppm <= hi and 0 < peaks[j].h <= th.exchange_water_max_h
             and not (_split_j(mults[j]) and mults[j].multiplicity != "m")]
    if not cands:
        return []
    j = max(cands, key=lambda k: peaks[k].h)
    jch = _13c_satellite_j(mults, j, sf_mhz)
    if jch:
        # water and OH/NH carry no carbon: 13C satellites make it a C-H line (e.g. a CH3-O singlet)
        peaks[j].note = _join(peaks[j].note, f"13C satellites (1J(CH) = {jch:.0f} Hz): a C-H signal, not water")
        return []
    xh = "/".join(dict.fromkeys(gc.group.label for gc in exch))
    peaks[j].kind = "solvent"
    peaks[j].solvent_label = "water exchanging with the compound's " + xh
    peaks[j].note = _join(peaks[j].note, f"no separate water line at {w:.2f}: fast exchange averages water and XH")
    return [Finding("info", "nmr.exchange_averaged_water",
                    f"no water line at {w:.2f} ppm and no {xh} signal: the line at {mults[j].ppm:.2f} ppm "
                    f"({peaks[j].h:.2f} H) is taken as water in fast exchange with the compound's {xh}")]


def _h(n: float) -> str:
    """An H count as a chemist writes it: whole when it is whole, else one decimal (part of a split group)."""
    return f"{n:.0f}" if abs(n - round(n)) < 0.05 else f"{n:.1f}"


def _nearest_impurity_hint(m: Multiplet, solvent: Solvent | None, th: NmrThresholds) -> str:
    """A lead for the chemist: the nearest reference/impurities.tsv signal just outside the match tolerance."""
    near = [(abs(float(r["ppm"]) - m.ppm), name, r) for name, rows in impurity_table(solvent).items() for r in rows
            if abs(float(r["ppm"]) - m.ppm) <= 3 * th.impurity_tol_ppm]
    if not near:
        return ""
    d, name, r = min(near, key=lambda t: t[0])
    if d <= th.impurity_tol_ppm:
        return f"at the shift of {name} {r['label']} ({float(r['ppm']):.2f} ppm in this solvent), but not its pattern"
    return f"near {name} {r['label']} ({float(r['ppm']):.2f} ppm in this solvent, {d:.2f} ppm off: not matched)"


def _13c_satellite_j(mults: list[Multiplet], j: int, sf_mhz: float) -> float | None:
    """1J(13C-1H) in Hz when the tallest line of multiplet j has a 13C satellite pair, else None.

    Each satellite of a 12C-H line is 0.55 % of it (1.1 % natural 13C split in two), symmetric at
    +-1J/2 with 1J = 120-170 Hz for sp3/sp2 C-H. The lines may sit in any multiplet (a wide multiplet can
    swallow one of them), so every picked line is searched.
    """
    if not mults[j].lines:
        return None
    main = max(mults[j].lines, key=lambda L: L.height)
    lines = [L for m in mults for L in m.lines if L is not main]
    best = None
    for up in lines:
        d_up = (up.ppm - main.ppm) * sf_mhz
        if not (60.0 <= d_up <= 85.0 and 0.002 <= up.height / main.height <= 0.03):
            continue
        for dn in lines:
            d_dn = (main.ppm - dn.ppm) * sf_mhz
            if abs(d_dn - d_up) <= 3.0 and 0.002 <= dn.height / main.height <= 0.03:
                best = d_up + d_dn
    return best


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


def _class_ratios(peaks: list[ObservedPeak], groups: list[HGroup], eligible: list[int],
                  free_surplus: dict[int, float]) -> dict[str, float]:
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


def _nh(hit: ImpurityHit, m: Multiplet, solvent: Solvent | None) -> float:
    for rows in impurity_table(solvent).get(hit.name, []), :
        for r in rows:
            if abs(float(r["ppm"]) - m.ppm) <= 0.05:
                return float(r["nH"])
    return 1.0


def _label(groups: list[HGroup], gid: str) -> str:
    g = next((g for g in groups if g.id == gid), None)
    return g.label if g else ""


def _join(a: str, b: str) -> str:
    return f"{a}; {b}" if a else b


def _name_side(p: ObservedPeak, name: str, note: str) -> None:
    p.kind = "side_product"
    p.status = "impurity"
    p.assignment = name
    p.note = _join(p.note, note)
