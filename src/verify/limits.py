"""Time and memory limits that also stop native code.

A check can stall or grow inside native code: RDKit's CoordGen laying out a macrocycle holds the GIL for
minutes and takes GBs, so neither a SIGALRM handler nor a watchdog thread ever runs. The only stop that
works whatever the code is doing is another process: the work runs in a child, and the process the user
waits on kills it (SIGKILL, with its own children) when it overruns. `run_limited` does this for the
single command; the plate's coordinator does it per well (`verify.plate.run`).

Memory is capped in the process doing the work with RLIMIT_AS (address space), counted from what the
process has mapped when the check starts (the program and its libraries are not the check's): an
allocation beyond it fails at once, in Python and in C/C++ alike (numpy and RDKit raise MemoryError),
before the machine swaps or the kernel's OOM killer picks a victim. Address space is larger than
resident memory (thread stacks, malloc arenas are reserved, not used), so the limit is generous by design:
it stops runaway growth, not an ordinary check. It is applied where the kernel has RLIMIT_AS and
/proc/self/statm (Linux); elsewhere only the time limit holds.
"""

from __future__ import annotations

import math
import os
import pickle
import re
import select
import signal
import sys
import time
from collections.abc import Callable
from typing import TypeVar

from .errors import EXIT_SOFTWARE, EXIT_TEMPFAIL, VerifyError

__all__ = [
    "DEFAULT_MAX_MEMORY",
    "DEFAULT_TIMEOUT_S",
    "KILL_GRACE_S",
    "CheckCrashed",
    "LimitExceeded",
    "MemoryLimitExceeded",
    "TimeLimitExceeded",
    "add_limit_options",
    "die_with_parent",
    "format_memory",
    "kill_tree",
    "lift_memory_limit",
    "limit_memory",
    "memory_message",
    "parse_memory",
    "run_limited",
    "timeout_message",
]

DEFAULT_TIMEOUT_S = 600.0  # the slowest real check measured is about 60 s (a cold model on a macrocycle)
DEFAULT_MAX_MEMORY = 2 * 1024**3  # a real check adds a few hundred MB of address space at most
# a plate worker is first stopped from inside (SIGALRM, which keeps the worker and its loaded model);
# only a worker still busy this long after its limit (stuck in native code) is killed
KILL_GRACE_S = 2.0

T = TypeVar("T")


class LimitExceeded(VerifyError):
    """A check stopped by --timeout or --max-memory (exit 75, EX_TEMPFAIL: a larger limit may pass)."""

    exit_code = EXIT_TEMPFAIL


class TimeLimitExceeded(LimitExceeded):
    pass


class MemoryLimitExceeded(LimitExceeded):
    pass


class CheckCrashed(VerifyError):
    """The process doing the check died without a word: a crash in a native library (exit 70, EX_SOFTWARE)."""

    exit_code = EXIT_SOFTWARE


# ------------------------------------------------------------------------------------------- options
_MEMORY = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*(?:(k|m|g)(?:i?b)?)?\s*$", re.IGNORECASE)
_UNIT = {"k": 1024, "m": 1024**2, "g": 1024**3, None: 1024**2}  # a bare number is MB


def parse_memory(text: str) -> int:
    """A memory size as given on the command line, in bytes (0: no limit).

    Parameters
    ----------
    text : str
        A number with an optional unit: ``2GB``, ``2 G``, ``1.5GiB``, ``512MB``, ``512M``; a bare number
        is MB. Units are binary (1 GB = 1024 MB).

    Returns
    -------
    int
        Bytes.

    Raises
    ------
    ValueError
        Not a size (argparse turns it into a usage error, exit 64).
    """
    m = _MEMORY.match(str(text))
    if not m:
        raise ValueError(f"not a memory size: {text!r} (e.g. 2GB, 512MB)")
    unit = m.group(2).lower() if m.group(2) else None
    return int(float(m.group(1)) * _UNIT[unit])


def format_memory(n: int) -> str:
    """Bytes as the user would write them: ``2 GB``, ``1.5 GB``, ``300 MB``."""
    if n >= 1024**3:
        return f"{n / 1024**3:.3g} GB"
    return f"{n / 1024**2:.3g} MB"


def timeout_message(seconds: float) -> str:
    return f"gave up after {seconds:g} s (--timeout)"


def memory_message(limit: int) -> str:
    return f"ran out of memory (limit {format_memory(limit)}, --max-memory)"


