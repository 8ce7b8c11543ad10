"""Hardened MS input (issue 12): FIFOs refused, gzip bombs stopped at a stated cap, damaged ms levels reported in
one line, NaN/inf points dropped at the reader.

Small mzML runs are written here as text (little-endian base64 arrays, the handful of cvParams the reader uses);
mzXML runs with test_ms_mzxml's `_scan` / `_doc`; the end-to-end NaN runs start from test_ms' psims-written run.
"""

from __future__ import annotations

import base64
import gzip
import os
import threading
import time

import numpy as np
import pytest

from verify.cli import main
from verify.errors import EXIT_DATAERR, InputError
from verify.ms import read as ms_read
from verify.ms.read import read_run

mzx = pytest.importorskip("test_ms_mzxml")

BENZYL_DIAZEPANE = "C1CNCCN(Cc2ccccc2)C1"  # [M+H]+ 191.1543


def _b64(arr, dtype) -> str:
    return base64.b64encode(np.asarray(arr, dtype=dtype).tobytes()).decode()


def _spectrum(i, mz, it, level="1", rt_s=1.0, pol="MS:1000130"):
    arrays = "".join(
        f'<binaryDataArray encodedLength="0"><cvParam cvRef="MS" accession="{dt}" name="x" value=""/>'
        f'<cvParam cvRef="MS" accession="MS:1000576" name="no compression" value=""/>'
        f'<cvParam cvRef="MS" accession="{acc}" name="x" value=""/><binary>{_b64(a, np_dt)}</binary></binaryDataArray>'
        for a, acc, dt, np_dt in ((mz, "MS:1000514", "MS:1000523", "<f8"), (it, "MS:1000515", "MS:1000521", "<f4"))
    )
    return (
        f'<spectrum index="{i}" id="scan={i + 1}" defaultArrayLength="{len(mz)}">'
        f'<cvParam cvRef="MS" accession="MS:1000511" name="ms level" value="{level}"/>'
        f'<cvParam cvRef="MS" accession="{pol}" name="polarity" value=""/>'
        '<cvParam cvRef="MS" accession="MS:1000127" name="centroid spectrum" value=""/>'
        '<scanList count="1"><scan><cvParam cvRef="MS" accession="MS:1000016" name="scan start time" '
        f'value="{rt_s}" unitAccession="UO:0000010" unitName="second"/></scan></scanList>'
        f'<binaryDataArrayList count="2">{arrays}</binaryDataArrayList></spectrum>\n'
    )


_MZML_HEAD = (
    '<?xml version="1.0" encoding="utf-8"?>\n<mzML xmlns="http://psi.hupo.org/ms/mzml" version="1.1.0">\n'
    '<run id="r1">\n<spectrumList count="1">\n'
)
_MZML_TAIL = "</spectrumList>\n</run>\n</mzML>\n"


def _mzml(spectra) -> str:
    return _MZML_HEAD + "".join(spectra) + _MZML_TAIL


def _in_thread(fn, timeout=20.0):
    """fn() in a daemon thread: (finished, exception). A reader that blocks fails the test instead of hanging it."""
    box = {}

    def run():
        try:
            fn()
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            box["exc"] = exc

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(timeout)
    return not t.is_alive(), box.get("exc")


def _unblock(fifo):
    """Open the FIFO's writing end and close it, so a reader blocked in open() sees end of file and returns."""
    try:
        fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        os.close(fd)
    except OSError:
        pass


# ----------------------------------------------------------------------------- 1. FIFOs


@pytest.mark.parametrize("name", ["run.mzML", "run.mzML.gz", "run.mzXML"])
def test_fifo_as_ms_input_is_refused_fast(tmp_path, name):
    fifo = tmp_path / name
    os.mkfifo(fifo)
    try:
        done, exc = _in_thread(lambda: read_run(fifo), timeout=10)
    finally:
        _unblock(fifo)
    assert done, "read_run blocked on a FIFO"
    assert isinstance(exc, InputError) and "FIFO" in str(exc) and name in str(exc)
    assert len(str(exc).splitlines()) == 1


