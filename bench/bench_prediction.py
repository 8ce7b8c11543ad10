"""How good are the expected 1H windows? Scored on the real spectra that come with NMReDATA assignments.

For every distinct NMReDATA assignment file of ../shared/realdata (verify.structure.nmredata.find_assigned_spectra)
the expected 1H groups are built with `verify.structure.hgroups.expected_groups(mol, solvent_key, predictor=P)`
for each predictor P: the rules (`RuleShiftPredictor`) and, when `verify.structure.learned` imports, the learned
model (`LearnedShiftPredictor`) and the hybrid (`HybridShiftPredictor`). The solvent is the NMReDATA record's
(`--solvent-source manifest` takes the MANIFEST's instead), CDCl3 when unknown. Every assigned C-H shift
(exchangeable OH/NH/SH skipped) is looked up in the group holding its heavy atom and scored: inside the window
(lo <= shift <= hi), |centre - shift| (the H's own predicted centre where the group has one per H and every H
is assigned, paired in ascending order, see `_per_h_centres`; else the group's centre, else the window's
midpoint) and the window width hi - lo.

`LearnedShiftPredictor` gives no window for OH/NH (and none where the model fails); the bench fills those atoms
with a non-finite window so expected_groups can run, and such C-H shifts count as misses ("no window").

Timing: wall time of each expected_groups call (seconds per molecule), the first call reported apart (the first
model predictor's first call pays csp5's import and weight loading; csp5 keeps the weights per process, so the
second one does not). Unless --use-cache is given, each model predictor gets its own empty prediction cache in a
temporary folder (VERIFY_CACHE_DIR), so both predict every structure afresh rather than reading the user's
cache or each other's predictions.

    python bench/bench_prediction.py [--realdata PATH] [--json FILE] [--solvent-source nmredata|manifest]
                                     [--rules-only] [--use-cache]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


# ----------------------------------------------------------------------------------------------- the metric


def score_groups(groups, h_shifts: dict[int, tuple[float, ...]], exchangeable=frozenset()) -> list[dict]:
    """Score each assigned C-H shift against the expected group that holds its heavy atom.

    Parameters
    ----------
    groups : sequence of HGroup
        Expected groups (``.atoms``, ``.lo``, ``.hi``, ``.centre`` or ``.mid``, ``.source``).
    h_shifts : dict of int to tuple of float
        Heavy atom index -> assigned 1H shifts (ppm).
    exchangeable : collection of int, optional
        Heavy atoms whose H are exchangeable (OH/NH/SH): skipped.

    Returns
    -------
    list of dict
        One record per assigned shift: ``atom``, ``shift``, ``lo``, ``hi``, ``centre``, ``source``, ``inside``,
        ``abs_err`` (|centre - shift|) and ``width`` (hi - lo); ``lo``/``hi``/``centre``/``abs_err``/``width``
        are None and ``inside`` False when no group holds the atom or its group has no finite window.
    """
    by_atom = {}
    for g in groups:
        for a in g.atoms:
            by_atom.setdefault(a, g)
    per_h = _per_h_centres(groups, h_shifts, exchangeable)
    out = []
    for atom in sorted(h_shifts):
        if atom in exchangeable:
            continue
        g = by_atom.get(atom)
        for k, shift in enumerate(h_shifts[atom]):
            if g is None or not (math.isfinite(g.lo) and math.isfinite(g.hi)):
                out.append(
                    {
                        "atom": atom,
                        "shift": shift,
                        "lo": None,
                        "hi": None,
                        "centre": None,
                        "source": None if g is None else g.source,
                        "inside": False,
                        "abs_err": None,
                        "width": None,
                    }
                )
                continue
            centre = per_h.get((atom, k), g.centre if g.centre is not None else g.mid)
            out.append(
                {
                    "atom": atom,
                    "shift": shift,
                    "lo": g.lo,
                    "hi": g.hi,
                    "centre": centre,
                    "source": g.source,
                    "inside": g.lo <= shift <= g.hi,
                    "abs_err": abs(centre - shift),
                    "width": g.hi - g.lo,
                }
            )
    return out


def _per_h_centres(groups, h_shifts, exchangeable) -> dict[tuple[int, int], float]:
    """(atom, k) -> the predicted centre of the k-th assigned H of that atom, from the group's per-H centres.

    Where a group carries one point prediction per H (``h_centres``, ascending: the learned model tells the two
    faces of a ring CH2 apart) and the assignment gives a shift for every H of the group, the predictions are
    paired with the assigned shifts in ascending order: the lower predicted H with the lower observed one. That
    is the pairing a chemist makes for a diastereotopic CH2 whose faces are not assigned stereospecifically, and
    it needs no assignment the data do not give. Groups without per-H centres, or with fewer assigned shifts
    than H, keep the group's one centre.
    """
    out: dict[tuple[int, int], float] = {}
    for g in groups:
        centres = tuple(getattr(g, "h_centres", ()) or ())
        keys = [(a, k) for a in g.atoms if a not in exchangeable for k in range(len(h_shifts.get(a, ())))]
        if not centres or len(keys) != len(centres) or len(keys) != g.n_h:
            continue
        ordered = sorted(keys, key=lambda ak: h_shifts[ak[0]][ak[1]])
        out.update({ak: c for ak, c in zip(ordered, sorted(centres))})
    return out


def summarise(records: list[dict]) -> dict:
    """Coverage and accuracy of a list of `score_groups` records.

    Parameters
    ----------
    records : list of dict
        Records of `score_groups` (any number of compounds).

    Returns
    -------
    dict
        ``n`` (assigned C-H shifts), ``n_inside``, ``coverage_pct``, ``median_width``, ``mae`` (mean
        |centre - shift|), ``median_ae`` and ``n_no_window`` (shifts whose atom had no group or no finite
        window; they count as misses and are left out of the width and error figures). Figures are None
        when there is nothing to compute them on.
    """
    n = len(records)
    scored = [r for r in records if r["lo"] is not None]
    errs = [r["abs_err"] for r in scored]
    widths = [r["width"] for r in scored]
    n_in = sum(1 for r in records if r["inside"])
    return {
        "n": n,
        "n_inside": n_in,
        "coverage_pct": 100.0 * n_in / n if n else None,
        "median_width": statistics.median(widths) if widths else None,
        "mae": statistics.fmean(errs) if errs else None,
        "median_ae": statistics.median(errs) if errs else None,
        "n_no_window": n - len(scored),
    }


# ------------------------------------------------------------------------------------------------ the run


def _compound_name(row: dict, fallback: str) -> str:
    name = re.sub(r"\s*\[(CAS|HMDB)[^\]]*\]\s*$", "", row.get("compound_name") or "").strip()
    return name or fallback


class NoWindowFill:
    """Wrap a predictor that leaves some atoms without a window (the learned model gives none for OH/NH):
    every H-bearing atom it skips gets a non-finite window (source ``none``), so `expected_groups` can build
    its groups and the bench scores those H as having no window, never as the rules' windows."""

    def __init__(self, inner):
        self.inner = inner
        self.name = getattr(inner, "name", type(inner).__name__)

    def predict(self, mol, solvent: str = "cdcl3"):
        from verify.structure.shifts import ShiftWindow

        windows = dict(self.inner.predict(mol, solvent))
        for atom in mol.GetAtoms():
            if atom.GetTotalNumHs() > 0 and atom.GetIdx() not in windows:
                windows[atom.GetIdx()] = ShiftWindow(
                    lo=math.nan,
                    hi=math.nan,
                    label="no window",
                    source="none",
                    exchangeable=atom.GetAtomicNum() in (7, 8, 16),
                )
        return windows


