"""HRMS check of one compound: mzML run + expectation -> MsResult (see docs/INTERFACES.md).

Steps: read the run (MS1 centroids per polarity) -> extracted-ion chromatogram of every expected ion
at 3x the tolerance -> the most intense one that forms a chromatographic peak (not a flat background
trace) is the main ion -> spectra combined over its peak (whole run for infusion) -> mass error
(intensity-weighted over the peak), isotope pattern, charge, saturation -> every ion of the combined
spectrum accounted for -> whole-run features for other chromatographic peaks and the MS purity ->
findings -> verdict.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..findings import Finding, verdict_from_findings
from ..structure.masses import AdductIon
from ..structure.side_products import side_products
from .accounting import AccountedIon, account_spectrum, match_known, sorted_known
from .chromatogram import (
    Chromatogram,
    ChromPeak,
    Eic,
    RunIndex,
    base_peak_chromatogram,
    combine,
    find_peaks,
    is_infusion,
)
from .features import Feature, find_features
from .ions import KnownIon, contaminant_ions, has_acidic_group, reagent_ions, side_product_ions, target_ions
from .isotopes import IsotopeFit, compare_isotopes, detect_charge, detection_limit, window_sum
from .read import Run, read_run
from .thresholds import THRESHOLDS, MsThresholds
from .tolerance import RT_MARGIN_S, in_rt_window, ppm_error, ppm_window, scans_in_rt_window

_POL = {"positive": 1, "negative": -1}
_POL_NAME = {1: "positive", -1: "negative", 0: "unknown"}


@dataclass
class MsPeak:
    mz: float
    intensity: float
    ppm_error: float | None
    status: str
    assignment: str
    note: str = ""
    theoretical_mz: float | None = None
    rt_s: float | None = None
    isotope_score: float | None = None
    relative: float | None = None

    def to_dict(self) -> dict:
        return {
            "mz": _r(self.mz, 5),
            "intensity": _r(self.intensity, 1),
            "ppm_error": _r(self.ppm_error, 2),
            "status": self.status,
            "assignment": self.assignment,
            "note": self.note,
            "theoretical_mz": _r(self.theoretical_mz, 5),
            "rt_s": _r(self.rt_s, 2),
            "isotope_score": _r(self.isotope_score, 3),
            "relative": _r(self.relative, 4),
        }


@dataclass
class IonMatch:
    name: str
    theoretical_mz: float
    found: bool
    mz: float | None = None
    ppm_error: float | None = None
    intensity: float | None = None
    isotope_score: float | None = None
    polarity: str = "positive"
    note: str = ""

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "theoretical_mz": _r(self.theoretical_mz, 5),
            "found": self.found,
            "mz": _r(self.mz, 5),
            "ppm_error": _r(self.ppm_error, 2),
            "intensity": _r(self.intensity, 1),
            "isotope_score": _r(self.isotope_score, 3),
            "polarity": self.polarity,
            "note": self.note,
        }


@dataclass
class MsResult:
    verdict: str
    findings: list[Finding]
    expectation: object
    source: str = ""
    peaks: list[MsPeak] = field(default_factory=list)
    ions: list[IonMatch] = field(default_factory=list)
    rt_s: float | None = None
    isotope_score: float | None = None
    ms_purity: float | None = None
    main_ion: IonMatch | None = None
    eic: Eic | None = None
    apex_spectrum: tuple | None = None
    isotope_comparison: list[dict] = field(default_factory=list)
    chromatographic_peaks: list[dict] = field(default_factory=list)
    run_info: dict = field(default_factory=dict)
    ppm_tolerance: float | None = None  # the mass tolerance the run was checked with (ppm)
    # for the report's figures only (not in to_dict: the stored JSON stays small)
    chromatogram: Chromatogram | None = None  # base-peak chromatogram of the polarity checked
    spectrum_rt_s: float | None = None  # RT of `apex_spectrum` when it is not the target's (target absent)
    spectrum_of: str = ""  # what `apex_spectrum` is, when it is not the target's: "main peak m/z 280.1621"

    def to_dict(self) -> dict:
        return {
            "verdict": self.verdict,
            "source": self.source,
            "rt_s": _r(self.rt_s, 2),
            "isotope_score": _r(self.isotope_score, 3),
            "ms_purity": _r(self.ms_purity, 3),
            "main_ion": self.main_ion.to_dict() if self.main_ion else None,
            "ions": [i.to_dict() for i in self.ions],
            "peaks": [p.to_dict() for p in self.peaks],
            "chromatographic_peaks": self.chromatographic_peaks,
            "isotope_comparison": self.isotope_comparison,
            "eic": None
            if self.eic is None
            else {
                "ion": self.eic.ion,
                "apex_s": _r(self.eic.apex_s, 2),
                "start_s": _r(self.eic.start_s, 2),
                "end_s": _r(self.eic.end_s, 2),
                "fwhm_s": _r(self.eic.fwhm_s, 2),
                "area": _r(self.eic.area, 1),
            },
            "run": self.run_info,
        }


def _min(rt_s: float) -> str:
    """A retention time for people: minutes with two decimals, as LC-MS software shows it (the data and
    the JSON keep seconds, in fields named `_s`)."""
    return f"{rt_s / 60:.2f} min"


def _r(v, nd):
    if v is None:
        return None
    v = float(v)
    if not np.isfinite(v):
        return None
    return round(v, nd)


@dataclass
class _Candidate:
    ion: AdductIon
    pol: int
    eic: Eic
    peak: ChromPeak | None  # None for an infusion
    infusion: bool
    height: float


class _PolarityData:
    def __init__(self, run: Run, pol: int):
        self.pol = pol
        self.run = run.select(pol if pol else None)
        self.idx = RunIndex(self.run)
        self._bg_cache: dict = {}


@dataclass
class MsCheckState:
    """What the steps of check_ms hand on to each other, filled in step by step.

    The main ion's polarity data (`pd`), its EIC (`eic`), the scans combined over its peak (`scans`) and
    their combined spectrum (`spec_mz`, `spec_int`) are set once the main ion is chosen, its isotope fit
    (`fit`) and match (`main_match`) once it is measured: fields without a default (init=False) do not
    exist before the step that sets them, so a step run out of order fails at once. The other fields
    start empty and are filled by the step that names them."""

    # the inputs
    path: str | Path
    expectation: Any
    tol: float  # the mass tolerance, ppm
    th: MsThresholds
    extra: list[KnownIon]  # ions of the reagents the chemist named
    run: Run
    pols_in_run: list[int]
    pdata: dict[int, _PolarityData]
    run_info: dict
    findings: list[Finding] = field(default_factory=list)
    # 1. the expected ions in the run
    boc_delta: float | None = None  # mass of a Boc group when "Boc not removed" is a side product
    candidates: list[_Candidate] = field(default_factory=list)
    fragment_only: list = field(default_factory=list)  # (ion, peak) seen only under a taller Boc precursor
    ions_out: list[IonMatch] = field(default_factory=list)
    # 2. the main ion, its peak and combined spectrum
    main: _Candidate = field(init=False)
    pd: _PolarityData = field(init=False)
    eic: Eic = field(init=False)
    scans: np.ndarray = field(init=False)
    spec_mz: np.ndarray = field(init=False)
    spec_int: np.ndarray = field(init=False)
    detection_limit: float = 0.0
    apex_s: float = 0.0  # the main peak's apex, start and end (retention time, s)
    start_s: float = 0.0
    end_s: float = 0.0
    # 3. its measurement
    obs_mz: float = 0.0
    err_ppm: float = 0.0
    main_intensity: float = 0.0  # summed within tolerance in the combined spectrum
    fit: IsotopeFit = field(init=False)
    run_max: float = 0.0
    apex_intensity: float = 0.0
    saturated: bool = False
    main_match: IonMatch = field(init=False)
    off_mass: Finding | None = None  # the warning when the main ion is a little outside the tolerance
    # 4. what else is in the spectrum and in the run
    sat_found: dict = field(default_factory=dict)  # index in the spectrum -> saturated target ion
    accounted: list[AccountedIon] = field(default_factory=list)
    peaks: list[MsPeak] = field(default_factory=list)
    side_products_seen: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> (text, severity)
    unexplained: list[AccountedIon] = field(default_factory=list)  # co-eluting unexplained ions
    features: list[Feature] = field(default_factory=list)
    purity: float | None = None
    other_unexplained: list[Feature] = field(default_factory=list)

    @property
    def mol(self):
        return self.expectation.mol

    def pdata_for(self, pol: int) -> _PolarityData | None:
        """The scans of polarity `pol` (those of unknown polarity when the run does not say)."""
        if pol in self.pdata:
            return self.pdata[pol]
        return self.pdata.get(0)

    def in_target_peak(self, rt_s: float, pad_s: float = RT_MARGIN_S) -> bool:
        """Whether a retention time (s) lies within the main ion's chromatographic peak (+- pad_s)."""
        return in_rt_window(rt_s, self.start_s, self.end_s, pad_s)

    def name_side_product(self, name: str, text: str, warn: bool) -> None:
        """A named side product: a warning from 10 % (of the target ion when it co-elutes, of the ion
        current as its own peak), below that info; judged on the whole percent the finding prints, so that
        "10 %" never reads as below the cut. The strongest evidence for each name is kept."""
        sev = "warning" if warn else "info"
        seen = self.side_products_seen
        if name not in seen or (sev == "warning" and seen[name][1] == "info"):
            seen[name] = (text, sev)


