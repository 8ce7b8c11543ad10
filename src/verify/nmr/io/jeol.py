"""Read a JEOL Delta `.jdf` 1D 1H FID into a RawFID (nmrglue's `jeol.read` underneath).

What the file gives and how it maps onto RawFID:
  * the FID: nmrglue returns it complex, in the same sense of rotation as its Bruker FIDs. Our FT
    (transform._ft) already turns that into a high -> low frequency spectrum, so it is used as it is: the
    "conjugate before the FFT" of nmrglue's plain `fft` + `guess_udic` recipe is what that reversal does
    (conjugating here as well would mirror the spectrum about the carrier: rutin's DMSO-d5 at 15.5 ppm);
  * the digital filter: JEOL's decimating FIR filter leaves its delay in the first ~20 points. Its
    stages are in `orders` (first digit: number of stages, then the tap count of each) and `factors`
    (decimation factor of each stage); an FIR of N taps delays by (N - 1) / 2 input samples, and stage i
    runs at prod(factors[i:]) times the output rate, so the group delay in output points is
    sum_i (N_i - 1) / (2 prod(factors[i:])) (17.0 points for orders 169 / factors 2; 19.66 for 25473 / 82;
    |FID| peaks at point 18-21 on the real files). It goes into RawFID.group_delay and comes off after the
    FT as a first-order phase, as the Bruker filter does;
  * the axis: `x_offset` (ppm at the centre of the window), `x_sweep` (Hz), `x_freq` (Hz). The header axis
    is not referenced to the sample (the residual solvent sits 0.03-0.04 ppm low): referencing.py puts it
    on TMS or the residual solvent line like every other format;
  * the solvent: `solvent` (DMSO-D6, METHANOL-D4, ACETONE-D6, ...), matched to reference/solvents.tsv.
Anything that is not a 1D 1H FID, or is unreadable, raises InputError (exit 65) naming the file.
"""

from __future__ import annotations

import re
import struct
import warnings
from pathlib import Path

import numpy as np

from ...errors import InputError
from ...io_limits import read_capped
from ..spectrum import RawFID

JEOL_MAGIC = b"JEOL.NMR"

# JEOL Delta domain names -> nucleus ("Proton", "Carbon13", "Fluorine19"; newer files write "1H", "13C")
_ELEMENTS = {
    "proton": "1H",
    "hydrogen": "H",
    "deuterium": "2H",
    "carbon": "C",
    "nitrogen": "N",
    "fluorine": "F",
    "phosphorus": "P",
    "silicon": "Si",
    "oxygen": "O",
    "boron": "B",
    "lithium": "Li",
    "sodium": "Na",
    "tin": "Sn",
    "platinum": "Pt",
    "selenium": "Se",
    "cadmium": "Cd",
    "aluminum": "Al",
    "aluminium": "Al",
}

# parameters copied to RawFID.params (for the report)
JEOL_PARAMS = (
    "x_domain",
    "x_freq",
    "x_sweep",
    "x_offset",
    "x_points",
    "scans",
    "solvent",
    "experiment",
    "relaxation_delay",
    "x_acq_time",
    "temp_get",
    "orders",
    "factors",
    "filter_factor",
    "digital_filter",
    "inst_model_number",
    "site",
    "irr_domain",
    "irr_decoupling",
)


def is_jeol_file(p: Path) -> bool:
    """True when the file starts with the JEOL Delta identifier `JEOL.NMR`."""
    try:
        with open(p, "rb") as fh:
            return fh.read(len(JEOL_MAGIC)) == JEOL_MAGIC
    except OSError:
        return False


def jeol_nucleus(domain: str) -> str:
    """'Proton' / '1H' / 'Carbon13' / '13C' -> '1H' / '1H' / '13C' / '13C'; '' when the file names none.

    Parameters
    ----------
    domain : str
        The `x_domain` parameter of a JEOL Delta file.

    Returns
    -------
    str
        The nucleus as mass number + symbol, or the input stripped when it is not recognised.
    """
    from .common import nucleus_name

    s = str(domain or "").strip()
    # JEOL's element-name form ("Carbon13"); symbols ("13C", "1H", "H1") are read like every other format's
    m = re.fullmatch(r"([A-Za-z]+?)[\s_-]*(\d*)", s)
    sym = _ELEMENTS.get(m.group(1).lower()) if m else None
    if sym in ("1H", "2H"):
        return sym
    if sym and m:
        return (m.group(2) + sym) if m.group(2) else ("1H" if sym == "H" else sym)
    return nucleus_name(s)


