"""Learned 1H shift windows: csp5's quantile model behind the `ShiftPredictor` interface.

csp5 (MIT; a graph network trained on about 2.5 million experimental 1H spectra, solvent-conditioned)
ships the quantile model ``CSP5q-1H``: for each hydrogen 99 quantiles (1 %..99 %) of its predicted shift, that
is, a window with a stated coverage. This module turns those quantiles into the project's windows:

* per H, the model's 5-95 % interval widened on both sides by a conformal margin, one for H on sp2 and one for H
  on sp3 carbons (``reference/shift_model.tsv``, fitted on real assigned spectra by conformalized quantile
  regression, see that file's header);
* per heavy atom, the union over its H (a CH2 whose two H the model separates gets both), centred on their
  mean median, with each H's own median kept (``h_centres``: the two faces of a ring CH2);
* exchangeable H (N-H, O-H, S-H: the model under-covers them) get no model window; the caller keeps the rules.

The cost stays off the hot path. torch and csp5 are imported only when a prediction is not cached, and then in a
spawned helper process, never in the caller (torch does not survive fork, and plates fork their workers); predictions
are cached on disk (SQLite in the user cache folder, ``VERIFY_CACHE_DIR`` overrides) keyed by the canonical
SMILES, the solvent and the model's id and version; csp5 loads its model once per process. `prefetch` predicts
many structures in one batch (a plate does this before its wells run).

`HybridShiftPredictor` is the project's default: rule windows for exchangeable H and the 1,4-diazepane ring
(its neighbour- and protonation-dependent table), the model's windows for every other C-H, each window saying
where it came from (``source`` = ``model`` or the rule table). Without csp5 installed, or when the model cannot
take a structure, the rules stand and `HybridShiftPredictor.status` says why.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import importlib.util
import json
import os
import sqlite3
import sys
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from rdkit import Chem

from .. import reference
from .diazepane import find_diazepanes
from .shifts import RuleShiftPredictor, ShiftWindow

MODEL_NAME = "CSP5q-1H"  # csp5's 99-quantile 1H model
MODEL_ID = "csp5q-1h"
QUANTILE_LEVELS = np.arange(1, 100) / 100.0  # the model's quantile columns q01..q99

# project solvent key -> csp5 solvent vocabulary (csp5.model_registry.SOLVENT_VOCAB); solvents the model does
# not know are predicted as "unknown" (the model's solvent-agnostic token)
CSP5_SOLVENTS = {
    "cdcl3": "cdcl3",
    "dmso": "dmso-d6",
    "cd3od": "cd3od",
    "acetone": "acetone-d6",
    "cd2cl2": "cd2cl2",
    "c6d6": "c6d6",
    "cd3cn": "cd3cn",
    "d2o": "d2o",
    "thf": "thf-d8",
    "toluene": "toluene-d8",
    "dmf": "dmf-d7",
}

_EXCHANGEABLE_ELEMENTS = (7, 8, 16)  # H on N, O, S exchange and H-bond: left to the rules


@dataclass(frozen=True)
class WindowCalibration:
    """How a model window is cut from the quantiles (values and their source in reference/shift_model.tsv).

    Attributes
    ----------
    lo_level, hi_level : float
        Quantile levels (0-1) of the model's own interval, per H (5 % and 95 %: its 90 % interval).
    margin_sp2_ppm, margin_sp3_ppm : float
        Conformal margins (ppm) added outside that interval on both sides, for H on sp2 carbons (aromatic,
        vinylic, formyl) and on sp3 carbons: conformalized quantile regression (Romano, Patterson and Candes
        2019), one margin per class (Mondrian: the model is much surer of ring-current and vinylic H than of
        aliphatic ones, whose conformations it sees one at a time), fitted on real assigned spectra so that the
        widened windows hold the stated share of real shifts (bench/calibrate_shift_windows.py; figures in
        the table).
    """

    lo_level: float
    hi_level: float
    margin_sp2_ppm: float
    margin_sp3_ppm: float

    def margin(self, carbon_class: str) -> float:
        return self.margin_sp2_ppm if carbon_class == "sp2" else self.margin_sp3_ppm


def carbon_class(atom: Chem.Atom) -> str:
    """'sp3' for an sp3 carbon, 'sp2' otherwise (aromatic, vinylic, imine, formyl, alkyne CH): the margin class."""
    return "sp3" if atom.GetHybridization() == Chem.HybridizationType.SP3 else "sp2"


@functools.cache
def calibration() -> WindowCalibration:
    meta = reference.table_meta("shift_model.tsv")
    return WindowCalibration(
        lo_level=float(meta["lo_level"]),
        hi_level=float(meta["hi_level"]),
        margin_sp2_ppm=float(meta["margin_sp2_ppm"]),
        margin_sp3_ppm=float(meta["margin_sp3_ppm"]),
    )


def csp5_installed() -> bool:
    """Whether csp5 (and so torch) can be imported, without importing either."""
    return importlib.util.find_spec("csp5") is not None and importlib.util.find_spec("torch") is not None


def model_version() -> str:
    """The model's id with the csp5 release that ships its weights (a new release may retrain them)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"{MODEL_ID}@{version('csp5')}"
    except PackageNotFoundError:
        return MODEL_ID