def test_fifo_as_ms_input_from_the_command_line_is_exit_65(tmp_path, capsys):
    fifo = tmp_path / "run.mzML"
    os.mkfifo(fifo)
    codes = []
    try:
        done, exc = _in_thread(lambda: codes.append(main([BENZYL_DIAZEPANE, "--ms", str(fifo)])), timeout=30)
    finally:
        _unblock(fifo)
    assert done and exc is None and codes == [EXIT_DATAERR]
    err = capsys.readouterr().err
    assert "FIFO" in err and "unexpected" not in err


# ----------------------------------------------------------------------------- 2. gzip bombs


def _gzip_bomb(path, head: str, fill: bytes, mb: int):
    """`head`, then `mb` MB of `fill`, gzip-compressed in 1 MB chunks (~1 kB each on disk)."""
    chunk = fill * (1 << 20)
    with gzip.open(path, "wb", compresslevel=6) as g:
        g.write(head.encode())
        for _ in range(mb):
            g.write(chunk)
    return path


_MZXML_HEAD = mzx._doc([mzx._scan(1, 1, 1.0, [100.0, 200.0], [5.0, 6.0])]).split("<scan ")[0]


@pytest.mark.parametrize("name,head", [("bomb.mzML.gz", _MZML_HEAD), ("bomb.mzXML.gz", _MZXML_HEAD)])
def test_filler_bomb_stops_at_the_default_record_cap(tmp_path, name, head):
    """A valid header, then 200 MB of blanks (one text node lxml would hold whole): stopped by the default
    MAX_RECORD_GAP_BYTES (128 MB) within seconds, with a one-line error naming the cap."""
    assert ms_read.MAX_RECORD_GAP_BYTES < 200 * 1024**2
    p = _gzip_bomb(tmp_path / name, head, b" ", 200)
    assert p.stat().st_size < 2 * 1024**2
    t0 = time.perf_counter()
    done, exc = _in_thread(lambda: read_run(p), timeout=60)
    assert done, "a 200 MB filler stream was not stopped"
    assert isinstance(exc, InputError), exc
    assert "record size cap" in str(exc) and name in str(exc) and len(str(exc).splitlines()) == 1
    assert time.perf_counter() - t0 < 30


@pytest.mark.parametrize(
    "name,head", [("zeros.mzML.gz", _MZML_HEAD), ("zeros.mzXML.gz", _MZXML_HEAD), ("zeros.mzML.gz", "")]
)
def test_gigabytes_of_zeros_stop_at_once(tmp_path, name, head):
    p = _gzip_bomb(tmp_path / name, head, b"\0", 300)
    t0 = time.perf_counter()
    done, exc = _in_thread(lambda: read_run(p), timeout=60)
    assert done and isinstance(exc, InputError), exc
    assert time.perf_counter() - t0 < 10


def _many_spectra_mzml(n):
    return _mzml([_spectrum(i, [100.0 + i, 191.1543], [1e3, 1e5], rt_s=float(i)) for i in range(n)])


def _many_scans_mzxml(n):
    return mzx._doc([mzx._scan(i + 1, 1, float(i), [100.0 + i, 191.1543], [1e3, 1e5]) for i in range(n)])


@pytest.mark.parametrize("name,text", [("big.mzML.gz", _many_spectra_mzml), ("big.mzXML.gz", _many_scans_mzxml)])
def test_decompressed_size_cap_stops_a_long_valid_stream(tmp_path, monkeypatch, name, text):
    """Records that each look genuine (no gap to catch) are still stopped at MAX_DECOMPRESSED_BYTES (lowered here
    to 256 kB so the stream past it stays small)."""
    doc = text(2000).encode()
    p = tmp_path / name
    p.write_bytes(gzip.compress(doc))
    assert len(read_run(p).rt_s) == 2000  # under the default cap: read whole
    monkeypatch.setattr(ms_read, "MAX_DECOMPRESSED_BYTES", 256 * 1024)
    assert len(doc) > 256 * 1024
    with pytest.raises(InputError, match="decompressed size cap") as ei:
        read_run(p)
    assert name in str(ei.value) and len(str(ei.value).splitlines()) == 1


def test_size_cap_is_for_decompressed_streams_only(tmp_path, monkeypatch):
    """A plain file is its size on disk, nothing is amplified: the decompressed cap does not apply to it."""
    p = tmp_path / "plain.mzML"
    p.write_text(_many_spectra_mzml(2000))
    monkeypatch.setattr(ms_read, "MAX_DECOMPRESSED_BYTES", 256 * 1024)
    assert len(read_run(p).rt_s) == 2000


