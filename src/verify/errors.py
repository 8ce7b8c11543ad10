"""Errors that reach the user as one line and a documented exit code.

Exit codes (the command's contract):
  0 consistent, 1 suspicious, 2 inconsistent,
  64 usage error, 65 unreadable or corrupt input (including invalid SMILES),
  66 an input path that does not exist,
  73 an output file that cannot be created (read-only folder, no permission),
  74 an input/output error while writing (disk full),
  70 the check's process crashed (a native library), 75 the check was stopped by --timeout or --max-memory.
"""

from __future__ import annotations

import argparse
import os

EXIT_CONSISTENT = 0
EXIT_SUSPICIOUS = 1
EXIT_INCONSISTENT = 2
EXIT_USAGE = 64
EXIT_DATAERR = 65
EXIT_NOINPUT = 66
EXIT_CANTCREAT = 73
EXIT_IOERR = 74
EXIT_SOFTWARE = 70  # EX_SOFTWARE: the process doing the check died (verify.limits)
EXIT_TEMPFAIL = 75  # EX_TEMPFAIL: a limit stopped the check; a larger one may pass (verify.limits)

VERDICT_EXIT = {
    "consistent": EXIT_CONSISTENT,
    "suspicious": EXIT_SUSPICIOUS,
    "inconsistent": EXIT_INCONSISTENT,
    # expectation only (no data given): the printout succeeded; the JSON's verdict says nothing was checked
    "unchecked": EXIT_CONSISTENT,
}


class VerifyError(Exception):
    """An error the user can act on; `str()` is the one line we print."""

    exit_code = EXIT_DATAERR

    def __init__(self, message: str, path: str | os.PathLike | None = None):
        self.path = None if path is None else str(path)
        self.message = message
        super().__init__(f"{self.path}: {message}" if self.path else message)


class UsageError(VerifyError):
    exit_code = EXIT_USAGE


class InputError(VerifyError):
    """Unreadable, corrupt or unsupported input (exit 65)."""

    exit_code = EXIT_DATAERR


class MissingInputError(VerifyError):
    """An input path that does not exist (exit 66)."""

    exit_code = EXIT_NOINPUT


class CannotCreateError(VerifyError):
    """An output that cannot be created: read-only folder, no permission (exit 73, EX_CANTCREAT)."""

    exit_code = EXIT_CANTCREAT


class OutputIOError(VerifyError):
    """Writing an output failed part-way: disk full, I/O error (exit 74, EX_IOERR)."""

    exit_code = EXIT_IOERR


class UsageErrorParser(argparse.ArgumentParser):
    """argparse that reports a bad command line as UsageError (exit 64) instead of exiting 2.

    Shared by `verify` and `verify plate` (verify.plate.cli), which therefore need not import each other."""

    def error(self, message):  # argparse would exit 2, which is our "inconsistent"
        # one "verify: error:" prefix (main prints it); the command to ask for help instead of its name again
        raise UsageError(f"{message} (see '{self.prog} --help')")
