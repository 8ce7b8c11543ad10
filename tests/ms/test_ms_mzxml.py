"""mzXML runs (verify.ms.read_mzxml through verify.ms.read.read_run): the same Run as the mzML reader, and the
MS2-only real file stopped with its one-line error.

Synthetic mzXML files are written here as text (base64 peaks, network byte order), some converted from the mzML
runs tests/ms_runs.py writes with psims, so both readers can be compared on the same spectra.
"""

from __future__ import annotations

import base64
import gzip

import numpy as np
import pytest

from verify.cli import main
from verify.errors import InputError, MissingInputError
from verify.ms.check import check_ms
from verify.ms.read import read_run

URACIL_MS2 = "ms/msmint_uracil_HILICNeg15_FragSample_QExactive.mzXML"
URACIL = "O=c1cc[nH]c(=O)[nH]1"


def _peaks(mz, it, precision=64, zlib_=False):
    dt = ">f4" if precision == 32 else ">f8"
    arr = np.empty(2 * len(mz), dtype=dt)
    arr[0::2], arr[1::2] = mz, it
    raw = arr.tobytes()
    if zlib_:
        import zlib

        raw = zlib.compress(raw)
    return base64.b64encode(raw).decode()


def _scan(num, level, rt_s, mz, it, pol="+", prec=None, centroided=None, inner="", precision=64, zlib_=False):
    c = f' centroided="{centroided}"' if centroided is not None else ""
    pre = f'<precursorMz precursorIntensity="0" activationMethod="HCD">{prec}</precursorMz>' if prec else ""
    comp = "zlib" if zlib_ else "none"
    return (
        f'<scan num="{num}" msLevel="{level}" peaksCount="{len(mz)}" polarity="{pol}" '
        f'retentionTime="PT{rt_s:.6f}S"{c}>{pre}<peaks precision="{precision}" byteOrder="network" '
        f'contentType="m/z-int" compressionType="{comp}" compressedLen="0">{_peaks(mz, it, precision, zlib_)}'
        f"</peaks>{inner}</scan>\n"
    )


def _doc(scans, centroided=1):
    return (
        '<?xml version="1.0" encoding="ISO-8859-1"?>\n'
        '<mzXML xmlns="http://sashimi.sourceforge.net/schema_revision/mzXML_3.1">\n'
        f'<msRun scanCount="{len(scans)}" startTime="PT0S" endTime="PT120S">\n'
        f'<dataProcessing centroided="{centroided}"><software type="conversion" name="test" version="1"/>'
        "</dataProcessing>\n" + "".join(scans) + "</msRun>\n</mzXML>\n"
    )


def _mzml_to_mzxml(src, dst, zlib_=False):
    """Re-write an mzML run (written by ms_runs.write_run) as mzXML, spectrum by spectrum."""
    from pyteomics import mzml

    scans = []
    with mzml.read(str(src)) as r:
        for i, s in enumerate(r, 1):
            scan = s["scanList"]["scan"][0]
            rt = float(scan["scan start time"]) * (
                60.0 if getattr(scan["scan start time"], "unit_info", "") == "minute" else 1.0
            )
            pol = "+" if "positive scan" in s else "-"
            prec = None
            if s.get("ms level") == 2:
                prec = s["precursorList"]["precursor"][0]["selectedIonList"]["selectedIon"][0]["selected ion m/z"]
            scans.append(
                _scan(
                    i,
                    s["ms level"],
                    rt,
                    s["m/z array"],
                    s["intensity array"],
                    pol,
                    prec,
                    centroided=1 if "centroid spectrum" in s else 0,
                    zlib_=zlib_,
                )
            )
    dst.write_text(_doc(scans))
    return dst


@pytest.fixture(scope="module")
def ms_helpers():
    return pytest.importorskip("ms_runs")


# ----------------------------------------------------------------------------- synthetic


def test_mzxml_run_contract(tmp_path):
    inner = _scan(2, 2, 1.5, [50.0, 60.0], [10.0, 20.0], prec=111.02)
    scans = [
        _scan(1, 1, 2.0, [200.0, 100.0, 150.0], [6.0, 5.0, 0.0], inner=inner),  # MS2 nested in its MS1
        _scan(3, 1, 1.0, [100.0, 200.0], [7.0, 8.0], pol="-", precision=32, zlib_=True),
    ]
    p = tmp_path / "run.mzXML"
    p.write_text(_doc(scans))
    run = read_run(p)
    assert run.n_scans == 2 and run.n_spectra == 3 and run.rt_unit == "second"
    assert run.rt_s.tolist() == [1.0, 2.0]  # sorted by RT, in seconds (pyteomics gives minutes)
    assert run.polarity.tolist() == [-1, 1] and run.polarities == {1, -1}
    assert run.spectrum_mode == "centroid"
    mz, it = run.scan(1)
    assert mz.tolist() == [100.0, 200.0] and it.tolist() == [5.0, 6.0]  # zero dropped, m/z sorted
    assert len(run.ms2) == 1 and run.ms2[0].precursor_mz == pytest.approx(111.02) and run.ms2[0].rt_s == 1.5
    # gzip-compressed and upper/lower-case suffixes are the same run
    gz = tmp_path / "run.MZXML.gz"
    gz.write_bytes(gzip.compress(p.read_bytes()))
    assert read_run(gz).rt_s.tolist() == [1.0, 2.0]


