"""Step 2 of the comparison (verify.nmr.compare): impurities of reference/impurities.tsv, after the solvent lines.

An entry of reference/impurities.tsv (for the acquisition's solvent) is a candidate only when its whole
pattern fits: every signal at its shift, at least two of them free-standing with per-H integrals
agreeing (e.g. ethyl acetate needs its 2.05 s, 4.12 q and 1.26 t); a one-signal impurity needs a free
singlet at its shift. A signal of the impurity may hide under a bigger (target) signal: a multiplet at
its shift that is more than impurity_ratio_max times too big per H for the free signals is taken as
the host of the hidden line, not as the line itself, and a host must carry at least the hidden line's
expected integral.

Also the impurity-table look-ups the later steps use: the H count of an impurity's signal (for its
mol %) and the nearest table signal as a lead for an unexplained line.

Pure functions (no file access beyond the packaged reference table).
"""

from __future__ import annotations

import numpy as np

from .. import reference
from ..solvents import Solvent
from .peaks import Multiplet
from .records import ImpurityHit, is_split
from .thresholds import NMR_THRESHOLDS, NmrThresholds


def _mult_ok(expected: str, observed: Multiplet) -> bool:
    o = observed.multiplicity
    if expected == "s":
        return o in ("s", "br s") or (o == "m" and (observed.hi - observed.lo) < 0.03) or not is_split(observed)
    if expected in ("br s", "m"):
        return True
    return o not in ("s", "br s") or (observed.hi - observed.lo) > 0.02


def impurity_table(solvent: Solvent | None) -> dict[str, list[dict]]:
    """reference/impurities.tsv rows for the solvent (by key; CDCl3 when unknown), grouped by impurity."""
    key = solvent.key if solvent is not None else "cdcl3"
    out: dict[str, list[dict]] = {}
    for row in reference.table("impurities.tsv"):
        if row["solvent"] == key:
            out.setdefault(row["impurity"], []).append(row)
    return out


def find_impurities(
    mults: list[Multiplet],
    solvent: Solvent | None,
    excluded: set[int] | frozenset[int] = frozenset(),
    th: NmrThresholds = NMR_THRESHOLDS,
) -> list[ImpurityHit]:
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
            if (
                min(rest) <= 0
                or max(rest) / min(rest) > th.impurity_ratio_max
                or ph_[k] <= th.impurity_ratio_max * max(rest)
            ):
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
            if (
                not free
                or str(free[0][1]["mult"]) in ("s", "m", "br s")
                or mults[free[0][0]].multiplicity != str(free[0][1]["mult"])
            ):
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
        hits.append(
            ImpurityHit(
                name=name,
                peaks=idx,
                hidden=hidden,
                per_h=ph,
                kind=str(rows[0].get("kind", "")),
                hidden_ppm=[float(r["ppm"]) for _, r in hidden_rows],
            )
        )
    return hits


def nearest_impurity_hint(m: Multiplet, solvent: Solvent | None, th: NmrThresholds) -> str:
    """A lead for the chemist: the nearest reference/impurities.tsv signal just outside the match tolerance."""
    near = [
        (abs(float(r["ppm"]) - m.ppm), name, r)
        for name, rows in impurity_table(solvent).items()
        for r in rows
        if abs(float(r["ppm"]) - m.ppm) <= 3 * th.impurity_tol_ppm
    ]
    if not near:
        return ""
    d, name, r = min(near, key=lambda t: t[0])
    if d <= th.impurity_tol_ppm:
        return f"at the shift of {name} {r['label']} ({float(r['ppm']):.2f} ppm in this solvent), but not its pattern"
    return f"near {name} {r['label']} ({float(r['ppm']):.2f} ppm in this solvent, {d:.2f} ppm off: not matched)"


def impurity_signal_h(hit: ImpurityHit, m: Multiplet, solvent: Solvent | None) -> float:
    for rows in (impurity_table(solvent).get(hit.name, []),):
        for r in rows:
            if abs(float(r["ppm"]) - m.ppm) <= 0.05:
                return float(r["nH"])
    return 1.0
