"""The 1H tables of the sample compounds (`sample_spectra/compounds.tsv`) and the impurity table.

A table row is one group of equivalent protons: ppm, multiplicity, J list, nH, extra line width.
`multiplet_lines` turns one row into first-order lines (offset in Hz, relative weight) with a splitting
tree built by repeated binomial convolution (no nmrsim: it pulls in numba/sparse).
"""

from __future__ import annotations

import csv
import functools
import os
from dataclasses import dataclass
from importlib import resources
from math import comb
from pathlib import Path

import numpy as np

from .. import reference
from ..errors import InputError

# multiplicity word -> number of equivalent spins per coupling letter
_SPINS = {"s": 0, "d": 1, "t": 2, "q": 3, "quint": 4, "p": 4, "sext": 5, "sept": 6, "hept": 6}


@dataclass(frozen=True)
class Group:
    ppm: float
    mult: str  # s, d, t, q, quint, dd, dt, td, m, br s, ...
    j_hz: tuple[float, ...]
    n_h: float
    extra_lw_hz: float = 0.0
    assignment: str = ""


@dataclass(frozen=True)
class Compound:
    key: str
    smiles: str
    solvent: str
    groups: tuple[Group, ...]

    @property
    def total_h(self) -> float:
        return sum(g.n_h for g in self.groups)


NAMES = {
    "boc_benzyl_diazepane": "tert-butyl 4-benzyl-1,4-diazepane-1-carboxylate",
    "benzyl_diazepane": "1-benzyl-1,4-diazepane",
    "boc_diazepane": "tert-butyl 1,4-diazepane-1-carboxylate",
    "homopiperazine": "1,4-diazepane",
    "fluorobenzyl_diazepane": "1-(4-fluorobenzyl)-1,4-diazepane",
    "boc_chlorobenzyl_diazepane": "tert-butyl 4-(4-chlorobenzyl)-1,4-diazepane-1-carboxylate",
    "bromobenzyl_methyl_diazepane": "1-(4-bromobenzyl)-4-methyl-1,4-diazepane",
    "methoxybenzyl_diazepane": "1-(4-methoxybenzyl)-1,4-diazepane",
    "acetyl_benzyl_diazepane": "1-(4-benzyl-1,4-diazepan-1-yl)ethan-1-one",
    "benzoyl_methyl_diazepane": "(4-methyl-1,4-diazepan-1-yl)(phenyl)methanone",
    "boc_ethyl_diazepane": "tert-butyl 4-ethyl-1,4-diazepane-1-carboxylate",
    "benzyl_diazepane_2hcl": "1-benzyl-1,4-diazepane dihydrochloride",
    "benzyl_diazepane_tfa": "1-benzyl-1,4-diazepane bis(trifluoroacetate)",
    "benzyl_diazepane_2hcl_d2o": "1-benzyl-1,4-diazepane dihydrochloride",
    "dibenzyl_diazepane": "1,4-dibenzyl-1,4-diazepane",
    "triphenylphosphine_oxide": "triphenylphosphine oxide",
}


def compounds_path() -> Path:
    """Path of the sample compounds' 1H tables, `compounds.tsv`.

    Returns
    -------
    pathlib.Path
        `VERIFY_SAMPLE_SPECTRA/compounds.tsv` when that variable names a folder, else the copy installed with
        the package (`verify/samples/compounds.tsv`, in the repository a symlink to
        `sample_spectra/compounds.tsv`), so a wheel regenerates the demo data without a checkout.

    Raises
    ------
    InputError
        When the file is not there (a package built without its package data).
    """
    env = os.environ.get("VERIFY_SAMPLE_SPECTRA")
    # Installed packages are plain folders (pip never installs zipped), so the resource is a real file.
    path = Path(env) / "compounds.tsv" if env else Path(str(resources.files("verify.samples") / "compounds.tsv"))
    if not path.is_file():
        raise InputError("sample compound tables (compounds.tsv) not found", str(path))
    return path


@functools.cache
def _load_compounds(path: str) -> dict[str, Compound]:
    with open(path, newline="", encoding="utf-8") as fh:
        lines = [ln for ln in fh if ln.strip() and not ln.startswith("#")]
    rows = list(csv.DictReader(lines, delimiter="\t"))
    out: dict[str, list] = {}
    meta: dict[str, tuple[str, str]] = {}
    for r in rows:
        key = r["compound"].strip()
        js = tuple(float(x) for x in (r.get("J_Hz") or "").split(",") if x.strip())
        g = Group(
            ppm=float(r["ppm"]),
            mult=r["mult"].strip(),
            j_hz=js,
            n_h=float(r["nH"]),
            extra_lw_hz=float(r["extra_lw_Hz"]) if (r.get("extra_lw_Hz") or "").strip() else 0.0,
            assignment=(r.get("assignment") or "").strip(),
        )
        out.setdefault(key, []).append(g)
        meta[key] = (r["smiles"].strip(), r["solvent"].strip())
    return {k: Compound(k, meta[k][0], meta[k][1], tuple(v)) for k, v in out.items()}


def compounds(path: str | Path | None = None) -> dict[str, Compound]:
    return _load_compounds(str(path or compounds_path()))


def multiplet_lines(mult: str, j_hz: tuple[float, ...]) -> tuple[np.ndarray, np.ndarray]:
    """First-order line offsets (Hz, relative to the centre) and weights (sum 1) of a multiplet."""
    word = mult.replace("br", "").replace("app", "").strip() or "s"
    if word in _SPINS:
        letters = [_SPINS[word]] if word != "s" else []
    elif word == "m":
        letters = [1] * len(j_hz)
    elif set(word) <= set("dtq"):
        letters = [_SPINS[ch] for ch in word]
    else:
        letters = [1] * len(j_hz)
    offs = np.zeros(1)
    w = np.ones(1)
    for n_spins, j in zip(letters, j_hz):
        k = np.arange(n_spins + 1)
        o = (k - n_spins / 2.0) * j
        b = np.array([comb(n_spins, int(i)) for i in k], float) / 2.0**n_spins
        offs = (offs[:, None] + o[None, :]).ravel()
        w = (w[:, None] * b[None, :]).ravel()
    return offs, w / w.sum()


_DEFAULT_J = {  # typical vicinal J of the impurities' multiplets (Hz); Fulmer 2010 gives shifts, these the couplings
    "ethyl acetate": 7.1,
    "triethylamine": 7.2,
    "ethanol": 7.0,
    "diethyl ether": 7.0,
    "2-propanol": 6.1,
    "n-hexane": 7.0,
    "THF": 6.5,
    "toluene": 7.5,
    "grease": 7.0,
}


def impurity_groups(name: str, solvent_key: str) -> list[Group]:
    """Signals of a named impurity in one solvent (`reference/impurities.tsv`) as table groups."""
    rows = [r for r in reference.table("impurities.tsv") if r["impurity"] == name and r["solvent"] == solvent_key]
    if not rows:
        raise KeyError(f"impurity {name!r} not in reference/impurities.tsv for {solvent_key}")
    out = []
    for r in rows:
        mult = str(r["mult"])
        j = _DEFAULT_J.get(name, 7.0)
        word = mult.replace("br", "").strip()
        js = () if word in ("s", "") else ((j,) if word in _SPINS else (j, j))
        extra = 2.0 if mult.startswith("br") or word == "m" else 0.0
        out.append(Group(float(r["ppm"]), mult, js, float(r["nH"]), extra, f"{name} {r['label']}"))
    return out