def group_delay_points(orders: str, factors: str) -> float:
    """Group delay (output points) of JEOL's multi-stage decimating FIR filter.

    Parameters
    ----------
    orders : str
        The `orders` parameter: number of stages, then each stage's tap count with the same number of digits
        ("25473": 2 stages of 54 and 73 taps).
    factors : str
        The `factors` parameter: each stage's decimation factor, one digit each ("82").

    Returns
    -------
    float
        sum over stages of (taps - 1) / 2 input samples, each divided by the decimation that follows it.

    Raises
    ------
    ValueError
        When the two strings do not describe the same stages.
    """
    o, f = str(orders).strip(), str(factors).strip()
    if not (o.isdigit() and f.isdigit()):
        raise ValueError(f"orders {o!r} / factors {f!r} are not digit strings")
    stages = int(o[0])
    rest = o[1:]
    if stages < 1 or len(rest) % stages or len(f) < stages:
        raise ValueError(f"orders {o!r} / factors {f!r} do not describe {stages} filter stage(s)")
    width = len(rest) // stages
    taps = [int(rest[i * width : (i + 1) * width]) for i in range(stages)]
    dec = [int(c) for c in f[:stages]]
    if any(d < 1 for d in dec) or any(t < 1 for t in taps):
        raise ValueError(f"orders {o!r} / factors {f!r}: a stage without taps or decimation")
    return float(sum((t - 1) / (2.0 * np.prod(dec[i:])) for i, t in enumerate(taps)))


def _param(pars: dict, name: str, default=None):
    v = pars.get(name, default)
    if isinstance(v, (list, tuple)):  # some nmrglue versions keep (value, unit) pairs
        v = v[0] if v else default
    return v


def _float(pars: dict, name: str) -> float | None:
    try:
        v = float(_param(pars, name))
    except (TypeError, ValueError):
        return None
    return v if np.isfinite(v) else None


# the fixed header before the parameter block (nmrglue's read_header reads exactly this much)
JEOL_HEADER_BYTES = 1360
# a JEOL Delta 1D FID is 0.1-2 MB (the real ones here: 0.29-1.1 MB); nmrglue reads the whole file into memory
MAX_JEOL_BYTES = 256 * 1024 * 1024
_JEOL_ITEM_BYTES = {"float64": 8, "float32": 4}


def _parse_jeol(raw: bytes, src: str) -> tuple[dict, np.ndarray]:
    """nmrglue's JEOL parser run in its three steps, each damage named: header, section bounds, parameters, data.

    nmrglue's `jeol.read` reads every offset and count the header gives as it finds them, and a damaged byte
    surfaces as a KeyError (a code its tables lack), a UnicodeDecodeError (a text field), a TypeError (a value of
    the wrong type scaled by its unit) or a struct.error (an offset past the end of the file). Checking the
    header's sections against the file's size first, and parsing header and parameters apart, lets the message
    say which part of the file is damaged instead of which Python error nmrglue met.

    Parameters
    ----------
    raw : bytes
        The whole file.
    src : str
        The path as the user gave it, for messages.

    Returns
    -------
    dict, ndarray
        nmrglue's dictionary ("header", "parameters") and its data array.

    Raises
    ------
    InputError
        Truncated, a damaged header or parameter block, or sections outside the file.
    """
    from nmrglue.fileio import jeol as ngj  # lazily: nmrglue pulls in scipy.signal

    size = len(raw)
    if size < JEOL_HEADER_BYTES:
        raise InputError(f"truncated JEOL file: {size} bytes, shorter than its {JEOL_HEADER_BYTES}-byte header", src)
    try:
        buf, head = ngj.read_header(ngj.IOBuffer(raw, conversion_table=ngj.ConversionTable))
    except (KeyError, IndexError, UnicodeDecodeError, struct.error, ValueError):
        raise InputError("damaged JEOL header (a code or text field the format does not define)", src) from None
    total = int(head.get("total_size") or 0)
    if total and size < total:
        raise InputError(f"truncated JEOL file: {size} bytes, its header says {total}", src)
    item = _JEOL_ITEM_BYTES.get(head.get("data_type"))
    points = [int(n) for n in head.get("data_points") or []]
    if item is None or not points or min(points) < 1:
        raise InputError(f"damaged JEOL header (data type {head.get('data_type')}, points {points})", src)
    sections = 2 ** sum(1 for t in head.get("data_axis_type") or [] if t == "complex")
    need_data = int(np.prod(points, dtype=np.float64) * sections * item)
    for what, start, length in (
        ("parameters", head["param_start"], head["param_length"]),
        ("data", head["data_start"], need_data),
    ):
        if start + length > size or (what == "data" and start < JEOL_HEADER_BYTES):
            raise InputError(
                f"truncated or damaged JEOL file: its header puts the {what} at bytes {start} to "
                f"{start + length}, the file has {size}",
                src,
            )
    try:
        _, params = ngj.read_parameters(buf, head["param_start"], head["endian"])
    except (KeyError, IndexError, UnicodeDecodeError, struct.error, TypeError, ValueError, OverflowError):
        raise InputError(
            "damaged JEOL parameter block (a value type, unit or text the format does not define)", src
        ) from None
    dic = {"header": head, "parameters": params}
    try:
        data = ngj.read_bin_data(dic, raw)
        data = ngj.reorganize(dic, data)
        if isinstance(data, np.ndarray):
            data = ngj.truncate_data(dic, data)
    except (KeyError, IndexError, struct.error, TypeError, ValueError):
        raise InputError(f"damaged JEOL data layout (format {head.get('data_format')}, points {points})", src) from None
    return dic, data


