"""verify as a real package: its data files are package data, and a built wheel works without the checkout.

The fast tests check where the tables are read from (`importlib.resources`, the `VERIFY_REFERENCE` override, a
missing table's one-line error). `test_wheel_installs_and_runs_without_checkout` (marker `wheel`, slow: it builds
the sdist and wheel, makes a fresh virtualenv, installs the wheel and runs the commands: about 20 s here)
proves a wheel install finds its own tables: nothing is downloaded (`python -m build --no-isolation`, `pip
install --no-index --no-deps`), the new venv borrows this venv's dependencies through a .pth file, and the
commands run from an empty folder with the checkout off `sys.path`.
"""

from __future__ import annotations

import csv
import filecmp
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from verify import reference
from verify.errors import VERDICT_EXIT, InputError

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_spectra"


def _manifest() -> dict[str, dict]:
    with open(SAMPLES / "MANIFEST.tsv", encoding="utf-8") as fh:
        return {r["sample"]: r for r in csv.DictReader((ln for ln in fh if not ln.startswith("#")), delimiter="\t")}


# ------------------------------------------------------------------------------------------ fast
def test_tables_are_read_as_package_data_and_match_reference_folder(monkeypatch):
    """Without the override the tables come from the package (importlib.resources), and they are the
    repository's reference/ files byte for byte (a stale copy or a broken link fails here)."""
    monkeypatch.delenv("VERIFY_REFERENCE", raising=False)
    from importlib import resources

    root = reference.reference_dir()
    assert str(root) == str(resources.files("verify") / "reference_tables")
    shipped = sorted(p.name for p in root.iterdir() if p.name.endswith(".tsv"))
    assert shipped == sorted(p.name for p in (ROOT / "reference").glob("*.tsv"))
    for name in shipped:
        assert (root / name).read_bytes() == (ROOT / "reference" / name).read_bytes(), name

    from verify.samples.tables import compounds_path

    monkeypatch.delenv("VERIFY_SAMPLE_SPECTRA", raising=False)
    assert compounds_path().read_bytes() == (SAMPLES / "compounds.tsv").read_bytes()


def test_reference_override_and_missing_table(tmp_path, monkeypatch):
    """VERIFY_REFERENCE points the reader at another folder; a table missing there is a one-line InputError
    naming the file, not a traceback."""
    for p in (ROOT / "reference").glob("*.tsv"):
        shutil.copy(p, tmp_path / p.name)
    text = (tmp_path / "adducts.tsv").read_text(encoding="utf-8")
    default = reference.table_version("adducts.tsv")
    assert default and f"# version: {default}" in text
    (tmp_path / "adducts.tsv").write_text(
        text.replace(f"# version: {default}", "# version: 99 (override)"), encoding="utf-8"
    )
    (tmp_path / "solvents.tsv").unlink()
    monkeypatch.setenv("VERIFY_REFERENCE", str(tmp_path))
    assert reference.table_version("adducts.tsv") == "99 (override)"
    with pytest.raises(InputError) as exc:
        reference.table_version("solvents.tsv")
    assert str(exc.value) == f"{tmp_path / 'solvents.tsv'}: reference table missing"


def test_samples_override_missing_compounds_is_one_line_error(tmp_path, monkeypatch):
    from verify.samples.tables import compounds_path

    monkeypatch.setenv("VERIFY_SAMPLE_SPECTRA", str(tmp_path))
    with pytest.raises(InputError, match="compounds.tsv"):
        compounds_path()


# ------------------------------------------------------------------------------------------ slow: the wheel
def _outer_site_dirs() -> list[str]:
    """The site-packages folders on this interpreter's path (where the dependencies are), nothing else: the
    checkout's src/ (editable install or PYTHONPATH) is left out; a venv inside the checkout (.ci/run makes
    one there) is kept."""
    return [
        p
        for p in dict.fromkeys(sys.path)
        if Path(p).name in ("site-packages", "dist-packages")
        and Path(p).is_dir()
        and not Path(p).resolve().is_relative_to((ROOT / "src").resolve())
    ]


def _clean_env(cache_dir: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "VERIFY_REFERENCE", "VERIFY_SAMPLE_SPECTRA", "PYTHONHOME", "VIRTUAL_ENV")
    }
    env["VERIFY_CACHE_DIR"] = cache_dir
    return env


