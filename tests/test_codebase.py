"""The tree stays clean under the configured linter, formatter and type checker (ruff and mypy, settings in
pyproject.toml)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PATHS = ["src", "tests", "bench"]


def _tool(name: str) -> str:
    exe = Path(sys.executable).with_name(name)
    found = str(exe) if exe.exists() else shutil.which(name)
    if not found:
        pytest.skip(f'{name} is not installed (pip install -e ".[test]" installs it)')
    return found


def _ruff() -> str:
    return _tool("ruff")


@pytest.mark.parametrize("command", [["check"], ["format", "--check"]], ids=["lint", "format"])
def test_tree_is_clean_under_ruff(command):
    r = subprocess.run([_ruff(), *command, *PATHS], cwd=ROOT, capture_output=True, text=True, check=False)
    assert r.returncode == 0, f"ruff {' '.join(command)} found problems:\n{r.stdout[-4000:]}{r.stderr[-2000:]}"


def test_package_declares_types_and_has_no_import_circle_through_the_cli():
    assert (ROOT / "src" / "verify" / "py.typed").is_file()
    # verify.plate.cli takes the shared argparse class from verify.errors, not from verify.cli
    text = (ROOT / "src" / "verify" / "plate" / "cli.py").read_text(encoding="utf-8")
    assert "from ..cli import" not in text and "from verify.cli import" not in text


def test_science_packages_are_clean_under_mypy(tmp_path):
    # verify.structure, verify.nmr and verify.ms (the packages listed under [tool.mypy] in pyproject.toml)
    cmd = [_tool("mypy"), "--cache-dir", str(tmp_path / "mypy-cache")]
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    assert r.returncode == 0, f"mypy found problems:\n{r.stdout[-4000:]}{r.stderr[-2000:]}"
    assert "Success: no issues found" in r.stdout


def test_no_private_name_is_imported_from_another_module():
    # a name with a leading underscore is its module's own; another module that needs it gets a public,
    # documented function instead
    import ast

    crossing = []
    for path in sorted((ROOT / "src" / "verify").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.level > 0 or (node.module or "").startswith("verify")):
                crossing += [
                    f"{path.relative_to(ROOT)}: {node.module}.{a.name}"
                    for a in node.names
                    if a.name.startswith("_") and not a.name.startswith("__")
                ]
    assert not crossing, "private names imported across modules:\n" + "\n".join(crossing)
