"""Running the wells of a plate: one job per well, in parallel worker processes.

Each worker checks its well with `verify.pipeline.check_compound`, renders the well's report section
(figures included) and hands back a plain record; the parent writes it to the results store at once.
A well that fails (invalid SMILES, missing data, any exception) becomes an `error` record with its
message; a well with one unreadable data file of two becomes `partial` (see `check_parts`); the plate
always finishes.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .. import __version__
from ..errors import VerifyError
from ..limits import (
    KILL_GRACE_S,
    die_with_parent,
    kill_tree,
    lift_memory_limit,
    limit_memory,
    memory_message,
    timeout_message,
)
from ..ms.thresholds import THRESHOLDS as MS_THRESHOLDS
from ..report.tables import PART_LABELS, part_errors_text

# plate-2: a well with one unreadable data file is `partial` (it was an `error`): older records re-check
# plate-3: records carry the compound's 0-1 score (verify.score): older records re-check
CACHE_VERSION = "plate-3"


@dataclass
class WellJob:
    well: str
    compound_id: str
    smiles: str = ""
    molblock: str = ""
    nmr: str | None = None
    ms: str | None = None
    solvent: str | None = None
    ppm: float = MS_THRESHOLDS.ppm  # HRMS tolerance
    extra: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    error: str | None = None  # known before running (e.g. ambiguous data in --nmr-dir)
    input_hash: str = ""
    sources: dict = field(default_factory=dict)  # paths shown in the report (relative to the map)
    timeout: float | None = None  # seconds before the well is given up (an error record)
    max_memory: int | None = None  # bytes of address space the well may add (its MemoryError's message)
    transient: bool = False  # the error may not recur (worker crash): not reused by the next run


# ------------------------------------------------------------------------------------------- hashing
def _fingerprint(path: str | None, limit: int = 5000) -> object:
    """Size and mtime of a data file, or of every file in a data folder (Bruker/Varian)."""
    if not path:
        return None
    p = Path(path)
    try:
        st = p.stat()
    except OSError:
        return ["missing", str(p)]
    if p.is_file():
        return [str(p), st.st_size, st.st_mtime_ns]
    out: list = [str(p)]
    for dirpath, dirnames, filenames in os.walk(p):
        dirnames.sort()
        for f in sorted(filenames):
            fp = os.path.join(dirpath, f)
            try:
                s = os.stat(fp)
            except OSError:
                continue
            out.append([os.path.relpath(fp, p), s.st_size, s.st_mtime_ns])
            if len(out) > limit:
                return out
    return out


def input_hash(job: WellJob) -> str:
    payload = {
        "cache": CACHE_VERSION,
        "verify": __version__,  # a new release re-checks; after a local code change use --force
        "well": job.well,
        "compound_id": job.compound_id,
        "smiles": job.smiles,
        "molblock": job.molblock,
        "solvent": job.solvent or "",
        "ppm": job.ppm,
        "nmr": _fingerprint(job.nmr),
        "ms": _fingerprint(job.ms),
        "error": job.error,
        "extra": job.extra,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


# -------------------------------------------------------------------------------------------- worker
def _target(job: WellJob):
    from rdkit import Chem

    from ..errors import InputError
    from ..structure.target import parent_target

    if job.molblock:
        mol = Chem.MolFromMolBlock(job.molblock, sanitize=True, removeHs=True)
        if mol is None:
            raise InputError("unreadable structure in the SDF record", f"well {job.well}")
        return parent_target(mol, job.compound_id, job.smiles or Chem.MolToSmiles(mol), source=f"well {job.well}")
    smi = (job.smiles or "").strip()
    if not smi:
        raise InputError("no SMILES for this well", f"well {job.well}")
    mol = Chem.MolFromSmiles(smi)
    if mol is None:
        raise InputError(f"invalid SMILES {smi!r}", f"well {job.well}")
    return parent_target(mol, job.compound_id, smi, source=f"well {job.well}")


class WellTimeout(VerifyError):
    pass


class PartsFailed(VerifyError):
    """Both data files of a well are unreadable, each for its own reason: `parts` = {part: message}."""

    def __init__(self, parts: dict[str, str]):
        self.parts = dict(parts)
        super().__init__(part_errors_text(self.parts))


def _message(exc: Exception) -> str:
    if isinstance(exc, VerifyError):
        return str(exc)
    return f"unexpected {exc.__class__.__name__}: {exc}"


def check_parts(target, job: WellJob):
    """Check a well's data; when one of two data files cannot be checked, keep the other's evidence.

    Returns (CompoundResult, part_errors) where part_errors is {} or {"nmr"|"ms": one-line message}.
    The well is first checked as the single-compound command would (NMR and HRMS together, so the
    HRMS check sees the NMR's solvent). Only if that fails and both techniques were supplied is each
    checked alone, to find which file is at fault:

    * one part fails alone: the well is `partial`. The readable part's result is kept and a warning
      finding `plate.<part>_unreadable` (the file and its problem) is added, so that the verdict is at
      least `suspicious`: a structure confirmed by one technique while the other's data, supplied,
      could not be read is not confirmed. An `inconsistent` verdict stands: the readable part already
      proves the structure wrong, and the missing evidence cannot change that.
    * both fail alone: PartsFailed with both messages (an `error` well), or the combined error
      itself when both fail for the same reason (e.g. an unknown solvent).
    * both pass alone (the failure needed both together): the combined error stands.

    A timeout or MemoryError is the whole well's (re-raised): the retry would only make it worse.
    """
    from ..findings import Finding
    from ..pipeline import check_compound

    kw = {"solvent": job.solvent or None, "ppm": job.ppm}
    try:
        return check_compound(target, nmr=job.nmr, ms=job.ms, **kw), {}
    except (WellTimeout, MemoryError):
        raise
    except Exception as exc:
        if not (job.nmr and job.ms):
            raise  # one technique only: there is no other evidence to keep
        combined = exc
    results, errors = {}, {}
    for part in ("nmr", "ms"):
        try:
            results[part] = check_compound(target, **{part: getattr(job, part)}, **kw)
        except (WellTimeout, MemoryError):
            raise
        except Exception as exc:
            errors[part] = _message(exc)
    if len(errors) == 2 and len(set(errors.values())) == 2:
        raise PartsFailed(errors) from None
    if len(errors) != 1:
        raise combined
    ((failed, msg),) = errors.items()
    kept = "ms" if failed == "nmr" else "nmr"
    result = results[kept]
    # the failed part was supplied, only unreadable: the pipeline's "not supplied" note would be wrong
    result.findings = [f for f in result.findings if f.code != f"check.{failed}_not_supplied"]
    result.findings.append(
        Finding(
            "warning",
            f"plate.{failed}_unreadable",
            f"{PART_LABELS[failed]} data could not be checked ({msg}): the verdict rests on {PART_LABELS[kept]} alone",
        )
    )
    return result, errors


def check_well(job: WellJob) -> dict:
    """Check one well; never raises. Returns the record stored for it.

    With job.timeout, a well that takes longer is stopped (SIGALRM, main thread only) and becomes an
    error record, so that one pathological file cannot stall the plate.
    """
    import threading

    if not job.timeout or not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        return _check_well(job)

    def on_alarm(signum, frame):
        raise WellTimeout(timeout_message(job.timeout))

    old = signal.signal(signal.SIGALRM, on_alarm)
    try:
        signal.setitimer(signal.ITIMER_REAL, job.timeout)
        try:
            return _check_well(job)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    except WellTimeout as exc:  # the stop came in the well's error path (e.g. drawing it): still its error
        return check_well_error(job, str(exc), draw=False)
    finally:
        signal.signal(signal.SIGALRM, old)


def _check_well(job: WellJob, draw: bool = True) -> dict:
    t0 = time.perf_counter()
    rec = {
        "well": job.well,
        "compound_id": job.compound_id,
        "smiles": job.smiles,
        "input_hash": job.input_hash,
        "extra": job.extra,
        "sources": job.sources,
        "notes": job.notes,
        "status": "error",
        "verdict": "error",
        "error": None,
        "part_errors": {},  # {"nmr"|"ms": message}: a data file that could not be read
        "result_json": None,
        "fragment": None,
    }
    mol = None
    try:
        if job.error:
            raise VerifyError(job.error)
        # a well without any data file still gets its expectation; its verdict is "unchecked" (pipeline)
        from ..findings import Finding

        target = _target(job)
        mol = target.mol
        result, rec["part_errors"] = check_parts(target, job)
        t_check = time.perf_counter()
        rec["check_s"] = round(t_check - t0, 3)
        for note in job.notes:
            result.findings.append(Finding("info", "plate.data", note))
        # a technique with no data file in the map is said by the pipeline (check.nmr_not_supplied, ...)
        data = result.to_dict()  # already JSON-safe (verify.report.safe.json_safe)
        rec["result_json"] = json.dumps(data, allow_nan=False)
        rec["status"] = "partial" if rec["part_errors"] else "ok"
        rec["verdict"] = data.get("verdict") or result.verdict
        try:
            from ..report.html import compound_section

            rec["fragment"] = compound_section(
                result,
                well=job.well,
                compound_id=job.compound_id,
                extra=job.extra,
                data=data,
                sources=job.sources,
                part_errors=rec["part_errors"],
            )
            rec["render_s"] = round(time.perf_counter() - t_check, 3)
        except Exception as exc:  # the verdict stands even if the report part fails
            from ..report.html import error_section

            rec["fragment"] = error_section(
                job.well,
                job.compound_id,
                job.smiles,
                f"checked ({rec['verdict']}) but the report could not be drawn: {exc.__class__.__name__}: {exc}",
            )
            rec["fragment"] = rec["fragment"].replace('data-verdict="error"', f'data-verdict="{rec["verdict"]}"')
    except WellTimeout as exc:
        rec["error"] = str(exc)
        rec["transient"] = True
        draw = False  # the drawing may be what ran out of time (CoordGen on a macrocycle)
    except PartsFailed as exc:
        rec["error"] = str(exc)
        rec["part_errors"] = exc.parts
    except VerifyError as exc:
        rec["error"] = str(exc)
    except MemoryError:
        rec["error"] = memory_message(job.max_memory) if job.max_memory else "out of memory checking this well"
        rec["transient"] = True
    except Exception as exc:
        rec["error"] = f"unexpected {exc.__class__.__name__}: {exc}"
    if rec["status"] == "error":
        rec["result_json"] = None
        if len(rec["part_errors"]) < 2:
            rec["part_errors"] = {}  # e.g. a timeout after one part was read: the well's own error only
        try:
            from ..report.html import error_section

            if not draw:
                mol = None
            elif mol is None and job.smiles:
                from rdkit import Chem

                mol = Chem.MolFromSmiles(job.smiles)
            rec["fragment"] = error_section(
                job.well, job.compound_id, job.smiles, rec["error"], mol, job.extra, job.sources
            )
        except Exception:
            rec["fragment"] = None
    if job.transient:
        rec["transient"] = True
    if rec.get("transient"):  # stored under a hash no run matches: the next run tries this well again
        rec["input_hash"] = f"{job.input_hash}!retry"
    rec["elapsed_s"] = round(time.perf_counter() - t0, 3)
    return rec


def _worker_init() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops the pool
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    die_with_parent()


def preload() -> None:
    """Import the heavy modules once in the parent, so forked workers start warm."""
    import importlib

    for mod in (
        "verify.pipeline",
        "verify.nmr.check",
        "verify.nmr.read",
        "verify.nmr.process",
        "verify.ms.check",
        "verify.ms.read",
        "nmrglue",
        "scipy.signal",
        "pyteomics.mzml",
        "verify.report.html",
        "verify.report.plots",
        "matplotlib.figure",
        "matplotlib.backends.backend_svg",
        "rdkit.Chem.Draw.rdMolDraw2D",
        "rdkit.Chem.rdDepictor",
    ):
        try:
            importlib.import_module(mod)
        except Exception:  # a missing part shows up per well, with its message
            pass


def prefetch_shift_predictions(jobs: list[WellJob]) -> int:
    """Predict the 1H shifts of all the plate's distinct structures in one batch per solvent, before the wells
    run (the learned model costs about 0.2 s a structure in a batch, several times that one by one, and its
    load once per worker). The solvent is the map's, else the NMR file's, else CDCl3 (as the well will use).
    A well whose structure or file cannot be read is skipped here: it reports its own error when it runs.
    Returns how many structures went to the model (0: all cached, or the model absent or off)."""
    from ..solvents import find_solvent
    from ..structure.learned import csp5_installed, model_disabled, prefetch_targets

    if model_disabled() or not csp5_installed():
        return 0
    mols, solvents = [], []
    for job in jobs:
        if job.error:
            continue
        try:
            mol = _target(job).mol
            name = job.solvent
            if not name and job.nmr:
                from ..nmr.read import read_nmr

                name = getattr(read_nmr(job.nmr), "solvent", "")
        except Exception:  # noqa: BLE001 - the well itself reports this when it runs
            continue
        solv = find_solvent(name or "CDCl3") or find_solvent("CDCl3")
        mols.append(mol)
        solvents.append(solv.key)
        if job.nmr:
            # the 1H check also scores the target's competing structures and salt forms: predict them in the
            # same batch
            for alt in _competing(mol):
                mols.append(alt)
                solvents.append(solv.key)
    return prefetch_targets(mols, solvents)


def _competing(mol) -> list:
    from rdkit import Chem

    from ..nmr.thresholds import NMR_THRESHOLDS
    from ..structure.alternatives import competing_structures
    from ..structure.species import protonated_forms

    alts = [Chem.MolFromSmiles(a.smiles) for a in competing_structures(mol, limit=NMR_THRESHOLDS.alternatives)]
    # ... and reads it as the free base and as each ammonium salt form (verify.nmr.alternatives.best_species)
    return [m for m in alts if m is not None] + [f.mol for f in protonated_forms(mol)]


# ---------------------------------------------------------------------------------------- scheduling
def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def _mp_context():
    import multiprocessing as mp

    if sys.platform.startswith("linux"):
        return mp.get_context("fork")
    return mp.get_context()


@dataclass
class _Worker:
    """One worker process of `run_jobs`, fed one well at a time, so that the coordinator knows which well
    each process holds and since when."""

    proc: object
    conn: object
    job: WellJob | None = None
    started: float = 0.0


def _worker_main(conn, max_memory: int | None) -> None:
    _worker_init()
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):  # the coordinator has gone
            return
        if job is None:
            return
        limit_memory(max_memory)  # per well: the next well gets the full limit again
        rec = check_well(job)
        lift_memory_limit()  # sending the record must not fail for the well's memory
        try:
            conn.send(rec)
        except (EOFError, OSError):
            return
        except Exception as exc:  # noqa: BLE001 - a record that cannot be pickled
            conn.send(check_well_error(job, f"unexpected {exc.__class__.__name__}: {exc}", draw=False))


def run_jobs(jobs: list[WellJob], workers: int, on_done: Callable[[dict], None], max_memory: int | None = None) -> None:
    """Run the jobs, calling on_done(record) in the parent as each well finishes (any order).

    Each worker process takes one well at a time; this coordinator keeps the limits, because only
    another process can stop native code that holds the GIL:

    * time: a well still running KILL_GRACE_S after its job.timeout (the worker's own SIGALRM stop did
      not take: native code) has its worker killed, with the model helper it started; the well is an
      error "gave up after N s (--timeout)" and a fresh worker takes the next well. Other workers run on.
    * memory: each worker caps its address space per well (`max_memory`, RLIMIT_AS); a MemoryError is
      the well's error "ran out of memory (limit ...)".
    * a worker that dies (a crash in a native library, the OOM killer) loses only its well.

    Records are written by on_done here only, so a killed worker never loses a finished well. With one
    worker and no limits the wells run in this process.
    """
    if not jobs:
        return
    if workers <= 1 and not max_memory and not any(j.timeout for j in jobs):
        for j in jobs:
            on_done(check_well(j))
        return
    from multiprocessing.connection import wait as mp_wait

    preload()
    ctx = _mp_context()
    pending = list(reversed(jobs))
    pool: list[_Worker] = []
    nproc = min(workers, len(jobs))

    def start() -> _Worker:
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=_worker_main, args=(child, max_memory), daemon=True)
        proc.start()
        child.close()  # or a later worker would inherit it and the coordinator never see this one's EOF
        w = _Worker(proc, parent)
        pool.append(w)
        return w

    def drop(w: _Worker) -> None:
        kill_tree(w.proc.pid)
        w.proc.join(5)
        w.conn.close()
        pool.remove(w)

    def crashed(w: _Worker) -> None:
        job, code = w.job, w.proc.exitcode
        drop(w)
        how = f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"
        on_done(
            check_well_error(
                job,
                f"the worker process checking this well died ({how}: a crash in a native "
                f"library, or the machine ran out of memory)",
                draw=False,
            )
        )

    try:
        while pending or any(w.job for w in pool):
            for w in [w for w in pool if w.job is None] + [None] * (nproc - len(pool)):
                if not pending:
                    break
                w = w or start()
                job = pending.pop()
                try:
                    w.conn.send(job)
                except OSError:  # the worker died idle: the well goes to a fresh one
                    pending.append(job)
                    drop(w)
                    continue
                w.job, w.started = job, time.monotonic()
            busy = [w for w in pool if w.job is not None]
            now = time.monotonic()
            deadlines = [w.started + w.job.timeout + KILL_GRACE_S for w in busy if w.job.timeout]
            left = max(0.0, min(deadlines) - now) if deadlines else None
            ready = set(mp_wait([w.conn for w in busy] + [w.proc.sentinel for w in busy], left))
            for w in busy:
                if w.conn in ready:
                    try:
                        rec = w.conn.recv()
                    except (EOFError, OSError):
                        crashed(w)
                        continue
                    w.job = None
                    on_done(rec)
                elif w.proc.sentinel in ready:
                    crashed(w)
                elif w.job.timeout and time.monotonic() >= w.started + w.job.timeout + KILL_GRACE_S:
                    job = w.job
                    drop(w)  # stuck in native code: only killing the process stops it
                    on_done(check_well_error(job, timeout_message(job.timeout), draw=False))
    finally:  # done, Ctrl-C or a failure in on_done: no worker outlives the run
        for w in list(pool):
            if w.job is None:
                try:
                    w.conn.send(None)
                except OSError:
                    pass
            else:
                kill_tree(w.proc.pid)
        for w in list(pool):
            w.proc.join(5)
            if w.proc.is_alive():
                kill_tree(w.proc.pid)
            w.conn.close()


def check_well_error(job: WellJob, message: str, transient: bool = True, draw: bool = True) -> dict:
    """The error record of a well that could not be checked. draw=False: no structure drawing, for a well
    whose worker was killed (its drawing may be what stalled, and the coordinator must not stall on it)."""
    j = WellJob(**{**asdict(job), "error": message, "timeout": None, "transient": transient})
    return _check_well(j, draw=draw)
