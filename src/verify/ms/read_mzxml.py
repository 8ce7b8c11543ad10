"""mzXML run -> the same compact `Run` as the mzML reader (pyteomics' `mzxml.MzXML` underneath), streamed.

pyteomics parses the file one `<scan>` at a time (nested MS2 scans inside their MS1 scan included) and decodes
the peaks (32/64-bit, network byte order, zlib or none); `RunBuilder` (read.py) keeps what the checks need.
What is read per scan: `msLevel`, `polarity` (+ / -), `centroided` (else the file's `dataProcessing
centroided`, else decided from the peak spacing), `retentionTime`, the precursor m/z, the peaks.

Retention times are ISO 8601 durations (`PT0.211551S`); pyteomics returns them in minutes, which are turned
back into seconds here. `Run.rt_unit` is the unit the durations were written in (seconds: "PT...S"; minutes when
they carry an M designator).
"""

from __future__ import annotations

import gzip
import re
import zlib
from pathlib import Path

import numpy as np

from ..errors import InputError, MissingInputError
from ..io_limits import require_regular
from .read import BadSpectrum, Run, RunBuilder, decode_binary, ms_level, open_capped, parse_failure_reason, sniff_format

# tags that end a gap for read.py's record size cap: scans, their peaks, the index (one <offset> per scan)
MZXML_BOUNDARIES = (b"<scan", b"</scan", b"<peaks", b"</peaks", b"<offset", b"</offset")

_DURATION = re.compile(r"^\s*-?P(?:\d+(?:\.\d*)?D)?T?(\d+(?:\.\d*)?H)?(\d+(?:\.\d*)?M)?(\d+(?:\.\d*)?S)?\s*$")


def _duration_unit(text: str | None) -> str:
    """'second', 'minute' or 'hour': the largest designator an ISO 8601 duration uses ('' when not one)."""
    m = _DURATION.match(text or "")
    if not m:
        return ""
    if m.group(1):
        return "hour"
    if m.group(2):
        return "minute"
    return "second"


_FLOAT = re.compile(r"^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$")
_INT = re.compile(r"^\s*[+-]?\d+\s*$")
# scan attributes pyteomics converts (mzXML 3.2 schema types): a damaged value fails there as a bare
# ValueError with no name; checked first, so the message says which attribute of which scan
_INT_ATTRS = ("peaksCount", "scanCount")
_FLOAT_ATTRS = (
    "lowMz",
    "highMz",
    "basePeakMz",
    "basePeakIntensity",
    "totIonCurrent",
    "startMz",
    "endMz",
    "collisionEnergy",
    "ionisationEnergy",
)


def _check_scan_values(element, where: str) -> None:
    for name in _INT_ATTRS + _FLOAT_ATTRS + ("retentionTime",):
        v = element.get(name)
        if v is None:
            continue
        ok = (
            _INT.match(v)
            if name in _INT_ATTRS
            else (_DURATION.match(v) or _FLOAT.match(v))
            if name == "retentionTime"
            else _FLOAT.match(v)
        )
        if not ok:
            raise BadSpectrum(
                f"{where}: {name}={v[:20]!r} is not a {'whole number' if name in _INT_ATTRS else 'number'}"
                "; damaged file"
            )


def _mzxml_class() -> type:
    """pyteomics' MzXML reader, keeping each scan's raw retentionTime string (its unit) and the file-level
    centroided flag (pyteomics folds attributes into a dict; these two are read off the element it parses)."""
    from pyteomics import mzxml

    class _MzXML(mzxml.MzXML):
        file_centroided: bool | None = None
        _where = "scan"

        def __init__(self, *a, **kw) -> None:
            super().__init__(*a, **kw)
            self._scan_numbers: dict[int, tuple] = {}

        def decode_data_array(self, source, compression_type=None, dtype=np.float64):
            return decode_binary(super().decode_data_array, source, compression_type, dtype, self._where)

        def _get_info_smart(self, element, **kw):
            tag = element.tag.rsplit("}", 1)[-1] if isinstance(element.tag, str) else ""
            if tag == "scan":
                self._where = f"scan {str(element.get('num'))[:20]}"
                if element.get("msLevel") is not None:
                    # checked before pyteomics' int() conversion, whose failure would read as a corrupt file
                    ms_level(element.get("msLevel"), self._where)
                self._check_number(element.get("num"), (element.sourceline, tuple(sorted(element.attrib.items()))))
                _check_scan_values(element, self._where)
            info = super()._get_info_smart(element, **kw)
            if tag == "scan" and isinstance(info, dict):
                info["_rt_text"] = element.get("retentionTime")
                if self.file_centroided is None:
                    dp = next((e for e in element.getroottree().iter("{*}dataProcessing")), None)
                    flag = dp.get("centroided") if dp is not None else None
                    self.file_centroided = (flag in ("1", "true")) if flag is not None else False
            return info

        def _check_number(self, num, where: tuple) -> None:
            """pyteomics orders scans by `num` (int() of it, then a heap): a number that is not one, or one
            given twice, would fail there as a ValueError or a comparison of two scans' arrays. `where` (line,
            attributes) tells one scan seen twice (an MS2 nested in its MS1 is parsed with its parent and again
            on its own) from two scans sharing a number."""
            try:
                n = int(num)
            except (TypeError, ValueError):
                raise BadSpectrum(f"scan number {str(num)[:20]!r} is not a whole number; damaged file") from None
            if self._scan_numbers.setdefault(n, where) != where:
                raise BadSpectrum(f"scan number {n} is given to two scans; damaged file")

    return _MzXML