def test_record_cap_applies_to_plain_files_too(tmp_path, monkeypatch):
    p = tmp_path / "filler.mzML"
    p.write_text(_MZML_HEAD + " " * (3 * 1024 * 1024) + _MZML_TAIL)
    monkeypatch.setattr(ms_read, "MAX_RECORD_GAP_BYTES", 1024 * 1024)
    with pytest.raises(InputError, match="record size cap"):
        read_run(p)


# ----------------------------------------------------------------------------- 3. ms level

BAD_LEVELS = ["-inf", "inf", "nan", "1e400", "0", "-1", "1.5", "two", "101"]


@pytest.mark.parametrize("level", BAD_LEVELS)
def test_bad_ms_level_in_mzml_is_one_line_naming_file_and_scan(tmp_path, level):
    p = tmp_path / "lvl.mzML"
    good = _spectrum(0, [100.0, 191.1543], [1e3, 1e5])
    p.write_text(_mzml([good, _spectrum(1, [100.0, 191.1543], [1e3, 1e5], level=level, rt_s=2.0)]))
    with pytest.raises(InputError) as ei:
        read_run(p)
    msg = str(ei.value)
    assert "lvl.mzML" in msg and "scan=2" in msg and "ms level" in msg and len(msg.splitlines()) == 1


@pytest.mark.parametrize("level", BAD_LEVELS)
def test_bad_ms_level_in_mzxml_is_one_line_naming_file_and_scan(tmp_path, level):
    p = tmp_path / "lvl.mzXML"
    scans = [mzx._scan(1, 1, 1.0, [100.0, 191.1543], [1e3, 1e5]), mzx._scan(2, 1, 2.0, [100.0], [1e3])]
    scans[1] = scans[1].replace('msLevel="1"', f'msLevel="{level}"')
    p.write_text(mzx._doc(scans))
    with pytest.raises(InputError) as ei:
        read_run(p)
    msg = str(ei.value)
    assert "lvl.mzXML" in msg and "scan 2" in msg and "ms level" in msg and len(msg.splitlines()) == 1


def test_bad_ms_level_from_the_command_line_is_exit_65(tmp_path, capsys):
    p = tmp_path / "lvl.mzML"
    p.write_text(_mzml([_spectrum(0, [100.0, 191.1543], [1e3, 1e5], level="-inf")]))
    code = main([BENZYL_DIAZEPANE, "--ms", str(p)])
    err = capsys.readouterr().err
    assert code == EXIT_DATAERR, err
    assert "ms level" in err and "unexpected" not in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_valid_ms_levels_still_read(tmp_path):
    p = tmp_path / "ok.mzML"
    p.write_text(
        _mzml(
            [
                _spectrum(0, [100.0, 191.1543], [1e3, 1e5], level="1"),
                _spectrum(1, [191.1543], [1e5], level="2.0", rt_s=2.0),
            ]
        )
    )
    run = read_run(p)
    assert run.n_scans == 1 and len(run.ms2) == 1


# ----------------------------------------------------------------------------- 4. NaN / inf points


def test_non_finite_points_dropped_and_counted_mzml(tmp_path):
    nan, inf = float("nan"), float("inf")
    p = tmp_path / "nan.mzML"
    p.write_text(
        _mzml(
            [
                _spectrum(0, [100.0, 191.1543, 300.0], [1e3, 1e5, 2e3]),
                _spectrum(1, [nan, nan, nan], [1e3, 1e5, 2e3], rt_s=2.0),
                _spectrum(2, [100.0, 191.1543, inf], [nan, 1e5, 5.0], rt_s=3.0),
            ]
        )
    )
    run = read_run(p)
    assert np.isfinite(run.mz).all() and np.isfinite(run.intensity).all() and np.isfinite(run.tic).all()
    assert run.n_nonfinite == 5 and run.n_scans == 3
    assert run.scan(2)[0].tolist() == [191.1543]
    assert any("5 points" in n and "NaN" in n for n in run.notes)


