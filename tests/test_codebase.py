"""The tree stays clean under the configured linter and formatter (ruff, settings in pyproject.toml)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PATHS = ["src", "tests", "bench"]


def _ruff() -> str:
    exe = Path(sys.executable).with_name("ruff")
    found = str(exe) if exe.exists() else shutil.which("ruff")
    if not found:
        pytest.skip('ruff is not installed (pip install -e ".[test]" installs it)')
    return found


@pytest.mark.parametrize("command", [["check"], ["format", "--check"]], ids=["lint", "format"])
def test_tree_is_clean_under_ruff(command):
    r = subprocess.run([_ruff(), *command, *PATHS], cwd=ROOT, capture_output=True, text=True, check=False)
    assert r.returncode == 0, f"ruff {' '.join(command)} found problems:\n{r.stdout[-4000:]}{r.stderr[-2000:]}"


def test_package_declares_types_and_has_no_import_circle_through_the_cli():
    assert (ROOT / "src" / "verify" / "py.typed").is_file()
    # verify.plate.cli takes the shared argparse class from verify.errors, not from verify.cli
    text = (ROOT / "src" / "verify" / "plate" / "cli.py").read_text(encoding="utf-8")
    assert "from ..cli import" not in text and "from verify.cli import" not in text
