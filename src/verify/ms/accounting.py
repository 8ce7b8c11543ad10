"""Give every ion of the combined spectrum (and every chromatographic feature) a status:
consistent (the target's ions, isotopes, multimers, in-source fragments), solvent (contaminant list,
or present all run long), impurity (named side product) or suspicious (unexplained)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .ions import KnownIon
from .isotopes import C13_DELTA, detect_charge
from .thresholds import MsThresholds
from .tolerance import ppm_error, ppm_window


@dataclass
class AccountedIon:
    mz: float
    intensity: float
    status: str
    assignment: str
    note: str = ""
    theoretical_mz: float | None = None
    ppm_error: float | None = None
    charge: int | None = None
    relative: float = 0.0  # to the target's main ion
    isotopes: tuple = ()  # theoretical ((offset, mz, relative), ...) when the ion is a known one


def match_known(
    mz: float, known: list[KnownIon], known_mz: np.ndarray, tol_ppm: float, charge: int | None = None
) -> tuple[KnownIon, float] | None:
    """Closest known ion within tolerance (status order consistent > impurity > solvent on ties)."""
    tol = ppm_window(mz, tol_ppm)
    a = np.searchsorted(known_mz, mz - tol, "left")
    b = np.searchsorted(known_mz, mz + tol, "right")
    best = None
    rank = {"consistent": 0, "impurity": 1, "solvent": 2}
    for k in range(a, b):
        ion = known[k]
        if charge is not None and abs(ion.charge) != charge and charge > 1:
            continue
        err = ppm_error(mz, ion.mz)
        key = (rank.get(ion.status, 3), abs(err))
        if best is None or key < best[0]:
            best = (key, ion, err)
    return (best[1], best[2]) if best else None


def sorted_known(known: list[KnownIon]) -> tuple[list[KnownIon], np.ndarray]:
    ks = sorted(known, key=lambda k: k.mz)
    return ks, np.array([k.mz for k in ks])


def account_spectrum(
    mz: np.ndarray,
    inten: np.ndarray,
    main_intensity: float,
    known: list[KnownIon],
    ppm: float,
    th: MsThresholds,
    is_background=None,
    preassigned: dict | None = None,
    dl: float = 0.0,
) -> list[AccountedIon]:
    """Status for every ion >= account_rel x main ion. `is_background(mz) -> bool` says whether an ion
    is present all run long; `preassigned` maps an index of `mz` to an AccountedIon (the target's
    measured ions)."""
    floor = max(th.account_rel * main_intensity, 3 * dl)
    cand = np.nonzero(inten >= floor)[0]
    cand = cand[np.argsort(-inten[cand])][: th.max_accounted]
    ks, kmz = sorted_known(known)
    out: dict[int, AccountedIon] = {}
    pre = preassigned or {}
    # pass 1: known ions
    for i in cand:
        if int(i) in pre:
            out[int(i)] = pre[int(i)]
            continue
        z = detect_charge(mz, inten, float(mz[i]), float(inten[i]), ppm)
        m = match_known(float(mz[i]), ks, kmz, ppm, z)
        if m:
            ion, err = m
            out[int(i)] = AccountedIon(
                float(mz[i]),
                float(inten[i]),
                ion.status,
                ion.assignment,
                ion.note,
                ion.mz,
                err,
                abs(ion.charge),
                isotopes=ion.isotopes,
            )
    # pass 2: isotopes of labelled ions (most intense parent first)
    for i in sorted(cand, key=lambda j: mz[j]):
        if int(i) in out:
            continue
        for j in sorted(out, key=lambda j: -out[j].intensity):
            parent = out[j]
            if "isotope" in parent.assignment:
                continue
            z = parent.charge or 1
            d = mz[i] - parent.mz
            hit = None
            if parent.isotopes:  # the parent's own theoretical pattern (Cl2/Cl3, Br2: M+4, M+6 ...)
                mono = parent.isotopes[0][1]
                for off, imz, rel in parent.isotopes[1:]:
                    if (
                        abs(d - (imz - mono)) <= th.isotope_window_da / z + ppm_window(mz[i], ppm)
                        and inten[i] <= 2.2 * max(rel, 0.05) * parent.intensity
                    ):
                        hit = off
                        break
            for k in () if hit else (1, 2, 3, 4):
                limit = 1.3 if k == 1 else 2.2  # M+2 of Br2 is ~2x M
                if (
                    abs(d - k * C13_DELTA / z) <= th.isotope_window_da / z + ppm_window(mz[i], ppm)
                    and inten[i] <= limit * parent.intensity
                ):
                    hit = k
                    break
            if hit:
                out[int(i)] = AccountedIon(
                    float(mz[i]),
                    float(inten[i]),
                    parent.status,
                    f"{parent.assignment} isotope M+{hit}",
                    "",
                    None,
                    None,
                    z,
                )
                break
    # pass 3: background, else unexplained
    for i in cand:
        if int(i) in out:
            continue
        z = detect_charge(mz, inten, float(mz[i]), float(inten[i]), ppm)
        if is_background is not None and is_background(float(mz[i])):
            out[int(i)] = AccountedIon(
                float(mz[i]), float(inten[i]), "solvent", "background (present all run long)", "", None, None, z
            )
        else:
            note = f"charge {z}+" if z and z > 1 else ""
            out[int(i)] = AccountedIon(float(mz[i]), float(inten[i]), "suspicious", "unexplained", note, None, None, z)
    # pass 4: isotopes of unexplained / background ions (one entry per species, not per isotope)
    for i in sorted(cand, key=lambda j: mz[j]):
        a = out[int(i)]
        if a.assignment != "unexplained":
            continue
        for j in sorted(out, key=lambda j: -out[j].intensity):
            b = out[j]
            if j == int(i) or "isotope" in b.assignment or b.intensity < a.intensity / 2.2:
                continue
            z = b.charge or 1
            d = a.mz - b.mz
            isotope_k = next(
                (
                    k
                    for k in (1, 2, 3, 4)
                    if abs(d - k * C13_DELTA / z) <= th.isotope_window_da / z + ppm_window(a.mz, ppm)
                    and a.intensity <= (1.3 if k == 1 else 2.2) * b.intensity
                ),
                None,
            )
            if isotope_k:
                a.status, a.assignment, a.note = b.status, f"{b.assignment} isotope M+{isotope_k}", f"of m/z {b.mz:.4f}"
                break
    res = sorted(out.values(), key=lambda a: -a.intensity)
    # centroids split off one intense peak (TOF saturation, profile shoulders) within the search
    # window of a more intense ion belong to it: same status, one entry per real ion
    window = ppm * th.search_factor * 1e-6
    for n_, a in enumerate(res):
        if a.status == "consistent" and a.assignment.startswith("target") and "isotope" not in a.assignment:
            continue
        for b in res[:n_]:
            if abs(a.mz - b.mz) <= b.mz * window:
                a.status, a.assignment = b.status, b.assignment
                a.note = b.note if "split centroid" in b.note else f"split centroid of m/z {b.mz:.4f}"
                a.theoretical_mz, a.ppm_error = b.theoretical_mz, None
                break
    for a in res:
        a.relative = a.intensity / main_intensity if main_intensity > 0 else 0.0
    return res