def check_ms(
    path: str | Path,
    expectation,
    ppm: float | None = None,
    th: MsThresholds = THRESHOLDS,
    reagents: list[tuple[str, str]] | None = None,
) -> MsResult:
    """Check an mzML run against the expectation built from the intended structure.

    Parameters
    ----------
    path : str or Path
        The LC-MS run (mzML, mzML.gz or mzXML).
    expectation : verify.expectation.Expectation
        The target's formula, ions and isotope patterns.
    ppm : float, optional
        Mass tolerance, ppm; default `th.ppm` (5 ppm).
    th : MsThresholds, optional
        Default verify.ms.thresholds.THRESHOLDS (the same parameter name as the NMR comparison's).
    reagents : list of (name, SMILES or formula), optional
        Starting materials and reagents the chemist used; their ions are named impurities like the
        chemistry's own side products.

    Returns
    -------
    MsResult
        The verdict, findings, ions, peaks and what the report's figures need.
    """
    st = _open_run(path, expectation, ppm, th, reagents)
    find_expected_ions(st)
    if not st.candidates:
        return _target_absent(st)
    for step in (
        combine_main_peak,
        measure_main_ion,
        judge_mass,
        judge_isotopes,
        match_other_ions,
        account_coeluting_ions,
        find_other_components,
        report_components,
    ):
        step(st)
    return _result(st)


def _open_run(path, expectation, ppm: float | None, th: MsThresholds, reagents) -> MsCheckState:
    tol = float(th.ppm if ppm is None else ppm)
    run = read_run(path)
    pols_in_run = sorted(p for p in run.polarities if p != 0) or [0]
    st = MsCheckState(
        path=path,
        expectation=expectation,
        tol=tol,
        th=th,
        extra=reagent_ions(reagents),
        run=run,
        pols_in_run=pols_in_run,
        pdata={p: _PolarityData(run, p) for p in pols_in_run},
        run_info={
            "scans_ms1": run.n_scans,
            "spectra": run.n_spectra,
            "ms2": len(run.ms2),
            "spectrum_mode": run.spectrum_mode,
            "rt_unit_in_file": run.rt_unit,
            "polarities": [_POL_NAME[p] for p in pols_in_run],
            "rt_range_s": [_r(run.rt_s[0], 2), _r(run.rt_s[-1], 2)],
            "ppm": tol,
        },
    )
    if run.spectrum_mode != "centroid":
        st.findings.append(
            Finding(
                "info",
                "ms.profile_centroided",
                f"MS1 data are {run.spectrum_mode} in the file; centroided here (local maxima, Gaussian apex fit).",
            )
        )
    return st


def find_expected_ions(st: MsCheckState) -> None:
    """Each expected ion's EIC at 3x the tolerance: a candidate when it forms a chromatographic peak (or a
    flat infusion trace) that is not the in-source Boc loss of a taller Boc-protected compound."""
    th, tol = st.th, st.tol
    st.boc_delta = next((sp.delta_mass for sp in side_products(st.mol) if sp.kind == "boc_not_removed"), None)
    for ion in st.expectation.ions:
        pol = _POL[ion.polarity]
        pd = st.pdata_for(pol)
        if pd is None:
            continue
        e = pd.idx.eic(ion.mz, tol * th.search_factor, ion.name)
        if not np.any(e.intensity > 0):
            continue
        if pd.run.n_scans >= 1 and is_infusion(e, th.infusion_presence, th.infusion_flatness):
            st.candidates.append(_Candidate(ion, pol, e, None, True, float(np.median(e.intensity[e.intensity > 0]))))
            continue
        peaks = find_peaks(e.rt_s, e.intensity, min_scans=th.min_scans, edge=th.peak_edge_fraction)
        if not peaks:
            continue
        own = [p for p in peaks if not _is_boc_fragment(pd, ion, p, st.boc_delta, tol, th)]
        if own:
            st.candidates.append(_Candidate(ion, pol, e, own[0], False, own[0].height))
        else:
            st.fragment_only.append((ion, peaks[0]))


