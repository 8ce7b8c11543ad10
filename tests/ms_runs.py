"""Synthetic LC-MS runs shared by the HRMS tests, written with psims (a test-only dependency).

`write_run(path, components, background)` writes an mzML run of Gaussian chromatographic peaks, each a full
isotope pattern (`pattern`, `component`), over constant background ions; `good_run` is the clean
1-benzyl-1,4-diazepane run ([M+H]+ and [M+Na]+) most tests start from.
"""

from __future__ import annotations

import numpy as np
import pytest

psims_writer = pytest.importorskip("psims.mzml.writer")

from verify.expectation import build_expectation  # noqa: E402
from verify.structure.target import read_target  # noqa: E402

BENZYL_DIAZEPANE = "C1CNCCN(Cc2ccccc2)C1"  # 1-benzyl-1,4-diazepane, C12H18N2, [M+H]+ 191.1543
BOC_BENZYL = "CC(C)(C)OC(=O)N1CCCN(Cc2ccccc2)CC1"  # C17H26N2O2, [M+H]+ 291.2067
CL_BENZYL = "C1CNCCN(Cc2ccc(Cl)cc2)C1"  # C12H17ClN2, [M+H]+ 225.1153


def expectation(smiles: str):
    return build_expectation(read_target(smiles))


def ion(exp, name: str):
    return next(i for i in exp.ions if i.name == name)


def pattern(adduct_ion, shift_ppm: float = 0.0, isotopes=None):
    """[(mz, relative)] of an AdductIon, optionally mass-shifted or with another isotope pattern."""
    iso = isotopes if isotopes is not None else [(mz, rel) for _off, mz, rel in adduct_ion.isotopes]
    return [(mz * (1 + shift_ppm * 1e-6), rel) for mz, rel in iso]


def component(iso, rt=60.0, sigma=3.0, height=1e6):
    return {"iso": iso, "rt": rt, "sigma": sigma, "height": height}


def write_run(
    path,
    components=(),
    background=(),
    n_scans=120,
    rt_end=120.0,
    polarity="positive",
    profile=False,
    seed=0,
    noise_n=60,
    mz_range=(100.0, 700.0),
    ms_levels=(1,),
    flat=False,
    resolution=60000.0,
):
    """A small LC-MS run: Gaussian elution profiles of isotope envelopes, constant background ions,
    random low-level noise centroids; RT written in minutes (psims' unit)."""
    rng = np.random.default_rng(seed)
    rts = np.linspace(0.0, rt_end, n_scans)
    W = psims_writer
    with W.MzMLWriter(open(path, "wb"), close=True) as out:
        out.controlled_vocabularies()
        out.file_description(["MS1 spectrum", "profile spectrum" if profile else "centroid spectrum"])
        out.software_list([{"id": "psims-writer", "version": "1", "params": ["python-psims"]}])
        out.instrument_configuration_list(
            [out.InstrumentConfiguration(id="IC1", component_list=[], params=["Q Exactive"])]
        )
        out.data_processing_list(
            [
                out.DataProcessing(
                    [out.ProcessingMethod(order=1, software_reference="psims-writer", params=["Conversion to mzML"])],
                    id="DP1",
                )
            ]
        )
        with out.run(id="run1", instrument_configuration="IC1"):
            n_spec = n_scans * len(ms_levels)
            with out.spectrum_list(count=n_spec):
                k = 0
                for s, rt in enumerate(rts):
                    pol = polarity
                    if polarity == "switching":
                        pol = "positive" if s % 2 == 0 else "negative"
                    mzs, ints = [], []
                    for c in components:
                        f = 1.0 if flat else np.exp(-0.5 * ((rt - c["rt"]) / c["sigma"]) ** 2)
                        if c.get("polarity", "positive") != pol:
                            continue
                        for mz, rel in c["iso"]:
                            inten = c["height"] * f * rel * rng.normal(1.0, 0.02)
                            if inten > 30:
                                mzs.append(mz * (1 + rng.normal(0, 0.3e-6)))
                                ints.append(inten)
                    for mz, inten in background:
                        mzs.append(mz * (1 + rng.normal(0, 0.3e-6)))
                        ints.append(inten * rng.normal(1.0, 0.05))
                    nm = rng.uniform(*mz_range, noise_n)
                    mzs += list(nm)
                    ints += list(rng.uniform(40, 300, noise_n))
                    mz = np.array(mzs)
                    it = np.array(ints)
                    order = np.argsort(mz)
                    mz, it = mz[order], it[order]
                    if profile:
                        mz, it = profile_peaks(mz, it, resolution)
                    for level in ms_levels:
                        k += 1
                        params = [
                            {"ms level": level},
                            "MS1 spectrum" if level == 1 else "MSn spectrum",
                            {"total ion current": float(it.sum())},
                        ]
                        prec = None
                        if level == 2:
                            prec = {"mz": float(mz[np.argmax(it)]), "intensity": float(it.max()), "charge": 1}
                        out.write_spectrum(
                            mz,
                            it,
                            id=f"scan={k}",
                            polarity=f"{pol} scan",
                            centroided=not profile or level == 2,
                            scan_start_time=rt / 60.0,
                            params=params,
                            precursor_information=prec,
                        )
    return path


def profile_peaks(mz, it, resolution):
    """Render centroids as Gaussian profile peaks sampled at ~FWHM/5, zeros dropped between peaks."""
    xs, ys = [], []
    for m, i in zip(mz, it):
        fwhm = m / resolution
        sd = fwhm / 2.3548
        x = m + np.arange(-12, 13) * fwhm / 5 + (hash(round(m, 3)) % 100) / 100 * fwhm / 5
        xs.append(x)
        ys.append(i * np.exp(-0.5 * ((x - m) / sd) ** 2))
    x = np.concatenate(xs)
    y = np.concatenate(ys)
    order = np.argsort(x)
    x, y = x[order], y[order]
    # merge overlapping samples on a common grid is not needed: sum nearby duplicates
    keep = y > 1.0
    return x[keep], y[keep]


BACKGROUND = [(250.1234, 2.0e5), (391.28429, 1.5e5)]  # unknown constant ion; DEHP [M+H]+


def good_run(tmp_path, name="good.mzML", shift=0.0, profile=False, **kw):
    exp = expectation(BENZYL_DIAZEPANE)
    comps = [component(pattern(ion(exp, "[M+H]+"), shift)), component(pattern(ion(exp, "[M+Na]+"), shift), height=8e4)]
    return exp, write_run(tmp_path / name, comps, BACKGROUND, profile=profile, **kw)
