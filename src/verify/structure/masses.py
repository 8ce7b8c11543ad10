"""Formula, monoisotopic mass, adduct ions and isotope patterns.

Element and isotope masses/abundances come from pyteomics' NIST table (`pyteomics.mass.nist_mass`);
nothing here hard-codes an atomic mass. The electron mass is taken into account for every ion.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
from pyteomics import mass as pmass
from rdkit import Chem
from rdkit.Chem import rdMolDescriptors

from .. import reference
from ..errors import InputError

ELECTRON_MASS = pmass.nist_mass["e*"][0][0]

_FORMULA_TOKEN = re.compile(r"([A-Z][a-z]?)(\d*)")


def _label(symbol: str, isotope: int) -> str:
    """Composition key of an atom: its element symbol, or `C[13]` (pyteomics' notation) when labelled."""
    return f"{symbol}[{isotope}]" if isotope else symbol


def _split_label(key: str) -> tuple[str, int]:
    """'C[13]' -> ('C', 13); 'C' -> ('C', 0)."""
    if key.endswith("]") and "[" in key:
        el, iso = key[:-1].split("[", 1)
        return el, int(iso)
    return key, 0


def composition(mol: Chem.Mol) -> Counter:
    """Element counts of a molecule, implicit hydrogens included.

    An isotope-labelled atom ([13C], [2H]) is counted under its own key, `C[13]`, `H[2]`, with that
    isotope's mass; its implicit hydrogens are ordinary hydrogen.

    Raises
    ------
    InputError
        An element or isotope that the NIST mass table (pyteomics) does not hold, e.g. `[Og]`, `[*]` or
        `[99C]`: its mass is unknown, so no formula mass or ion can be computed.
    """
    counts: Counter = Counter()
    for atom in mol.GetAtoms():
        key = _label(atom.GetSymbol(), atom.GetIsotope())
        _check_mass_known(key, atom.GetIdx())
        counts[key] += 1
        counts["H"] += atom.GetTotalNumHs()
    return +counts


_NOT_ELEMENTS = {"e*", "e-", "H+"}  # entries of nist_mass that are particles, not atoms


def _check_mass_known(key: str, idx: int | None = None) -> None:
    el, iso = _split_label(key)
    where = f" (atom {idx + 1})" if idx is not None else ""
    table = pmass.nist_mass.get(el) if el not in _NOT_ELEMENTS else None
    if not table:
        what = "a dummy atom (*)" if el == "*" else f"element {el!r}"
        raise InputError(f"structure has {what}{where} that is not in the NIST mass table; its mass is unknown")
    if iso and iso not in table:
        raise InputError(
            f"structure has isotope {iso}{el}{where} that is not in the NIST mass table "
            f"(known: {min(k for k in table if k)}{el}-{max(table)}{el})"
        )


def parse_formula(formula: str) -> Counter:
    """'C4H8' -> Counter({'C': 4, 'H': 8}); '' -> empty."""
    counts: Counter = Counter()
    pos = 0
    for m in _FORMULA_TOKEN.finditer(formula):
        if m.start() != pos:
            raise ValueError(f"bad formula {formula!r}")
        counts[m.group(1)] += int(m.group(2) or 1)
        pos = m.end()
    if pos != len(formula):
        raise ValueError(f"bad formula {formula!r}")
    return counts


def hill_formula(counts: Counter | dict) -> str:
    """Hill order: C, H, then the rest alphabetically (alphabetical throughout without carbon).

    A labelled isotope follows its element, written `[13C]`, `[2H]3` (e.g. `CH[2H]3O` for CD3-OH's carbon
    part), as in RDKit's and CAS's formulas.
    """
    counts = {k: v for k, v in counts.items() if v}
    elements = {_split_label(k)[0] for k in counts}
    if "C" in elements:
        order = ["C"] + (["H"] if "H" in elements else []) + sorted(e for e in elements if e not in ("C", "H"))
    else:
        order = sorted(elements)
    rank = {e: i for i, e in enumerate(order)}
    keys = sorted(counts, key=lambda k: (rank[_split_label(k)[0]], _split_label(k)[1]))

    def written(k: str) -> str:
        el, iso = _split_label(k)
        return f"[{iso}{el}]" if iso else el

    return "".join(f"{written(k)}{counts[k] if counts[k] != 1 else ''}" for k in keys)


def _mono_mass(key: str) -> float:
    el, iso = _split_label(key)
    try:
        return pmass.nist_mass[el][iso][0]
    except KeyError:
        _check_mass_known(key)
        raise


def monoisotopic_mass(counts: Counter | dict) -> float:
    """Neutral monoisotopic mass (Da) of an element composition (keys `C`, or `C[13]` for a label).

    Raises InputError for an element or isotope not in the NIST table.
    """
    return sum(_mono_mass(el) * n for el, n in counts.items() if n)


def molecular_formula(mol: Chem.Mol) -> str:
    return rdMolDescriptors.CalcMolFormula(mol)


@functools.cache
def _element_distribution(element: str) -> tuple[np.ndarray, np.ndarray]:
    """Abundance and abundance-weighted mass by nominal offset from the lightest abundant isotope.

    A labelled isotope (`C[13]`) is that one isotope only.
    """
    el, iso = _split_label(element)
    if el not in pmass.nist_mass or (iso and iso not in pmass.nist_mass[el]):
        _check_mass_known(element)
    if iso:
        return np.array([1.0]), np.array([pmass.nist_mass[el][iso][0]])
    isotopes = [(m, ab) for k, (m, ab) in pmass.nist_mass[el].items() if k != 0 and ab > 0]
    if not isotopes:  # monoisotopic-only entries
        m = pmass.nist_mass[el][0][0]
        return np.array([1.0]), np.array([m])
    isotopes.sort()
    lightest = round(isotopes[0][0])
    width = round(isotopes[-1][0]) - lightest + 1
    ab = np.zeros(width)
    am = np.zeros(width)
    for m, a in isotopes:
        ab[round(m) - lightest] += a
        am[round(m) - lightest] += a * m
    return ab, am


def _convolve(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray], n: int):
    ab = np.convolve(a[0], b[0])[:n]
    am = (np.convolve(a[1], b[0]) + np.convolve(a[0], b[1]))[:n]
    return ab, am