def _own_model(sub: str):
    """A csp5 model with its own prediction cache in the folder ``cache_dir()/<sub>``."""
    from verify.structure.learned import Csp5Model, PredictionCache, cache_dir

    return Csp5Model(cache=PredictionCache(cache_dir() / sub / "shift_predictions.sqlite"))


def _predictors(rules_only: bool, own_caches: bool) -> tuple[list[tuple[str, object]], list[str]]:
    from verify.structure.shifts import RuleShiftPredictor

    preds: list[tuple[str, object]] = [("rules", RuleShiftPredictor())]
    notes: list[str] = []
    if rules_only:
        notes.append("learned/hybrid columns skipped (--rules-only)")
        return preds, notes
    try:
        from verify.structure.learned import HybridShiftPredictor, LearnedShiftPredictor
    except Exception as exc:  # noqa: BLE001 - the module is being written; any failure means "not available"
        notes.append(
            f"learned/hybrid columns skipped: cannot import verify.structure.learned ({exc.__class__.__name__}: {exc})"
        )
        return preds, notes
    for label, cls in (("learned", LearnedShiftPredictor), ("hybrid", HybridShiftPredictor)):
        try:
            pred = cls()
        except Exception as exc:  # noqa: BLE001
            notes.append(f"{label} column skipped: {cls.__name__}() failed ({exc.__class__.__name__}: {exc})")
            continue
        if own_caches:  # each model predictor predicts afresh, not from the other's cache (fair timing)
            try:
                model = _own_model(label)
                if label == "learned":
                    pred = LearnedShiftPredictor(model=model)
                else:
                    pred = HybridShiftPredictor(learned=LearnedShiftPredictor(model=model))
            except Exception as exc:  # noqa: BLE001 - the module's API may move: keep the default construction
                notes.append(
                    f"{label}: could not give it its own prediction cache ({exc.__class__.__name__}: "
                    f"{exc}); it may reuse the other model predictor's predictions"
                )
        preds.append((label, NoWindowFill(pred) if label == "learned" else pred))
    if len(preds) > 1:
        notes.append(
            "learned = LearnedShiftPredictor alone (no window for OH/NH; C-H it gives no window count "
            "as misses); hybrid = HybridShiftPredictor (model C-H windows, rules elsewhere)"
        )
    return preds, notes


