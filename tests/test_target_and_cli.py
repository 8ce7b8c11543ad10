"""Targets (files, literals, salts) and the `verify` command's contract: output shape and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from verify.cli import main
from verify.errors import InputError, MissingInputError
from verify.structure.target import read_target

BOC_BENZYL = "CC(C)(C)OC(=O)N1CCCN(Cc2ccccc2)CC1"


def run_cli(args, capsys):
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_smi_file_with_name_and_comments(tmp_path):
    f = tmp_path / "c.smi"
    f.write_text("# my compound\n\n" + BOC_BENZYL + "  tert-butyl 4-benzyl-1,4-diazepane-1-carboxylate\n")
    t = read_target(str(f))
    assert t.name == "tert-butyl 4-benzyl-1,4-diazepane-1-carboxylate"
    assert t.smiles == BOC_BENZYL


def test_mol_file_name_from_title(tmp_path):
    from rdkit import Chem

    m = Chem.MolFromSmiles("C1CNCCN(C1)Cc1ccccc1")
    m.SetProp("_Name", "1-benzyl-1,4-diazepane")
    f = tmp_path / "x.mol"
    Chem.MolToMolFile(m, str(f))
    t = read_target(str(f))
    assert t.name == "1-benzyl-1,4-diazepane"
    sdf = tmp_path / "x.sdf"
    w = Chem.SDWriter(str(sdf))
    w.write(m)
    w.close()
    assert read_target(str(sdf)).name == "1-benzyl-1,4-diazepane"


@pytest.mark.parametrize(
    "salt",
    ["C1CNCCN(C1)Cc1ccccc1.Cl.Cl", "C1C[NH2+]CCN(C1)Cc1ccccc1.[Cl-]", "C1CNCCN(C1)Cc1ccccc1.OC(=O)C(F)(F)F"],
)
def test_salts_stripped_to_parent(salt):
    t = read_target(salt)
    assert t.smiles == read_target("C1CNCCN(C1)Cc1ccccc1").smiles
    assert t.notes, "stripping a salt must leave a note"


def test_bad_targets():
    with pytest.raises(InputError):
        read_target("C1CC(")
    with pytest.raises(MissingInputError):
        read_target("does/not/exist.smi")


def test_text_output_issue_example(tmp_path, capsys):
    f = tmp_path / "boc_bn.smi"
    f.write_text(BOC_BENZYL + " tert-butyl 4-benzyl-1,4-diazepane-1-carboxylate\n")
    code, out, err = run_cli([str(f)], capsys)
    assert code == 0 and err == ""
    for s in ("C17H26N2O2", "290.1994", "291.2067", "9H", "N1 Boc/carbamate, N4 benzyl"):
        assert s in out


def test_json_shape(tmp_path, capsys):
    code, out, _ = run_cli([BOC_BENZYL, "--format", "json"], capsys)
    assert code == 0
    d = json.loads(out)
    assert d["schema"] == "verify/3"
    assert set(d["target"]) >= {"name", "smiles", "formula", "monoisotopic_mass"}
    assert set(d["expected"]) >= {"ions", "h_groups"}
    # no data: an expectation, never a verdict (a QC gate must not read it as "consistent")
    assert d["verdict"] == "unchecked" and d["checked_by"] == [] and d["nmr"] is None and d["ms"] is None
    assert [f["code"] for f in d["findings"] if f["code"].startswith("check.")] == ["check.no_data"]
    assert isinstance(d["findings"], list)
    groups = d["expected"]["h_groups"]
    assert sum(g["n_h"] for g in groups) == 26
    assert [g["n_h"] for g in groups if g["label"].startswith("tert-butyl")] == [9]
    mh = next(i for i in d["expected"]["ions"] if i["name"] == "[M+H]+")
    assert mh["mz"] == pytest.approx(291.206705, abs=1e-4)


def test_output_file(tmp_path, capsys):
    out = tmp_path / "r.json"
    code, stdout, _ = run_cli([BOC_BENZYL, "--format", "json", "-o", str(out)], capsys)
    assert code == 0 and stdout == ""
    assert json.loads(out.read_text())["target"]["formula"] == "C17H26N2O2"


@pytest.mark.parametrize(
    "args,code,needle",
    [
        (["C1CC("], 65, "invalid SMILES"),
        (["missing.smi"], 66, "missing.smi"),
        ([BOC_BENZYL, "--nmr", "no/such/fid"], 66, "no/such/fid"),
        ([BOC_BENZYL, "--ms", "no/such.mzML"], 66, "no/such.mzML"),
        ([BOC_BENZYL, "--format", "xml"], 64, "format"),
        ([BOC_BENZYL, "--solvent", "unobtainium"], 64, "unknown solvent"),
        ([], 64, "TARGET"),
    ],
)
def test_exit_codes(args, code, needle, capsys):
    rc, out, err = run_cli(args, capsys)
    assert rc == code
    assert needle.lower() in err.lower()
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_unreadable_smi_file(tmp_path, capsys):
    f = tmp_path / "bad.smi"
    f.write_bytes(b"\xff\xfe\x00garbage")
    rc, _, err = run_cli([str(f)], capsys)
    assert rc == 65 and "bad.smi" in err


def test_console_script_runs_as_module():
    p = subprocess.run([sys.executable, "-m", "verify", "C1CNCCNC1"], capture_output=True, text=True)
    assert p.returncode == 0 and "C5H12N2" in p.stdout


def test_no_data_text_says_nothing_was_verified(capsys):
    code, out, _ = run_cli([BOC_BENZYL], capsys)
    assert code == 0  # the expectation printout itself succeeded (documented exit 0)
    assert "Verdict: UNCHECKED (expectation only: nothing was verified)" in out
    assert "CONSISTENT" not in out


def test_one_technique_names_what_the_verdict_rests_on(capsys):
    from pathlib import Path

    d = Path(__file__).resolve().parents[1] / "sample_spectra" / "boc_benzyl_diazepane"
    smi = (d / "compound.smi").read_text().split()[0]
    code, out, _ = run_cli([smi, "--nmr", str(d / "nmr" / "1"), "--format", "json"], capsys)
    r = json.loads(out)
    assert r["checked_by"] == ["nmr"] and r["verdict"] == "consistent" and code == 0
    codes = [f["code"] for f in r["findings"]]
    assert "check.ms_not_supplied" in codes and "check.nmr_not_supplied" not in codes
    code, out, _ = run_cli([smi, "--ms", str(d / "ms.mzML")], capsys)
    flat = " ".join(out.split())  # findings wrap at 100 columns
    assert "Verdict: CONSISTENT (checked by HRMS), score 0." in out and "verdict rests on HRMS alone" in flat


def test_text_report_fits_100_columns_verdict_first_and_verbose_adds_the_expectation(capsys):
    from pathlib import Path

    d = Path(__file__).resolve().parents[1] / "sample_spectra" / "boc_benzyl_diazepane"
    argv = [str(d / "compound.smi"), "--nmr", str(d / "nmr"), "--ms", str(d / "ms.mzML")]
    code, out, _ = run_cli(argv, capsys)
    assert code == 0 and max(len(ln) for ln in out.splitlines()) <= 100
    lines = out.splitlines()
    verdict = next(i for i, ln in enumerate(lines) if ln.startswith("Verdict: CONSISTENT"))
    assert (
        verdict
        < next(i for i, ln in enumerate(lines) if ln.startswith("1H NMR: "))
        < next(i for i, ln in enumerate(lines) if ln.startswith("HRMS: "))
    )
    assert "Expected 1H groups" not in out and "ms_purity" not in out and "isotope_score" not in out
    assert "MS purity (ion current): 100 %" in out and "retention time: 2.04 min" in out
    code, full, _ = run_cli(argv + ["--verbose"], capsys)
    assert code == 0 and max(len(ln) for ln in full.splitlines()) <= 100
    assert "Expected 1H groups" in full and "1,4-Diazepane ring" in full
    # the run is positive-mode only: no negative ions listed in what the structure predicts
    assert "[M+H]+" in full and "[M+Cl]-" not in full and "positive as in the run" in full
    # nothing checked: the expectation is the report, both polarities
    code, bare, _ = run_cli([str(d / "compound.smi")], capsys)
    assert "Expected 1H groups" in bare and "[M+Cl]-" in bare


def test_solvent_option_contradicting_the_file_is_a_warning(capsys):
    from pathlib import Path

    d = Path(__file__).resolve().parents[1] / "sample_spectra" / "methoxybenzyl_diazepane"  # acquired in DMSO-d6
    smi = (d / "compound.smi").read_text().split()[0]
    code, out, _ = run_cli([smi, "--nmr", str(d / "nmr" / "1"), "--solvent", "CDCl3", "--format", "json"], capsys)
    f = [x for x in json.loads(out)["findings"] if x["code"] == "nmr.solvent_contradicts_file"]
    assert f and f[0]["severity"] == "warning" and "CDCl3" in f[0]["message"] and "DMSO-d6" in f[0]["message"]
    assert code != 0  # a contradiction is never a clean pass
    code, out, _ = run_cli([smi, "--nmr", str(d / "nmr" / "1"), "--solvent", "dmso-d6", "--format", "json"], capsys)
    assert not [x for x in json.loads(out)["findings"] if x["code"] == "nmr.solvent_contradicts_file"]


def test_usage_errors_have_one_prefix_and_point_to_help(capsys):
    code = main(["--bogus"])
    err = capsys.readouterr().err
    assert code == 64 and err.count("verify: error:") == 1 and "verify: error: verify" not in err
    assert "--help" in err and err.count("\n") == 1


def test_help_lists_solvents_and_an_example(capsys):
    with pytest.raises(SystemExit):
        from verify.cli import build_parser

        build_parser().parse_args(["--help"])
    out = capsys.readouterr().out
    assert "examples:" in out and "DMSO-d6" in out and "CDCl3" in out and "unchecked" in out


def test_format_pdf_without_chromium_is_a_usage_error_before_the_check(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("VERIFY_CHROMIUM", str(tmp_path / "no-such-browser"))
    code, out, err = run_cli([BOC_BENZYL, "--format", "pdf", "-o", str(tmp_path / "r.pdf")], capsys)
    assert code == 64 and out == "" and not (tmp_path / "r.pdf").exists()
    assert len(err.strip().splitlines()) == 1 and "apt-get install chromium" in err and "Traceback" not in err
