"""Bench: the 96-well demo plate end to end (checks + report), wells/s and peak memory.

    python bench/bench_plate.py                 # generates the demo plate in a temp dir first (not timed)
    python bench/bench_plate.py --plate DIR     # an existing `verify-samples plate DIR`
    python bench/bench_plate.py --workers 2
    python bench/bench_plate.py --wells 96,384  # both demo plates: seconds per well side by side (linearity)

Runs `verify plate DIR/plate.csv -o REPORT --force` as a child process and measures:
  * wall time of the whole command (map, parallel checks, figures, results store, results.json/csv,
    index.html) and wells/s;
  * peak memory: resource.getrusage(RUSAGE_CHILDREN).ru_maxrss (the largest single process among the
    command and its workers) and the peak of the summed RSS of the whole process tree, sampled every
    0.1 s from /proc (what the machine actually had to hold);
  * where the time went (per-well check vs figure/report rendering, from the results store);
  * a second run with nothing changed (every well skipped, report rebuilt from the store);
  * the verdicts against the plate's truth.csv.
Targets: 96 wells in under 60 s on 2 cores, under 1 GB.
"""

from __future__ import annotations

import argparse
import collections
import csv
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

TARGET_S = 60.0
TARGET_MB = 1024.0


def _pss_kb(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def _tree_mem_mb(root: int) -> tuple[float, float]:
    """(summed RSS, summed PSS) in MB of `root` and all its descendants, from /proc. RSS counts the
    pages forked workers share with the parent once per process; PSS splits them fairly."""
    children: dict[int, list[int]] = collections.defaultdict(list)
    rss: dict[int, int] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as fh:
                parts = fh.read().rsplit(")", 1)[1].split()
            ppid = int(parts[1])
            rss[int(d)] = int(parts[21]) * os.sysconf("SC_PAGE_SIZE")
            children[ppid].append(int(d))
        except (OSError, IndexError, ValueError):
            continue
    total_rss, total_pss, stack = 0, 0, [root]
    while stack:
        p = stack.pop()
        total_rss += rss.get(p, 0)
        pss = _pss_kb(p)
        total_pss += pss * 1024 if pss is not None else rss.get(p, 0)
        stack.extend(children.get(p, []))
    return total_rss / 2**20, total_pss / 2**20


def run_plate(cmd: list[str]) -> tuple[float, tuple[float, float], subprocess.CompletedProcess]:
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = [0.0, 0.0]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            r, p = _tree_mem_mb(proc.pid)
            peak[0], peak[1] = max(peak[0], r), max(peak[1], p)
            stop.wait(0.1)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    out, err = proc.communicate()
    stop.set()
    th.join()
    wall = time.perf_counter() - t0
    return wall, (peak[0], peak[1]), subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def bench_one(plate: Path, report: Path, workers: int | None) -> dict | None:
    """Run one plate end to end (forced), print its figures; the figures as a dict, None on failure."""
    cmd = [sys.executable, "-m", "verify", "plate", str(plate / "plate.csv"), "-o", str(report), "--force"]
    if workers:
        cmd += ["--workers", str(workers)]

    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall, (tree_rss, tree_pss), r = run_plate(cmd)
    if r.returncode != 0:
        print(r.stdout, r.stderr, sep="\n")
        print(f"verify plate exited {r.returncode}")
        return None
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    maxrss_mb = ru.ru_maxrss / 1024.0  # kB on Linux (the largest child so far, over every run)
    data = json.loads((report / "results.json").read_text())
    n = len(data["wells"])
    print(r.stdout.strip().splitlines()[0])
    print(f"cores: {len(os.sched_getaffinity(0))}, workers: {data['plate'].get('workers')}")
    print(
        f"plate: {n} wells in {wall:.1f} s wall (end to end, report included) = {n / wall:.2f} wells/s"
        f"   [target < {TARGET_S:.0f} s for 96: {'PASS' if wall < TARGET_S else 'FAIL'}]"
    )
    cpu = (ru.ru_utime + ru.ru_stime) - (ru0.ru_utime + ru0.ru_stime)
    print(
        f"CPU (command and its workers): {cpu:.1f} s; load average now {os.getloadavg()[0]:.1f} "
        f"(other work on the machine slows the wall time)"
    )
    print(
        f"peak memory: largest single process {maxrss_mb:.0f} MB (getrusage RUSAGE_CHILDREN ru_maxrss); "
        f"whole process tree {tree_pss:.0f} MB PSS / {tree_rss:.0f} MB summed RSS (sampled every 0.1 s)"
        f"   [target < {TARGET_MB:.0f} MB: {'PASS' if max(maxrss_mb, tree_pss) < TARGET_MB else 'FAIL'}]"
    )

    con = sqlite3.connect(report / "results.sqlite")
    metas = [json.loads(m) for (m,) in con.execute("SELECT record_json FROM wells")]
    con.close()
    chk = [m["check_s"] for m in metas if m.get("check_s") is not None]
    ren = [m["render_s"] for m in metas if m.get("render_s") is not None]
    if chk:
        print(
            f"per well (in the workers): check {sum(chk) / len(chk):.2f} s mean, figures+report section "
            f"{sum(ren) / max(1, len(ren)):.2f} s mean; sums {sum(chk):.1f} s + {sum(ren):.1f} s"
        )
    sizes = {p.name: p.stat().st_size / 2**20 for p in report.iterdir() if p.is_file()}
    pages = list((report / "wells").glob("*.html"))
    if pages:
        sizes[f"wells/ ({len(pages)} pages)"] = sum(p.stat().st_size for p in pages) / 2**20
    print("outputs: " + ", ".join(f"{k} {v:.2f} MB" for k, v in sorted(sizes.items())))

    cmd2 = [c for c in cmd if c != "--force"]
    wall2, _, r2 = run_plate(cmd2)
    print(
        f"second run, nothing changed: {wall2:.1f} s ({r2.stdout.strip().splitlines()[0] if r2.stdout else r2.stderr})"
    )

    truth_p = plate / "truth.csv"
    if truth_p.exists():

        def key(w):
            return (w[0], int(w[1:]))

        truth = {key(t["well"]): t for t in csv.DictReader(truth_p.open())}
        got = {key(w["well"]): w["verdict"] for w in data["wells"]}
        conf = collections.Counter((truth[k]["expected_verdict"], got.get(k, "absent")) for k in truth)
        agree = sum(v for (a, b), v in conf.items() if a == b)
        print(f"verdicts vs truth.csv: {agree}/{len(truth)} agree")
        for (a, b), v in sorted(conf.items()):
            print(f"  truth {a:<13} -> {b:<13} {v}")
    print(f"report: {report / 'index.html'}")
    return {"wells": n, "wall_s": wall, "tree_pss_mb": tree_pss, "index_mb": sizes.get("index.html", 0.0)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--plate", help="demo plate folder (with plate.csv, truth.csv); generated if absent")
    ap.add_argument(
        "--wells",
        default="96",
        help="plate sizes to generate and run, comma-separated (96, 384; default 96): with two, "
        "seconds per well are compared (linearity)",
    )
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--out", help="report folder (default: a temp dir)")
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="verify_bench_")
    sizes = [int(x) for x in args.wells.split(",") if x.strip()]
    results = []
    for size in [0] if args.plate else sizes:
        plate = Path(args.plate) if args.plate else Path(tmp) / f"plate{size}"
        if not (plate / "plate.csv").exists():
            print(f"generating the {size}-well demo plate in {plate} (not timed) ...", flush=True)
            subprocess.run(
                [sys.executable, "-m", "verify.samples", "plate", str(plate), "--wells", str(size)], check=True
            )
        report = Path(args.out) / plate.name if args.out else Path(tmp) / f"report{size}"
        print(f"\n== {plate}")
        got = bench_one(plate, report, args.workers)
        if got is None:
            return 1
        results.append(got)
    if len(results) > 1:
        print("\nsize   wells/s   s per well   peak tree PSS   index.html")
        for g in results:
            print(
                f"{g['wells']:>4}   {g['wells'] / g['wall_s']:7.2f}   {g['wall_s'] / g['wells']:10.3f}   "
                f"{g['tree_pss_mb']:10.0f} MB   {g['index_mb']:7.2f} MB"
            )
        per = [g["wall_s"] / g["wells"] for g in results]
        spread = max(per) / min(per) - 1
        print(
            f"linearity: seconds per well differ by {100 * spread:.0f} % between sizes "
            f"[target within 20 %: {'PASS' if spread <= 0.20 else 'FAIL'}]"
        )
    for g in results:
        if g["wells"] >= 384:
            ok = g["wall_s"] <= 40 and g["tree_pss_mb"] <= TARGET_MB
            print(
                f"{g['wells']} wells: {g['wall_s']:.1f} s, {g['tree_pss_mb']:.0f} MB "
                f"[target <= 40 s and <= {TARGET_MB:.0f} MB: {'PASS' if ok else 'FAIL'}]"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
