"""Bruker TopSpin/XWIN-NMR 1D 1H data: an experiment folder (acqus + fid), its fid, or its processed pdata
(1r/1i). The acqus text is read line by line with a bound, so that a damaged header cannot make nmrglue's
parser loop; the digital-filter group delay comes from GRPDLY or the DECIM/DSPFVS table.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ...errors import InputError
from ...io_limits import MAX_PARAMETER_BYTES, header_number, read_capped
from ..spectrum import RawFID, Spectrum1D
from .common import (
    CARRIER_PPM_LIMIT,
    GROUP_DELAY_LIMIT,
    POINTS_RANGE,
    SF_MHZ_RANGE,
    SW_HZ_RANGE,
    check_fid_data,
    int_param,
    load_nmrglue,
    nucleus_name,
    require_1h,
    to_number,
    to_text,
)


class _Unterminated(Exception):
    """A JCAMP value (array or <string>) that runs past the end of the file."""


class _BoundedLines:
    """Lines of a parameter text for nmrglue's `parse_jcamp_line`, which reads on until an array has its declared
    count of values or a <string> its closing '>', and at the end of the file would get '' for ever: past the end,
    readline() raises instead."""

    def __init__(self, text: str):
        self._lines = text.splitlines(keepends=True)
        self._i = 0

    def readline(self) -> str:
        if self._i >= len(self._lines):
            raise _Unterminated
        self._i += 1
        return self._lines[self._i - 1]

    @property
    def at_end(self) -> bool:
        return self._i >= len(self._lines)


def read_bruker_params(path: Path, what: str) -> dict:
    """Parse a Bruker JCAMP-style parameter file (acqus, procs) with nmrglue's line parser, bounded.

    nmrglue's own `read_jcamp` loops for ever on a file cut inside an array (`##$AMP= (0..31)` with too few
    values) or a `<...` string without its `>` (and takes a blank line for the end of the file); here each
    `##$` line goes through `ng.bruker.parse_jcamp_line` with a reader that raises at the end of the text.

    Parameters
    ----------
    path : Path
        The parameter file (at most MAX_PARAMETER_BYTES).
    what : str
        Its name in messages ("acqus", "procs").

    Returns
    -------
    dict
        Parameter name (without "$") -> value, as nmrglue gives it (float, int, str, list).

    Raises
    ------
    InputError
        Too large, not text, or a value that runs past the end of the file (truncated or damaged).
    """
    ng = load_nmrglue()
    raw = read_capped(path, MAX_PARAMETER_BYTES, what)
    if raw.count(b"\x00") > 16:
        raise InputError(f"{what} is not a text parameter file (binary data)", path)
    f = _BoundedLines(raw.decode("latin-1"))
    dic: dict = {"_coreheader": [], "_comments": []}
    while not f.at_end:
        line = f.readline().rstrip()
        if line.startswith("##END="):
            break
        if line.startswith("$$"):
            dic["_comments"].append(line)
        elif line.startswith("##$"):
            try:
                key, value = ng.bruker.parse_jcamp_line(line, f)
            except _Unterminated:
                name = line[3 : line.index("=")] if "=" in line else line[3:23]
                raise InputError(
                    f"{what} ends inside the value of {name} (an array or <string> never closed): truncated or damaged",
                    path,
                ) from None
            except (ValueError, IndexError, TypeError, OverflowError):
                continue  # an unreadable line: a key needed later is then reported as missing, by name
            dic[key] = value
        elif line.startswith("##"):
            dic["_coreheader"].append(line)
    return dic


BRUKER_PARAMS = (
    "TD",
    "SW_h",
    "SW",
    "SFO1",
    "BF1",
    "O1",
    "NS",
    "DS",
    "RG",
    "PULPROG",
    "SOLVENT",
    "NUC1",
    "DECIM",
    "DSPFVS",
    "GRPDLY",
    "AQ_mod",
    "DTYPA",
    "BYTORDA",
    "TE",
    "D1",
    "INSTRUM",
    "PROBHD",
)


def bruker_group_delay(acq: dict, path=None) -> float:
    """Digital-filter group delay (points): GRPDLY when set, else nmrglue's table for DSPFVS/DECIM (0 without)."""
    gd = to_number(acq.get("GRPDLY"), -1.0)
    if gd is not None and gd > 0:
        return header_number(gd, "GRPDLY", path, 0.0, GROUP_DELAY_LIMIT, unit="points", what="acqus")
    dspfvs = to_number(acq.get("DSPFVS"), 0.0)
    decim = to_number(acq.get("DECIM"), 1.0)
    if not (dspfvs is not None and np.isfinite(dspfvs) and 0 < dspfvs < 14) or not np.isfinite(decim):
        return 0.0
    from nmrglue.fileio.bruker import bruker_dsp_table

    tab = bruker_dsp_table.get(int(dspfvs), {})
    for key in (decim, int(round(decim))):
        if key in tab:
            return float(tab[key])
    return 0.0


