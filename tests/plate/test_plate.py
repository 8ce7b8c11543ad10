"""Plates: map parsing and its errors, exit codes, bad wells, the results store (skip, resume), outputs.

Most tests run the plate on small fake data through `fake_check_compound` (see tests/fakes.py), so
they test the plate machinery itself; `test_demo_plate_*` run the real 96-well demo plate.
"""

from __future__ import annotations

import csv
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from fakes import BENZYL, BOC_BENZYL, fake_check_compound, make_plate, run, write

from verify.cli import main
from verify.plate.map import PlateMapError, parse_well, read_plate_map

ROOT = Path(__file__).resolve().parents[2]


# ------------------------------------------------------------------------------------------ map parsing
def test_parse_well_forms():
    assert parse_well("A1") == "A1" and parse_well("a01") == "A1" and parse_well(" H12 ") == "H12"
    assert parse_well("P24") == "P24" and parse_well("B007") == "B7"
    for bad in ("", "A0", "Q1", "A25", "1A", "AA1", "A1.5"):
        assert parse_well(bad) is None, bad


def test_csv_map_paths_extra_columns_and_96_geometry(tmp_path):
    m = write(
        tmp_path / "sub" / "p.csv",
        "# plate 7\nWell,Compound_ID,SMILES,NMR,MS,chemist,notes\n"
        "A01,VRF-1,CCO,nmr/a1,ms/a1.mzML,AB,first\nb2,VRF-2,CCN,,,CD,\n",
    )
    pm = read_plate_map(m)
    assert [w.well for w in pm.wells] == ["A01", "B02"]  # the map writes A01: so do the outputs
    assert pm.padded and pm.label("C", 3) == "C03"
    a1 = pm.wells[0]
    assert a1.compound_id == "VRF-1" and a1.smiles == "CCO" and a1.line == 3
    assert a1.nmr == tmp_path / "sub" / "nmr" / "a1" and a1.ms == tmp_path / "sub" / "ms" / "a1.mzML"
    assert pm.wells[1].nmr is None
    assert pm.extra_columns == ["chemist", "notes"] and a1.extra == {"chemist": "AB", "notes": "first"}
    assert (pm.rows, pm.cols, pm.size) == ("ABCDEFGH", 12, 96)


def test_tsv_and_384(tmp_path):
    m = write(tmp_path / "p.tsv", "well\tcompound_id\tsmiles\nP24\tX\tCC\nA1\tY\tCC\n")
    pm = read_plate_map(m)
    assert [w.well for w in pm.wells] == ["A1", "P24"] and pm.size == 384


def test_map_errors_with_line_numbers_all_reported(tmp_path):
    m = write(tmp_path / "p.csv", "well,compound_id,smiles\nA1,X,CC\nZ9,Y,CC\nA01,Z,CC\n\nA13,W,CC\n")
    with pytest.raises(PlateMapError) as ei:
        read_plate_map(m)
    msg = str(ei.value)
    assert "line 3: bad well name 'Z9'" in msg
    assert "line 4: duplicate well A1 (already on line 2)" in msg
    assert "line 6" not in msg  # A13 is a 384-well name: fine
    assert ei.value.exit_code == 65


def test_missing_column_reported_on_header_line(tmp_path):
    m = write(tmp_path / "p.csv", "# comment\nwell,smiles\nA1,CC\n")
    with pytest.raises(PlateMapError, match=r"line 2: missing column compound_id"):
        read_plate_map(m)


def test_sdf_map(tmp_path):
    from rdkit import Chem

    w = Chem.SDWriter(str(tmp_path / "p.sdf"))
    for well, cid, smi in (("A01", "VRF-1", BOC_BENZYL), ("A2", "VRF-2", BENZYL)):
        m = Chem.MolFromSmiles(smi)
        m.SetProp("_Name", cid)
        m.SetProp("Well", well)
        m.SetProp("ms", f"{cid}.mzML")
        m.SetProp("batch", "B7")
        w.write(m)
    w.close()
    pm = read_plate_map(tmp_path / "p.sdf")
    assert [(x.well, x.compound_id) for x in pm.wells] == [("A01", "VRF-1"), ("A02", "VRF-2")]
    assert pm.wells[0].molblock.rstrip().endswith("M  END")
    assert pm.wells[1].ms == tmp_path / "VRF-2.mzML"
    assert pm.extra_columns == ["batch"] and pm.wells[0].extra == {"batch": "B7"}
    # a duplicate well is reported at the record's first line
    text = (tmp_path / "p.sdf").read_text().replace("A2", "A1")
    write(tmp_path / "q.sdf", text)
    with pytest.raises(PlateMapError, match=r"line \d+: duplicate well A1"):
        read_plate_map(tmp_path / "q.sdf")


# ------------------------------------------------------------------------------------------- exit codes
def test_exit_codes(tmp_path, capsys):
    assert run([str(tmp_path / "nope.csv")], capsys)[0] == 66
    assert run(["--workers", "0", str(tmp_path / "nope.csv")], capsys)[0] == 64
    assert run(["--bogus"], capsys)[0] == 64
    assert run([], capsys)[0] == 64
    bad = write(tmp_path / "bad.csv", "well,compound_id,smiles\nA1,X,CC\nA1,Y,CC\n")
    code, out, err = run([str(bad), "-o", str(tmp_path / "r")], capsys)
    assert code == 65 and "line 3: duplicate well A1" in err and err.count("\n") == 1
    assert not (tmp_path / "r" / "results.sqlite").exists()  # nothing ran
    write(tmp_path / "bin.csv", "")
    (tmp_path / "bin.csv").write_bytes(b"\x00\x01\xff\xfe" * 10)
    assert run([str(tmp_path / "bin.csv")], capsys)[0] == 65
    assert run([str(bad), "--nmr-dir", str(tmp_path / "nodir")], capsys)[0] == 66


