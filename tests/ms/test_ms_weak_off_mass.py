"""HRMS: a weak ion a little outside the tolerance is no evidence for a formula the sample does not hold."""

from __future__ import annotations

import pytest

pytest.importorskip("psims.mzml.writer")

from ms_runs import BACKGROUND, BENZYL_DIAZEPANE, CL_BENZYL, component, expectation, ion, pattern, write_run  # noqa: E402

from verify.ms.check import check_ms  # noqa: E402


def _run(tmp_path, target_height):
    """The sample is the chlorobenzyl compound (the run's main peak); the benzyl target's [M+H]+ appears
    only 8 ppm off (5 ppm tolerance) at `target_height`."""
    other = expectation(CL_BENZYL)
    exp = expectation(BENZYL_DIAZEPANE)
    comps = [
        component(pattern(ion(other, "[M+H]+")), rt=45.0, height=2e6),
        component(pattern(ion(exp, "[M+H]+"), 8.0), rt=80.0, height=target_height),
    ]
    return exp, write_run(tmp_path / "run.mzML", comps, BACKGROUND)


def test_weak_off_mass_ion_contradicts_the_formula(tmp_path):
    exp, path = _run(tmp_path, 1.5e4)  # under 1 % of the ion current
    res = check_ms(path, exp)
    assert res.verdict == "inconsistent", [f.message for f in res.findings]
    err = [f for f in res.findings if f.code == "ms.mass_error"]
    assert err and err[0].severity == "error" and "ion current" in err[0].message


def test_strong_off_mass_ion_stays_a_warning(tmp_path):
    exp, path = _run(tmp_path, 2e6)  # the target is half the sample: a calibration question, not absence
    res = check_ms(path, exp)
    err = [f for f in res.findings if f.code == "ms.mass_error"]
    assert err and err[0].severity == "warning"
    assert res.verdict == "suspicious"
