"""mzML (or mzXML) run -> compact MS1 centroids (and MS2 summaries), streamed.

`read_run` dispatches by suffix: `.mzXML` / `.mzXML.gz` go to read_mzxml.py (pyteomics' mzXML reader), everything
else is read as mzML here; both fill the same `Run` through `RunBuilder`.

pyteomics drives the parsing (its `MzML` reader is the file object lxml's `iterparse` reads, one
`<spectrum>` element at a time, freed after use; binary arrays decoded by pyteomics' `decode_data_array`; referenceable param
groups resolved by pyteomics). Only the handful of terms this tool needs are read from each spectrum
element (ms level, polarity, centroid/profile, scan start time and its unit, precursor m/z, the m/z and
intensity arrays): pyteomics' generic conversion of every cvParam into nested dicts is what makes plain
iteration slow (see bench/bench_ms.py), and it needs psims' controlled vocabulary loaded.

What is kept per MS1 scan: retention time (s), polarity (+1/-1/0), TIC, and its centroids in one flat
float64 m/z array and one float32 intensity array with per-scan offsets (CSR layout, 12 bytes per
centroid). Profile scans are centroided on the fly, so a several-hundred-MB profile run is never held
in memory whole. MS2 scans are kept as precursor m/z, RT, polarity and their 50 most intense peaks.
"""

from __future__ import annotations

import binascii
import gzip
import io
import math
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputError, MissingInputError
from ..io_limits import CappedStream, require_regular
from ._pyteomics import NO_CV, mzml

# PSI-MS accessions read from each spectrum
_MS_LEVEL = "MS:1000511"
_MS1_SPECTRUM = "MS:1000579"
_MSN_SPECTRUM = "MS:1000580"
_POSITIVE = "MS:1000130"
_NEGATIVE = "MS:1000129"
_CENTROID = "MS:1000127"
_PROFILE = "MS:1000128"
_SCAN_START = "MS:1000016"
_TIC = "MS:1000285"
_SELECTED_MZ = "MS:1000744"
_MZ_ARRAY = "MS:1000514"
_INT_ARRAY = "MS:1000515"
_DTYPES = {"MS:1000523": np.float64, "MS:1000521": np.float32, "MS:1000522": np.int64, "MS:1000519": np.int32}
_COMPRESSION = {
    "MS:1000574": "zlib compression",
    "MS:1000576": "no compression",
    "MS:1002312": "MS-Numpress linear prediction compression",
    "MS:1002313": "MS-Numpress positive integer compression",
    "MS:1002314": "MS-Numpress short logged float compression",
    "MS:1002746": "MS-Numpress linear prediction compression followed by zlib compression",
    "MS:1002747": "MS-Numpress positive integer compression followed by zlib compression",
    "MS:1002748": "MS-Numpress short logged float compression followed by zlib compression",
}
_MINUTE_UNITS = {"UO:0000031", "minute", "min"}
_HOUR_UNITS = {"UO:0000032", "hour"}
_NAME_TO_ACC = {  # for params that arrive by name (resolved referenceable param groups)
    "ms level": _MS_LEVEL,
    "MS1 spectrum": _MS1_SPECTRUM,
    "MSn spectrum": _MSN_SPECTRUM,
    "positive scan": _POSITIVE,
    "negative scan": _NEGATIVE,
    "centroid spectrum": _CENTROID,
    "profile spectrum": _PROFILE,
    "scan start time": _SCAN_START,
    "total ion current": _TIC,
    "m/z array": _MZ_ARRAY,
    "intensity array": _INT_ARRAY,
    "64-bit float": "MS:1000523",
    "32-bit float": "MS:1000521",
    "64-bit integer": "MS:1000522",
    "32-bit integer": "MS:1000519",
    "zlib compression": "MS:1000574",
    "no compression": "MS:1000576",
}
MS2_PEAKS_KEPT = 50
MAX_MS_LEVEL = 100  # MSn beyond MS10 is not done on any instrument; a larger "ms level" is damage, not data