def read_jeol(p: Path, src: str) -> RawFID:
    """Read a JEOL Delta `.jdf` 1D 1H FID.

    Parameters
    ----------
    p : Path
        The `.jdf` file.
    src : str
        The path as the user gave it (for messages and RawFID.source).

    Returns
    -------
    RawFID
        The complex FID with the filter's group delay, spectral width, frequency, carrier and solvent.

    Raises
    ------
    InputError
        Not a JEOL file, truncated or corrupt, not 1D, not 1H, not an FID, or missing acquisition parameters.
    """
    p = Path(p)
    if not is_jeol_file(p):
        raise InputError("not a JEOL Delta file (no JEOL.NMR identifier at the start)", src)
    raw = read_capped(p, MAX_JEOL_BYTES, "JEOL file")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dic, data = _parse_jeol(raw, src)
    head = dic["header"]
    pars = dic.get("parameters", {}) or {}
    ndim = int(head.get("data_dimension_number") or 0)
    if ndim != 1:
        raise InputError(f"not a 1D 1H experiment ({ndim}D JEOL data)", src)
    nucleus = jeol_nucleus(_param(pars, "x_domain", "") or (head.get("data_axis_titles") or [""])[0])
    if nucleus and nucleus != "1H":
        raise InputError(f"not a 1D 1H experiment (observe nucleus {nucleus})", src)
    units = (head.get("units") or [("", 0, "")])[0]
    unit = str(units[-1] if isinstance(units, (list, tuple)) else units or "")
    if unit and unit != "second":
        raise InputError(f"JEOL file holds a processed spectrum (axis in {unit}), not an FID", src)
    axis_type = str((head.get("data_axis_type") or [""])[0] or "")
    data = np.asarray(data)
    if axis_type != "complex" or not np.iscomplexobj(data):
        raise InputError(f"JEOL FID is not complex (axis type {axis_type or 'unknown'}) and cannot be processed", src)
    data = np.squeeze(data).astype(np.complex128)
    if data.ndim != 1:
        raise InputError(f"not a 1D 1H experiment (data shape {data.shape})", src)
    npts = int((head.get("data_points") or [0])[0] or 0)
    if data.size < 16 or (npts and data.size < npts):
        raise InputError(f"truncated JEOL FID: {data.size} complex points, header says {npts}", src)
    if not np.all(np.isfinite(data)) or not np.any(data):
        raise InputError("JEOL FID holds no finite, non-zero data", src)
    sw = _float(pars, "x_sweep")
    if not sw or sw <= 0:
        # the header's time axis: first/last point in seconds
        t0, t1 = (head.get("data_axis_start") or [0.0])[0], (head.get("data_axis_stop") or [0.0])[0]
        sw = (data.size - 1) / (t1 - t0) if t1 > t0 else None
    freq = _float(pars, "x_freq")
    sf = freq / 1e6 if freq else float((head.get("base_freq") or [0.0])[0] or 0.0)
    if not sw or sw <= 0 or not sf or sf <= 0:
        raise InputError("JEOL file gives no spectral width (x_sweep) or observe frequency (x_freq)", src)
    offset = _float(pars, "x_offset")
    if offset is None:
        raise InputError("JEOL file gives no carrier position (x_offset)", src)
    gd = 0.0
    if str(_param(pars, "digital_filter", "")).upper() == "TRUE":
        try:
            gd = group_delay_points(_param(pars, "orders", ""), _param(pars, "factors", ""))
        except ValueError as e:
            raise InputError(f"digital filter on but its delay is not stated ({e})", src) from e
    params = {k: _param(pars, k) for k in JEOL_PARAMS if _param(pars, k) is not None}
    params |= {
        "carrier_from": "x_offset",
        "group_delay_from": "orders/factors" if gd else "no digital filter",
        "title": head.get("title", ""),
    }
    return RawFID(
        data=data,
        sw_hz=float(sw),
        sf_mhz=float(sf),
        carrier_ppm=float(offset),
        group_delay=float(gd),
        solvent=str(_param(pars, "solvent", "") or "").strip(),
        nucleus=nucleus or "1H",
        vendor="jeol",
        source=src,
        params=params,
    )
