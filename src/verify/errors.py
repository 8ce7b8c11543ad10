"""Errors that reach the user as one line and a documented exit code.

Exit codes (the command's contract):
  0 consistent, 1 suspicious, 2 inconsistent,
  64 usage error, 65 unreadable or corrupt input (including invalid SMILES),
  66 an input path that does not exist.
"""

from __future__ import annotations

EXIT_CONSISTENT = 0
EXIT_SUSPICIOUS = 1
EXIT_INCONSISTENT = 2
EXIT_USAGE = 64
EXIT_DATAERR = 65
EXIT_NOINPUT = 66

VERDICT_EXIT = {
    "consistent": EXIT_CONSISTENT,
    "suspicious": EXIT_SUSPICIOUS,
    "inconsistent": EXIT_INCONSISTENT,
}


class VerifyError(Exception):
    """An error the user can act on; `str()` is the one line we print."""

    exit_code = EXIT_DATAERR

    def __init__(self, message: str, path: str | None = None):
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
