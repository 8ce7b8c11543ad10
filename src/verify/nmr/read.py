"""Read 1D 1H NMR data (Bruker, Varian/Agilent, JCAMP-DX, JEOL Delta, Magritek Prospa) into RawFID or Spectrum1D,
nmrglue underneath.

`read_nmr(path)` accepts:
  * a Bruker experiment folder (acqus + fid), its `fid` file, or a folder holding exactly one experiment
    (searched up to three levels down); `use_pdata=True` returns the vendor's processed pdata/1/1r;
  * a Varian/Agilent `.fid` folder (fid + procpar, any letter case) or its fid file;
  * a JCAMP-DX file: an FID (TopSpin export with $GRPDLY/$DECIM/$DSPFVS, benchtop NTUPLES FIDs,
    $REVERSE=yes) or a processed spectrum (XYDATA, x in Hz or ppm, or TopSpin's NTUPLES export: real and
    imaginary pages, the x axis in the NTUPLES FIRST/LAST rows);
  * a JEOL Delta `.jdf` FID (read_jeol.py), recognised by its JEOL.NMR identifier whatever its suffix;
  * a Magritek Prospa folder, Spinsolve or Kea (acqu.par + data.1d; read_magritek.py), or its data.1d/acqu.par.
Everything that is not a 1D 1H experiment, or is unreadable, raises InputError (exit 65); a path that
does not exist raises MissingInputError (exit 66). No raw exception escapes for bad input.
"""

from __future__ import annotations

import io
import math
import os
import re
import struct
import warnings
from pathlib import Path

import numpy as np

from ..errors import InputError, MissingInputError, VerifyError
from ..io_limits import MAX_PARAMETER_BYTES, header_number, read_capped, require_regular
from .read_jeol import is_jeol_file, read_jeol
from .read_magritek import is_magritek_dir, read_magritek
from .spectrum import RawFID, Spectrum1D

JCAMP_SUFFIXES = {".dx", ".jdx", ".jcamp", ".jcm", ".jdf"}


# ----------------------------------------------------------------------------- helpers


def _ng():
    import nmrglue as ng  # imported lazily: it pulls in scipy.signal (about 1 s of start-up)

    return ng


def _ci(folder: Path, name: str) -> Path | None:
    """File `name` in `folder`, letter case ignored (HMDB ships FID/PROCPAR)."""
    p = folder / name
    if p.exists():
        return p
    try:
        for q in folder.iterdir():
            if q.name.lower() == name.lower():
                return q
    except OSError:
        return None
    return None


def _is_jcamp_file(p: Path) -> bool:
    if is_jeol_file(p):  # JEOL Delta binaries share the .jdf suffix some JCAMP writers use
        return False
    if p.suffix.lower() in JCAMP_SUFFIXES - {".jdf"}:
        return True
    try:
        with open(p, "rb") as fh:
            head = fh.read(256).lstrip()
        return head.startswith(b"##")
    except OSError:
        return False


def _kind_of_dir(d: Path) -> str | None:
    if (d / "acqus").is_file() or ((d / "fid").is_file() and (d / "acqu").is_file()):
        return "bruker"
    if (d / "fid").is_file() or (d / "ser").is_file():
        if (d / "pdata").is_dir() or (d / "pulseprogram").is_file():
            return "bruker"
    if _ci(d, "procpar") is not None:
        return "varian"
    if _ci(d, "fid") is not None and d.suffix.lower() == ".fid":
        return "varian"
    if is_magritek_dir(d):
        return "magritek"
    return None


def _find_experiments(root: Path, depth: int = 3) -> list[tuple[str, Path]]:
    """Experiments (kind, path) under `root`, up to `depth` levels down; stops descending at an experiment."""
    found: list[tuple[str, Path]] = []

    def walk(d: Path, level: int) -> None:
        k = _kind_of_dir(d)
        if k:
            found.append((k, d))
            return
        if level >= depth:
            return
        try:
            subs = sorted(x for x in d.iterdir() if x.is_dir() and not x.name.startswith("."))
        except OSError:
            return
        for s in subs:
            if s.name == "pdata":
                continue
            walk(s, level + 1)

    walk(root, 0)
    if not found:  # a folder with exactly one JCAMP or JEOL file is an experiment too
        try:
            jc = [x for x in root.iterdir() if x.is_file() and (x.suffix.lower() in JCAMP_SUFFIXES or is_jeol_file(x))]
        except OSError:
            jc = []
        if len(jc) == 1:
            found.append(("jeol" if is_jeol_file(jc[0]) else "jcamp", jc[0]))
    return found


def _num(v, default=None):
    if v is None:
        return default
    if isinstance(v, (list, tuple)):
        if not v:
            return default
        v = v[0]
    if isinstance(v, (int, float, np.integer, np.floating)):
        return float(v)
    m = re.search(r"[-+]?\d*\.?\d+(?:[eE][-+]?\d+)?", str(v))
    return float(m.group(0)) if m else default


def _int_param(dic: dict, key: str, default: int) -> int:
    """An integer parameter (flag or count); `default` when absent, not a number, or not finite."""
    v = _num(dic.get(key), None)
    return int(v) if v is not None and np.isfinite(v) and abs(v) < 2**62 else default


def _str(v) -> str:
    if isinstance(v, (list, tuple)):
        v = v[0] if v else ""
    s = str(v).strip()
    if s.startswith("<") and s.endswith(">"):
        s = s[1:-1]
    return s.strip()


