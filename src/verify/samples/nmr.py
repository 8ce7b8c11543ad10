"""Simulated 1H acquisitions written as Bruker experiment folders (nmrglue `bruker.write`).

What the raw `fid` holds, in order of construction:
  1. the ideal FID: a sum of damped complex exponentials (Lorentzian lines, Voigt through a Gaussian
     envelope) at offset f = ppm*BF1 - O1 Hz, one per multiplet line (first order, AB roofing for pairs);
  2. in the frequency domain: the digital filter's roll-off over the outer 2 % of the window, a baseline
     distortion as real FIDs get it from corrupt first points (receiver dead time, pulse breakthrough): the
     first two points off, i.e. a constant and one Fourier period across the window, periodic at its edges
     (`_baseline_roll`: offset, sine tilt, cosine curvature), the spectrometer's phase error (zero order, and first
     order as a time shift), and the digital-filter group delay: the FID delayed by GRPDLY points
     (band-limited, fractional), so that `ng.bruker.remove_digital_filter` removes it;
  3. white complex noise through the same filter, scaling to the receiver's integer range, rounding to int32.

The processing that puts every line back in absorption (what `phase_for_nmrglue` returns):
    data = ng.proc_base.fft(raw)
    data = ng.bruker.remove_digital_filter(dic, data, truncate=False, post_proc=True)
    data = ng.proc_base.rev(data)
    data = ng.proc_base.ps(data, p0=P0, p1=P1)
(with the default truncate=True use the `p0_truncated`/`p1_truncated` of the truth) and the ppm axis is nmrglue's `uc_from_udic(guess_udic(dic, data)).ppm_scale()`.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from dataclasses import field as _field
from pathlib import Path

import numpy as np

from .tables import Group, multiplet_lines

# (BF1 MHz, SW_h Hz): SW_h = 1/(2*DW) for the DW a 20 ppm window gets on each spectrometer
FIELDS = {
    400: (400.13, 8012.820512820513),
    500: (500.13, 10000.0),
    600: (600.13, 12019.23076923077),
}
PROBES = {
    400: "5 mm PABBO BB/19F-1H/D Z-GRD Z116098/0203",
    500: "5 mm CPPBBO BB-1H/19F/D Z-GRD Z130030/0011",
    600: "5 mm CPTCI 1H-13C/15N/D Z-GRD Z44909/0041",
}
OVERSAMPLING_HZ = 20.0e6  # DECIM * SW_h on DSPFVS 20 consoles (Avance III / NEO)
# baseline roll amplitudes (_baseline_roll): a sine of amplitude b1/2 spans the +-b1/2 of the former tilt b1*x over
# the window; a cosine of amplitude b2/8 the 1/6 * b2 peak-to-peak of the former curvature b2*(x^2 - 1/12), roughly
BASELINE_SIN = 0.5
BASELINE_COS = 0.125


@dataclass
class Line:
    ppm: float
    weight: float  # area in H units
    lw_hz: float  # Lorentzian FWHM
    source: str = ""


@dataclass
class Component:
    """One group of the simulated spectrum (for the truth file and tests)."""

    ppm: float
    n_h: float  # area in H units (already scaled by mole fraction)
    mult: str
    j_hz: tuple
    source: str  # "target", "impurity:<name>", "solvent", "water", "tms", ...
    assignment: str
    span_hz: float  # half-width of the multiplet, satellites not counted
    lw_hz: float
    satellites: tuple = ()  # ((offset Hz, fraction of the area), ...) 13C / 29Si satellites
    lines: tuple | None = None  # ((offset Hz, weight), ...) when not first order (AB roof effect)


@dataclass
class NmrSpec:
    field: int = 400
    solvent: str = "CDCl3"
    td: int = 65536
    o1p: float = 6.175
    lw_hz: float = 0.8
    gauss_hz: float = 0.4
    p0_err: float = 0.0  # degrees, spectrometer zero-order phase error
    p1_err: float = 0.0  # degrees across the spectral width (first order)
    grpdly: float = 67.9842071533203
    noise: float = 300.0  # noise std of the int32 FID (per channel); overridden by snr when set
    big_endian: bool = False  # BYTORDA=1, as older (non-x86) consoles wrote
    snr: float | None = None  # tallest line / noise std in the spectrum (real 1H data here: 4e3 .. 1.2e5)
    fid_max: float = 4.0e6  # largest |FID| value
    baseline: tuple = (
        0.0,
        0.0,
        0.0,
    )  # offset, tilt, curvature amplitudes (fraction of the tallest line; _baseline_roll)
    ns: int = 16
    rg: float = 101.0
    expno: int = 1
    title: str = ""
    date: int = 1764000000
    components: list[Component] = _field(default_factory=list)


def ab_patterns(groups, bf1: float) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Second-order AB(AA'BB'-like) patterns for pairs of mutually coupled doublets (para-disubstituted
    rings): two 'd' groups with the same J and nH whose shift difference is under 10 J. Returns, by group
    index, the line offsets (Hz, from the group's own shift) and weights (sum 1): the roof effect."""
    out = {}
    ds = [i for i, g in enumerate(groups) if g.mult == "d" and len(g.j_hz) == 1]
    used = set()
    for a in ds:
        for b in ds:
            if a >= b or a in used or b in used:
                continue
            ga, gb = groups[a], groups[b]
            if abs(ga.j_hz[0] - gb.j_hz[0]) > 0.3 or ga.n_h != gb.n_h:
                continue
            dnu = abs(ga.ppm - gb.ppm) * bf1
            j = 0.5 * (ga.j_hz[0] + gb.j_hz[0])
            if dnu == 0 or dnu > 10 * j:
                continue
            big = 1.0 if ga.ppm > gb.ppm else -1.0
            d = np.hypot(dnu, j)
            sn = j / d
            # lines relative to the centre of the pair; the higher-shift half first
            hi = np.array([(d + j) / 2, (d - j) / 2])
            w = np.array([1 - sn, 1 + sn]) / 2.0
            for idx, sign in ((a, big), (b, -big)):
                out[idx] = (sign * hi - sign * dnu / 2.0, w.copy())
            used |= {a, b}
    return out


