"""Synthetic 1H spectra shared by the NMR tests (numpy only, no files).

`spectrum(signals)` sums first-order multiplets (Lorentzian lines, areas in H, 400.13 MHz) over a 12 to -1 ppm
axis with seeded noise; `para_ring(ppm)` adds an exact, strongly coupled AA'BB' ring (4-chlorobenzyl). The signal
lists are literature-typical shifts and couplings (CDCl3) of the compounds the tests check.
"""

from __future__ import annotations

from math import comb

import numpy as np

from verify.nmr.spectrum import Spectrum1D
from verify.nmr.spin_systems import simulate_lines

SF = 400.13  # MHz
BENZYL_DIAZEPANE = "C1CNCCN(C1)Cc1ccccc1"  # 1-benzyl-1,4-diazepane (free N-H)
BOC_BENZYL = "CC(C)(C)OC(=O)N1CCCN(Cc2ccccc2)CC1"
CL2 = "CC(C)(C)OC(=O)N1CCCN(Cc2ccccc2Cl)CC1"
CL3 = "CC(C)(C)OC(=O)N1CCCN(Cc2cccc(Cl)c2)CC1"
CL4 = "CC(C)(C)OC(=O)N1CCCN(Cc2ccc(Cl)cc2)CC1"


def lorentz(ppm, centre, height, fwhm_hz=1.0):
    """A Lorentzian line of `height` at `centre` ppm, `fwhm_hz` wide (Hz at SF MHz)."""
    hw = fwhm_hz / SF / 2
    return height * hw**2 / ((ppm - centre) ** 2 + hw**2)


def multiplet(ppm, centre, n_h, couplings=(), fwhm_hz=1.0):
    """First-order multiplet: couplings = [(J_Hz, n_spins), ...]; total area proportional to n_h."""
    pos = np.array([0.0])
    w = np.array([1.0])
    for j, n in couplings:
        pos = (pos[:, None] + np.arange(n + 1)[None, :] * j).ravel()
        w = (w[:, None] * np.array([comb(n, k) for k in range(n + 1)])[None, :]).ravel()
    pos = pos - pos.mean()
    w = w / w.sum() * n_h
    y = np.zeros_like(ppm)
    for p, x in zip(pos, w):
        y += lorentz(ppm, centre + p / SF, x * 1000.0 / fwhm_hz, fwhm_hz)
    return y


def spectrum(signals, noise=0.05, seed=1, solvent="CDCl3", n=32768):
    """Spectrum1D of `signals` [(ppm, n_H, couplings[, fwhm_hz]), ...] with Gaussian noise (seeded)."""
    ppm = np.linspace(12.0, -1.0, n)
    y = np.zeros(n)
    for s in signals:
        y += multiplet(ppm, *s)
    y += np.random.default_rng(seed).normal(0, noise, n)
    return Spectrum1D(ppm=ppm, intensity=y, sf_mhz=SF, solvent=solvent, source="synthetic")


def para_ring(ppm, a=7.25, b=7.28, fwhm=1.0):
    """An exact AA'BB' (4-chlorobenzyl at 400 MHz: 12 Hz apart, J ortho 8.4, meta 2.1, para 0.4)."""
    j = np.zeros((4, 4))
    j[0, 1] = j[2, 3] = 8.4  # H2-H3, H5-H6
    j[0, 3] = j[1, 2] = 2.1  # H2-H6, H3-H5
    j[0, 2] = j[1, 3] = 0.4  # H2-H5, H3-H6
    f, w = simulate_lines(np.array([a, b, b, a]) * SF, j)
    y = np.zeros_like(ppm)
    for fi, wi in zip(f, w):
        y += lorentz(ppm, fi / SF, wi * 1000.0 / fwhm, fwhm)
    return y


# 1-benzyl-1,4-diazepane in CDCl3 (shifts as reported for 1-benzylhomopiperazine)
BENZYL_DIAZEPANE_SIGNALS = [
    (7.33, 2, [(7.5, 1)]),
    (7.30, 2, [(7.5, 2)]),
    (7.23, 1, [(7.3, 2)]),
    (3.63, 2, []),
    (2.94, 2, [(6.0, 2)]),
    (2.90, 2, [(5.5, 2)]),
    (2.66, 4, [(5.8, 2)]),
    (1.77, 2, [(6.0, 4)]),
    (7.26, 0.05, []),  # CHCl3
    (1.56, 0.3, [], 4.0),  # water
]

# the Boc-1,4-diazepane ring and its tert-butyl (CDCl3)
BOC_RING = [
    (3.50, 2, [(6.0, 2)]),
    (3.43, 2, [(6.0, 2)]),
    (2.66, 2, [(5.5, 2)]),
    (2.60, 2, [(6.0, 2)]),
    (1.82, 2, [(6.0, 4)]),
    (1.45, 9, []),
]


def codes(res):
    """The codes of a result's warning and error findings."""
    return {f.code for f in res.findings if f.severity != "info"}