def _target_absent(st: MsCheckState) -> MsResult:
    """No expected ion forms a peak: say so (and why, where the run tells), and describe what the run holds."""
    th, tol, expectation = st.th, st.tol, st.expectation
    for ion in expectation.ions:
        note = "" if st.pdata_for(_POL[ion.polarity]) else f"no {ion.polarity} scans in the run"
        st.ions_out.append(IonMatch(ion.name, ion.mz, False, polarity=ion.polarity, note=note))
    st.findings += _polarity_findings(st.pols_in_run, expectation, has_acidic_group(st.mol), found=False)
    if st.fragment_only:
        ion0, p0 = st.fragment_only[0]
        st.findings.append(
            Finding(
                "error",
                "ms.no_expected_ion",
                f"{ion0.name} m/z {ion0.mz:.4f} appears only at {_min(p0.apex_s)} under a "
                f">= {th.fragment_ratio:g}x taller Boc-protected ion (m/z "
                f"{ion0.mz + st.boc_delta / abs(ion0.charge):.4f}, Boc not removed): it is that compound's "
                "in-source loss of Boc (-100.0524), not the target. The target itself is not detected.",
            )
        )
    elif not any(f.code == "ms.wrong_polarity" for f in st.findings):
        best = sorted(expectation.ions, key=lambda i: i.priority)
        names = ", ".join(f"{i.name} {i.mz:.4f}" for i in best if st.pdata_for(_POL[i.polarity]))[:200]
        st.findings.append(
            Finding(
                "error",
                "ms.no_expected_ion",
                f"none of the expected ions ({names}) forms a chromatographic peak within "
                f"{tol * th.search_factor:g} ppm in the run: the compound is not detected.",
            )
        )
    features = []
    feat_pd: dict[int, _PolarityData] = {}
    for pd in st.pdata.values():
        fs = _label_features(find_features(pd.idx, tol, th), st.mol, tol, th, None, extra=st.extra)
        features += fs
        feat_pd.update((id(f), pd) for f in fs)
    top = [f for f in features if not f.background and f.isotope_of is None]
    # the figures show what the run does hold: its BPC and the spectrum of its largest peak
    spectrum, spec_rt, spec_of = None, None, ""
    bpc_pd = st.pdata[st.pols_in_run[0]]
    if top:
        t = max(top, key=lambda f: f.share)
        hint = _unknown_hint(feat_pd[id(t)], t, features, expectation, tol, th, st.extra)
        st.findings.append(
            Finding(
                "info",
                "ms.main_component",
                f"the run's largest chromatographic peak is m/z {t.mz:.4f} at {_min(t.rt_s)} "
                f"({t.share * 100:.0f}% of the ion current; {t.assignment or 'unexplained'}"
                + (f"; {hint}" if hint else "")
                + ").",
            )
        )
        bpc_pd = feat_pd[id(t)]
        win = scans_in_rt_window(bpc_pd.run.rt_s, t.start_s, t.end_s)
        if len(win):
            spectrum, spec_rt, spec_of = combine(bpc_pd.run, win, tol), t.rt_s, f"main peak m/z {t.mz:.4f}"
    return MsResult(
        verdict_from_findings(st.findings),
        st.findings,
        expectation,
        str(st.path),
        ions=st.ions_out,
        chromatographic_peaks=_chrom_dicts(features, th),
        peaks=_feature_peaks(features, th),
        run_info=st.run_info,
        apex_spectrum=spectrum,
        spectrum_rt_s=spec_rt,
        spectrum_of=spec_of,
        chromatogram=base_peak_chromatogram(bpc_pd.run, _POL_NAME[bpc_pd.pol]),
        ppm_tolerance=tol,
    )


def combine_main_peak(st: MsCheckState) -> None:
    """The main ion (the tallest candidate, see _choose_main) and its spectra combined over its peak: the
    scans above th.combine_fraction of the apex (the whole run for an infusion)."""
    main = st.main = _choose_main(st.candidates)
    pd = st.pdata_for(main.pol)
    assert pd is not None  # candidates come from polarities the run has
    st.pd = pd
    prun = pd.run
    e = st.eic = main.eic
    if main.infusion:
        scans = np.arange(prun.n_scans)
        e.apex_s, e.start_s, e.end_s = (
            float(prun.rt_s[int(np.argmax(e.intensity))]),
            float(prun.rt_s[0]),
            float(prun.rt_s[-1]),
        )
        st.findings.append(
            Finding("info", "ms.infusion", "flat ion current: treated as an infusion run, all scans combined.")
        )
    else:
        p = main.peak
        assert p is not None  # a peak for every candidate but an infusion
        seg = np.arange(p.start_i, p.end_i + 1)
        scans = seg[e.intensity[seg] >= st.th.combine_fraction * p.height]
        if len(scans) == 0:
            scans = np.array([p.apex_i])
        e.apex_s, e.start_s, e.end_s, e.fwhm_s, e.area = p.apex_s, p.start_s, p.end_s, p.fwhm_s, p.area
    st.scans = scans
    st.apex_s, st.start_s, st.end_s = float(e.apex_s), float(e.start_s), float(e.end_s)
    st.spec_mz, st.spec_int = combine(prun, scans, st.tol)
    st.detection_limit = detection_limit(st.spec_int)