def nucleus_name(s: str) -> str:
    """'1H', '<1H>', '^1H', 'H1', 'proton' -> '1H'; others normalised to mass+symbol where possible."""
    s = s.strip().strip("<>^ ").replace("^", "")
    if not s:
        return ""
    if s.lower() in ("proton", "h"):
        return "1H"
    m = re.fullmatch(r"(\d+)\s*([A-Za-z]+)", s)
    if m:
        return m.group(1) + m.group(2).capitalize()
    m = re.fullmatch(r"([A-Za-z]+)\s*(\d+)", s)
    if m:
        return m.group(2) + m.group(1).capitalize()
    return s


def _require_1h(nucleus: str, path, extra: str = "") -> None:
    if nucleus and nucleus != "1H":
        raise InputError(f"not a 1D 1H experiment (observe nucleus {nucleus}{extra})", path)


# ----------------------------------------------------------------------------- header limits

# Physical ranges of a 1D 1H acquisition header, checked once per file by every reader below (and by read_jeol.py,
# read_magritek.py): a value outside is a damaged or foreign header, never a spectrum to process.
SF_MHZ_RANGE = (10.0, 1500.0)  # 1H observe frequency, MHz: Kea benchtop 14.2 MHz ... 1.2 GHz (28.2 T), with margin
SW_HZ_RANGE = (100.0, 1.0e6)  # spectral width, Hz (real files: 4.8 kHz ... 62.5 kHz)
POINTS_RANGE = (16, 2**26)  # time-domain points (TD, np, ...; real files 16k ... 128k)
CARRIER_PPM_LIMIT = 1000.0  # |carrier| or |O1/BF1|, ppm from the spectrometer's 0 ppm
GROUP_DELAY_LIMIT = 1000.0  # |digital-filter group delay or acquisition delay|, points (Bruker: at most ~80)
# a larger JCAMP-DX file is not a 1D 1H FID or spectrum (real ones: 0.1-1.1 MB); nmrglue parses it in Python
MAX_JCAMP_BYTES = 64 * 1024 * 1024
# cap on the points the DUP (repeat) counts of a compressed JCAMP-DX table may expand to: one flipped digit after
# a DUP character asks nmrglue for billions of repeats (minutes of work and gigabytes)
MAX_JCAMP_POINTS = 4 * POINTS_RANGE[1]
# |FID point|: real data are int32 sums (at most ~1e12); beyond this the FT overflows to inf
MAX_FID_AMPLITUDE = 1e100


def check_acquisition(path, what: str, *, sf=None, sw=None, points=None, carrier=None, group_delay=None) -> None:
    """Check the acquisition header values of one 1D 1H FID against the physical ranges above.

    Parameters
    ----------
    path : str or Path
        The file the values come from (named in the error).
    what : str
        The header's name in messages ("acqus", "procpar", "JCAMP-DX", "acqu.par", "JEOL header").
    sf, sw, points, carrier, group_delay : (key, value), optional
        Observe frequency (MHz), spectral width (Hz), time-domain points, carrier (ppm) and group delay
        (points), each with the header key it came from; None skips that check.

    Raises
    ------
    InputError
        A value missing, not finite or outside its range, naming the key and the file.
    """
    if sf is not None:
        header_number(sf[1], sf[0], path, *SF_MHZ_RANGE, unit="MHz", what=what)
    if sw is not None:
        header_number(sw[1], sw[0], path, *SW_HZ_RANGE, unit="Hz", what=what)
    if points is not None:
        header_number(points[1], points[0], path, *POINTS_RANGE, unit="points", what=what)
    if carrier is not None:
        header_number(carrier[1], carrier[0], path, -CARRIER_PPM_LIMIT, CARRIER_PPM_LIMIT, unit="ppm", what=what)
    if group_delay is not None:
        header_number(
            group_delay[1], group_delay[0], path, -GROUP_DELAY_LIMIT, GROUP_DELAY_LIMIT, unit="points", what=what
        )


def check_fid_data(data: np.ndarray, path, what: str = "fid") -> None:
    """InputError unless the complex FID is all finite, not all zero, and of plausible amplitude.

    Parameters
    ----------
    data : ndarray
        The complex points.
    path : str or Path
        The file, named in the error.
    what : str, optional
        The data's name in the message (default "fid").
    """
    bad = int(data.size - np.count_nonzero(np.isfinite(data)))
    if bad:
        raise InputError(f"{what} holds {bad} non-finite points (NaN or infinity) of {data.size}: corrupt data", path)
    peak = float(np.max(np.abs(data))) if data.size else 0.0
    if peak == 0.0:
        raise InputError(f"{what} holds no non-zero data", path)
    if peak > MAX_FID_AMPLITUDE:
        raise InputError(f"{what} holds implausible values (|point| up to {peak:.3g}): corrupt data", path)


def _finite_params(d: dict) -> dict:
    """The same dict with non-finite floats written as text ("inf", "nan"): the report's JSON refuses them."""
    out = {}
    for k, v in d.items():
        if isinstance(v, (float, np.floating)) and not np.isfinite(v):
            v = str(float(v))
        elif isinstance(v, (list, tuple)):
            v = type(v)(str(float(x)) if isinstance(x, (float, np.floating)) and not np.isfinite(x) else x for x in v)
        elif isinstance(v, dict):
            v = _finite_params(v)
        out[k] = v
    return out


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
    ng = _ng()
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


