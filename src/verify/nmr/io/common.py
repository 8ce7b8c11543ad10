"""What every 1H reader shares: header values checked against physical ranges, parameter coercion,
nucleus names, case-insensitive file lookup and the lazy nmrglue import.

Each limit is checked once per file, at the reader, so that no infinity, zero frequency or absurd point
count reaches processing or the JSON writer; the error names the key.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from ...errors import InputError
from ...io_limits import header_number


def load_nmrglue():
    """The nmrglue module, imported on first use."""
    import nmrglue as ng  # imported lazily: it pulls in scipy.signal (about 1 s of start-up)

    return ng


def child_named(folder: Path, name: str) -> Path | None:
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


def to_number(v, default=None):
    """A header value as a float: the first element of a list, the first number in a string; `default` when
    there is none."""
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


def int_param(dic: dict, key: str, default: int) -> int:
    """An integer parameter (flag or count); `default` when absent, not a number, or not finite."""
    v = to_number(dic.get(key), None)
    return int(v) if v is not None and np.isfinite(v) and abs(v) < 2**62 else default


def to_text(v) -> str:
    """A header value as text: the first element of a list, without JCAMP's <...> brackets."""
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


def require_1h(nucleus: str, path, extra: str = "") -> None:
    """InputError unless the observe nucleus is 1H (an empty name is taken as 1H: old files omit it)."""
    if nucleus and nucleus != "1H":
        raise InputError(f"not a 1D 1H experiment (observe nucleus {nucleus}{extra})", path)


# Physical ranges of a 1D 1H acquisition header, checked once per file by every reader of verify.nmr.io: a
# value outside is a damaged or foreign header, never a spectrum to process.
SF_MHZ_RANGE = (10.0, 1500.0)  # 1H observe frequency, MHz: Kea benchtop 14.2 MHz ... 1.2 GHz (28.2 T), with margin


SW_HZ_RANGE = (100.0, 1.0e6)  # spectral width, Hz (real files: 4.8 kHz ... 62.5 kHz)


POINTS_RANGE = (16, 2**26)  # time-domain points (TD, np, ...; real files 16k ... 128k)


CARRIER_PPM_LIMIT = 1000.0  # |carrier| or |O1/BF1|, ppm from the spectrometer's 0 ppm


GROUP_DELAY_LIMIT = 1000.0  # |digital-filter group delay or acquisition delay|, points (Bruker: at most ~80)


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


def finite_params(d: dict) -> dict:
    """The same dict with non-finite floats written as text ("inf", "nan"): the report's JSON refuses them."""
    out = {}
    for k, v in d.items():
        if isinstance(v, (float, np.floating)) and not np.isfinite(v):
            v = str(float(v))
        elif isinstance(v, (list, tuple)):
            v = type(v)(str(float(x)) if isinstance(x, (float, np.floating)) and not np.isfinite(x) else x for x in v)
        elif isinstance(v, dict):
            v = finite_params(v)
        out[k] = v
    return out
