"""Hardened inputs and outputs (issue 12): FIFOs, unknown elements, non-finite numbers, formula
injection in CSV, atomic writes and their exit codes, absurd spectrometer headers."""

from __future__ import annotations

import errno
import json
import math
import os
import shutil
from pathlib import Path

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


@pytest.mark.parametrize("cell,expected", [("=HYPERLINK(1)", "'=HYPERLINK(1)"), ("+cmd", "'+cmd"), ("@SUM(A1)", "'@SUM(A1)"),
                                           ("-2+3", "'-2+3"), ("\tx", "'\tx"), ("-0.5", "-0.5"), (-0.5, -0.5),
                                           ("C1CCNCC1", "C1CCNCC1"), (float("nan"), ""), (None, "")])
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
