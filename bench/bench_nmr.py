"""Time read + process + compare of every 1H spectrum: sample_spectra/*/nmr and the real data (../shared/realdata).

Interpreter start and imports are excluded (everything is imported and one spectrum processed before
timing). Each spectrum is loaded `--repeat` times; the table gives the median per spectrum, split into
read (vendor file -> RawFID), process (FT, phase, baseline, referencing) and compare (peaks, multiplets,
expectation from the structure, assignment, verdict: verify.nmr.check.check_spectrum against the sample's
compound.smi or the manifest SMILES), with the zero-filled size.
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


def _datasets(realdata: Path) -> list[tuple[str, Path, str]]:
    """(name, path, SMILES of the structure it is checked against)."""
    out = [
        (f"sample:{Path(d).parent.name}", Path(d), (Path(d).parent / "compound.smi").read_text().split()[0])
        for d in sorted(glob.glob(str(ROOT / "sample_spectra/*/nmr")))
    ]
    man = realdata / "MANIFEST.tsv"
    if man.is_file():
        with open(man, newline="") as fh:
            for r in csv.DictReader((ln for ln in fh if not ln.startswith("#")), delimiter="\t"):
                if r["kind"] == "nmr":
                    out.append((f"real:{r['path'][4:]}", realdata / r["path"], r["smiles"]))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--realdata", default=os.environ.get("VERIFY_REALDATA", str(ROOT.parent / "shared" / "realdata")))
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")

    from verify.nmr.check import check_spectrum
    from verify.nmr.process import process
    from verify.nmr.read import read_nmr
    from verify.nmr.spectrum import Spectrum1D
    from verify.structure.target import read_target

    sets = _datasets(Path(args.realdata))
    if not sets:
        print("no spectra found", file=sys.stderr)
        return 1
    # warm-up: imports, pybaselines/scipy internals, FFT plans
    w = read_nmr(sets[0][1])
    check_spectrum(w if isinstance(w, Spectrum1D) else process(w), read_target(sets[0][2]))

    rows = []
    for name, path, smiles in sets:
        target = read_target(smiles)
        tr, tp, tc, steps = [], [], [], []
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
            check_spectrum(spec, target)
            t3 = time.perf_counter()
            tr.append((t1 - t0) * 1e3)
            tp.append((t2 - t1) * 1e3)
            tc.append((t3 - t2) * 1e3)
            steps.append(spec.processing.get("timing_ms", {}))
            size = spec.ppm.size
        r, p, c = statistics.median(tr), statistics.median(tp), statistics.median(tc)
        last = steps[-1]
        rows.append((name, size, r, p, c, r + p + c, last))

    print(
        f"{'spectrum':52s} {'points':>7s} {'read ms':>8s} {'proc ms':>8s} {'cmp ms':>7s} {'total':>7s}  "
        "process steps (ms, last run)"
    )
    for name, size, r, p, c, tot, st in rows:
        s = " ".join(f"{k}={v:.0f}" for k, v in st.items() if k != "read")
        print(f"{name[:52]:52s} {size:7d} {r:8.1f} {p:8.1f} {c:7.1f} {tot:7.1f}  {s}")
    tots = [x[5] for x in rows]
    k64 = [x for x in rows if x[1] == 65536]
    print()
    print(
        f"spectra: {len(rows)}   median read+process+compare: {statistics.median(tots):.1f} ms   "
        f"max: {max(tots):.1f} ms"
    )
    if k64:
        print(
            f"64k-point spectra: {len(k64)}   median read+process: {statistics.median([x[2] + x[3] for x in k64]):.1f} ms"
            f"   + compare: {statistics.median([x[5] for x in k64]):.1f} ms   "
            f"(process only {statistics.median([x[3] for x in k64]):.1f}, compare only "
            f"{statistics.median([x[4] for x in k64]):.1f})   target < 100 ms"
        )
    print(f"(median of {args.repeat} runs each; interpreter start and imports excluded; {os.cpu_count()} CPUs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