def test_plate_exit_zero_whatever_the_verdicts_and_fail_on(tmp_path, capsys, fake_pipeline):
    m = make_plate(
        tmp_path,
        [
            ("A1", "ok", BENZYL, "good", "good", ""),
            ("A2", "sus", BENZYL, "suspicious", "good", ""),
            ("A3", "bad", BENZYL, "missing", "good", ""),
        ],
    )
    args = [str(m), "-o", str(tmp_path / "r"), "--workers", "1", "-q"]
    code, out, _ = run(args, capsys)
    assert code == 0 and "1 consistent, 1 suspicious, 1 inconsistent" in out
    assert run(args + ["--fail-on", "inconsistent"], capsys)[0] == 2
    m2 = make_plate(
        tmp_path / "b", [("A1", "ok", BENZYL, "good", "good", ""), ("A2", "sus", BENZYL, "suspicious", "good", "")]
    )
    a2 = [str(m2), "-o", str(tmp_path / "r2"), "--workers", "1", "-q"]
    assert run(a2 + ["--fail-on", "suspicious"], capsys)[0] == 1
    assert run(a2 + ["--fail-on", "inconsistent"], capsys)[0] == 0
    # a well with no data was never checked: the strict gate stops it, the lenient one does not
    m3 = make_plate(tmp_path / "c", [("A1", "ok", BENZYL, "good", "good", ""), ("A2", "none", BENZYL, None, None, "")])
    a3 = [str(m3), "-o", str(tmp_path / "r3"), "--workers", "1", "-q"]
    code, out, _ = run(a3, capsys)
    assert code == 0 and "1 consistent, 1 unchecked" in out
    assert run(a3 + ["--fail-on", "suspicious"], capsys)[0] == 1
    assert run(a3 + ["--fail-on", "inconsistent"], capsys)[0] == 0


def test_scheduler_without_the_dask_extra_is_a_usage_error(tmp_path, capsys, monkeypatch, fake_pipeline):
    # a lab machine without `verify[dask]`: one line saying what to install, before any well runs
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    m = make_plate(tmp_path, [("A1", "ok", BENZYL, "good", "good", "")])
    code, out, err = run([str(m), "-o", str(tmp_path / "r"), "--scheduler", "tcp://127.0.0.1:9", "-q"], capsys)
    assert code == 64 and out == ""
    assert err.strip() == 'verify: error: --scheduler: needs Dask distributed: pip install "verify[dask]"'
    assert not (tmp_path / "r").exists()


def test_several_maps_share_one_run_and_get_a_report_each(tmp_path, capsys, fake_pipeline):
    a = make_plate(
        tmp_path / "a", [("A1", "ok", BENZYL, "good", "good", ""), ("A2", "sus", BENZYL, "suspicious", "good", "")]
    )
    b = make_plate(
        tmp_path / "b", [("A1", "ok", BENZYL, "good", "good", ""), ("B3", "bad", BENZYL, "missing", "good", "")]
    )
    a, b = a.rename(a.with_name("plate_a.csv")), b.rename(b.with_name("plate_b.csv"))
    code, out, err = run(
        [str(a), str(b), "-o", str(tmp_path / "qc"), "--workers", "2", "--fail-on", "suspicious"], capsys
    )
    assert code == 2  # the worse of the two plates (an inconsistent well in b)
    assert "plate_a: 2 wells: 1 consistent, 1 suspicious (2 checked, 0 unchanged)" in out
    assert "plate_b: 2 wells: 1 consistent, 1 inconsistent (2 checked, 0 unchanged)" in out
    assert "verify plate (2 maps)" in err
    for name, wells in (("plate_a", ["A1", "A2"]), ("plate_b", ["A1", "B3"])):
        rep = tmp_path / "qc" / f"{name}_report"
        data = json.loads((rep / "results.json").read_text())
        assert [w["well"] for w in data["wells"]] == wells and data["plate"]["name"] == name
        assert (rep / "index.html").is_file() and sorted(p.stem for p in (rep / "wells").glob("*.html")) == wells
    # a re-run of both checks nothing; one store file may hold both plates
    code, out, _ = run([str(a), str(b), "-o", str(tmp_path / "qc"), "-q"], capsys)
    assert code == 0 and out.count("(0 checked, 2 unchanged)") == 2
    code, out, _ = run(
        [str(a), str(b), "-o", str(tmp_path / "qc2"), "--store", str(tmp_path / "all.sqlite"), "-q"], capsys
    )
    assert code == 0 and out.count("(2 checked, 0 unchanged)") == 2
    con = sqlite3.connect(tmp_path / "all.sqlite")
    assert con.execute("SELECT COUNT(*) FROM wells").fetchone()[0] == 4
    con.close()
    # what cannot be split over several maps is a usage error
    code, _, err = run([str(a), str(b), "--title", "QC", "-q"], capsys)
    assert code == 64 and "--title names one plate" in err
    same = make_plate(tmp_path / "c", [("A1", "ok", BENZYL, "good", "good", "")]).rename(tmp_path / "c" / "plate_a.csv")
    code, _, err = run([str(a), str(same), "-o", str(tmp_path / "qc3"), "-q"], capsys)
    assert code == 64 and "would write the same report folder" in err


# ------------------------------------------------------------------------- bad wells, outputs, store
def _bad_plate(tmp_path):
    return make_plate(
        tmp_path,
        [
            ("A1", "VRF-1", BOC_BENZYL, "good", "good", "AB"),
            ("A2", "VRF-2", BENZYL, "corrupt", "good", "AB"),  # corrupt NMR: partial, MS verdict kept
            ("A3", "VRF-3", "C1CC(", "good", "good", "CD"),  # invalid SMILES
            ("A4", "VRF-4", BENZYL, "nofile", "good", "CD"),  # path in the map, file absent: partial
            ("B1", "VRF-5", BENZYL, "crash", "good", ""),  # a bug in the NMR code: partial
            ("B2", "VRF-6", BENZYL, None, None, ""),  # no data at all
            ("H12", "VRF-7", "Cl.C1CNCCN(C1)Cc1ccccc1", None, "good", "EF"),  # salt, MS only
        ],
    )


