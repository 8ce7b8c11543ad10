"""Bench: verdict accuracy on hard cases made with verify's own sample generator.

    python bench/bench_accuracy.py                      # every case, NMR+MS and NMR only, 2 worker processes
    python bench/bench_accuracy.py --only 'regio_*'     # cases, samples or categories matching a pattern
    python bench/bench_accuracy.py --jobs 1 --json out.json

A case (bench/hard_cases/cases.tsv) is the simulated acquisition of a sample (bench/hard_cases/samples.json:
the spectra of its TRUE compound, seeded from the sample's name) checked against one structure, with the
verdict a chemist expects: "consistent" for the true compound of a clean-enough sample, "not consistent"
(suspicious or inconsistent) for a wrong structure or a side product at >= 10 mol%. The 1H tables of the true
compounds come from sample_spectra/compounds.tsv and bench/hard_cases/compounds.tsv (hand-written,
literature-typical values, not verify's predictor), so that the benchmark does not grade the predictor by
itself. Categories: water and a broad N-H over each ring CH2, broad humps, grease/hexane, rotamer doubling,
regioisomers (o/m/p, 2-/3-/4-pyridyl, both directions), ketone vs alcohol, homologues, N-H vs N-CH3,
piperazine vs diazepane, N1/N4 swapped, side products at 5-20 mol%.

Each case runs through `verify.pipeline.check_compound` twice: with NMR and LC-MS, and with NMR alone.
Printed: per category, the cases and how many each mode got right; per mode, sensitivity (true compounds
called consistent / all "consistent" cases) and specificity (cases called suspicious or inconsistent / all
"not consistent" cases); then every misclassified case with the verdict's top reason (first error finding,
else first warning). Spectra go to a temporary folder that is removed afterwards; nothing is written to the
checkout. The thresholds of verify are never tuned from here: this only measures.
"""

from __future__ import annotations

import argparse
import csv
import fnmatch
import json
import os
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
CASES_DIR = HERE / "hard_cases"
CONSISTENT, NOT_CONSISTENT = "consistent", "not consistent"
MODES = ("nmr+ms", "nmr")


def load_compounds(cases_dir: Path = CASES_DIR) -> dict:
    """The sample table merged with the benchmark's own (`cases_dir`/compounds.tsv); keys must not repeat."""
    from verify.samples.tables import compounds

    own = compounds(cases_dir / "compounds.tsv")
    base = compounds()
    clash = sorted(set(own) & set(base))
    if clash:
        raise ValueError(f"{cases_dir / 'compounds.tsv'}: keys already in the sample table: {', '.join(clash)}")
    return {**base, **own}


def load_samples(cases_dir: Path = CASES_DIR) -> dict[str, dict]:
    """Sample definitions by name (`cases_dir`/samples.json)."""
    doc = json.loads((cases_dir / "samples.json").read_text(encoding="utf-8"))
    out = {}
    for s in doc["samples"]:
        if s["name"] in out:
            raise ValueError(f"samples.json: sample {s['name']!r} defined twice")
        out[s["name"]] = s
    return out


