"""Read 1D 1H NMR data (Bruker, Varian/Agilent, JCAMP-DX, JEOL Delta, Magritek Prospa) into RawFID or Spectrum1D,
nmrglue underneath.

This module is the dispatcher: it recognises the format and hands the path to its reader in verify.nmr.io
(bruker, varian, jcamp, jeol, magritek; what they share in io/common.py), then checks the result once more.

`read_nmr(path)` accepts:
  * a Bruker experiment folder (acqus + fid), its `fid` file, or a folder holding exactly one experiment
    (searched up to three levels down); `use_pdata=True` returns the vendor's processed pdata/1/1r;
  * a Varian/Agilent `.fid` folder (fid + procpar, any letter case) or its fid file;
  * a JCAMP-DX file: an FID (TopSpin export with $GRPDLY/$DECIM/$DSPFVS, benchtop NTUPLES FIDs,
    $REVERSE=yes) or a processed spectrum (XYDATA, x in Hz or ppm, or TopSpin's NTUPLES export: real and
    imaginary pages, the x axis in the NTUPLES FIRST/LAST rows);
  * a JEOL Delta `.jdf` FID (io/jeol.py), recognised by its JEOL.NMR identifier whatever its suffix;
  * a Magritek Prospa folder, Spinsolve or Kea (acqu.par + data.1d; io/magritek.py), or its data.1d/acqu.par.
Everything that is not a 1D 1H experiment, or is unreadable, raises InputError (exit 65); a path that
does not exist raises MissingInputError (exit 66). No raw exception escapes for bad input.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from ..errors import InputError, MissingInputError, VerifyError
from ..io_limits import header_number, require_regular
from .io.bruker import read_bruker
from .io.common import SF_MHZ_RANGE, check_acquisition, check_fid_data, child_named, finite_params
from .io.jcamp import JCAMP_SUFFIXES, is_jcamp_file, read_jcamp
from .io.jeol import is_jeol_file, read_jeol
from .io.magritek import is_magritek_dir, read_magritek
from .io.varian import read_varian
from .spectrum import RawFID, Spectrum1D

__all__ = ["read_nmr"]


def _kind_of_dir(d: Path) -> str | None:
    if (d / "acqus").is_file() or ((d / "fid").is_file() and (d / "acqu").is_file()):
        return "bruker"
    if (d / "fid").is_file() or (d / "ser").is_file():
        if (d / "pdata").is_dir() or (d / "pulseprogram").is_file():
            return "bruker"
    if child_named(d, "procpar") is not None:
        return "varian"
    if child_named(d, "fid") is not None and d.suffix.lower() == ".fid":
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
    obj.params = finite_params(obj.params)
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
    obj.processing = finite_params(obj.processing)
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
            if k == "varian" or child_named(d, "procpar") is not None:
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
        if is_jcamp_file(p):
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
            if (p / "fid").exists() or child_named(p, "fid") is not None:
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