def test_bad_wells_do_not_stop_the_plate(tmp_path, capsys, fake_pipeline):
    m = _bad_plate(tmp_path)
    out_dir = tmp_path / "rep"
    code, out, err = run([str(m), "-o", str(out_dir), "--workers", "2"], capsys)
    assert code == 0
    assert "7 wells: 2 consistent, 3 suspicious, 1 unchecked, 1 error; 3 partial (a data file unreadable)" in out
    assert "A2 VRF-2: partial (suspicious): 1H NMR: " in out and "truncated FID" in out
    assert "A3 VRF-3: error: well A3: invalid SMILES 'C1CC('" in out
    assert "A4 VRF-4: partial (suspicious): 1H NMR: " in out and "no such file" in out
    assert "B1 VRF-5: partial (suspicious): 1H NMR: unexpected ZeroDivisionError" in out
    assert "B2 VRF-6: unchecked: no NMR or LC-MS data for this well" in out
    assert "7/7" in err  # plain progress lines when not a terminal

    rows = list(csv.DictReader((out_dir / "results.csv").open()))
    assert list(rows[0]) == [
        "well",
        "compound_id",
        "smiles",
        "verdict",
        "score",
        "nmr_verdict",
        "ms_verdict",
        "main_ion_ppm_error",
        "ms_purity",
        "reasons",
        "part_errors",
        "chemist",
    ]
    assert [r["well"] for r in rows] == ["A1", "A2", "A3", "A4", "B1", "B2", "H12"]
    by = {r["well"]: r for r in rows}
    assert by["A1"]["verdict"] == "consistent" and by["A1"]["nmr_verdict"] == "consistent"
    assert by["A1"]["main_ion_ppm_error"] == "1.20" and by["A1"]["chemist"] == "AB"
    assert by["A2"]["verdict"] == "suspicious" and by["A2"]["ms_verdict"] == "consistent"
    assert by["A2"]["nmr_verdict"] == "error" and "truncated FID" in by["A2"]["reasons"]
    assert by["A2"]["part_errors"].startswith("1H NMR: ") and "truncated FID" in by["A2"]["part_errors"]
    assert by["A3"]["verdict"] == "error" and by["A3"]["part_errors"] == "" and by["A1"]["part_errors"] == ""
    assert (
        by["H12"]["verdict"] == "consistent"
        and by["H12"]["nmr_verdict"] == ""
        and by["H12"]["ms_verdict"] == "consistent"
    )

    data = json.loads((out_dir / "results.json").read_text())
    assert data["schema"] == "verify-plate/1"
    assert data["plate"]["counts"] == {"consistent": 2, "suspicious": 3, "inconsistent": 0, "unchecked": 1, "error": 1}
    assert data["plate"]["partial"] == 3
    assert data["plate"]["format"] == 96
    w = {x["well"]: x for x in data["wells"]}
    assert w["A1"]["result"]["schema"] == "verify/3" and w["A1"]["result"]["verdict"] == "consistent"
    assert w["A2"]["status"] == "partial" and w["A2"]["verdict"] == "suspicious" and w["A2"]["error"] is None
    assert w["A2"]["result"]["nmr"] is None and w["A2"]["result"]["ms"]["verdict"] == "consistent"
    assert w["A2"]["result"]["verdict"] == "suspicious"  # the verify/3 result says so too
    assert "truncated FID" in w["A2"]["part_errors"]["nmr"] and "ms" not in w["A2"]["part_errors"]
    assert w["A3"]["result"] is None and w["A3"]["status"] == "error" and w["A1"]["status"] == "ok"
    # no data at all: an expectation, never a verdict; nothing here is "consistent"
    assert w["B2"]["verdict"] == "unchecked" and w["B2"]["result"]["checked_by"] == []
    assert by["B2"]["verdict"] == "unchecked"
    assert w["H12"]["result"]["checked_by"] == ["ms"]
    assert any("salt" in f["message"] for f in w["H12"]["result"]["findings"])

    html = (out_dir / "index.html").read_text()
    for well in ("A1", "A2", "A3", "A4", "B1", "B2", "H12"):
        # the overview links each well to its own page, which holds the full report
        assert f'href="wells/{well}.html"' in html and f'data-well="{well}"' in html
        assert f'id="well-{well}"' not in html and f'id="well-{well}"' in _page(out_dir, well)
    assert html.count('class="empty"') == 96 - 7
    assert "truncated FID" in html  # the reasons column
    assert sorted(p.stem for p in (out_dir / "wells").glob("*.html")) == sorted(w)
    a2 = _page(out_dir, "A2")
    assert 'href="../index.html"' in a2 and 'href="../wells/A1.html"' in a2 and 'href="../wells/A3.html"' in a2


def _page(rep: Path, well: str) -> str:
    """The HTML page of one well (wells/<well>.html beside index.html)."""
    return (rep / "wells" / f"{well}.html").read_text()


def _section(rep: Path, well: str) -> str:
    """The report section of one well, from its page."""
    html = _page(rep, well)
    start = html.index(f'id="well-{well}"')
    return html[start : html.index("</section>", start)]


