"""Time read + process of every 1H spectrum: sample_spectra/*/nmr and the real data (../shared/realdata).

Interpreter start and imports are excluded (everything is imported and one spectrum processed before
timing). Each spectrum is loaded `--repeat` times; the table gives the median per spectrum, split into
read (vendor file -> RawFID) and process (FT, phase, baseline, referencing), with the zero-filled size.
Target (issue 4): under 100 ms per 64k-point spectrum on the 2-core machine.

    python bench/bench_nmr.py [--repeat 3] [--realdata PATH]
"""

from __future__ import annotations

import argparse
import csv
import glob
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _datasets(realdata: Path) -> list[tuple[str, Path]]:
    out = [(f"sample:{Path(d).parent.name}", Path(d)) for d in sorted(glob.glob(str(ROOT / "sample_spectra/*/nmr")))]
    man = realdata / "MANIFEST.tsv"
    if man.is_file():
        with open(man, newline="") as fh:
            for r in csv.DictReader(fh, delimiter="\t"):
                if r["kind"] == "nmr":
                    out.append((f"real:{r['path'][4:]}", realdata / r["path"]))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--realdata", default=os.environ.get("VERIFY_REALDATA", str(ROOT.parent / "shared" / "realdata")))
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")

    from verify.nmr.process import process
    from verify.nmr.read import read_nmr
    from verify.nmr.spectrum import Spectrum1D

    sets = _datasets(Path(args.realdata))
    if not sets:
        print("no spectra found", file=sys.stderr)
        return 1
    # warm-up: imports, pybaselines/scipy internals, FFT plans
    w = read_nmr(sets[0][1])
    if not isinstance(w, Spectrum1D):
        process(w)

    rows = []
    for name, path in sets:
        tr, tp, steps = [], [], []
        size = 0
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            obj = read_nmr(path)
            t1 = time.perf_counter()
            if isinstance(obj, Spectrum1D):
                spec = obj
            else:
                spec = process(obj)
            t2 = time.perf_counter()
            tr.append((t1 - t0) * 1e3)
            tp.append((t2 - t1) * 1e3)
            steps.append(spec.processing.get("timing_ms", {}))
            size = spec.ppm.size
        r, p = statistics.median(tr), statistics.median(tp)
        last = steps[-1]
        rows.append((name, size, r, p, r + p, last))

    print(f"{'spectrum':52s} {'points':>7s} {'read ms':>8s} {'proc ms':>8s} {'total':>7s}  steps (ms, last run)")
    for name, size, r, p, tot, st in rows:
        s = " ".join(f"{k}={v:.0f}" for k, v in st.items() if k != "read")
        print(f"{name[:52]:52s} {size:7d} {r:8.1f} {p:8.1f} {tot:7.1f}  {s}")
    tots = [x[4] for x in rows]
    k64 = [x[4] for x in rows if x[1] == 65536]
    proc64 = [x[3] for x in rows if x[1] == 65536]
    print()
    print(f"spectra: {len(rows)}   median read+process: {statistics.median(tots):.1f} ms   "
          f"max: {max(tots):.1f} ms")
    if k64:
        print(f"64k-point spectra: {len(k64)}   median read+process: {statistics.median(k64):.1f} ms   "
              f"median process only: {statistics.median(proc64):.1f} ms   target < 100 ms")
    print(f"(median of {args.repeat} runs each; interpreter start and imports excluded; "
          f"{os.cpu_count()} CPUs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
