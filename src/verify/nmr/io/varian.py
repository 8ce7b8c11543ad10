"""Varian/Agilent VnmrJ 1D 1H data: a `.fid` folder (fid + procpar, any letter case). The binary file and
block headers are checked against the file size before nmrglue reads the data.
"""

from __future__ import annotations

import io
import os
import struct
import warnings
from pathlib import Path

import numpy as np

from ...errors import InputError
from ...io_limits import MAX_PARAMETER_BYTES, header_number, read_capped, require_regular
from ..spectrum import RawFID
from .common import (
    SF_MHZ_RANGE,
    SW_HZ_RANGE,
    child_named,
    load_nmrglue,
    nucleus_name,
    require_1h,
    to_number,
)


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
    ng = load_nmrglue()
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
    ng = load_nmrglue()
    d = Path(d)
    pp = child_named(d, "procpar")
    if pp is None:
        raise InputError("missing procpar (Varian/Agilent parameters)", str(d / "procpar"))
    fid = child_named(d, "fid")
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
    require_1h(nucleus, src)
    ni = int(to_number(par("ni", 1), 1) or 1)
    if ni > 1 or to_number(par("ni2", 1), 1) > 1:
        raise InputError(f"not a 1D 1H experiment (2D data, ni={ni})", src)
    np_pts = int(to_number(par("np"), 0) or 0)
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
    # a truncated procpar may lack them: named here, before any arithmetic
    sw = header_number(to_number(par("sw")), "sw", pp, *SW_HZ_RANGE, unit="Hz", what="procpar")
    sfrq = header_number(to_number(par("sfrq")), "sfrq", pp, *SF_MHZ_RANGE, unit="MHz", what="procpar")
    rfl = to_number(par("rfl"), None)
    rfp = to_number(par("rfp"), None)
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
