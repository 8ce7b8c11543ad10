"""JCAMP-DX 1H data: an FID (TopSpin export with $GRPDLY/$DECIM/$DSPFVS, benchtop NTUPLES FIDs) or a processed
spectrum (XYDATA in Hz or ppm, TopSpin's NTUPLES export). Size and DUP-expanded point counts are checked on the
raw text before nmrglue parses it.
"""

from __future__ import annotations

import math
import re
import warnings
from pathlib import Path

import numpy as np

from ...errors import InputError
from ...io_limits import read_capped
from ..spectrum import RawFID, Spectrum1D
from .bruker import bruker_group_delay
from .common import (
    POINTS_RANGE,
    load_nmrglue,
    nucleus_name,
    require_1h,
    to_number,
    to_text,
)
from .jeol import is_jeol_file

JCAMP_SUFFIXES = {".dx", ".jdx", ".jcamp", ".jcm", ".jdf"}


def is_jcamp_file(p: Path) -> bool:
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


# a larger JCAMP-DX file is not a 1D 1H FID or spectrum (real ones: 0.1-1.1 MB); nmrglue parses it in Python
MAX_JCAMP_BYTES = 64 * 1024 * 1024


# cap on the points the DUP (repeat) counts of a compressed JCAMP-DX table may expand to: one flipped digit after
# a DUP character asks nmrglue for billions of repeats (minutes of work and gigabytes)
MAX_JCAMP_POINTS = 4 * POINTS_RANGE[1]


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
    ng = load_nmrglue()
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
    dtype = to_text(_jget(dic, "DATATYPE", "DATA TYPE", default="")).upper().replace(" ", "")
    nuc = nucleus_name(to_text(_jget(dic, ".OBSERVENUCLEUS", "$NUC1", default="1H")))
    require_1h(nuc, src)
    if "2D" in dtype or "NMRPEAKTABLE" == dtype or "ASSIGNMENT" in dtype:
        raise InputError(f"not a 1D 1H experiment (JCAMP DATA TYPE {dtype})", src)
    numdim = to_number(_jget(dic, "NUMDIM"), 1)
    if numdim and numdim > 1:
        raise InputError(f"not a 1D 1H experiment (JCAMP NUMDIM={numdim:g})", src)
    solvent = to_text(_jget(dic, "$SOLVENT", ".SOLVENTNAME", default=""))
    sf = to_number(_jget(dic, "$SFO1", ".OBSERVEFREQUENCY", "$SF", "$BF1"))
    if not sf:
        raise InputError("JCAMP-DX gives no observe frequency (.OBSERVE FREQUENCY / $SFO1)", src)
    reverse = to_text(_jget(dic, "$REVERSE", default="no")).lower() in ("yes", "true", "1")
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
    vals = [
        to_number(x)
        for x in re.findall(r"[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?", to_text(_jget(dic, ".DELAY", default="")))
    ]
    vals = [v for v in vals if v is not None and np.isfinite(v)]
    if not vals or sw <= 0:
        return 0.0
    points = max(vals) * 1e-6 * sw
    m = _CIC_RE.search(to_text(_jget(dic, "$QM_HARDWARE_FILTER", default="")))
    r = to_number(_jget(dic, "$QM_DECIMATION"))
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
    vardim = to_text(_jget(dic, "VARDIM", "VAR_DIM", default=""))
    dims = [int(x) for x in re.findall(r"\d+", vardim)]
    if dims and dims[0] > n + 1:
        raise InputError(f"truncated JCAMP-DX FID: {n} points, VAR_DIM says {dims[0]}", src)
    fid = (re_[:n] + 1j * im_[:n]).astype(np.complex128)
    if not np.all(np.isfinite(fid)) or not np.any(fid):
        raise InputError("JCAMP-DX FID holds no finite, non-zero data", src)
    # spectral width: the time axis first, then $SW_h, $SW (ppm) x SFO1, $SWEEPWIDTH
    sw = None
    first = [to_number(x) for x in to_text(_jget(dic, "FIRST", default="")).split(",") if x.strip()]
    last = [to_number(x) for x in to_text(_jget(dic, "LAST", default="")).split(",") if x.strip()]
    fac = [to_number(x) for x in to_text(_jget(dic, "FACTOR", default="")).split(",") if x.strip()]
    if first and last and last[0] is not None and first[0] is not None and last[0] > first[0]:
        xf = fac[0] if fac and fac[0] else 1.0
        dt = (last[0] - first[0]) / (n - 1)
        # some writers give FIRST/LAST already scaled, others not: pick the reading that agrees with $SW
        sw = 1.0 / dt
        if xf != 1.0:
            alt = 1.0 / (dt * xf)
            hint = to_number(_jget(dic, "$SWEEPWIDTH", "$SW_h"))
            if hint and abs(alt - hint) < abs(sw - hint):
                sw = alt
    if sw is None:
        sw = to_number(_jget(dic, "$SW_h", "$SWH"))
    if sw is None and to_number(_jget(dic, "$SW")):
        sw = to_number(_jget(dic, "$SW")) * sf
    if sw is None:
        sw = to_number(_jget(dic, "$SWEEPWIDTH"))
    if not sw or sw <= 0:
        raise InputError("JCAMP-DX FID gives no spectral width", src)
    # Bruker exports carry O1/BF1 and the digital filter
    o1 = to_number(_jget(dic, "$O1"))
    bf1 = to_number(_jget(dic, "$BF1"))
    sfo1 = to_number(_jget(dic, "$SFO1"), sf)
    base = to_number(_jget(dic, "$SF"))
    centre = to_number(_jget(dic, "$SPECTRALCENTER"))
    shiftref = to_text(_jget(dic, ".SHIFTREFERENCE", default=""))
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
        pt, val = to_number(parts[2] if len(parts) > 2 else None), to_number(parts[3] if len(parts) > 3 else None)
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
    decim, dspfvs = to_number(_jget(dic, "$DECIM")), to_number(_jget(dic, "$DSPFVS"))
    grp = to_number(_jget(dic, "$GRPDLY"))
    if decim is not None and dspfvs is not None:
        acq = {
            "DECIM": decim if decim != int(decim) else int(decim),
            "DSPFVS": int(dspfvs),
            "GRPDLY": grp if grp is not None else -1,
        }
        group_delay = bruker_group_delay(acq)
    elif grp and grp > 0:
        group_delay = grp
    elif (delay := _acquisition_delay_points(dic, float(sw))) > 0:
        # no digital filter: a stated pre-acquisition delay is a negative group delay (time origin before the
        # first point); process() applies it as the same first-order phase, the other way
        group_delay = -delay
    params = {
        "carrier_from": how,
        "TD": to_number(_jget(dic, "$TD")),
        "NS": to_number(_jget(dic, "$NS", "$SCANS")),
        "PULPROG": to_text(_jget(dic, "$PULPROG", ".PULSESEQUENCE", default="")),
        "origin": to_text(_jget(dic, "ORIGIN", "SPECTROMETERDATASYSTEM", default="")),
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
        return [c.strip() for c in to_text(_jget(dic, label, default="")).split(",")]

    symbols = [c.upper() for c in column("SYMBOL")]
    if "X" not in symbols:
        return None, None, "HZ"
    k = symbols.index("X")
    first, last, units = column("FIRST"), column("LAST"), column("UNITS")
    if k >= len(first) or k >= len(last):
        return None, None, "HZ"
    return to_number(first[k]), to_number(last[k]), (units[k].upper() if k < len(units) and units[k] else "HZ")


def _jcamp_spectrum(dic, data, src, sf, solvent, nuc, reverse) -> Spectrum1D:
    y = data[0] if isinstance(data, list) else data
    if y is None:
        raise InputError("JCAMP-DX spectrum without a real page", src)
    y = np.asarray(y, float).ravel()
    if y.size < 16 or not np.all(np.isfinite(y)):
        raise InputError("JCAMP-DX spectrum has no usable data", src)
    firstx, lastx = to_number(_jget(dic, "FIRSTX")), to_number(_jget(dic, "LASTX"))
    units = to_text(_jget(dic, "XUNITS", default="HZ")).upper()
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
    obs = to_number(_jget(dic, ".OBSERVEFREQUENCY"), sf)
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
        params={"vendor": "jcamp", "nucleus": nuc, "origin": to_text(_jget(dic, "ORIGIN", default=""))},
    )