def measure_main_ion(st: MsCheckState) -> None:
    """Mass (intensity-weighted over the peak), intensity, isotope pattern and saturation of the main ion."""
    th, tol, pd, scans, ion = st.th, st.tol, st.pd, st.scans, st.main.ion
    e = st.eic
    w = e.intensity[scans]
    m = e.mz_obs[scans]
    ok = w > 0
    st.obs_mz = obs_mz = float((m[ok] * w[ok]).sum() / w[ok].sum())
    st.err_ppm = ppm_error(obs_mz, ion.mz)
    spectrum = (st.spec_mz, st.spec_int)
    st.main_intensity, _ = window_sum(st.spec_mz, st.spec_int, obs_mz, ppm_window(obs_mz, tol) + 1e-4)
    fit = compare_isotopes(pd.idx, scans, ion.isotopes, ion.charge, obs_mz, tol, th, spectrum=spectrum)
    st.run_max = float(pd.run.intensity.max()) if len(pd.run.intensity) else 0.0
    st.apex_intensity = float(e.intensity.max())
    st.run_info["run_max_intensity"] = _r(st.run_max, 1)
    st.saturated = _is_saturated(st.apex_intensity, fit, st.run_max, th)
    if st.saturated:
        fit = compare_isotopes(
            pd.idx, scans, ion.isotopes, ion.charge, obs_mz, tol, th, saturated=True, spectrum=spectrum
        )
    st.fit = fit
    st.main_match = IonMatch(ion.name, ion.mz, True, obs_mz, st.err_ppm, st.main_intensity, fit.score, ion.polarity)


def judge_mass(st: MsCheckState) -> None:
    """The main ion's mass error: within tolerance; saturated and within the saturated-ion tolerance;
    up to th.suspicious_factor x the tolerance (a warning); beyond (the mass contradicts the formula)."""
    th, tol, ion, fit = st.th, st.tol, st.main.ion, st.fit
    obs_mz, err = st.obs_mz, st.err_ppm
    aerr = abs(err)
    if aerr <= tol:
        pass
    elif st.saturated and aerr <= th.saturation_factor * tol:
        st.main_match.note = "saturated"
        st.findings.append(
            Finding(
                "info",
                "ms.saturation",
                f"{ion.name} at m/z {obs_mz:.4f} is {err:+.1f} ppm off but saturated (apex {st.apex_intensity:.3g}, "
                f"M+1 at {(fit.m1_ratio or 0.0) * 100:.0f}% of the expected): mass judged with a "
                f"{th.saturation_factor * tol:g} ppm tolerance; the weaker ions below carry the accurate mass.",
            )
        )
    elif aerr <= th.suspicious_factor * tol:
        st.off_mass = Finding(
            "warning",
            "ms.mass_error",
            f"{ion.name} found at m/z {obs_mz:.4f}, {err:+.1f} ppm from {ion.mz:.4f} "
            f"(tolerance {tol:g} ppm): outside tolerance.",
        )
        st.findings.append(st.off_mass)
    else:
        st.findings.append(
            Finding(
                "error",
                "ms.mass_error",
                f"{ion.name} found only at m/z {obs_mz:.4f}, {err:+.1f} ppm from {ion.mz:.4f}: more than "
                f"{th.suspicious_factor * tol:g} ppm off, the mass contradicts the formula {st.expectation.formula}.",
            )
        )
    if st.saturated and aerr <= tol:
        st.findings.append(
            Finding(
                "info",
                "ms.saturation",
                f"{ion.name} is very intense (apex {st.apex_intensity:.3g}) with M+1 at {(fit.m1_ratio or 0.0) * 100:.0f}% "
                "of the expected: detector saturation; M+1 not scored.",
            )
        )


def judge_isotopes(st: MsCheckState) -> None:
    """The main ion's isotope pattern against the formula, and its charge from the isotope spacing."""
    th, ion, fit, formula = st.th, st.main.ion, st.fit, st.expectation.formula
    if fit.score is None:
        st.findings.append(
            Finding(
                "info",
                "ms.isotope_unchecked",
                f"{ion.name} too weak for its isotopes to be judged (M intensity {st.main_intensity:.3g}).",
            )
        )
    elif fit.decisive and fit.score < th.isotope_good:
        st.findings.append(
            Finding(
                "error",
                "ms.isotope_mismatch",
                f"isotope pattern of {ion.name} contradicts {formula}: "
                + "; ".join(fit.decisive)
                + f" (score {fit.score:.2f}).",
            )
        )
    elif fit.score < th.isotope_good:
        st.findings.append(
            Finding(
                "warning",
                "ms.isotope_mismatch",
                f"isotope pattern of {ion.name} only weakly matches {formula} (score {fit.score:.2f}): "
                + _iso_text(fit.comparison),
            )
        )
    if fit.charge and fit.charge != abs(ion.charge):
        st.findings.append(
            Finding(
                "warning",
                "ms.charge_state",
                f"isotope spacing at m/z {st.obs_mz:.4f} says charge {fit.charge}, {ion.name} has charge "
                f"{abs(ion.charge)}.",
            )
        )


def _match_other_ion(st: MsCheckState, other, combined: dict) -> IonMatch:
    """One more expected ion in the spectrum combined over the main peak (of its own polarity)."""
    th, tol = st.th, st.tol
    opol = _POL[other.polarity]
    opd = st.pdata_for(opol)
    if opd is None:
        return IonMatch(
            other.name, other.mz, False, polarity=other.polarity, note=f"no {other.polarity} scans in the run"
        )
    if opol not in combined:
        osc = scans_in_rt_window(opd.run.rt_s, st.start_s, st.end_s)
        if len(osc) == 0:
            osc = np.array([int(np.argmin(np.abs(opd.run.rt_s - st.apex_s)))])
        omz, oint = combine(opd.run, osc, tol)
        combined[opol] = (omz, oint, detection_limit(oint), opd, osc)
    omz, oint, odl = combined[opol][:3]
    osd, oscans = (st.pd, st.scans) if opol == st.main.pol else combined[opol][3:]
    tol_search = ppm_window(other.mz, tol * th.search_factor)
    a, b = np.searchsorted(omz, other.mz - tol_search), np.searchsorted(omz, other.mz + tol_search, "right")
    if not (b > a and oint[a:b].max() >= 3 * odl):
        return IonMatch(other.name, other.mz, False, polarity=other.polarity)
    k = a + int(np.argmax(oint[a:b]))
    oerr = ppm_error(float(omz[k]), other.mz)
    ofit = compare_isotopes(osd.idx, oscans, other.isotopes, other.charge, float(omz[k]), tol, th)
    note = "" if abs(oerr) <= tol else f"{oerr:+.1f} ppm, outside tolerance"
    if tol < abs(oerr) <= th.saturation_factor * tol:
        oapex = float(osd.idx.eic(float(omz[k]), tol).intensity[oscans].max(initial=0.0))
        if _is_saturated(oapex, ofit, st.run_max, th):
            note = _saturated_note(oerr, tol, th)
    return IonMatch(other.name, other.mz, True, float(omz[k]), oerr, float(oint[k]), ofit.score, other.polarity, note)