def group_lines(
    g: Group, fraction: float, bf1: float, lw_hz: float, source: str, satellites: bool = True, pattern=None
) -> tuple[list[Line], Component]:
    offs, w = multiplet_lines(g.mult, g.j_hz) if pattern is None else pattern
    lw = lw_hz + g.extra_lw_hz
    area = g.n_h * fraction
    lines = []
    sats: list[tuple[float, float]] = []  # (offset Hz, fraction of the group's area)
    if satellites and g.mult == "s" and g.n_h >= 3 and g.extra_lw_hz < 2.0:
        jch = 145.0 if "OCH3" in g.assignment or "OMe" in g.assignment else 128.0
        if "TMS" in g.assignment:
            jch = 118.2
            sats += [(-3.3, 0.0235), (3.3, 0.0235)]  # 29Si (4.7 %, 2J_SiH 6.6 Hz)
        sats += [(-jch / 2, 0.0055), (jch / 2, 0.0055)]  # 13C (1.1 %)
    main = 1.0 - sum(f for _, f in sats)
    for o, f in sats:
        lines.append(Line(g.ppm + o / bf1, area * f, lw, source + " satellite"))
    for o, wi in zip(offs, w):
        lines.append(Line(g.ppm + o / bf1, area * wi * main, lw, source))
    span = float(np.max(np.abs(offs))) if len(offs) else 0.0
    comp = Component(
        g.ppm,
        area,
        g.mult,
        tuple(g.j_hz),
        source,
        g.assignment,
        span,
        lw,
        tuple(sats),
        None if pattern is None else tuple(zip(np.round(offs, 5).tolist(), np.round(w, 6).tolist())),
    )
    return lines, comp


