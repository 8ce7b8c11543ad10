"""Ions that explain a peak: the target's adducts, multimers and in-source fragments, the chemistry's
named side products (verify.structure.side_products) and common LC-MS contaminants
(reference/ms_contaminants.tsv)."""

from __future__ import annotations

import functools
import re
from collections import Counter
from dataclasses import dataclass

from rdkit import Chem

from .. import reference
from ..structure.masses import (
    composition,
    count_basic_nitrogens,
    hill_formula,
    ion_composition,
    ion_mz,
    isotope_pattern,
    parse_formula,
)
from ..structure.side_products import side_products

_ADDUCT = re.compile(r"^\[(\d*)M((?:[+-]\d*[A-Z][A-Za-z0-9]*)*)\](\d*)([+-])$")
_TERM = re.compile(r"([+-])(\d*)([A-Z][A-Za-z0-9]*)")

BOC_SMARTS = Chem.MolFromSmarts("[NX3]C(=O)OC([CH3])([CH3])[CH3]")
ACID_SMARTS = Chem.MolFromSmarts(
    "[$([CX3](=O)[OX2H1]),$([SX4](=O)(=O)[OX2H1]),$([PX4](=O)[OX2H1]),$(c[OX2H1]),$([NX3H1](S(=O)=O)),"
    "$([nH]1nnnc1),$([NH1](C=O)C=O)]"
)

HYDROXY_SMARTS = Chem.MolFromSmarts("[OX2H1]")

# in-source fragments of the target's protonated / sodiated molecule
FRAGMENTS = (
    ("C4H8", "in-source loss of isobutene (Boc, -56.0626)", "boc"),
    ("C5H8O2", "in-source loss of Boc (C5H8O2, -100.0524)", "boc"),
    ("H2O", "in-source loss of water (-18.0106)", "hydroxy"),
)


@dataclass(frozen=True)
class KnownIon:
    mz: float
    charge: int  # signed
    status: str  # consistent | impurity | solvent
    assignment: str
    note: str = ""
    formula: str = ""
    isotopes: tuple = ()  # ((offset, mz, relative), ...)

    @property
    def polarity(self) -> int:
        return 1 if self.charge > 0 else -1


def parse_adduct(name: str) -> tuple[int, str, str, int]:
    """'[2M+Na]+' -> (2, 'Na', '', 1); '[M+2H]2+' -> (1, 'H2', '', 2); '[M-H]-' -> (1, '', 'H', -1)."""
    m = _ADDUCT.match(name.strip())
    if not m:
        raise ValueError(f"cannot parse adduct {name!r}")
    multimer = int(m.group(1) or 1)
    add: Counter[str] = Counter()
    remove: Counter[str] = Counter()
    for sign, n, formula in _TERM.findall(m.group(2)):
        k = int(n or 1)
        target = add if sign == "+" else remove
        for el, c in parse_formula(formula).items():
            target[el] += c * k
    z = int(m.group(3) or 1) * (1 if m.group(4) == "+" else -1)
    return multimer, hill_formula(add) if add else "", hill_formula(remove) if remove else "", z


def make_ion(
    counts: Counter, adduct: str, status: str, assignment: str, note: str = "", n_isotopes: int = 0
) -> KnownIon | None:
    multimer, add, remove, z = parse_adduct(adduct)
    try:
        comp = ion_composition(Counter(counts), multimer, add, remove)
    except ValueError:
        return None
    if not comp:
        return None
    mz = ion_mz(comp, z)
    iso: tuple = ()
    if n_isotopes:
        from ..structure.masses import ELECTRON_MASS

        iso = tuple(
            (p.offset, (p.mass - z * ELECTRON_MASS) / abs(z), p.relative) for p in isotope_pattern(comp, n_isotopes)
        )
    return KnownIon(mz, z, status, assignment, note, hill_formula(comp), iso)


def _adduct_names() -> list[tuple[str, str]]:
    return [(r["name"], r["polarity"]) for r in reference.table("adducts.tsv")]


def has_boc(mol: Chem.Mol) -> bool:
    return mol.HasSubstructMatch(BOC_SMARTS)