def model_disabled() -> bool:
    """`VERIFY_SHIFT_MODEL=rules` turns the learned predictor off (the rules alone, as before it existed)."""
    return os.environ.get("VERIFY_SHIFT_MODEL", "").strip().lower() in ("rules", "off", "none", "0")


# ----------------------------------------------------------------------------------------------- the cache


def cache_dir() -> Path:
    """Folder of the prediction cache: ``VERIFY_CACHE_DIR``, else ``$XDG_CACHE_HOME/verify``, else
    ``~/.cache/verify``."""
    env = os.environ.get("VERIFY_CACHE_DIR")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "verify"


class PredictionCache:
    """Per-H quantiles on disk, keyed by (canonical SMILES, csp5 solvent, model version).

    Best effort by design: a cache that cannot be opened or written (read-only home, full disk, a locked
    file) costs a prediction, never a result. Safe across the processes of a plate (SQLite WAL, busy timeout).
    """

    def __init__(self, path: Path | None = None):
        self.path = path if path is not None else cache_dir() / "shift_predictions.sqlite"
        self._con: sqlite3.Connection | None = None
        self._pid = 0
        self._failed = False
        self._memory: dict[tuple[str, str, str], dict] = {}
        self._lock = threading.Lock()

    def _connect(self) -> sqlite3.Connection | None:
        if self._con is not None and self._pid != os.getpid():
            self._con = None  # inherited through fork: SQLite connections must not cross it (left unclosed)
        if self._con is not None or self._failed:
            return self._con
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            con = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
            con.execute("PRAGMA journal_mode=WAL")
            con.execute(
                "CREATE TABLE IF NOT EXISTS prediction (smiles TEXT NOT NULL, solvent TEXT NOT NULL, "
                "model TEXT NOT NULL, payload TEXT NOT NULL, PRIMARY KEY (smiles, solvent, model))"
            )
            con.commit()
            self._con = con
            self._pid = os.getpid()
        except (sqlite3.Error, OSError):
            self._failed = True
        return self._con

    def get(self, smiles: str, solvent: str, model: str) -> dict | None:
        key = (smiles, solvent, model)
        if key in self._memory:
            return self._memory[key]
        with self._lock:
            con = self._connect()
            if con is None:
                return None
            try:
                row = con.execute(
                    "SELECT payload FROM prediction WHERE smiles=? AND solvent=? AND model=?", key
                ).fetchone()
            except sqlite3.Error:
                return None
        if row is None:
            return None
        try:
            payload = json.loads(row[0])
        except ValueError:
            return None
        self._memory[key] = payload
        return payload

    def put(self, smiles: str, solvent: str, model: str, payload: dict) -> None:
        key = (smiles, solvent, model)
        self._memory[key] = payload
        with self._lock:
            con = self._connect()
            if con is None:
                return
            try:
                con.execute("INSERT OR REPLACE INTO prediction VALUES (?, ?, ?, ?)", (*key, json.dumps(payload)))
                con.commit()
            except sqlite3.Error:
                pass


