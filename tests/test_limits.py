"""--timeout and --max-memory stop native code too: a plate goes on past a stalled or bloated well, the single
command stops with exit 75 and one line.

The stall is real native code: RDKit's CoordGen laying out a 44-membered ring holds the GIL for minutes
(what once kept a plate with --timeout 10 running past 150 s), so SIGALRM alone cannot stop it.
"""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from fakes import BENZYL, fake_check_compound, make_plate, run

from verify.cli import main
from verify.limits import format_memory, parse_memory

MACROCYCLE = "C1" + "C" * 42 + "C1"


def _coordgen(smiles: str) -> None:
    from rdkit import Chem
    from rdkit.Chem import rdDepictor

    rdDepictor.SetPreferCoordGen(True)
    rdDepictor.Compute2DCoords(Chem.MolFromSmiles(smiles))


def _hog(limit_mb: int = 1200) -> list:
    """Native allocations (numpy) up to limit_mb; a limit below that stops it with MemoryError."""
    import numpy as np

    return [np.ones(50 * 1024 * 1024 // 8) for _ in range(limit_mb // 50)]


def test_parse_and_format_memory():
    assert parse_memory("2GB") == parse_memory("2 g") == parse_memory("2048") == 2 * 1024**3
    assert parse_memory("512MiB") == parse_memory("0.5G") == 512 * 1024**2
    assert parse_memory("0") == 0
    assert format_memory(2 * 1024**3) == "2 GB" and format_memory(300 * 1024**2) == "300 MB"
    with pytest.raises(ValueError):
        parse_memory("lots")


def test_plate_kills_a_well_stuck_in_native_code_and_goes_on(tmp_path, capsys, monkeypatch):
    import verify.pipeline

    def stall_for_macrocycle(target, nmr=None, ms=None, **kw):
        if "MAC" in str(nmr):
            _coordgen(MACROCYCLE)  # minutes in C++, deaf to SIGALRM
        return fake_check_compound(target, nmr=nmr, ms=ms, **kw)

    monkeypatch.setattr(verify.pipeline, "check_compound", stall_for_macrocycle)
    m = make_plate(
        tmp_path,
        [
            ("A1", "VRF-1", BENZYL, "good", "good", ""),
            ("A2", "MAC", BENZYL, "good", "good", ""),
            ("A3", "VRF-3", BENZYL, "good", "good", ""),
            ("A4", "VRF-4", BENZYL, "good", "good", ""),
        ],
    )
    t0 = time.monotonic()
    code, out, _ = run([str(m), "-o", str(tmp_path / "r"), "--workers", "2", "-q", "--timeout", "1"], capsys)
    assert time.monotonic() - t0 < 20
    assert code == 0 and "4 wells: 3 consistent, 1 error" in out
    assert "A2 MAC: error: gave up after 1 s (--timeout)" in out
    assert (tmp_path / "r" / "index.html").exists()


def test_plate_well_over_the_memory_limit_is_an_error_and_the_plate_goes_on(tmp_path, capsys, monkeypatch):
    import verify.pipeline

    def hog_for_a2(target, nmr=None, ms=None, **kw):
        if "HOG" in str(nmr):
            _hog()
        return fake_check_compound(target, nmr=nmr, ms=ms, **kw)

    monkeypatch.setattr(verify.pipeline, "check_compound", hog_for_a2)
    m = make_plate(
        tmp_path,
        [
            ("A1", "VRF-1", BENZYL, "good", "good", ""),
            ("A2", "HOG", BENZYL, "good", "good", ""),
            ("A3", "VRF-3", BENZYL, "good", "good", ""),
        ],
    )
    code, out, _ = run([str(m), "-o", str(tmp_path / "r"), "--workers", "2", "-q", "--max-memory", "300MB"], capsys)
    assert code == 0 and "3 wells: 2 consistent, 1 error" in out
    assert "A2 HOG: error: ran out of memory (limit 300 MB, --max-memory)" in out


def test_single_command_stops_native_code_at_the_timeout(tmp_path):
    # the real command, drawing the macrocycle with CoordGen forced (verify lays out large rings without it)
    script = tmp_path / "coordgen.py"
    script.write_text(
        "import sys\nimport verify.report.plots\nverify.report.plots.COORDGEN_MAX_RING = 10 ** 6\n"
        "from verify.cli import main\nsys.exit(main(sys.argv[1:]))\n"
    )
    t0 = time.monotonic()
    r = subprocess.run(
        [sys.executable, str(script), MACROCYCLE, "--format", "html", "-o", str(tmp_path / "x.html"), "--timeout", "5"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert time.monotonic() - t0 < 30
    assert r.returncode == 75, r.stderr
    assert r.stderr == f"verify: error: {MACROCYCLE}: gave up after 5 s (--timeout)\n"
    assert not (tmp_path / "x.html").exists()


def test_single_command_over_the_memory_limit_exits_75(capsys, monkeypatch):
    import verify.pipeline

    def hog(target, **kw):
        _hog()
        return fake_check_compound(target, **kw)

    monkeypatch.setattr(verify.pipeline, "check_compound", hog)
    code = main([BENZYL, "--max-memory", "300MB"])
    err = capsys.readouterr().err
    assert code == 75 and err == f"verify: error: {BENZYL}: ran out of memory (limit 300 MB, --max-memory)\n"


def test_bad_limits_are_usage_errors(capsys):
    assert main(["CCO", "--timeout", "-1"]) == 64
    assert main(["CCO", "--max-memory", "lots"]) == 64
    assert "--max-memory" in capsys.readouterr().err


def test_limited_child_relays_an_error_whose_context_does_not_pickle():
    # Dask distributed installs tblib's exception pickling on import: exceptions then pickle their __context__,
    # and an lxml parse error's log does not pickle. The child must still hand back the InputError itself
    # (this ran as "unexpected InputError" whenever distributed had been imported in the same process)
    pytest.importorskip("tblib")
    code = (
        "from lxml import etree\n"
        "from verify.errors import InputError\n"
        "from verify.limits import run_limited\n"
        "import tblib.pickling_support; tblib.pickling_support.install()  # as distributed does on import\n"
        "def bad():\n"
        "    try:\n"
        "        etree.fromstring(b'\\xff<x/>')\n"
        "    except etree.XMLSyntaxError:\n"
        "        raise InputError('truncated or corrupt mzML', 'run.mzML')\n"
        "try:\n"
        "    run_limited(bad, 30, None)\n"
        "except InputError as e:\n"
        "    print('InputError', e.path, e.message)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "InputError run.mzML truncated or corrupt mzML"