def _fid(lines: list[Line], n: int, sw_h: float, bf1: float, o1: float, gauss_hz: float) -> np.ndarray:
    t = np.arange(n) / sw_h
    fid = np.zeros(n, complex)
    # group lines by width so that each width needs one envelope
    by_lw: dict[float, list[Line]] = {}
    for ln in lines:
        by_lw.setdefault(round(ln.lw_hz, 3), []).append(ln)
    for lw, ls in by_lw.items():
        f = np.array([ln.ppm * bf1 - o1 for ln in ls])
        a = np.array([ln.weight for ln in ls])
        acc = np.zeros(n, complex)
        for i in range(0, len(f), 64):
            acc += a[i : i + 64] @ np.exp(2j * np.pi * np.outer(f[i : i + 64], t))
        fid += acc * np.exp(-np.pi * lw * t)
    if gauss_hz > 0:
        fid *= np.exp(-((np.pi * gauss_hz * t) ** 2) / (4 * np.log(2)))
    return fid


def _baseline_roll(baseline, x: np.ndarray) -> np.ndarray:
    """Complex baseline of FID points 0 and 1 off by d0 = b0 and d1 = -b2/8 + i b1/2 (fractions of the tallest
    line): a point k adds d_k exp(-2 pi i k x) to the spectrum. The real part, b0 + b1/2 sin(2 pi x) -
    b2/8 cos(2 pi x), keeps the offset, tilt (sine) and curvature (cosine) amplitudes of the former polynomial
    b0 + b1 x + b2 (x^2 - 1/12) over the window, without its jump at the edges."""
    b0, b1, b2 = baseline
    d1 = complex(-BASELINE_COS * b2, BASELINE_SIN * b1)
    return b0 + d1 * np.exp(-2j * np.pi * x)


def simulate(spec: NmrSpec, lines: list[Line], rng: np.random.Generator) -> tuple[dict, np.ndarray, dict]:
    """Raw int-valued complex FID and the Bruker parameter dictionary for `ng.bruker.write`."""
    bf1, sw_h = FIELDS[spec.field]
    n = spec.td // 2
    o1 = spec.o1p * bf1
    ideal = _fid(lines, n, sw_h, bf1, o1, spec.gauss_hz)
    # frequency-domain operations on a zero-padded copy (2n), so that filter and delay do not wrap the
    # FID's start around to its end; the first point of a sampled FID is taken whole (processing halves it)
    m = 2 * n
    S = np.fft.fft(ideal, m)
    x = np.fft.fftfreq(m)  # normalised frequency -0.5 .. 0.5 (f = x*sw_h)
    tallest = np.max(np.abs(S))
    # the digital filter's roll-off over the outer 2 % of the window on each side (signals and noise)
    roll = np.clip((0.5 - np.abs(x)) / 0.02, 0.0, 1.0)
    roll = 0.02 + 0.98 * (0.5 - 0.5 * np.cos(np.pi * roll))
    # (the constant offset a DFT gives from the full-weight first point is a processing artefact, not a
    # signal the filter saw: it stays flat to the edges)
    c0 = ideal[0] / 2.0
    S = (S - c0) * roll + c0
    # baseline distortion: the first two FID points off (receiver dead time, pulse breakthrough), i.e. the
    # lowest Fourier terms of the window, periodic across its edges (a polynomial in x jumps where the
    # window wraps and rings into edge humps). Real part after phasing: b0 + b1/2 sin(2 pi x) - b2/8 cos(2 pi x)
    S = S + tallest * _baseline_roll(spec.baseline, x)
    tau = spec.p1_err / 360.0  # first-order phase as a time shift of tau points
    S = S * np.exp(1j * (np.deg2rad(spec.p0_err) + 2 * np.pi * tau * x))
    # digital filter: group delay of GRPDLY points (band-limited, fractional)
    g = spec.grpdly
    S = S * np.exp(-2j * np.pi * g * x)
    raw = np.fft.ifft(S)[:n]
    raw *= spec.fid_max / np.max(np.abs(raw))
    if spec.snr:
        spec.noise = float(np.max(np.abs(np.fft.fft(raw))) / (spec.snr * np.sqrt(n)))
    noise = rng.normal(0.0, spec.noise, n) + 1j * rng.normal(0.0, spec.noise, n)
    # noise passes the same filter (shaped at the edges of the window)
    xn = np.fft.fftfreq(n)
    rolln = np.clip((0.5 - np.abs(xn)) / 0.02, 0.0, 1.0)
    rolln = 0.02 + 0.98 * (0.5 - 0.5 * np.cos(np.pi * rolln))
    noise = np.fft.ifft(np.fft.fft(noise) * rolln)
    raw = raw + noise
    raw = np.round(raw.real) + 1j * np.round(raw.imag)
    dic = bruker_dic(spec, bf1, sw_h, o1)
    # phases that put the processed spectrum back into absorption (see module docstring), for nmrglue's
    # remove_digital_filter with truncate=False (exact GRPDLY) and with its default truncate=True (floor)
    truth = {"bf1": bf1, "sw_h": sw_h, "o1": o1, "grpdly": g}
    for key, g_corr in (("", g), ("_truncated", float(np.floor(g)))):
        t_res = tau - (g - g_corr)
        p0 = -(spec.p0_err + 180.0 * g_corr + 180.0 * t_res - 360.0 * t_res / n)
        truth["p0" + key] = float((p0 + 180.0) % 360.0 - 180.0)
        truth["p1" + key] = float(360.0 * t_res)
    return dic, raw, truth