# ------------------------------------------------------------------------------------------ the predictions


def canonical_order(mol: Chem.Mol) -> tuple[str, list[int]]:
    """Canonical isomeric SMILES of `mol` and, for each atom of the molecule parsed back from it, the index of
    the same atom in `mol` (the cache is keyed by the canonical SMILES; callers' atom orders differ)."""
    smiles = Chem.MolToSmiles(mol)
    order = list(mol.GetPropsAsDict(True, True).get("_smilesAtomOutputOrder", []))
    if len(order) != mol.GetNumAtoms():  # older RDKit: fall back to a substructure match
        back = Chem.MolFromSmiles(smiles)
        order = list(mol.GetSubstructMatch(back)) if back is not None else []
    return smiles, order


def _run_csp5(smiles: list[str], solvent: str) -> tuple[dict[str, dict], dict[str, str]]:
    """One batched csp5 call: {smiles: payload} for the structures it predicted, {smiles: reason} for the rest.

    A payload maps each heavy atom (index in the molecule parsed from that SMILES) to the quantile rows of its
    H: ``{"atoms": {"3": [[q01..q99], [q01..q99]], ...}}``.
    """
    import csp5  # noqa: PLC0415 - heavy (torch): only when a prediction is not cached

    result = csp5.predict_smiles(
        smiles, nucleus="1H", model_name=MODEL_NAME, solvent=solvent, random_seed=0, embed_stall_timeout_s=60.0
    )
    reasons: dict[str, str] = {}
    for failure in result.failures:
        reason, _, smi = str(failure).partition("\t")
        reasons[smi or reason] = reason.replace("_", " ")
    df = result.predictions
    qcols = [f"shift_q{k:02d}_ppm" for k in range(1, 100)]
    payloads: dict[str, dict] = {}
    if len(df):
        for smi, rows in df.groupby("smiles", sort=False):
            mol_h = Chem.AddHs(Chem.MolFromSmiles(str(smi)))
            atoms: dict[str, list[list[float]]] = {}
            q = rows[qcols].to_numpy(dtype=float)
            for h_idx, qrow in zip(rows["atom_index"].to_numpy(dtype=int), q):
                heavy = mol_h.GetAtomWithIdx(int(h_idx)).GetNeighbors()[0].GetIdx()
                atoms.setdefault(str(heavy), []).append([round(float(v), 3) for v in qrow])
            payloads[str(smi)] = {"atoms": atoms}
    for smi in smiles:
        if smi not in payloads and smi not in reasons:
            reasons[smi] = "no prediction returned"
    return payloads, reasons


# torch's intra-op thread pool does not survive fork(): a plate worker forked from a process that has run the
# model hangs on its first prediction. So the model never runs in a process that may fork: it runs in one helper
# process per process that needs it, started by spawn (a fresh interpreter) on the first cache miss and kept for
# the process's lifetime (the weights load once per process, once per plate worker).
_helper = None
_helper_pid = 0
_helper_lock = threading.Lock()


def _helper_pool():
    global _helper, _helper_pid
    import multiprocessing

    with _helper_lock:
        if _helper is None or _helper_pid != os.getpid():  # after fork, the parent's helper is not ours
            # a daemonic pool worker: multiprocessing terminates it when its owner (a plate worker too) exits.
            # It inherits its owner's --max-memory address-space limit, which is the well's, not the model's
            # (torch alone maps about 2 GB): it lifts it first
            with _main_module_hidden():
                _helper = multiprocessing.get_context("spawn").Pool(1, initializer=_helper_init)
            _helper_pid = os.getpid()
            # ended while the interpreter is whole: a pool left to the garbage collector at shutdown prints
            # "Exception ignored in Pool.__del__" once its modules are gone
            atexit.register(stop_helper)
        return _helper


