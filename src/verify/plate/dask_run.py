"""Wells checked on a Dask `distributed` cluster instead of the local process pool.

`verify plate MAP --scheduler ADDRESS` (or `VERIFY_DASK_SCHEDULER=ADDRESS`) submits one task per well to the
scheduler at ADDRESS (`tcp://host:8786`, or the address a `distributed.LocalCluster` reports). What stays on
the coordinating process (the `verify plate` command): the plate map, the results store (each finished well is
written there as it arrives, so a killed client loses no finished well and a re-run checks only the rest), the
reports and the progress bar. What runs on the workers: `verify.plate.run.check_well`, the same function the
local pool runs, so the records are the same.

What differs from the local pool, and why:
* the data paths in the map are sent as absolute paths: the workers must see the same files (a shared file
  system, or workers on this machine);
* `--timeout` and `--max-memory` are the local pool's (it kills a worker process that overruns; a Dask task
  runs in a thread of a worker that other wells share). On a cluster, limit memory with the workers' own
  `--memory-limit`; a well whose worker dies is re-run by Dask elsewhere and, if it kills workers again,
  recorded as an error;
* predictions of the learned 1H model are cached per machine (`VERIFY_CACHE_DIR`): workers on other machines
  predict, and cache, for themselves.

Needs the `dask` extra: `pip install "verify[dask]"`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from ..errors import UsageError
from .run import WellJob, check_well, check_well_error

ENV_SCHEDULER = "VERIFY_DASK_SCHEDULER"
CONNECT_TIMEOUT_S = 20


def scheduler_address(option: str | None) -> str | None:
    """The scheduler to use: `--scheduler`, else $VERIFY_DASK_SCHEDULER, else None (the local pool)."""
    addr = (option or os.environ.get(ENV_SCHEDULER) or "").strip()
    return addr or None


def _absolute(job: WellJob) -> WellJob:
    return replace(
        job, nmr=str(Path(job.nmr).resolve()) if job.nmr else None, ms=str(Path(job.ms).resolve()) if job.ms else None
    )


def require_distributed() -> None:
    """UsageError (exit 64) when the dask extra is not installed: said before any well runs."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise UsageError('needs Dask distributed: pip install "verify[dask]"', "--scheduler") from None


def connect(address: str):
    """A `distributed.Client` for `address`, or a UsageError naming what is wrong (extra missing, scheduler
    unreachable)."""
    require_distributed()
    from distributed import Client

    try:
        return Client(address, timeout=CONNECT_TIMEOUT_S)
    except (OSError, TimeoutError, ValueError) as exc:
        raise UsageError(
            f"cannot reach the Dask scheduler at {address} ({type(exc).__name__}: {exc})", "--scheduler"
        ) from None


def run_jobs_dask(jobs: list[WellJob], address: str, on_done: Callable[[dict], None]) -> int:
    """Check the wells on the cluster at `address`, calling on_done(record) here as each finishes (any order).

    Returns the number of workers the scheduler had when the run started. A task that fails on the cluster
    (its worker died more often than the scheduler's allowed-failures, or it could not be sent) becomes the
    well's error record; the other wells run on. Interrupted (Ctrl-C, a killed client), the wells not yet
    received are cancelled; those received are already in the store.
    """
    if not jobs:
        return 0
    client = connect(address)
    from distributed import as_completed

    try:
        n_workers = len(client.scheduler_info().get("workers", {}))
        futures = {}
        for job in jobs:
            # pure=False: the same well submitted again (a re-run after a change) is checked again
            # check_well never raises (an error is the well's record): the task is the local pool's own function
            fut = client.submit(check_well, _absolute(job), pure=False, key=f"verify-well-{job.well}-{job.input_hash}")
            futures[fut] = job
        try:
            for fut in as_completed(futures):
                job = futures.pop(fut)
                try:
                    rec = fut.result()
                except Exception as exc:  # noqa: BLE001 - whatever the cluster raised is this well's error
                    rec = check_well_error(
                        job, f"the Dask task checking this well failed ({type(exc).__name__}: {exc})", draw=False
                    )
                on_done(rec)
        finally:
            if futures:
                client.cancel(list(futures))
        return n_workers
    finally:
        client.close()