def read_varian_procpar(path: Path) -> dict:
    """Parse a Varian/Agilent procpar with nmrglue's `varian.get_parameter`, bounded by the file's size.

    Parameters
    ----------
    path : Path
        The procpar file (at most MAX_PARAMETER_BYTES).

    Returns
    -------
    dict
        Parameter name -> nmrglue's parameter dict ("values", "basictype", ...).

    Raises
    ------
    InputError
        Too large, or a parameter that cannot be read (truncated or damaged).
    """
    ng = _ng()
    raw = read_capped(path, MAX_PARAMETER_BYTES, "procpar")
    f = io.BytesIO(raw)
    dic: dict = {}
    while f.tell() < len(raw):
        at = f.tell()
        if not raw[at:].strip():
            break  # trailing blank lines
        try:
            p = ng.varian.get_parameter(f)
        except UnicodeDecodeError as e:
            raise InputError(f"procpar: bytes that are not text at byte {at + e.start}: damaged", path) from None
        except (ValueError, IndexError, KeyError, TypeError):
            # nmrglue's parser fails on a parameter whose lines are cut, repeated or garbled; which Python
            # error it meets says nothing to the chemist, the parameter and its offset do
            line = raw[at : at + 40].split(b"\n", 1)[0].decode("latin-1")
            raise InputError(
                f"procpar: unreadable parameter at byte {at} ({line!r}): truncated or damaged", path
            ) from None
        if f.tell() <= at:  # cannot happen with readline, but a parser that stops moving must not loop
            raise InputError(f"procpar: parsing stopped at byte {at}", path)
        dic[p["name"]] = p
    return dic


def _check_jcamp_text(p: Path, src: str) -> None:
    """Refuse, before nmrglue parses it, a JCAMP-DX file too large or whose DUP counts expand past MAX_JCAMP_POINTS."""
    raw = read_capped(p, MAX_JCAMP_BYTES, "JCAMP-DX file")
    total = 0
    in_table = False
    for line in raw.split(b"\n"):
        s = line.lstrip()
        if s.startswith(b"##"):
            key = s[2 : s.find(b"=")].upper().replace(b" ", b"") if b"=" in s else b""
            in_table = key in (b"XYDATA", b"DATATABLE")
            continue
        if not in_table:
            continue
        for m in _DUP_RE.finditer(line.split(b"$$", 1)[0]):
            digits = _DUP_VALUE[m.group(1)] + m.group(2)
            total += int(digits) - 1 if len(digits) <= 12 else MAX_JCAMP_POINTS + 1
        if total > MAX_JCAMP_POINTS:
            raise InputError(
                f"JCAMP-DX data tables expand to more than {MAX_JCAMP_POINTS} points (DUP counts): "
                "damaged or not a 1D spectrum",
                src,
            )


# JCAMP-DX DUP pseudo-digits S..Z, s (1..9) and the digits after them: a repeat count
_DUP_RE = re.compile(rb"([S-Zs])(\d*)")
_DUP_VALUE = {bytes([c]): str(i + 1).encode() for i, c in enumerate(b"STUVWXYZs")}


# ----------------------------------------------------------------------------- entry point


def read_nmr(path, use_pdata: bool = False) -> RawFID | Spectrum1D:
    """Read 1D 1H data; RawFID for time-domain data, Spectrum1D for processed data (pdata, JCAMP XYDATA)."""
    p = Path(path)
    if not p.exists():
        raise MissingInputError("no such file or directory", str(path))
    require_regular(p, "NMR input")  # a FIFO, socket or device would block or stream for ever
    try:
        # nmrglue's UserWarnings and numpy's RuntimeWarnings on damaged files are noise here: what they warn
        # about is checked below and becomes an InputError that names the key
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            obj = _dispatch(p, str(path), use_pdata)
    except VerifyError:
        raise
    except (MemoryError, KeyboardInterrupt):
        raise
    except Exception as e:  # any parser failure on bad input becomes one clear line
        raise InputError(f"unreadable NMR data ({type(e).__name__}: {e})", str(path)) from e
    return _checked(obj, str(path))


def _checked(obj, src: str):
    """The reader's result, its numbers checked once more whatever the format: finite and in range (a reader
    that missed a header value must not hand an infinity to processing or to the report's JSON)."""
    obj.params = _finite_params(obj.params)
    if isinstance(obj, RawFID):
        check_acquisition(
            src,
            "header",
            sf=("observe frequency", obj.sf_mhz),
            sw=("spectral width", obj.sw_hz),
            points=("number of points", obj.data.size),
            carrier=("carrier", obj.carrier_ppm),
            group_delay=("group delay", obj.group_delay),
        )
        check_fid_data(obj.data, src)
        return obj
    header_number(obj.sf_mhz, "observe frequency", src, *SF_MHZ_RANGE, unit="MHz", what="header")
    obj.processing = _finite_params(obj.processing)
    if obj.ppm.size < 16 or not (np.all(np.isfinite(obj.ppm)) and np.all(np.isfinite(obj.intensity))):
        raise InputError("processed spectrum holds non-finite values (NaN or infinity) or too few points", src)
    return obj