def test_mzxml_equals_mzml_on_the_same_spectra(tmp_path, ms_helpers):
    h = ms_helpers
    exp, mzml_path = h.good_run(tmp_path, ms_levels=(1, 2))
    xml_path = _mzml_to_mzxml(mzml_path, tmp_path / "good.mzXML", zlib_=True)
    a, b = read_run(mzml_path), read_run(xml_path)
    assert a.n_scans == b.n_scans and a.n_spectra == b.n_spectra and len(a.ms2) == len(b.ms2)
    assert np.allclose(a.rt_s, b.rt_s, atol=1e-6)
    assert np.array_equal(a.offsets, b.offsets) and np.array_equal(a.polarity, b.polarity)
    assert np.allclose(a.mz, b.mz, rtol=0, atol=1e-9) and np.allclose(a.intensity, b.intensity, rtol=1e-6)
    ra, rb = check_ms(mzml_path, exp), check_ms(xml_path, exp)
    assert ra.verdict == rb.verdict == "consistent"
    assert rb.main_ion.name == ra.main_ion.name and rb.main_ion.ppm_error == pytest.approx(ra.main_ion.ppm_error)


def test_profile_mzxml_is_centroided(tmp_path, ms_helpers):
    h = ms_helpers
    exp, mzml_path = h.good_run(tmp_path, name="prof.mzML", profile=True)
    xml_path = _mzml_to_mzxml(mzml_path, tmp_path / "prof.mzXML")
    run = read_run(xml_path)
    assert run.spectrum_mode == "profile"
    assert check_ms(xml_path, exp).verdict == "consistent"


def test_ms2_only_mzxml_is_one_line_65(tmp_path):
    scans = [_scan(i, 2, 0.5 * i, [50.0, 68.014], [10.0, 20.0], pol="-", prec=111.02) for i in range(1, 7)]
    p = tmp_path / "frag.mzXML"
    p.write_text(_doc(scans))
    with pytest.raises(InputError) as ei:
        read_run(p)
    msg = str(ei.value)
    assert ei.value.exit_code == 65 and "\n" not in msg and str(p) in msg
    assert "no MS1" in msg and "6 at MS2" in msg and "111.02" in msg


@pytest.mark.parametrize("text", ["", "not xml at all\n", "<?xml version='1.0'?><root/>"])
def test_not_mzxml_is_input_error(tmp_path, text):
    p = tmp_path / "x.mzXML"
    p.write_text(text)
    with pytest.raises(InputError) as ei:
        read_run(p)
    assert ei.value.exit_code == 65 and str(p) in str(ei.value) and "not an mzXML" in str(ei.value)
    with pytest.raises(MissingInputError):
        read_run(tmp_path / "missing.mzXML")


def test_truncated_mzxml_is_input_error(tmp_path):
    scans = [_scan(i, 1, float(i), np.linspace(100, 200, 50), np.full(50, 1e4)) for i in range(1, 40)]
    full = _doc(scans).encode()
    p = tmp_path / "cut.mzXML"
    p.write_bytes(full[: len(full) // 2])
    with pytest.raises(InputError) as ei:
        read_run(p)
    assert ei.value.exit_code == 65 and str(p) in str(ei.value) and "\n" not in str(ei.value)


def test_mzxml_under_an_mzml_name_is_read(tmp_path):
    p = tmp_path / "misnamed.mzML"
    p.write_text(_doc([_scan(1, 1, 1.0, [100.0], [5.0])]))
    assert read_run(p).n_scans == 1


# ----------------------------------------------------------------------------- the real MS2-only file


@pytest.mark.realdata
def test_real_ms2_only_file_says_no_ms1(realdata):
    path = realdata / URACIL_MS2
    with pytest.raises(InputError) as ei:
        read_run(path)
    msg = str(ei.value)
    assert ei.value.exit_code == 65 and "\n" not in msg and str(path) in msg
    assert "no MS1" in msg and "1617 spectra: 1617 at MS2" in msg and "111.02" in msg


@pytest.mark.realdata
def test_real_ms2_only_file_from_the_command_line(realdata, capsys):
    path = realdata / URACIL_MS2
    code = main([URACIL, "--ms", str(path)])
    out, err = capsys.readouterr()
    assert code == 65
    assert err.count("\n") == 1 and str(path) in err and "no MS1" in err and "Traceback" not in err
    assert out == ""
