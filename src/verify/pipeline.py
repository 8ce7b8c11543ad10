"""One compound end to end: target -> expectation; data -> evidence; evidence -> verdict.

The NMR and HRMS parts are imported lazily so that `verify TARGET` without data starts fast.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import SCHEMA
from .errors import MissingInputError
from .expectation import Expectation, build_expectation
from .findings import UNCHECKED, Finding, worst
from .solvents import solvent_or_error
from .structure.target import Target, read_target


@dataclass
class CompoundResult:
    target: Target
    expectation: Expectation
    nmr: Any = None  # verify.nmr.check.NmrResult
    ms: Any = None  # verify.ms.check.MsResult
    findings: list[Finding] = field(default_factory=list)

    @property
    def checked_by(self) -> list[str]:
        """The techniques whose data were checked ("nmr", "ms"); the verdict rests on these alone."""
        return [name for name, part in (("nmr", self.nmr), ("ms", self.ms)) if part is not None]

    @property
    def score(self):
        """The compound's 0-1 score (verify.score.CompoundScore), or None when no data were given.

        Its band is the worst of the checked parts' verdicts and the compound's own findings (an error
        anywhere: inconsistent; a warning: suspicious); the quality terms of the parts place it inside."""
        if not self.checked_by:
            return None
        from .score import compound_score, ms_quality_terms, nmr_quality_terms

        parts = [p.verdict for p in (self.nmr, self.ms) if p is not None]
        own = [f for f in self.findings if f.severity != "info"]
        band = worst(*parts)
        if any(f.severity == "error" for f in own):
            band = worst(band, "inconsistent")
        elif own:
            band = worst(band, "suspicious")
        severity = {"inconsistent": "error", "suspicious": "warning"}.get(band)
        n_at_band = sum(f.severity == severity for f in self.all_findings()) if severity else 0
        terms = {}
        if self.nmr is not None:
            fit = getattr(self.nmr, "fit", None)  # None: no fitted model (a result built without one)
            terms.update({f"nmr.{k}": v for k, v in nmr_quality_terms(self.nmr.groups, self.nmr.peaks, fit).items()})
        if self.ms is not None:
            terms.update(
                {
                    f"ms.{k}": v
                    for k, v in ms_quality_terms(
                        self.ms.main_ion,
                        self.ms.isotope_score,
                        self.ms.ms_purity,
                        getattr(self.ms, "ppm_tolerance", None),
                    ).items()
                }
            )
        return compound_score(band, n_at_band, terms)

    @property
    def verdict(self) -> str:
        """consistent / suspicious / inconsistent, cut from the score (verify.score), or "unchecked" when no
        data were given: an expectation alone verifies nothing."""
        s = self.score
        return UNCHECKED if s is None else s.verdict

    def all_findings(self) -> list[Finding]:
        """The compound's own findings, then the NMR and HRMS parts', then the remedies (advice after the
        evidence it follows from)."""
        out = [f for f in self.findings if not f.code.startswith("remedy.")]
        for part in (self.nmr, self.ms):
            if part is not None:
                out.extend(part.findings)
        return out + [f for f in self.findings if f.code.startswith("remedy.")]

    def to_dict(self) -> dict:
        """The result as JSON-ready data (schema verify/3); a non-finite number (an infinite header
        value, a failed fit) is null here, so no writer and no stored record ever meets NaN/inf."""
        from .report.safe import json_safe

        e = self.expectation
        return json_safe(
            {
                "schema": SCHEMA,
                "target": {
                    "name": self.target.name,
                    "smiles": self.target.smiles,
                    "input_smiles": self.target.input_smiles,
                    "formula": e.formula,
                    "monoisotopic_mass": round(e.monoisotopic_mass, 6),
                },
                "expected": e.to_dict(),
                "verdict": self.verdict,
                "score": None if (sc := self.score) is None else sc.to_dict(),
                "checked_by": self.checked_by,
                "nmr": None if self.nmr is None else self.nmr.to_dict(),
                "ms": None if self.ms is None else self.ms.to_dict(),
                "findings": [f.to_dict() for f in self.all_findings()],
            }
        )


def check_compound(
    target: str | Target,
    nmr: str | Path | None = None,
    ms: str | Path | None = None,
    solvent: str | None = None,
    ppm: float | None = None,
) -> CompoundResult:
    """Check one compound against its NMR and/or HRMS data (either may be None).

    `solvent` overrides the NMR acquisition's solvent; without NMR it sets the solvent of the
    expected windows (CDCl3 by default). `ppm`: the HRMS tolerance (default MsThresholds.ppm, 5 ppm).
    """
    tgt = target if isinstance(target, Target) else read_target(target)
    for path in (nmr, ms):
        if path is not None and not Path(path).exists():
            raise MissingInputError("no such file or directory", path)
    solv = solvent_or_error(solvent) if solvent else None
    findings = [Finding("info", "target.salt_stripped", n) for n in tgt.notes]
    nmr_result = None
    if nmr is not None:
        from .nmr.check import check_nmr  # lazy: nmrglue/scipy cost ~1 s to import

        nmr_result = check_nmr(nmr, tgt, solvent=solv)
        expectation = nmr_result.expectation
    else:
        expectation = build_expectation(tgt, solv or "CDCl3")
    pred = expectation.shift_prediction
    if pred.get("method") != "model" and pred.get("reason"):
        # the windows are the hand-written rules: wider, so regioisomers are told apart less sharply
        findings.append(Finding("info", "structure.shift_model_unused", pred["reason"]))
    ms_result = None
    if ms is not None:
        from .ms.check import check_ms

        ms_result = check_ms(ms, expectation, ppm=ppm)
        if nmr_result is not None:
            _rule_out_by_hrms(nmr_result, ms_result)
    findings += _remedies(tgt, nmr_result, ms_result)
    findings += _not_supplied(nmr_result is not None, ms_result is not None)
    return CompoundResult(tgt, expectation, nmr_result, ms_result, findings)


def _remedies(tgt: Target, nmr_result, ms_result) -> list[Finding]:
    """The usual remedy (verify.remedies) for each side product, salt or impurity the parts name."""
    from .nmr.thresholds import NMR_THRESHOLDS
    from .remedies import remedy_findings
    from .structure.side_products import side_products

    parts = [p for p in (nmr_result, ms_result) if p is not None]
    if not parts:
        return []
    try:
        sps = side_products(tgt.mol)
    except Exception:  # noqa: BLE001 - a structure the side-product rules cannot handle names none
        sps = []
    found = [f for p in parts for f in p.findings]
    salt_read = nmr_result is not None and nmr_result.species != "free base" and not tgt.notes
    return remedy_findings(
        found,
        sps,
        nmr_result.impurities if nmr_result is not None else None,
        salt_read,
        NMR_THRESHOLDS.side_product_warn_mol_percent,
    )


def _not_supplied(has_nmr: bool, has_ms: bool) -> list[Finding]:
    """Info findings that say which technique the verdict does not rest on (nothing when both were given)."""
    if has_nmr and has_ms:
        return []
    if not has_nmr and not has_ms:
        return [
            Finding("info", "check.no_data", "expectation only: no NMR or MS data were given, so nothing was verified")
        ]
    if has_nmr:
        return [
            Finding(
                "info",
                "check.ms_not_supplied",
                "no LC-MS data were given: mass and formula are unchecked; the verdict rests on 1H NMR alone",
            )
        ]
    return [
        Finding(
            "info",
            "check.nmr_not_supplied",
            "no 1H NMR data were given: the structure's connectivity is unchecked; the verdict rests on HRMS alone",
        )
    ]


def _rule_out_by_hrms(nmr_result, ms_result) -> None:
    """A competing structure of another formula that 1H could not exclude is excluded when HRMS found the
    target's own ion (a homologue, N-CH3 for N-H, alcohol for ketone): its 1H warning goes, the NMR
    verdict is taken again from what is left, and the alternative says what ruled it out."""
    from .findings import verdict_from_findings
    from .nmr.alternatives import ALTERNATIVE_CODES, alternative_findings

    if ms_result.main_ion is None or ms_result.verdict == "inconsistent":
        return
    ruled = [a for a in nmr_result.alternatives if not a.same_formula]
    if not ruled:
        return
    for a in ruled:
        a.ruled_out_by = "HRMS"
    kept = [f for f in nmr_result.findings if f.code not in ALTERNATIVE_CODES]
    kept += alternative_findings(nmr_result.alternatives)
    nmr_result.findings[:] = kept
    nmr_result.verdict = verdict_from_findings(kept)
