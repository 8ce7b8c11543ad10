"""Calibrate the learned 1H windows on real assigned spectra (conformalized quantile regression), and say how well
that holds on compounds left out of the fit.

`verify.structure.learned.LearnedShiftPredictor` cuts each H's window from csp5's CSP5q-1H quantiles: the model's
own 5-95 % interval widened on both sides by a margin (`reference/shift_model.tsv`), one margin for H on sp2 carbons
and one for H on sp3 carbons (Mondrian conformal prediction: each class gets its own guarantee; one margin for all
gave 94.7 % / 0.52 ppm leave-one-out, these two classes 95.9 % / 0.47 ppm, a third class splitting ring from chain
sp3 CH 93.5 % / 0.50 ppm, so two it is). Each margin is fitted by split
conformal prediction on quantile regression (CQR; Romano, Patterson and Candes, NeurIPS 2019): for every assigned
C-H shift y of the real spectra with NMReDATA assignments (`verify.structure.nmredata.find_assigned_spectra` over
../shared/realdata), scored against the expected group holding its atom exactly as `bench/bench_prediction.py`
scores it, the conformity score is E = max(lo - y, y - hi) with the unwidened window [lo, hi]; the margin is the
ceil((n+1)(1-alpha))-th smallest E. Under exchangeability that guarantees coverage >= 1 - alpha on new shifts;
since the H of one compound are not independent, the figure quoted is the leave-one-compound-out one (the margin
fitted without the compound that is scored). A C-H the model gives no window counts as a miss.

    python bench/calibrate_shift_windows.py [--realdata PATH] [--alpha 0.05] [--write] [--json FILE]

`--write` rewrites reference/shift_model.tsv (levels, margin, in-sample and leave-one-out figures, the data set).
Predictions come from (and go to) the user's prediction cache, so a second run costs no model calls.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_prediction import NoWindowFill, score_groups  # noqa: E402

LO_LEVEL, HI_LEVEL = 0.05, 0.95  # the model's own 90 % interval, fixed before looking at the data


def score_all(realdata: Path, lo_level: float = LO_LEVEL, hi_level: float = HI_LEVEL) -> dict[str, list[dict]]:
    """`score_groups` records of the unwidened model windows, per compound folder."""
    from verify.solvents import find_solvent
    from verify.structure.hgroups import expected_groups
    from verify.structure.learned import LearnedShiftPredictor, WindowCalibration, carbon_class
    from verify.structure.nmredata import find_assigned_spectra

    pred = NoWindowFill(LearnedShiftPredictor(window_calibration=WindowCalibration(lo_level, hi_level, 0.0, 0.0)))
    out: dict[str, list[dict]] = {}
    for row, spec in find_assigned_spectra(realdata, strict=False):
        folder = Path(row["path"]).parts[1]
        sv = find_solvent(spec.solvent)
        groups = expected_groups(spec.mol, sv.key if sv is not None else "cdcl3", predictor=pred)
        recs = score_groups(groups, spec.h_shifts, spec.exchangeable)
        for r in recs:
            r["carbon_class"] = carbon_class(spec.mol.GetAtomWithIdx(r["atom"]))
        out[folder] = recs
    return out


CLASSES = ("sp2", "sp3")


def class_margins(records: list[dict], alpha: float) -> dict[str, float]:
    """One conformal margin per carbon class (Mondrian CQR)."""
    return {k: margin([r for r in records if r["carbon_class"] == k], alpha) for k in CLASSES}


def conformity(r: dict) -> float:
    """How far (ppm) a shift lies outside its unwidened window (negative inside; inf without a window)."""
    if r["lo"] is None:
        return float("inf")
    return max(r["lo"] - r["shift"], r["shift"] - r["hi"])


def margin(records: list[dict], alpha: float) -> float:
    """The split-conformal margin: the ceil((n+1)(1-alpha))-th smallest conformity score (ppm, at least 0)."""
    scores = sorted(conformity(r) for r in records)
    k = min(math.ceil((len(scores) + 1) * (1 - alpha)), len(scores))
    return max(scores[k - 1], 0.0)


def figures(records: list[dict], margins: list[float]) -> dict:
    inside = [conformity(r) <= m for r, m in zip(records, margins)]
    widths = [r["width"] + 2 * m for r, m in zip(records, margins) if r["width"] is not None]
    return {
        "n": len(records),
        "coverage": sum(inside) / len(records),
        "median_width": statistics.median(widths) if widths else float("inf"),
    }


def leave_one_out(scores: dict[str, list[dict]], alpha: float) -> tuple[dict, list[dict]]:
    held: list[dict] = []
    ms: list[float] = []
    per: list[dict] = []
    for c, recs in scores.items():
        m = class_margins([r for o, rs in scores.items() if o != c for r in rs], alpha)
        held.extend(recs)
        ms.extend(m[r["carbon_class"]] for r in recs)
        per.append(
            {
                "compound": c,
                "margins_ppm": m,
                "n": len(recs),
                "inside": sum(conformity(r) <= m[r["carbon_class"]] for r in recs),
            }
        )
    return figures(held, ms), per


def write_table(
    path: Path,
    m: dict[str, float],
    alpha: float,
    insample: dict,
    loo: dict,
    n_compounds: int,
    csp5_version: str,
    n_by_class: dict[str, int],
) -> None:
    m_counts = f"{n_by_class['sp2']} sp2 and {n_by_class['sp3']} sp3 C-H shifts"
    text = f"""# version: 2 ({date.today().isoformat()})