def _dispatch(p: Path, src: str, use_pdata: bool):
    if p.is_file():
        name = p.name.lower()
        if name in ("fid", "ser"):
            d = p.parent
            if name == "ser":
                raise InputError("not a 1D 1H experiment (2D data: ser file)", src)
            k = _kind_of_dir(d)
            if k == "varian" or _ci(d, "procpar") is not None:
                return read_varian(d, src)
            if (d / "acqus").is_file() or (d / "acqu").is_file():
                return read_bruker(d, src, use_pdata)
            raise InputError(f"no acqus (Bruker) or procpar (Varian) next to {p.name}", str(d / "acqus"))
        if name in ("1r", "1i") and p.parent.parent.name == "pdata":
            return read_bruker(p.parent.parent.parent, src, True, pdata_dir=p.parent)
        if name in ("acqus", "acqu"):
            return read_bruker(p.parent, src, use_pdata)
        if name == "procpar":
            return read_varian(p.parent, src)
        if name in ("acqu.par", "data.1d", "fid.1d") and (p.parent / "acqu.par").is_file():
            return read_magritek(p.parent, src)
        if is_jeol_file(p):
            return read_jeol(p, src)
        if _is_jcamp_file(p):
            return read_jcamp(p, src)
        if p.suffix.lower() == ".jdf":  # neither JEOL.NMR nor ## at the start
            raise InputError("not a JEOL Delta file (no JEOL.NMR identifier at the start) nor JCAMP-DX", src)
        raise InputError(
            "not a recognised NMR file (expected a Bruker/Varian/Magritek folder, fid, JCAMP-DX or JEOL .jdf)", src
        )
    if p.is_dir():
        k = _kind_of_dir(p)
        if k == "bruker":
            return read_bruker(p, src, use_pdata)
        if k == "varian":
            return read_varian(p, src)
        if k == "magritek":
            return read_magritek(p, src)
        exps = _find_experiments(p)
        if len(exps) == 1:
            k, e = exps[0]
            if k == "bruker":
                return read_bruker(e, src, use_pdata)
            if k == "varian":
                return read_varian(e, src)
            if k == "magritek":
                return read_magritek(e, src)
            if k == "jeol":
                return read_jeol(e, src)
            return read_jcamp(e, src)
        if not exps:
            if (p / "fid").exists() or _ci(p, "fid") is not None:
                raise InputError("fid without acqus (Bruker) or procpar (Varian)", str(p / "acqus"))
            if (p / "acqu.par").is_file():
                raise InputError("acqu.par without a Prospa data file (data.1d)", src)
            raise InputError(
                "no NMR experiment found in this folder (no acqus/fid, procpar, acqu.par + data.1d, "
                "JCAMP-DX or JEOL .jdf)",
                src,
            )
        listing = ", ".join(str(e.relative_to(p)) for _, e in exps[:6])
        raise InputError(f"folder holds {len(exps)} experiments ({listing}); give one of them", src)
    raise InputError("not a regular file or folder", src)


# ----------------------------------------------------------------------------- Bruker


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


