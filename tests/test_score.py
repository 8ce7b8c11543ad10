"""The compound score (verify.score): bands, order inside them, quality terms, and the pipeline's use of it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from verify.score import (
    SCORE_CUTS,
    ScoreCuts,
    band_score,
    compound_score,
    ms_quality_terms,
    nmr_quality_terms,
    quality,
    verdict_for,
)

SAMPLES = Path(__file__).resolve().parents[1] / "sample_spectra"


@given(
    band=st.sampled_from(["consistent", "suspicious", "inconsistent"]),
    n=st.integers(0, 30),
    q=st.floats(-1, 2) | st.just(float("nan")) | st.just(float("inf")),
)
def test_the_verdict_cut_from_the_score_is_the_findings_band(band, n, q):
    s = band_score(band, n, q)
    assert 0.0 <= s <= 1.0
    assert verdict_for(s) == band


def test_cuts_place_the_classes():
    assert verdict_for(SCORE_CUTS.consistent) == "consistent"
    assert verdict_for(SCORE_CUTS.consistent - 1e-9) == "suspicious"
    assert verdict_for(SCORE_CUTS.inconsistent) == "suspicious"
    assert verdict_for(SCORE_CUTS.inconsistent - 1e-9) == "inconsistent"
    cuts = ScoreCuts(consistent=0.9, inconsistent=0.5)
    assert verdict_for(0.85, cuts) == "suspicious" and verdict_for(0.85) == "consistent"
    with pytest.raises(ValueError, match="unknown verdict class"):
        band_score("unchecked", 0, 1.0)


def test_more_doubt_ranks_lower_inside_its_band():
    # a clean consistent compound ranks above a marginal one; a second warning below one warning
    assert band_score("consistent", 0, 1.0) == pytest.approx(1.0)
    assert band_score("consistent", 0, 0.0) == pytest.approx(SCORE_CUTS.consistent)
    assert band_score("consistent", 0, 0.9) > band_score("consistent", 0, 0.6)
    one, two, five = (band_score("suspicious", n, 0.9) for n in (1, 2, 5))
    assert one > two > five >= SCORE_CUTS.inconsistent
    assert one < SCORE_CUTS.consistent  # the best suspicious compound is below the worst consistent one
    assert band_score("inconsistent", 1, 0.9) > band_score("inconsistent", 3, 0.9)
    assert band_score("inconsistent", 1, 1.0) < SCORE_CUTS.inconsistent


@dataclass
class _Group:
    lo: float
    hi: float
    n_h: int
    exchangeable: bool = False


@dataclass
class _Match:
    group: _Group
    found: bool
    peak_ppm: float | None
    integral: float | None


@dataclass
class _Peak:
    integral: float
    status: str


@dataclass
class _Ion:
    found: bool
    ppm_error: float | None


@dataclass
class _Line:
    area: float


@dataclass
class _Region:
    lines: tuple
    unexplained_fraction: float


@dataclass
class _Fit:
    regions: tuple = field(default_factory=tuple)


def test_nmr_terms_measure_position_integral_unexplained_and_fit():
    groups = [
        _Match(_Group(3.0, 3.4, 2), True, 3.2, 2.0),  # centre of its window, exact count: 0 and 0
        _Match(_Group(7.0, 7.4, 2), True, 7.4, 1.5),  # window edge: 1; 0.5 H off a 2H group: 0.5 / 0.75
        _Match(_Group(1.0, 2.0, 1, exchangeable=True), True, 1.5, 0.2),  # exchangeable: no integral term
        _Match(_Group(5.0, 5.2, 1), False, None, None),  # missing: the findings say so, no term
    ]
    peaks = [_Peak(2.0, "consistent"), _Peak(1.5, "consistent"), _Peak(0.5, "suspicious"), _Peak(3.0, "solvent")]
    fit = _Fit((_Region((_Line(3.0),), 0.02), _Region((_Line(1.0),), 0.10)))
    t = nmr_quality_terms(groups, peaks, fit)
    assert t["shift"] == pytest.approx((0.0 + 1.0 + 0.0) / 3)
    assert t["integral"] == pytest.approx((0.0 + 0.5 / 0.75) / 2)
    assert t["unexplained"] == pytest.approx(0.5 / 4.0)  # the solvent line is not counted
    assert t["fit"] == pytest.approx((3.0 * 0.02 + 1.0 * 0.10) / 4.0)
    assert nmr_quality_terms([], [], None) == {}


def test_ms_terms_measure_mass_error_isotopes_and_purity():
    t = ms_quality_terms(_Ion(True, -2.5), 0.8, 0.9, 5.0)
    assert t == pytest.approx({"mass_error": 0.5, "isotopes": 0.2, "purity": 0.1})
    assert ms_quality_terms(_Ion(True, 12.0), None, None, 5.0) == {"mass_error": 1.0}  # clipped
    assert ms_quality_terms(_Ion(False, None), 0.9, 1.0, 5.0) == {}  # no target ion: the findings speak
    assert ms_quality_terms(None, None, None, 5.0) == {}
    assert quality({"a": 0.2, "b": 0.4}) == pytest.approx(0.7) and quality({}) == 1.0


def test_compound_score_serialises_value_terms_and_cuts():
    s = compound_score("suspicious", 2, {"nmr.shift": 0.1, "ms.mass_error": 0.3})
    assert s.verdict == "suspicious"
    d = s.to_dict()
    assert d["quality"] == pytest.approx(0.8) and d["cuts"] == {"consistent": 0.7, "inconsistent": 0.3}
    assert d["value"] == pytest.approx(0.3 + 0.4 * 0.99 * 0.8 * 0.5, abs=1e-3)


def _check(name: str, nmr: bool = True, ms: bool = True):
    from verify.pipeline import check_compound

    d = SAMPLES / name
    return check_compound(str(d / "compound.smi"), nmr=d / "nmr" if nmr else None, ms=d / "ms.mzML" if ms else None)


def test_samples_scores_order_good_marginal_and_wrong():
    good = _check("boc_benzyl_diazepane")
    over = _check("fail_over_alkylation")
    wrong = _check("fail_wrong_compound", ms=False)
    assert good.verdict == "consistent" and good.score.value >= 0.9
    assert over.verdict == "suspicious" and 0.3 <= over.score.value < 0.7
    assert wrong.verdict == "inconsistent" and wrong.score.value < 0.3
    for r in (good, over, wrong):
        assert verdict_for(r.score.value) == r.verdict
    d = good.to_dict()
    assert d["schema"] == "verify/3" and d["score"]["value"] == pytest.approx(good.score.value, abs=1e-3)
    assert {"nmr.shift", "nmr.integral", "ms.mass_error", "ms.isotopes"} <= set(d["score"]["terms"])
    json.dumps(d, allow_nan=False)


def test_no_data_no_score():
    from verify.pipeline import check_compound

    r = check_compound("CC(C)(C)OC(=O)N1CCCNCC1")
    assert r.score is None and r.verdict == "unchecked" and r.to_dict()["score"] is None