PULSEPROGRAM = """# 1 "/opt/topspin3.6.2/exp/stan/nmr/lists/pp/zg30"
;zg30
;avance-version (12/01/11)
;1D sequence
;using 30 degree flip angle
;
;$CLASS=HighRes
;$DIM=1D
;$TYPE=
;$SUBTYPE=
;$COMMENT=

# 1 "/opt/topspin3.6.2/exp/stan/nmr/lists/pp/Avance.incl" 1
;Avance3.incl
;   for AV III
;
;avance-version (13/06/17)
;
;$CLASS=HighRes Incl
;$COMMENT=

"acqt0=-p1*0.66/3.1416"

1 ze
2 30m
  d1
  p1*0.33 ph1
  go=2 ph31
  30m mc #0 to 2 F0(zd)
exit

ph1=0 2 2 0 1 3 3 1
ph31=0 2 2 0 1 3 3 1

;pl1 : f1 channel - power level for pulse (default)
;p1 : f1 channel -  90 degree high power pulse
;d1 : relaxation delay; 1-5 * T1
;ns: 1 * n, total number of scans: NS * TD0
"""


# JCAMP header lines TopSpin writes at the top of acqus and procs
_CORE_HEADER = (
    "##TITLE= Parameter file, TopSpin 3.6.2",
    "##JCAMPDX= 5.0",
    "##DATATYPE= Parameter Values",
    "##NPOINTS= 1\t$$ modification sequence number",
    "##ORIGIN= Bruker BioSpin GmbH",
    "##OWNER= nmruser",
)