def _bruker_group_delay(acq: dict, path=None) -> float:
    """Digital-filter group delay (points): GRPDLY when set, else nmrglue's table for DSPFVS/DECIM (0 without)."""
    gd = _num(acq.get("GRPDLY"), -1.0)
    if gd is not None and gd > 0:
        return header_number(gd, "GRPDLY", path, 0.0, GROUP_DELAY_LIMIT, unit="points", what="acqus")
    dspfvs = _num(acq.get("DSPFVS"), 0.0)
    decim = _num(acq.get("DECIM"), 1.0)
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
    nucleus = nucleus_name(_str(acq.get("NUC1", "1H")))
    _require_1h(nucleus, src)
    parmode = _int_param(acq, "PARMODE", 0)
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
            _num(acq.get("TD")), "TD", acqus, 2 * POINTS_RANGE[0], 2 * POINTS_RANGE[1], unit="points", what="acqus"
        )
    )
    sfo1 = header_number(_num(acq.get("SFO1")), "SFO1", acqus, *SF_MHZ_RANGE, unit="MHz", what="acqus")
    bf1 = header_number(_num(acq.get("BF1"), sfo1), "BF1", acqus, *SF_MHZ_RANGE, unit="MHz", what="acqus")
    sw = header_number(_num(acq.get("SW_h")), "SW_h", acqus, *SW_HZ_RANGE, unit="Hz", what="acqus")
    o1 = header_number(
        _num(acq.get("O1"), (sfo1 - bf1) * 1e6),
        "O1",
        acqus,
        -CARRIER_PPM_LIMIT * bf1,
        CARRIER_PPM_LIMIT * bf1,
        unit="Hz",
        what="acqus",
    )
    group_delay = _bruker_group_delay(acq, acqus)
    width = 8 if _int_param(acq, "DTYPA", 0) == 2 else 4
    size = fid.stat().st_size
    if size < td * width:
        raise InputError(f"truncated fid: {size} bytes, acqus TD={td} needs {td * width} (data incomplete)", str(fid))
    if _int_param(acq, "AQ_mod", 0) not in (1, 3):  # nmrglue's rule: 0 (qf) and 2 are real data
        raise InputError("Bruker fid is not complex (AQ_mod) and cannot be processed", src)
    # read exactly TD points (the file is padded to 1 kB blocks; a damaged one may be any size): numpy does what
    # nmrglue's bruker.read_binary does (int32 or float64, BYTORDA 1 = big-endian, interleaved real/imaginary)
    big = _int_param(acq, "BYTORDA", 0) == 1
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
        solvent=_str(acq.get("SOLVENT", "")),
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
    si = int(header_number(_num(procs.get("SI")), "SI", procs_path, *POINTS_RANGE, unit="points", what="procs"))
    sf = header_number(_num(procs.get("SF")), "SF", procs_path, *SF_MHZ_RANGE, unit="MHz", what="procs")
    sw_p = header_number(_num(procs.get("SW_p")), "SW_p", procs_path, *SW_HZ_RANGE, unit="Hz", what="procs")
    off = header_number(
        _num(procs.get("OFFSET")), "OFFSET", procs_path, -CARRIER_PPM_LIMIT, CARRIER_PPM_LIMIT, unit="ppm", what="procs"
    )
    nc = header_number(_num(procs.get("NC_proc"), 0.0), "NC_proc", procs_path, -64, 64, what="procs")
    isfloat = _int_param(procs, "DTYPP", 0) == 2
    dtype = np.dtype("f8" if isfloat else "i4").newbyteorder(">" if _int_param(procs, "BYTORDP", 0) == 1 else "<")
    # SI points exactly, as nmrglue's read_pdata_binary reads them (1D: no submatrix), scaled by 2**NC_proc
    data = np.fromfile(r1, dtype=dtype, count=si).astype(np.float64) * 2.0**nc
    if data.size < si:
        raise InputError(f"truncated 1r: {data.size} points, procs SI={si}", str(r1))
    ppm = off - np.arange(si) * (sw_p / sf) / si
    return Spectrum1D(
        ppm=ppm,
        intensity=data,
        sf_mhz=sf,
        solvent=_str(acq.get("SOLVENT", "")),
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


# ----------------------------------------------------------------------------- Varian / Agilent


# Varian/Agilent fid file header: 6 int32 (nblocks, ntraces, np, ebytes, tbytes, bbytes), 2 int16 (vers_id,
# status), 1 int32 (nbheaders), big-endian; each block is nbheaders 28-byte block headers then its traces
_VARIAN_FILE_HEADER = struct.Struct(">6ihhi")
_VARIAN_BLOCK_HEADER_BYTES = 28


def _check_varian_fid_layout(fid: Path) -> None:
    """InputError unless the fid's file header describes a layout the file's size holds.

    nmrglue reads blocks by the header's counts and fails inside numpy on a file cut short (or given absurd
    counts); the header's own arithmetic says what the file must hold, so the damage can be named.

    Parameters
    ----------
    fid : Path
        The Varian/Agilent fid file.

    Raises
    ------
    InputError
        Shorter than its header, an inconsistent header, or fewer bytes than the header's blocks need.
    """
    try:
        with open(require_regular(fid, "Varian fid", allow_dir=False), "rb") as fh:
            head = fh.read(_VARIAN_FILE_HEADER.size)
            size = os.fstat(fh.fileno()).st_size
    except OSError as exc:
        raise InputError(f"cannot read Varian fid ({exc.strerror or exc.__class__.__name__})", fid) from None
    if len(head) < _VARIAN_FILE_HEADER.size:
        raise InputError(f"truncated fid: {size} bytes, shorter than its 32-byte file header", fid)
    nblocks, ntraces, np_pts, ebytes, tbytes, bbytes, _vers, _status, nbheaders = _VARIAN_FILE_HEADER.unpack(head)
    if (
        ebytes not in (2, 4)
        or nblocks < 1
        or ntraces < 1
        or np_pts < 2
        or nbheaders < 0
        or tbytes != np_pts * ebytes
        or bbytes != ntraces * tbytes + nbheaders * _VARIAN_BLOCK_HEADER_BYTES
    ):
        raise InputError(
            f"corrupt fid file header (blocks {nblocks}, traces {ntraces}, np {np_pts}, "
            f"{ebytes} bytes per point, {bbytes} bytes per block): damaged or not a Varian fid",
            fid,
        )
    need = _VARIAN_FILE_HEADER.size + nblocks * bbytes
    if size < need:
        raise InputError(
            f"truncated fid: {size} bytes, its header needs {need} for {nblocks} block(s) of "
            f"{np_pts // 2} complex points",
            fid,
        )


def read_varian(d: Path, src: str) -> RawFID:
    ng = _ng()
    d = Path(d)
    pp = _ci(d, "procpar")
    if pp is None:
        raise InputError("missing procpar (Varian/Agilent parameters)", str(d / "procpar"))
    fid = _ci(d, "fid")
    if fid is None or not fid.is_file():
        raise InputError("missing fid (Varian/Agilent time-domain data)", str(d / "fid"))
    # bounded, and a damaged parameter named by its byte offset (nmrglue's read_procpar fails with IndexError)
    procpar = read_varian_procpar(pp)

    def par(name, default=None):
        v = procpar.get(name)
        if not v:
            return default
        vals = v.get("values", [])
        return vals[0] if vals else default

    nucleus = nucleus_name(str(par("tn", "H1")))
    _require_1h(nucleus, src)
    ni = int(_num(par("ni", 1), 1) or 1)
    if ni > 1 or _num(par("ni2", 1), 1) > 1:
        raise InputError(f"not a 1D 1H experiment (2D data, ni={ni})", src)
    np_pts = int(_num(par("np"), 0) or 0)
    _check_varian_fid_layout(fid)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            # read_fid, not read: the procpar is parsed above already, and nmrglue's own parser is unbounded
            dic, data = ng.varian.read_fid(str(fid))
        except (OSError, ValueError, IndexError) as e:
            raise InputError(f"unreadable Varian fid ({type(e).__name__}: {e})", str(fid)) from e
    data = np.asarray(data)
    if data.ndim > 1:
        if data.shape[0] != 1:
            raise InputError(f"not a 1D 1H experiment (arrayed data, {data.shape[0]} traces)", src)
        data = data[0]
    if np_pts and data.size * 2 < np_pts:
        raise InputError(f"truncated fid: {data.size} complex points, procpar np={np_pts}", str(fid))
    data = data.astype(np.complex128)
    if not np.all(np.isfinite(data)) or not np.any(data):
        raise InputError("fid holds no finite, non-zero data", str(fid))
    sw = float(_num(par("sw")))
    sfrq = float(_num(par("sfrq")))
    rfl = _num(par("rfl"), None)
    rfp = _num(par("rfp"), None)
    if rfl is not None and rfp is not None and (rfl or rfp):
        # VnmrJ: the reference line (rfp, Hz) sits rfl Hz from the right (low-frequency) edge of the window
        carrier_ppm = (sw / 2.0 - rfl + rfp) / sfrq
        ref_note = f"rfl={rfl:g} rfp={rfp:g}"
    else:
        carrier_ppm = 4.77  # 1H transmitter near water, the usual VnmrJ default (tof 0 on H2O)
        ref_note = "no rfl/rfp; carrier assumed at water"
    solvent = str(par("solvent", "") or "")
    params = {
        k: par(k)
        for k in (
            "sw",
            "sfrq",
            "np",
            "nt",
            "tn",
            "solvent",
            "seqfil",
            "tof",
            "rfl",
            "rfp",
            "at",
            "d1",
            "temp",
            "rp",
            "lp",
            "fpmult",
        )
        if par(k) is not None
    }
    params["reference_note"] = ref_note
    # Varian/Agilent store the FID with the opposite sense of rotation to Bruker's: after the same FT the
    # frequency axis runs the other way (checked on both realdata sets: DSS at 0.00, CH3 triplet at 1.1)
    return RawFID(
        data=data,
        sw_hz=sw,
        sf_mhz=sfrq,
        carrier_ppm=float(carrier_ppm),
        group_delay=0.0,
        solvent=solvent,
        nucleus=nucleus,
        vendor="varian",
        source=src,
        params=params,
        reverse=True,
    )


# ----------------------------------------------------------------------------- JCAMP-DX


def _jget(dic: dict, *names, default=None):
    """First value among `names` (JCAMP labels compared without spaces/case, as nmrglue stores them)."""
    norm = {re.sub(r"[\s_\-/]", "", k).upper(): k for k in dic if isinstance(k, str)}
    for n in names:
        k = norm.get(re.sub(r"[\s_\-/]", "", n).upper())
        if k is not None:
            return dic[k]
    return default


_JCAMP_FIRST_VALUE = re.compile(r"\s*(?:[+-]?\d+\.?\d*|[+-]?\.\d+)(?:[eE][+-]?\d+)?\s*")
_ASDF_DIGITS = set("@ABCDEFGHIabcdefghi%JKLMNOPQRjklmnopqrSTUVWXYZs")  # SQZ, DIF and DUP pseudo-digits


def _check_jcamp_tables(p: Path, src: str) -> None:
    """Each line of an (X++(Y..Y)) table in ASDF form starts with its abscissa in plain digits (JCAMP-DX 5.01:
    the X value is never compressed). nmrglue's table parser assumes so and fails with an AttributeError on a
    damaged line, so such a line is named here first. The lines are read as nmrglue reads them (UTF-8 with
    replacement, $$ comments cut, leading blanks dropped, nothing after the outermost ##END), and, as there, a
    table's first line decides its form: a plain (AFFN/PAC) table tolerates stray characters, so only a file
    nmrglue would fail on is refused."""
    depth, table, asdf = 0, False, None
    with open(p, encoding="utf-8-sig", errors="replace") as fh:
        for n, line in enumerate(fh, 1):
            actual = line.split("$$", 1)[0].lstrip()
            if not actual.strip():
                continue
            if actual[:2] == "##":
                if actual[:7] == "##TITLE":
                    depth += 1
                if actual[:5] == "##END":
                    depth, table = max(depth - 1, 0), False
                elif "=" in actual:  # a key line without '=' is skipped by nmrglue: the previous key goes on
                    table, asdf = "(X++(" in actual.upper().replace(" ", ""), None
                continue
            if not (depth and table) or asdf is False:
                continue
            m = _JCAMP_FIRST_VALUE.match(actual)
            if m is None:
                raise InputError(f"line {n} of the data table does not start with its X value; damaged file", src)
            if asdf is None:
                asdf = actual[m.end() : m.end() + 1] in _ASDF_DIGITS


def read_jcamp(p: Path, src: str):
    ng = _ng()
    p = Path(p)
    _check_jcamp_tables(p, src)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            dic, data = ng.jcampdx.read(str(p))
        except Exception as e:
            raise InputError(f"unreadable JCAMP-DX ({type(e).__name__}: {e})", src) from e
    if not dic:
        raise InputError("empty or unreadable JCAMP-DX file", src)
    dtype = _str(_jget(dic, "DATATYPE", "DATA TYPE", default="")).upper().replace(" ", "")
    nuc = nucleus_name(_str(_jget(dic, ".OBSERVENUCLEUS", "$NUC1", default="1H")))
    _require_1h(nuc, src)
    if "2D" in dtype or "NMRPEAKTABLE" == dtype or "ASSIGNMENT" in dtype:
        raise InputError(f"not a 1D 1H experiment (JCAMP DATA TYPE {dtype})", src)
    numdim = _num(_jget(dic, "NUMDIM"), 1)
    if numdim and numdim > 1:
        raise InputError(f"not a 1D 1H experiment (JCAMP NUMDIM={numdim:g})", src)
    solvent = _str(_jget(dic, "$SOLVENT", ".SOLVENTNAME", default=""))
    sf = _num(_jget(dic, "$SFO1", ".OBSERVEFREQUENCY", "$SF", "$BF1"))
    if not sf:
        raise InputError("JCAMP-DX gives no observe frequency (.OBSERVE FREQUENCY / $SFO1)", src)
    reverse = _str(_jget(dic, "$REVERSE", default="no")).lower() in ("yes", "true", "1")
    if "FID" in dtype:
        return _jcamp_fid(dic, data, p, src, sf, solvent, nuc, reverse)
    if "SPECTRUM" in dtype:
        return _jcamp_spectrum(dic, data, src, sf, solvent, nuc, reverse)
    raise InputError(f"JCAMP-DX DATA TYPE {dtype or '(none)'} is neither an NMR FID nor an NMR spectrum", src)


# hardware CIC decimator named in a Q Magnetics header: "CIC 2nd order, differential delay = 1"
_CIC_RE = re.compile(r"CIC\s*(\d+)\s*(?:st|nd|rd|th)?\s*order.*?differential\s+delay\s*=\s*(\d+)", re.I)


def _acquisition_delay_points(dic, sw: float) -> float:
    """Time from the pulse to the first FID point of a file without a digital filter, in dwell times (0 when not
    stated): JCAMP-DX `.DELAY= (begin, end)` in microseconds, the pre-acquisition delay (benchtops: receiver
    recovery after the pulse; Nanalysis writes (0, 0)). Every line then carries a first-order phase of
    360 * delay * SW degrees across the window (Q Magnetics ibuprofen: 290 us at 10 kHz, 1044 degrees), too
    far for ACME to reach from 0. A hardware CIC decimator before the sampling (`$QM_HARDWARE_FILTER`, order N,
    differential delay M, decimation R = `$QM_DECIMATION`) delays the signal by its group delay, N (R M - 1) / 2
    input samples = N (R M - 1) / (2 R) points, which comes off: 2.9 - 1.0 = 1.9 points for that set (ACME then
    moves p1 by 2 degrees; from 2.9 points it moves 300 degrees back, from 0 it settles 390 degrees short)."""
    vals = [_num(x) for x in re.findall(r"[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?", _str(_jget(dic, ".DELAY", default="")))]
    vals = [v for v in vals if v is not None and np.isfinite(v)]
    if not vals or sw <= 0:
        return 0.0
    points = max(vals) * 1e-6 * sw
    m = _CIC_RE.search(_str(_jget(dic, "$QM_HARDWARE_FILTER", default="")))
    r = _num(_jget(dic, "$QM_DECIMATION"))
    if m and r and r > 0:
        order, diff = int(m.group(1)), int(m.group(2))
        points -= order * (r * diff - 1) / (2.0 * r)
    return max(points, 0.0)


def _jcamp_fid(dic, data, p, src, sf, solvent, nuc, reverse) -> RawFID:
    if not (isinstance(data, list) and len(data) >= 2):
        raise InputError("JCAMP-DX FID without real and imaginary pages", src)
    re_, im_ = np.asarray(data[0], float), np.asarray(data[1], float)
    n = min(re_.size, im_.size)
    if n < 16:
        raise InputError(f"JCAMP-DX FID too short ({n} points)", src)
    vardim = _str(_jget(dic, "VARDIM", "VAR_DIM", default=""))
    dims = [int(x) for x in re.findall(r"\d+", vardim)]
    if dims and dims[0] > n + 1:
        raise InputError(f"truncated JCAMP-DX FID: {n} points, VAR_DIM says {dims[0]}", src)
    fid = (re_[:n] + 1j * im_[:n]).astype(np.complex128)
    if not np.all(np.isfinite(fid)) or not np.any(fid):
        raise InputError("JCAMP-DX FID holds no finite, non-zero data", src)
    # spectral width: the time axis first, then $SW_h, $SW (ppm) x SFO1, $SWEEPWIDTH
    sw = None
    first = [_num(x) for x in _str(_jget(dic, "FIRST", default="")).split(",") if x.strip()]
    last = [_num(x) for x in _str(_jget(dic, "LAST", default="")).split(",") if x.strip()]
    fac = [_num(x) for x in _str(_jget(dic, "FACTOR", default="")).split(",") if x.strip()]
    if first and last and last[0] is not None and first[0] is not None and last[0] > first[0]:
        xf = fac[0] if fac and fac[0] else 1.0
        dt = (last[0] - first[0]) / (n - 1)
        # some writers give FIRST/LAST already scaled, others not: pick the reading that agrees with $SW
        sw = 1.0 / dt
        if xf != 1.0:
            alt = 1.0 / (dt * xf)
            hint = _num(_jget(dic, "$SWEEPWIDTH", "$SW_h"))
            if hint and abs(alt - hint) < abs(sw - hint):
                sw = alt
    if sw is None:
        sw = _num(_jget(dic, "$SW_h", "$SWH"))
    if sw is None and _num(_jget(dic, "$SW")):
        sw = _num(_jget(dic, "$SW")) * sf
    if sw is None:
        sw = _num(_jget(dic, "$SWEEPWIDTH"))
    if not sw or sw <= 0:
        raise InputError("JCAMP-DX FID gives no spectral width", src)
    # Bruker exports carry O1/BF1 and the digital filter
    o1 = _num(_jget(dic, "$O1"))
    bf1 = _num(_jget(dic, "$BF1"))
    sfo1 = _num(_jget(dic, "$SFO1"), sf)
    base = _num(_jget(dic, "$SF"))
    centre = _num(_jget(dic, "$SPECTRALCENTER"))
    shiftref = _str(_jget(dic, ".SHIFTREFERENCE", default=""))
    if o1 is not None and bf1:
        carrier = o1 / bf1
        how = "O1/BF1"
    elif centre is not None:
        carrier = centre
        how = "$SPECTRALCENTER"
    elif base and sfo1 and abs(sfo1 - base) > 1e-9:
        carrier = (sfo1 - base) / base * 1e6
        how = "($SFO1-$SF)/$SF"
    elif shiftref:
        parts = [x.strip() for x in shiftref.strip("()").split(",")]
        pt, val = _num(parts[2] if len(parts) > 2 else None), _num(parts[3] if len(parts) > 3 else None)
        if pt is not None and val is not None and len(parts) > 1 and parts[1]:
            carrier = val + (pt - n / 2.0) * (sw / n) / sf
            how = ".SHIFT REFERENCE"
        elif pt is not None and val is not None:  # no reference compound named: not a usable reference
            carrier = val + (pt - n / 2.0) * (sw / n) / sf
            how = "none"
        else:
            carrier, how = 0.0, "none"
    else:
        carrier, how = 0.0, "none"
    group_delay = 0.0
    decim, dspfvs = _num(_jget(dic, "$DECIM")), _num(_jget(dic, "$DSPFVS"))
    grp = _num(_jget(dic, "$GRPDLY"))
    if decim is not None and dspfvs is not None:
        acq = {
            "DECIM": decim if decim != int(decim) else int(decim),
            "DSPFVS": int(dspfvs),
            "GRPDLY": grp if grp is not None else -1,
        }
        group_delay = _bruker_group_delay(acq)
    elif grp and grp > 0:
        group_delay = grp
    elif (delay := _acquisition_delay_points(dic, float(sw))) > 0:
        # no digital filter: a stated pre-acquisition delay is a negative group delay (time origin before the
        # first point); process() applies it as the same first-order phase, the other way
        group_delay = -delay
    params = {
        "carrier_from": how,
        "TD": _num(_jget(dic, "$TD")),
        "NS": _num(_jget(dic, "$NS", "$SCANS")),
        "PULPROG": _str(_jget(dic, "$PULPROG", ".PULSESEQUENCE", default="")),
        "origin": _str(_jget(dic, "ORIGIN", "SPECTROMETERDATASYSTEM", default="")),
        "DECIM": decim,
        "DSPFVS": dspfvs,
        "GRPDLY": grp,
    }
    return RawFID(
        data=fid,
        sw_hz=float(sw),
        sf_mhz=float(sfo1 or sf),
        carrier_ppm=float(carrier),
        group_delay=float(group_delay),
        solvent=solvent,
        nucleus=nuc or "1H",
        vendor="jcamp",
        source=src,
        params=params,
        reverse=reverse,
    )


def _ntuples_axis(dic) -> tuple[float | None, float | None, str]:
    """First and last x value and the x unit of an NTUPLES block (the column whose ##SYMBOL= is X)."""

    def column(label: str) -> list[str]:
        return [c.strip() for c in _str(_jget(dic, label, default="")).split(",")]

    symbols = [c.upper() for c in column("SYMBOL")]
    if "X" not in symbols:
        return None, None, "HZ"
    k = symbols.index("X")
    first, last, units = column("FIRST"), column("LAST"), column("UNITS")
    if k >= len(first) or k >= len(last):
        return None, None, "HZ"
    return _num(first[k]), _num(last[k]), (units[k].upper() if k < len(units) and units[k] else "HZ")


def _jcamp_spectrum(dic, data, src, sf, solvent, nuc, reverse) -> Spectrum1D:
    y = data[0] if isinstance(data, list) else data
    if y is None:
        raise InputError("JCAMP-DX spectrum without a real page", src)
    y = np.asarray(y, float).ravel()
    if y.size < 16 or not np.all(np.isfinite(y)):
        raise InputError("JCAMP-DX spectrum has no usable data", src)
    firstx, lastx = _num(_jget(dic, "FIRSTX")), _num(_jget(dic, "LASTX"))
    units = _str(_jget(dic, "XUNITS", default="HZ")).upper()
    if firstx is None or lastx is None:
        # TopSpin's processed export (##DATA CLASS= NTUPLES, real and imaginary ##PAGE=s): the axis is the
        # X column of the NTUPLES ##FIRST=/##LAST=/##UNITS= rows (true values; ##FACTOR= scales only the
        # stored numbers, which nmrglue has applied)
        firstx, lastx, units = _ntuples_axis(dic)
    if firstx is None or lastx is None:
        raise InputError("JCAMP-DX spectrum without an x axis (FIRSTX/LASTX, or the NTUPLES FIRST/LAST of X)", src)
    if not (math.isfinite(firstx) and math.isfinite(lastx)) or firstx == lastx:
        raise InputError(f"JCAMP-DX spectrum x axis from {firstx:g} to {lastx:g} is not an axis", src)
    x = np.linspace(firstx, lastx, y.size)
    obs = _num(_jget(dic, ".OBSERVEFREQUENCY"), sf)
    ppm = x / obs if "HZ" in units else x
    if ppm[0] < ppm[-1]:
        ppm, y = ppm[::-1], y[::-1]
    return Spectrum1D(
        ppm=np.ascontiguousarray(ppm),
        intensity=np.ascontiguousarray(y),
        sf_mhz=float(obs),
        solvent=solvent,
        source=src,
        referencing={"method": "file", "offset_ppm": 0.0, "detail": f"processed JCAMP-DX, x axis in {units}"},
        processing={"source": "processed JCAMP-DX spectrum"},
        params={"vendor": "jcamp", "nucleus": nuc, "origin": _str(_jget(dic, "ORIGIN", default=""))},
    )
