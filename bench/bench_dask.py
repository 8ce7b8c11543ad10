"""Bench: three 96-well demo plates through the local process pool and through a local Dask cluster.

    python bench/bench_dask.py                  # generates three demo plates (seeds 1-3) first, not timed
    python bench/bench_dask.py --workers 2 --plates 3

Runs `verify plate A B C --force` twice as a child process, in one call each: with the local process pool
(`--workers N`), then with `--scheduler` pointing at a `distributed.LocalCluster` of N single-threaded worker
processes started here (its start-up is not timed: a cluster is normally up already). Prints wells per second
for both side by side and whether every well's record is the same (verdict, status, error, finding codes and
peak table), plate by plate. Needs the dask extra (`pip install -e ".[dask]"`).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def records(report: Path) -> dict[str, tuple]:
    out = {}
    for w in json.loads((report / "results.json").read_text())["wells"]:
        res = w.get("result") or {}
        nmr = res.get("nmr") or {}
        out[w["well"]] = (
            w["verdict"],
            w.get("status"),
            w.get("error"),
            tuple(f["code"] for f in res.get("findings", [])),
            tuple((p["ppm"], p["integral"], p["status"]) for p in nmr.get("peaks", [])),
        )
    return out


def run(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        print(r.stdout, r.stderr, sep="\n")
        raise SystemExit(f"{' '.join(cmd[:4])} ... exited {r.returncode}")
    return wall


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--plates", type=int, default=3)
    ap.add_argument("--dir", help="folder for the plates and reports (default: a temp dir)")
    args = ap.parse_args()
    try:
        from distributed import LocalCluster
    except ImportError:
        print('needs the dask extra: pip install -e ".[dask]"')
        return 1
    base = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="verify_bench_dask_"))
    maps = []
    for k in range(1, args.plates + 1):
        folder = base / f"plate{k}"
        if not (folder / "plate.csv").exists():
            print(f"generating demo plate {k} (seed {k}) in {folder} (not timed) ...", flush=True)
            subprocess.run(
                [sys.executable, "-m", "verify.samples", "plate", str(folder), "--seed", str(k)],
                check=True,
                capture_output=True,
            )
        named = folder / f"plate{k}.csv"  # distinct map names: one report folder each
        named.write_text((folder / "plate.csv").read_text())
        maps.append(named)
    n_wells = sum(len(named.read_text().splitlines()) - 1 for named in maps)

    verify = [sys.executable, "-m", "verify", "plate", *map(str, maps), "--force", "-q"]
    pool_s = run(verify + ["-o", str(base / "pool"), "--workers", str(args.workers)])
    with LocalCluster(
        n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40
    ) as cluster:
        dask_s = run(verify + ["-o", str(base / "dask"), "--scheduler", cluster.scheduler_address])

    print(f"{len(maps)} plates, {n_wells} wells, {args.workers} workers")
    print(f"  process pool:          {pool_s:6.1f} s   {n_wells / pool_s:5.2f} wells/s")
    print(
        f"  Dask LocalCluster:     {dask_s:6.1f} s   {n_wells / dask_s:5.2f} wells/s   "
        f"({dask_s / pool_s:.2f}x the pool's time)"
    )
    same_all = True
    for named in maps:
        a = records(base / "pool" / f"{named.stem}_report")
        b = records(base / "dask" / f"{named.stem}_report")
        diff = sorted(w for w in a.keys() | b.keys() if a.get(w) != b.get(w))
        same_all &= not diff
        print(f"  {named.stem}: {len(a)} wells, records identical: {'yes' if not diff else 'NO: ' + ', '.join(diff)}")
    print(f"results identical across both paths: {'PASS' if same_all else 'FAIL'}")
    return 0 if same_all else 1


if __name__ == "__main__":
    sys.exit(main())