def _read_acqus(d: Path, src: str) -> tuple[dict, Path]:
    acqus = d / "acqus"
    if not acqus.is_file():
        if (d / "acqu").is_file():
            acqus = d / "acqu"
        else:
            raise InputError("missing acqus (Bruker acquisition parameters)", str(d / "acqus"))
    return read_bruker_params(acqus, "acqus"), acqus


def read_bruker(d: Path, src: str, use_pdata: bool = False, pdata_dir: Path | None = None):
    d = Path(d)
    acq, acqus = _read_acqus(d, src)
    nucleus = nucleus_name(to_text(acq.get("NUC1", "1H")))
    require_1h(nucleus, src)
    parmode = int_param(acq, "PARMODE", 0)
    if (d / "ser").exists() or parmode > 0 or (d / "acqu2s").is_file():
        dims = parmode + 1 if parmode > 0 else 2
        raise InputError(f"not a 1D 1H experiment ({dims}D data)", src)
    if use_pdata or pdata_dir is not None:
        return _read_bruker_pdata(d, src, acq, nucleus, pdata_dir)
    fid = d / "fid"
    if not fid.is_file():
        raise InputError("missing fid (Bruker time-domain data)", str(fid))
    # the header, checked once: every number the processing divides by or sizes an array with
    td = int(
        header_number(
            to_number(acq.get("TD")), "TD", acqus, 2 * POINTS_RANGE[0], 2 * POINTS_RANGE[1], unit="points", what="acqus"
        )
    )
    sfo1 = header_number(to_number(acq.get("SFO1")), "SFO1", acqus, *SF_MHZ_RANGE, unit="MHz", what="acqus")
    bf1 = header_number(to_number(acq.get("BF1"), sfo1), "BF1", acqus, *SF_MHZ_RANGE, unit="MHz", what="acqus")
    sw = header_number(to_number(acq.get("SW_h")), "SW_h", acqus, *SW_HZ_RANGE, unit="Hz", what="acqus")
    o1 = header_number(
        to_number(acq.get("O1"), (sfo1 - bf1) * 1e6),
        "O1",
        acqus,
        -CARRIER_PPM_LIMIT * bf1,
        CARRIER_PPM_LIMIT * bf1,
        unit="Hz",
        what="acqus",
    )
    group_delay = bruker_group_delay(acq, acqus)
    width = 8 if int_param(acq, "DTYPA", 0) == 2 else 4
    size = fid.stat().st_size
    if size < td * width:
        raise InputError(f"truncated fid: {size} bytes, acqus TD={td} needs {td * width} (data incomplete)", str(fid))
    if int_param(acq, "AQ_mod", 0) not in (1, 3):  # nmrglue's rule: 0 (qf) and 2 are real data
        raise InputError("Bruker fid is not complex (AQ_mod) and cannot be processed", src)
    # read exactly TD points (the file is padded to 1 kB blocks; a damaged one may be any size): numpy does what
    # nmrglue's bruker.read_binary does (int32 or float64, BYTORDA 1 = big-endian, interleaved real/imaginary)
    big = int_param(acq, "BYTORDA", 0) == 1
    dtype = np.dtype("f8" if width == 8 else "i4").newbyteorder(">" if big else "<")
    try:
        vals = np.fromfile(fid, dtype=dtype, count=td)
    except (OSError, ValueError) as e:
        raise InputError(f"unreadable Bruker fid ({type(e).__name__}: {e})", str(fid)) from e
    if vals.size < td:
        raise InputError(f"truncated fid: {vals.size} values, acqus TD={td}", str(fid))
    data = vals[0::2].astype(np.float64) + 1j * vals[1::2].astype(np.float64)
    check_fid_data(data, str(fid))
    params = {k: acq[k] for k in BRUKER_PARAMS if k in acq}
    return RawFID(
        data=data,
        sw_hz=sw,
        sf_mhz=sfo1,
        carrier_ppm=o1 / bf1,
        group_delay=group_delay,
        solvent=to_text(acq.get("SOLVENT", "")),
        nucleus=nucleus,
        vendor="bruker",
        source=src,
        params=params,
    )