@contextlib.contextmanager
def _main_module_hidden():
    """Start spawned processes without re-running the caller's main module.

    spawn re-imports `__main__` in the child (from its `__spec__` or `__file__`) so that functions defined
    there can be unpickled. The helper runs only verify's own functions, and a caller's script without an
    `if __name__ == "__main__":` guard (or a script piped on stdin) would otherwise run once more in the
    helper, and again in that helper's helper. Hidden while the pool starts its worker, restored after.
    """
    main = sys.modules.get("__main__")
    saved = {k: getattr(main, k) for k in ("__file__", "__spec__") if main is not None and hasattr(main, k)}
    try:
        if main is not None:
            if "__file__" in saved:
                del main.__file__
            if "__spec__" in saved:
                main.__spec__ = None
        yield
    finally:
        for k, v in saved.items():
            setattr(main, k, v)


def _helper_init() -> None:
    from ..limits import lift_memory_limit

    lift_memory_limit()


def stop_helper() -> None:
    """End this process's helper now, if it has one (a process that leaves by os._exit runs no atexit
    handler that would)."""
    global _helper
    with _helper_lock:
        pool, mine = _helper, _helper_pid == os.getpid()
        _helper = None
    if pool is not None and mine:
        pool.terminate()


def helper_started() -> bool:
    """Whether this process has started its model helper (that is, has had a prediction not in the cache)."""
    return _helper is not None and _helper_pid == os.getpid()


def _predict(smiles: list[str], solvent: str) -> tuple[dict[str, dict], dict[str, str]]:
    """`_run_csp5` in this process's spawned helper. A helper that does not answer in time (it died, or
    embedding stalls) is dropped, and the error raised here leaves the structures to the rules."""
    global _helper
    import multiprocessing

    pool = _helper_pool()
    try:
        # model load, then about 0.2-1 s a structure; conformer embedding is capped at 60 s by csp5 itself
        return pool.apply_async(_run_csp5, (smiles, solvent)).get(timeout=120 + 10 * len(smiles))
    except multiprocessing.TimeoutError:
        with _helper_lock:
            if _helper is pool:
                _helper = None
        pool.terminate()
        raise


class Csp5Model:
    """csp5's quantile model with the on-disk cache in front of it. One per process (`shared_model`)."""

    def __init__(self, cache: PredictionCache | None = None):
        self.cache = cache if cache is not None else PredictionCache()
        self.version = model_version()
        self.failures: dict[tuple[str, str], str] = {}  # (smiles, solvent) -> why the model gave nothing

    def prefetch(self, items: Iterable[tuple[str, str]]) -> int:
        """Predict every (canonical SMILES, csp5 solvent) not yet cached, one batch per solvent; returns how
        many were sent to the model."""
        todo: dict[str, list[str]] = {}
        for smiles, solvent in items:
            if (smiles, solvent) in self.failures or self.cache.get(smiles, solvent, self.version) is not None:
                continue
            todo.setdefault(solvent, [])
            if smiles not in todo[solvent]:
                todo[solvent].append(smiles)
        for solvent, batch in todo.items():
            try:
                payloads, reasons = _predict(batch, solvent)
            except Exception as exc:  # noqa: BLE001 - a third-party model failing on a structure: rules stand
                payloads, reasons = {}, {s: f"{exc.__class__.__name__}: {exc}"[:200] for s in batch}
            for smi, payload in payloads.items():
                self.cache.put(smi, solvent, self.version, payload)
            for smi, why in reasons.items():
                self.failures[(smi, solvent)] = why
        return sum(len(batch) for batch in todo.values())

    def quantiles(self, smiles: str, solvent: str) -> dict | None:
        payload = self.cache.get(smiles, solvent, self.version)
        if payload is None and (smiles, solvent) not in self.failures:
            self.prefetch([(smiles, solvent)])
            payload = self.cache.get(smiles, solvent, self.version)
        return payload


