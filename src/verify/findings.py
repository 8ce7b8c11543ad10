"""Evidence and verdicts: small records shared by the NMR and HRMS comparisons and the reports."""

from __future__ import annotations

from dataclasses import asdict, dataclass

VERDICTS = ("consistent", "suspicious", "inconsistent")
# A compound given without any data has an expectation but no verdict: it is "unchecked", never "consistent",
# so that a QC gate reading the verdict cannot release a compound that nobody measured.
UNCHECKED = "unchecked"
PEAK_STATUSES = ("consistent", "solvent", "impurity", "suspicious")
SEVERITIES = ("info", "warning", "error")


@dataclass(frozen=True)
class Finding:
    """One reason, in words a chemist accepts. `error` findings make a part inconsistent,
    `warning` findings make it suspicious, `info` findings change nothing."""

    severity: str
    code: str  # stable machine code, e.g. "nmr.group_missing", "ms.mass_error"
    message: str

    def to_dict(self) -> dict:
        return asdict(self)


def verdict_from_findings(findings: list[Finding]) -> str:
    sev = {f.severity for f in findings}
    if "error" in sev:
        return "inconsistent"
    if "warning" in sev:
        return "suspicious"
    return "consistent"


def worst(*verdicts: str | None) -> str:
    present = [v for v in verdicts if v]
    if not present:
        return "consistent"
    return max(present, key=VERDICTS.index)