def test_partial_wells_keep_the_readable_part(tmp_path, capsys, fake_pipeline):
    """One unreadable data file of two: the well keeps the other's verdict (capped at suspicious, an
    inconsistent one kept), records the failed part; both unreadable stays an error."""
    m = make_plate(
        tmp_path,
        [
            ("A1", "good", BENZYL, "good", "good", ""),
            ("A2", "nmr-bad", BENZYL, "corrupt", "good", ""),
            ("A3", "ms-bad", BENZYL, "good", "corrupt", ""),
            ("A4", "both-bad", BENZYL, "corrupt", "corrupt", ""),
            ("A5", "wrong", BENZYL, "missing", "corrupt", ""),  # the NMR alone proves it wrong
        ],
    )
    rep = tmp_path / "rep"
    args = [str(m), "-o", str(rep), "--workers", "2", "-q"]
    code, out, _ = run(args, capsys)
    assert code == 0
    assert "5 wells: 1 consistent, 2 suspicious, 1 inconsistent, 1 error; 3 partial" in out
    assert "A3 ms-bad: partial (suspicious): LC-MS: " in out and "not an mzML file" in out
    assert "A4 both-bad: error: 1H NMR: " in out and "; LC-MS: " in out

    w = {x["well"]: x for x in json.loads((rep / "results.json").read_text())["wells"]}
    assert (w["A1"]["status"], w["A1"]["verdict"], w["A1"]["part_errors"]) == ("ok", "consistent", {})
    assert (w["A2"]["status"], w["A2"]["verdict"]) == ("partial", "suspicious")
    assert (w["A3"]["status"], w["A3"]["verdict"]) == ("partial", "suspicious")
    assert w["A3"]["result"]["nmr"]["verdict"] == "consistent" and w["A3"]["result"]["ms"] is None
    assert list(w["A3"]["part_errors"]) == ["ms"] and "not an mzML file" in w["A3"]["part_errors"]["ms"]
    codes = [f["code"] for f in w["A3"]["result"]["findings"] if f["severity"] == "warning"]
    assert codes == ["plate.ms_unreadable"]
    assert (w["A4"]["status"], w["A4"]["verdict"], w["A4"]["result"]) == ("error", "error", None)
    assert set(w["A4"]["part_errors"]) == {"nmr", "ms"}
    assert (w["A5"]["status"], w["A5"]["verdict"]) == ("partial", "inconsistent")

    rows = {r["well"]: r for r in csv.DictReader((rep / "results.csv").open())}
    assert (rows["A3"]["nmr_verdict"], rows["A3"]["ms_verdict"]) == ("consistent", "error")
    assert rows["A3"]["part_errors"].startswith("LC-MS: ") and "not an mzML file" in rows["A3"]["part_errors"]
    assert (rows["A4"]["nmr_verdict"], rows["A4"]["ms_verdict"]) == ("error", "error")
    assert "truncated FID" in rows["A4"]["part_errors"] and "not an mzML file" in rows["A4"]["part_errors"]

    html = (rep / "index.html").read_text()
    a3 = _section(rep, "A3")
    assert 'data-status="partial"' in a3 and 'data-verdict="suspicious"' in a3
    assert 'class="errbox part-error"' in a3 and "not an mzML file" in a3
    assert 'data-status="partial"' not in _section(rep, "A1") and "part-error" not in _section(rep, "A1")
    assert 'class="v-suspicious partial" data-well="A3"' in html  # the grid marks it
    assert 'data-filter="partial" data-count="3"' in html

    con = sqlite3.connect(rep / "results.sqlite")
    st = dict(con.execute("SELECT well, status FROM wells").fetchall())
    con.close()
    assert st == {"A1": "ok", "A2": "partial", "A3": "partial", "A4": "error", "A5": "partial"}


def test_partial_well_fails_the_plate_like_an_error(tmp_path, capsys, fake_pipeline):
    """--fail-on: an unreadable data file gives exit 2 whether it made its well an error or partial."""
    m = make_plate(
        tmp_path, [("A1", "ok", BENZYL, "good", "good", ""), ("A2", "ms-bad", BENZYL, "good", "corrupt", "")]
    )
    args = [str(m), "-o", str(tmp_path / "r"), "--workers", "1", "-q"]
    assert run(args, capsys)[0] == 0
    assert run(args + ["--fail-on", "inconsistent"], capsys)[0] == 2
    assert run(args + ["--fail-on", "suspicious"], capsys)[0] == 2
    (tmp_path / "data" / "ms-bad.mzML").write_text("good")  # repaired: the well is re-checked
    code, out, _ = run(args + ["--fail-on", "inconsistent"], capsys)
    assert code == 0 and "(1 checked, 1 unchanged)" in out and "2 wells: 2 consistent" in out