def _power(dist, k: int, n: int):
    result = (np.array([1.0]), np.array([0.0]))
    base = dist
    while k:
        if k & 1:
            result = _convolve(result, base, n)
        k >>= 1
        if k:
            base = _convolve(base, base, n)
    return result


@dataclass(frozen=True)
class IsotopePeak:
    offset: int  # nominal offset from the monoisotopic peak (M+offset)
    mass: float  # abundance-weighted mean neutral mass of the isotopologues at this offset (Da)
    relative: float  # relative abundance, monoisotopic = 1.0


def isotope_pattern(counts: Counter | dict, n_peaks: int = 4) -> list[IsotopePeak]:
    """Aggregated isotope pattern M, M+1, ... by exact polynomial convolution (no pruning).

    Exact to float precision for all elements in pyteomics' table, so 2H, 17O, 33S and 37Cl/81Br are
    all included (pyteomics' `isotopologues` with default threshold drops 2H/17O, see field notes).
    """
    total = (np.array([1.0]), np.array([0.0]))
    # monoisotopic = lightest abundant isotope for every organic element we meet
    for el, k in counts.items():
        if k:
            total = _convolve(total, _power(_element_distribution(el), int(k), n_peaks + 2), n_peaks + 2)
    ab, am = total
    peaks = []
    for i in range(min(n_peaks, len(ab))):
        if ab[i] <= 0:
            continue
        peaks.append(IsotopePeak(offset=i, mass=float(am[i] / ab[i]), relative=float(ab[i] / ab[0])))
    return peaks


@dataclass(frozen=True)
class AdductIon:
    """An ion HRMS should show for the target, with its isotope pattern."""

    name: str  # e.g. "[M+H]+"
    polarity: str  # "positive" | "negative"
    charge: int  # signed
    mz: float  # monoisotopic m/z
    formula: str  # Hill formula of the ion (without charge)
    priority: int
    note: str = ""
    isotopes: tuple = field(default_factory=tuple)  # ((offset, mz, relative), ...)

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "polarity": self.polarity,
            "charge": self.charge,
            "mz": round(self.mz, 6),
            "formula": self.formula,
            "priority": self.priority,
            "note": self.note,
            "isotopes": [
                {"label": "M" if off == 0 else f"M+{off}", "mz": round(mz, 6), "relative": round(rel, 5)}
                for off, mz, rel in self.isotopes
            ],
        }