def test_non_finite_points_dropped_and_counted_mzxml(tmp_path):
    nan, inf = float("nan"), float("inf")
    p = tmp_path / "nan.mzXML"
    p.write_text(
        mzx._doc(
            [
                mzx._scan(1, 1, 1.0, [100.0, 191.1543], [1e3, 1e5]),
                mzx._scan(2, 1, 2.0, [nan, 191.1543], [1e3, inf]),
                mzx._scan(3, 2, 2.5, [nan, 50.0], [1e3, 1e2], prec=191.1543),
            ]
        )
    )
    run = read_run(p)
    assert np.isfinite(run.mz).all() and np.isfinite(run.intensity).all()
    assert run.n_nonfinite == 3 and run.scan(1)[0].size == 0
    assert run.ms2[0].mz.tolist() == [50.0]


@pytest.fixture(scope="module")
def ms_helpers():
    return pytest.importorskip("ms_runs")


def _spectra_of(path):
    """(level, rt_s, polarity, mz, intensity, precursor) of every spectrum of a psims-written run."""
    from pyteomics import mzml

    out = []
    with mzml.read(str(path)) as r:
        for s in r:
            st = s["scanList"]["scan"][0]["scan start time"]
            rt = float(st) * (60.0 if getattr(st, "unit_info", "") == "minute" else 1.0)
            out.append(
                (
                    s["ms level"],
                    rt,
                    "+" if "positive scan" in s else "-",
                    np.array(s["m/z array"]),
                    np.array(s["intensity array"]),
                )
            )
    return out


def _nan_at_apex(spectra):
    """The spectra with every m/z of the scan nearest RT 60 s (the target's apex) set to NaN."""
    apex = min(range(len(spectra)), key=lambda i: abs(spectra[i][1] - 60.0))
    level, rt, pol, mz, it = spectra[apex]
    spectra = list(spectra)
    spectra[apex] = (level, rt, pol, np.full_like(mz, np.nan), it)
    return spectra, len(mz)


@pytest.mark.parametrize("fmt", ["mzML", "mzXML"])
def test_one_nan_scan_does_not_turn_a_good_sample_inconsistent(tmp_path, ms_helpers, fmt):
    from verify.ms.check import check_ms

    exp, src = ms_helpers.good_run(tmp_path)
    spectra, n_nan = _nan_at_apex(_spectra_of(src))
    p = tmp_path / f"nan.{fmt}"
    if fmt == "mzML":
        pols = {"+": "MS:1000130", "-": "MS:1000129"}
        p.write_text(
            _mzml(
                [
                    _spectrum(i, mz, it, level=str(lv), rt_s=rt, pol=pols[pol])
                    for i, (lv, rt, pol, mz, it) in enumerate(spectra)
                ]
            )
        )
    else:
        p.write_text(
            mzx._doc(
                [mzx._scan(i + 1, lv, rt, mz, it, pol, centroided=1) for i, (lv, rt, pol, mz, it) in enumerate(spectra)]
            )
        )
    run = read_run(p)
    assert np.isfinite(run.mz).all() and run.n_nonfinite == n_nan
    res = check_ms(p, exp)
    assert res.verdict == "consistent", [f.message for f in res.findings]
    assert res.main_ion.name == "[M+H]+" and abs(res.main_ion.ppm_error) < 1.0
    assert not any("nan" in f.message.lower() for f in res.findings)


# ----------------------------------------------------------------------------- damage found by bench/fuzz.py


def test_mzxml_scan_given_twice_is_one_line_naming_the_number(tmp_path):
    # pyteomics orders scans by num on a heap: a repeated num compared two scans' arrays ("truth value ...")
    scan = mzx._scan(1, 1, 1.0, [100.0, 191.1543], [1e3, 1e5])
    p = tmp_path / "twice.mzXML"
    p.write_text(mzx._doc([scan, scan]))
    with pytest.raises(InputError, match="scan number 1 is given to two scans") as exc:
        read_run(p)
    assert "truth value" not in str(exc.value)


def test_mzxml_scan_number_that_is_not_one(tmp_path):
    p = tmp_path / "num.mzXML"
    p.write_text(mzx._doc([mzx._scan(1, 1, 1.0, [100.0], [1e3])]).replace('num="1"', 'num="1x"'))
    with pytest.raises(InputError, match="scan number '1x' is not a whole number"):
        read_run(p)


