"""Property: whatever damage an input has, `verify` gives a verdict or one documented error line (issue 12, item 5).

Inputs are the seeds of bench/fuzz.py (the bundled samples, files written from them, real files copied into
tmp_path where no sample exists for a format), damaged by its mutations with Hypothesis choosing the mutation
and its positions; the run goes through `verify.cli.main` in-process. Derandomized and few examples per reader,
so the file stays well under a minute; bench/fuzz.py runs thousands of cases in subprocesses.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import tempfile
import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from verify.cli import main

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("bench_fuzz", ROOT / "bench" / "fuzz.py")
fuzz = importlib.util.module_from_spec(_spec)
sys.modules["bench_fuzz"] = fuzz  # dataclasses look their module up there
_spec.loader.exec_module(fuzz)

REAL_KINDS = {"varian", "jcamp", "jcamp-topspin", "jeol", "kea"}
# the slow kinds (a whole NMR processing or a plate per accepted example) get fewer examples
EXAMPLES = {
    "bruker": 4,
    "magritek": 4,
    "jcamp": 4,
    "jcamp-topspin": 4,
    "kea": 4,
    "varian": 6,
    "jeol": 8,
    "plate": 3,
    "mzml.gz": 4,
}


class _DrawnRng:
    """The random.Random methods the mutations use, answered by Hypothesis draws (so examples shrink)."""

    def __init__(self, data):
        self._data = data

    def randrange(self, n):
        return self._data.draw(st.integers(0, max(0, n - 1)))

    def choice(self, seq):
        return seq[self.randrange(len(seq))]

    def random(self):
        return self._data.draw(st.floats(0, 1, exclude_max=True))


@pytest.fixture(scope="module", autouse=True)
def _rules_only():
    # the learned model's per-structure prediction is not what is fuzzed, and its load costs seconds
    old = os.environ.get("VERIFY_SHIFT_MODEL")
    os.environ["VERIFY_SHIFT_MODEL"] = "rules"
    yield
    if old is None:
        os.environ.pop("VERIFY_SHIFT_MODEL", None)
    else:
        os.environ["VERIFY_SHIFT_MODEL"] = old


def _check(kind: str, data, capsys) -> None:
    seed = fuzz.build_seed(kind)
    if seed is None:
        pytest.skip(f"no seed for {kind}: real data absent")
    files, literal, what = fuzz.mutate(seed, _DrawnRng(data))
    with tempfile.TemporaryDirectory() as tmp:
        argv = fuzz.materialise(seed, Path(tmp), files, literal)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a library warning that reaches the user is a failure too
            code = main(argv)
    out = capsys.readouterr()
    cls = fuzz.classify(code, out.err, 0.0, 1 << 20, False)
    assert cls in fuzz.GOOD, f"{what}: {cls}, exit {code}: {out.err.strip()[:300]}"


def _property(kind: str, capsys) -> None:
    """Hypothesis over the mutations of `kind`'s seed, derandomized, a few examples."""

    @settings(
        derandomize=True,
        max_examples=EXAMPLES.get(kind, 8),
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.data())
    def run(data):
        _check(kind, data, capsys)

    run()


@pytest.mark.parametrize("kind", [k for k in fuzz.KINDS if k not in REAL_KINDS])
def test_damaged_sample_gives_verdict_or_one_clean_line(kind, capsys):
    _property(kind, capsys)


@pytest.mark.realdata
@pytest.mark.parametrize("kind", sorted(REAL_KINDS))
def test_damaged_real_file_gives_verdict_or_one_clean_line(kind, realdata, capsys, monkeypatch):
    monkeypatch.setattr(fuzz, "REALDATA", realdata)
    _property(kind, capsys)