def ion_composition(counts: Counter, multimer: int, add: str, remove: str) -> Counter:
    ion = Counter({el: n * multimer for el, n in counts.items()})
    ion.update(parse_formula(add or ""))
    ion.subtract(parse_formula(remove or ""))
    if any(v < 0 for v in ion.values()):
        raise ValueError(f"cannot remove {remove} from the molecule")
    return +ion


def ion_mz(counts: Counter, charge: int) -> float:
    """m/z of an ion of the given element composition and signed charge (electron mass included)."""
    return (monoisotopic_mass(counts) - charge * ELECTRON_MASS) / abs(charge)


def count_basic_nitrogens(mol: Chem.Mol) -> int:
    """Nitrogens that take a proton in ESI+: amines (not amides, carbamates, sulfonamides, anilines
    with strongly withdrawing groups), amidines and pyridine-type aromatic N."""
    patt = Chem.MolFromSmarts(
        "[$([NX3;H2,H1,H0;!$(N-[C,S,P]=[O,S,N]);!$(N-a);!$(N#*);!$(N=*);!$(N-N=*)]),$([nX2;r6]),$([NX3]-a);!$([NX3]-a~[$([N+](=O)[O-]),$(C=O)])]"
    )
    return len(mol.GetSubstructMatches(patt))


def _ion(name: str, polarity: str, charge: int, comp: Counter, priority: int, note: str, n_isotopes: int) -> AdductIon:
    pattern = isotope_pattern(comp, n_isotopes)
    iso = tuple((p.offset, (p.mass - charge * ELECTRON_MASS) / abs(charge), p.relative) for p in pattern)
    return AdductIon(
        name=name,
        polarity=polarity,
        charge=charge,
        mz=ion_mz(comp, charge),
        formula=hill_formula(comp),
        priority=priority,
        note=note,
        isotopes=iso,
    )


def _charge_label(z: int) -> str:
    return "+" if z == 1 else f"{z}+"


def adduct_ions(mol: Chem.Mol, n_isotopes: int = 4, all_adducts: bool = False) -> list[AdductIon]:
    """Ions to look for, from `reference/adducts.tsv`, each with its isotope pattern (m/z, relative).

    Conditional adducts ([M+2H]2+ needs two basic nitrogens) are left out unless `all_adducts`. A structure
    that keeps a positive charge (a quaternary ammonium, an N-alkyl pyridinium or amidinium: no proton to lose,
    so the target reader leaves it charged) is seen as the cation itself, [M]+, and with a basic nitrogen also
    as [M+H]2+; it forms no protonated, sodiated or negative-mode adducts.
    """
    counts = composition(mol)
    n_basic = count_basic_nitrogens(mol)
    z0 = Chem.GetFormalCharge(mol)
    if z0 > 0:
        ions = [
            _ion(
                f"[M]{_charge_label(z0)}",
                "positive",
                z0,
                counts,
                1,
                "permanently charged cation (seen as itself, not protonated)",
                n_isotopes,
            )
        ]
        if n_basic or all_adducts:
            comp = ion_composition(counts, 1, "H", "")
            ions.append(
                _ion(
                    f"[M+H]{_charge_label(z0 + 1)}",
                    "positive",
                    z0 + 1,
                    comp,
                    3,
                    "the cation protonated on a basic nitrogen",
                    n_isotopes,
                )
            )
        return ions
    ions = []
    for row in reference.table("adducts.tsv"):
        cond = row.get("condition") or "always"
        if cond == "basic_n>=2" and n_basic < 2 and not all_adducts:
            continue
        try:
            comp = ion_composition(counts, int(row["multimer"]), row.get("add") or "", row.get("remove") or "")
        except ValueError:
            continue  # e.g. [M-H]- of a molecule without H
        ions.append(
            _ion(
                row["name"],
                row["polarity"],
                int(row["charge"]),
                comp,
                int(row["priority"]),
                row.get("note") or "",
                n_isotopes,
            )
        )
    return ions
