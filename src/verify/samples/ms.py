"""Simulated LC-HRMS runs (positive ESI, MS1 only) written as indexed mzML with psims.

psims is imported inside `write_mzml` only: runtime modules must never import it (it slows
`import pyteomics.mzml`, see the shared field notes).

A run is a list of species (the compound, side products, impurities) each with a retention time, an
exponentially modified Gaussian elution profile and a set of ions (label, isotope m/z list, relative
abundances, share of the species' ion current), plus background ions present all run long and
chemical noise. Every centroid gets a per-run calibration offset (ppm) and an intensity-dependent
scatter; intensities get counting and multiplicative noise.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
from rdkit import Chem
from rdkit.Chem import Crippen

from ..structure.masses import (
    adduct_ions,
    composition,
    count_basic_nitrogens,
    ion_composition,
    isotope_pattern,
)

# Background ions seen in most positive-ESI LC-MS runs (m/z of the ion; see Keller et al., Anal. Chim.
# Acta 2008, 627, 71, "Interferences and contaminants encountered in modern mass spectrometry").
BACKGROUND = [
    (149.0233, "phthalic anhydride fragment C8H5O3+", 0.35),
    (279.1591, "dibutyl phthalate [M+H]+", 0.12),
    (371.1012, "decamethylcyclopentasiloxane-related [C10H31O5Si5]+", 0.30),
    (391.2843, "DEHP [M+H]+", 1.00),
    (413.2662, "DEHP [M+Na]+", 0.25),
    (445.1200, "polysiloxane [C12H37O6Si6]+", 0.45),
    (519.1388, "polysiloxane [C14H43O7Si7]+", 0.15),
    (338.3417, "erucamide [M+H]+", 0.20),
    (282.2792, "oleamide [M+H]+", 0.10),
]
ISOBUTENE = "C4H8"
BOC_LOSS = "C5H8O2"


@dataclass
class Ion:
    label: str
    mz: np.ndarray  # isotope m/z
    rel: np.ndarray  # relative abundance (M = 1)
    share: float  # share of the species' ion current (before isotopes)


@dataclass
class Species:
    name: str
    smiles: str
    rt_s: float
    amount: float  # apex intensity of the main ion's monoisotopic peak
    sigma_s: float = 2.5
    tau_s: float = 2.0
    ions: list[Ion] = field(default_factory=list)
    role: str = "target"


@dataclass
class MsSpec:
    instrument: str = "tof"  # tof (SCIEX TripleTOF-like) | orbitrap (Q Exactive-like)
    run_s: float = 300.0
    scan_s: float = 0.9
    mz_lo: float = 100.0
    mz_hi: float = 1000.0
    ppm_offset: float = 1.0  # calibration error of the run
    ppm_scatter: float = 0.8  # scatter of a strong peak (grows for weak ones)
    noise_peaks: int = 30
    background_level: float = 6e4
    profile: bool = False
    resolution: float = 30000.0
    threshold: float = 150.0
    saturation: float | None = None  # TOF detector saturation level (counts); None = linear detector


def _ion_from_counts(label: str, counts: Counter, charge: int, share: float, n_iso: int = 4) -> Ion:
    pat = isotope_pattern(counts, n_iso)
    from ..structure.masses import ELECTRON_MASS

    mz = np.array([(p.mass - charge * ELECTRON_MASS) / abs(charge) for p in pat])
    rel = np.array([p.relative for p in pat])
    return Ion(label, mz, rel, share)


def retention_time(mol: Chem.Mol, run_s: float) -> float:
    """Reversed-phase RT (s) of a basic amine in 0.1% formic acid from Crippen logP (a rough, monotone guess)."""
    logp = Crippen.MolLogP(mol)
    n_basic = count_basic_nitrogens(mol)
    frac = 0.18 + 0.12 * logp - 0.05 * n_basic
    return float(np.clip(frac, 0.08, 0.85) * run_s)


def species_for(
    name: str,
    smiles: str,
    amount: float,
    rng: np.random.Generator,
    run_s: float,
    role: str = "target",
    rt_s: float | None = None,
) -> Species:
    """A compound with its ESI+ ions at realistic shares: [M+H]+ main, [M+Na]+, [M+K]+, [M+2H]2+ for
    diamines, [2M+H]+ at high load, in-source losses of isobutene and Boc for Boc compounds."""
    mol = Chem.MolFromSmiles(smiles)
    counts = composition(mol)
    ions_by_name = {i.name: i for i in adduct_ions(mol, n_isotopes=4, all_adducts=True)}
    n_basic = count_basic_nitrogens(mol)
    out: list[Ion] = []

    def add_adduct(nm, share):
        a = ions_by_name.get(nm)
        if a is None:
            return
        out.append(Ion(nm, np.array([x[1] for x in a.isotopes]), np.array([x[2] for x in a.isotopes]), share))

    add_adduct("[M+H]+", 1.0)
    add_adduct("[M+Na]+", float(rng.uniform(0.03, 0.12)))
    add_adduct("[M+K]+", float(rng.uniform(0.003, 0.012)))
    if n_basic >= 2:
        add_adduct("[M+2H]2+", float(rng.uniform(0.08, 0.30)))
    add_adduct("[2M+H]+", float(rng.uniform(0.005, 0.025)))
    boc = Chem.MolFromSmarts("[CH3]C([CH3])([CH3])OC(=O)N")
    if mol.HasSubstructMatch(boc):
        mh = ion_composition(counts, 1, "H", "")
        out.append(
            _ion_from_counts("[M+H-C4H8]+", ion_composition(mh, 1, "", ISOBUTENE), 1, float(rng.uniform(0.06, 0.20)))
        )
        out.append(
            _ion_from_counts("[M+H-C5H8O2]+", ion_composition(mh, 1, "", BOC_LOSS), 1, float(rng.uniform(0.04, 0.15)))
        )
    rt = retention_time(mol, run_s) if rt_s is None else rt_s
    return Species(name, smiles, rt, amount, float(rng.uniform(1.8, 3.0)), float(rng.uniform(1.0, 3.0)), out, role)


def _emg(t: np.ndarray, rt: float, sigma: float, tau: float) -> np.ndarray:
    """Exponentially modified Gaussian, apex normalised to 1 (numerically)."""
    from scipy.special import erfc

    lam = 1.0 / tau
    z = t - rt
    arg = lam / 2.0 * (lam * sigma**2 - 2 * z)
    val = np.exp(np.clip(arg, -700, 700)) * erfc((lam * sigma**2 - z) / (np.sqrt(2) * sigma))
    val = np.nan_to_num(val)
    m = val.max()
    return val / m if m > 0 else val


@dataclass
class Run:
    spec: MsSpec
    times: np.ndarray
    scans: list[tuple[np.ndarray, np.ndarray]]
    truth: dict


def simulate_run(spec: MsSpec, species: list[Species], rng: np.random.Generator) -> Run:
    n_scans = int(spec.run_s / spec.scan_s)
    times = np.arange(n_scans) * spec.scan_s + rng.uniform(0.0, 0.05, n_scans) + 3.0
    bg_mz = np.array([b[0] for b in BACKGROUND])
    bg_amp = np.array([b[2] for b in BACKGROUND]) * spec.background_level * rng.uniform(0.6, 1.4, len(BACKGROUND))
    # isotope M+1 of background ions, roughly (carbon count ~ m/z / 14)
    bg_m1 = 0.011 * bg_mz / 14.0
    drift = 1.0 + 0.15 * np.sin(times / spec.run_s * np.pi * rng.uniform(0.5, 1.5))
    profiles = [(_emg(times, s.rt_s, s.sigma_s, s.tau_s), s) for s in species]
    scans = []
    for i, _t in enumerate(times):
        mzs = []
        ints = []
        # background
        a = bg_amp * drift[i]
        mzs += [bg_mz, bg_mz + 1.003355]
        ints += [a, a * bg_m1]
        # species
        for prof, s in profiles:
            p = prof[i]
            if p < 1e-4:
                continue
            for ion in s.ions:
                mzs.append(ion.mz)
                ints.append(s.amount * p * ion.share * ion.rel)
        # chemical noise
        k = rng.poisson(spec.noise_peaks)
        mzs.append(rng.uniform(spec.mz_lo, spec.mz_hi, k))
        ints.append(rng.lognormal(np.log(2.5 * spec.threshold), 0.7, k))
        mz = np.concatenate(mzs)
        it = np.concatenate(ints)
        keep = (mz >= spec.mz_lo) & (mz <= spec.mz_hi)
        mz, it = mz[keep], it[keep]
        # intensity noise: multiplicative (spray) and counting
        it = it * rng.lognormal(0.0, 0.05, it.size) + rng.normal(0.0, 1.0, it.size) * np.sqrt(np.maximum(it, 1.0)) * 3.0
        keep = it > spec.threshold
        mz, it = mz[keep], it[keep]
        if spec.saturation:
            mz, it = _saturate(mz, it, spec.saturation)
        # mass error: calibration offset + scatter growing for weak peaks
        sd = spec.ppm_scatter * np.sqrt(1.0 + 3e4 / np.maximum(it, 1.0))
        mz = mz * (1.0 + (spec.ppm_offset + rng.normal(0.0, 1.0, mz.size) * sd) * 1e-6)
        order = np.argsort(mz)
        mz, it = mz[order], it[order]
        if spec.profile:
            mz, it = _profile(mz, it, spec.resolution)
        scans.append((mz, np.round(it).astype(np.float32)))
    truth = {
        "instrument": spec.instrument,
        "ppm_offset": spec.ppm_offset,
        "ppm_scatter_strong": spec.ppm_scatter,
        "profile": spec.profile,
        "saturation_counts": spec.saturation,
        "species": [
            {
                "name": s.name,
                "smiles": s.smiles,
                "role": s.role,
                "rt_s": round(s.rt_s, 2),
                "apex_intensity": round(s.amount, 1),
                "ions": [
                    {"label": i.label, "mz": [round(float(x), 6) for x in i.mz], "share": round(i.share, 4)}
                    for i in s.ions
                ],
            }
            for s in species
        ],
        "background": [{"mz": m, "name": n} for m, n, _ in BACKGROUND],
    }
    return Run(spec, times, scans, truth)


def _saturate(mz: np.ndarray, it: np.ndarray, sat: float) -> tuple[np.ndarray, np.ndarray]:
    """TDC detector saturation of a TOF: an ion burst above `sat` counts is undercounted (compressed) and
    its centroid drifts to higher m/z (+3 to +9 ppm), and the detector's dead time after the burst eats
    into the isotope peaks that arrive just after it (M+1, M+2 suppressed), as the real TripleTOF files
    in shared/realdata show for their most intense [M+H]+ ions."""
    mz0, it0 = mz, it
    mz = mz.copy()
    it = it.copy()
    over = [int(i) for i in np.flatnonzero(it0 > sat)]
    shadowed = set()
    for i in over:
        r = it0[i] / sat
        comp = (1.0 + np.log(r)) / r
        after = np.flatnonzero((mz0 > mz0[i] + 0.45) & (mz0 < mz0[i] + 2.2))
        for j in after:  # dead time after the burst: isotope peaks undercounted further
            it[j] = it0[j] * comp * 0.4
            shadowed.add(int(j))
    for i in over:
        if i in shadowed:
            continue
        r = it0[i] / sat
        mz[i] *= 1.0 + min(9.0, 3.0 + 2.5 * np.log2(r)) * 1e-6
        it[i] = sat * (1.0 + np.log(r))
    return mz, it


def _profile(mz: np.ndarray, it: np.ndarray, resolution: float) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian profile peaks (FWHM = m/z / R) sampled at ~8 points per FWHM, zero-bounded like Orbitrap data."""
    out_mz, out_it = [], []
    grid = np.arange(-7, 8)
    for m, a in zip(mz, it):
        fwhm = m / resolution
        step = fwhm / 4.0
        x = m + grid * step
        y = a * np.exp(-4 * np.log(2) * ((x - m) / fwhm) ** 2)
        y[[0, -1]] = 0.0
        out_mz.append(x)
        out_it.append(y)
    if not out_mz:
        return mz, it
    x = np.concatenate(out_mz)
    y = np.concatenate(out_it)
    o = np.argsort(x, kind="stable")
    return x[o], y[o]