@pytest.mark.parametrize("payload,why", [("AAAA\u00e9AAA", "not base64"), ("AAAAAAAAAAAA", "whole number of")])
def test_damaged_binary_array_names_the_scan(tmp_path, payload, why):
    doc = mzx._doc([mzx._scan(1, 1, 1.0, [100.0], [1e3])])
    doc = doc.split('compressedLen="0">')[0] + f'compressedLen="0">{payload}</peaks></scan>\n</msRun>\n</mzXML>\n'
    p = tmp_path / "bin.mzXML"
    p.write_text(doc, encoding="utf-8")
    with pytest.raises(InputError, match=f"scan 1: binary array .*{why}") as exc:
        read_run(p)
    assert "\n" not in str(exc.value) and "codec" not in str(exc.value)


def test_mzml_array_of_a_wrong_length_names_the_spectrum(tmp_path, capsys):
    text = _mzml([_spectrum(0, [100.0, 191.1543], [1e3, 1e5])])
    good = _b64([100.0, 191.1543], "<f8")
    p = tmp_path / "odd.mzML"
    p.write_text(text.replace(good, base64.b64encode(b"\0" * 12).decode()))
    code = main([BENZYL_DIAZEPANE, "--ms", str(p)])
    err = capsys.readouterr().err
    assert code == EXIT_DATAERR and "spectrum scan=1: binary array is not a whole number of 8-byte values" in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "attr, good, bad, words",
    [
        ("peaksCount", 'peaksCount="2"', 'peaksCount="1e-320"', "peaksCount='1e-320' is not a whole number"),
        ("retentionTime", 'retentionTime="PT2.000000S"', 'retentionTime="P\u00edT2S"', "retentionTime="),
    ],
)
def test_damaged_mzxml_scan_attribute_is_named(tmp_path, attr, good, bad, words):
    # pyteomics converts these with int()/float() and its bare ValueError named neither the scan nor the value
    text = mzx._doc(
        [mzx._scan(1, 1, 1.0, [100.0, 191.1543], [1e3, 1e5]), mzx._scan(2, 1, 2.0, [100.0, 191.1543], [1e3, 1e5])]
    )
    second = text.index('<scan num="2"')
    assert good in text[second:]
    p = tmp_path / "run.mzXML"
    p.write_text(text[:second] + text[second:].replace(good, bad, 1), encoding="latin-1")
    with pytest.raises(InputError) as e:
        read_run(p)
    msg = str(e.value)
    assert "\n" not in msg and "scan 2" in msg and words in msg and "damaged file" in msg
    p.write_text(text, encoding="latin-1")
    assert read_run(p).n_scans == 2


def test_mzxml_attribute_that_is_not_a_whole_number_is_named_by_its_value(tmp_path):
    # pyteomics' conversion error ("invalid literal for int() with base 10: ...", with a reading hint on a
    # second line) once passed through as it was
    scans = [mzx._scan(1, 1, 1.0, [100.0, 191.1543], [1e3, 1e5]), mzx._scan(2, 1, 2.0, [100.0], [1e3])]
    doc = mzx._doc(scans).replace('compressedLen="0"', 'compressedLen="-1e308"', 1)
    p = tmp_path / "run.mzXML"
    p.write_text(doc)
    with pytest.raises(InputError) as err:
        read_run(p)
    msg = str(err.value)
    assert "a value '-1e308' where a whole number belongs" in msg
    assert "\n" not in msg and "invalid literal" not in msg and "read_schema" not in msg


def test_mzml_value_that_is_not_a_number_is_named_by_its_value(tmp_path):
    # a flipped bit in a cvParam value ("total ion current" 10v27659.0) once gave Python's own
    # "could not convert string to float: ..." inside the error
    from conftest import SAMPLES

    src = SAMPLES / "boc_benzyl_diazepane" / "ms.mzML"
    text = src.read_text()
    key = 'name="total ion current" value="'
    i = text.index(key, text.index("<spectrum ", text.index("<spectrum ") + 1)) + len(key)
    p = tmp_path / "run.mzML"
    p.write_text(text[:i] + "1v" + text[i + 2 :])
    with pytest.raises(InputError) as err:
        read_run(p)
    msg = str(err.value)
    assert "where a number belongs" in msg and "'1v" in msg
    assert "could not convert" not in msg and "\n" not in msg
