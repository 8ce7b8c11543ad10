"""Shared fixtures. Real instrument data lives in ../shared/realdata (never copied here).

Tests marked `realdata` skip with a reason when it is absent, unless VERIFY_REQUIRE_REALDATA=1
(set by .ci/run), in which case its absence is an error.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from fakes import fake_pipeline  # noqa: F401 - the fixture, for every test

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_spectra"

# The learned shift model's prediction cache: one per test session, never the user's (a test run must neither
# read predictions it did not make nor leave its own behind). VERIFY_TEST_CACHE_DIR keeps one between runs.
if "VERIFY_CACHE_DIR" not in os.environ:
    import tempfile

    os.environ["VERIFY_CACHE_DIR"] = os.environ.get("VERIFY_TEST_CACHE_DIR") or tempfile.mkdtemp(prefix="verify-cache-")


def _realdata_dir() -> Path:
    env = os.environ.get("VERIFY_REALDATA")
    return Path(env) if env else ROOT.parent / "shared" / "realdata"


@pytest.fixture(scope="session")
def realdata() -> Path:
    d = _realdata_dir()
    if not (d / "MANIFEST.tsv").is_file():
        if os.environ.get("VERIFY_REQUIRE_REALDATA") == "1":
            pytest.fail(f"real data required (VERIFY_REQUIRE_REALDATA=1) but {d}/MANIFEST.tsv is missing")
        pytest.skip(f"real instrument data not found at {d} (../shared/realdata absent)")
    return d


@pytest.fixture(scope="session")
def samples() -> Path:
    return SAMPLES
