"""Guards every reader applies before it opens a file a lab (or an attacker) handed over.

Only regular files and folders are read: a FIFO would block for ever, a device could stream for ever. Parameter
files are read whole only below a stated size (MAX_PARAMETER_BYTES); header numbers are checked once, at the
reader, to be finite and within a physical range (header_number); a compressed stream is read through a
CappedStream that stops a decompression bomb (a total byte cap, and a cap on the bytes between two records).
"""

from __future__ import annotations

import math
import os
import stat
from pathlib import Path

from .errors import InputError, MissingInputError

__all__ = ["MAX_PARAMETER_BYTES", "CappedStream", "header_number", "read_capped", "require_regular"]


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
    kind = (
        "a FIFO (named pipe)"
        if stat.S_ISFIFO(mode)
        else "a socket"
        if stat.S_ISSOCK(mode)
        else "a device"
        if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
        else "not a regular file"
    )
    raise InputError(f"{what} is {kind}; only regular files and folders are read", p)


# ----------------------------------------------------------------------------- bounded reads

# A parameter file (Bruker acqus/procs, Varian procpar, Prospa acqu.par) is a few kB to a few hundred kB (the real
# ones here: 6.7-31 kB); anything over this is not one, and is refused before a parser walks it.
MAX_PARAMETER_BYTES = 16 * 1024 * 1024


def read_capped(path: str | os.PathLike, limit: int, what: str = "input") -> bytes:
    """The bytes of a regular file, refused when it is larger than `limit`.

    Parameters
    ----------
    path : str or path-like
        The file.
    limit : int
        Largest size accepted, in bytes.
    what : str, optional
        What the file is, in the error message (default "input").

    Returns
    -------
    bytes
        The whole file.

    Raises
    ------
    MissingInputError
        The file does not exist (exit 66).
    InputError
        Not a regular file, unreadable, or larger than `limit` (exit 65).
    """
    p = require_regular(path, what, allow_dir=False)
    try:
        with open(p, "rb") as fh:
            raw = fh.read(limit + 1)
    except OSError as exc:
        raise InputError(f"cannot read {what} ({exc.strerror or exc.__class__.__name__})", p) from None
    if len(raw) > limit:
        raise InputError(
            f"{what} is larger than {limit // (1024 * 1024)} MB (the limit for such a file); not a genuine one", p
        )
    return raw


def header_number(value, key: str, path, lo: float, hi: float, unit: str = "", what: str = "header") -> float:
    """A numeric header value as float, checked to be finite and within [lo, hi].

    Parameters
    ----------
    value : object
        The value as the parser returned it (number, numeric string, or None).
    key : str
        The header key, named in the error (e.g. "SFO1").
    path : str or path-like
        The file the value comes from, named in the error.
    lo, hi : float
        The physical range accepted, inclusive, in `unit`.
    unit : str, optional
        Unit of the value and of the range, for the message (default none).
    what : str, optional
        The kind of header, for the message (default "header"), e.g. "acqus".

    Returns
    -------
    float
        The value.

    Raises
    ------
    InputError
        Missing, not a number, not finite, or outside [lo, hi] (exit 65).
    """
    u = f" {unit}" if unit else ""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise InputError(f"{what} gives no {key}", path)
    try:
        v = float(value)
    except (TypeError, ValueError, OverflowError):
        raise InputError(f"{what}: {key} = {str(value)[:40]!r} is not a number", path) from None
    if not math.isfinite(v):
        raise InputError(f"{what}: {key} = {v} is not a finite number", path)
    if not lo <= v <= hi:
        raise InputError(
            f"{what}: {key} = {v:g}{u} is outside the physical range {lo:g} to {hi:g}{u} (damaged or not a 1H header)",
            path,
        )
    return v


# ----------------------------------------------------------------------------- decompression and stream caps


class CappedStream:
    """A read-only file object over another that stops a decompression bomb or a runaway element.

    Counts the bytes handed to the parser (decompressed, for a gzip stream) and raises InputError when the
    total passes `max_bytes`, or when more than `max_gap` bytes go by without one of the `boundaries` (the
    start or end tags of the repeated records, e.g. b"<spectrum"): a single text node, comment or element that
    large is not data but filler, and the XML parser would hold all of it in memory.

    Parameters
    ----------
    fh : file object
        The underlying binary stream (opened by the caller, closed with this object).
    path : str or path-like
        The file, for the error message.
    max_bytes : int
        Cap on the bytes read in all.
    max_gap : int
        Cap on the bytes read between two boundary tokens.
    boundaries : tuple of bytes
        Tokens that end a gap.
    names : tuple of str, optional
        How the two limits are named in the messages (the module constants the caller defines).
    """

    def __init__(
        self,
        fh,
        path,
        max_bytes: int,
        max_gap: int,
        boundaries: tuple[bytes, ...],
        names: tuple[str, str] = ("byte limit", "element limit"),
    ):
        self._fh = fh
        self._path = path
        self.max_bytes, self.max_gap = int(max_bytes), int(max_gap)
        self._boundaries = boundaries
        self._keep = max(len(b) for b in boundaries) - 1  # a token split across two reads is still found
        self._names = names
        self.pos = 0  # bytes handed out so far (position in the decompressed stream)
        self._last_boundary = 0
        self._tail = b""

    def read(self, n: int = -1) -> bytes:
        room = self.max_bytes + 1 - self.pos
        n = room if n is None or n < 0 else min(n, room)
        data = self._fh.read(n) if n > 0 else b""
        if not data:
            return data
        start = self.pos
        self.pos += len(data)
        if self.pos > self.max_bytes:
            raise InputError(
                f"more than {self.max_bytes // (1024 * 1024)} MB of data (decompressed) in one run: "
                f"stopped at the {self._names[0]}; a decompression bomb or not a genuine file",
                self._path,
            )
        buf = self._tail + data
        hit = max(buf.rfind(b) for b in self._boundaries)
        if hit >= 0:
            self._last_boundary = start - len(self._tail) + hit
        self._tail = buf[-self._keep :] if self._keep else b""
        if self.pos - self._last_boundary > self.max_gap:
            raise InputError(
                f"{self.max_gap // (1024 * 1024)} MB of data without a record boundary "
                f"({self._boundaries[0].decode()}...): stopped at the {self._names[1]}; filler such as a "
                "decompression bomb, not a genuine file",
                self._path,
            )
        return data

    def readinto(self, b) -> int:
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def tell(self) -> int:
        return self.pos

    def close(self) -> None:
        self._fh.close()

    @property
    def closed(self) -> bool:
        return self._fh.closed

    @property
    def name(self):
        return getattr(self._fh, "name", str(self._path))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