def add_limit_options(parser, what: str) -> None:
    """--timeout and --max-memory, the same for the single command and for a plate's wells.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The command's parser.
    what : str
        What a limit applies to, in the help ("the check", "a well").
    """

    def memory(text: str) -> int:
        import argparse

        try:
            return parse_memory(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT_S,
        metavar="S",
        help=f"give {what} up after S seconds, native code included (default {DEFAULT_TIMEOUT_S:g}, 0 = never)",
    )
    parser.add_argument(
        "--max-memory",
        type=memory,
        default=DEFAULT_MAX_MEMORY,
        metavar="SIZE",
        help=f"memory {what} may take, e.g. 2GB or 500MB (default {format_memory(DEFAULT_MAX_MEMORY)}, "
        f"0 = no limit; Linux)",
    )


def check_limit_options(args) -> None:
    """Usage errors (exit 64) for limits that cannot be meant."""
    from .errors import UsageError

    if not math.isfinite(args.timeout) or args.timeout < 0:
        raise UsageError("--timeout must be 0 (never) or positive", "--timeout")
    if args.max_memory < 0:
        raise UsageError("--max-memory must be 0 (no limit) or positive", "--max-memory")


# -------------------------------------------------------------------------------------------- memory
def _address_space() -> int | None:
    """This process's mapped address space in bytes (/proc/self/statm), None where there is no /proc."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def limit_memory(limit: int | None) -> bool:
    """Let this process map at most `limit` bytes more than it has now (soft RLIMIT_AS).

    Called again for each check (a plate worker's next well gets the full limit again, whatever the last
    one left behind); raising the soft limit back is allowed up to the hard limit, which is left alone.

    Parameters
    ----------
    limit : int or None
        Bytes; None or 0 lifts the limit.

    Returns
    -------
    bool
        Whether a limit is in force.
    """
    try:
        import resource
    except ImportError:  # not POSIX
        return False
    if not limit:
        lift_memory_limit()
        return False
    now = _address_space()
    if now is None:
        return False
    try:
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        soft = now + int(limit)
        if hard != resource.RLIM_INFINITY:
            soft = min(soft, hard)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
    except (ValueError, OSError):
        return False
    return True


def lift_memory_limit() -> None:
    """Back to the hard limit. The learned model's helper process calls this: it inherits the well's limit,
    but it is the process's shared model (about 2 GB of address space for torch alone), not the well's data."""
    try:
        import resource

        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        resource.setrlimit(resource.RLIMIT_AS, (hard, hard))
    except (ImportError, ValueError, OSError):
        pass


# ------------------------------------------------------------------------------------------ processes
def die_with_parent() -> None:
    """A child must not outlive a parent that was killed (kill -9, OOM killer): on Linux ask the
    kernel for SIGTERM when the parent dies; elsewhere poll the parent pid from a daemon thread."""
    ppid = os.getppid()
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            if libc.prctl(1, signal.SIGTERM, 0, 0, 0) == 0:  # PR_SET_PDEATHSIG
                if os.getppid() != ppid:  # parent already gone between fork and prctl
                    os._exit(1)
                return
        except (OSError, AttributeError):
            pass
    import threading

    def watch():
        while True:
            time.sleep(1.0)
            if os.getppid() != ppid:
                os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def _descendants(pid: int) -> list[int]:
    """The processes below `pid` (Linux /proc; [] elsewhere): e.g. the model helper a worker spawned."""
    children: dict[int, list[int]] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    for name in entries:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                stat = f.read()
            ppid = int(stat[stat.rindex(")") + 2 :].split()[1])  # the name in (...) may hold spaces
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(name))
    out, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def kill_tree(pid: int) -> None:
    """SIGKILL a process and everything it started. Its children are listed first: once it is dead they
    belong to init and can no longer be found. SIGKILL, because a process stuck in native code holding the
    GIL never runs a SIGTERM handler's Python."""
    for p in [pid, *_descendants(pid)]:
        try:
            os.kill(p, signal.SIGKILL)
        except OSError:  # already gone
            pass


def _signal_name(status: int) -> str:
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        try:
            return signal.Signals(sig).name
        except ValueError:
            return f"signal {sig}"
    return f"exit code {os.WEXITSTATUS(status)}" if os.WIFEXITED(status) else "unknown status"


def _can_fork() -> bool:
    return hasattr(os, "fork") and hasattr(select, "select")


