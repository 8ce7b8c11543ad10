"""Bench: automatic phase correction against the known phases of simulated spectra.

    python bench/phase_accuracy.py                    # 80 generated spectra (temp dir, not timed)
    python bench/phase_accuracy.py -n 100 --seed 7
    python bench/phase_accuracy.py --plate DIR        # the wells of a demo plate (`verify-samples plate DIR`)
    python bench/phase_accuracy.py --dir DIR          # reuse spectra generated earlier (kept with --keep)

Each simulated sample (verify.samples) carries in truth.json the zero- and first-order phases (p0, p1,
nmrglue's `ps` convention: phase = p0 + p1 * i/N, pivot at the first point = the high-frequency edge)
that put its spectrum back in absorption after fft -> remove_digital_filter(truncate=False) -> rev,
the same chain `verify.nmr.process` runs (zero-filling and line broadening do not change the phases).
The generator draws a spectrometer phase error p0 uniform in +-180 degrees, p1 in +-40 degrees and a
baseline distortion per sample.

Reported per spectrum and summarised (median, 95th percentile, max of the absolute values):
  * p0 error: found - truth, wrapped into (-180, 180] (p0 is only defined modulo 360);
  * p1 error: found - truth (not wrapped: a p1 of 360 degrees is a one-point time shift, not nothing);
  * line error: the largest phase error over the points that carry the spectrum's lines
    (|dp0 + dp1 * i/N| wrapped, for every i where a line of the truth spectrum is, pivot-independent):
    what the chemist sees. p0 alone also carries a wrong p1 times its pivot distance.
A spectrum whose line error exceeds 90 degrees has (some) lines upside down; over 20 degrees the
integrals suffer visibly.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

BAD_DEG = 20.0  # line error above which integrals visibly suffer (dispersive admixture ~ sin(20) = 34 %)
INVERTED_DEG = 90.0  # line error above which lines point downwards


def _wrap(a):
    return (np.asarray(a, float) + 180.0) % 360.0 - 180.0


def _generate(outdir: Path, n: int, seed: int, workers: int) -> list[Path]:
    from verify.samples.catalog import GOOD, PLATE_ONLY
    from verify.samples.generate import SampleDef

    keys = [k for k, _, _ in GOOD + PLATE_ONLY]
    defs = [SampleDef(f"phase_{seed}_{i:03d}", keys[i % len(keys)]) for i in range(n)]
    jobs = [(d, str(outdir / d.name), seed) for d in defs]
    with ProcessPoolExecutor(workers) as ex:
        list(ex.map(_gen_one, jobs, chunksize=2))
    return [outdir / d.name for d in defs]


def _gen_one(job):
    from verify.samples.generate import generate_sample

    d, out, seed = job
    warnings.simplefilter("ignore")
    generate_sample(d, out, seed, write_smi=False)


def _line_points(truth: dict, si: int, sw: float, carrier_ppm: float, sf: float) -> np.ndarray:
    """Fractional positions i/N (processing order: high -> low frequency) of the truth's lines."""
    pp = np.array([c["ppm"] for c in truth["nmr"]["components"]])
    # processing order: index 0 is the high-frequency edge; ppm = carrier + (sw/2 - i*sw/si)/sf
    return np.clip((sw / 2.0 - (pp - carrier_ppm) * sf) / sw, 0.0, 1.0)


def _measure(sample_dir: str) -> dict:
    from verify.nmr.process import process
    from verify.nmr.read import read_nmr

    warnings.simplefilter("ignore")
    from verify.errors import InputError

    d = Path(sample_dir)
    truth = json.loads((d / "truth.json").read_text())
    try:
        raw = read_nmr(d / "nmr" / "1")
    except InputError as e:  # a demo plate's deliberately broken wells (truncated fid, ...)
        return {"sample": d.name, "unreadable": str(e)}
    t0 = time.perf_counter()
    spec = process(raw)
    ms = (time.perf_counter() - t0) * 1e3
    pr = spec.processing
    f0, f1 = pr["phase0_deg"], pr["phase1_deg"]
    t0_, t1_ = truth["nmr"]["p0"], truth["nmr"]["p1"]
    dp0 = float(_wrap(f0 - t0_))
    dp1 = float(f1 - t1_)
    x = _line_points(truth, pr["zero_filled_to"], float(raw.sw_hz), float(raw.carrier_ppm), float(raw.sf_mhz))
    line = float(np.max(np.abs(_wrap(dp0 + dp1 * x))))
    chk = pr.get("phase_check", {})
    return {
        "sample": d.name,
        "truth_p0": t0_,
        "truth_p1": t1_,
        "found_p0": f0,
        "found_p1": f1,
        "dp0": dp0,
        "dp1": dp1,
        "line": line,
        "neg": chk.get("neg_fraction"),
        "ms": ms,
        "chosen": chk.get("second_opinion", {}).get("chosen", ""),
    }


