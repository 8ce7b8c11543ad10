"""Steps shared by processing (process.py), phasing (phase.py) and referencing (referencing.py): the FT with
the digital filter removed, the file-axis ppm of each point of a spectrum in processing order, and the noise
estimate.
"""

from __future__ import annotations

import numpy as np

from .spectrum import RawFID


def fourier_transform(ng, fid, sw, lb_hz, si, gd):
    """Apodise, zero-fill, FT, remove the digital filter; returns the spectrum high -> low frequency."""
    d = ng.proc_base.em(fid, lb=lb_hz / sw)
    if d.size > si:
        d = d[:si]
    d = ng.proc_base.zf_size(d, si)
    s = ng.proc_base.fft(d)
    if gd > 0:
        s = ng.bruker.rm_dig_filter(s, 1, 20, grpdly=gd, truncate_grpdly=False, post_proc=True)
    elif gd < 0:
        # a pre-acquisition delay (the reader's negative group delay: the first point comes -gd dwell times after
        # the pulse): the same time shift as the filter's, the other way (rm_dig_filter takes only gd > 0)
        s = s * np.exp(2j * np.pi * gd * np.arange(si) / si)
    # nmrglue's fft (fftshift) runs low -> high frequency; a chemist's axis runs high -> low
    return s[::-1].copy()


def index_at_ppm(raw: RawFID, size: int) -> np.ndarray:
    """File-axis ppm of each point of a `size`-point spectrum in processing order (high -> low frequency;
    mirrored when the file's axis runs the other way)."""
    pp = raw.carrier_ppm + ((np.arange(size) - size // 2) * (raw.sw_hz / size))[::-1] / raw.sf_mhz
    return pp[::-1] if raw.reverse else pp


def ppm_mask(raw: RawFID, size: int, region) -> np.ndarray:
    """False inside region (lo, hi ppm, file axis) for a spectrum of `size` points in processing order
    (high -> low frequency; mirrored when the file's axis runs the other way)."""
    pp = index_at_ppm(raw, size)
    return ~((pp > region[0]) & (pp < region[1]))


def noise_level(y: np.ndarray) -> float:
    """Noise standard deviation: a low percentile of the detrended standard deviations of 64 segments."""
    m = 64
    k = y.size // m
    if k < 8:
        return float(np.std(y)) or 1e-12
    seg = y[: m * k].reshape(m, k)
    x = np.arange(k) - (k - 1) / 2.0
    slope = (seg * x).sum(axis=1) / (x * x).sum()
    res = seg - seg.mean(axis=1, keepdims=True) - slope[:, None] * x
    sd = np.sort(res.std(axis=1))
    return float(sd[m // 8]) or 1e-12
