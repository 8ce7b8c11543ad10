"""Read a Magritek Prospa 1D folder (Spinsolve benchtop, or Kea) into a RawFID (nmrglue's `spinsolve.read`).

A Prospa experiment folder holds the FID in `data.1d` (or `fid.1d`; binary, 32-byte header "PROS" "DATA"
"V1.1" + data type and four dimensions, then float32 data: type 504 = time axis followed by the complex
points, 501 = complex points only) and the acquisition parameters in `acqu.par` (`name = value` lines).

nmrglue reads the binary; its `acqu.par` handling is not used: Prospa writes numbers with a type suffix
(`b1Freq = 14.2445d`) on which `spinsolve.guess_udic` raises ValueError, and its line parser stops on a
line without `=`. `parse_acqu_par` below reads the few parameters needed, defensively.

What is taken from where:
  * spectral width: 1e6 / `dwellTime` (us), else `bandwidth` (kHz). The time axis stored in data.1d is
    not used for it: it is acqTime / nrPnts with acqTime rounded to three figures (Kea: 100.098 us steps
    for a 100.0 us dwell time);
  * observe frequency: `b1Freq` (MHz); nucleus: `rxChannel` (Spinsolve), else 1H assumed and said so;
  * axis: a Spinsolve folder gives `lowestFrequency` (Hz from the spectrometer's 0 ppm at the low edge
    of the window), so the carrier sits at (lowestFrequency + bandwidth / 2) / b1Freq ppm, and its `Solvent`
    lets referencing.py find the residual solvent line. A Kea folder gives neither: its axis is in ppm
    from the transmitter, with no shift reference at all (RawFID.params["shift_reference"] = "none", which
    process.py reports as referencing method "none" instead of guessing one);
  * sense of rotation: Prospa stores the FID conjugated relative to the Bruker sense our FT expects
    (DNPLab's Prospa reader conjugates it; on the Kea toluene set only the conjugated FID puts the taller
    line, the 5 H ring, at the higher frequency, 71 Hz above the 3 H methyl), so it is conjugated here.
Anything that is not a 1D 1H FID, or is unreadable, raises InputError (exit 65) naming the file.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import InputError
from ..spectrum import RawFID

PROSPA_MAGIC = b"SORPATAD"  # "PROS" "DATA" stored byte-reversed
FID_FILES = ("data.1d", "fid.1d")
HEADER_BYTES = 32
# a Prospa number: optional sign, digits, optional exponent, optional one-letter type suffix (d double, f float...)
_NUMBER = re.compile(r"^([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)([a-zA-Z]?)$")
MAGRITEK_PARAMS = (
    "experiment",
    "Solvent",
    "Sample",
    "b1Freq",
    "bandwidth",
    "dwellTime",
    "nrPnts",
    "nrScans",
    "acqTime",
    "acqDelay",
    "lowestFrequency",
    "rxChannel",
    "rxGain",
    "repTime",
    "pulseLength",
    "90Amplitude",
    "expName",
    "expNr",
)


def is_magritek_dir(d: Path) -> bool:
    """A folder with `acqu.par` and a Prospa data file (data.1d, fid.1d, any data.Nd, spectrum.1d)."""
    if not (d / "acqu.par").is_file():
        return False
    try:
        return any(re.fullmatch(r"(data|fid|spectrum|spectrum_processed)\.\dd", x.name) for x in d.iterdir())
    except OSError:
        return False


def parse_acqu_par(path: Path) -> dict:
    """Parse a Prospa `acqu.par` into {name: value}.

    Numbers (with or without a type suffix such as `14.2445d`) become float, quoted strings lose their
    quotes, anything else (arrays such as `[34,293]`) stays a string. Lines without `=` are skipped.

    Parameters
    ----------
    path : Path
        The acqu.par file.

    Returns
    -------
    dict
        Parameter name -> float or str.

    Raises
    ------
    InputError
        When the file cannot be read or is not text.
    """
    try:
        raw = Path(path).read_bytes()
    except OSError as e:
        raise InputError(f"cannot read acquisition parameters ({e.strerror})", str(path)) from e
    if b"\x00" in raw:
        raise InputError("acquisition parameters are not text (binary data in acqu.par)", str(path))
    out: dict = {}
    for line in raw.decode("latin-1").splitlines():
        if "=" not in line:
            continue
        name, value = (s.strip() for s in line.split("=", 1))
        if not name:
            continue
        if len(value) >= 2 and value[0] == value[-1] == '"':
            out[name] = value[1:-1]
            continue
        m = _NUMBER.match(value)
        out[name] = float(m.group(1)) if m else value
    return out


def _need_number(par: dict, name: str, path: Path) -> float:
    v = par.get(name)
    if v is None:
        raise InputError(f"acqu.par has no {name}", str(path))
    if not isinstance(v, float) or not np.isfinite(v) or v <= 0:
        raise InputError(f"acqu.par: {name} = {v!r} is not a positive number", str(path))
    return v


def _fid_file(d: Path, src: str) -> Path:
    for name in FID_FILES:
        if (d / name).is_file():
            return d / name
    others = sorted(x.name for x in d.iterdir() if re.fullmatch(r"(data|fid)\.[2-4]d", x.name))
    if others:
        raise InputError(f"not a 1D 1H experiment (Prospa {others[0]}: {others[0][-2]}D data)", src)
    if (d / "spectrum.1d").is_file() or (d / "spectrum_processed.1d").is_file():
        raise InputError("only a processed Prospa spectrum (spectrum.1d) here; the FID data.1d is needed", src)
    raise InputError("no Prospa FID (data.1d or fid.1d) next to acqu.par", src)


def _read_fid(ng, d: Path, fid: Path) -> tuple[np.ndarray, dict]:
    """Complex points of a data.1d/fid.1d and its header; InputError when short, corrupt or not 1D."""
    raw = fid.read_bytes()
    if len(raw) < HEADER_BYTES or raw[:8] != PROSPA_MAGIC:
        raise InputError("not a Prospa data file (no PROS/DATA header)", str(fid))
    dtype, nx, ny, nz, nq = (int(v) for v in np.frombuffer(raw[12:32], "<i4"))
    if min(ny, nz, nq) < 1 or nx < 1:
        raise InputError(f"corrupt Prospa header (dimensions {nx} x {ny} x {nz} x {nq})", str(fid))
    if ny * nz * nq > 1:
        raise InputError(f"not a 1D 1H experiment (Prospa data of {nx} x {ny} x {nz} x {nq} points)", str(fid))
    floats = {504: 3 * nx, 501: 2 * nx}.get(dtype)  # 504: time axis + complex; 501: complex only
    if floats is None:
        raise InputError(f"Prospa data type {dtype} is not a complex FID (504 or 501)", str(fid))
    need = HEADER_BYTES + 4 * floats
    if len(raw) < need:
        raise InputError(f"truncated {fid.name}: {len(raw)} bytes, its header needs {need} for {nx} points", str(fid))
    if len(raw) != need:
        # Prospa writes exactly the header and the points it declares; bytes beyond them (a file spliced or
        # appended to) leave the float32 words unaligned, and nmrglue would read them as more points
        raise InputError(
            f"{fid.name} is {len(raw)} bytes but its header declares {need} for {nx} points: "
            "damaged or not a Prospa FID",
            str(fid),
        )
    head: dict[str, Any] = {"dataType": dtype, "xDim": nx}
    if dtype == 504:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # acqupar/procpar "": nmrglue skips them (its line parsers stop on Prospa files, see module doc)
            dic, data = ng.spinsolve.read(str(d), fid.name, acqupar="", procpar="")
        x = np.asarray(dic.get("spectrum", {}).get("xaxis", []), float)
        if x.size > 1:
            head["axis_step"] = float((x[-1] - x[0]) / (x.size - 1))  # float32 steps are too coarse near the end
        data = np.asarray(data)[:nx]
    else:  # nmrglue takes every .1d file for type 504; type 501 is plain interleaved float32
        v = np.frombuffer(raw, "<f4", count=floats, offset=HEADER_BYTES).astype(np.float64)
        data = v[0::2] + 1j * v[1::2]
    return np.asarray(data, dtype=np.complex128), head


def read_magritek(d: Path, src: str) -> RawFID:
    """Read a Magritek Prospa (Spinsolve or Kea) 1D experiment folder.

    Parameters
    ----------
    d : Path
        The experiment folder (acqu.par + data.1d).
    src : str
        The path as the user gave it (for messages and RawFID.source).

    Returns
    -------
    RawFID
        The conjugated complex FID, its spectral width, frequency, carrier and solvent; params say whether the
        folder carries a shift reference.

    Raises
    ------
    InputError
        Missing or unreadable acqu.par or data file, truncated data, not 1D, not 1H.
    """
    import nmrglue as ng  # lazily: nmrglue pulls in scipy.signal

    d = Path(d)
    par_path = d / "acqu.par"
    if not par_path.is_file():
        raise InputError("missing acqu.par (Prospa acquisition parameters)", str(par_path))
    par = parse_acqu_par(par_path)
    nucleus = ""
    for key in ("rxChannel", "nucleus", "Nucleus", "rxNucleus"):
        if isinstance(par.get(key), str) and par[key].strip():
            nucleus = par[key].strip()
            break
    if nucleus:
        from .common import nucleus_name

        nucleus = nucleus_name(nucleus)
        if nucleus != "1H":
            raise InputError(f"not a 1D 1H experiment (observe nucleus {nucleus})", src)
    sf = _need_number(par, "b1Freq", par_path)
    if isinstance(par.get("dwellTime"), float) and par["dwellTime"] > 0:
        sw, sw_from = 1e6 / par["dwellTime"], "1e6/dwellTime"
    else:
        sw, sw_from = _need_number(par, "bandwidth", par_path) * 1e3, "bandwidth"
    fid_path = _fid_file(d, src)
    try:
        data, head = _read_fid(ng, d, fid_path)
    except InputError:
        raise
    except (OSError, ValueError, IndexError, KeyError, TypeError) as e:
        raise InputError(f"unreadable Prospa data ({type(e).__name__}: {e})", str(fid_path)) from e
    npts = par.get("nrPnts")
    if isinstance(npts, float) and npts > data.size:
        raise InputError(f"truncated {fid_path.name}: {data.size} points, acqu.par nrPnts={npts:g}", str(fid_path))
    if data.size < 16 or not np.all(np.isfinite(data)) or not np.any(data):
        raise InputError(f"{fid_path.name} holds no finite, non-zero FID", str(fid_path))
    params = {k: par[k] for k in MAGRITEK_PARAMS if k in par}
    params |= {
        "sw_from": sw_from,
        "nucleus_from": "rxChannel" if nucleus else "none in acqu.par: 1H assumed",
        "data_file": fid_path.name,
    }
    if "axis_step" in head:
        params["data_file_time_step_us"] = round(head["axis_step"], 4)
    low = par.get("lowestFrequency")
    if isinstance(low, float):
        carrier = (low + sw / 2.0) / sf
        params["carrier_from"] = "(lowestFrequency + bandwidth/2) / b1Freq"
    else:
        # Kea / plain Prospa: no lock, no ppm scale; offsets from the transmitter, in ppm of b1Freq
        carrier = 0.0
        params["carrier_from"] = "transmitter"
        params["shift_reference"] = "none"
        params["reference_note"] = "acqu.par gives no lowestFrequency (no ppm scale) and no solvent"
    named = par.get("Solvent")
    solvent = named if isinstance(named, str) else ""
    # conjugated: Prospa's sense of rotation is the opposite of the Bruker sense transform._ft expects
    return RawFID(
        data=np.conj(data),
        sw_hz=float(sw),
        sf_mhz=float(sf),
        carrier_ppm=float(carrier),
        group_delay=0.0,
        solvent=solvent.strip(),
        nucleus=nucleus or "1H",
        vendor="magritek",
        source=src,
        params=params,
    )
