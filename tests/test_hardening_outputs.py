"""Issue 12, outputs: unknown elements, non-finite numbers, CSV formula injection, atomic writes,
full disk / read-only outputs (exit 73/74) and a store two runs create at once."""

from __future__ import annotations

import csv
import errno
import io
import json
import math
import multiprocessing as mp
import os

import pytest
from rdkit import Chem

from verify.cli import main
from verify.errors import CannotCreateError, InputError, OutputIOError
from verify.report import atomic
from verify.report.safe import csv_cell, csv_text, json_text
from verify.structure.masses import composition, monoisotopic_mass


@pytest.mark.parametrize("smiles,needle", [("[Og]", "Og"), ("C[99C]", "99C"), ("*C", "dummy")])
def test_unknown_element_or_isotope_is_input_error(smiles, needle):
    with pytest.raises(InputError, match=needle):
        composition(Chem.MolFromSmiles(smiles))


def test_unknown_element_cli_one_line(capsys):
    rc = main(["C[Og]"])
    err = capsys.readouterr().err
    assert rc == 65 and "Og" in err and "unexpected" not in err and len(err.strip().splitlines()) == 1


def test_labelled_isotope_has_its_own_mass():
    plain = monoisotopic_mass(composition(Chem.MolFromSmiles("CO")))
    d3 = monoisotopic_mass(composition(Chem.MolFromSmiles("[2H]C([2H])([2H])O")))
    assert d3 - plain == pytest.approx(3 * (2.0141017778 - 1.00782503207), abs=1e-6)


def test_json_non_finite_becomes_null():
    d = json.loads(json_text({"a": math.inf, "b": [math.nan, 1.5], "c": {"d": -math.inf}}))
    assert d == {"a": None, "b": [None, 1.5], "c": {"d": None}}


@pytest.mark.parametrize("cell", ["=1+2", "+SUM(A1)", "-2+3", "@cmd", "\t=x", "\r=x", "-cmd|' /C calc'!A0"])
def test_csv_formula_cells_neutralised(cell):
    assert csv_cell(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["-0.52", "+3", "1e-5", -0.5, 2, "CCO", ""])
def test_csv_numbers_and_text_kept(cell):
    assert csv_cell(cell) == cell


def test_csv_text_neutralises_header_and_rows():
    text = csv_text(["well", "=evil"], [{"well": "=HYPERLINK(1)", "=evil": -0.25}, {"well": math.inf}])
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["well", "'=evil"]
    assert rows[1] == ["'=HYPERLINK(1)", "-0.25"]
    assert rows[2] == ["", ""]


def test_atomic_write_keeps_old_file_on_enospc(tmp_path, monkeypatch):
    out = tmp_path / "r.json"
    out.write_text("old")

    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(atomic.os, "fsync", full)
    with pytest.raises(OutputIOError) as ei:
        atomic.write_atomic(out, "new")
    assert ei.value.exit_code == 74
    assert out.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["r.json"]


def test_cli_output_under_a_file_is_exit_73(tmp_path, capsys):
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    rc = main(["CCO", "--format", "json", "-o", str(blocker / "out.json")])
    err = capsys.readouterr().err
    assert rc == 73 and "out.json" in err and len(err.strip().splitlines()) == 1
    with pytest.raises(CannotCreateError):
        atomic.write_atomic(tmp_path / "no" / "such" / "x.csv", "a")


def test_cli_disk_full_is_exit_74(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(atomic.os, "fsync", lambda fd: (_ for _ in ()).throw(OSError(errno.ENOSPC, "No space left")))
    rc = main(["CCO", "-o", str(tmp_path / "r.txt")])
    err = capsys.readouterr().err
    assert rc == 74 and "No space left" in err and not (tmp_path / "r.txt").exists()


def _open_store(path, barrier, q):
    from verify.plate.store import ResultStore

    barrier.wait()
    try:
        with ResultStore(path) as s:
            s.put_plate("p", "m", {"n": 1})
        q.put("ok")
    except Exception as exc:  # reported to the parent, which asserts
        q.put(f"{type(exc).__name__}: {exc}")


def test_two_runs_create_the_store_at_once(tmp_path):
    # before the fix about 1 in 4 pairs failed with "database is locked"
    ctx = mp.get_context("fork")
    results = []
    for i in range(8):
        path = str(tmp_path / f"r{i}" / "results.sqlite")
        b, q = ctx.Barrier(2), ctx.Queue()
        ps = [ctx.Process(target=_open_store, args=(path, b, q)) for _ in range(2)]
        for p in ps:
            p.start()
        for p in ps:
            p.join(60)
        results += [q.get(timeout=5) for _ in ps]
    assert results == ["ok"] * 16


def test_store_disk_full_is_output_io_error_and_keeps_wells(tmp_path):
    import sqlite3

    from verify.plate.store import ResultStore

    store = ResultStore(tmp_path / "s.sqlite")
    store.put_well("p", {"well": "A1", "input_hash": "h1", "verdict": "consistent", "status": "ok"})

    class FullConn:
        def __init__(self, conn):
            self._c = conn

        def __enter__(self):
            return self

        def __exit__(self, *a):
            return False

        def execute(self, *a, **k):
            raise sqlite3.OperationalError("database or disk is full")

        def __getattr__(self, name):
            return getattr(self._c, name)

    real = store.conn
    store.conn = FullConn(real)
    with pytest.raises(OutputIOError) as ei:
        store.put_well("p", {"well": "A2", "input_hash": "h2", "verdict": "consistent", "status": "ok"})
    assert ei.value.exit_code == 74 and "disk is full" in str(ei.value)
    store.conn = real
    assert set(store.get_wells("p")) == {"A1"}
    store.close()