# Decompression caps (issue 12). gzip expands filler ~1000-fold, so a few MB of .mzML.gz can hold gigabytes of it.
# The largest runs this tool reads (a 1-2 h LC-MS run stored in profile mode) are a few GB of mzML; a stream that
# decompresses past this cap is refused, with a one-line error, instead of being read for minutes.
MAX_DECOMPRESSED_BYTES = 16 * 1024**3
# No genuine record needs more than this between two tags: the largest text node is one base64 array (6 million
# uncompressed 64-bit values are ~64 MB). More is filler that lxml would hold whole in memory; applies to plain
# files as well as to gzip streams.
MAX_RECORD_GAP_BYTES = 128 * 1024**2
_CAP_NAMES = ("decompressed size cap (MAX_DECOMPRESSED_BYTES)", "record size cap (MAX_RECORD_GAP_BYTES)")
# tags that end a gap: records, their arrays, and the index of an indexed file (one <offset> per spectrum)
MZML_BOUNDARIES = (
    b"<spectrum",
    b"</spectrum",
    b"<binary",
    b"</binary",
    b"<chromatogram",
    b"</chromatogram",
    b"<offset",
    b"</offset",
)
FAST_ITERATION = True  # False: pyteomics' own `iterfind("spectrum")` (same results, slower; see bench)


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


@dataclass
class Ms2Scan:
    rt_s: float
    precursor_mz: float | None
    polarity: int
    mz: np.ndarray
    intensity: np.ndarray