def run_limited(
    fn: Callable[[], T], timeout: float | None, max_memory: int | None, prepare: Callable[[], None] | None = None
) -> T:
    """Run ``fn()`` in a forked child under the limits and hand back what it returns or raises.

    The parent only waits on a pipe: when the child overruns `timeout` it is killed with its own
    children, whatever it is doing, and TimeLimitExceeded is raised here. The child applies `max_memory`
    (after `prepare()`, which imports what every check needs, so that the program is not counted) and
    turns a MemoryError into MemoryLimitExceeded. Without limits, or without fork, ``fn()`` runs here.

    Parameters
    ----------
    fn : callable
        The work; its return value and its exceptions must pickle (a VerifyError does).
    timeout : float or None
        Seconds; None or 0: no time limit.
    max_memory : int or None
        Bytes the check may add to the child's address space; None or 0: no memory limit.
    prepare : callable, optional
        Run in the child before the memory limit is set.

    Returns
    -------
    object
        What ``fn()`` returned.

    Raises
    ------
    TimeLimitExceeded
        The child ran past `timeout` (exit 75).
    MemoryLimitExceeded
        An allocation in the child failed under `max_memory` (exit 75).
    CheckCrashed
        The child died without an answer, e.g. a segfault in a native library (exit 70).
    BaseException
        Whatever ``fn()`` raised, re-raised here (KeyboardInterrupt in the parent kills the child first).
    """
    if not (timeout or max_memory) or not _can_fork():
        if prepare:
            prepare()
        return fn()
    for stream in (sys.stdout, sys.stderr):  # or the child would write the parent's buffered text again
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # ------------------------------------------------------------------------- child
        os.close(r)
        _child(w, fn, max_memory, prepare)  # never returns
    os.close(w)
    deadline = time.monotonic() + timeout if timeout else None
    chunks: list[bytes] = []
    try:
        while True:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            ready, _, _ = select.select([r], [], [], left)
            if not ready:
                raise TimeLimitExceeded(
                    timeout_message(timeout if timeout is not None else 0.0)
                )  # the child is killed just below
            chunk = os.read(r, 1 << 20)
            if not chunk:  # the child has written everything and closed its end (or died)
                break
            chunks.append(chunk)
        _, status = os.waitpid(pid, 0)
    except BaseException:
        kill_tree(pid)  # Ctrl-C, or our own TimeLimitExceeded: no child is left running
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
        raise
    finally:
        os.close(r)
    try:
        kind, payload = pickle.loads(b"".join(chunks))
    except Exception:  # nothing, or half an answer: the child died on the way
        raise CheckCrashed(
            f"the check died ({_signal_name(status)}): a crash in a native library, or the machine ran out of memory"
        ) from None
    if kind == "ok":
        return payload
    raise payload


def _child(w: int, fn, max_memory: int | None, prepare) -> None:
    """The forked side of `run_limited`: do the work, send ("ok", value) or ("error", exception), _exit."""
    try:
        # Ctrl-C reaches the whole process group: the parent answers it (and kills this child); a child
        # stuck in native code could not answer it anyway
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        die_with_parent()
        try:
            if prepare:
                prepare()
            limited = limit_memory(max_memory)
            try:
                msg = ("ok", fn())
            except MemoryError:
                if not limited or max_memory is None:
                    raise
                msg = ("error", MemoryLimitExceeded(memory_message(max_memory)))
        except BaseException as exc:  # noqa: BLE001 - relayed to the parent, which raises it
            # the parent raises the exception itself, not its chain: a library that makes exceptions pickle
            # their __context__ and traceback (tblib, which Dask distributed installs on import) would
            # otherwise try to send an lxml parse error's log along, which does not pickle
            exc.__context__ = exc.__cause__ = None
            exc.__traceback__ = None
            msg = ("error", exc)
        try:
            data = pickle.dumps(msg)
            pickle.loads(data)  # an exception whose __init__ wants other arguments would fail in the parent
        except Exception:  # noqa: BLE001
            bad = msg[1] if msg[0] == "error" else TypeError("the result cannot be sent back")
            data = pickle.dumps(("error", VerifyError(f"unexpected {bad.__class__.__name__}: {bad}")))
        lift_memory_limit()  # the answer is written whatever the check left mapped
        with os.fdopen(w, "wb") as f:
            f.write(data)
        for stream in (sys.stdout, sys.stderr):  # e.g. a warning printed by the check
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        _stop_model_helper()
    finally:
        os._exit(0)  # never the parent's atexit handlers, nor (under pytest) the rest of its stack


def _stop_model_helper() -> None:
    """The learned model's helper of this child, if it started one: it would otherwise linger until it
    notices that its owner has gone."""
    mod = sys.modules.get("verify.structure.learned")
    if mod is not None and hasattr(mod, "stop_helper"):
        try:
            mod.stop_helper()
        except Exception:  # noqa: BLE001 - the answer is already sent
            pass