def match_other_ions(st: MsCheckState) -> None:
    """Every expected ion in the order of the expectation: the main one as measured, the others looked up
    in the spectra combined over the main peak; then what the polarities say."""
    combined = {st.main.pol: (st.spec_mz, st.spec_int, st.detection_limit, st.pd, st.scans)}
    for other in st.expectation.ions:
        if other is st.main.ion:
            st.ions_out.append(st.main_match)
        else:
            st.ions_out.append(_match_other_ion(st, other, combined))
    st.findings += _polarity_findings(st.pols_in_run, st.expectation, has_acidic_group(st.mol), found=True)


def _target_ions_in_spectrum(st: MsCheckState, known: list[KnownIon]) -> dict[int, AccountedIon]:
    """The target's own ions in the combined spectrum, by index: the main ion, the other expected ions of
    its polarity, and target ions outside the tolerance that are saturated like the main ion."""
    spec_mz, spec_int, ion = st.spec_mz, st.spec_int, st.main.ion
    idx_main = int(np.argmin(np.abs(spec_mz - st.obs_mz)))
    tgt_iso = {k.assignment: k.isotopes for k in known if k.status == "consistent"}
    pre = {
        idx_main: AccountedIon(
            float(spec_mz[idx_main]),
            float(spec_int[idx_main]),
            "consistent",
            f"target {ion.name}",
            "saturated" if st.saturated else "",
            ion.mz,
            st.err_ppm,
            abs(ion.charge),
            isotopes=tgt_iso.get(f"target {ion.name}", ion.isotopes),
        )
    }
    for im in st.ions_out:
        if im.found and im.mz is not None and _POL.get(im.polarity) == st.main.pol and im is not st.main_match:
            j = int(np.argmin(np.abs(spec_mz - im.mz)))
            pre.setdefault(
                j,
                AccountedIon(
                    float(spec_mz[j]),
                    float(spec_int[j]),
                    "consistent",
                    f"target {im.name}",
                    im.note,
                    im.theoretical_mz,
                    im.ppm_error,
                    None,
                    isotopes=tgt_iso.get(f"target {im.name}", ()),
                ),
            )
    # target ions outside the tolerance but within the saturated-ion tolerance (in-source fragments,
    # adducts): matched when they are saturated themselves, like the main ion (the TOF detector shifts
    # every ion it saturates, not only the most intense one)
    st.sat_found = _saturated_target_ions(
        known, spec_mz, spec_int, st.main_intensity, st.pd, st.scans, st.run_max, st.tol, st.th, pre, st.detection_limit
    )
    for j, a in st.sat_found.items():
        pre.setdefault(j, a)
    return pre


def _is_background(st: MsCheckState, mz_value: float) -> bool:
    """A solvent/background ion: present through most of the run and not enriched in the target's peak."""
    th, pd, scans = st.th, st.pd, st.scans
    if st.main.infusion or pd.run.n_scans < 10:
        return False
    key = round(mz_value, 4)
    if key not in pd._bg_cache:
        ee = pd.idx.eic(mz_value, 2 * st.tol)  # centroid scatter of weak/low-m/z ions exceeds tol at times
        y = ee.intensity
        on = y > 0
        inpk = float(y[scans].mean()) if len(scans) else 0.0
        med = float(np.median(y[on])) if on.any() else 0.0
        pd._bg_cache[key] = bool(on.mean() >= th.background_presence and inpk <= th.background_flatness * med)
    return pd._bg_cache[key]


def account_coeluting_ions(st: MsCheckState) -> None:
    """Every ion of the combined spectrum accounted for (verify.ms.accounting): target, side product,
    reagent, contaminant, background or unexplained; the named impurities among them kept."""
    th, main = st.th, st.main
    known = target_ions(st.mol) + side_product_ions(st.mol) + st.extra + list(contaminant_ions())
    known = [k for k in known if k.polarity == main.pol or main.pol == 0]
    pre = _target_ions_in_spectrum(st, known)
    st.accounted = account_spectrum(
        st.spec_mz,
        st.spec_int,
        st.main_intensity,
        known,
        st.tol,
        th,
        lambda mz_value: _is_background(st, mz_value),
        pre,
        st.detection_limit,
    )
    rt_apex = st.apex_s
    main_name = f"target {main.ion.name}"
    for a in st.accounted:
        iso = st.fit.score if a.assignment == main_name else None
        st.peaks.append(
            MsPeak(
                a.mz,
                a.intensity,
                a.ppm_error,
                a.status,
                a.assignment,
                a.note,
                a.theoretical_mz,
                rt_apex,
                iso,
                a.relative,
            )
        )
    st.unexplained = [
        a
        for a in st.accounted
        if a.assignment == "unexplained" and a.relative >= th.unexplained_rel and "split centroid" not in a.note
    ]
    for a in st.accounted:
        if a.status == "impurity" and "isotope" not in a.assignment:
            st.name_side_product(
                a.assignment.rsplit(" [", 1)[0],
                f"{a.assignment} at m/z {a.mz:.4f} ({a.ppm_error:+.1f} ppm), "
                f"{a.relative * 100:.0f}% of the target ion, co-eluting at {_min(rt_apex)}",
                round(a.relative * 100) >= th.unexplained_rel * 100,
            )


def _ms_purity(st: MsCheckState) -> float | None:
    """The target's share of the ion current: of the accounted ions for an infusion, else of the areas of
    the run's chromatographic peaks (background and isotope traces left out)."""
    if st.main.infusion:
        tgt = sum(a.intensity for a in st.accounted if a.status == "consistent")
        rest = sum(a.intensity for a in st.accounted if a.status in ("suspicious", "impurity"))
        return tgt / (tgt + rest) if tgt + rest > 0 else None
    main_f = [f for f in st.features if f.isotope_of is None and not f.background]
    tot = sum(f.total_area for f in main_f)
    tgt = sum(f.total_area for f in main_f if f.status == "consistent")
    if tgt == 0 and st.main.peak is not None:
        tgt = st.main.peak.area
        tot += tgt
    return tgt / tot if tot > 0 else None