@dataclass
class Run:
    """MS1 centroids of a run in CSR layout, plus MS2 summaries and what the file said about itself."""

    path: str
    rt_s: np.ndarray  # (n_scans,) float64, seconds
    polarity: np.ndarray  # (n_scans,) int8: +1 positive, -1 negative, 0 unknown
    tic: np.ndarray  # (n_scans,) float64 (sum of centroid intensities)
    offsets: np.ndarray  # (n_scans + 1,) int64 into mz / intensity
    mz: np.ndarray  # float64, sorted within each scan
    intensity: np.ndarray  # float32
    ms2: list[Ms2Scan] = field(default_factory=list)
    spectrum_mode: str = "centroid"  # centroid | profile | mixed (MS1 as stored in the file)
    rt_unit: str = "second"  # unit the file used
    n_spectra: int = 0
    notes: list[str] = field(default_factory=list)
    n_nonfinite: int = 0  # points dropped by the reader because their m/z or intensity was NaN or infinite

    @property
    def n_scans(self) -> int:
        return len(self.rt_s)

    @property
    def polarities(self) -> set[int]:
        return set(np.unique(self.polarity).tolist())

    def scan(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        a, b = self.offsets[i], self.offsets[i + 1]
        return self.mz[a:b], self.intensity[a:b]

    def scan_ids(self) -> np.ndarray:
        """Scan index of every centroid (for vectorised work)."""
        return np.repeat(np.arange(self.n_scans), np.diff(self.offsets))

    def select(self, polarity: int | None) -> Run:
        """A view of the run restricted to one polarity (all scans when None or when unknown)."""
        if polarity is None:
            return self
        keep = np.nonzero((self.polarity == polarity) | (self.polarity == 0))[0]
        if len(keep) == self.n_scans:
            return self
        counts = np.diff(self.offsets)[keep]
        offsets = np.zeros(len(keep) + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        idx = (
            np.concatenate([np.arange(self.offsets[i], self.offsets[i + 1]) for i in keep])
            if len(keep)
            else np.zeros(0, dtype=np.int64)
        )
        return Run(
            self.path,
            self.rt_s[keep],
            self.polarity[keep],
            self.tic[keep],
            offsets,
            self.mz[idx],
            self.intensity[idx],
            [m for m in self.ms2 if m.polarity in (polarity, 0)],
            self.spectrum_mode,
            self.rt_unit,
            self.n_spectra,
            self.notes,
            self.n_nonfinite,
        )


def centroid_profile(mz: np.ndarray, intensity: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centroid one profile spectrum: local maxima; m/z from a Gaussian (log-parabola) fit of the apex
    and its two neighbours (intensity-weighted mean when a neighbour is missing); intensity = sum of
    the apex and up to two points on each falling flank (3-5 points). Gaps (zero points dropped by the
    instrument software) count as zero intensity."""
    mz = np.asarray(mz, dtype=np.float64)
    y = np.asarray(intensity, dtype=np.float64)
    n = len(mz)
    if n < 3:
        keep = y > 0
        return mz[keep], y[keep].astype(np.float32)
    i = np.nonzero((y[1:-1] > y[:-2]) & (y[1:-1] >= y[2:]) & (y[1:-1] > 0))[0] + 1
    # also maxima at the ends
    if y[0] > 0 and y[0] > y[1]:
        i = np.concatenate([[0], i])
    if y[-1] > 0 and y[-1] > y[-2]:
        i = np.concatenate([i, [n - 1]])
    if len(i) == 0:
        return np.zeros(0), np.zeros(0, dtype=np.float32)
    ypad = np.concatenate([[0.0, 0.0], y, [0.0, 0.0]])
    xpad = np.concatenate([[mz[0] - 2e3, mz[0] - 1e3], mz, [mz[-1] + 1e3, mz[-1] + 2e3]])
    j = i + 2
    x0, x1, x2 = xpad[j - 1], xpad[j], xpad[j + 1]
    dl, dr = x1 - x0, x2 - x1
    # a neighbour across a gap (spacing > 2.5x the other side) is treated as zero
    yl = np.where(dl > 2.5 * dr, 0.0, ypad[j - 1])
    yr = np.where(dr > 2.5 * dl, 0.0, ypad[j + 1])
    y1 = ypad[j]
    both = (yl > 0) & (yr > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        f0, f1, f2 = np.log(np.where(both, yl, 1.0)), np.log(y1), np.log(np.where(both, yr, 1.0))
        num = (x1 - x0) ** 2 * (f1 - f2) - (x1 - x2) ** 2 * (f1 - f0)
        den = (x1 - x0) * (f1 - f2) - (x1 - x2) * (f1 - f0)
        vertex = x1 - 0.5 * num / den
        wmean = (x0 * yl + x1 * y1 + x2 * yr) / (yl + y1 + yr)
    ok = both & np.isfinite(vertex) & (den != 0) & (vertex >= x0) & (vertex <= x2)
    cmz = np.where(ok, vertex, wmean)
    # intensity: apex + falling flanks, up to 2 points each side
    yll = np.where((ypad[j - 2] < yl) & (xpad[j - 1] - xpad[j - 2] < 2.5 * dr), ypad[j - 2], 0.0)
    yrr = np.where((ypad[j + 2] < yr) & (xpad[j + 2] - xpad[j + 1] < 2.5 * dl), ypad[j + 2], 0.0)
    ci = y1 + yl + yr + np.where(yl > 0, yll, 0.0) + np.where(yr > 0, yrr, 0.0)
    order = np.argsort(cmz, kind="stable")
    return cmz[order], ci[order].astype(np.float32)


def _looks_profile(mz: np.ndarray) -> bool:
    """For files that do not say: profile data have many points at near-constant small spacing."""
    if len(mz) < 50:
        return False
    d = np.diff(mz)
    med = np.median(d)
    return bool(med > 0 and med / np.median(mz) < 2e-5 and np.mean(d < 3 * med) > 0.6)


class _LeanMzML(mzml.MzML):
    """pyteomics' MzML reader that turns each <spectrum> element into just what is needed."""

    def _get_info_smart(self, element, **kw):
        if _local(element.tag) == "spectrum":
            return self._lean_spectrum(element)
        return super()._get_info_smart(element, **kw)

    def iter_spectra(self):
        """Lean dicts of every <spectrum>, streamed: lxml's iterparse over this pyteomics reader with the
        tag filter done in C (pyteomics' own `iterfind` inspects every element in Python, ~2x slower);
        each element and its already-read siblings are freed as soon as it is converted."""
        from lxml import etree

        for _ev, el in etree.iterparse(self, events=("end",), tag="{*}spectrum", huge_tree=True, remove_comments=True):
            yield self._lean_spectrum(el)
            el.clear(keep_tail=True)
            parent = el.getparent()
            if parent is not None:
                while el.getprevious() is not None:
                    del parent[0]

    def _group_params(self, ref_elem) -> list[tuple[str | None, str, str]]:
        out = []
        for p in self._handle_referenceable_param_group(ref_elem):
            name = p.name
            acc = getattr(name, "accession", None) or _NAME_TO_ACC.get(str(name))
            unit = getattr(p.value, "unit_info", None) or p.type
            value = p.value
            out.append((acc, "" if value is None else str(value), str(unit) if unit else ""))
        return out

    def _params(self, element, stop: str | None = None):
        """(accession, value, unit) of the cvParams under element (and its referenced groups),
        not descending into elements named `stop`."""
        stack = [element]
        while stack:
            el = stack.pop()
            for child in el:
                tag = _local(child.tag)
                if tag == "cvParam":
                    yield (
                        child.get("accession"),
                        child.get("value", ""),
                        child.get("unitAccession") or child.get("unitName") or "",
                    )
                elif tag == "referenceableParamGroupRef":
                    yield from self._group_params(child)
                elif tag != stop and tag != "binary" and len(child):
                    stack.append(child)

    def _lean_spectrum(self, element) -> dict:
        info = {
            "id": element.get("id"),
            "ms_level": None,
            "polarity": 0,
            "mode": None,
            "rt": None,
            "rt_unit": "",
            "tic": None,
            "precursor_mz": None,
            "mz": None,
            "intensity": None,
        }
        for acc, value, unit in self._params(element, stop="binaryDataArrayList"):
            if acc == _MS_LEVEL:
                info["ms_level"] = ms_level(value, f"spectrum {info['id']}")
            elif acc == _MS1_SPECTRUM and info["ms_level"] is None:
                info["ms_level"] = 1
            elif acc == _MSN_SPECTRUM and info["ms_level"] is None:
                info["ms_level"] = 2
            elif acc == _POSITIVE:
                info["polarity"] = 1
            elif acc == _NEGATIVE:
                info["polarity"] = -1
            elif acc == _CENTROID:
                info["mode"] = "centroid"
            elif acc == _PROFILE:
                info["mode"] = "profile"
            elif acc == _SCAN_START and info["rt"] is None:
                info["rt"], info["rt_unit"] = float(value), unit
            elif acc == _TIC:
                info["tic"] = float(value)
            elif acc == _SELECTED_MZ and info["precursor_mz"] is None:
                info["precursor_mz"] = float(value)
        for bda in element.iter("{*}binaryDataArray"):
            kind = dtype = None
            compression = "no compression"
            for acc, _value, _unit in self._params(bda):
                if acc == _MZ_ARRAY:
                    kind = "mz"
                elif acc == _INT_ARRAY:
                    kind = "intensity"
                elif acc in _DTYPES:
                    dtype = _DTYPES[acc]
                elif acc in _COMPRESSION:
                    compression = _COMPRESSION[acc]
            if kind is None:
                continue
            binary = next(bda.iter("{*}binary"), None)
            text = (binary.text or "") if binary is not None else ""
            if compression not in self.compression_type_map:
                raise ValueError(f"unsupported binary compression '{compression}' (pynumpress not installed)")
            if text.strip():
                arr = decode_binary(
                    self.decode_data_array, text, compression, dtype or np.float64, f"spectrum {info['id']}"
                )
            else:
                arr = np.zeros(0)
            info[kind] = arr
        return info


class BadSpectrum(Exception):
    """One spectrum's own values are unusable (read_run turns it into an InputError naming the file and the
    spectrum); not a ValueError, so that it is not reported as a truncated or corrupt file."""


def ms_level(value, where: str) -> int:
    """The MS level `value` (attribute text or number) as an int from 1 to MAX_MS_LEVEL; BadSpectrum naming
    `where` (e.g. "spectrum scan=3") otherwise ("-inf", "nan", "1e400", "0", "1.5", "two")."""
    try:
        v = float(value)
    except (TypeError, ValueError, OverflowError):
        v = float("nan")
    if not (math.isfinite(v) and v == int(v) and 1 <= v <= MAX_MS_LEVEL):
        raise BadSpectrum(
            f"{where}: ms level {str(value)[:40]!r} is not a whole number from 1 to {MAX_MS_LEVEL}; damaged file"
        )
    return int(v)


def decode_binary(decode, text: str, compression, dtype, where: str) -> np.ndarray:
    """One base64 binary array decoded by pyteomics' `decode` (its `decode_data_array`), each damage named.

    pyteomics meets a damaged array as a UnicodeEncodeError (characters that are not ASCII), a binascii.Error
    (not base64), a zlib.error (a damaged compressed stream) or numpy's "buffer size must be a multiple of element
    size" (bytes that are not a whole number of values); read as "corrupt file (...)" those say which Python error
    it was, not which spectrum's array is damaged and how.

    Parameters
    ----------
    decode : callable
        The reader's `decode_data_array(text, compression, dtype)`.
    text : str
        The base64 text of the array.
    compression : str or None
        The compression as the file names it (pyteomics' names).
    dtype : numpy dtype
        The values' type.
    where : str
        The spectrum or scan, for the message (e.g. "spectrum scan=3").

    Returns
    -------
    ndarray
        The decoded values.

    Raises
    ------
    BadSpectrum
        The array is not base64, not a valid compressed stream, or not a whole number of values.
    """
    try:
        return decode(text, compression, dtype)
    except UnicodeEncodeError:
        raise BadSpectrum(f"{where}: binary array holds characters that are not base64; damaged file") from None
    except binascii.Error:
        raise BadSpectrum(f"{where}: binary array is not valid base64; damaged file") from None
    except zlib.error as exc:
        raise BadSpectrum(f"{where}: binary array's compressed stream is damaged ({exc}); damaged file") from None
    except ValueError:
        size = np.dtype(dtype).itemsize
        raise BadSpectrum(
            f"{where}: binary array is not a whole number of {size}-byte values; damaged file or a wrong data type"
        ) from None


class _CappedRun(CappedStream):
    """CappedStream that can seek: pyteomics reads the file's version from its start, then seeks back to 0 (and
    restores positions it got from tell()). A seek restarts the counts at the new position, so the caps still
    bound every pass the parser makes."""

    def seek(self, offset: int, whence: int = 0) -> int:
        pos = self._fh.seek(offset, whence)
        self.pos = self._last_boundary = pos
        self._tail = b""
        return pos

    def seekable(self) -> bool:
        return self._fh.seekable()


# the messages of Python's and pyteomics' number conversions when an attribute or a value is not a number
_NOT_A_NUMBER = re.compile(
    r"(?:invalid literal for (int|float)\(\)(?: with base \d+)?|could not convert string to (float)): \\?'([^'\\]*)"
)


def parse_failure_reason(exc: BaseException) -> str:
    """What broke a parse, in one line for the error message: a value that is not a number named by the value
    ("a value '1x5' where a number belongs"), else the first line of the parser's message."""
    text = str(exc)
    m = _NOT_A_NUMBER.search(text)
    if m:
        kind = "a whole number" if m.group(1) == "int" else "a number"
        return f"a value {m.group(3)!r} where {kind} belongs"
    return text.splitlines()[0] if text else type(exc).__name__


def open_capped(path: Path, boundaries: tuple[bytes, ...] = MZML_BOUNDARIES) -> CappedStream:
    """The run as a binary stream (gunzipped when it starts with the gzip magic), read through a CappedStream:
    a gzip stream is stopped at MAX_DECOMPRESSED_BYTES, any stream at MAX_RECORD_GAP_BYTES without one of
    `boundaries` (module constants read at call time, so a test can lower them)."""
    with open(path, "rb") as fh:
        magic = fh.read(2)
    raw: io.BufferedIOBase
    if magic == b"\x1f\x8b":
        raw, total = gzip.open(path, "rb"), MAX_DECOMPRESSED_BYTES
    else:
        raw, total = open(path, "rb"), 1 << 62  # a plain file is its size on disk: nothing is amplified
    return _CappedRun(raw, path, total, MAX_RECORD_GAP_BYTES, boundaries, _CAP_NAMES)


def sniff_format(path: Path, expected: str = "mzML") -> str:
    """The format the file's first 64 kB show, 'mzML' or 'mzXML'; InputError, naming `expected`, for anything
    else (also for an unreadable file)."""
    try:
        with open_capped(path) as fh:
            head = fh.read(65536)
    except (OSError, EOFError, zlib.error) as exc:
        raise InputError(f"cannot read the file ({exc})", path) from None
    if b"<mzML" in head or b"<indexedmzML" in head:
        return "mzML"
    if b"<mzXML" in head:
        return "mzXML"
    what = "empty file" if not head.strip() else f"no <{expected}> element at the start"
    raise InputError(f"not an {expected} file ({what})", path)


def read_run(path: str | Path, keep_ms2: bool = True) -> Run:
    """Read an .mzML / .mzML.gz run (indexed or not), or an .mzXML / .mzXML.gz run, into compact MS1 centroids.

    Parameters
    ----------
    path : str or Path
        The run; `.mzXML` / `.mzXML.gz` (any case) are read by read_mzxml.py, everything else as mzML.
    keep_ms2 : bool
        Keep MS2 summaries (precursor, RT, polarity, most intense peaks).

    Returns
    -------
    Run
        MS1 centroids in CSR layout, sorted by retention time.

    Raises
    ------
    InputError
        (exit 65) a file that is not mzML/mzXML, truncated or corrupt, or has no MS1 scans.
    MissingInputError
        (exit 66) the path does not exist."""
    from lxml import etree
    from pyteomics.auxiliary import PyteomicsError

    p = Path(path)
    if not p.exists():
        raise MissingInputError("no such file or directory", p)
    if p.is_dir():
        raise InputError("is a directory, expected an .mzML or .mzXML file", p)
    require_regular(p, "MS input", allow_dir=False)  # a FIFO, socket or device would block or stream for ever
    if is_mzxml_path(p) or sniff_format(p) == "mzXML":
        from .read_mzxml import read_mzxml

        return read_mzxml(p, keep_ms2=keep_ms2)
    b = RunBuilder(p, keep_ms2)
    try:
        with open_capped(p) as fh:
            reader = _LeanMzML(fh, use_index=False, cv=NO_CV, read_schema=False, huge_tree=True)
            for spec in reader.iter_spectra() if FAST_ITERATION else reader.iterfind("spectrum"):
                b.n_spectra += 1
                level = spec["ms_level"] or 1
                mz, inten = spec["mz"], spec["intensity"]
                if mz is None or inten is None:
                    continue
                if len(mz) != len(inten):
                    raise InputError(f"spectrum {spec['id']}: m/z and intensity arrays differ in length", p)
                rt = spec["rt"] if spec["rt"] is not None else float(b.n_spectra)
                unit = spec["rt_unit"]
                b.units.add(unit)
                if unit in _MINUTE_UNITS:
                    rt *= 60.0
                elif unit in _HOUR_UNITS:
                    rt *= 3600.0
                b.add(level, rt, spec["polarity"], spec["mode"], mz, inten, spec["precursor_mz"])
    except InputError:
        raise
    except BadSpectrum as exc:
        raise InputError(str(exc), p) from None
    except (
        etree.XMLSyntaxError,
        EOFError,
        zlib.error,
        PyteomicsError,
        ValueError,
        OSError,
        KeyError,
        TypeError,
    ) as exc:
        raise InputError(
            f"truncated or corrupt mzML after {b.n_spectra} spectra ({parse_failure_reason(exc)})", p
        ) from None
    return b.build()


def is_mzxml_path(p: Path) -> bool:
    """True for `.mzXML` and `.mzXML.gz` names (any letter case)."""
    name = p.name.lower()
    return name.endswith(".mzxml") or name.endswith(".mzxml.gz")


class RunBuilder:
    """Collects the spectra of one run, one at a time, into a `Run` (shared by the mzML and mzXML readers).

    Points whose m/z or intensity is NaN or infinite are dropped first, from every scan (one such point would
    otherwise become the "found" m/z of an ion, and slow every m/z search), and counted in `Run.n_nonfinite` and
    a `Run.notes` line. MS1 scans: profile scans are centroided, zero-intensity centroids dropped, m/z sorted; MS2 scans are kept as
    precursor m/z, RT, polarity and their MS2_PEAKS_KEPT most intense peaks (when `keep_ms2`). The reader counts
    `n_spectra` and adds each file unit to `units` (names of _MINUTE_UNITS / _HOUR_UNITS, else seconds)."""

    def __init__(self, path: Path, keep_ms2: bool = True):
        self.path = Path(path)
        self.keep_ms2 = keep_ms2
        self.rts: list[float] = []
        self.pols: list[int] = []
        self.tics: list[float] = []
        self.counts: list[int] = []
        self.mzs: list[np.ndarray] = []
        self.ints: list[np.ndarray] = []
        self.modes: set[str] = set()
        self.ms2: list[Ms2Scan] = []
        self.units: set[str] = set()
        self.levels: dict[int, int] = {}  # MS level -> number of spectra (for the no-MS1 message)
        self.precursors: set[float] = set()
        self.n_spectra = 0
        self.n_nonfinite = 0  # points dropped (NaN / infinite m/z or intensity)
        self.n_nonfinite_scans = 0

    def add(
        self, level: int, rt_s: float, polarity: int, mode: str | None, mz, inten, precursor_mz: float | None = None
    ) -> None:
        """Add one spectrum (retention time already in seconds; mode None: decided from the data)."""
        self.levels[level] = self.levels.get(level, 0) + 1
        mz = np.asarray(mz, dtype=np.float64)
        inten = np.asarray(inten, dtype=np.float64)
        # an intensity beyond float32's range would become inf when stored, so it counts as not finite too
        ok = np.isfinite(mz) & np.isfinite(inten) & (np.abs(inten) <= np.finfo(np.float32).max)
        if not ok.all():
            self.n_nonfinite += int(len(ok) - np.count_nonzero(ok))
            self.n_nonfinite_scans += 1
            mz, inten = mz[ok], inten[ok]
        inten = inten.astype(np.float32)
        if precursor_mz is not None and not math.isfinite(float(precursor_mz)):
            precursor_mz = None
        if level == 1:
            mode = mode or ("profile" if _looks_profile(mz) else "centroid")
            self.modes.add(mode)
            if mode == "profile":
                mz, inten = centroid_profile(mz, inten)
            else:
                keep = inten > 0
                if not keep.all():
                    mz, inten = mz[keep], inten[keep]
                if len(mz) > 1 and np.any(np.diff(mz) < 0):
                    order = np.argsort(mz, kind="stable")
                    mz, inten = mz[order], inten[order]
            self.rts.append(rt_s)
            self.pols.append(polarity)
            self.tics.append(float(inten.sum(dtype=np.float64)))
            self.counts.append(len(mz))
            self.mzs.append(mz)
            self.ints.append(inten)
            return
        if precursor_mz is not None:
            self.precursors.add(round(float(precursor_mz), 4))
        if self.keep_ms2:
            top = np.argsort(inten)[::-1][:MS2_PEAKS_KEPT]
            top.sort()
            self.ms2.append(Ms2Scan(rt_s, precursor_mz, polarity, mz[top], inten[top]))

    def build(self) -> Run:
        """The Run, sorted by retention time; InputError (exit 65) when the run has no MS1 scan."""
        p = self.path
        if not self.rts:
            if self.n_spectra:
                levels = ", ".join(f"{n} at MS{lv}" for lv, n in sorted(self.levels.items())) or "none with peaks"
                prec = sorted(self.precursors)
                pre = (
                    f"; precursor m/z {', '.join(f'{x:g}' for x in prec[:4])}{' ...' if len(prec) > 4 else ''}"
                    if prec
                    else ""
                )
                raise InputError(
                    f"no MS1 scans in the run ({self.n_spectra} spectra: {levels}{pre}); the HRMS check "
                    "needs MS1 (full-scan) spectra to find the compound's ions",
                    p,
                )
            raise InputError("no spectra in the run", p)
        offsets = np.zeros(len(self.counts) + 1, dtype=np.int64)
        np.cumsum(self.counts, out=offsets[1:])
        rt_arr = np.asarray(self.rts, dtype=np.float64)
        units, modes = self.units, self.modes
        run = Run(
            path=str(p),
            rt_s=rt_arr,
            polarity=np.asarray(self.pols, dtype=np.int8),
            tic=np.asarray(self.tics, dtype=np.float64),
            offsets=offsets,
            mz=np.concatenate(self.mzs) if self.mzs else np.zeros(0),
            intensity=np.concatenate(self.ints) if self.ints else np.zeros(0, dtype=np.float32),
            ms2=self.ms2,
            spectrum_mode="mixed" if len(modes) > 1 else (next(iter(modes)) if modes else "centroid"),
            rt_unit="minute" if units & _MINUTE_UNITS else ("hour" if units & _HOUR_UNITS else "second"),
            n_spectra=self.n_spectra,
            n_nonfinite=self.n_nonfinite,
        )
        if self.n_nonfinite:
            run.notes.append(
                f"{self.n_nonfinite} points with a NaN or infinite m/z or intensity dropped from "
                f"{self.n_nonfinite_scans} of {self.n_spectra} spectra"
            )
        if np.any(np.diff(rt_arr) < 0):
            order = np.argsort(rt_arr, kind="stable")
            run = _reorder(run, order)
        return run


def _reorder(run: Run, order: np.ndarray) -> Run:
    counts = np.diff(run.offsets)[order]
    offsets = np.zeros(len(order) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    idx = np.concatenate([np.arange(run.offsets[i], run.offsets[i + 1]) for i in order])
    run.rt_s, run.polarity, run.tic = run.rt_s[order], run.polarity[order], run.tic[order]
    run.mz, run.intensity, run.offsets = run.mz[idx], run.intensity[idx], offsets
    return run
