"""JEOL Delta (.jdf) and Magritek Prospa (Spinsolve / Kea) 1H readers (verify.nmr.io.jeol, verify.nmr.io.magritek)
and TopSpin's processed NTUPLES JCAMP-DX export (verify.nmr.read).

Real-data tests use ../shared/realdata (marked `realdata`; the files are read in place, never copied into the
project; bad inputs are damaged copies in tmp_path). No Spinsolve folder of a known compound is in the real data,
so the Spinsolve path is tested on a folder written here byte by byte in the Prospa format (header, time axis,
interleaved float32 FID, acqu.par).
"""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest

from verify.cli import main
from verify.errors import InputError
from verify.nmr.io.jeol import group_delay_points, jeol_nucleus
from verify.nmr.io.magritek import parse_acqu_par
from verify.nmr.process import load_spectrum
from verify.nmr.read import read_nmr
from verify.nmr.spectrum import RawFID
from verify.solvents import find_solvent

RUTIN = "nmr/rutin_jeol/Rutin_3080ug200uL_DMSOd6_qHNMR_400MHz_Jeol.jdf"
RESVERATROL = "nmr/resveratrol_jeol/Resveratrol1_11280u600u_MeOD.jdf"
EPICATECHIN = "nmr/epicatechin_jeol/EC_10m200u_400_298K_bzhou_qH-1-1.jdf"
CHLOROFORM = "nmr/chloroform_jeol/50percCHCL3.jdf"
KEA = "nmr/toluene_tempone_kea/42"