def load_cases(cases_dir: Path = CASES_DIR) -> list[dict]:
    """Cases in file order (`cases_dir`/cases.tsv): case, category, sample, check, truth, note."""
    with open(cases_dir / "cases.tsv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader((ln for ln in fh if ln.strip() and not ln.startswith("#")), delimiter="\t"))
    seen = set()
    for r in rows:
        if r["case"] in seen:
            raise ValueError(f"cases.tsv: case {r['case']!r} listed twice")
        if r["truth"] not in (CONSISTENT, NOT_CONSISTENT):
            raise ValueError(
                f"cases.tsv: case {r['case']!r}: truth {r['truth']!r} is neither {CONSISTENT!r} nor {NOT_CONSISTENT!r}"
            )
        seen.add(r["case"])
    return rows


def sample_def(s: dict):
    """The `verify.samples.generate.SampleDef` of one samples.json entry (target = data = the true compound)."""
    from verify.samples.generate import SampleDef

    return SampleDef(
        s["name"],
        s["data"],
        field=s.get("field"),
        note=s.get("note", ""),
        side=[tuple(x) for x in s.get("side", [])],
        impurities=[tuple(x) for x in s.get("impurities", [])],
        water=tuple(s["water"]) if s.get("water") else None,
        shifts=[tuple(x) for x in s.get("shifts", [])],
        rotamers=[tuple(x) for x in s.get("rotamers", [])],
        broad=[tuple(x) for x in s.get("broad", [])],
    )


def check_smiles(check: str, comps: dict) -> str:
    """SMILES of a case's checked structure: a compound key of the tables, else the field itself (a SMILES)."""
    return comps[check].smiles if check in comps else check


def generate(s: dict, outdir: Path, comps: dict) -> dict:
    """Write the sample's NMR (nmr/1) and LC-MS (ms.mzML) into `outdir`; return the generator's row."""
    from verify.samples.generate import generate_sample

    return generate_sample(sample_def(s), outdir, base_seed=0, comps=comps)


def top_reason(result) -> str:
    """The verdict's main reason: the first error finding, else the first warning, else ''."""
    fs = result.all_findings()
    for sev in ("error", "warning"):
        for f in fs:
            if f.severity == sev:
                return f"{f.code}: {f.message}"
    return ""


def run_case(case: dict, sample_dir: Path, solvent: str, comps: dict, modes=MODES) -> dict:
    """Check one case in each mode; verdict 'error' (with the message) when verify refuses the input."""
    from verify.errors import VerifyError
    from verify.pipeline import check_compound

    smi = check_smiles(case["check"], comps)
    out = {**case, "smiles": smi, "results": {}}
    for mode in modes:
        t = time.perf_counter()
        try:
            r = check_compound(
                smi,
                nmr=sample_dir / "nmr" / "1",
                ms=sample_dir / "ms.mzML" if mode == "nmr+ms" else None,
                solvent=solvent,
            )
            verdict, reason = r.verdict, top_reason(r)
            score = None if r.score is None else round(r.score.value, 3)
        except VerifyError as exc:
            verdict, reason, score = "error", str(exc), None
        called = CONSISTENT if verdict == "consistent" else (NOT_CONSISTENT if verdict != "error" else "error")
        out["results"][mode] = {
            "verdict": verdict,
            "score": score,
            "correct": called == case["truth"],
            "reason": reason,
            "seconds": round(time.perf_counter() - t, 2),
        }
    return out


def _sample_job(args) -> list[dict]:
    """Worker: generate one sample into a private temp folder, check its cases, remove the folder."""
    s, cases, tmp_root, modes = args
    comps = load_compounds()
    d = Path(tempfile.mkdtemp(prefix=s["name"][:40] + "-", dir=tmp_root))
    try:
        row = generate(s, d, comps)
        return [run_case(c, d, row["solvent"], comps, modes) for c in cases]
    finally:
        shutil.rmtree(d, ignore_errors=True)


def _init_worker() -> None:
    # one BLAS/torch thread per worker: the pool is the parallelism
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        pass


def select(cases: list[dict], patterns: list[str] | None) -> list[dict]:
    """Cases whose name, sample or category matches any shell pattern (all cases without patterns)."""
    if not patterns:
        return cases
    return [
        c for c in cases if any(fnmatch.fnmatchcase(c[k], p) for p in patterns for k in ("case", "sample", "category"))
    ]


def run(cases: list[dict], jobs: int = 2, modes=MODES, progress=None) -> list[dict]:
    """Every case, grouped by sample (one generation per sample), in a pool of `jobs` processes."""
    samples = load_samples()
    missing = sorted({c["sample"] for c in cases} - set(samples))
    if missing:
        raise ValueError(f"cases.tsv names samples not in samples.json: {', '.join(missing)}")
    by_sample: dict[str, list[dict]] = defaultdict(list)
    for c in cases:
        by_sample[c["sample"]].append(c)
    tmp_root = tempfile.mkdtemp(prefix="verify-bench-accuracy-")
    work = [(samples[name], cs, tmp_root, modes) for name, cs in by_sample.items()]
    out: list[dict] = []
    try:
        if jobs > 1:
            with ProcessPoolExecutor(jobs, initializer=_init_worker) as ex:
                for res in ex.map(_sample_job, work):
                    out.extend(res)
                    if progress:
                        progress(res)
        else:
            _init_worker()
            for w in work:
                res = _sample_job(w)
                out.extend(res)
                if progress:
                    progress(res)
    finally:
        shutil.rmtree(tmp_root, ignore_errors=True)
    order = {c["case"]: i for i, c in enumerate(cases)}
    return sorted(out, key=lambda r: order[r["case"]])


VERDICT_CLASSES = ("consistent", "suspicious", "inconsistent", "error")


def _median(xs: list[float]):
    xs = sorted(xs)
    if not xs:
        return None
    k = len(xs) // 2
    return xs[k] if len(xs) % 2 else (xs[k - 1] + xs[k]) / 2


def summarise(results: list[dict], modes=MODES) -> dict:
    """Per category and per mode: cases, correct, false negatives (true compounds not called consistent),
    false positives (wrong ones called consistent); per mode: sensitivity, specificity (None when a class is
    empty), the verdict classes each truth landed in, and the scores of each truth (min, median, max)."""
    cats: dict[str, dict] = {}
    for r in results:
        c = cats.setdefault(
            r["category"],
            {
                "n": 0,
                "n_consistent": 0,
                "n_not": 0,
                **{m: 0 for m in modes},
                **{f"{m} fn": 0 for m in modes},
                **{f"{m} fp": 0 for m in modes},
            },
        )
        c["n"] += 1
        c["n_consistent" if r["truth"] == CONSISTENT else "n_not"] += 1
        for m in modes:
            ok = bool(r["results"][m]["correct"])
            c[m] += ok
            if not ok:
                c[f"{m} {'fn' if r['truth'] == CONSISTENT else 'fp'}"] += 1
    overall = {}
    for m in modes:
        pos = [r for r in results if r["truth"] == CONSISTENT]
        neg = [r for r in results if r["truth"] == NOT_CONSISTENT]
        tp = sum(r["results"][m]["correct"] for r in pos)
        tn = sum(r["results"][m]["correct"] for r in neg)
        classes = {
            truth: {v: sum(r["results"][m]["verdict"] == v for r in rs) for v in VERDICT_CLASSES}
            for truth, rs in ((CONSISTENT, pos), (NOT_CONSISTENT, neg))
        }
        scores = {}
        for truth, rs in ((CONSISTENT, pos), (NOT_CONSISTENT, neg)):
            xs = [r["results"][m]["score"] for r in rs if r["results"][m].get("score") is not None]
            scores[truth] = {"min": min(xs) if xs else None, "median": _median(xs), "max": max(xs) if xs else None}
        overall[m] = {
            "sensitivity": tp / len(pos) if pos else None,
            "specificity": tn / len(neg) if neg else None,
            "true_called_consistent": tp,
            "n_true": len(pos),
            "wrong_called_not_consistent": tn,
            "n_wrong": len(neg),
            "classes": classes,
            "scores": scores,
        }
    return {"categories": cats, "overall": overall}


def report(results: list[dict], modes=MODES, file=sys.stdout) -> dict:
    s = summarise(results, modes)
    p = lambda *a: print(*a, file=file)  # noqa: E731
    p(
        f"\n{'category':<16}{'cases':>6}{'true':>6}{'wrong':>6}"
        + "".join(f"{m + ' ok':>11}{'FN':>4}{'FP':>4}" for m in modes)
    )
    for cat, c in s["categories"].items():
        p(
            f"{cat:<16}{c['n']:>6}{c['n_consistent']:>6}{c['n_not']:>6}"
            + "".join(f"{c[m]:>11}{c[m + ' fn']:>4}{c[m + ' fp']:>4}" for m in modes)
        )
    p("")
    for m in modes:
        o = s["overall"][m]
        fmt = lambda x: "n/a" if x is None else f"{x:.3f}"  # noqa: E731
        p(
            f"{m:<7} sensitivity {fmt(o['sensitivity'])} ({o['true_called_consistent']}/{o['n_true']})   "
            f"specificity {fmt(o['specificity'])} ({o['wrong_called_not_consistent']}/{o['n_wrong']})"
        )
    p("")
    for m in modes:
        o = s["overall"][m]
        sc = lambda x: "n/a" if x is None else f"{x:.3f}"  # noqa: E731
        for truth in (CONSISTENT, NOT_CONSISTENT):
            k, q = o["classes"][truth], o["scores"][truth]
            p(
                f"{m:<7} truth {truth:<15} called "
                + ", ".join(f"{v} {k[v]}" for v in VERDICT_CLASSES)
                + f"; score min {sc(q['min'])} median {sc(q['median'])} max {sc(q['max'])}"
            )
    for m in modes:
        bad = [r for r in results if not r["results"][m]["correct"]]
        p(f"\nmisclassified ({m}): {len(bad)}")
        for r in bad:
            res = r["results"][m]
            p(f"  {r['case']:<58} truth {r['truth']:<15} got {res['verdict']:<13} {res['reason'][:160]}")
    return s


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", nargs="+", metavar="NAME", help="shell patterns of case, sample or category names")
    ap.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    ap.add_argument("--json", metavar="OUT", help="write every case's verdicts and the summary as JSON")
    ap.add_argument("--nmr-only", action="store_true", help="run only the NMR-only mode")
    a = ap.parse_args(argv)
    cases = select(load_cases(), a.only)
    if not cases:
        print(f"no case matches {a.only}", file=sys.stderr)
        return 64
    modes = ("nmr",) if a.nmr_only else MODES
    n_samples = len({c["sample"] for c in cases})
    print(f"{len(cases)} cases from {n_samples} samples, modes {', '.join(modes)}, {a.jobs} job(s)")
    t0 = time.time()
    done = [0]

    def progress(res):
        done[0] += len(res)
        for r in res:
            marks = " ".join(
                f"{m}={r['results'][m]['verdict']}{'' if r['results'][m]['correct'] else '(x)'}" for m in modes
            )
            print(f"  [{done[0]:>3}/{len(cases)}] {r['case']:<58} {marks}", flush=True)

    results = run(cases, a.jobs, modes, progress)
    summary = report(results, modes)
    print(f"\n{len(cases)} cases in {time.time() - t0:.0f} s")
    if a.json:
        Path(a.json).write_text(json.dumps({"summary": summary, "cases": results}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
