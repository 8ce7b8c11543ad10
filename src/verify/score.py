"""One 0-1 score per compound, and the verdict classes cut from it.

The evidence a chemist weighs comes in two kinds, and the score keeps them apart:

* **Findings** (verify.findings): each a reasoned judgement with its own threshold (an integral 0.75 H off,
  a mass 2x outside the tolerance, an isotope pattern that contradicts the formula). Their severities set the
  score's band: any `error` puts the compound below `ScoreCuts.inconsistent`, any `warning` (without an
  error) between the cuts, none above `ScoreCuts.consistent`. Several warnings are more doubt, never proof:
  they move the score down inside the suspicious band but cannot make it inconsistent.
* **Evidence quality** (`quality_terms`): how well the data fit where nothing crossed a threshold: where each
  found 1H group sits in its window, how close its integral is to its H count, how much of the spectrum's
  non-solvent intensity is left unexplained, how much of the fitted regions the line-shape model misses, the
  mass error against the tolerance, the isotope match, the MS purity. Each term is a 0-1 "badness"; their
  mean places the compound inside its band, so that a review queue sorted by score puts the marginal
  consistent compounds next to the suspicious ones and the clean ones last.

So the verdict is the band the score falls in (`verdict_for`), and the cuts live in `ScoreCuts` (one place,
like every other threshold). The score is not a probability: it orders compounds and carries the verdict,
and the findings say why.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .findings import VERDICTS


@dataclass(frozen=True)
class ScoreCuts:
    consistent: float = 0.7  # score >= 0.7: consistent
    inconsistent: float = 0.3  # score < 0.3: inconsistent; in between: suspicious
    # each further finding at the band's own severity (a second warning, a second error) halves the compound's
    # distance above the band's floor: more doubt ranks lower, inside the same band
    repeat_factor: float = 0.5
    # a group this far outside the centre of its window (in half-widths) counts as fully "off" (badness 1)
    shift_full_halfwidths: float = 1.0
    # an integral this far off its H count (in H, or in this fraction of the count for large groups) is badness 1
    integral_full_h: float = 0.75
    integral_full_fraction: float = 0.25

    def to_dict(self) -> dict:
        return {"consistent": self.consistent, "inconsistent": self.inconsistent}


SCORE_CUTS = ScoreCuts()


def verdict_for(score: float, cuts: ScoreCuts = SCORE_CUTS) -> str:
    """The verdict class a 0-1 score falls in: consistent (>= cuts.consistent), inconsistent
    (< cuts.inconsistent) or suspicious (in between)."""
    if score >= cuts.consistent:
        return "consistent"
    if score < cuts.inconsistent:
        return "inconsistent"
    return "suspicious"


def band_score(band: str, n_at_band: int, quality: float, cuts: ScoreCuts = SCORE_CUTS) -> float:
    """The score of a compound whose findings put it in `band` (a verdict class).

    Parameters
    ----------
    band : str
        "consistent", "suspicious" or "inconsistent": the worst severity among the findings.
    n_at_band : int
        How many findings carry the band's severity (0 for consistent).
    quality : float
        Evidence quality, 0-1 (1 - mean badness of `quality_terms`).
    cuts : ScoreCuts
        The cuts; the band spans [cuts.consistent, 1], [cuts.inconsistent, cuts.consistent) or
        [0, cuts.inconsistent).

    Returns
    -------
    float
        The score, inside the band: its floor plus the band's width times quality, times
        `cuts.repeat_factor` for each finding beyond the first at the band's severity. A suspicious or
        inconsistent score stays strictly below the band's top.
    """
    if band not in VERDICTS:
        raise ValueError(f"unknown verdict class {band!r}")
    q = min(1.0, max(0.0, float(quality))) if math.isfinite(quality) else 0.0
    lo, hi = {
        "consistent": (cuts.consistent, 1.0),
        "suspicious": (cuts.inconsistent, cuts.consistent),
        "inconsistent": (0.0, cuts.inconsistent),
    }[band]
    if band == "consistent":
        return lo + (hi - lo) * q
    # the top is open: the best suspicious compound still ranks below the worst consistent one
    position = 0.99 * q * cuts.repeat_factor ** max(0, n_at_band - 1)
    return lo + (hi - lo) * position


def _clip(x: float) -> float:
    return min(1.0, max(0.0, x)) if math.isfinite(x) else 1.0


def nmr_quality_terms(groups, peaks, fit=None, cuts: ScoreCuts = SCORE_CUTS) -> dict[str, float]:
    """0-1 badness terms of a 1H comparison (verify.nmr.check.GroupMatch and NmrPeak lists, the fitted
    model): `shift` (mean squared distance of the found groups from their windows' centres, in half-widths),
    `integral` (mean integral error of the found non-exchangeable groups), `unexplained` (intensity of
    suspicious peaks over all non-solvent, non-impurity intensity), `fit` (intensity-weighted share of the
    fitted regions the model leaves unexplained). A term without data is left out."""
    terms: dict[str, float] = {}
    found = [g for g in groups if g.found and g.peak_ppm is not None]
    if found:
        off = []
        for g in found:
            half = max((g.group.hi - g.group.lo) / 2.0, 1e-6)
            mid = (g.group.hi + g.group.lo) / 2.0
            off.append(_clip((abs(g.peak_ppm - mid) / half / cuts.shift_full_halfwidths) ** 2))
        terms["shift"] = sum(off) / len(off)
    counted = [g for g in found if not g.group.exchangeable and g.integral is not None]
    if counted:
        errs = [
            _clip(abs(g.integral - g.group.n_h) / max(cuts.integral_full_h, cuts.integral_full_fraction * g.group.n_h))
            for g in counted
        ]
        terms["integral"] = sum(errs) / len(errs)
    own = [p for p in peaks if p.status in ("consistent", "suspicious") and math.isfinite(p.integral)]
    total = sum(max(p.integral, 0.0) for p in own)
    if total > 0:
        terms["unexplained"] = _clip(sum(max(p.integral, 0.0) for p in own if p.status == "suspicious") / total)
    if fit is not None:
        regions = [r for r in getattr(fit, "regions", []) if math.isfinite(r.unexplained_fraction)]
        weight = [max(sum(ln.area for ln in r.lines), 0.0) for r in regions]
        if regions and sum(weight) > 0:
            terms["fit"] = _clip(sum(w * r.unexplained_fraction for w, r in zip(weight, regions)) / sum(weight))
    return terms


def ms_quality_terms(
    main_ion, isotope_score: float | None, ms_purity: float | None, ppm_tolerance: float | None
) -> dict[str, float]:
    """0-1 badness terms of an HRMS check: `mass_error` (|error| of the main ion over the tolerance),
    `isotopes` (1 - isotope score), `purity` (1 - MS purity). A term without data is left out; a target
    ion not found leaves all three out (the findings already say so)."""
    terms: dict[str, float] = {}
    if main_ion is None or not getattr(main_ion, "found", False):
        return terms
    err = getattr(main_ion, "ppm_error", None)
    if err is not None and ppm_tolerance:
        terms["mass_error"] = _clip(abs(err) / ppm_tolerance)
    if isotope_score is not None:
        terms["isotopes"] = _clip(1.0 - isotope_score)
    if ms_purity is not None:
        terms["purity"] = _clip(1.0 - ms_purity)
    return terms


def quality(terms: dict[str, float]) -> float:
    """1 - the mean badness of the terms (1 without any term: nothing measured counts against)."""
    return 1.0 - sum(terms.values()) / len(terms) if terms else 1.0


@dataclass(frozen=True)
class CompoundScore:
    """The score, the verdict cut from it and what placed it there (JSON `score`)."""

    value: float
    verdict: str
    quality: float
    terms: dict  # "nmr.shift", "ms.mass_error", ...: 0-1 badness
    cuts: ScoreCuts = SCORE_CUTS

    def to_dict(self) -> dict:
        return {
            "value": round(self.value, 3),
            "quality": round(self.quality, 3),
            "terms": {k: round(v, 3) for k, v in self.terms.items()},
            "cuts": self.cuts.to_dict(),
        }


def compound_score(band: str, n_at_band: int, terms: dict[str, float], cuts: ScoreCuts = SCORE_CUTS) -> CompoundScore:
    """Score a compound from its findings' band (see `band_score`) and its quality terms."""
    q = quality(terms)
    value = band_score(band, n_at_band, q, cuts)
    return CompoundScore(value, verdict_for(value, cuts), q, dict(terms), cuts)


__all__ = [
    "SCORE_CUTS",
    "CompoundScore",
    "ScoreCuts",
    "band_score",
    "compound_score",
    "ms_quality_terms",
    "nmr_quality_terms",
    "quality",
    "verdict_for",
]