def warm_up() -> None:
    """Load psims and its controlled vocabulary once (before forking worker processes)."""
    import io

    from psims.mzml.writer import PlainMzMLWriter

    with PlainMzMLWriter(io.BytesIO(), close=False) as out:
        out.controlled_vocabularies()


def write_mzml(path, run: Run, sample_name: str = "sample", indexed: bool = True) -> None:
    """mzML (zlib) with psims, indexed (`indexedmzML`, as ProteoWizard writes) or plain (`mzML`, as
    OpenMS tools often write); scan times in seconds (TOF) or minutes (Orbitrap), like the converters."""
    from psims.mzml.writer import IndexedMzMLWriter, PlainMzMLWriter  # generator-only dependency

    spec = run.spec
    tof = spec.instrument == "tof"
    writer = IndexedMzMLWriter if indexed else PlainMzMLWriter
    with open(path, "wb") as fh:
        with writer(fh, close=False) as out:
            out.controlled_vocabularies()
            out.file_description(["MS1 spectrum", "profile spectrum" if spec.profile else "centroid spectrum"])
            out.software_list(
                [
                    {
                        "id": "acq",
                        "version": "1.7.1" if tof else "2.9-290204",
                        "params": ["Analyst" if tof else "Xcalibur"],
                    },
                    {"id": "pwiz", "version": "3.0.21193", "params": ["ProteoWizard software"]},
                    {"id": "verify_samples", "version": "0.1", "params": ["custom unreleased software tool"]},
                ]
            )
            comps = [
                {"type": "source", "order": 1, "params": ["electrospray ionization", "electrospray inlet"]},
                {"type": "analyzer", "order": 2, "params": ["quadrupole"]},
                {"type": "analyzer", "order": 3, "params": ["time-of-flight" if tof else "orbitrap"]},
                {
                    "type": "detector",
                    "order": 4,
                    "params": ["microchannel plate detector" if tof else "inductive detector"],
                },
            ]
            out.instrument_configuration_list(
                [
                    out.InstrumentConfiguration(
                        id="IC1",
                        component_list=out.ComponentList.build(comps),
                        params=["TripleTOF 6600" if tof else "Q Exactive"],
                        software_reference="acq",
                    )
                ]
            )
            methods = [out.ProcessingMethod(order=1, software_reference="pwiz", params=["Conversion to mzML"])]
            if not spec.profile:
                methods.append(out.ProcessingMethod(order=2, software_reference="acq", params=["peak picking"]))
            out.data_processing_list([out.DataProcessing(methods, id="DP1")])
            with out.run(id=sample_name.replace(" ", "_"), instrument_configuration="IC1"):
                with out.spectrum_list(count=len(run.scans)):
                    for i, ((mz, it), t) in enumerate(zip(run.scans, run.times)):
                        if tof:
                            sid = f"sample=1 period=1 cycle={i + 1} experiment=1"
                            st = {"name": "scan start time", "value": round(float(t), 3), "unitName": "second"}
                        else:
                            sid = f"controllerType=0 controllerNumber=1 scan={i + 1}"
                            st = {"name": "scan start time", "value": round(float(t) / 60.0, 6), "unitName": "minute"}
                        # kept lean (no base peak / scan window): the XML around each scan costs more than its data
                        params = [
                            {"ms level": 1},
                            "MS1 spectrum",
                            {"name": "total ion current", "value": float(it.sum())},
                        ]
                        out.write_spectrum(
                            mz,
                            it,
                            id=sid,
                            polarity="positive scan",
                            centroided=not spec.profile,
                            scan_start_time=st,
                            params=params,
                            encoding={"m/z array": np.float64, "intensity array": np.float32},
                        )