def bruker_dic(spec: NmrSpec, bf1: float, sw_h: float, o1: float) -> dict:
    sfo1 = bf1 + o1 / 1e6
    p1 = 10.0 + 0.25 * (spec.field // 100)
    acqus = {
        "_coreheader": list(_CORE_HEADER),
        "_comments": [
            f"$$ {_datestr(spec.date)} +0000  nmruser@spect",
            f"$$ /opt/nmrdata/verify-samples/{spec.title or 'sample'}/{spec.expno}/acqus",
        ],
        "ACQT0": float(-p1 * 0.66 / 3.1416),
        "AMP": [100.0] * 32,
        "AQSEQ": 0,
        "AQ_mod": 3,
        "AUNM": "au_zg",
        "AUTOPOS": "",
        "BF1": bf1,
        "BF2": bf1,
        "BYTORDA": 1 if spec.big_endian else 0,
        "CNST": [1.0] * 64,
        "CPDPRG": ["", "mlev", "mlev", "mlev", "mlev", "mlev", "mlev", "mlev", "mlev"],
        "D": [0.0, 1.0] + [0.0] * 62,
        "DATE": int(spec.date),
        "DE": 6.5,
        "DECBNUC": "off",
        "DECIM": float(OVERSAMPLING_HZ / sw_h),
        "DECNUC": "off",
        "DIGMOD": 1,
        "DIGTYP": 12,
        "DQDMODE": 0,
        "DR": 22,
        "DS": 2,
        "DSPFIRM": 0,
        "DSPFVS": 20,
        "DTYPA": 0,
        "EXP": "",
        "FnILOOP": 0,
        "FnMODE": 0,
        "FW": float(round(1.25 * sw_h, 2)),
        "GRDPROG": "",
        "GRPDLY": float(spec.grpdly),
        "HOLDER": 0,
        "INSTRUM": "spect",
        "LOCKED": "yes",
        "LOCNUC": "2H",
        "LOCSHFT": "no",
        "NBL": 1,
        "NC": 0,
        "NLOGCH": 1,
        "NS": int(spec.ns),
        "NUC1": "1H",
        "NUC2": "off",
        "NUCLEUS": "off",
        "O1": float(o1),
        "O2": 0.0,
        "OVERFLW": 0,
        "P": [0.0, float(p1)] + [0.0] * 62,
        "PARMODE": 0,
        "PH_ref": 0.0,
        "PLW": [0.0, 14.5] + [0.0] * 62,
        "POWMOD": 0,
        "PROBHD": PROBES[spec.field],
        "PRGAIN": 0,
        "PULPROG": "zg30",
        "QNP": 1,
        "RD": 0.0,
        "RG": float(spec.rg),
        "RO": 20,
        "SFO1": float(sfo1),
        "SFO2": float(bf1),
        "SOLVENT": spec.solvent,
        "SPECTR": 0,
        "SW": float(sw_h / sfo1),
        "SW_h": float(sw_h),
        "TD": int(spec.td),
        "TD0": 1,
        "TE": 298.1 + 0.1 * (spec.field % 3),
        "TITLE": spec.title,
        "V9": 5.0,
        "WBST": 1024,
        "WBSW": 4.0,
        "YMAX_a": 0.0,
        "YMIN_a": 0.0,
        "ZGOPTNS": "",
    }
    procs = {
        "_coreheader": list(_CORE_HEADER),
        "_comments": [f"$$ {_datestr(spec.date)} +0000  nmruser@spect"],
        # the processing parameter set as acquisition leaves it (not processed: no 1r/1i)
        "ABSF1": 1000.0,
        "ABSF2": -1000.0,
        "AXNAME": "",
        "AXNUC": "1H",
        "AXUNIT": "",
        "BC_mod": 0,
        "BYTORDP": 1 if spec.big_endian else 0,
        "DTYPP": 0,
        "FT_mod": 0,
        "GB": 0.0,
        "LB": 0.3,
        "MC2": 0,
        "ME_mod": 0,
        "NC_proc": 0,
        "OFFSET": float((o1 + sw_h / 2) / bf1),
        "PHC0": 0.0,
        "PHC1": 0.0,
        "PH_mod": 0,
        "PKNL": True,
        "REVERSE": False,
        "SF": float(bf1),
        "SI": int(spec.td // 2),
        "SSB": 0.0,
        "STSI": 0,
        "STSR": 0,
        "SW_p": float(sw_h),
        "TDeff": 0,
        "TDoff": 0,
        "WDW": 1,
    }
    return {"acqus": acqus, "procs": procs}


def _datestr(epoch: int) -> str:
    import datetime as _dt

    d = _dt.datetime.fromtimestamp(int(epoch), tz=_dt.UTC)
    return d.strftime("%Y-%m-%d %H:%M:%S.000")


def write_bruker(expdir: str | Path, dic: dict, raw: np.ndarray) -> None:
    """Write `fid`, `acqus`, `acqu`, `pdata/1/procs`, `pdata/1/proc` and `pulseprogram` with nmrglue."""
    import nmrglue as ng

    expdir = Path(expdir)
    if expdir.exists():
        shutil.rmtree(expdir)
    expdir.mkdir(parents=True)
    ng.bruker.write(
        str(expdir), dic, raw.astype(np.complex128), overwrite=True, write_prog=False, write_procs=True, pdata_folder=1
    )
    (expdir / "pulseprogram").write_text(PULSEPROGRAM)
    os.chmod(expdir / "fid", 0o644)