def _stats(v):
    a = np.abs(np.asarray(v, float))
    return float(np.median(a)), float(np.percentile(a, 95)), float(a.max())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=80, help="spectra to generate (default 80)")
    ap.add_argument("--seed", type=int, default=11, help="base seed of the generated set")
    ap.add_argument("--plate", help="demo plate folder: measure its wells (those with nmr/1 and truth.json)")
    ap.add_argument("--dir", help="folder of samples generated earlier (each with nmr/1 and truth.json)")
    ap.add_argument("--keep", help="generate into this folder and keep it")
    ap.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--json", help="write the per-spectrum rows here")
    ap.add_argument("-v", "--verbose", action="store_true", help="one line per spectrum")
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")

    if args.plate:
        dirs = sorted(
            p.parent for p in Path(args.plate).glob("wells/*/truth.json") if (p.parent / "nmr" / "1" / "fid").exists()
        )
    elif args.dir:
        dirs = sorted(p.parent for p in Path(args.dir).glob("*/truth.json"))
    else:
        out = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="verify_phase_"))
        out.mkdir(parents=True, exist_ok=True)
        print(f"generating {args.n} spectra in {out} (not timed) ...", flush=True)
        dirs = _generate(out, args.n, args.seed, args.workers)
    if not dirs:
        print("no spectra found", file=sys.stderr)
        return 1
    with ProcessPoolExecutor(args.workers) as ex:
        rows = list(ex.map(_measure, [str(d) for d in dirs], chunksize=2))
    skipped = [r for r in rows if "unreadable" in r]
    rows = [r for r in rows if "unreadable" not in r]
    for r in skipped:
        print(f"skipped {r['sample']}: {r['unreadable'][:120]}")
    if not rows:
        print("no readable spectra", file=sys.stderr)
        return 1

    if args.verbose:
        print(
            f"{'sample':28s} {'truth p0':>9s} {'p1':>8s} {'found p0':>9s} {'p1':>8s} {'dp0':>7s} {'dp1':>7s} "
            f"{'line':>6s} {'neg':>6s}  chosen"
        )
        for r in sorted(rows, key=lambda r: -r["line"]):
            print(
                f"{r['sample'][:28]:28s} {r['truth_p0']:9.1f} {r['truth_p1']:8.1f} {r['found_p0']:9.1f} "
                f"{r['found_p1']:8.1f} {r['dp0']:7.1f} {r['dp1']:7.1f} {r['line']:6.1f} {r['neg']:6.3f}  {r['chosen']}"
            )
    print(f"spectra: {len(rows)}")
    for key, label in (
        ("dp0", "p0 error (wrapped, pivot at the first point)"),
        ("dp1", "p1 error"),
        ("line", "largest phase error at the lines"),
    ):
        med, p95, mx = _stats([r[key] for r in rows])
        print(f"  {label:46s} median {med:6.2f}  95th pct {p95:6.2f}  max {mx:6.2f} deg")
    nbad = sum(r["line"] > BAD_DEG for r in rows)
    ninv = sum(r["line"] > INVERTED_DEG for r in rows)
    print(f"  line error > {BAD_DEG:.0f} deg: {nbad}   > {INVERTED_DEG:.0f} deg (lines inverted): {ninv}")
    worst = sorted(rows, key=lambda r: -r["line"])[:5]
    print("  worst: " + ", ".join(f"{r['sample']} {r['line']:.0f}" for r in worst))
    print(
        f"  process() median {statistics.median(r['ms'] for r in rows):.0f} ms per spectrum "
        f"({args.workers} in parallel)"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
