"""Step 3 of the comparison (verify.nmr.compare): H scale and assignment, after solvent lines and impurities.

Scale and assignment in one optimisation (a small linear programme, HiGHS): the H of each expected
group are placed on observed multiplets whose range lies within (or near) the group's window; each
multiplet's integral times an unknown scale should equal the H placed on it. The cost counts
unexplained H (surplus), missing H (deficit), groups left unplaced, distance outside a window and
multiplicity misfits; solvent and impurity signals carry no cost for surplus, and the first 10 % of any
signal's integral error costs little. Placements below 0.25 H are pruned and the programme solved
again, so that a group sits on the few signals that carry it. Several groups may share one multiplet
(overlap), one group may spread over several (rotamers, diastereotopic CH2); the scale is the one that
explains the most intensity, not the tallest peak. Exchangeable H are optional (and absent in
D2O/CD3OD).

Pure functions (no file access).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..structure.hgroups import HGroup
from .peaks import Multiplet
from .records import interval_gap, is_split, signal_bounds
from .thresholds import NMR_THRESHOLDS, NmrThresholds


def _has_singlet_line(m: Multiplet) -> bool:
    """A singlet, or a multiplet with one line at least 2.5 times as tall as any other (a methyl singlet
    on top of a multiplet; a 1:2:1 triplet's centre line is only twice its neighbours), or two similar tall
    lines (a rotamer pair of singlets)."""
    if m.multiplicity in ("s", "br s") or len(m.lines) <= 2:
        return True
    hs = sorted((L.height for L in m.lines), reverse=True)
    return hs[0] >= 2.5 * hs[1] or (hs[1] >= 0.7 * hs[0] and hs[1] >= 2 * hs[2])


_VICINAL_PATTERNS = ("t", "q", "quint", "sext", "sept", "tt", "tq", "qt")


def _vicinal_pattern(m: Multiplet) -> bool:
    """A first-order binomial pattern (1:2:1 or more lines) whose couplings are all of vicinal size (4-9.5 Hz)."""
    return m.multiplicity in _VICINAL_PATTERNS and bool(m.j_hz) and 4.0 <= min(m.j_hz) and max(m.j_hz) <= 9.5


def _sharp_singlet(m: Multiplet) -> bool:
    return m.multiplicity == "s" and bool(m.lines) and m.lines[0].width_hz < 2.5


def _broad(m: Multiplet, th: NmrThresholds = NMR_THRESHOLDS) -> bool:
    return m.multiplicity == "br s" or (bool(m.lines) and min(L.width_hz for L in m.lines) > th.broad_hz)


def _exchangeable_cost(g: HGroup, m: Multiplet, solvent_key: str, th: NmrThresholds = NMR_THRESHOLDS) -> float:
    """Cost per H of putting an exchangeable group on multiplet m.

    Broad signals: 0.02. In DMSO-d6/acetone-d6 OH and amide NH are often sharp and coupled (d, t): 0.1,
    amine NH 0.5.
    Elsewhere amide/sulfonamide/heteroaromatic NH, phenol and acid OH may be sharp: 0.3; an alcohol OH
    on an uncoupled sharp line 0.5; amine NH exchange fast and are broad, so a sharp line is not theirs:
    1.05 (never pays off).
    """
    if _broad(m):
        return th.assign_exchangeable_broad_cost
    lab = g.label.lower()
    if solvent_key in ("dmso", "acetone"):
        # amine N-H exchange fast (usually broad) even there; OH and amide NH are sharp and coupled
        if "amine nh" in lab or "ammonium" in lab:
            return th.assign_amine_nh_polar_solvent_cost
        return th.assign_exchangeable_polar_solvent_cost
    if any(k in lab for k in ("amide", "sulfonamide", "aromatic nh", "phenol", "thiol", "ammonium", "carboxylic")):
        return th.assign_exchangeable_may_be_sharp_cost
    if "alcohol" in lab and not is_split(m):
        return th.assign_alcohol_sharp_singlet_cost
    return th.assign_exchangeable_sharp_cost


def _prediction_tie_break(g: HGroup, m: Multiplet, th: NmrThresholds = NMR_THRESHOLDS) -> float:
    """A small cost per H that grows with the distance of m from the group's point prediction.

    Overlapping windows (the o-, m- and p-H of a benzyl group all within 7.17-7.39) leave the programme
    several placements that explain the integrals equally well; without a preference it picks one at
    random (the p-H on the o/m multiplet). Among equal fits the one nearest the prediction wins: the
    distance in the prediction's standard deviations (the window is about +-1.645 sigma), capped at
    3 sigma, times th.assign_centre_cost (0.004 per H per sigma: at most 0.012, below every other cost
    and below the 0.1 per H that integration error costs, so it only breaks ties). Per-H predictions
    (HGroup.h_centres: the two faces of a ring CH2) count by the nearest one.
    """
    centres = g.h_centres or ((g.centre,) if g.centre is not None else ())
    if not centres or g.exchangeable:
        return 0.0
    sigma = g.sigma_ppm
    z = min(abs(m.ppm - c) for c in centres) / sigma
    return th.assign_centre_cost * min(z, 3.0)


@dataclass(frozen=True)
class Assignment:
    """The solved assignment. H are in units of the target's H; multiplet indices are those of `mults`.

    Attributes
    ----------
    scale_factor : float
        t, the H per normalised integral unit the programme chose (1.0 = the first guess `first_scale`).
    normalised : ndarray
        Each multiplet's integral divided by `first_scale`.
    first_scale : float
        Integral units per H of the first guess (the sum of the non-solvent integrals over the expected H).
    placed : dict[(int, int), float]
        H of group g placed on multiplet j, keyed (g, j); only placements above 1e-6 H.
    missing : dict[int, float]
        H of each group left unplaced.
    surplus, deficit : dict[int, float]
        H observed beyond / short of what is placed, per eligible multiplet.
    """

    scale_factor: float
    normalised: np.ndarray
    first_scale: float
    placed: dict
    missing: dict
    surplus: dict
    deficit: dict

    @property
    def units_per_h(self) -> float:
        """Integral units per H of the target (the scale every integral is divided by)."""
        return self.first_scale / self.scale_factor if self.scale_factor > 0 else self.first_scale


def assign(
    mults: list[Multiplet],
    groups: list[HGroup],
    free_surplus: dict[int, float],
    eligible: list[int],
    th: NmrThresholds = NMR_THRESHOLDS,
    exchangeable_allowed: bool = True,
    solvent_key: str = "cdcl3",
    allowance: dict[int, float] | None = None,
    sf_mhz: float | None = None,
) -> Assignment:
    """Scale and assignment by linear programming (scipy.optimize.linprog / HiGHS; deterministic).

    Variables: x[g,j] >= 0 H of group g placed on multiplet j (edges only where j lies within
    th.max_outside_ppm of g's window), miss[g] H of g left unplaced,
    sur[j]/def[j] H observed beyond / short of what is placed on j, t the H-per-unit scale factor.
    For each group: sum_j x + miss = n_H; for each multiplet: sum_g x + sur - def = t * a_j with
    a_j its integral normalised by a first guess of the scale.
    Costs per H: surplus 1 (free_surplus[j] for solvent/impurity signals), deficit 1, missing 1.5
    (0 for exchangeable H), 0.5-2 for placement outside the window (0-0.2 within th.window_slack_ppm),
    0.3 for a singlet group on a resolved multiplet, plus 0.01 per H placed anywhere and at most 0.012 per H
    by the distance from the group's predicted centre (ties, `_prediction_tie_break`).

    One signal per group: a group that may not split (`HGroup.may_split` False: equivalent H with no
    diastereotopic, rotameric or exchange reason to differ) is placed on multiplets that lie within one
    multiplet's width of each other (2 x th.max_j_hz, Hz, at `sf_mhz`) -- binary choices, so the programme
    becomes a small MILP (scipy.optimize.milp, HiGHS) when such a group has candidates farther apart.
    Without it, two 2H groups of a para-disubstituted ring would each be spread over two of the four
    signals of its ortho isomer, and the wrong structure would fit.

    `allowance`: {multiplet index: integral units of surplus that are free there} (a solvent line the
    line-shape fit measured inside the multiplet).

    Returns an `Assignment`.
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
            d = interval_gap(g.lo, g.hi, *signal_bounds(m, sf_mhz))
            if g.exchangeable and _broad(m) and d <= th.exchangeable_outside_ppm:
                # an exchange-broadened OH/NH moves with concentration, water and acid: its window is soft
                edges.append((gi, j))
                costs.append(th.assign_broad_exchangeable_cost + th.assign_edge_cost)
                continue
            if d > th.max_outside_ppm:
                continue
            # 0 inside the window, up to 0.2 within the slack (ties go to the signal inside the window),
            # 0.5-2 beyond it
            c = (
                th.assign_slack_cost * d / th.window_slack_ppm
                if d <= th.window_slack_ppm
                else th.assign_outside_cost
                + th.assign_outside_cost_rise
                * (d - th.window_slack_ppm)
                / max(th.max_outside_ppm - th.window_slack_ppm, 1e-6)
            )
            if g.exchangeable:
                c += _exchangeable_cost(g, m, solvent_key, th)
            elif g.multiplicity == "s" and _vicinal_pattern(m):
                c += (
                    th.assign_singlet_on_vicinal_cost
                )  # H with no vicinal H (nor F/P near) cannot show a first-order t/q with a 4-9.5 Hz J:
                # geminal sp3 couplings are 10-18 Hz and give AB pairs; dearer than leaving the signal unexplained
            elif g.multiplicity == "s" and is_split(m) and m.multiplicity != "m":
                c += th.assign_singlet_on_split_cost
            elif g.multiplicity == "s" and g.n_h >= 3 and _broad(m):
                c += (
                    th.assign_methyl_on_broad_cost
                )  # a methyl singlet (NCH3, OCH3, tBu) is sharp, never an exchange-broadened hump:
                # rather missing (1.5/H) with the hump unexplained (1/H) than placed there
            elif g.multiplicity == "s" and g.n_h >= 3 and not _has_singlet_line(m):
                c += (
                    th.assign_methyl_off_singlet_cost
                )  # ... and a line standing out of its signal (dearer than leaving it missing)
            elif (
                m.multiplicity == "br s"
                and m.lines
                and m.lines[0].width_hz > 2.5 * th.broad_hz
                and "rotamer" not in g.note
            ):
                c += (
                    th.assign_ch_on_hump_cost
                )  # a C-H is not a lone 15+ Hz wide hump (that is exchange or baseline), unless
                # amide/carbamate rotamers exchanging at an intermediate rate broaden it (ring N-CH2 next to N-acyl)
            elif g.multiplicity not in ("s", "br s", "") and _sharp_singlet(m):
                c += (
                    th.assign_coupled_on_sharp_singlet_cost
                )  # a CH next to CH's is not a sharp singlet (e.g. a Boc 9H singlet is no ring CH2)
            edges.append((gi, j))
            costs.append(c + th.assign_edge_cost + _prediction_tie_break(g, m, th))
    span_hz = 2 * th.max_j_hz if sf_mhz else None

    def solve(edges, costs):
        return _solve(
            edges,
            costs,
            groups,
            eligible,
            a,
            free_surplus,
            allowance or {},
            _apart(edges, groups, mults, sf_mhz, span_hz),
            th,
        )

    sol, edges = solve(edges, costs)
    # a group smeared thinly over many small signals explains noise and impurities: drop placements
    # below th.assign_min_placed_h (and below th.assign_min_placed_fraction of the group) and solve again
    # (twice), so that a group sits on the few signals that carry it
    for _ in range(2):
        ne = len(edges)
        keep = []
        t_now = sol[len(edges) + len(groups) + 2 * len(eligible)]
        for e, (gi, j) in enumerate(edges):
            # keep used edges, and in-window edges to signals of half an H or more (so that a first
            # solution does not lock a group away from its own signal)
            smeared = max(th.assign_min_placed_h, th.assign_min_placed_fraction * groups[gi].n_h)
            own = costs[e] <= th.assign_in_window_cost and a[j] * t_now >= th.assign_keep_signal_h
            if sol[e] >= smeared - 1e-9 or own:
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
        sol, edges = solve(edges, costs)
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
    return Assignment(t, a, s0, x, miss, sur, deff)


def _apart(edges, groups, mults, sf_mhz, span_hz) -> list[tuple[int, int]]:
    """Pairs of edges (indices) of one single-signal group whose multiplets are farther apart than one
    multiplet can be wide (`span_hz`): at most one of each pair may carry the group."""
    if not sf_mhz or not span_hz:
        return []
    out = []
    by_group: dict[int, list[int]] = {}
    for e, (gi, _) in enumerate(edges):
        if not groups[gi].may_split:
            by_group.setdefault(gi, []).append(e)
    for es in by_group.values():
        for u in range(len(es)):
            for v in range(u + 1, len(es)):
                ju, jv = edges[es[u]][1], edges[es[v]][1]
                if abs(mults[ju].ppm - mults[jv].ppm) * sf_mhz > span_hz:
                    out.append((es[u], es[v]))
    return out


def _solve(edges, costs, groups, eligible, a, free_surplus, allowance, apart=(), th: NmrThresholds = NMR_THRESHOLDS):
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
        c[ne + gi] = 0.0 if g.exchangeable else th.assign_missing_cost
    for k, j in enumerate(eligible):
        c[ne + ng_ + k] = free_surplus.get(j, 1.0)
        c[ne + ng_ + nm + k] = 1.0
        c[it + 1 + k] = 0.0 if j in allowance else min(th.assign_free_error_cost, free_surplus.get(j, 1.0))
        c[it + 1 + nm + k] = th.assign_free_error_cost
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
        a_ub[k, it] = -th.assign_free_error_fraction * a[j]
        a_ub[nm + k, it + 1 + nm + k] = 1
        a_ub[nm + k, it] = -th.assign_free_error_fraction * a[j]
    bounds = [(0, None)] * it + [th.assign_scale_bounds] + [(0, None)] * (2 * nm)
    sol = None
    if ng_ + nm:
        b_ub = np.zeros(2 * nm)
        for k, j in enumerate(eligible):
            b_ub[k] = allowance.get(j, 0.0)  # a hidden solvent line: this many H of surplus are free
        if apart:
            sol = _solve_one_signal(c, a_ub, b_ub, a_eq, b_eq, bounds, edges, groups, apart, nm)
        else:
            res = linprog(
                c,
                A_ub=a_ub if nm else None,
                b_ub=b_ub if nm else None,
                A_eq=a_eq,
                b_eq=b_eq,
                bounds=bounds,
                method="highs",
            )
            sol = res.x if res.status == 0 else None
    if sol is None:
        sol = np.zeros(nv)
        sol[it] = 1.0
        for gi, g in enumerate(groups):
            sol[ne + gi] = g.n_h
    return sol, edges


def _solve_one_signal(c, a_ub, b_ub, a_eq, b_eq, bounds, edges, groups, apart, nm):
    """The assignment LP plus one binary per edge in `apart`: x[e] <= n_H * y[e], y[e] + y[f] <= 1."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    nv = c.size
    binary = sorted({e for pair in apart for e in pair})
    col = {e: nv + k for k, e in enumerate(binary)}
    nb = len(binary)
    cc = np.concatenate([c, np.zeros(nb)])
    link = np.zeros((nb, nv + nb))
    for k, e in enumerate(binary):
        link[k, e] = 1.0
        link[k, col[e]] = -float(groups[edges[e][0]].n_h)
    excl = np.zeros((len(apart), nv + nb))
    for r, (e, f) in enumerate(apart):
        excl[r, col[e]] = excl[r, col[f]] = 1.0
    pad = np.zeros((a_eq.shape[0], nb))
    cons = [
        LinearConstraint(np.hstack([a_eq, pad]), b_eq, b_eq),
        LinearConstraint(link, -np.inf, 0.0),
        LinearConstraint(excl, -np.inf, 1.0),
    ]
    if nm:
        cons.append(LinearConstraint(np.hstack([a_ub, np.zeros((a_ub.shape[0], nb))]), -np.inf, b_ub))
    lo = np.array([b[0] for b in bounds] + [0.0] * nb, dtype=float)
    hi = np.array([np.inf if b[1] is None else b[1] for b in bounds] + [1.0] * nb, dtype=float)
    integrality = np.concatenate([np.zeros(nv), np.ones(nb)])
    res = milp(cc, constraints=cons, integrality=integrality, bounds=Bounds(lo, hi), options={"time_limit": 5.0})
    return res.x[:nv] if res.x is not None and res.status in (0, 1) else None