def _load(path, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_spectrum(path, **kw)


def _maxima(s, lo, hi, rel=0.05):
    """(ppm, height) of the local maxima in [lo, hi] above rel x the tallest point there, parabolic apex."""
    m = np.nonzero((s.ppm >= lo) & (s.ppm <= hi))[0]
    y = s.intensity
    top = y[m].max()
    out = []
    for j in m[1:-1]:
        if y[j] > y[j - 1] and y[j] >= y[j + 1] and y[j] > rel * top:
            den = y[j - 1] - 2 * y[j] + y[j + 1]
            d = 0.5 * (y[j - 1] - y[j + 1]) / den if den < 0 else 0.0
            out.append((float(s.ppm[j] + d * (s.ppm[j + 1] - s.ppm[j])), float(y[j])))
    return out


def _one_line_65(exc_info, path):
    e = exc_info.value
    assert e.exit_code == 65
    assert "\n" not in str(e)
    assert str(path) in str(e)


# ----------------------------------------------------------------------------- pure helpers


def test_jeol_group_delay_from_filter_stages():
    # one stage of 69 taps decimating by 2: (69 - 1) / 2 / 2 = 17 output points
    assert group_delay_points("169", "2") == pytest.approx(17.0)
    # two stages, 54 taps / 8 then 73 taps / 2: 53 / 2 / 16 + 72 / 2 / 2
    assert group_delay_points("25473", "82") == pytest.approx(53 / 32 + 18)
    assert group_delay_points("24173", "62") == pytest.approx(40 / 24 + 18)
    for orders, factors in (("2547", "82"), ("", "2"), ("169", ""), ("x69", "2")):
        with pytest.raises(ValueError):
            group_delay_points(orders, factors)


def test_jeol_nucleus_names():
    assert jeol_nucleus("Proton") == "1H"
    assert jeol_nucleus("1H") == "1H"
    assert jeol_nucleus("Carbon13") == "13C"
    assert jeol_nucleus("13C") == "13C"
    assert jeol_nucleus("Fluorine19") == "19F"
    assert jeol_nucleus("") == ""


def test_jeol_solvent_names_map_to_the_project_solvents():
    assert find_solvent("DMSO-D6").key == "dmso"
    assert find_solvent("METHANOL-D4").key == "cd3od"
    assert find_solvent("ACETONE-D6").key == "acetone"
    assert find_solvent("CHLOROFORM-D").key == "cdcl3"


def test_prospa_acqu_par_parser(tmp_path):
    p = tmp_path / "acqu.par"
    p.write_text(
        'b1Freq = 14.2445d\nbandwidth = 10\nacqTime = 1.64e+003\nexperiment = "1Pulse"\n'
        "position = [34,293]\nno equals sign on this line\n = orphan value\nrxPhase = -118.8f\n"
    )
    par = parse_acqu_par(p)
    assert par["b1Freq"] == pytest.approx(14.2445)
    assert par["bandwidth"] == 10.0 and par["acqTime"] == 1640.0 and par["rxPhase"] == pytest.approx(-118.8)
    assert par["experiment"] == "1Pulse" and par["position"] == "[34,293]"
    assert "" not in par


# ----------------------------------------------------------------------------- JEOL, real files


@pytest.mark.realdata
@pytest.mark.parametrize(
    "rel, solvent_key, gd",
    [
        (RUTIN, "dmso", 53 / 32 + 18),
        (RESVERATROL, "cd3od", 40 / 24 + 18),
        (EPICATECHIN, "cd3od", 53 / 32 + 18),
        (CHLOROFORM, "acetone", 17.0),
    ],
)
def test_jeol_files_read(realdata, rel, solvent_key, gd):
    raw = read_nmr(realdata / rel)
    assert isinstance(raw, RawFID) and raw.vendor == "jeol" and raw.nucleus == "1H"
    assert find_solvent(raw.solvent).key == solvent_key
    assert raw.group_delay == pytest.approx(gd)
    # the filter delay sits in the first points: |FID| peaks one to two points after the group delay
    assert gd < int(np.argmax(np.abs(raw.data))) <= gd + 2.5
    s = _load(realdata / rel)
    assert np.all(np.diff(s.ppm) < 0)
    assert s.processing["phase_check"]["passed"]
    assert s.referencing["method"] == "solvent"
    # the header axis puts the residual solvent 0.03-0.04 ppm low; the referencing takes that off
    assert -0.045 < s.referencing["offset_ppm"] < -0.025, s.referencing


@pytest.mark.realdata
def test_jeol_folder_with_one_jdf(realdata):
    a = read_nmr(realdata / "nmr/rutin_jeol")
    b = read_nmr(realdata / RUTIN)
    assert a.vendor == b.vendor == "jeol" and np.array_equal(a.data, b.data)


@pytest.mark.realdata
def test_rutin_lines_where_expected(realdata):
    s = _load(realdata / RUTIN)
    # DMSO-d5 quintet (J(H,D) 1.9 Hz; unresolved here: the lines of this set are about 3 Hz wide, so one
    # envelope about 6 Hz wide) at 2.50, where the header axis had it at 2.46
    q = _maxima(s, 2.40, 2.60, rel=0.05)
    assert len(q) == 1 and q[0][0] == pytest.approx(2.50, abs=0.002), q
    assert q[0][0] + s.referencing["offset_ppm"] == pytest.approx(2.46, abs=0.005)
    assert s.referencing["solvent_line"]["nominal"] == 2.50
    assert 4.0 < s.referencing["solvent_line"]["fwhm_hz"] < 8.0
    # rhamnose CH3 doublet: 0.95 ppm on the header axis, +0.04 after referencing, J 6-7 Hz
    d = sorted(p for p, _h in _maxima(s, 0.9, 1.1, rel=0.2))
    assert len(d) == 2, d
    assert np.mean(d) == pytest.approx(0.99, abs=0.015)
    assert 5.8 < (d[1] - d[0]) * s.sf_mhz < 7.2
    # the H-bonded 5-OH far downfield
    assert any(12.5 < p < 12.75 for p, _h in _maxima(s, 12.0, 13.5, rel=0.3))


@pytest.mark.realdata
def test_jeol_spectrum_not_mirrored(realdata):
    """Regression: a conjugated FID (nmrglue's plain-FFT recipe applied on top of our FT) mirrors the spectrum
    about the carrier (9.0 ppm for rutin): DMSO-d5 at 15.5, CHCl3 at -7.7. The solvent must be on its side."""
    s = _load(realdata / RUTIN)
    y = s.intensity
    at = lambda lo, hi: float(y[(s.ppm > lo) & (s.ppm < hi)].max())  # noqa: E731
    assert at(2.45, 2.55) > 100 * max(at(15.45, 15.6), 1e-12) and at(2.45, 2.55) > 0.2 * y.max()
    c = _load(realdata / CHLOROFORM)
    assert 7.6 < float(c.ppm[np.argmax(c.intensity)]) < 7.8
    # and the mirrored spectrum is indeed what a conjugated FID gives
    raw = read_nmr(realdata / RUTIN)
    from verify.nmr.process import process

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = process(RawFID(**{**raw.__dict__, "data": np.conj(raw.data), "params": dict(raw.params)}))
    top = m.ppm[np.argmax(np.where((m.ppm > 14) & (m.ppm < 17), m.intensity, -np.inf))]
    assert 15.4 < top < 15.65


@pytest.mark.realdata
def test_resveratrol_trans_olefin(realdata):
    s = _load(realdata / RESVERATROL)
    # the two olefinic doublets, J = 16.3 Hz (trans): 6.93 / 6.77 on the header axis, +0.03 after referencing
    hi = sorted(p for p, _h in _maxima(s, 6.93, 6.99, rel=0.3))
    assert len(hi) == 2, hi
    assert np.mean(hi) == pytest.approx(6.96, abs=0.015)
    assert (hi[1] - hi[0]) * s.sf_mhz == pytest.approx(16.3, abs=0.4)
    lines = [p for p, _h in _maxima(s, 6.70, 6.86, rel=0.1)]
    pair = [(a, b) for a in lines for b in lines if abs((b - a) * s.sf_mhz - 16.3) < 0.5]
    assert any(abs((a + b) / 2 - 6.80) < 0.02 for a, b in pair), lines


@pytest.mark.realdata
def test_epicatechin_h4_pair(realdata):
    s = _load(realdata / EPICATECHIN)
    assert s.referencing["confidence"] == "high"
    # H-4a/H-4b: two dd 2.84 / 2.72 on the header axis (+0.03), geminal J 16.8 Hz
    for centre in (2.87, 2.75):
        lines = sorted(p for p, _h in _maxima(s, centre - 0.04, centre + 0.04, rel=0.2))
        assert len(lines) == 4, lines
        assert (lines[-1] - lines[0]) * s.sf_mhz == pytest.approx(16.8 + (4.5 if centre > 2.8 else 2.9), abs=1.0)


# ----------------------------------------------------------------------------- JEOL, bad input


@pytest.mark.realdata
@pytest.mark.parametrize("keep", [2000, 20000, 200000])
def test_truncated_jdf_is_one_line_65(realdata, tmp_path, keep):
    bad = tmp_path / "cut.jdf"
    bad.write_bytes((realdata / CHLOROFORM).read_bytes()[:keep])
    with pytest.raises(InputError) as ei:
        read_nmr(bad)
    _one_line_65(ei, bad)
    assert "truncated" in str(ei.value)


def test_jdf_that_is_neither_jeol_nor_jcamp(tmp_path):
    bad = tmp_path / "x.jdf"
    bad.write_bytes(b"\x00\x01garbage" * 100)
    with pytest.raises(InputError) as ei:
        read_nmr(bad)
    _one_line_65(ei, bad)
    assert "JEOL" in str(ei.value)


@pytest.mark.realdata
def test_truncated_jdf_from_the_command_line(realdata, tmp_path, capsys):
    bad = tmp_path / "cut.jdf"
    bad.write_bytes((realdata / RUTIN).read_bytes()[:50000])
    code = main(["CCO", "--nmr", str(bad)])
    out, err = capsys.readouterr()
    assert code == 65
    assert err.count("\n") == 1 and str(bad) in err and "Traceback" not in err


# ----------------------------------------------------------------------------- Magritek Kea, real folder


@pytest.mark.realdata
def test_kea_folder_reads_without_a_reference(realdata):
    for rel in (KEA, KEA + "/data.1d", KEA + "/acqu.par"):
        raw = read_nmr(realdata / rel)
        assert raw.vendor == "magritek" and raw.nucleus == "1H" and raw.solvent == ""
        assert raw.sf_mhz == pytest.approx(14.2445)
        # the spectral width from dwellTime (100.0 us), not from data.1d's rounded time axis (100.098 us)
        assert raw.sw_hz == pytest.approx(10000.0)
        assert raw.params["data_file_time_step_us"] == pytest.approx(100.098, abs=1e-3)
        assert raw.params["shift_reference"] == "none"
    s = _load(realdata / KEA)
    assert s.referencing["method"] == "none" and s.referencing["offset_ppm"] == 0.0
    assert "tms" not in s.referencing and "solvent_line" not in s.referencing
    assert np.all(np.diff(s.ppm) < 0)
    assert s.processing["phase_check"]["passed"]
    # two lines 71 Hz apart (ring and CH3); the ring (5 H) is the larger and the one at higher frequency
    y = s.intensity
    i = int(np.argmax(y))
    far = np.abs(s.ppm - s.ppm[i]) * s.sf_mhz > 30.0
    j = int(np.argmax(np.where(far, y, -np.inf)))
    assert (s.ppm[i] - s.ppm[j]) * s.sf_mhz == pytest.approx(71.0, abs=3.0)
    # a --solvent cannot give it a reference either
    assert _load(realdata / KEA, solvent="CDCl3").referencing["method"] == "none"


@pytest.mark.realdata
def test_kea_truncated_data_and_bad_acqu_par(realdata, tmp_path):
    d = tmp_path / "42"
    shutil.copytree(realdata / KEA, d)
    (d / "data.1d").chmod(0o644)
    (d / "acqu.par").chmod(0o644)
    full = (d / "data.1d").read_bytes()
    (d / "data.1d").write_bytes(full[:100000])
    with pytest.raises(InputError) as ei:
        read_nmr(d)
    _one_line_65(ei, d / "data.1d")
    assert "truncated" in str(ei.value)
    (d / "data.1d").write_bytes(full)
    text = (d / "acqu.par").read_text()
    (d / "acqu.par").write_text(text[: text.index("b1Freq")])  # cut before the frequency
    with pytest.raises(InputError) as ei:
        read_nmr(d)
    _one_line_65(ei, d / "acqu.par")
    assert "b1Freq" in str(ei.value)
    (d / "acqu.par").write_text(text.replace("b1Freq = 14.2445d", "b1Freq = fourteen"))
    with pytest.raises(InputError) as ei:
        read_nmr(d)
    _one_line_65(ei, d / "acqu.par")
    (d / "acqu.par").write_bytes(b"\x00\xff" * 300)
    with pytest.raises(InputError) as ei:
        read_nmr(d)
    _one_line_65(ei, d / "acqu.par")
    (d / "data.1d").unlink()
    (d / "acqu.par").write_text(text)
    with pytest.raises(InputError) as ei:
        read_nmr(d)
    assert ei.value.exit_code == 65 and "data.1d" in str(ei.value)


# ----------------------------------------------------------------------------- Spinsolve, written here

SPINSOLVE_SF = 43.49  # MHz
SPINSOLVE_SW = 5000.0  # Hz
SPINSOLVE_CENTRE = 5.0  # ppm at the window centre
SPINSOLVE_AXIS_ERROR = 0.03  # ppm the spectrometer's axis is off (referencing must take it away)


def _write_spinsolve(folder: Path, lines, n=16384, dtype=504, solvent="CDCl3", nucleus="1H", par_extra=""):
    """A Spinsolve-style Prospa folder: acqu.par + data.1d (header 'PROS' 'DATA' 'V1.1' byte-reversed, type,
    four dimensions; time axis in us for type 504; interleaved float32 re/im) holding an FID of Lorentzian
    `lines` [(ppm, relative area, T2 s)], stored in Prospa's sense of rotation (conjugate of the Bruker sense)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    t = np.arange(n) / SPINSOLVE_SW
    fid = np.zeros(n, complex)
    for ppm, area, t2 in lines:
        f = (ppm + SPINSOLVE_AXIS_ERROR - SPINSOLVE_CENTRE) * SPINSOLVE_SF  # Hz from the carrier
        fid += area * np.exp(2j * np.pi * f * t - t / t2)
    fid += 0.002 * (rng.standard_normal(n) + 1j * rng.standard_normal(n))
    stored = np.conj(fid)
    head = b"SORPATAD1.1V" + np.array([dtype, n, 1, 1, 1], "<i4").tobytes()
    inter = np.empty(2 * n, "<f4")
    inter[0::2], inter[1::2] = stored.real, stored.imag
    body = (np.arange(n, dtype="<f4") * np.float32(1e6 / SPINSOLVE_SW)).tobytes() if dtype == 504 else b""
    (folder / "data.1d").write_bytes(head + body + inter.tobytes())
    low = SPINSOLVE_CENTRE * SPINSOLVE_SF - SPINSOLVE_SW / 2
    (folder / "acqu.par").write_text(
        f'Sample = "MTBE"\nSolvent = "{solvent}"\nb1Freq = {SPINSOLVE_SF}\nbandwidth = {SPINSOLVE_SW / 1000:g}\n'
        f'dwellTime = {1e6 / SPINSOLVE_SW:g}\nexperiment = "1D PROTON"\nlowestFrequency = {low:.4f}\n'
        f"nrPnts = {n}\nnrScans = 4\n" + (f'rxChannel = "{nucleus}"\n' if nucleus else "") + "rxGain = 31\n" + par_extra
    )
    return folder


MTBE = [(7.26, 0.05, 0.5), (3.22, 3.0, 0.4), (1.19, 9.0, 0.4)]  # residual CHCl3, OCH3, C(CH3)3


@pytest.mark.parametrize("dtype", [504, 501])
def test_spinsolve_folder(tmp_path, dtype):
    d = _write_spinsolve(tmp_path / "spinsolve" / "1", MTBE, dtype=dtype)
    raw = read_nmr(d)
    assert raw.vendor == "magritek" and raw.solvent == "CDCl3" and raw.nucleus == "1H"
    assert raw.sw_hz == pytest.approx(SPINSOLVE_SW) and raw.sf_mhz == pytest.approx(SPINSOLVE_SF)
    assert raw.carrier_ppm == pytest.approx(SPINSOLVE_CENTRE, abs=1e-6)
    assert "shift_reference" not in raw.params
    assert read_nmr(tmp_path / "spinsolve").vendor == "magritek"  # a folder holding one experiment
    s = _load(d)
    assert np.all(np.diff(s.ppm) < 0)
    assert s.referencing["method"] == "solvent", s.referencing
    assert s.referencing["offset_ppm"] == pytest.approx(SPINSOLVE_AXIS_ERROR, abs=0.003)
    tops = sorted(_maxima(s, 0.5, 8.0, rel=0.004), key=lambda x: -x[1])[:3]
    found = sorted(p for p, _h in tops)
    assert found == pytest.approx([1.19, 3.22, 7.26], abs=0.005)


def test_spinsolve_other_nucleus_and_2d_are_65(tmp_path):
    d = _write_spinsolve(tmp_path / "c13", MTBE, nucleus="13C")
    with pytest.raises(InputError) as ei:
        read_nmr(d)
    _one_line_65(ei, d)
    assert "13C" in str(ei.value)
    d = _write_spinsolve(tmp_path / "t1", MTBE)
    raw = (d / "data.1d").read_bytes()
    (d / "data.1d").write_bytes(raw[:12] + np.array([504, 16384, 2, 1, 1], "<i4").tobytes() + raw[32:])
    with pytest.raises(InputError) as ei:
        read_nmr(d)
    _one_line_65(ei, d / "data.1d")
    assert "not a 1D" in str(ei.value)


def test_spinsolve_truncated_and_damaged(tmp_path):
    d = _write_spinsolve(tmp_path / "s", MTBE)
    raw = (d / "data.1d").read_bytes()
    (d / "data.1d").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(InputError) as ei:
        read_nmr(d)
    _one_line_65(ei, d / "data.1d")
    assert "truncated" in str(ei.value)
    (d / "data.1d").write_bytes(b"NOTPROSPA" + raw[9:])
    with pytest.raises(InputError) as ei:
        read_nmr(d / "data.1d")
    _one_line_65(ei, d / "data.1d")
    d2 = _write_spinsolve(tmp_path / "s2", MTBE, par_extra="")
    par = (d2 / "acqu.par").read_text()
    (d2 / "acqu.par").write_text(par.replace("dwellTime = 200\n", "").replace("bandwidth = 5\n", ""))
    with pytest.raises(InputError) as ei:
        read_nmr(d2)
    _one_line_65(ei, d2 / "acqu.par")
    assert "bandwidth" in str(ei.value)
    d3 = tmp_path / "only_par"
    d3.mkdir()
    (d3 / "acqu.par").write_text(par)
    with pytest.raises(InputError) as ei:
        read_nmr(d3)
    assert ei.value.exit_code == 65 and "data.1d" in str(ei.value)


# ------------------------------------------------------------------- TopSpin's processed NTUPLES JCAMP-DX export
# No such export of a known compound is in ../shared/realdata, and nmrglue reads JCAMP-DX but writes none: the
# file is written here in the layout TopSpin's "Export -> JCAMP-DX (processed)" gives (##DATA CLASS= NTUPLES,
# ##PAGE= N=1 the real and N=2 the imaginary spectrum, the Hz axis in the X column of ##FIRST=/##LAST=, the
# stored integers scaled by ##FACTOR=), from a sample processed by verify itself, and read back through nmrglue.


def _write_topspin_ntuples(path, ppm, real, sf_mhz, solvent, symbols="X, R, I, N"):
    n = ppm.size
    factor = float(np.abs(real).max()) / 2.0e7  # TopSpin scales to 32-bit integers
    ints = np.round(real / factor).astype(np.int64)
    imag = np.zeros(n, dtype=np.int64)

    def page(sym, y, k):
        rows = [f"##PAGE= N={k}", f"##NPOINTS= {n}", f"##DATA TABLE= (X++({sym}..{sym})), XYDATA"]
        rows += [f"{i} " + " ".join(str(v) for v in y[i : i + 10]) for i in range(0, n, 10)]
        return rows

    head = [
        "##TITLE= processed export",
        "##JCAMP-DX= 5.00 $$ Bruker JCAMP library",
        "##DATA TYPE= NMR SPECTRUM",
        "##DATA CLASS= NTUPLES",
        "##ORIGIN= Bruker BioSpin GmbH",
        "##OWNER= nmr",
        f"##.OBSERVE FREQUENCY= {sf_mhz:.8f}",
        "##.OBSERVE NUCLEUS= ^1H",
        f"##.SOLVENT NAME= {solvent}",
        f"##$SF= {sf_mhz:.8f}",
        f"##$OFFSET= {ppm[0]:.6f}",
        "##NTUPLES= NMR SPECTRUM",
        "##VAR_NAME= FREQUENCY, SPECTRUM/REAL, SPECTRUM/IMAG, PAGE NUMBER",
        f"##SYMBOL= {symbols}",
        "##VAR_TYPE= INDEPENDENT, DEPENDENT, DEPENDENT, PAGE",
        "##VAR_FORM= AFFN, ASDF, ASDF, AFFN",
        f"##VAR_DIM= {n}, {n}, {n}, 2",
        "##UNITS= HZ, ARBITRARY UNITS, ARBITRARY UNITS,",
        f"##FIRST= {ppm[0] * sf_mhz:.6f}, {ints[0] * factor:.6g}, 0, 1",
        f"##LAST= {ppm[-1] * sf_mhz:.6f}, {ints[-1] * factor:.6g}, 0, 2",
        f"##FACTOR= 1.0, {factor:.10g}, {factor:.10g}, 1",
    ]
    text = head + page("R", ints, 1) + page("I", imag, 2) + ["##END NTUPLES= NMR SPECTRUM", "##END="]
    path.write_text("\n".join(text) + "\n")


SAMPLES = Path(__file__).resolve().parents[2] / "sample_spectra"


@pytest.mark.parametrize("sample", ["boc_benzyl_diazepane", "fail_over_alkylation"])
def test_topspin_ntuples_processed_export_reads_back(tmp_path, sample):
    from verify.nmr.check import check_nmr
    from verify.structure.target import read_target

    spec = _load(SAMPLES / sample / "nmr")
    path = tmp_path / "1r.dx"
    _write_topspin_ntuples(path, spec.ppm, spec.intensity, spec.sf_mhz, "CDCl3")
    back = read_nmr(path)
    assert back.sf_mhz == pytest.approx(spec.sf_mhz)
    assert back.ppm.size == spec.ppm.size and back.ppm[0] > back.ppm[-1]
    assert back.ppm[0] == pytest.approx(spec.ppm[0], abs=1e-6) and back.ppm[-1] == pytest.approx(spec.ppm[-1], abs=1e-6)
    top = int(np.argmax(spec.intensity))
    assert int(np.argmax(back.intensity)) == top
    assert np.allclose(back.intensity, spec.intensity, rtol=0, atol=1e-6 * spec.intensity.max())
    # the same verdict and the same peaks as the FID it came from
    target = read_target(str(SAMPLES / sample / "compound.smi"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from_fid, from_export = check_nmr(SAMPLES / sample / "nmr", target), check_nmr(path, target)
    assert from_export.verdict == from_fid.verdict
    fid_peaks = sorted(round(p.ppm, 2) for p in from_fid.peaks)
    export_peaks = sorted(round(p.ppm, 2) for p in from_export.peaks)
    assert len(fid_peaks) == len(export_peaks)
    assert max(abs(a - b) for a, b in zip(fid_peaks, export_peaks)) <= 0.011


def test_topspin_ntuples_export_without_an_x_column_is_one_line_65(tmp_path):
    spec = _load(SAMPLES / "boc_benzyl_diazepane" / "nmr")
    path = tmp_path / "1r.dx"
    _write_topspin_ntuples(path, spec.ppm[:4096], spec.intensity[:4096], spec.sf_mhz, "CDCl3", symbols="F, R, I, N")
    with pytest.raises(InputError) as e:
        read_nmr(path)
    _one_line_65(e, path)
    assert "x axis" in str(e.value)


def test_jcamp_table_line_without_its_x_value_is_named(tmp_path):
    # a table's first line without its abscissa (a flipped byte in front of it) made nmrglue fail with an
    # AttributeError while it decided the table's form (a later line of a plain AFFN table it tolerates)
    spec = _load(SAMPLES / "boc_benzyl_diazepane" / "nmr")
    path = tmp_path / "1r.dx"
    _write_topspin_ntuples(path, spec.ppm[:4096], spec.intensity[:4096], spec.sf_mhz, "CDCl3")
    lines = path.read_text().splitlines()
    k = next(i for i, line in enumerate(lines) if line.startswith("##DATA TABLE")) + 1
    lines[k] = "@" + lines[k]
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError) as e:
        read_nmr(path)
    _one_line_65(e, path)
    assert f"line {k + 1} of the data table" in str(e.value)
    lines[k] = lines[k][1:]  # the same file undamaged reads
    path.write_text("\n".join(lines) + "\n")
    assert read_nmr(path).ppm.size == 4096