def find_other_components(st: MsCheckState) -> None:
    """The run's other chromatographic peaks (verify.ms.features), the MS purity, and what they change:
    an off-mass main ion with a trace of the ion current is no evidence; named and unexplained peaks."""
    th, tol = st.th, st.tol
    found_list = [
        (im.mz, im.name, im.theoretical_mz, im.ppm_error)
        for im in st.ions_out
        if im.found and im.mz is not None and _POL.get(im.polarity) == st.main.pol
    ]
    found_list += [
        (a.mz, a.assignment.removeprefix("target "), a.theoretical_mz, a.ppm_error) for a in st.sat_found.values()
    ]
    st.features = _label_features(
        find_features(st.pd.idx, tol, th), st.mol, tol, th, (st.start_s, st.end_s), found_list, extra=st.extra
    )
    st.purity = purity = _ms_purity(st)
    if st.off_mass is not None and purity is not None and purity < th.other_peak_share:
        # off-mass AND a trace of the ion current: a coincidental ion near the target's m/z, not evidence for it
        st.findings[st.findings.index(st.off_mass)] = Finding(
            "error",
            "ms.mass_error",
            f"{st.off_mass.message[:-1]}, and it carries only {purity * 100:.1f}% of the ion current: a weak ion "
            f"outside the tolerance is no evidence for the formula {st.expectation.formula}.",
        )
    for f in st.features:
        if f.background or f.isotope_of is not None or f.share < th.other_peak_share:
            continue
        if f.status == "impurity":
            st.name_side_product(
                f.assignment.rsplit(" [", 1)[0],
                f"{f.assignment} at m/z {f.mz:.4f} ({f.ppm_error:+.1f} ppm), RT {_min(f.rt_s)}, "
                f"{f.share * 100:.0f}% of the ion current",
                round(f.share * 100) >= th.other_peak_warn_share * 100,
            )
        elif f.status == "suspicious" and f.share >= th.other_peak_warn_share:
            if st.in_target_peak(f.rt_s) and any(
                abs(a.mz - f.mz) <= ppm_window(f.mz, tol * th.search_factor) for a in st.unexplained
            ):
                continue  # co-elutes with the target: already an ms.unexplained_ion, not another peak
            st.other_unexplained.append(f)


def report_components(st: MsCheckState) -> None:
    """Findings for the named side products, the unexplained co-eluting ions and the other peaks."""
    for text, sev in st.side_products_seen.values():
        st.findings.append(Finding(sev, "ms.side_product", f"named impurity: {text}."))
    if st.unexplained:
        lst = ", ".join(f"m/z {a.mz:.4f} ({a.relative * 100:.0f}%)" for a in st.unexplained[:6])
        st.findings.append(
            Finding(
                "warning",
                "ms.unexplained_ion",
                f"{len(st.unexplained)} unexplained ion(s) co-elute with the target at {_min(st.apex_s)}: {lst}.",
            )
        )
    if st.other_unexplained:
        lst = ", ".join(
            f"m/z {f.mz:.4f} at {_min(f.rt_s)} ({f.share * 100:.0f}%"
            + ("" if f.assignment == "unexplained" else f", {f.assignment}")
            + ")"
            for f in st.other_unexplained[:6]
        )
        st.findings.append(
            Finding(
                "warning",
                "ms.other_component",
                f"other chromatographic peak(s) carry a real share of the ion current: {lst}.",
            )
        )


def _result(st: MsCheckState) -> MsResult:
    e, ion, fit, purity = st.eic, st.main.ion, st.fit, st.purity
    st.run_info["ms2_of_main_ion"] = sum(
        1
        for s in st.run.ms2
        if s.precursor_mz and abs(s.precursor_mz - st.obs_mz) < 0.02 and st.in_target_peak(s.rt_s, 5)
    )
    st.run_info["combined_scans"] = int(len(st.scans))
    st.run_info["infusion"] = bool(st.main.infusion)
    st.run_info["saturated"] = st.saturated
    if st.ions_out and st.main_match not in st.ions_out:
        st.ions_out.append(st.main_match)
    st.peaks += _feature_peaks(st.features, st.th, exclude_rt=(st.start_s, st.end_s))
    st.findings.insert(
        0,
        Finding(
            "info",
            "ms.found",
            f"{ion.name} m/z {st.obs_mz:.4f} ({st.err_ppm:+.1f} ppm) at {_min(st.apex_s)}"
            + (f", isotope score {fit.score:.2f}" if fit.score is not None else "")
            + (f", MS purity {purity * 100:.0f}%" if purity is not None else "")
            + ".",
        ),
    )
    return MsResult(
        verdict=verdict_from_findings(st.findings),
        findings=st.findings,
        expectation=st.expectation,
        source=str(st.path),
        peaks=st.peaks,
        ions=st.ions_out,
        rt_s=st.apex_s,
        isotope_score=fit.score,
        ms_purity=purity,
        main_ion=st.main_match,
        eic=e,
        apex_spectrum=(st.spec_mz, st.spec_int),
        isotope_comparison=fit.comparison,
        chromatographic_peaks=_chrom_dicts(st.features, st.th),
        run_info=st.run_info,
        chromatogram=base_peak_chromatogram(st.pd.run, _POL_NAME[st.main.pol]),
        ppm_tolerance=st.tol,
    )


def _is_boc_fragment(pd, ion, peak, boc_delta, tol: float, th: MsThresholds) -> bool:
    """Is this EIC peak of a target ion the in-source Boc loss of a co-eluting, much taller Boc-protected
    compound (target + C5H8O2, same adduct)?"""
    if boc_delta is None or ion.name.startswith("[2M"):
        return False
    prec = pd.idx.eic(ion.mz + boc_delta / abs(ion.charge), tol)
    lo, hi = max(peak.apex_i - 1, 0), peak.apex_i + 2
    return bool(prec.intensity[lo:hi].max(initial=0.0) >= th.fragment_ratio * peak.height)


def _is_saturated(apex: float, fit: IsotopeFit, run_max: float, th: MsThresholds) -> bool:
    """TOF detector saturation of one ion: intense (apex >= 1e5 counts and >= 5 % of the run's most
    intense centroid) with its M+1 suppressed below 80 % of the expected."""
    intense = apex >= max(th.saturation_min_intensity, th.saturation_min_fraction * run_max)
    return bool(intense and fit.m1_ratio is not None and fit.m1_ratio < th.saturation_m1_ratio)


def _saturated_note(err: float, tol: float, th: MsThresholds) -> str:
    return f"saturated: {err:+.1f} ppm, judged with a {th.saturation_factor * tol:g} ppm tolerance"


