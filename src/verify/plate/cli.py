"""`verify plate MAP [MAP ...] [--nmr-dir D] [--ms-dir D] [-o REPORT_DIR] [--workers N] [--force] [--fail-on V]`

Checks every well of a plate map in parallel (local worker processes, or a Dask cluster with
--scheduler: verify.plate.dask_run), keeps each well's result in REPORT_DIR/results.sqlite
(re-runs skip unchanged wells; interrupted runs resume) and writes REPORT_DIR/results.json,
results.csv, the overview index.html and one page per well under wells/.

Exit codes: 0 the plate has run (whatever the verdicts; errors per well are in the report),
64 bad command line, 65 unreadable or invalid plate map, 66 plate map (or a given folder) not found,
73 the report folder cannot be created (a file of that name, no permission).
With --fail-on suspicious: 1 if any well is suspicious or unchecked (no data at all), 2 if any is
inconsistent or an error;
with --fail-on inconsistent: 2 if any well is inconsistent or an error.
A partial well (one of its two data files unreadable; verdict from the other, at best suspicious)
counts as an error for --fail-on: an unreadable file needs someone to act, as it did when it made
the whole well an error.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from .. import __version__
from ..errors import CannotCreateError, MissingInputError, UsageError, UsageErrorParser
from ..limits import DEFAULT_MAX_MEMORY, DEFAULT_TIMEOUT_S, add_limit_options, check_limit_options
from ..ms.thresholds import THRESHOLDS as MS_THRESHOLDS
from ..report.tables import part_errors_text
from .dask_run import require_distributed, run_jobs_dask, scheduler_address
from .discover import find_data, index_ms_dir, index_nmr_dir
from .map import PlateMap, read_plate_map
from .output import write_reports
from .progress import Progress
from .run import WellJob, default_workers, input_hash, prefetch_shift_predictions, run_jobs
from .store import ResultStore


def build_parser() -> argparse.ArgumentParser:
    p = UsageErrorParser(
        prog="verify plate",
        description="Check every well of a 96/384-well plate and write a plate report.",
        epilog="MAP: CSV/TSV with columns well, compound_id, smiles[, nmr, ms, solvent, ...] (paths relative "
        "to the map; other columns are carried to the outputs) or an SDF with well and id properties. "
        "Exit codes: 0 the plate has run (whatever the verdicts), 64 usage error, 65 unreadable or invalid "
        "map, 66 map not found, 73 report folder cannot be created (a well over --timeout or --max-memory is an "
        "error result, the plate goes on); --fail-on turns verdicts into exit 1/2 "
        "(an unchecked well gives 1 with --fail-on suspicious; a well with an unreadable NMR or "
        "LC-MS file, error or partial, gives 2).",
    )
    p.add_argument(
        "map",
        metavar="MAP",
        nargs="+",
        help="plate map(s): .csv/.tsv or .sdf; several maps share one worker pool and one prediction "
        "cache, each gets its own report (with -o: REPORT_DIR/<map name>_report)",
    )
    p.add_argument(
        "--nmr-dir", metavar="D", help="find NMR data here by well or compound id when the map has no nmr path"
    )
    p.add_argument(
        "--ms-dir", metavar="D", help="find LC-MS runs (mzML) here by well or compound id when the map has no ms path"
    )
    p.add_argument("-o", "--output", metavar="REPORT_DIR", help="report folder (default ./<map name>_report)")
    p.add_argument(
        "--workers", metavar="N", type=int, default=None, help="parallel worker processes (default: all cores)"
    )
    p.add_argument("--force", action="store_true", help="re-check every well even if its inputs are unchanged")
    p.add_argument(
        "--fail-on", choices=("suspicious", "inconsistent"), help="exit non-zero when a well is this bad or worse"
    )
    p.add_argument(
        "--store",
        metavar="FILE",
        help="results database (default REPORT_DIR/results.sqlite; one file may hold several plates, keyed by map)",
    )
    p.add_argument("--solvent", metavar="NAME", help="NMR solvent for every well (a map column 'solvent' wins)")
    p.add_argument(
        "--ppm",
        type=float,
        default=MS_THRESHOLDS.ppm,
        help=f"HRMS m/z tolerance in ppm (default {MS_THRESHOLDS.ppm:g})",
    )
    add_limit_options(p, "a well")  # a well over a limit becomes an error result; the plate goes on
    p.add_argument("--title", metavar="TEXT", help="report title (default: from the map's file name)")
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="check the wells on this Dask distributed scheduler (tcp://host:8786) instead of local "
        "worker processes; default $VERIFY_DASK_SCHEDULER, else local (needs verify[dask])",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    return p


def plate_title(map_stem: str) -> str:
    """Report title from the map's file name: "Plate 2026-12-04_A" for 2026-12-04_A.csv, the stem itself when it
    already says plate (plate.csv, plate7_map.csv), never "Plate plate"."""
    return map_stem if map_stem.lower().startswith("plate") else f"Plate {map_stem}"


def _rel(p: Path | None, base: Path) -> str:
    if p is None:
        return ""
    try:
        return str(p.relative_to(base))
    except ValueError:
        try:
            return str(p.resolve().relative_to(base.resolve()))
        except ValueError:
            return str(p)


def build_jobs(
    pm: PlateMap,
    nmr_dir: Path | None,
    ms_dir: Path | None,
    solvent: str | None,
    ppm: float,
    timeout: float | None = None,
    max_memory: int | None = None,
) -> list[WellJob]:
    base = pm.path.parent
    nmr_c = index_nmr_dir(nmr_dir) if nmr_dir else []
    ms_c = index_ms_dir(ms_dir) if ms_dir else []
    jobs = []
    for w in pm.wells:
        notes: list[str] = []
        problems: list[str] = []
        nmr, ms = w.nmr, w.ms
        for kind, cands, root, current in (("NMR", nmr_c, nmr_dir, nmr), ("LC-MS", ms_c, ms_dir, ms)):
            if current is not None or root is None:
                continue
            found, ties = find_data(cands, w.compound_id, w.well)
            if found is not None:
                notes.append(f"{kind} data found in {root}: {_rel(found, root)}")
                if kind == "NMR":
                    nmr = found
                else:
                    ms = found
            elif ties:
                problems.append(
                    f"several {kind} data sets in {root} match well {w.well} / {w.compound_id}: "
                    + ", ".join(c.label(root) for c in ties[:4])
                )
        sources = {}
        if nmr is not None:
            sources["NMR data"] = _rel(nmr, base)
        if ms is not None:
            sources["LC-MS data"] = _rel(ms, base)
        job = WellJob(
            well=w.well,
            compound_id=w.compound_id,
            smiles=w.smiles,
            molblock=w.molblock,
            nmr=str(nmr) if nmr is not None else None,
            ms=str(ms) if ms is not None else None,
            solvent=w.solvent or solvent,
            ppm=ppm,
            extra=dict(w.extra),
            notes=notes,
            error="; ".join(problems) or None,
            sources=sources,
            timeout=timeout or None,
            max_memory=max_memory or None,
        )
        job.input_hash = input_hash(job)
        jobs.append(job)
    return jobs


@dataclass
class _Plate:
    """One map of the call: its wells, where its results go, and what this run must check."""

    pm: PlateMap
    jobs: list[WellJob]
    outdir: Path
    store_path: Path
    key: str  # the plate's key in its results store (the map's resolved path)
    store: ResultStore | None = None
    todo: list[WellJob] = field(default_factory=list)
    skipped: int = 0


def _plan(map_path: str, args, several: bool) -> _Plate:
    pm = read_plate_map(map_path)  # every map problem is raised here, before anything runs
    if args.output:
        outdir = Path(args.output) / f"{pm.name}_report" if several else Path(args.output)
    else:
        outdir = Path.cwd() / f"{pm.name}_report"
    if outdir.exists() and not outdir.is_dir():
        raise CannotCreateError("report folder is a file", outdir)
    jobs = build_jobs(
        pm,
        Path(args.nmr_dir) if args.nmr_dir else None,
        Path(args.ms_dir) if args.ms_dir else None,
        args.solvent,
        args.ppm,
        args.timeout,
        args.max_memory,
    )
    store_path = Path(args.store) if args.store else outdir / "results.sqlite"
    return _Plate(pm, jobs, outdir, store_path, str(pm.path.resolve()))


def run_plate(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    if args.workers is not None and args.workers < 1:
        raise UsageError("--workers must be at least 1", "--workers")
    if args.ppm <= 0:
        raise UsageError("--ppm must be positive", "--ppm")
    check_limit_options(args)
    several = len(args.map) > 1
    if several and args.title:
        raise UsageError("--title names one plate: give one map, or let each title come from its map's name", "--title")
    for opt, d in (("--nmr-dir", args.nmr_dir), ("--ms-dir", args.ms_dir)):
        if d is not None and not Path(d).is_dir():
            if not Path(d).exists():
                raise MissingInputError("no such folder", d)
            raise UsageError(f"{opt} must be a folder", d)
    if args.solvent:
        from ..solvents import solvent_or_error

        solvent_or_error(args.solvent)

    if scheduler_address(args.scheduler):
        require_distributed()  # before any folder is made or well is run
    t_start = time.monotonic()
    plates = [_plan(m, args, several) for m in args.map]
    seen: dict[Path, str] = {}
    for pl in plates:
        out = pl.outdir.resolve()
        if out in seen:
            raise UsageError(
                f"{pl.pm.path} and {seen[out]} would write the same report folder {pl.outdir} (maps of the same name)",
                str(pl.pm.path),
            )
        seen[out] = str(pl.pm.path)
        try:
            pl.outdir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CannotCreateError(f"cannot create report folder ({exc.strerror})", pl.outdir) from None

    workers = args.workers or default_workers()
    scheduler = scheduler_address(args.scheduler)
    if scheduler and (args.timeout != DEFAULT_TIMEOUT_S or args.max_memory != DEFAULT_MAX_MEMORY) and not args.quiet:
        print(
            "verify plate: --timeout and --max-memory limit the local worker processes; on the Dask "
            "cluster the workers' own limits apply (dask worker --memory-limit)",
            file=sys.stderr,
        )
    with contextlib.ExitStack() as stack:
        # a record goes to every plate waiting for that well with these inputs (maps may share wells)
        route: dict[tuple[str, str], list[_Plate]] = {}
        todo_all: list[WellJob] = []
        for pl in plates:
            pl.store = stack.enter_context(ResultStore(pl.store_path))
            stored = pl.store.hashes(pl.key)
            pl.todo = [j for j in pl.jobs if args.force or stored.get(j.well) != j.input_hash]
            pl.skipped = len(pl.jobs) - len(pl.todo)
            # wells no longer in the map are dropped from the store's view of this plate
            gone = [w for w in stored if w not in {j.well for j in pl.jobs}]
            if gone:
                pl.store.delete_wells(pl.key, gone)
            if pl.skipped and not args.quiet:
                print(
                    f"verify plate {pl.pm.name}: {pl.skipped} well{'s' if pl.skipped != 1 else ''} unchanged since "
                    f"the last run, not re-checked (--force to redo)",
                    file=sys.stderr,
                )
            for j in pl.todo:
                k = (j.well, j.input_hash)
                if k not in route:
                    route[k] = []
                    todo_all.append(j)
                route[k].append(pl)
        label = f"verify plate {plates[0].pm.name}" if not several else f"verify plate ({len(plates)} maps)"
        progress = Progress(len(todo_all), stream=_Null() if args.quiet else None, label=label)

        def on_done(rec: dict) -> None:
            # a transient error is stored as "<hash>!retry" (re-tried next run): it is still this job's record
            to = route.get((rec["well"], str(rec["input_hash"]).split("!", 1)[0]))
            if not to:  # never expected; a record is not dropped for it: every plate checking that well gets it
                to = [pl for pl in plates if any(j.well == rec["well"] for j in pl.todo)]
            for pl in to:
                pl.store.put_well(pl.key, rec)  # its own transaction: nothing finished is lost
            progress.update(rec)

        t0 = time.perf_counter()
        n_predicted = prefetch_shift_predictions(todo_all)  # one batch, one cache, for every map of the call
        if n_predicted and not args.quiet:
            print(
                f"1H shifts of {n_predicted} structure(s) predicted by the learned model in "
                f"{time.perf_counter() - t0:.1f} s (cached for later runs)",
                file=sys.stderr,
            )
        try:
            if scheduler:
                workers = run_jobs_dask(todo_all, scheduler, on_done) or workers
            else:
                run_jobs(todo_all, min(workers, max(1, len(todo_all))), on_done, args.max_memory or None)
        finally:
            progress.close()
        elapsed = time.monotonic() - t_start
        code = 0
        for pl in plates:
            code = max(code, _finish(pl, args, workers, scheduler, elapsed))
    return code


def _finish(pl: _Plate, args, workers: int, scheduler: str | None, elapsed: float) -> int:
    """Read one plate's records back from its store, write its reports, print its summary; its exit code."""
    pm, store = pl.pm, pl.store
    wanted = {j.well: j.input_hash for j in pl.jobs}
    recs = store.get_wells(pl.key, wanted)
    records = [recs[j.well] for j in pl.jobs if j.well in recs]
    counts = {v: 0 for v in ("consistent", "suspicious", "inconsistent", "unchecked", "error")}
    for r in records:
        counts[r["verdict"] if r["verdict"] in counts else "error"] += 1
    # partial wells are also counted under their (capped) verdict: counts still sum to n_wells
    n_partial = sum(r.get("status") == "partial" for r in records)
    meta = {
        "name": pm.name,
        "title": args.title or plate_title(pm.name),
        "map": str(pm.path),
        "format": pm.size,
        "rows": pm.rows,
        "cols": pm.cols,
        "padded": pm.padded,
        "n_wells": len(records),
        "counts": counts,
        "partial": n_partial,
        "checked": len(pl.todo),
        "skipped_unchanged": pl.skipped,
        "workers": workers,
        "scheduler": scheduler,
        "elapsed_s": round(elapsed, 2),
        "created": dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M:%S %Z"),
        "verify_version": __version__,
        "extra_columns": pm.extra_columns,
        "store": str(pl.store_path),
    }
    store.put_plate(pl.key, str(pm.path), meta)
    paths = write_reports(pl.outdir, meta, records, pm.extra_columns)
    summary = ", ".join(f"{n} {v}" for v, n in counts.items() if n) or "nothing"
    if n_partial:
        summary += f"; {n_partial} partial (a data file unreadable)"
    print(
        f"{pm.name}: {len(records)} wells: {summary} ({len(pl.todo)} checked, {pl.skipped} unchanged) in {elapsed:.1f} s"
    )
    print(f"report: {paths['html']}")
    for r in records:
        if r["verdict"] == "error":
            print(f"  {r['well']} {r['compound_id']}: error: {r['error']}")
        elif r["verdict"] == "unchecked":
            print(f"  {r['well']} {r['compound_id']}: unchecked: no NMR or LC-MS data for this well")
        elif r.get("status") == "partial":
            print(f"  {r['well']} {r['compound_id']}: partial ({r['verdict']}): {part_errors_text(r['part_errors'])}")
    return _exit_code(args.fail_on, counts, n_partial)


def _exit_code(fail_on: str | None, counts: dict, n_partial: int = 0) -> int:
    if not fail_on:
        return 0
    if counts.get("inconsistent") or counts.get("error") or n_partial:
        return 2
    # a well with no data at all was never checked: a gate strict enough to stop suspicious wells stops it too
    if fail_on == "suspicious" and (counts.get("suspicious") or counts.get("unchecked")):
        return 1
    return 0


class _Null:
    def write(self, s):
        return len(s)

    def flush(self):
        pass

    def isatty(self):
        return False
