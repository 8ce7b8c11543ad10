"""Mass errors, mass windows and retention-time windows: the three small formulas the HRMS check uses
everywhere, written once.

Retention-time windows include their ends with a 1e-6 s margin (scan times written with fewer digits than
the peak limits computed from them must not fall out of their own peak).
"""

from __future__ import annotations

from typing import overload

import numpy as np

__all__ = ["RT_MARGIN_S", "in_rt_window", "ppm_error", "ppm_window", "scans_in_rt_window"]

RT_MARGIN_S = 1e-6  # s


def ppm_error(observed_mz: float, theoretical_mz: float) -> float:
    """Mass error of an observed m/z against its theoretical value, ppm (positive: observed heavier)."""
    return (observed_mz - theoretical_mz) / theoretical_mz * 1e6


@overload
def ppm_window(mz: float, ppm: float) -> float: ...
@overload
def ppm_window(mz: np.ndarray, ppm: float) -> np.ndarray: ...
def ppm_window(mz, ppm):
    """Half-width in m/z of a +-`ppm` window around `mz` (a value or an array of them)."""
    return mz * ppm * 1e-6


def in_rt_window(rt_s: float, start_s: float, end_s: float, margin_s: float = RT_MARGIN_S) -> bool:
    """Whether a retention time (s) lies within [start_s, end_s], widened by `margin_s` on both sides."""
    return start_s - margin_s <= rt_s <= end_s + margin_s


def scans_in_rt_window(rt_s: np.ndarray, start_s: float, end_s: float) -> np.ndarray:
    """Indices of the scans whose retention times (s) lie within [start_s, end_s] (+- RT_MARGIN_S)."""
    return np.nonzero((rt_s >= start_s - RT_MARGIN_S) & (rt_s <= end_s + RT_MARGIN_S))[0]