def run(realdata: Path, solvent_source: str = "nmredata", rules_only: bool = False, own_caches: bool = True) -> dict:
    """Score every predictor on every assigned real spectrum; returns records, summaries, timings, notes."""
    from verify.solvents import find_solvent
    from verify.structure.hgroups import expected_groups
    from verify.structure.nmredata import find_assigned_spectra

    spectra = find_assigned_spectra(realdata, strict=False)
    preds, notes = _predictors(rules_only, own_caches)
    records: list[dict] = []
    timing: dict[str, list[float]] = {label: [] for label, _ in preds}
    failures: list[str] = []
    compounds = []
    for row, spec in spectra:
        folder = Path(row["path"]).parts[1]
        solvent = spec.solvent if solvent_source == "nmredata" else (row.get("solvent") or "")
        sv = find_solvent(solvent)
        solvent_key = sv.key if sv is not None else "cdcl3"
        if sv is None:
            notes.append(f"{folder}: solvent {solvent!r} unknown, scored as CDCl3")
        if spec.notes:
            notes.append(f"{folder}: {Path(spec.path).name}: " + "; ".join(spec.notes))
        name = _compound_name(row, spec.name)
        compounds.append(
            {
                "compound": name,
                "folder": folder,
                "file": str(Path(spec.path).relative_to(realdata)),
                "solvent": solvent,
                "solvent_key": solvent_key,
                "manifest_solvent": row.get("solvent", ""),
                "nmredata_solvent": spec.solvent,
            }
        )
        for label, pred in preds:
            t0 = time.perf_counter()
            try:
                groups = expected_groups(spec.mol, solvent_key, predictor=pred)
            except Exception as exc:  # noqa: BLE001 - report and go on with the other compounds
                failures.append(f"{label} on {folder}: {exc.__class__.__name__}: {exc}")
                continue
            timing[label].append(time.perf_counter() - t0)
            for r in score_groups(groups, spec.h_shifts, spec.exchangeable):
                records.append(
                    {
                        "predictor": label,
                        "compound": name,
                        "folder": folder,
                        "solvent": solvent,
                        "solvent_key": solvent_key,
                        "molfile_atom": spec.atom_numbers.get(r["atom"]),
                        "element": spec.mol.GetAtomWithIdx(r["atom"]).GetSymbol(),
                        **r,
                    }
                )
    summaries = {label: summarise([r for r in records if r["predictor"] == label]) for label, _ in preds}
    return {
        "predictors": [label for label, _ in preds],
        "compounds": compounds,
        "records": records,
        "summaries": summaries,
        "timing": timing,
        "notes": notes,
        "failures": failures,
    }


# ---------------------------------------------------------------------------------------------- the print


def _f(x, fmt: str) -> str:
    return "-" if x is None else format(x, fmt)


def _timing_row(ts: list[float]) -> tuple[str, str, str, str]:
    if not ts:
        return "-", "-", "-", "-"
    rest = ts[1:]
    return (
        f"{ts[0]:.3f}",
        _f(statistics.median(rest) if rest else None, ".4f"),
        _f(statistics.fmean(rest) if rest else None, ".4f"),
        f"{sum(ts):.2f}",
    )


