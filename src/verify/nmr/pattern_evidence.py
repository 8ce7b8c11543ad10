"""Ring patterns as evidence between structures: which reading's aromatic ring reproduces the lines seen?

Two positional isomers (a 3- and a 4-chlorobenzyl, a 2- and a 3-pyridylmethyl) often give predicted shifts
within each other's error and the same integrals, so the shift misfit of `verify.nmr.alternatives` cannot
tell them apart. Their rings' spin systems differ: a para ring gives an AA'BB' pattern, a meta ring four
signals with one small meta-only coupled H. For each ring a target and a competing structure place on the
same observed multiplets, both rings are fitted exactly to those points (`verify.nmr.spin_systems`) and
compared by a likelihood with the noise unknown, penalised for the parameters each fit used (Bayesian
information criterion):

    b = 0.5 * N * ln(RSS) + 0.5 * k * ln(N)

N is the number of resolved lines in the multiplets (points between lines are not independent evidence:
counting lines keeps the term conservative), RSS the fit's residual sum of squares, k its nonlinear
parameters. The difference of b between the readings is a log-likelihood ratio, in the misfit units of
`verify.nmr.alternatives`, capped at th.pattern_max_misfit_per_h per ring H (the cost of every ring H at
the shift term's own cap, 0.5 * 9). It is used only where the two rings' spin systems differ and at least
one reading reproduces the points (th.pattern_max_unexplained): where neither does (a phase error, an
impurity under the ring) the pattern says nothing about which is right. Pure functions on arrays.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..expectation import Expectation
from .records import Comparison
from .spin_systems import RingPatternFit, RingSpinSystem, fit_ring_pattern, ring_spin_systems
from .thresholds import NMR_THRESHOLDS, NmrThresholds

__all__ = ["PatternComparison", "SpectrumTrace", "compare_ring_patterns", "ring_readings"]


@dataclass(frozen=True)
class SpectrumTrace:
    """The processed spectrum the patterns are fitted to."""

    ppm: np.ndarray
    intensity: np.ndarray
    noise: float  # rms noise (intensity units)
    sf_mhz: float


@dataclass
class RingReading:
    """One ring of one structure and the observed multiplets its H were placed on."""

    system: RingSpinSystem
    multiplets: frozenset  # keys (`_key`) of the multiplets carrying the ring's H
    placed: dict  # multiplet key -> group ids placed there (this structure's whole reading)


@dataclass
class PatternComparison:
    """The target's and a competing structure's ring fitted on the same points."""

    advantage: float  # misfit units the alternative gains (> 0: its ring explains the lines better)
    target: RingPatternFit
    alternative: RingPatternFit
    n_lines: int
    multiplets_ppm: list = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "advantage": round(self.advantage, 2),
            "multiplets_ppm": [round(x, 3) for x in self.multiplets_ppm],
            "lines": self.n_lines,
            "target_fit": self.target.to_dict(),
            "alternative_fit": self.alternative.to_dict(),
        }


def _key(mult) -> tuple[float, float]:
    return (round(float(mult.lo), 5), round(float(mult.hi), 5))


def ring_readings(cmp: Comparison, exp: Expectation) -> list[RingReading]:
    """The aromatic rings of one structure whose H sit on multiplets that carry nothing else of it.

    Parameters
    ----------
    cmp : Comparison
        The structure's comparison with the observed multiplets.
    exp : Expectation
        Its expectation (structure and 1H groups).

    Returns
    -------
    list of RingReading
        One per ring (symmetric copies once); rings whose multiplets also carry other groups of the
        structure are left out (their lines are not the ring's alone).
    """
    placed: dict = {}
    for p in cmp.peaks:
        ids = {g for g, h in p.placed.items() if h > 0}
        placed.setdefault(_key(p.mult), set()).update(ids)
    out, seen = [], set()
    for system in ring_spin_systems(exp.mol, exp.h_groups):
        ring_groups = frozenset(system.groups)
        if ring_groups in seen:
            continue
        seen.add(ring_groups)
        mults = frozenset(k for k, ids in placed.items() if ids & ring_groups)
        if mults and all(placed[k] <= ring_groups for k in mults):
            out.append(RingReading(system, mults, placed))
    return out


def compare_ring_patterns(
    target: list[RingReading],
    alternative: list[RingReading],
    mults: list,
    trace: SpectrumTrace,
    singlets_ppm: tuple[float, ...] = (),
    th: NmrThresholds = NMR_THRESHOLDS,
    cache: dict | None = None,
) -> list[PatternComparison]:
    """Fit the target's and an alternative's rings on the multiplets both place them on.

    Parameters
    ----------
    target, alternative : list of RingReading
        `ring_readings` of the two structures.
    mults : list of Multiplet
        The observed multiplets (those the comparisons were made with).
    trace : SpectrumTrace
        The spectrum.
    singlets_ppm : tuple of float, optional
        Residual-solvent singlets (ppm), fitted as free singlets where they fall in a ring's range.
    th : NmrThresholds, optional
        `pattern_max_misfit_per_h`, `pattern_max_unexplained`.
    cache : dict, optional
        Fits by (spin-system topology, points), shared across alternatives.

    Returns
    -------
    list of PatternComparison
        One per ring pair whose spin systems differ and whose multiplets hold only the ring in both
        readings; empty when none qualifies.
    """
    cache = {} if cache is None else cache
    by_key = {_key(m): m for m in mults}
    out = []
    for rt in target:
        partners = [ra for ra in alternative if ra.multiplets & rt.multiplets]
        if len(partners) != 1:
            continue
        ra = partners[0]
        if sum(1 for r in target if r.multiplets & ra.multiplets) != 1:
            continue
        if rt.system.topology == ra.system.topology or rt.system.n_h != ra.system.n_h:
            continue
        region = rt.multiplets | ra.multiplets
        ring_t, ring_a = frozenset(rt.system.groups), frozenset(ra.system.groups)
        if not all(rt.placed.get(k, set()) <= ring_t and ra.placed.get(k, set()) <= ring_a for k in region):
            continue
        chosen = [by_key[k] for k in region if k in by_key]
        if len(chosen) != len(region):
            continue
        comparison = _compare_on(rt.system, ra.system, chosen, mults, trace, singlets_ppm, th, cache)
        if comparison is not None:
            out.append(comparison)
    return out


def _compare_on(sys_t, sys_a, chosen, mults, trace, singlets_ppm, th, cache) -> PatternComparison | None:
    widths = [ln.width_hz for m in chosen for ln in m.lines if ln.width_hz > 0]
    width = float(np.median(widths)) if widths else 1.0
    pad = 2.0 * width / trace.sf_mhz
    ppm = trace.ppm
    points = np.zeros(ppm.size, dtype=bool)
    for m in chosen:
        points |= (ppm >= m.lo - pad) & (ppm <= m.hi + pad)
    ids = {id(m) for m in chosen}
    for m in mults:  # a neighbouring multiplet's lines are not the ring's
        if id(m) not in ids:
            points &= ~((ppm >= m.lo) & (ppm <= m.hi))
    inside = tuple(s for s in singlets_ppm if any(m.lo - pad <= s <= m.hi + pad for m in chosen))
    fits = []
    for system in (sys_t, sys_a):
        key = (system.topology, tuple(sorted(_key(m) for m in chosen)))
        if key not in cache:
            cache[key] = fit_ring_pattern(
                ppm, trace.intensity, trace.noise, system, points, trace.sf_mhz, inside, width_hz=width
            )
        fits.append(cache[key])
    fit_t, fit_a = fits
    if fit_t is None or fit_a is None:
        return None
    if min(fit_t.unexplained_fraction, fit_a.unexplained_fraction) > th.pattern_max_unexplained:
        return None
    n = max(2, sum(len(m.lines) for m in chosen))

    def bic(f: RingPatternFit) -> float:
        return 0.5 * n * math.log(max(f.rss, 1e-12)) + 0.5 * f.n_params * math.log(n)

    cap = th.pattern_max_misfit_per_h * sys_t.n_h
    adv = max(-cap, min(cap, bic(fit_t) - bic(fit_a)))
    return PatternComparison(adv, fit_t, fit_a, n, sorted(m.ppm for m in chosen))