def _read_bruker_pdata(d: Path, src: str, acq: dict, nucleus: str, pdata_dir: Path | None) -> Spectrum1D:
    pd = Path(pdata_dir) if pdata_dir is not None else d / "pdata" / "1"
    r1 = pd / "1r"
    if not r1.is_file():
        raise InputError("no processed spectrum (pdata/1/1r) in this experiment", str(r1))
    if not (pd / "procs").is_file():
        raise InputError("missing procs (Bruker processing parameters)", str(pd / "procs"))
    procs_path = pd / "procs"
    procs = read_bruker_params(procs_path, "procs")
    si = int(header_number(to_number(procs.get("SI")), "SI", procs_path, *POINTS_RANGE, unit="points", what="procs"))
    sf = header_number(to_number(procs.get("SF")), "SF", procs_path, *SF_MHZ_RANGE, unit="MHz", what="procs")
    sw_p = header_number(to_number(procs.get("SW_p")), "SW_p", procs_path, *SW_HZ_RANGE, unit="Hz", what="procs")
    off = header_number(
        to_number(procs.get("OFFSET")),
        "OFFSET",
        procs_path,
        -CARRIER_PPM_LIMIT,
        CARRIER_PPM_LIMIT,
        unit="ppm",
        what="procs",
    )
    nc = header_number(to_number(procs.get("NC_proc"), 0.0), "NC_proc", procs_path, -64, 64, what="procs")
    isfloat = int_param(procs, "DTYPP", 0) == 2
    dtype = np.dtype("f8" if isfloat else "i4").newbyteorder(">" if int_param(procs, "BYTORDP", 0) == 1 else "<")
    # SI points exactly, as nmrglue's read_pdata_binary reads them (1D: no submatrix), scaled by 2**NC_proc
    data = np.fromfile(r1, dtype=dtype, count=si).astype(np.float64) * 2.0**nc
    if data.size < si:
        raise InputError(f"truncated 1r: {data.size} points, procs SI={si}", str(r1))
    ppm = off - np.arange(si) * (sw_p / sf) / si
    return Spectrum1D(
        ppm=ppm,
        intensity=data,
        sf_mhz=sf,
        solvent=to_text(acq.get("SOLVENT", "")),
        source=src,
        referencing={
            "method": "file",
            "offset_ppm": 0.0,
            "detail": f"vendor processed spectrum {pd.name}/1r (procs OFFSET={off:g}, SF={sf:g})",
        },
        processing={
            "source": "vendor pdata",
            "SI": si,
            "LB": procs.get("LB"),
            "PHC0": procs.get("PHC0"),
            "PHC1": procs.get("PHC1"),
            "WDW": procs.get("WDW"),
        },
        params={k: acq[k] for k in BRUKER_PARAMS if k in acq} | {"vendor": "bruker", "nucleus": nucleus},
    )