@functools.lru_cache(maxsize=1)
def shared_model() -> Csp5Model:
    """The process's one model (csp5 itself keeps the loaded weights per process)."""
    return Csp5Model()


def h_window(q: np.ndarray, lo_level: float, hi_level: float, margin_ppm: float) -> tuple[float, float, float]:
    """(lo, hi, median) of one H: its quantiles at the calibrated levels, widened by the conformal margin.

    Parameters
    ----------
    q : ndarray, shape (99,)
        Predicted shift quantiles (ppm) at levels 0.01..0.99.
    lo_level, hi_level : float
        Quantile levels (0-1) of the window's edges before the margin.
    margin_ppm : float
        Added outside both edges (ppm).
    """
    med = float(np.interp(0.5, QUANTILE_LEVELS, q))
    lo = float(np.interp(lo_level, QUANTILE_LEVELS, q)) - margin_ppm
    hi = float(np.interp(hi_level, QUANTILE_LEVELS, q)) + margin_ppm
    return min(lo, med), max(hi, med), med


class LearnedShiftPredictor:
    """Windows of the C-H atoms from csp5's quantile model (no window for exchangeable H).

    Parameters
    ----------
    model : Csp5Model, optional
        The model and its cache (default: the process's shared one).
    window_calibration : WindowCalibration, optional
        How windows are cut from the quantiles (default: `calibration()`, from reference/shift_model.tsv).
    """

    name = "model"

    def __init__(self, model: Csp5Model | None = None, window_calibration: WindowCalibration | None = None):
        self._model = model
        self._calibration = window_calibration

    @property
    def model(self) -> Csp5Model:
        return self._model if self._model is not None else shared_model()

    @staticmethod
    def solvent_key(solvent: str) -> str:
        return CSP5_SOLVENTS.get(solvent, "unknown")

    def why_not(self, mol: Chem.Mol, solvent: str) -> str:
        """Why the model gave no windows for this structure ('' when it did)."""
        smiles, _ = canonical_order(mol)
        return self.model.failures.get((smiles, self.solvent_key(solvent)), "")

    def predict(self, mol: Chem.Mol, solvent: str = "cdcl3") -> dict[int, ShiftWindow]:
        smiles, order = canonical_order(mol)
        payload = self.model.quantiles(smiles, self.solvent_key(solvent)) if order else None
        if not payload:
            return {}
        cal = self._calibration if self._calibration is not None else calibration()
        out: dict[int, ShiftWindow] = {}
        for key, rows in payload["atoms"].items():
            canon_idx = int(key)
            if canon_idx >= len(order):
                continue
            idx = order[canon_idx]
            atom = mol.GetAtomWithIdx(idx)
            if atom.GetAtomicNum() in _EXCHANGEABLE_ELEMENTS:
                continue
            margin = cal.margin(carbon_class(atom))
            per_h = [h_window(np.asarray(r, dtype=float), cal.lo_level, cal.hi_level, margin) for r in rows]
            lo = min(w[0] for w in per_h)
            hi = max(w[1] for w in per_h)
            centre = float(np.mean([w[2] for w in per_h]))
            meds = ", ".join(f"{w[2]:.2f}" for w in per_h)
            out[idx] = ShiftWindow(
                lo=round(lo, 3),
                hi=round(hi, 3),
                label="",
                source="model",
                note=(
                    f"{MODEL_ID} median {meds} ppm; {cal.lo_level:.0%}-{cal.hi_level:.0%} quantiles "
                    f"+/- {margin:.2f} ppm conformal margin ({carbon_class(atom)} C-H)"
                ),
                centre=round(centre, 3),
                h_centres=tuple(sorted(round(w[2], 3) for w in per_h)),
            )
        return out


