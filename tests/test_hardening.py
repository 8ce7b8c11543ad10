"""Hardened inputs and outputs (issue 12): FIFOs, unknown elements, non-finite numbers, formula
injection in CSV, atomic writes and their exit codes, absurd spectrometer headers."""

from __future__ import annotations

import errno
import json
import math
import os
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest

from verify.cli import main
from verify.errors import EXIT_CANTCREAT, EXIT_DATAERR, EXIT_IOERR, CannotCreateError, InputError, OutputIOError
from verify.io_limits import require_regular
from verify.report.atomic import write_atomic
from verify.report.safe import csv_cell, json_text

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_spectra" / "boc_benzyl_diazepane"


def test_fifo_is_refused_not_read(tmp_path):
    fifo = tmp_path / "run.mzML"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="FIFO"):
        require_regular(fifo, "MS input")


def test_unknown_element_is_a_clean_error(capsys):
    code = main(["[Og]CC"])
    err = capsys.readouterr().err
    assert code == EXIT_DATAERR and "unexpected" not in err and "mass" in err


@pytest.mark.parametrize(
    "cell,expected",
    [
        ("=HYPERLINK(1)", "'=HYPERLINK(1)"),
        ("+cmd", "'+cmd"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("-2+3", "'-2+3"),
        ("\tx", "'\tx"),
        ("-0.5", "-0.5"),
        (-0.5, -0.5),
        ("C1CCNCC1", "C1CCNCC1"),
        (float("nan"), ""),
        (None, ""),
    ],
)
def test_csv_cells_cannot_be_formulas(cell, expected):
    assert csv_cell(cell) == expected


def test_non_finite_numbers_become_null_in_json():
    data = json.loads(json_text({"a": float("inf"), "b": [1.0, float("nan")], "c": {"d": -math.inf}}))
    assert data == {"a": None, "b": [1.0, None], "c": {"d": None}}


def test_atomic_write_leaves_no_half_file(tmp_path, monkeypatch):
    out = tmp_path / "report.json"
    out.write_text("old")
    real_fsync = os.fsync

    def full_disk(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(OutputIOError):
        write_atomic(out, "new" * 1000)
    monkeypatch.setattr(os, "fsync", real_fsync)
    assert out.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]


def test_output_under_a_file_is_exit_73(tmp_path, capsys):
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    with pytest.raises(CannotCreateError):
        write_atomic(blocker / "out.json", "{}")
    code = main([str(SAMPLE / "compound.smi"), "--format", "json", "-o", str(blocker / "out.json")])
    err = capsys.readouterr().err
    assert code == EXIT_CANTCREAT and "unexpected" not in err
    assert EXIT_IOERR == 74


@pytest.mark.parametrize("key,value", [("BF1", "0"), ("SFO1", "0"), ("SW_h", "inf"), ("TD", "-5")])
def test_absurd_bruker_header_is_a_clean_error_naming_the_key(tmp_path, capsys, key, value):
    exp = tmp_path / "1"
    shutil.copytree(SAMPLE / "nmr" / "1", exp)
    for name in ("acqus", "acqu"):
        p = exp / name
        if p.exists():
            lines = [f"##${key}= {value}" if ln.startswith(f"##${key}=") else ln for ln in p.read_text().splitlines()]
            p.write_text("\n".join(lines) + "\n")
    code = main([str(SAMPLE / "compound.smi"), "--nmr", str(exp)])
    err = capsys.readouterr().err
    assert code == EXIT_DATAERR, err
    assert "unexpected" not in err and len(err.strip().splitlines()) == 1


# ----------------------------------------------------------------------------- damage found by bench/fuzz.py


def _one_line_65(capsys, code, *words):
    err = capsys.readouterr().err
    assert code == EXIT_DATAERR, err
    assert len(err.strip().splitlines()) == 1 and "unexpected" not in err and "Error" not in err, err
    for w in words:
        assert w in err, err


def test_prospa_file_longer_than_its_header_says(tmp_path, capsys):
    spinsolve = pytest.importorskip("test_nmr_read_formats")
    d = spinsolve._write_spinsolve(tmp_path / "spinsolve", spinsolve.MTBE, n=4096)
    with open(d / "data.1d", "ab") as fh:
        fh.write(b"\xff")  # one stray byte: nmrglue's float32 view failed ("buffer size must be a multiple")
    _one_line_65(capsys, main(["COC(C)(C)C", "--nmr", str(d)]), "data.1d", "header declares")


def _procpar_entry(name: str, value, string: bool = False) -> str:
    """One procpar parameter: its attribute line, one value, no enumerations."""
    v = f'"{value}"' if string else f"{value}"
    return f"{name} 1 {2 if string else 1} 1e+30 -1e+30 0 2 1 0 1 64\n1 {v}\n0\n"


def _varian(folder: Path, n: int = 1024, procpar_tail: str = "", cut: int = 0) -> Path:
    """A Varian .fid folder: procpar and a one-block int32 fid of `n` complex points, `cut` bytes short."""
    folder.mkdir()
    (folder / "procpar").write_text(
        _procpar_entry("tn", "H1", True)
        + _procpar_entry("np", 2 * n)
        + _procpar_entry("sw", 8000.0)
        + _procpar_entry("sfrq", 400.13)
        + _procpar_entry("solvent", "cdcl3", True)
        + procpar_tail
    )
    head = struct.pack(">6ihhi", 1, 1, 2 * n, 4, 8 * n, 8 * n + 28, 0, 0x45, 1)
    data = head + b"\0" * 28 + np.arange(2 * n, dtype=">i4").tobytes()
    (folder / "fid").write_bytes(data[: len(data) - cut])
    return folder


def test_truncated_varian_fid_says_what_its_header_needs(tmp_path, capsys):
    d = _varian(tmp_path / "cut.fid", cut=1001)
    _one_line_65(capsys, main(["CCO", "--nmr", str(d)]), "truncated fid", "its header needs")


@pytest.mark.parametrize("key", ["sw", "sfrq"])
def test_procpar_without_spectral_width_or_frequency_names_the_key(tmp_path, capsys, key):
    # a procpar truncated before sw or sfrq once ended as "unreadable NMR data (TypeError: float() ...)"
    d = _varian(tmp_path / "short.fid")
    text = (d / "procpar").read_text()
    start = text.index(f"{key} 1 1 ")
    (d / "procpar").write_text(text[:start] + text[start:].split("\n0\n", 1)[1])
    _one_line_65(capsys, main(["CCO", "--nmr", str(d)]), f"procpar gives no {key}")


@pytest.mark.parametrize(
    "tail,words",
    [("gain 1 1 1e+30 -1e+30 0 2 1 0 1 64\n", ("unreadable parameter at byte",)), ("\xff\xfe 1 1\n", ("not text",))],
)
def test_damaged_procpar_names_the_byte(tmp_path, capsys, tail, words):
    d = _varian(tmp_path / "bad.fid", procpar_tail=tail)
    if "\xff" in tail:  # bytes that are not UTF-8, as a damaged disc gives them
        (d / "procpar").write_bytes((d / "procpar").read_bytes().replace("\xff\xfe".encode(), b"\xff\xfe"))
    _one_line_65(capsys, main(["CCO", "--nmr", str(d)]), *words)


@pytest.mark.realdata
@pytest.mark.parametrize(
    "offset,word,words",
    [(24, b"\xff\xff", ("damaged JEOL header",)), (None, None, ("truncated JEOL file", "its header says"))],
)
def test_damaged_jeol_header_and_sections_are_named(realdata, tmp_path, capsys, offset, word, words):
    raw = bytearray((realdata / "nmr/chloroform_jeol/50percCHCL3.jdf").read_bytes())
    if offset is None:
        raw = raw[: len(raw) // 5]  # cut inside the data: nmrglue's struct.error ("unpack_from requires ...")
    else:
        raw[offset : offset + len(word)] = word  # a title byte that is not UTF-8 / a code nmrglue's tables lack
    bad = tmp_path / "bad.jdf"
    bad.write_bytes(bytes(raw))
    _one_line_65(capsys, main(["ClC(Cl)Cl", "--nmr", str(bad)]), *words)