def has_acidic_group(mol: Chem.Mol) -> bool:
    return mol.HasSubstructMatch(ACID_SMARTS)


def target_ions(mol: Chem.Mol) -> list[KnownIon]:
    """Every ion of the target itself: all adducts (conditional ones too), multimers, fragments."""
    counts = composition(mol)
    out: list[KnownIon] = []
    names = [n for n, _ in _adduct_names()]
    extra = ["[M+3H]3+", "[M+H+Na]2+", "[2M+Na]+", "[2M+NH4]+", "[2M-H]-", "[M+Na-2H]-"]
    for name in names + [e for e in extra if e not in names]:
        ion = make_ion(counts, name, "consistent", f"target {name}", n_isotopes=7)
        if ion:
            out.append(ion)
    flags = {"boc": has_boc(mol), "hydroxy": mol.HasSubstructMatch(HYDROXY_SMARTS)}
    for loss, note, need in FRAGMENTS:
        if not flags[need]:
            continue
        lc = parse_formula(loss)
        for name, tag in (("[M+H]+", "[M+H-{}]+"), ("[M+Na]+", "[M+Na-{}]+")):
            frag = Counter(counts)
            frag.subtract(lc)
            if any(v < 0 for v in frag.values()):
                continue
            ion = make_ion(+frag, name, "consistent", f"target {tag.format(loss)}", note, n_isotopes=7)
            if ion:
                out.append(ion)
    return out


@functools.lru_cache(maxsize=64)
def _side_product_ions(smiles: str) -> tuple[KnownIon, ...]:
    mol = Chem.MolFromSmiles(smiles)
    out = []
    for sp in side_products(mol):
        spmol = sp.mol
        if spmol is None:
            continue
        counts = composition(spmol)
        basic = count_basic_nitrogens(spmol)
        for name, _pol in _adduct_names():
            if name == "[M+2H]2+" and basic < 2:
                continue
            if name.startswith("[2M"):
                continue
            ion = make_ion(
                counts,
                name,
                "impurity",
                f"{sp.name} {name}",
                f"{sp.formula}, {sp.delta_mass:+.4f} Da from the target",
                n_isotopes=3,
            )
            if ion:
                out.append(ion)
    return tuple(out)


def side_product_ions(mol: Chem.Mol) -> list[KnownIon]:
    return list(_side_product_ions(Chem.MolToSmiles(mol)))


@functools.lru_cache(maxsize=1)
def contaminant_ions() -> tuple[KnownIon, ...]:
    out = []
    for row in reference.table("ms_contaminants.tsv"):
        end = parse_formula(row.get("end_formula") or "")
        rep = row.get("repeat_formula")
        ns = range(int(row["n_min"]), int(row["n_max"]) + 1) if rep else range(1)
        for n in ns:
            counts = Counter(end)
            if rep:
                for el, c in parse_formula(rep).items():
                    counts[el] += c * n
            counts = +counts
            label = row["name"] + (f" n={n}" if rep else "")
            # reagents are the sample's own impurities; everything else is LC-MS background
            status = "impurity" if row["class"] == "reagent" else "solvent"
            for adduct in str(row["adducts"]).split(","):
                ion = make_ion(
                    counts, adduct.strip(), status, f"{label} {adduct.strip()}", f"{row['class']}; {row['source']}"
                )
                if ion:
                    out.append(ion)
    return tuple(out)


def reagent_ions(reagents) -> list[KnownIon]:
    """Ions of user-named starting materials / reagents: [(name, SMILES or formula), ...] -> impurity ions."""
    out: list[KnownIon] = []
    for name, spec in reagents or ():
        mol = Chem.MolFromSmiles(spec)
        if mol is not None:
            counts = composition(mol)
        else:
            counts = parse_formula(spec)
        for adduct, _pol in _adduct_names():
            ion = make_ion(
                counts,
                adduct,
                "impurity",
                f"{name} {adduct}",
                f"{hill_formula(counts)}, given as a reagent",
                n_isotopes=3,
            )
            if ion:
                out.append(ion)
    return out