# How the learned 1H predictor's windows are cut from csp5's quantile model CSP5q-1H (csp5 {csp5_version}, MIT;
# 99 quantiles of each H's shift, trained on about 2.5 million experimental spectra, solvent-conditioned).
# Per H the window is the model's lo_level-hi_level interval widened on both sides by the margin of its carbon's
# class (sp2: aromatic, vinylic, formyl; sp3); a group's window is the union of its atoms' windows.
# Margins: split conformal prediction on quantile regression (CQR, Romano, Patterson and Candes 2019), one per
# class (Mondrian; {m_counts}), at alpha = {alpha},
# fitted by bench/calibrate_shift_windows.py --write on {insample["n"]} assigned C-H shifts of
# {n_compounds} real spectra with NMReDATA assignments (../shared/realdata, MANIFEST.tsv; assignments by the
# spectra's depositors). In sample: coverage {insample["coverage"]:.1%}, median width {insample["median_width"]:.2f} ppm.
# Leave one compound out (margins fitted without the compound scored): coverage {loo["coverage"]:.1%}, median width
# {loo["median_width"]:.2f} ppm: the figure to expect on new compounds.
# lo_level\t{LO_LEVEL}
# hi_level\t{HI_LEVEL}
# margin_sp2_ppm\t{m["sp2"]:.3f}
# margin_sp3_ppm\t{m["sp3"]:.3f}
evaluation\tcoverage\tmedian_width_ppm\tn_shifts
in sample\t{insample["coverage"]:.3f}\t{insample["median_width"]:.3f}\t{insample["n"]}
leave one compound out\t{loo["coverage"]:.3f}\t{loo["median_width"]:.3f}\t{loo["n"]}
"""
    path.write_text(text)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--realdata", type=Path, default=ROOT.parent / "shared" / "realdata")
    ap.add_argument("--alpha", type=float, default=0.05, help="miss rate the margin allows (default 0.05)")
    ap.add_argument("--write", action="store_true", help="rewrite reference/shift_model.tsv")
    ap.add_argument("--json", type=Path, help="write the leave-one-out detail here")
    args = ap.parse_args(argv)
    if not args.realdata.is_dir():
        print(f"calibrate_shift_windows: {args.realdata}: no real-data folder", file=sys.stderr)
        return 66
    from importlib.metadata import version

    scores = score_all(args.realdata)
    records = [r for rs in scores.values() for r in rs]
    m = class_margins(records, args.alpha)
    insample = figures(records, [m[r["carbon_class"]] for r in records])
    n_by_class = {k: sum(r["carbon_class"] == k for r in records) for k in CLASSES}
    loo, per = leave_one_out(scores, args.alpha)
    print(
        f"{len(scores)} compounds, {insample['n']} assigned C-H shifts; {LO_LEVEL:.0%}-{HI_LEVEL:.0%} quantiles, "
        f"alpha {args.alpha}"
    )
    print("conformal margins: " + ", ".join(f"{k} {m[k]:.3f} ppm ({n_by_class[k]} shifts)" for k in CLASSES))
    print(
        f"  in sample:              coverage {insample['coverage']:.1%}, median width {insample['median_width']:.3f} ppm"
    )
    print(f"  leave one compound out: coverage {loo['coverage']:.1%}, median width {loo['median_width']:.3f} ppm")
    for row in per:
        if row["inside"] < row["n"]:
            print(
                f"    {row['compound']}: {row['inside']}/{row['n']} inside (margins "
                + ", ".join(f"{k} {v:.3f}" for k, v in row["margins_ppm"].items())
                + ")"
            )
    if args.json:
        args.json.write_text(
            json.dumps({"margins_ppm": m, "insample": insample, "loo": loo, "per_compound": per}, indent=1) + "\n"
        )
    if args.write:
        write_table(
            ROOT / "reference" / "shift_model.tsv",
            m,
            args.alpha,
            insample,
            loo,
            len(scores),
            version("csp5"),
            n_by_class,
        )
        print("wrote reference/shift_model.tsv")
    return 0


if __name__ == "__main__":
    sys.exit(main())