def _saturated_target_ions(
    known: list[KnownIon],
    spec_mz: np.ndarray,
    spec_int: np.ndarray,
    i_m: float,
    pd,
    scans: np.ndarray,
    run_max: float,
    tol: float,
    th: MsThresholds,
    pre: dict,
    dl: float,
) -> dict[int, AccountedIon]:
    """Target ions (in-source fragments, adducts) found in the combined spectrum between the tolerance and
    the saturated-ion tolerance, and saturated themselves (intense, M+1 suppressed): index -> AccountedIon."""
    out: dict[int, AccountedIon] = {}
    floor = max(th.account_rel * i_m, 3 * dl)
    taken = set(pre)
    for k in known:
        if k.status != "consistent" or not k.isotopes or "isotope" in k.assignment:
            continue
        half = ppm_window(k.mz, th.saturation_factor * tol)
        a, b = np.searchsorted(spec_mz, k.mz - half), np.searchsorted(spec_mz, k.mz + half, "right")
        if b <= a:
            continue
        j = a + int(np.argmax(spec_int[a:b]))
        if j in taken or j in out or spec_int[j] < floor:
            continue
        err = ppm_error(float(spec_mz[j]), k.mz)
        if abs(err) <= tol:
            continue  # within tolerance: the ordinary accounting names it
        ofit = compare_isotopes(pd.idx, scans, k.isotopes, k.charge, float(spec_mz[j]), tol, th)
        apex = float(pd.idx.eic(float(spec_mz[j]), tol).intensity[scans].max(initial=0.0))
        if not _is_saturated(apex, ofit, run_max, th):
            continue
        out[int(j)] = AccountedIon(
            float(spec_mz[j]),
            float(spec_int[j]),
            "consistent",
            k.assignment,
            "; ".join(x for x in (k.note, _saturated_note(err, tol, th)) if x),
            k.mz,
            err,
            abs(k.charge),
            isotopes=k.isotopes,
        )
    return out


# M+2 and M+4 relative to M for halogen counts (37Cl/35Cl 0.3198, 81Br/79Br 0.9728, binomial)
_HALOGENS = (
    ("one Cl", 0.320, 0.0),
    ("two Cl", 0.640, 0.102),
    ("three Cl", 0.959, 0.307),
    ("one Br", 0.973, 0.0),
    ("one Br and one Cl", 1.293, 0.311),
    ("two Br", 1.946, 0.946),
)
_CL_BR_M2 = 1.9975  # 37Cl - 35Cl 1.99705, 81Br - 79Br 1.99795


def _halogen_text(m2: float, m4: float | None) -> str:
    """Name the Cl/Br count whose M+2 (and M+4) fits the observed ratios; '' when none does."""

    def fits(obs, exp, extra=0.0):
        return abs(obs - exp) <= 0.04 + extra + 0.15 * exp

    if m2 < 0.15:
        return "no Cl or Br"
    for name, e2, e4 in _HALOGENS:
        # the M+2 of a C10-C30 compound carries 1-5 % from 13C2/18O on top of the halogen's
        if fits(m2, e2, 0.04) and (m4 is None or fits(m4, e4, 0.04)):
            if name in ("three Cl", "one Br") and m4 is None:
                return "one Br or three Cl"
            return name
    return ""


def _unknown_hint(
    pd, f: Feature, features: list[Feature], expectation, tol: float, th: MsThresholds, extra: list[KnownIon]
) -> str:
    """What a chemist wants to know about the run's main unknown peak when the target is absent: its
    charge, Cl/Br from the M+2 (and M+4) ratio, its neutral mass and difference from the target, a
    co-eluting [M+Na]+/[M+2H]2+ of the same neutral, and the nearest side product or reagent ion."""
    from pyteomics import mass as pmass

    from ..structure.masses import ELECTRON_MASS

    proton = pmass.nist_mass["H"][1][0] - ELECTRON_MASS
    sodium = pmass.nist_mass["Na"][23][0] - ELECTRON_MASS
    run = pd.run
    parts: list[str] = []
    e = pd.idx.eic(f.mz, tol)
    win = scans_in_rt_window(run.rt_s, f.start_s, f.end_s)
    if len(win) == 0:
        return ""
    scans = win[e.intensity[win] >= th.combine_fraction * e.intensity[win].max()]
    smz, sint = combine(run, scans, tol)
    dl = detection_limit(sint)
    i_m, _ = window_sum(smz, sint, f.mz, ppm_window(f.mz, tol) + 1e-4)
    if i_m <= 0:
        return ""
    z = detect_charge(smz, sint, f.mz, i_m, tol)
    sign = "+" if pd.pol >= 0 else "-"
    if z:
        parts.append(f"charge {z}{sign}")
    zz = z or 1
    # halogens: M+2 (and M+4) at the Cl/Br spacing, judged only when a 15 % M+2 would be detectable
    if 0.15 * i_m >= 3 * dl:
        half = th.isotope_window_da / zz + ppm_window(f.mz, tol)
        m2 = window_sum(smz, sint, f.mz + _CL_BR_M2 / zz, half)[0] / i_m
        m4 = window_sum(smz, sint, f.mz + 2 * _CL_BR_M2 / zz, half)[0] / i_m if 0.1 * i_m >= 3 * dl else None
        hal = _halogen_text(m2, m4)
        parts.append(f"M+2 at {m2 * 100:.0f}% of M" + (f": {hal}" if hal else ""))
    # neutral mass, if the ion is [M+zH]z+ / [M-zH]z- (the usual ions of an amine / acid)
    if pd.pol >= 0:
        neutral = f.mz * zz - zz * proton
        how = "[M+H]+" if zz == 1 else f"[M+{zz}H]{zz}+"
    else:
        neutral = f.mz * zz + zz * proton
        how = "[M-H]-" if zz == 1 else f"[M-{zz}H]{zz}-"
    delta = neutral - expectation.monoisotopic_mass
    parts.append(f"neutral mass {neutral:.4f} if {how}, {delta:+.4f} Da from the target")
    # the same neutral's other ions co-eluting
    for name, mz_other in (("[M+Na]+", neutral + sodium), ("[M+2H]2+", (neutral + 2 * proton) / 2)):
        if pd.pol < 0 or (name == "[M+2H]2+" and zz == 2) or (name == "[M+Na]+" and zz != 1):
            continue
        if any(
            g is not f
            and not g.background
            and abs(g.mz - mz_other) <= ppm_window(mz_other, tol)
            and in_rt_window(g.rt_s, f.start_s, f.end_s)
            for g in features
        ):
            parts.append(f"its {name} m/z {mz_other:.4f} co-elutes")
    # nearest named side product / reagent ion, also a little outside the tolerance (unknown calibration)
    if f.assignment in ("", "unexplained"):
        named = [
            k
            for k in side_product_ions(expectation.mol) + list(extra) + list(contaminant_ions())
            if k.status == "impurity" and (k.charge > 0) == (pd.pol >= 0)
        ]
        wide = tol * th.search_factor
        near = [(abs(ppm_error(f.mz, k.mz)), k) for k in named if abs(f.mz - k.mz) <= ppm_window(k.mz, wide)]
        if near:
            d, k = min(near, key=lambda x: x[0])
            parts.append(f"{ppm_error(f.mz, k.mz):+.1f} ppm from {k.assignment}, outside the {tol:g} ppm tolerance")
    return "; ".join(parts)