@pytest.mark.wheel
def test_wheel_installs_and_runs_without_checkout(tmp_path):
    try:
        import build  # noqa: F401  (the frontend; in the test extra)
    except ModuleNotFoundError:
        pytest.fail("the `build` package is missing: pip install -e '.[test]'")

    # 1. sdist, then the wheel from the sdist (python -m build's default), offline.
    dist = tmp_path / "dist"
    r = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(dist), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    wheels = list(dist.glob("verify-*.whl"))
    assert len(wheels) == 1 and list(dist.glob("verify-*.tar.gz")), list(dist.iterdir())
    wheel = wheels[0]

    # Every module of src/verify and every data file is in the wheel, the data byte for byte.
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        modules = {p.relative_to(ROOT / "src").as_posix() for p in (ROOT / "src" / "verify").rglob("*.py")}
        assert modules and modules <= names, sorted(modules - names)
        for p in (ROOT / "reference").glob("*.tsv"):
            assert zf.read(f"verify/reference_tables/{p.name}") == p.read_bytes(), p.name
        assert zf.read("verify/samples/compounds.tsv") == (SAMPLES / "compounds.tsv").read_bytes()
        assert not any(n.startswith("sample_spectra/") or "/nmr/1/" in n for n in names)  # no demo spectra

    # 2. A fresh venv with the wheel; this venv's dependencies through a .pth (its .pth files, such as the
    # editable install's path to src/, are not processed from there, so the checkout stays off sys.path).
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=300)
    py = venv / "bin" / "python"
    site = subprocess.run(
        [str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    env = _clean_env(os.environ.get("VERIFY_CACHE_DIR") or str(tmp_path / "cache"))
    # --force-reinstall: a verify already visible to pip (src/verify.egg-info, written by the build) is no
    # reason to skip the wheel.
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(py),
            "install",
            "--no-index",
            "--no-deps",
            "--force-reinstall",
            "--quiet",
            str(wheel),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    # After the install, for the same reason (this venv's editable verify would be visible to pip).
    Path(site, "_outer_dependencies.pth").write_text("\n".join(_outer_site_dirs()) + "\n")

    work = tmp_path / "empty"
    work.mkdir()

    def run(*args, timeout=600):
        return subprocess.run(
            [str(a) for a in args], cwd=work, env=env, capture_output=True, text=True, timeout=timeout
        )

    # 3. The imported package and its tables live in the new venv, not in the checkout.
    r = run(
        py,
        "-c",
        "import json, sys, verify, verify.reference as ref, verify.samples.tables as t; "
        "print(json.dumps([verify.__file__, str(ref.reference_dir()), str(t.compounds_path()), sys.path]))",
    )
    assert r.returncode == 0, r.stderr
    mod, tables, compounds, path = json.loads(r.stdout)
    venv_real = venv.resolve()
    for f in (mod, tables, compounds):
        assert Path(f).resolve().is_relative_to(venv_real), f
        assert not Path(f).resolve().is_relative_to(ROOT.resolve()), f
    # nothing of the checkout's sources on the path (a venv inside the checkout, as .ci/run makes, may be)
    assert not any(
        p and (Path(p).resolve() == ROOT.resolve() or Path(p).resolve().is_relative_to((ROOT / "src").resolve()))
        for p in path
    ), path

    # 4. One compound: SMILES + the bundled sample FID and mzML, through the installed console script.
    manifest = _manifest()
    sample = "boc_benzyl_diazepane"
    d = SAMPLES / sample
    r = run(
        venv / "bin" / "verify",
        manifest[sample]["smiles"],
        "--nmr",
        d / "nmr",
        "--ms",
        d / "ms.mzML",
        "--format",
        "json",
    )
    assert r.stdout, r.stderr
    res = json.loads(r.stdout)
    assert res["verdict"] == manifest[sample]["expected_overall"], res["findings"]
    assert r.returncode == VERDICT_EXIT[res["verdict"]], r.stderr
    assert res["checked_by"] == ["nmr", "ms"]

    # 5. A three-well plate: a good compound, a wrong one, and a well without data (unchecked).
    plate = work / "plate"
    wells = [("A1", "boc_benzyl_diazepane"), ("A2", "fail_wrong_compound")]
    lines = ["well,compound_id,smiles,nmr,ms"]
    for well, s in wells:
        shutil.copytree(SAMPLES / s, plate / "data" / s)
        lines.append(f"{well},{s},{manifest[s]['smiles']},data/{s}/nmr,data/{s}/ms.mzML")
    lines.append("A3,no_data,C1CNCCN(C1)Cc1ccccc1,,")
    (plate / "plate.csv").write_text("\n".join(lines) + "\n")
    r = run(venv / "bin" / "verify", "plate", plate / "plate.csv", "-o", work / "report", "--workers", "2")
    assert r.returncode == 0, r.stderr[-3000:]
    with open(work / "report" / "results.csv", encoding="utf-8") as fh:
        got = {row["well"]: row["verdict"] for row in csv.DictReader(fh)}
    want = {w: manifest[s]["expected_overall"] for w, s in wells} | {"A3": "unchecked"}
    assert got == want
    assert (work / "report" / "index.html").stat().st_size > 10_000

    # 6. verify-samples regenerates a committed sample from the packaged compounds.tsv, byte for byte.
    r = run(venv / "bin" / "verify-samples", work / "regen", "--only", sample)
    assert r.returncode == 0, r.stderr[-3000:]
    assert filecmp.cmp(work / "regen" / sample / "nmr" / "1" / "fid", d / "nmr" / "1" / "fid", shallow=False)
    assert (work / "regen" / "compounds.tsv").read_bytes() == (SAMPLES / "compounds.tsv").read_bytes()
