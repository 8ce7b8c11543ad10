"""Writing output files so that a reader never sees half of one, and a failed write is one clear line.

Every output (the single command's `-o`, a plate's results.json/results.csv/index.html) goes through
`write_atomic`: the text is written to a temporary file in the same folder, flushed and fsync'ed, then
renamed over the target with `os.replace` (atomic on POSIX and Windows within one file system). A full
disk, an I/O error, a read-only or missing folder therefore leaves the previous file (or none), never a
truncated one, and ends as `CannotCreateError` (exit 73) or `OutputIOError` (exit 74).
"""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

from ..errors import CannotCreateError, OutputIOError, VerifyError

__all__ = ["write_atomic", "output_error"]

# errno values that mean "this output cannot be created here" (EX_CANTCREAT, 73); any other OSError while
# writing is an I/O error (EX_IOERR, 74): ENOSPC, EDQUOT, EIO, EFBIG ...
_CANNOT_CREATE = {
    errno.EACCES,
    errno.EPERM,
    errno.EROFS,
    errno.ENOENT,
    errno.ENOTDIR,
    errno.EISDIR,
    errno.ENAMETOOLONG,
    errno.ELOOP,
    errno.EEXIST,
    errno.EXDEV,
}
# read once (os.umask can only be read by setting it): the mode a plain open() would give a new file
_UMASK = os.umask(0)
os.umask(_UMASK)


def output_error(exc: OSError, path: str | os.PathLike, what: str = "output") -> VerifyError:
    """The one-line error for an OSError raised while creating or writing `path`.

    Parameters
    ----------
    exc : OSError
        The error the write raised.
    path : str or path-like
        The output file (named in the message).
    what : str, optional
        What the file is, in the message (default "output").

    Returns
    -------
    CannotCreateError or OutputIOError
        Exit 73 for permission, read-only file system, missing folder or a file where a folder should be;
        exit 74 for everything else (disk full, quota, I/O error).
    """
    reason = exc.strerror or exc.__class__.__name__
    if exc.errno in _CANNOT_CREATE:
        return CannotCreateError(f"cannot create {what} ({reason})", path)
    return OutputIOError(f"cannot write {what} ({reason})", path)


def write_atomic(path: str | os.PathLike, data: str | bytes, what: str = "output") -> Path:
    """Write `data` to `path` atomically: temporary file in the same folder, fsync, `os.replace`.

    Parameters
    ----------
    path : str or path-like
        The file to create or replace. Its folder must exist.
    data : str or bytes
        The content; text is encoded as UTF-8 and written without newline translation.
    what : str, optional
        What the file is, in an error message (default "output").

    Returns
    -------
    pathlib.Path
        `path`.

    Raises
    ------
    CannotCreateError
        The folder is missing, read-only or not writable, or `path` is a folder (exit 73).
    OutputIOError
        The disk is full or the write failed part-way (exit 74); the previous file, if any, is untouched.
    """
    p = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    tmp = None
    try:
        if p.is_dir():  # os.replace would say EISDIR only on some systems; say it the same way everywhere
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(p))
        fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent if str(p.parent) else ".")
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; an output should get the usual mode
        os.replace(tmp, p)
        tmp = None
    except OSError as exc:
        raise output_error(exc, p, what) from None
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
    return p