def test_partial_wells_on_real_data(tmp_path, capsys, samples):
    """The real pipeline on copies of sample_spectra: truncated fid, acqus removed, garbage mzML."""
    import shutil

    def copy(name: str, well: str) -> Path:
        d = tmp_path / "data" / well
        shutil.copytree(samples / name, d)
        return d

    good, wrong = "boc_benzyl_diazepane", "fail_wrong_compound"
    dirs = {
        "A1": copy(good, "A1"),
        "A2": copy(good, "A2"),
        "A3": copy(good, "A3"),
        "A4": copy(good, "A4"),
        "A5": copy(wrong, "A5"),
    }

    def truncate(fid: Path):
        fid.write_bytes(fid.read_bytes()[:50_000])

    garbage = b"<?xml version='1.0'?>\n<indexedmzML\x00" + bytes(range(256)) * 8
    truncate(dirs["A2"] / "nmr" / "1" / "fid")
    (dirs["A3"] / "ms.mzML").write_bytes(garbage)
    truncate(dirs["A4"] / "nmr" / "1" / "fid")
    (dirs["A4"] / "ms.mzML").write_bytes(garbage)
    (dirs["A5"] / "nmr" / "1" / "acqus").unlink()
    (dirs["A5"] / "nmr" / "1" / "acqu").unlink()  # the reader falls back on acqu when acqus is gone
    lines = ["well,compound_id,smiles,nmr,ms"]
    for well, d in dirs.items():
        smi = (d / "compound.smi").read_text().split()[0]
        lines.append(f"{well},C-{well},{smi},data/{well}/nmr/1,data/{well}/ms.mzML")
    m = write(tmp_path / "plate.csv", "\n".join(lines) + "\n")
    rep = tmp_path / "rep"
    args = [str(m), "-o", str(rep), "--workers", "2", "-q"]
    code, out, _ = run(args, capsys)
    assert code == 0, out

    w = {x["well"]: x for x in json.loads((rep / "results.json").read_text())["wells"]}
    assert (w["A1"]["status"], w["A1"]["verdict"], w["A1"]["error"]) == ("ok", "consistent", None)
    assert w["A1"]["result"]["nmr"]["verdict"] == "consistent" and w["A1"]["result"]["ms"]["verdict"] == "consistent"
    # NMR unreadable, LC-MS fine: the HRMS verdict is kept, the well is at best suspicious
    assert (w["A2"]["status"], w["A2"]["verdict"]) == ("partial", "suspicious")
    assert w["A2"]["result"]["ms"]["verdict"] == "consistent" and w["A2"]["result"]["nmr"] is None
    assert w["A2"]["part_errors"]["nmr"].startswith(f"{dirs['A2'] / 'nmr' / '1' / 'fid'}: truncated")
    # the converse
    assert (w["A3"]["status"], w["A3"]["verdict"]) == ("partial", "suspicious")
    assert w["A3"]["result"]["nmr"]["verdict"] == "consistent" and w["A3"]["result"]["ms"] is None
    assert w["A3"]["part_errors"]["ms"].startswith(f"{dirs['A3'] / 'ms.mzML'}: ")
    # both unreadable: an error with both messages
    assert (w["A4"]["status"], w["A4"]["verdict"], w["A4"]["result"]) == ("error", "error", None)
    assert set(w["A4"]["part_errors"]) == {"nmr", "ms"}
    assert "1H NMR: " in w["A4"]["error"] and "LC-MS: " in w["A4"]["error"]
    # wrong compound with an unreadable NMR: the HRMS alone proves it wrong
    assert (w["A5"]["status"], w["A5"]["verdict"]) == ("partial", "inconsistent")
    assert str(dirs["A5"] / "nmr" / "1") in w["A5"]["part_errors"]["nmr"]

    rows = {r["well"]: r for r in csv.DictReader((rep / "results.csv").open())}
    assert (rows["A2"]["verdict"], rows["A2"]["nmr_verdict"], rows["A2"]["ms_verdict"]) == (
        "suspicious",
        "error",
        "consistent",
    )
    assert "truncated" in rows["A2"]["part_errors"] and rows["A1"]["part_errors"] == ""
    a2 = _section(rep, "A2")
    assert "part-error" in a2 and "truncated" in a2 and "<h3>HRMS" in a2 and "img" in a2

    # repair A2's fid: only that well is checked again, and it is now consistent
    shutil.copyfile(samples / good / "nmr" / "1" / "fid", dirs["A2"] / "nmr" / "1" / "fid")
    code, out, _ = run(args, capsys)
    assert code == 0 and "(1 checked, 4 unchanged)" in out
    w = {x["well"]: x for x in json.loads((rep / "results.json").read_text())["wells"]}
    assert (w["A2"]["status"], w["A2"]["verdict"], w["A2"]["part_errors"]) == ("ok", "consistent", {})


def test_rerun_skips_unchanged_and_force_redoes(tmp_path, capsys, fake_pipeline):
    m = _bad_plate(tmp_path)
    args = [str(m), "-o", str(tmp_path / "rep"), "--workers", "2"]
    run(args, capsys)
    code, out, err = run(args, capsys)
    assert code == 0 and "(0 checked, 7 unchanged)" in out
    assert "7 wells unchanged since the last run" in err
    # change one data file (content and size) and the SMILES of another well
    (tmp_path / "data" / "VRF-2" / "fid.txt").write_text("suspicious")
    m.write_text(m.read_text().replace("C1CC(", "C1CCNCC1"))
    code, out, _ = run(args, capsys)
    assert "(2 checked, 5 unchanged)" in out
    rows = {r["well"]: r for r in csv.DictReader((tmp_path / "rep" / "results.csv").open())}
    assert rows["A2"]["verdict"] == "suspicious" and rows["A3"]["verdict"] == "consistent"
    code, out, _ = run(args + ["--force"], capsys)
    assert "(7 checked, 0 unchanged)" in out


def test_resume_after_interruption(tmp_path, capsys, fake_pipeline):
    m = _bad_plate(tmp_path)
    rep = tmp_path / "rep"
    args = [str(m), "-o", str(rep), "--workers", "2", "-q"]
    run(args, capsys)
    db = rep / "results.sqlite"
    # as if the run had stopped after 3 wells: the others never reached the store
    con = sqlite3.connect(db)
    with con:
        con.execute("DELETE FROM wells WHERE well NOT IN ('A1', 'A2', 'H12')")
    con.close()
    (rep / "index.html").unlink()
    code, out, _ = run(args, capsys)
    assert code == 0 and "(4 checked, 3 unchanged)" in out
    assert "7 wells" in out and (rep / "index.html").exists()


def test_interrupted_process_keeps_finished_wells(tmp_path):
    """Kill a real `verify plate` run mid-way; the finished wells are in the store and a re-run
    checks only the rest."""
    wells = [(f"{r}{c}", f"C{r}{c}", BENZYL, "good", "good", "") for r in "AB" for c in range(1, 7)]
    m = make_plate(tmp_path, wells)
    rep = tmp_path / "rep"
    # a slow stand-in pipeline, so that the run can be killed half-way
    script = tmp_path / "slowrun.py"
    script.write_text(
        "import sys, time\n"
        f"sys.path.insert(0, {str(ROOT / 'tests')!r})\n"
        "import verify.pipeline, fakes\n"
        "def slow(*a, **k):\n    time.sleep(0.4)\n    return fakes.fake_check_compound(*a, **k)\n"
        "verify.pipeline.check_compound = slow\n"
        "from verify.cli import main\nsys.exit(main(sys.argv[1:]))\n"
    )
    cmd = [sys.executable, str(script), "plate", str(m), "-o", str(rep), "--workers", "2"]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    db = rep / "results.sqlite"
    import time

    t0 = time.time()
    n = 0
    while time.time() - t0 < 60:
        if db.exists():
            try:
                con = sqlite3.connect(db)
                n = con.execute("SELECT count(*) FROM wells").fetchone()[0]
                con.close()
            except sqlite3.Error:
                n = 0
            if n >= 3:
                break
        time.sleep(0.05)
    p.kill()
    p.wait()
    con = sqlite3.connect(db)
    kept = con.execute("SELECT count(*) FROM wells").fetchone()[0]
    con.close()
    assert 3 <= kept < 12
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert f"({12 - kept} checked, {kept} unchanged)" in r.stdout


