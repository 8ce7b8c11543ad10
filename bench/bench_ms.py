"""HRMS bench: mzML read throughput and time to verify one compound, side by side.

    python bench/bench_ms.py [--scans 600] [--peaks 2000] [--repeat 3] [--keep]

Readers compared in one process, on the same files:
  * verify.ms.read.read_run (lxml iterparse over pyteomics' MzML reader, lean per-spectrum extraction,
    pyteomics binary decoding, profile centroiding), and the same with pyteomics' own `iterfind`;
  * pyteomics' plain iteration (`pyteomics.mzml.MzML`, every cvParam converted, psims CV loaded);
  * pyopenms `MzMLFile().load` when importable (also looked for in /tmp/pyopenms_pkg, where
    `pip install --target /tmp/pyopenms_pkg pyopenms` puts it; never a project dependency).
Files: a generated 600-scan centroid LC-MS run (psims, written to /tmp), the sample runs
(sample_spectra/*/ms.mzML) and the real runs (../shared/realdata/ms) when present.
Then: time of `check_ms` for one compound in the generated run (interpreter start and imports
excluded; first call and warm calls). Target: < 0.5 s.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
TARGET = "CC(C)(C)OC(=O)N1CCCN(Cc2ccccc2)CC1"  # Boc-benzyl-diazepane


def generate_run(path: Path, n_scans: int, n_peaks: int, seed: int = 1) -> Path:
    """A realistic-density centroid LC-MS run: the target's [M+H]+ envelope eluting at 300 s, 20 other
    components, 30 constant background ions and `n_peaks` random noise centroids per scan."""
    from psims.mzml.writer import MzMLWriter

    from verify.expectation import build_expectation
    from verify.structure.target import read_target

    exp = build_expectation(read_target(TARGET))
    mh = next(i for i in exp.ions if i.name == "[M+H]+")
    rng = np.random.default_rng(seed)
    comps = [([(mz, rel) for _o, mz, rel in mh.isotopes], 300.0, 4.0, 2e6)]
    for _k in range(20):
        m = rng.uniform(150, 900)
        comps.append(
            (
                [(m, 1.0), (m + 1.00335, 0.15), (m + 2.0067, 0.02)],
                rng.uniform(20, 580),
                rng.uniform(3, 6),
                rng.uniform(1e5, 2e6),
            )
        )
    bg = [(rng.uniform(100, 1000), rng.uniform(1e4, 3e5)) for _ in range(30)]
    rts = np.linspace(0, 600, n_scans)
    with MzMLWriter(open(path, "wb"), close=True) as out:
        out.controlled_vocabularies()
        out.file_description(["MS1 spectrum", "centroid spectrum"])
        out.software_list([{"id": "psims-writer", "version": "1", "params": ["python-psims"]}])
        out.instrument_configuration_list([out.InstrumentConfiguration(id="IC1", component_list=[], params=["Q-Tof"])])
        out.data_processing_list(
            [
                out.DataProcessing(
                    [out.ProcessingMethod(order=1, software_reference="psims-writer", params=["Conversion to mzML"])],
                    id="DP1",
                )
            ]
        )
        with out.run(id="bench", instrument_configuration="IC1"):
            with out.spectrum_list(count=n_scans):
                for s, rt in enumerate(rts):
                    mzs = list(rng.uniform(100, 1000, n_peaks))
                    its = list(rng.lognormal(5, 1, n_peaks))
                    for iso, crt, sig, h in comps:
                        f = np.exp(-0.5 * ((rt - crt) / sig) ** 2)
                        for m, rel in iso:
                            if h * f * rel > 50:
                                mzs.append(m * (1 + rng.normal(0, 5e-7)))
                                its.append(h * f * rel)
                    for m, i in bg:
                        mzs.append(m)
                        its.append(i * rng.normal(1, 0.05))
                    mz = np.array(mzs)
                    it = np.array(its)
                    o = np.argsort(mz)
                    out.write_spectrum(
                        mz[o],
                        it[o],
                        id=f"scan={s + 1}",
                        polarity="positive scan",
                        centroided=True,
                        scan_start_time=rt / 60.0,
                        params=[{"ms level": 1}, "MS1 spectrum"],
                    )
    return path


def read_verify(path):
    from verify.ms.read import read_run

    r = read_run(path)
    return r.n_spectra


def read_verify_iterfind(path):
    import verify.ms.read as rd

    rd.FAST_ITERATION = False
    try:
        return rd.read_run(path).n_spectra
    finally:
        rd.FAST_ITERATION = True


def read_pyteomics_plain(path):
    from pyteomics import mzml

    n = 0
    with mzml.MzML(str(path)) as reader:
        for spec in reader:
            spec["m/z array"], spec["intensity array"]
            n += 1
    return n


def read_pyopenms(path):
    import pyopenms

    exp = pyopenms.MSExperiment()
    pyopenms.MzMLFile().load(str(path), exp)
    n = 0
    for s in exp:
        s.get_peaks()
        s.getRT()
        n += 1
    return n


def _have_pyopenms() -> bool:
    for p in ("/tmp/pyopenms_pkg",):
        if os.path.isdir(p) and p not in sys.path:
            sys.path.append(p)
    try:
        import pyopenms  # noqa: F401

        return True
    except Exception:
        return False


def timeit(fn, path, repeat):
    best = None
    n = 0
    for _ in range(repeat):
        gc.collect()
        t = time.perf_counter()
        n = fn(path)
        dt = time.perf_counter() - t
        best = dt if best is None else min(best, dt)
    return best, n


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scans", type=int, default=600)
    ap.add_argument("--peaks", type=int, default=2000, help="noise centroids per scan")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--keep", action="store_true", help="reuse /tmp/verify_bench_ms_*.mzML if present")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    from verify.ms import check as _check  # noqa: F401  (import cost reported, not part of the timings)

    t_import = time.perf_counter() - t0
    psims_loaded_by_runtime = "psims" in sys.modules

    gen = Path(f"/tmp/verify_bench_ms_{args.scans}x{args.peaks}.mzML")
    if not (args.keep and gen.exists()):
        t = time.perf_counter()
        generate_run(gen, args.scans, args.peaks)
        print(f"generated {gen} ({gen.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - t:.1f} s")
    files = [gen]
    files += sorted((ROOT / "sample_spectra").glob("*/ms.mzML"))[:3]
    real = ROOT.parent / "shared" / "realdata" / "ms"
    files += sorted(real.glob("*.mzML")) if real.is_dir() else []

    readers = [
        ("verify read_run", read_verify),
        ("verify via MzML.iterfind", read_verify_iterfind),
        ("pyteomics MzML plain", read_pyteomics_plain),
    ]
    if _have_pyopenms():
        readers.append(("pyopenms MzMLFile.load", read_pyopenms))
    else:
        print("pyopenms: not importable (pip install --target /tmp/pyopenms_pkg pyopenms to compare)")
    print(f"\nimport verify.ms.check: {t_import * 1000:.0f} ms (psims imported: {psims_loaded_by_runtime})")
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"\n{'file':44s} {'MB':>6s} " + " ".join(f"{name:>30s}" for name, _ in readers))
    totals = {name: [0.0, 0, 0.0] for name, _ in readers}
    for f in files:
        mb = f.stat().st_size / 1e6
        cells = []
        for name, fn in readers:
            rep = args.repeat if mb < 50 else 1
            dt, n = timeit(fn, f, rep)
            totals[name][0] += dt
            totals[name][1] += n
            totals[name][2] += mb
            cells.append(f"{mb / dt:7.1f} MB/s {n / dt:7.0f} sp/s {dt * 1000:6.0f}ms")
        label = f.name if f.parent.name in ("ms", "tmp") else f"{f.parent.name}/{f.name}"
        print(f"{label[:44]:44s} {mb:6.1f} " + " ".join(f"{c:>30s}" for c in cells))
    print("\ntotal (all files):")
    base = totals["verify read_run"][0]
    for name, (dt, n, mb) in totals.items():
        print(f"  {name:26s} {mb / dt:7.1f} MB/s {n / dt:8.0f} spectra/s  time x{dt / base:5.2f} of verify's")

    # ---- time to verify one compound -------------------------------------------------------
    from verify.expectation import build_expectation
    from verify.ms.check import check_ms
    from verify.structure.target import read_target

    exp = build_expectation(read_target(TARGET))
    t = time.perf_counter()
    res = check_ms(gen, exp)
    first = time.perf_counter() - t
    warm = []
    for _ in range(args.repeat):
        t = time.perf_counter()
        check_ms(gen, exp)
        warm.append(time.perf_counter() - t)
    t = time.perf_counter()
    from verify.ms.read import read_run

    run = read_run(gen)
    t_read = time.perf_counter() - t
    print(
        f"\ncheck_ms, one compound, {gen.name} ({run.n_scans} scans, {len(run.mz)} centroids, "
        f"{(run.mz.nbytes + run.intensity.nbytes) / 1e6:.1f} MB in memory):"
    )
    print(
        f"  verdict {res.verdict}, {res.main_ion.name if res.main_ion else '-'} "
        f"{res.main_ion.ppm_error if res.main_ion else float('nan'):+.2f} ppm at {res.rt_s:.1f} s"
    )
    print(
        f"  first call {first:.3f} s; warm best {min(warm):.3f} s (of which reading {t_read:.3f} s); target < 0.5 s: "
        f"{'met' if min(warm) < 0.5 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