@dataclass
class PredictionStatus:
    """Where the windows of the last structure came from: 'model' (with the rules where the model does not
    apply) or 'rules', and in words why the model was not used."""

    method: str = "rules"
    model: str = ""
    reason: str = ""
    n_model: int = 0
    n_rules: int = 0

    def to_dict(self) -> dict:
        return {
            "method": self.method,
            "model": self.model,
            "reason": self.reason,
            "model_windows": self.n_model,
            "rule_windows": self.n_rules,
        }


@dataclass
class HybridShiftPredictor:
    """The default predictor: model windows for C-H, the rules for exchangeable H, the diazepane ring and
    C-H next to a charged atom (the model is not fit for cations).

    The rule label (the environment in a chemist's words) is kept on every window; only its range, centre and
    source change where the model applies.
    """

    rules: RuleShiftPredictor = field(default_factory=RuleShiftPredictor)
    learned: LearnedShiftPredictor = field(default_factory=LearnedShiftPredictor)
    name: str = "model+rules"
    status: PredictionStatus = field(default_factory=PredictionStatus)

    def predict(self, mol: Chem.Mol, solvent: str = "cdcl3") -> dict[int, ShiftWindow]:
        windows = self.rules.predict(mol, solvent)
        model = self.learned.predict(mol, solvent)
        if not model:
            why = self.learned.why_not(mol, solvent) or "the model returned no prediction"
            self.status = PredictionStatus(
                "rules", model_version(), f"{MODEL_ID} not used: {why}; rule windows", 0, len(windows)
            )
            return windows
        ring_atoms = {p.atom_idx for ring in find_diazepanes(mol) for p in ring.positions}
        # C-H within two bonds of a charged atom (ammonium salts, pyridinium): the model, trained on neutral
        # molecules nearly all, puts a piperazinium N-CH2 near 2.6 ppm (it is 3.1-3.5) with a window 1.5 ppm wide
        charged = [a.GetIdx() for a in mol.GetAtoms() if a.GetFormalCharge()]
        if charged:
            dist = Chem.GetDistanceMatrix(mol)
            near_charge = {i for i in range(mol.GetNumAtoms()) if any(dist[i][c] <= 2 for c in charged)}
        else:
            near_charge = set()
        n_model = 0
        for idx, w in list(windows.items()):
            m = model.get(idx)
            if m is None or w.exchangeable or idx in ring_atoms or idx in near_charge:
                continue
            windows[idx] = ShiftWindow(
                lo=m.lo,
                hi=m.hi,
                label=w.label,
                exchangeable=False,
                source="model",
                note=m.note,
                centre=m.centre,
                h_centres=m.h_centres,
            )
            n_model += 1
        self.status = PredictionStatus("model", model_version(), "", n_model, len(windows) - n_model)
        return windows


def default_predictor():
    """The hybrid predictor when csp5 is installed and not turned off, else the rules (with the reason)."""
    if model_disabled():
        return _rules_only("turned off (VERIFY_SHIFT_MODEL=rules)")
    if not csp5_installed():
        return _rules_only('csp5 is not installed (pip install -e ".[model]", see README)')
    return HybridShiftPredictor()


def _rules_only(reason: str):
    pred = RuleShiftPredictor()
    pred.status = PredictionStatus("rules", "", f"learned shift model {reason}; rule windows", 0, 0)
    return pred


def prefetch_targets(mols: Iterable[Chem.Mol], solvents: Iterable[str]) -> int:
    """Predict every distinct (structure, solvent) pair in one batch per solvent (a plate before its wells).

    Parameters
    ----------
    mols : iterable of rdkit Mol
        Parent structures.
    solvents : iterable of str
        Project solvent keys, one per structure.

    Returns
    -------
    int
        How many (structure, solvent) pairs were predicted (0 when all were cached or the model is off).
    """
    if model_disabled() or not csp5_installed():
        return 0
    items = []
    for mol, solvent in zip(mols, solvents):
        smiles, _ = canonical_order(mol)
        items.append((smiles, LearnedShiftPredictor.solvent_key(solvent)))
    return shared_model().prefetch(items)
