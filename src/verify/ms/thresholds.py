"""Every number the HRMS comparison decides with, in one place.

`THRESHOLDS` is the default instance; `check_ms(..., th=MsThresholds(...))` takes another. Its
`ppm` is the one default mass tolerance: `check_ms`, `check_compound`, `verify --ppm` and `verify plate
--ppm` all read it.
Intensities marked "relative" are fractions of the target's main ion in the combined spectrum unless
said otherwise. See the README paragraph "HRMS thresholds".
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MsThresholds:
    # --- mass accuracy -------------------------------------------------------------------------
    ppm: float = 5.0  # default tolerance (journals: 5 ppm or 0.003 m/z); `--ppm` overrides
    suspicious_factor: float = 2.0  # |error| in (tol, 2 tol] -> suspicious; beyond -> contradicts formula
    search_factor: float = 3.0  # EICs are extracted at +-3 tol so shifted/saturated ions are still seen
    saturation_factor: float = 3.0  # tolerance for an ion recognised as saturated
    # --- saturation (TOF detector dead time: intense ion, M+1 suppressed, mass drifts positive) ----
    saturation_min_fraction: float = 0.05  # ion apex >= 5 % of the run's most intense centroid ...
    saturation_min_intensity: float = 1e5  # ... and >= 1e5 counts
    saturation_m1_ratio: float = 0.8  # ... and observed/expected M+1 below 0.8
    # --- isotope pattern ---------------------------------------------------------------------------
    isotope_window_da: float = 0.012  # isotopologues summed within +-0.012 Da (/z) of the aggregated mass
    isotope_sigma_abs: float = 0.03  # tolerated deviation of a relative isotope intensity: 0.03 ...
    isotope_sigma_rel: float = 0.15  # ... + 15 % of the expected value
    isotope_good: float = 0.70  # score >= 0.70: pattern matches
    isotope_weak: float = 0.30  # 0.30-0.70: weak match (suspicious); below: mismatch
    isotope_detect_factor: float = 3.0  # an isotope counts only if expected >= 3x the detection limit
    isotope_decisive_rel: float = 0.10  # a missing isotope expected >= 10 % of M (Cl, Br, S2...) is decisive
    # --- chromatography --------------------------------------------------------------------------
    min_scans: int = 3  # a chromatographic peak needs the ion in >= 3 scans
    peak_edge_fraction: float = 0.05  # peak limits where the smoothed EIC falls below 5 % of apex
    combine_fraction: float = 0.2  # spectra combined over the scans above 20 % of the apex
    infusion_presence: float = 0.8  # infusion (whole run used): ion in >= 80 % of scans ...
    infusion_flatness: float = 3.0  # ... and apex / median <= 3
    fragment_ratio: float = 3.0  # a target ion apex under a >= 3x taller Boc-protected ion is its in-source fragment
    # --- accounting for co-eluting ions ----------------------------------------------------------
    account_rel: float = 0.05  # ions >= 5 % of the main ion in the combined spectrum get a status
    unexplained_rel: float = 0.10  # unexplained ions >= 10 % of the main ion make the verdict suspicious
    max_accounted: int = 60  # at most this many ions listed (most intense first)
    background_presence: float = 0.8  # solvent/background: seen in >= 80 % of the run's scans ...
    background_flatness: float = 3.0  # ... and not enriched > 3x in the target's peak over the run median
    # --- other chromatographic peaks and MS purity -----------------------------------------------
    feature_min_fraction: float = 0.01  # traces built from centroids >= 1 % of the run's most intense
    other_peak_share: float = 0.05  # chromatographic peaks with >= 5 % of the ion current are reported
    other_peak_warn_share: float = 0.10  # unexplained ones >= 10 % make the verdict suspicious
    max_features: int = 400  # traces examined at most (most intense first)


THRESHOLDS = MsThresholds()
