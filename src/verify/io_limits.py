"""Guards every reader applies before it opens a file a lab (or an attacker) handed over.

Only regular files and folders are read: a FIFO would block for ever, a device could stream for ever.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from .errors import InputError, MissingInputError

__all__ = ["require_regular"]


def require_regular(path: str | os.PathLike, what: str = "input", allow_dir: bool = True) -> Path:
    """Check that `path` is a regular file (or a folder when `allow_dir`) before anything opens it.

    Parameters
    ----------
    path : str or path-like
        The input as the user gave it.
    what : str, optional
        What the input is, in the error message (default "input").
    allow_dir : bool, optional
        Accept a folder (a Bruker or Varian experiment); default True.

    Returns
    -------
    pathlib.Path
        The same path.

    Raises
    ------
    MissingInputError
        The path does not exist (exit 66).
    InputError
        A FIFO, socket, device or other special file, or a folder where a file is needed (exit 65).
    """
    p = Path(path)
    try:
        mode = os.stat(p).st_mode
    except FileNotFoundError:
        raise MissingInputError(f"{what} not found", p) from None
    except OSError as exc:
        raise InputError(f"cannot read {what} ({exc.strerror or exc.__class__.__name__})", p) from None
    if stat.S_ISREG(mode):
        return p
    if stat.S_ISDIR(mode):
        if allow_dir:
            return p
        raise InputError(f"{what} is a folder, expected a file", p)
    kind = ("a FIFO (named pipe)" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode)
            else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "not a regular file")
    raise InputError(f"{what} is {kind}; only regular files and folders are read", p)
