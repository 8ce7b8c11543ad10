"""One compound through the whole command, against the bare start-up of Python with the declared stack.

Runs, alternately and `--repeats` times each, as separate processes:

* the import floor: ``python -c "import numpy, rdkit.Chem, nmrglue, pyteomics.mzml, scipy.signal"``;
* ``verify TARGET --nmr NMR --ms MS`` with a warm prediction cache (one untimed run first fills it; the learned
  model is then not loaded, its predictions are read from the cache);
* the same with the rule windows only (``VERIFY_SHIFT_MODEL=rules``);

and prints the median and the spread of each and the medians' differences from the floor (issue goal: at most
0.25 s beyond the floor). Alternating the runs spreads the machine's background load over all three.

    python bench/bench_cli.py [--sample DIR] [--repeats N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FLOOR = "import numpy, rdkit.Chem, nmrglue, pyteomics.mzml, scipy.signal"


def _time(cmd: list[str], env: dict) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--sample",
        type=Path,
        default=ROOT / "sample_spectra" / "boc_benzyl_diazepane",
        help="a sample folder with compound.smi, nmr/ and ms.mzML (default: the headline sample)",
    )
    ap.add_argument("--repeats", type=int, default=7, help="timed runs of each command (default 7)")
    args = ap.parse_args(argv)
    s = args.sample
    verify_cmd = [
        sys.executable,
        "-m",
        "verify",
        str(s / "compound.smi"),
        "--nmr",
        str(s / "nmr"),
        "--ms",
        str(s / "ms.mzML"),
    ]
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "VERIFY_CACHE_DIR": cache, "PYTHONPATH": str(ROOT / "src")}
        rules_env = {**env, "VERIFY_SHIFT_MODEL": "rules"}
        cold = _time(verify_cmd, env)  # fills the cache (model loaded once)
        runs: dict[str, list[float]] = {"import floor": [], "verify, warm cache": [], "verify, rules only": []}
        for _ in range(args.repeats):
            runs["import floor"].append(_time([sys.executable, "-c", FLOOR], env))
            runs["verify, warm cache"].append(_time(verify_cmd, env))
            runs["verify, rules only"].append(_time(verify_cmd, rules_env))
    floor = statistics.median(runs["import floor"])
    print(f"bench_cli: {s.name}, {args.repeats} runs each (first run, empty cache: {cold:.2f} s)")
    print(f"  {'command':<22} {'median s':>9} {'min s':>7} {'max s':>7} {'beyond floor s':>15}")
    for name, ts in runs.items():
        med = statistics.median(ts)
        extra = "" if name == "import floor" else f"{med - floor:+.2f}"
        print(f"  {name:<22} {med:>9.2f} {min(ts):>7.2f} {max(ts):>7.2f} {extra:>15}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
