"""1H NMR check of one compound: raw data -> spectrum -> multiplets -> comparison -> verdict.

`check_nmr(path, target, solvent=None) -> NmrResult` (contract in docs/INTERFACES.md). The solvent is the
`solvent` argument when given, else the file's solvent, else CDCl3 (with an info finding saying so).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError, MissingInputError, VerifyError
from ..expectation import Expectation, build_expectation
from ..findings import Finding, verdict_from_findings
from ..solvents import Solvent, find_solvent
from ..structure.hgroups import HGroup
from .alternatives import alternative_findings, best_species, score_alternatives
from .fit import SpectrumFit, apply_fit, fit_multiplets
from .pattern_evidence import SpectrumTrace
from .peaks import find_multiplets
from .spectrum import Spectrum1D
from .thresholds import NMR_THRESHOLDS, NmrThresholds


@dataclass
class NmrPeak:
    """One observed multiplet as reported."""

    ppm: float  # centre (ppm)
    lo: float  # range (ppm)
    hi: float
    multiplicity: str
    j_hz: list[float]
    integral: float  # in H of the target
    status: str  # consistent | solvent | impurity | suspicious
    assignment: str = ""
    note: str = ""

    def to_dict(self) -> dict:
        return {
            "ppm": round(self.ppm, 3),
            "range": [round(self.lo, 3), round(self.hi, 3)],
            "multiplicity": self.multiplicity,
            "j_hz": [round(j, 1) for j in self.j_hz],
            "integral": round(self.integral, 2),
            "status": self.status,
            "assignment": self.assignment,
            "note": self.note,
        }


@dataclass
class GroupMatch:
    group: HGroup
    found: bool
    peak_ppm: float | None = None
    integral: float | None = None  # observed H attributed to the group
    in_window: bool = False
    note: str = ""
    # partner groups second order with this one at the run's field (delta-nu / J < 3): no first-order pattern
    strongly_coupled_with: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        g = self.group
        return {
            "id": g.id,
            "n_h": g.n_h,
            "label": g.label,
            "window": [round(g.lo, 3), round(g.hi, 3)],
            "multiplicity": g.multiplicity,
            "exchangeable": g.exchangeable,
            "found": self.found,
            "in_window": self.in_window,
            "peak_ppm": None if self.peak_ppm is None else round(self.peak_ppm, 3),
            "integral": None if self.integral is None else round(self.integral, 2),
            "note": self.note,
            "couplings": [c.to_dict() for c in g.couplings],
            "strongly_coupled_with": list(self.strongly_coupled_with),
        }


@dataclass
class NmrResult:
    verdict: str
    findings: list[Finding]
    expectation: Expectation
    spectrum: Spectrum1D
    peaks: list[NmrPeak] = field(default_factory=list)
    groups: list[GroupMatch] = field(default_factory=list)
    noise: float = 0.0
    scale: float = 0.0  # integral units per H
    observed_h: float = 0.0
    expected_h: int = 0
    impurities: list[dict] = field(default_factory=list)
    side_products: list[str] = field(default_factory=list)
    alternatives: list = field(default_factory=list)  # verify.nmr.alternatives.AlternativeFit, best first
    species: str = "free base"  # the form the spectrum was read as (verify.nmr.alternatives.best_species)
    species_smiles: str = ""
    fit: SpectrumFit | None = None  # the fitted line-shape model (verify.nmr.fit)
    # the 1,4-diazepane rings of the form the spectrum was read as (their ring CH2 windows move with protonation)
    species_rings: list = field(default_factory=list)

    def to_dict(self) -> dict:
        s = self.spectrum
        sol = self.expectation.solvent
        return {
            "verdict": self.verdict,
            "source": s.source,
            "solvent": sol.name if sol else None,
            "sf_mhz": round(float(s.sf_mhz), 3),
            "referencing": s.referencing,
            "processing": s.processing,
            "observed_h": round(self.observed_h, 2),
            "expected_h": self.expected_h,
            "peaks": [p.to_dict() for p in self.peaks],
            "groups": [g.to_dict() for g in self.groups],
            "impurities": self.impurities,
            "side_products": self.side_products,
            "findings": [f.to_dict() for f in self.findings],
            "alternatives": [a.to_dict() for a in self.alternatives],
            "species": {
                "form": self.species,
                "smiles": self.species_smiles,
                "diazepane_rings": [r.to_dict(sol.key if sol else None) for r in self.species_rings],
            },
            "fit": None if self.fit is None else self.fit.to_dict(self.scale, ppm=s.ppm),
        }


def _load(path: Path, solvent: Solvent | None) -> Spectrum1D:
    try:
        from .process import load_spectrum
    except ImportError as exc:  # processing module not installed/broken
        raise InputError(f"NMR processing unavailable ({exc})", path) from None
    try:
        return load_spectrum(path, solvent=solvent.name if solvent else None)
    except VerifyError:
        raise
    except (OSError, ValueError, KeyError, IndexError, TypeError, ZeroDivisionError) as exc:
        raise InputError(f"cannot read or process the NMR data ({type(exc).__name__}: {exc})", path) from None


def check_spectrum(
    spectrum: Spectrum1D, target, solvent: Solvent | None = None, th: NmrThresholds = NMR_THRESHOLDS
) -> NmrResult:
    """The comparison part of check_nmr on a spectrum already in memory (used by tests and benches)."""
    findings: list[Finding] = []
    solv = solvent
    file_solvent = find_solvent(spectrum.params.get("file_solvent") or "") if solvent is not None else None
    if solvent is not None and file_solvent is not None and file_solvent.key != solvent.key:
        # obeyed (the chemist may know the file is wrong), but a contradiction is never silent: in the wrong
        # solvent a compound line can be taken for residual solvent, or the residual line left unexplained
        findings.append(
            Finding(
                "warning",
                "nmr.solvent_contradicts_file",
                f"--solvent {solvent.name} was given but the acquisition file names {file_solvent.name}: "
                f"checked in {solvent.name}; solvent lines and shift windows follow that choice",
            )
        )
    if solv is None and spectrum.solvent:
        solv = find_solvent(spectrum.solvent)
        if solv is None:
            findings.append(
                Finding(
                    "info",
                    "nmr.solvent_unknown",
                    f"solvent {spectrum.solvent!r} of the file is not in reference/solvents.tsv; CDCl3 assumed",
                )
            )
    if solv is None:
        if not spectrum.solvent:
            findings.append(Finding("info", "nmr.solvent_assumed", "the data name no solvent; CDCl3 assumed"))
        solv = find_solvent("CDCl3")
    assert solv is not None  # CDCl3 is in reference/solvents.tsv
    expectation = build_expectation(target, solv)
    import numpy as np

    ppm = np.asarray(spectrum.ppm, dtype=float)
    y = np.asarray(spectrum.intensity, dtype=float)
    if ppm.size < 64 or ppm.size != y.size or not np.all(np.isfinite(y)):
        raise InputError("spectrum is empty, truncated or not finite", spectrum.source or None)
    mults, noise = find_multiplets(ppm, y, float(spectrum.sf_mhz), th)
    # integrals of overlapping signals, and a solvent line's part of the multiplet it hides in, from the
    # fitted line shapes (the region sums stand where the fit does not explain the data)
    fit = fit_multiplets(ppm, y, mults, noise, float(spectrum.sf_mhz), th)
    mults = apply_fit(mults, fit)
    if not mults:
        findings.append(Finding("error", "nmr.no_signals", "no signal above the noise in the spectrum"))
        groups = [GroupMatch(g, False) for g in expectation.h_groups]
        return NmrResult(
            "inconsistent",
            findings,
            expectation,
            spectrum,
            [],
            groups,
            noise,
            expected_h=sum(g.n_h for g in expectation.h_groups if not g.exchangeable),
        )
    # the free base or an ammonium salt form of it, whichever the spectrum shows (see best_species)
    read_as, cmp, species, species_notes = best_species(mults, expectation, float(spectrum.sf_mhz), th)
    findings += cmp.findings + species_notes
    # competing structures scored on the same multiplets (same formula ones need 1H to be told apart)
    trace = SpectrumTrace(ppm, y, noise, float(spectrum.sf_mhz))
    fits = score_alternatives(mults, cmp, read_as, float(spectrum.sf_mhz), th, trace)
    findings += alternative_findings(fits, th)
    pc = (spectrum.processing or {}).get("phase_check") or {}
    if pc.get("passed") is False:
        # the automatic phase left much negative signal area: lines carry dispersive tails, so
        # integrals and small signals near big ones are less reliable (re-phase by hand to confirm)
        findings.append(
            Finding(
                "info",
                "nmr.phase_low_confidence",
                f"automatic phasing left {100 * float(pc.get('neg_fraction', 0.0)):.0f} % of the signal area "
                "negative: integrals and small signals beside large ones are less reliable",
            )
        )
    humps = [m for m in mults if m.flag == "baseline hump"]
    if humps:
        findings.append(
            Finding(
                "info",
                "nmr.baseline_hump",
                f"{len(humps)} broad baseline hump(s) (> {th.hump_hz:.0f} Hz wide) at "
                + ", ".join(f"{m.ppm:.1f}" for m in humps)
                + " ppm ignored",
            )
        )
    peaks = []
    for p in cmp.peaks:
        keep = p.h >= th.report_min_h or p.status == "consistent"
        if p.kind == "artefact" and (p.h < th.report_min_h or p.mult.flag == "baseline hump"):
            keep = False
        if not keep:
            continue
        m = p.mult
        peaks.append(
            NmrPeak(
                ppm=m.ppm,
                lo=m.lo,
                hi=m.hi,
                multiplicity=m.multiplicity,
                j_hz=list(m.j_hz),
                integral=p.h,
                status=p.status,
                assignment=p.assignment,
                note=p.note,
            )
        )
    groups = []
    for gc in cmp.groups:
        note = ""
        if gc.found and len(gc.peaks) > 1:
            note = "spread over " + ", ".join(f"{x:.2f}" for x in gc.peaks) + " ppm"
        if not gc.found and gc.group.exchangeable:
            note = (
                f"exchanged for D in {solv.name}: no 1H signal expected"
                if solv.exchanges_labile_h
                else "exchangeable H: not required"
            )
        if gc.found and not gc.in_window:
            note = (note + "; " if note else "") + f"{gc.distance_ppm:.2f} ppm outside the window"
        groups.append(
            GroupMatch(gc.group, gc.found, gc.peak_ppm, gc.integral, gc.in_window, note, list(gc.strongly_coupled_with))
        )
    if cmp.expected_h:
        findings.append(
            Finding(
                "info",
                "nmr.h_total",
                f"target signals integrate to {cmp.observed_h:.1f} H for {cmp.expected_h} non-exchangeable H expected "
                f"(scale chosen by the best fit of all integrals to the expected groups)",
            )
        )
    verdict = verdict_from_findings(findings)
    return NmrResult(
        verdict,
        findings,
        expectation,
        spectrum,
        peaks,
        groups,
        noise,
        cmp.scale,
        cmp.observed_h,
        cmp.expected_h,
        [{"name": h.name, "mol_percent": round(h.mol_percent, 1)} for h in cmp.impurities if h.mol_percent > 0],
        cmp.side_products,
        fits,
        species,
        read_as.target.smiles,
        fit,
        list(read_as.diazepanes),
    )


def check_nmr(path, target, solvent: Solvent | None = None, th: NmrThresholds = NMR_THRESHOLDS) -> NmrResult:
    """Check a 1H dataset (Bruker/Varian folder, JCAMP-DX...) against the target structure.

    Raises MissingInputError (path absent) or InputError (unreadable, corrupt, not 1D 1H).
    """
    p = Path(path)
    if not p.exists():
        raise MissingInputError("no such file or directory", path)
    spectrum = _load(p, solvent)
    if not spectrum.source:
        spectrum.source = str(path)
    return check_spectrum(spectrum, target, solvent, th)