# ---------------------------------------------------------------------------------- finding data
def test_find_data_in_dirs_by_id_well_and_title(tmp_path, capsys, fake_pipeline):
    nmr = tmp_path / "nmr"
    # Bruker data sets: named by compound id; by well; and one found only by its title
    for name, title in (("VRF-1", "x"), ("plate7_B01", "whatever"), ("run_0003", "VRF-3 in CDCl3")):
        exp = nmr / name / "10"
        write(exp / "acqus", "##TITLE=\n")
        write(exp / "fid", "good")
        write(exp / "pdata" / "1" / "title", title)
    write(nmr / "VRF-4.jdx", "good")
    write(nmr / "VRF-6.jdf", "good")  # JEOL Delta
    write(nmr / "spinsolve" / "VRF-7" / "acqu.par", "good")  # Magritek: the folder is the data set
    write(nmr / "spinsolve" / "VRF-7" / "data.1d", "good")
    ms = tmp_path / "ms"
    for f in ("VRF-1.mzML", "B1.mzML.gz", "x_VRF-3_pos.mzXML", "dup_A4.mzML", "VRF-4.mzML"):
        write(ms / f, "good")
    m = write(
        tmp_path / "map" / "p.csv",
        "well,compound_id,smiles\nA1,VRF-1,CCN\nB1,VRF-2,CCN\nC1,VRF-3,CCN\nA4,VRF-4,CCN\nD1,VRF-9,CCN\n"
        "E1,VRF-6,CCN\nE2,VRF-7,CCN\n",
    )
    from verify.plate.cli import build_jobs

    pm = read_plate_map(m)
    jobs = {j.well: j for j in build_jobs(pm, nmr, ms, None, 5.0)}
    assert jobs["A1"].nmr == str(nmr / "VRF-1" / "10") and jobs["A1"].ms == str(ms / "VRF-1.mzML")
    assert jobs["B1"].nmr == str(nmr / "plate7_B01" / "10") and jobs["B1"].ms == str(ms / "B1.mzML.gz")
    assert jobs["C1"].nmr == str(nmr / "run_0003" / "10") and jobs["C1"].ms == str(ms / "x_VRF-3_pos.mzXML")
    assert jobs["A4"].nmr == str(nmr / "VRF-4.jdx") and jobs["A4"].ms == str(ms / "VRF-4.mzML")  # id beats well
    assert jobs["D1"].nmr is None and jobs["D1"].ms is None
    assert jobs["E1"].nmr == str(nmr / "VRF-6.jdf") and jobs["E2"].nmr == str(nmr / "spinsolve" / "VRF-7")
    assert any("found in" in n for n in jobs["A1"].notes)
    # a data set with a file missing is still this well's NMR (checking it says what is wrong),
    # not "no NMR acquired"; so is a Varian folder without procpar
    write(nmr / "VRF-9" / "10" / "fid", "corrupt")
    write(nmr / "VRF-5.fid" / "fid", "corrupt")
    write(m.parent / "q.csv", "well,compound_id,smiles\nD1,VRF-9,CCN\nD2,VRF-5,CCN\n")
    jobs2 = {j.well: j for j in build_jobs(read_plate_map(m.parent / "q.csv"), nmr, ms, None, 5.0)}
    assert jobs2["D1"].nmr == str(nmr / "VRF-9" / "10") and jobs2["D2"].nmr == str(nmr / "VRF-5.fid")
    # two equally good matches are not guessed
    write(ms / "VRF-1_rerun" / "VRF-1.mzML", "good")
    jobs = {j.well: j for j in build_jobs(pm, nmr, ms, None, 5.0)}
    assert jobs["A1"].ms is None and "several LC-MS data sets" in jobs["A1"].error
    code, out, _ = run(
        [str(m), "--nmr-dir", str(nmr), "--ms-dir", str(ms), "-o", str(tmp_path / "r"), "--workers", "1", "-q"], capsys
    )
    assert code == 0 and "A1 VRF-1: error: several LC-MS data sets" in out


def test_default_report_dir_is_cwd(tmp_path, capsys, fake_pipeline, monkeypatch):
    m = make_plate(tmp_path / "maps", [("A1", "ok", BENZYL, "good", "good", "")])
    monkeypatch.chdir(tmp_path)
    r = run([str(m), "--workers", "1", "-q"], capsys)
    assert r[0] == 0, r
    assert (tmp_path / "plate_report" / "index.html").exists()
    assert (tmp_path / "plate_report" / "results.sqlite").exists()


def test_report_title_from_the_map_name_or_title_option(tmp_path, capsys, fake_pipeline, monkeypatch):
    import re

    from verify.plate.cli import plate_title

    assert plate_title("plate") == "plate" and plate_title("Plate7_map") == "Plate7_map"
    assert plate_title("2026-12-04_A") == "Plate 2026-12-04_A"
    m = make_plate(tmp_path / "maps", [("A1", "ok", BENZYL, "good", "good", "")])  # maps/plate.csv
    monkeypatch.chdir(tmp_path)
    assert run([str(m), "--workers", "1", "-q"], capsys)[0] == 0
    html = (tmp_path / "plate_report" / "index.html").read_text()
    assert "Plate plate" not in html and re.search(r"<h1>plate</h1>", html)
    assert run([str(m), "--workers", "1", "-q", "--title", "Library QC <batch 7>", "-o", "r2"], capsys)[0] == 0
    html = (tmp_path / "r2" / "index.html").read_text()
    assert "<title>Library QC &lt;batch 7&gt;</title>" in html and "<h1>Library QC &lt;batch 7&gt;</h1>" in html