def read_mzxml(path: str | Path, keep_ms2: bool = True) -> Run:
    """Read an .mzXML / .mzXML.gz run into compact MS1 centroids (the mzML reader's `Run`).

    Parameters
    ----------
    path : str or Path
        The mzXML run (gzip-compressed or not, indexed or not).
    keep_ms2 : bool
        Keep MS2 summaries (precursor m/z, RT, polarity, most intense peaks).

    Returns
    -------
    Run
        MS1 centroids in CSR layout, sorted by retention time.

    Raises
    ------
    InputError
        (exit 65) not mzXML, truncated or corrupt, or no MS1 scan (an MS2-only run says so, with its precursors).
    MissingInputError
        (exit 66) the path does not exist.
    """
    from lxml import etree
    from pyteomics.auxiliary import PyteomicsError

    p = Path(path)
    if not p.exists():
        raise MissingInputError("no such file or directory", p)
    if p.is_dir():
        raise InputError("is a directory, expected an .mzXML file", p)
    require_regular(p, "MS input", allow_dir=False)  # a FIFO, socket or device would block or stream for ever
    if sniff_format(p, "mzXML") != "mzXML":
        raise InputError("not an mzXML file (no <mzXML> element at the start)", p)
    b = RunBuilder(p, keep_ms2)
    try:
        with open_capped(p, MZXML_BOUNDARIES) as fh:
            reader = _mzxml_class()(fh, use_index=False, read_schema=False, huge_tree=True)
            for scan in reader:
                b.n_spectra += 1
                mz, inten = scan.get("m/z array"), scan.get("intensity array")
                if mz is None or inten is None:
                    continue
                if len(mz) != len(inten):
                    raise InputError(f"scan {scan.get('num')}: m/z and intensity arrays differ in length", p)
                level = ms_level(scan.get("msLevel") or 1, f"scan {scan.get('num')}")
                rt = scan.get("retentionTime")
                if rt is None:
                    rt_s = float(b.n_spectra)
                else:
                    # pyteomics gives minutes (unit_info "minute") for the xs:duration attribute
                    unit = getattr(rt, "unit_info", "minute")
                    rt_s = float(rt) * (60.0 if unit in ("minute", None) else 1.0)
                    b.units.add(
                        {"minute": "minute", "hour": "hour"}.get(_duration_unit(scan.get("_rt_text")), "second")
                    )
                pol = {"+": 1, "-": -1}.get(str(scan.get("polarity", "")).strip(), 0)
                flag = scan.get("centroided")
                if flag is None:
                    flag = reader.file_centroided or None
                mode = None if flag is None else ("centroid" if str(flag).lower() in ("1", "true") else "profile")
                prec = scan.get("precursorMz") or []
                pmz = prec[0].get("precursorMz") if prec and isinstance(prec[0], dict) else None
                b.add(level, rt_s, pol, mode, np.asarray(mz, dtype=np.float64), np.asarray(inten), pmz)
    except InputError:
        raise
    except BadSpectrum as exc:
        raise InputError(str(exc), p) from None
    except (
        etree.XMLSyntaxError,
        EOFError,
        zlib.error,
        gzip.BadGzipFile,
        PyteomicsError,
        ValueError,
        OSError,
        KeyError,
        TypeError,
        IndexError,
    ) as exc:
        raise InputError(
            f"truncated or corrupt mzXML after {b.n_spectra} scans ({parse_failure_reason(exc)})", p
        ) from None
    return b.build()