def report(res: dict, out=sys.stdout) -> None:
    preds = res["predictors"]
    p = lambda *a: print(*a, file=out)  # noqa: E731
    p(f"{len(res['compounds'])} assigned spectra (distinct NMReDATA files); C-H shifts only, exchangeable H skipped")
    p("")
    p(
        f"{'predictor':<10} {'n':>5} {'coverage %':>11} {'median width':>13} {'centre MAE':>11} {'median |err|':>13}"
        f" {'no window':>9}"
    )
    for label in preds:
        s = res["summaries"][label]
        p(
            f"{label:<10} {s['n']:>5} {_f(s['coverage_pct'], '.1f'):>11} {_f(s['median_width'], '.3f'):>13}"
            f" {_f(s['mae'], '.3f'):>11} {_f(s['median_ae'], '.3f'):>13} {s['n_no_window']:>9}"
        )
    p("(widths and errors in ppm)")
    p("")
    p("time per molecule of expected_groups (s, wall):")
    p(f"{'predictor':<10} {'molecules':>9} {'first call':>11} {'median rest':>12} {'mean rest':>10} {'total':>8}")
    for label in preds:
        ts = res["timing"][label]
        first, med, mean, total = _timing_row(ts)
        p(f"{label:<10} {len(ts):>9} {first:>11} {med:>12} {mean:>10} {total:>8}")
    p("")
    p("per compound (inside/n per predictor), then the misses: atom index (molfile number), shift, window, centre")
    for c in res["compounds"]:
        recs = [r for r in res["records"] if r["folder"] == c["folder"]]
        counts = []
        for label in preds:
            mine = [r for r in recs if r["predictor"] == label]
            counts.append(f"{label} {sum(r['inside'] for r in mine)}/{len(mine)}")
        solv = (
            c["solvent"]
            if c["solvent_key"] == "cdcl3" and c["solvent"].lower().startswith("cdcl3")
            else f"{c['solvent']} -> {c['solvent_key']}"
        )
        p(f"  {c['compound']} [{c['folder']}, {solv}]: " + ", ".join(counts))
        for label in preds:
            for r in recs:
                if r["predictor"] != label or r["inside"]:
                    continue
                where = f"{r['element']}{r['atom']} (#{r['molfile_atom']})"
                if r["lo"] is None:
                    why = r["source"] or "no group"
                    p(f"      {label:<8} {where:<14} {r['shift']:7.3f}  no window for this atom ({why})")
                else:
                    off = r["shift"] - r["hi"] if r["shift"] > r["hi"] else r["shift"] - r["lo"]
                    p(
                        f"      {label:<8} {where:<14} {r['shift']:7.3f}  window [{r['lo']:.2f}, {r['hi']:.2f}]"
                        f"  centre {r['centre']:.2f}  ({off:+.2f} outside, {r['source']})"
                    )
    if res["notes"]:
        p("")
        p("notes:")
        for n in res["notes"]:
            p(f"  - {n}")
    if res["failures"]:
        p("")
        p("failures:")
        for f in res["failures"]:
            p(f"  - {f}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--realdata", type=Path, default=Path(os.environ.get("VERIFY_REALDATA") or ROOT.parent / "shared" / "realdata")
    )
    ap.add_argument("--json", type=Path, help="write the per-H records (and the summaries) to this file")
    ap.add_argument(
        "--solvent-source",
        choices=("nmredata", "manifest"),
        default="nmredata",
        help="solvent of the NMReDATA record (default) or of the MANIFEST row",
    )
    ap.add_argument("--rules-only", action="store_true", help="score the rule predictor only")
    ap.add_argument(
        "--use-cache",
        action="store_true",
        help="let the learned predictors use the user's prediction cache (default: a fresh, empty one)",
    )
    args = ap.parse_args(argv)
    if not (args.realdata / "MANIFEST.tsv").is_file():
        print(f"no MANIFEST.tsv in {args.realdata}", file=sys.stderr)
        return 66
    tmp = None
    if not args.use_cache:
        tmp = tempfile.TemporaryDirectory(prefix="bench_prediction_cache_")
        os.environ["VERIFY_CACHE_DIR"] = tmp.name
    try:
        res = run(args.realdata, args.solvent_source, args.rules_only, own_caches=not args.use_cache)
    finally:
        if tmp is not None:
            tmp.cleanup()
    report(res)
    if args.json:
        keep = (
            "predictor",
            "compound",
            "folder",
            "solvent",
            "solvent_key",
            "atom",
            "molfile_atom",
            "element",
            "shift",
            "lo",
            "hi",
            "centre",
            "source",
            "inside",
        )
        payload = {
            "schema": "verify-bench-prediction/1",
            "solvent_source": args.solvent_source,
            "compounds": res["compounds"],
            "summaries": res["summaries"],
            "timing_s_per_molecule": res["timing"],
            "records": [
                {k: (round(r[k], 4) if isinstance(r[k], float) else r[k]) for k in keep} for r in res["records"]
            ],
        }
        args.json.write_text(json.dumps(payload, indent=1) + "\n")
        print(f"\nwrote {len(res['records'])} per-H records to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