# ------------------------------------------------------------------------------ the real demo plate
_DEMO: dict = {}


def demo_plate(tmp_path_factory) -> Path:
    """The 96-well demo plate (`verify-samples plate`), generated once per test session."""
    if "plate" not in _DEMO:
        try:
            from verify.samples.cli import generate_plate
        except ImportError as exc:
            pytest.skip(f"demo plate generator not available ({exc})")
        d = tmp_path_factory.mktemp("demo_plate")
        generate_plate(d / "plate", 96, seed=0)
        _DEMO["plate"] = d / "plate"
    return _DEMO["plate"]


def demo_report(tmp_path_factory) -> tuple[Path, str]:
    """The demo plate checked once per session with the real pipeline: (report dir, summary line)."""
    if "report" not in _DEMO:
        import io
        from contextlib import redirect_stdout

        plate = demo_plate(tmp_path_factory)
        rep = plate.parent / "report"
        buf = io.StringIO()
        with redirect_stdout(buf):
            code = main(["plate", str(plate / "plate.csv"), "-o", str(rep), "-q"])
        assert code == 0, buf.getvalue()
        _DEMO["report"] = (rep, buf.getvalue())
    return _DEMO["report"]


def test_demo_plate_runs_and_reports_every_well(tmp_path_factory):
    rep, out = demo_report(tmp_path_factory)
    plate = demo_plate(tmp_path_factory)
    truth = {parse_well(r["well"]): r for r in csv.DictReader((plate / "truth.csv").open())}
    rows = {parse_well(r["well"]): r for r in csv.DictReader((rep / "results.csv").open())}
    assert len(truth) == 96 and set(rows) == set(truth)
    assert "96 wells" in out
    # a well with one corrupt / missing data file is partial: the other technique's verdict, at best
    # suspicious, and the failed part as an error with its message (worked out from the part verdicts
    # here, and truth.csv's expected_verdict must agree)
    failed = {w: [p for p in ("nmr", "ms") if t[f"{p}_verdict"] == "error"] for w, t in truth.items()}
    partial_truth = {w for w, f in failed.items() if len(f) == 1}
    assert partial_truth  # the demo plate has such wells
    expected = {}
    for w, t in truth.items():
        if w in partial_truth:
            other = t["ms_verdict"] if failed[w] == ["nmr"] else t["nmr_verdict"]
            expected[w] = "inconsistent" if other == "inconsistent" else "suspicious"
            assert t["expected_verdict"] == expected[w], (w, t)
        else:
            expected[w] = t["expected_verdict"]
    for w in partial_truth:
        r, part = rows[w], failed[w][0]
        other = "ms" if part == "nmr" else "nmr"
        assert r[f"{part}_verdict"] == "error" and r[f"{other}_verdict"] not in ("", "error"), r
        assert r["verdict"] in ("suspicious", "inconsistent") and r["part_errors"] and r["reasons"]
    errors_truth = {w for w, v in expected.items() if v == "error"}
    errors_seen = {w for w, r in rows.items() if r["verdict"] == "error"}
    assert errors_seen == errors_truth
    for w in errors_seen:
        assert rows[w]["reasons"]
    # wells with one technique missing are checked on the other
    for w, t in truth.items():
        if t["nmr_verdict"] == "not run":
            assert rows[w]["nmr_verdict"] == "" and rows[w]["ms_verdict"]
        if t["ms_verdict"] == "not run":
            assert rows[w]["ms_verdict"] == "" and rows[w]["nmr_verdict"]
    agree = sum(rows[w]["verdict"] == expected[w] for w in truth)
    print(f"demo plate: {agree}/96 verdicts agree with truth.csv")
    html = (rep / "index.html").read_text()
    for w in rows:
        assert f'href="wells/{rows[w]["well"]}.html"' in html and f'id="well-{rows[w]["well"]}"' in _page(
            rep, rows[w]["well"]
        )
    assert len(html.encode()) < 1_000_000  # the overview only: the figures live on the wells' pages


def test_demo_plate_second_run_skips_every_well(tmp_path_factory, capsys):
    rep, _ = demo_report(tmp_path_factory)
    plate = demo_plate(tmp_path_factory)
    import time

    t0 = time.monotonic()
    code, out, _ = run([str(plate / "plate.csv"), "-o", str(rep), "-q"], capsys)
    assert code == 0 and "(0 checked, 96 unchanged)" in out
    assert time.monotonic() - t0 < 20


def test_progress_bar_on_a_terminal_and_plain_lines_otherwise():
    import io

    from verify.plate.progress import Progress

    buf = io.StringIO()
    p = Progress(3, stream=buf, tty=True)
    for w in ("A1", "A2", "A3"):
        p.update({"well": w, "verdict": "consistent"})
    p.close()
    s = buf.getvalue()
    assert "\r" in s and "3/3 wells" in s and "well/s" in s and "left" in s and s.endswith("\n")
    assert "A3 consistent" in s  # the last well's verdict beside the bar
    buf = io.StringIO()
    p = Progress(2, stream=buf, tty=False, label="plate")
    p.update({"well": "A1", "compound_id": "X", "verdict": "error", "error": "bad file"})
    lines = buf.getvalue().splitlines()
    assert lines[0] == "plate: checking 2 wells"
    assert lines[1].startswith("plate: 1/2 A1 X error (bad file) [") and "\r" not in buf.getvalue()
    p.update({"well": "A2", "compound_id": "Y", "verdict": "suspicious", "part_errors": {"ms": "x.mzML: bad"}})
    assert buf.getvalue().splitlines()[2].startswith("plate: 2/2 A2 Y suspicious (partial: LC-MS unreadable) [")


