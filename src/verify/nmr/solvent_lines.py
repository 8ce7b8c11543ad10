"""Step 1 of the comparison (verify.nmr.compare): which observed lines are solvent, reference or artefact.

Residual solvent lines, water/HOD, TMS (DSS/TSP in D2O), 13C satellites and spinning sidebands
(flagged by peaks.flag_artefacts) are `solvent`; so are a small unsplit shoulder touching a strong
(presaturated) water line (classify_solvent, before impurities and assignment), and, when neither water
nor the compound's OH/NH/COOH is seen, the one line between them where fast exchange averages the two
(unless 13C satellites show a C-H line): exchange_averaged_water, which needs the assignment's group
calls and so runs after it, before the remaining lines are called unexplained.

Pure functions (no file access).
"""

from __future__ import annotations

from ..findings import Finding
from ..solvents import Solvent
from ..structure.hgroups import HGroup
from .fit import line_share_near
from .peaks import Multiplet
from .records import GroupCall, ObservedPeak, interval_gap, is_split, join_notes, line_span
from .thresholds import NMR_THRESHOLDS, NmrThresholds


def classify_solvent(
    mults: list[Multiplet],
    solvent: Solvent | None,
    th: NmrThresholds = NMR_THRESHOLDS,
    water_drift_ppm: float = 0.0,
    water_line_is_compound: bool = False,
) -> dict[int, tuple[str, str, bool]]:
    """Which multiplets are solvent: {index: (kind, label, is_the_line_itself)}.

    kind: residual | water | reference | artefact. `is_the_line_itself` is False when the solvent
    line only sits inside a wider multiplet (overlap): that multiplet's surplus is then free.
    `water_drift_ppm` (ppm, default 0): how far downfield of its table shift (beyond th.water_tol_ppm) the
    water line may have moved -- an amine or an N-H/O-H of the compound hydrogen-bonds and exchanges with
    it (in CDCl3 it then lies anywhere from 1.5 to about 1.9 ppm). When no water line of its own is seen,
    a multiplet spanning that band may hide it, and its surplus is free.
    `water_line_is_compound` (default False): the line found at the water shift proved to be the compound's
    own (a Boc singlet at 1.46 ppm in CDCl3, wholly taken by the tert-butyl group), so it is no proof that
    water sits at its table shift: the drift band is then searched as well.
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
        if kind == "water" and water_line_is_compound:
            continue  # the line at water's shift is the compound's: not labelled water at all

        # the line itself: the nearest multiplet within tolerance that looks like it (a singlet for
        # CHCl3, a narrow quintet or unresolved line for CHD2 solvents; one per solvent line: a Boc
        # singlet 0.1 ppm from water is not water when water is seen too)
        def looks(m: Multiplet) -> bool:
            if kind in ("water", "reference") or (kind == "residual" and solvent is not None and solvent.key == "d2o"):
                return not (is_split(m) and m.multiplicity != "m")
            if mu == "s":
                return m.multiplicity in ("s", "br s")
            return not is_split(m)

        def width(m: Multiplet) -> float:
            if kind == "water":
                # water's integration range runs out along its broad exchange tail (p-propionotoluidide:
                # 1.59-1.99 for lines at 1.65-1.70): judge it by where its lines are
                return min(m.hi - m.lo, line_span(m) + 0.05)
            return m.hi - m.lo

        cands = [
            i for i, m in enumerate(mults) if i not in out and abs(m.ppm - p) <= tol and width(m) <= maxw and looks(m)
        ]
        if cands:
            best = min(cands, key=lambda i: abs(mults[i].ppm - p))
            out[best] = (kind, lab, True)
            continue
        for i, m in enumerate(mults):
            if i not in out and m.lo - 0.005 <= p <= m.hi + 0.005:
                out[i] = (kind, lab, False)
    if (
        water_drift_ppm > 0
        and solvent is not None
        and solvent.key not in ("d2o",)
        and (water_line_is_compound or not any(v[0] == "water" and v[2] for v in out.values()))
    ):
        lo = solvent.water + th.water_tol_ppm
        hi = lo + water_drift_ppm
        for i, m in enumerate(mults):
            if i not in out and m.hi >= lo and m.lo <= hi:
                out[i] = ("water", "water (H2O/HOD, moved downfield by exchange with the compound)", False)
    # A suppressed (presaturated) or very strong water line leaves shoulders and phase residues beside it:
    # a small unsplit line touching the water multiplet is still water. Bounded by the water line's own size
    # (th.water_shoulder_fraction of it), so next to an ordinary 1-2 H water line in CDCl3 nothing real can
    # be absorbed; a target signal next to water is still assigned (solvent lines stay eligible).
    water = [
        i
        for i, v in out.items()
        if v[0] in ("water", "residual")
        and v[2]
        and (v[0] == "water" or (solvent is not None and solvent.key == "d2o"))
    ]
    for w in water:
        mw = mults[w]
        for i, m in enumerate(mults):
            if i in out or is_split(m) and m.multiplicity != "m":
                continue
            if (
                interval_gap(mw.lo, mw.hi, m.lo, m.hi) <= th.water_shoulder_gap_ppm
                and 0 < m.integral <= th.water_shoulder_fraction * mw.integral
            ):
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


def exchange_averaged_water(
    mults: list[Multiplet],
    peaks: list[ObservedPeak],
    groups: list[HGroup],
    gcalls: list[GroupCall],
    solv: dict,
    imp_of: dict,
    eligible: list[int],
    solvent: Solvent | None,
    sf_mhz: float,
    th: NmrThresholds,
) -> list[Finding]:
    """Water in fast exchange with the compound's OH/NH/COOH shows as one averaged line.

    Its shift lies between the solvent's water shift and the XH window, weighted by the H of each (a
    carboxylic acid in wet acetone-d6: water 2.84 moves to ~3.3 and no COOH line is seen). Taken only when
    no water line and no exchangeable group of the target was seen, for one unsplit, unassigned line of at
    most th.exchange_water_max_h H; the peak becomes `solvent` and an info finding says so.
    """
    if solvent is not None and solvent.exchanges_labile_h:
        return []  # exchangeable H are replaced by D there: HOD/CD3OH is the residual line
    exch = [gc for gc in gcalls if gc.group.exchangeable]
    if not exch or any(gc.found or gc.placed_h > 0 for gc in exch):
        return []
    if any(v[0] == "water" and v[2] for v in solv.values()):
        return []
    w = solvent.water if solvent is not None else 1.56
    lo, hi = w - th.water_tol_ppm, max(gc.group.hi for gc in exch)
    cands = [
        j
        for j in eligible
        if j not in solv
        and j not in imp_of
        and peaks[j].kind != "side_product"
        and not peaks[j].placed
        and lo <= mults[j].ppm <= hi
        and 0 < peaks[j].h <= th.exchange_water_max_h
        and not (is_split(mults[j]) and mults[j].multiplicity != "m")
    ]
    if not cands:
        return []
    j = max(cands, key=lambda k: peaks[k].h)
    jch = _13c_satellite_j(mults, j, sf_mhz)
    if jch:
        # water and OH/NH carry no carbon: 13C satellites make it a C-H line (e.g. a CH3-O singlet)
        peaks[j].note = join_notes(peaks[j].note, f"13C satellites (1J(CH) = {jch:.0f} Hz): a C-H signal, not water")
        return []
    xh = "/".join(dict.fromkeys(gc.group.label for gc in exch))
    peaks[j].kind = "solvent"
    peaks[j].solvent_label = "water exchanging with the compound's " + xh
    peaks[j].note = join_notes(peaks[j].note, f"no separate water line at {w:.2f}: fast exchange averages water and XH")
    return [
        Finding(
            "info",
            "nmr.exchange_averaged_water",
            f"no water line at {w:.2f} ppm and no {xh} signal: the line at {mults[j].ppm:.2f} ppm "
            f"({peaks[j].h:.2f} H) is taken as water in fast exchange with the compound's {xh}",
        )
    ]


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


# lines of a residual solvent pattern by its multiplicity (CHD2 groups: a 1:2:3:2:1 quintet of 2J(H,D))
_PATTERN_LINES = {"s": 1, "br s": 1, "d": 2, "t": 3, "q": 4, "quint": 5, "sext": 6, "sept": 7}
_J_HD_MAX_HZ = 2.6  # geminal 2J(H,D) of residual CHD2/CHD groups: 1.6-2.6 Hz (= 2J(H,H) / 6.5)


def hidden_solvent_share(
    m: Multiplet,
    call: tuple[str, str, bool],
    solvent: Solvent | None,
    sf_mhz: float,
    th: NmrThresholds = NMR_THRESHOLDS,
) -> float | None:
    """Fraction of multiplet `m` that is a residual solvent pattern hidden inside it, as the line-shape fit
    measured it (`Multiplet.line_shares`, verify.nmr.fit), or None when it cannot be measured.

    `call` is `m`'s entry of classify_solvent. Only a sharp residual pattern (CHCl3 among aromatic H, the
    DMSO-d5 quintet under a ring CH2) is measured: the lines of `m` around its line nearest the solvent's
    table shift (within `th.solvent_tol_ppm`), as far out as the pattern's 2J(H,D) reach at `sf_mhz` MHz.
    HOD in D2O and water are broad and move, so their part stays unmeasured. So does a multiplet that is
    mostly the solvent (share above `th.hidden_solvent_max_share`): what else lies there is then unknown.
    """
    kind, _, itself = call
    if itself or kind != "residual" or (solvent is not None and solvent.key == "d2o") or not sf_mhz > 0:
        return None
    pattern = list(zip(solvent.residual, solvent.residual_mult)) if solvent is not None else [(7.26, "s")]
    best = None
    for p, mult in pattern:
        if not m.lo - th.solvent_tol_ppm <= p <= m.hi + th.solvent_tol_ppm:
            continue
        n = _PATTERN_LINES.get(mult)
        if n is None:
            return None  # a pattern the table does not spell out: not measured
        half = ((n - 1) / 2 * _J_HD_MAX_HZ + 0.5) / sf_mhz
        share = line_share_near(m, p, th.solvent_tol_ppm, half)
        if share is not None and share <= th.hidden_solvent_max_share:
            best = share if best is None else max(best, share)
    return best
