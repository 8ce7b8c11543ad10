"""Fake results and small plates shared by the report, plate and limits tests.

The fake NMR/HRMS results follow docs/INTERFACES.md (NmrResult, MsResult) so that the presentation and
plate code are tested on their own. `fake_check_compound` stands in for verify.pipeline.check_compound
(the fixture `fake_pipeline`, registered in conftest.py, puts it in place): its data "files" hold one word
(good, missing, suspicious, absent, corrupt, crash). `make_plate` writes a plate map with such files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from verify.cli import main
from verify.expectation import build_expectation
from verify.findings import Finding, verdict_from_findings
from verify.nmr.spectrum import Spectrum1D
from verify.pipeline import CompoundResult
from verify.structure.target import read_target

BOC_BENZYL = "CC(C)(C)OC(=O)N1CCCN(Cc2ccccc2)CC1"
BENZYL = "C1CNCCN(C1)Cc1ccccc1"


@dataclass
class FakeNmr:
    verdict: str
    findings: list
    expectation: object
    spectrum: Spectrum1D
    peaks: list
    groups: list

    def to_dict(self):
        return {
            "verdict": self.verdict,
            "source": self.spectrum.source,
            "solvent": self.spectrum.solvent,
            "referencing": {"method": "TMS", "offset_ppm": 0.0},
            "processing": {"lb_hz": 0.3},
            "peaks": [
                {
                    "ppm": p.ppm,
                    "range": [p.lo, p.hi],
                    "multiplicity": p.multiplicity,
                    "j_hz": p.j_hz,
                    "integral": p.integral,
                    "status": p.status,
                    "assignment": p.assignment,
                    "note": p.note,
                }
                for p in self.peaks
            ],
            "groups": [
                {
                    "id": g.group.id,
                    "n_h": g.group.n_h,
                    "label": g.group.label,
                    "window": [g.group.lo, g.group.hi],
                    "found": g.found,
                    "peak_ppm": g.peak_ppm,
                    "integral": g.integral,
                }
                for g in self.groups
            ],
        }


@dataclass
class FakeMs:
    verdict: str
    findings: list
    expectation: object
    peaks: list
    ions: list
    rt_s: float
    isotope_score: float
    ms_purity: float
    main_ion: object
    eic: object
    apex_spectrum: tuple
    isotope_comparison: list
    source: str = ""

    def to_dict(self):
        def ion(i):
            return {
                k: getattr(i, k)
                for k in ("name", "theoretical_mz", "found", "mz", "ppm_error", "intensity", "isotope_score")
            }

        return {
            "verdict": self.verdict,
            "source": self.source,
            "rt_s": self.rt_s,
            "isotope_score": self.isotope_score,
            "ms_purity": self.ms_purity,
            "main_ion": ion(self.main_ion) if self.main_ion else None,
            "ions": [ion(i) for i in self.ions],
            "peaks": [
                {
                    k: getattr(p, k)
                    for k in ("mz", "intensity", "ppm_error", "status", "assignment", "note", "theoretical_mz", "rt_s")
                }
                for p in self.peaks
            ],
            "chromatographic_peaks": [
                {"mz": 150.1, "rt_s": 200.0, "area_share": 0.04, "status": "suspicious", "assignment": ""}
            ],
        }


def fake_nmr(target, path: str, mode: str = "good", n_points: int = 65536) -> FakeNmr:
    exp = build_expectation(target, "CDCl3")
    ppm = np.linspace(12.5, -1.5, n_points)
    y = np.random.default_rng(0).normal(0, 0.002, n_points)
    peaks, groups = [], []
    for k, g in enumerate(exp.h_groups):
        found = not (mode == "missing" and k == 0)
        if found:
            c = g.mid
            y += g.n_h * 0.002**2 / ((ppm - c) ** 2 + 0.002**2)
            peaks.append(
                SimpleNamespace(
                    ppm=c,
                    lo=c - 0.02,
                    hi=c + 0.02,
                    multiplicity=g.multiplicity or "s",
                    j_hz=[7.1] if g.multiplicity == "t" else [],
                    integral=float(g.n_h),
                    status="consistent",
                    assignment=f"{g.id} {g.label}",
                    note="",
                )
            )
        groups.append(
            SimpleNamespace(
                group=g, found=found, peak_ppm=g.mid if found else None, integral=float(g.n_h) if found else None
            )
        )
    for c, st, name, h in (
        (7.26, "solvent", "CHCl3", 0.3),
        (0.0, "solvent", "TMS", 12.0),
        (2.05, "impurity", "ethyl acetate", 0.4),
        (5.3, "suspicious", "", 0.5),
    ):
        if st == "suspicious" and mode == "good":
            continue
        y += h * 0.002**2 / ((ppm - c) ** 2 + 0.002**2)
        peaks.append(
            SimpleNamespace(
                ppm=c,
                lo=c - 0.01,
                hi=c + 0.01,
                multiplicity="s",
                j_hz=[],
                integral=h,
                status=st,
                assignment=name,
                note="",
            )
        )
    findings = []
    if mode == "missing":
        findings.append(Finding("error", "nmr.group_missing", f"expected {exp.h_groups[0].label} not found"))
    if mode == "suspicious":
        findings.append(Finding("warning", "nmr.unexplained", "unexplained singlet at 5.30 ppm"))
    spec = Spectrum1D(ppm=ppm, intensity=y, sf_mhz=400.13, solvent="CDCl3", source=path)
    return FakeNmr(verdict_from_findings(findings), findings, exp, spec, peaks, groups)


def fake_ms(exp, path: str, mode: str = "good") -> FakeMs:
    mh = exp.ion("[M+H]+") or exp.ions[0]
    rt = np.linspace(0, 300, 600)
    eic = SimpleNamespace(
        rt_s=rt,
        intensity=1e6 * np.exp(-0.5 * ((rt - 150) / 3) ** 2),
        ion=mh.name,
        apex_s=150.0,
        start_s=140.0,
        end_s=160.0,
    )
    ions, peaks = [], []
    for i in exp.ions:
        found = i.name in ("[M+H]+", "[M+Na]+") and mode != "absent"
        ions.append(
            SimpleNamespace(
                name=i.name,
                theoretical_mz=i.mz,
                found=found,
                mz=i.mz * (1 + 1.2e-6) if found else None,
                ppm_error=1.2 if found else None,
                intensity=1e6 if found else None,
                isotope_score=0.97 if found else None,
            )
        )
        if found:
            peaks.append(
                SimpleNamespace(
                    mz=i.mz * (1 + 1.2e-6),
                    intensity=1e6 if i.name == "[M+H]+" else 1e5,
                    ppm_error=1.2,
                    status="consistent",
                    assignment=i.name,
                    note="",
                    theoretical_mz=i.mz,
                    rt_s=150.0,
                )
            )
    peaks.append(
        SimpleNamespace(
            mz=391.2591,
            intensity=2e5,
            ppm_error=None,
            status="impurity",
            assignment="Boc not removed",
            note="",
            theoretical_mz=None,
            rt_s=150.0,
        )
    )
    mz = np.sort(np.r_[np.random.default_rng(1).uniform(100, 600, 300), [p.mz for p in peaks]])
    inten = np.where(np.isin(mz, [p.mz for p in peaks]), 0, np.random.default_rng(2).uniform(1e3, 3e4, len(mz)))
    for p in peaks:
        inten[np.searchsorted(mz, p.mz)] = p.intensity
    iso = [
        {"label": lab, "mz": mh.mz + k * 1.00336, "theoretical": t, "observed": t * (1.03 if k else 1.0)}
        for k, (lab, t) in enumerate((("M", 1.0), ("M+1", 0.195), ("M+2", 0.022)))
    ]
    findings = [] if mode == "good" else [Finding("error", "ms.no_ion", "no expected ion found")]
    main = next((i for i in ions if i.found), None)
    return FakeMs(
        verdict_from_findings(findings),
        findings,
        exp,
        peaks,
        ions,
        150.0,
        0.97,
        0.91,
        main,
        eic,
        (mz, inten),
        iso,
        source=path,
    )


def fake_check_compound(target, nmr=None, ms=None, solvent=None, ppm=5.0):
    """Stand-in for verify.pipeline.check_compound: the data 'files' are one word: good, missing,
    suspicious, absent, or 'corrupt' (raises InputError) or 'crash' (raises an unexpected error)."""
    from verify.errors import InputError, MissingInputError

    tgt = target if not isinstance(target, str) else read_target(target)
    nres = mres = None
    exp = build_expectation(tgt, "CDCl3")
    for path in (nmr, ms):
        if path is not None and not Path(path).exists():
            raise MissingInputError("no such file or directory", path)
    if nmr is not None:
        word = Path(nmr).read_text().strip() if Path(nmr).is_file() else "good"
        if word == "corrupt":
            raise InputError("truncated FID (expected 65536 points, found 100)", nmr)
        if word == "crash":
            raise ZeroDivisionError("division by zero")
        nres = fake_nmr(tgt, str(nmr), word, n_points=16384)
        exp = nres.expectation
    if ms is not None:
        word = Path(ms).read_text().strip()
        if word == "corrupt":
            raise InputError("not an mzML file", ms)
        mres = fake_ms(exp, str(ms), word)
    return CompoundResult(tgt, exp, nres, mres, [Finding("info", "target.salt_stripped", n) for n in tgt.notes])


@pytest.fixture
def fake_pipeline(monkeypatch):
    import verify.pipeline

    monkeypatch.setattr(verify.pipeline, "check_compound", fake_check_compound)
    return fake_check_compound


def write(p: Path, text: str) -> Path:
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)
    return p


def make_plate(tmp: Path, rows: list[tuple], header="well,compound_id,smiles,nmr,ms,chemist") -> Path:
    """rows: (well, id, smiles, nmr_word|None, ms_word|None, chemist). Data 'files' hold one word."""
    lines = [header]
    for well, cid, smi, nmr, ms, chem in rows:
        np_ = f"data/{cid}/fid.txt" if nmr else ""
        mp = f"data/{cid}.mzML" if ms else ""
        if nmr and nmr != "nofile":
            write(tmp / np_, nmr)
        if ms and ms != "nofile":
            write(tmp / mp, ms)
        lines.append(f"{well},{cid},{smi},{np_},{mp},{chem}")
    return write(tmp / "plate.csv", "\n".join(lines) + "\n")


def run(args, capsys):
    code = main(["plate", *args])
    out, err = capsys.readouterr()
    return code, out, err