def _choose_main(cands: list[_Candidate]) -> _Candidate:
    """The expected ions' peaks are grouped by retention time; the group with the most ion current
    (summed over its co-eluting adducts) is the compound, and its most intense ion the main ion. A lone
    adduct-like ion of another compound at another RT thus cannot outvote co-eluting [M+H]+/[M+Na]+."""

    def together(a: _Candidate, b: _Candidate) -> bool:
        if a.infusion or b.infusion:
            return a.infusion and b.infusion
        assert a.peak is not None and b.peak is not None  # only an infusion has no peak
        if a.pol != b.pol:
            return abs(a.peak.apex_s - b.peak.apex_s) <= max(a.peak.fwhm_s, 3.0)
        return b.peak.start_s <= a.peak.apex_s <= b.peak.end_s or a.peak.start_s <= b.peak.apex_s <= a.peak.end_s

    best = max(cands, key=lambda c: (sum(o.height for o in cands if together(c, o)), c.height))
    group = [o for o in cands if together(best, o) and o.pol == best.pol]
    return max(group, key=lambda c: c.height)


def _iso_text(comparison: list[dict]) -> str:
    parts = []
    for c in comparison[1:]:
        if c["observed"] is not None:
            parts.append(f"{c['label']} {c['observed'] * 100:.1f}% (expected {c['theoretical'] * 100:.1f}%)")
    return "; ".join(parts) + "."


def _polarity_findings(pols: list[int], expectation, acidic: bool, found: bool) -> list[Finding]:
    if pols == [-1] and not acidic:
        if found:
            return []
        return [
            Finding(
                "error",
                "ms.wrong_polarity",
                f"the run has negative-ion scans only, but {expectation.target.name or expectation.formula} has no acidic "
                f"group ({expectation.n_basic_nitrogens} basic nitrogen(s)): it ionises in positive mode "
                "([M+H]+). Nothing in this run can confirm or refute it; record ESI+.",
            )
        ]
    if pols == [1] and not found and acidic and expectation.n_basic_nitrogens == 0:
        return [
            Finding(
                "warning",
                "ms.wrong_polarity",
                "the run has positive-ion scans only and this acid has no basic nitrogen: ESI- may be needed.",
            )
        ]
    return []


def _label_features(
    features: list[Feature],
    mol,
    tol: float,
    th: MsThresholds,
    target_window,
    target_found: list | None = None,
    extra: list | None = None,
) -> list[Feature]:
    known = target_ions(mol) + side_product_ions(mol) + list(extra or []) + list(contaminant_ions())
    ks, kmz = sorted_known(known)
    for f in sorted(features, key=lambda f: f.isotope_of is not None):
        if f.background:
            continue
        if f.isotope_of is not None:
            f.status = f.isotope_of.status
            f.assignment = f"isotope of m/z {f.isotope_of.mz:.4f}"
            continue
        seen = [
            (mz, name, theo, err)
            for mz, name, theo, err in (target_found or [])
            if abs(f.mz - mz) <= ppm_window(mz, tol) and in_rt_window(f.rt_s, *target_window)
        ]
        if seen:
            f.status, f.assignment = "consistent", f"target {seen[0][1]}"
            f.theoretical_mz, f.ppm_error = seen[0][2], ppm_error(f.mz, seen[0][2])
            continue
        m = match_known(f.mz, ks, kmz, tol)
        if not m:
            f.status, f.assignment = "suspicious", "unexplained"
            continue
        k, err = m
        f.theoretical_mz, f.ppm_error = k.mz, err
        if k.status == "consistent" and target_window is not None and not (in_rt_window(f.rt_s, *target_window)):
            f.status = "suspicious"
            f.assignment = f"isomer? same m/z as {k.assignment} at another retention time"
        elif k.status == "consistent" and target_window is None:
            f.status, f.assignment = "suspicious", f"{k.assignment} (target not detected here)"
        else:
            f.status, f.assignment, f.note = k.status, k.assignment, k.note
    return features


def _chrom_dicts(features: list[Feature], th: MsThresholds) -> list[dict]:
    out = []
    for f in sorted(features, key=lambda f: -f.share):
        if f.background or f.isotope_of is not None or f.share < th.other_peak_share:
            continue
        out.append(
            {
                "mz": _r(f.mz, 5),
                "rt_s": _r(f.rt_s, 2),
                "area_share": _r(f.share, 4),
                "status": f.status,
                "assignment": f.assignment,
                "start_s": _r(f.start_s, 2),
                "end_s": _r(f.end_s, 2),
                "ppm_error": _r(f.ppm_error, 2),
            }
        )
    return out


def _feature_peaks(features: list[Feature], th: MsThresholds, exclude_rt=None) -> list[MsPeak]:
    """Other chromatographic peaks (not co-eluting with the target) as peak rows."""
    out = []
    for f in sorted(features, key=lambda f: -f.share):
        if f.background or f.isotope_of is not None or f.share < th.other_peak_share:
            continue
        if exclude_rt is not None and in_rt_window(f.rt_s, *exclude_rt):
            continue
        out.append(
            MsPeak(
                f.mz,
                f.height,
                f.ppm_error,
                f.status,
                f.assignment,
                (f.note + "; " if f.note else "")
                + f"other chromatographic peak, {f.share * 100:.0f}% of the ion current",
                f.theoretical_mz,
                f.rt_s,
            )
        )
    return out