def test_sdf_plate_runs_384_geometry(tmp_path, capsys, fake_pipeline):
    from rdkit import Chem

    write(tmp_path / "d" / "a.mzML", "good")
    w = Chem.SDWriter(str(tmp_path / "p.sdf"))
    for well, cid in (("A1", "VRF-1"), ("P24", "VRF-2")):
        m = Chem.MolFromSmiles(BENZYL)
        m.SetProp("_Name", cid)
        m.SetProp("well", well)
        m.SetProp("ms", "d/a.mzML")
        w.write(m)
    w.close()
    code, out, _ = run([str(tmp_path / "p.sdf"), "-o", str(tmp_path / "r"), "--workers", "1", "-q"], capsys)
    assert code == 0 and "2 wells: 2 consistent" in out
    html = (tmp_path / "r" / "index.html").read_text()
    assert 'class="plate p384"' in html and html.count('class="empty"') == 384 - 2
    data = json.loads((tmp_path / "r" / "results.json").read_text())
    assert data["plate"]["format"] == 384
    assert data["wells"][1]["result"]["target"]["name"] == "VRF-2"


def test_slow_well_times_out_and_is_retried_next_run(tmp_path, capsys, monkeypatch):
    import time

    import verify.pipeline

    def slow_for_a2(target, nmr=None, ms=None, **kw):
        if "VRF-2" in str(nmr):
            time.sleep(5)
        return fake_check_compound(target, nmr=nmr, ms=ms, **kw)

    monkeypatch.setattr(verify.pipeline, "check_compound", slow_for_a2)
    m = make_plate(tmp_path, [("A1", "VRF-1", BENZYL, "good", "good", ""), ("A2", "VRF-2", BENZYL, "good", "good", "")])
    args = [str(m), "-o", str(tmp_path / "r"), "--workers", "1", "-q", "--timeout", "0.5"]
    t0 = time.monotonic()
    code, out, _ = run(args, capsys)
    assert code == 0 and time.monotonic() - t0 < 4
    assert "A2 VRF-2: error: gave up after 0.5 s (--timeout)" in out
    code, out, _ = run(args, capsys)
    assert "(1 checked, 1 unchanged)" in out  # the timed-out well is tried again, the other reused


def test_out_of_memory_or_timeout_in_one_part_is_the_whole_wells_transient_error(tmp_path, capsys, monkeypatch):
    """No partial result from a part that ran out of memory or time: the well is an error, tried again
    next run (a retry of the other part alone would only make it worse)."""
    import time

    import verify.pipeline

    log = tmp_path / "calls.txt"  # the wells run in worker processes: a list here would see nothing

    def flaky(target, nmr=None, ms=None, **kw):
        with open(log, "a") as f:
            f.write(f"{nmr is not None},{ms is not None}\n")
        if "VRF-2" in str(nmr):
            raise MemoryError
        if "VRF-3" in str(ms):
            time.sleep(5)
        return fake_check_compound(target, nmr=nmr, ms=ms, **kw)

    monkeypatch.setattr(verify.pipeline, "check_compound", flaky)
    m = make_plate(
        tmp_path,
        [
            ("A1", "VRF-1", BENZYL, "good", "good", ""),
            ("A2", "VRF-2", BENZYL, "good", "good", ""),
            ("A3", "VRF-3", BENZYL, "good", "good", ""),
        ],
    )
    args = [str(m), "-o", str(tmp_path / "r"), "--workers", "1", "-q", "--timeout", "0.5"]
    code, out, _ = run(args, capsys)
    assert code == 0 and "3 wells: 1 consistent, 2 error" in out and "partial" not in out
    assert "A2 VRF-2: error: ran out of memory (limit 2 GB, --max-memory)" in out
    assert "A3 VRF-3: error: gave up after 0.5 s (--timeout)" in out
    assert log.read_text().split() == ["True,True"] * 3  # neither part was tried again alone
    code, out, _ = run(args, capsys)
    assert "(2 checked, 1 unchanged)" in out


def test_worker_crash_loses_only_that_well(tmp_path, capsys, monkeypatch):
    """A crash in native code kills the worker process: the pool is rebuilt, the other wells finish."""
    import verify.pipeline

    def crash_for_a3(target, nmr=None, ms=None, **kw):
        if "VRF-3" in str(nmr):
            os._exit(139)  # what a segfault in a C extension looks like from the pool
        return fake_check_compound(target, nmr=nmr, ms=ms, **kw)

    monkeypatch.setattr(verify.pipeline, "check_compound", crash_for_a3)
    m = make_plate(tmp_path, [(f"A{i}", f"VRF-{i}", BENZYL, "good", "good", "") for i in range(1, 7)])
    code, out, _ = run([str(m), "-o", str(tmp_path / "r"), "--workers", "2", "-q"], capsys)
    assert code == 0
    assert "6 wells: 5 consistent, 1 error" in out
    assert "A3 VRF-3: error: the worker process checking this well died" in out


def test_report_folder_that_cannot_be_created_exits_73(tmp_path, capsys, fake_pipeline):
    m = make_plate(tmp_path, [("A1", "ok", BENZYL, "good", "good", "")])
    (tmp_path / "afile").write_text("x")
    code, _, err = run([str(m), "-o", str(tmp_path / "afile"), "--workers", "1", "-q"], capsys)
    assert code == 73 and "report folder is a file" in err and err.count("\n") == 1
    code, _, err = run([str(m), "-o", str(tmp_path / "afile" / "sub"), "--workers", "1", "-q"], capsys)
    assert code == 73 and "cannot create report folder" in err
