"""The learned 1H predictor (csp5's quantile model behind ShiftPredictor): windows, cache, fall-back to the rules."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from rdkit import Chem

from verify.expectation import build_expectation
from verify.structure import learned
from verify.structure.learned import (
    Csp5Model,
    HybridShiftPredictor,
    LearnedShiftPredictor,
    PredictionCache,
    calibration,
    canonical_order,
    h_window,
)
from verify.structure.target import read_target

needs_csp5 = pytest.mark.skipif(
    not learned.csp5_installed(), reason="csp5/torch not installed (pip install -e .[model])"
)

BOC_3PYRIDYL = "CC(C)(C)OC(=O)N1CCCN(Cc2cccnc2)CC1"
BOC_4PYRIDYL = "CC(C)(C)OC(=O)N1CCCN(Cc2ccncc2)CC1"


# ------------------------------------------------------------------------------------------- pure functions


def test_h_window_cuts_levels_and_adds_margin():
    q = np.linspace(1.0, 3.0, 99)  # level k/100 -> 1 + 2 (k-1)/98
    lo, hi, med = h_window(q, 0.05, 0.95, 0.07)
    assert med == pytest.approx(1.0 + 2 * 49 / 98, abs=1e-9)
    assert lo == pytest.approx(1.0 + 2 * 4 / 98 - 0.07, abs=1e-9)
    assert hi == pytest.approx(1.0 + 2 * 94 / 98 + 0.07, abs=1e-9)


def test_calibration_read_from_reference_table():
    cal = calibration()
    assert (cal.lo_level, cal.hi_level) == (0.05, 0.95)
    # conformal margins in ppm, one per carbon class; aliphatic H are the less certain
    assert 0.0 <= cal.margin("sp2") < cal.margin("sp3") < 0.5
    assert learned.carbon_class(Chem.MolFromSmiles("c1ccccc1").GetAtomWithIdx(0)) == "sp2"
    assert learned.carbon_class(Chem.MolFromSmiles("C=CC").GetAtomWithIdx(2)) == "sp3"


def test_canonical_order_maps_atoms_back_whatever_the_input_order():
    a = Chem.MolFromSmiles("OCc1ccncc1")
    b = Chem.MolFromSmiles("c1cc(CO)ccn1")
    sa, oa = canonical_order(a)
    sb, ob = canonical_order(b)
    assert sa == sb
    canon = Chem.MolFromSmiles(sa)
    for mol, order in ((a, oa), (b, ob)):
        for ci, mi in enumerate(order):
            assert canon.GetAtomWithIdx(ci).GetSymbol() == mol.GetAtomWithIdx(mi).GetSymbol()
            assert canon.GetAtomWithIdx(ci).GetTotalNumHs() == mol.GetAtomWithIdx(mi).GetTotalNumHs()


def test_cache_round_trip_and_unwritable_cache_costs_nothing(tmp_path):
    c = PredictionCache(tmp_path / "sub" / "p.sqlite")
    c.put("CCO", "cdcl3", "m@1", {"atoms": {"0": [[1.0] * 99]}})
    again = PredictionCache(tmp_path / "sub" / "p.sqlite")  # a new process reads what the first wrote
    assert again.get("CCO", "cdcl3", "m@1") == {"atoms": {"0": [[1.0] * 99]}}
    assert again.get("CCO", "dmso-d6", "m@1") is None
    blocker = tmp_path / "file"
    blocker.write_text("x")
    bad = PredictionCache(blocker / "p.sqlite")  # its folder is a file: cannot be opened
    bad.put("CCO", "cdcl3", "m@1", {"atoms": {}})
    assert bad.get("CCO", "cdcl3", "m@1") == {"atoms": {}}  # the in-memory layer still holds it
    assert PredictionCache(blocker / "p.sqlite").get("CCO", "cdcl3", "m@1") is None


def test_cache_dir_override(monkeypatch, tmp_path):
    monkeypatch.setenv("VERIFY_CACHE_DIR", str(tmp_path / "c"))
    assert learned.cache_dir() == tmp_path / "c"
    monkeypatch.delenv("VERIFY_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "x"))
    assert learned.cache_dir() == tmp_path / "x" / "verify"


def _fake_runner(calls):
    """Stands in for csp5: every C-H gets quantiles 7.0..8.0 ppm; structures with 'Br' fail."""

    def run(smiles, solvent):
        calls.append((tuple(smiles), solvent))
        payloads, reasons = {}, {}
        for smi in smiles:
            if "Br" in smi:
                reasons[smi] = "embedding failed"
                continue
            mol = Chem.MolFromSmiles(smi)
            payloads[smi] = {
                "atoms": {
                    str(a.GetIdx()): [list(np.linspace(7.0, 8.0, 99))] * a.GetTotalNumHs()
                    for a in mol.GetAtoms()
                    if a.GetTotalNumHs()
                }
            }
        return payloads, reasons

    return run


def test_batch_per_solvent_cache_hits_and_failures_fall_back_to_rules(monkeypatch, tmp_path):
    calls = []
    monkeypatch.setattr(learned, "_predict", _fake_runner(calls))
    model = Csp5Model(cache=PredictionCache(tmp_path / "p.sqlite"))
    items = [
        ("c1ccccc1", "cdcl3"),
        ("Cc1ccccc1", "cdcl3"),
        ("c1ccccc1", "dmso-d6"),
        ("c1ccccc1", "cdcl3"),
        ("Brc1ccccc1", "cdcl3"),
    ]
    model.prefetch(items)
    assert sorted(calls) == sorted([(("c1ccccc1", "Cc1ccccc1", "Brc1ccccc1"), "cdcl3"), (("c1ccccc1",), "dmso-d6")])
    model.prefetch(items)  # all cached or known to fail: no second call
    assert len(calls) == 2
    hybrid = HybridShiftPredictor(learned=LearnedShiftPredictor(model=model))
    w = hybrid.predict(Chem.MolFromSmiles("Cc1ccccc1"), "cdcl3")
    assert hybrid.status.method == "model"
    assert {x.source for x in w.values()} == {"model"}
    assert all(x.lo < 7.05 and x.hi > 7.95 for x in w.values())
    w = hybrid.predict(Chem.MolFromSmiles("Brc1ccccc1"), "cdcl3")
    assert hybrid.status.method == "rules" and "embedding failed" in hybrid.status.reason
    assert all(x.source != "model" for x in w.values())


def test_exchangeable_and_ring_windows_stay_with_the_rules(monkeypatch, tmp_path):
    calls = []
    monkeypatch.setattr(learned, "_predict", _fake_runner(calls))
    model = Csp5Model(cache=PredictionCache(tmp_path / "p.sqlite"))
    hybrid = HybridShiftPredictor(learned=LearnedShiftPredictor(model=model))
    e = build_expectation(read_target("OCc1ccc(CN2CCCNCC2)cc1"), "CDCl3", predictor=hybrid)
    assert any(g.exchangeable and g.source != "model" for g in e.h_groups)  # OH and NH: rules
    ring = [g for g in e.h_groups if g.label.startswith("diazepane")]
    assert len(ring) == 5 and all(g.source == "diazepane_ring.tsv" for g in ring)
    assert all(g.source == "model" for g in e.h_groups if not g.exchangeable and g not in ring)
    assert e.shift_prediction["method"] == "model"
    assert all(g.label for g in e.h_groups)  # labels are the rules' words, kept on model windows


def test_model_off_or_absent_says_so(monkeypatch):
    from verify.pipeline import check_compound

    monkeypatch.setenv("VERIFY_SHIFT_MODEL", "rules")
    res = check_compound(BOC_3PYRIDYL)
    info = [f for f in res.findings if f.code == "structure.shift_model_unused"]
    assert len(info) == 1 and "VERIFY_SHIFT_MODEL" in info[0].message
    assert all(g.source != "model" for g in res.expectation.h_groups)
    monkeypatch.delenv("VERIFY_SHIFT_MODEL")
    monkeypatch.setattr(learned, "csp5_installed", lambda: False)
    e = build_expectation(read_target(BOC_3PYRIDYL))
    assert e.shift_prediction["method"] == "rules" and "not installed" in e.shift_prediction["reason"]


# ------------------------------------------------------------------------------------------- the real model


@needs_csp5
def test_model_separates_3_and_4_pyridylmethyl():
    three = build_expectation(read_target(BOC_3PYRIDYL)).h_groups
    four = build_expectation(read_target(BOC_4PYRIDYL)).h_groups
    aro3 = sorted((g for g in three if g.centre and g.centre > 6.5), key=lambda g: -g.centre)
    aro4 = sorted((g for g in four if g.centre and g.centre > 6.5), key=lambda g: -g.centre)
    assert [g.n_h for g in aro3] == [1, 1, 1, 1] and [g.n_h for g in aro4] == [2, 2]
    assert all(g.source == "model" for g in aro3 + aro4)
    # the 3-pyridyl C4-H (gamma to N, about 7.6 ppm) lies wholly above the 4-pyridyl's beta-H (about 7.2)
    assert aro3[2].centre == pytest.approx(7.66, abs=0.15)
    assert aro3[2].lo > aro4[1].centre
    rules = {
        g.label: g
        for g in build_expectation(read_target(BOC_3PYRIDYL), "CDCl3", predictor=learned.RuleShiftPredictor()).h_groups
    }
    for g in aro3:  # narrower than the rule window of the same environment
        assert g.hi - g.lo < rules[g.label].hi - rules[g.label].lo


@needs_csp5
def test_model_tells_the_two_faces_of_a_ring_ch2_apart():
    # (-)-menthol in CDCl3: the C6-H2 next to the carbinol is 1.98 (eq) and 0.95 (ax) ppm (NMReDATA set in
    # ../shared); the group keeps one window and centre but also each H's own prediction, ascending
    mol = Chem.MolFromSmiles("CC(C)[C@@H]1CC[C@@H](C)C[C@H]1O")
    groups = {g.atoms: g for g in build_expectation(read_target("CC(C)[C@@H]1CC[C@@H](C)C[C@H]1O")).h_groups}
    ch2 = groups[(8,)]
    assert ch2.n_h == 2 and ch2.source == "model" and len(ch2.h_centres) == 2
    low, high = ch2.h_centres
    assert low == pytest.approx(0.95, abs=0.15) and high == pytest.approx(1.98, abs=0.15)
    assert ch2.centre == pytest.approx((low + high) / 2, abs=0.002)
    assert ch2.to_dict()["h_centres"] == [low, high]
    assert mol.GetAtomWithIdx(8).GetTotalNumHs() == 2
    methyls = [g for g in groups.values() if g.n_h == 3]
    assert all(len(g.h_centres) == 3 for g in methyls)  # one per H; the rules give none
    rules = build_expectation(
        read_target("CC(C)[C@@H]1CC[C@@H](C)C[C@H]1O"), "CDCl3", predictor=learned.RuleShiftPredictor()
    ).h_groups
    assert all(g.h_centres == () for g in rules)


@needs_csp5
def test_cached_prediction_needs_no_torch(tmp_path):
    env = {**os.environ, "VERIFY_CACHE_DIR": str(tmp_path)}
    code = textwrap.dedent(f"""
        import sys
        from verify.expectation import build_expectation
        from verify.structure.target import read_target
        e = build_expectation(read_target({BOC_4PYRIDYL!r}), "DMSO-d6")
        from verify.structure.learned import helper_started
        print(e.shift_prediction["method"], helper_started(), "torch" in sys.modules)
    """)
    # the first run predicts, in a spawned helper: torch never enters the caller (which may fork a plate)
    first = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert first.stdout.split() == ["model", "True", "False"]
    second = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert second.stdout.split() == ["model", "False", "False"]  # from the cache: no helper, no torch


@needs_csp5
def test_helper_does_not_rerun_an_unguarded_script(tmp_path):
    # a chemist's script without `if __name__ == "__main__":` (or piped on stdin): spawn would import it again
    # in the model's helper, which would start its own helper, and so on
    log = tmp_path / "runs.txt"
    script = tmp_path / "check.py"
    script.write_text(
        textwrap.dedent(f"""
        with open({str(log)!r}, "a") as fh:
            fh.write("run\\n")
        from verify.expectation import build_expectation
        from verify.structure.target import read_target
        e = build_expectation(read_target({BOC_4PYRIDYL!r}), "CDCl3")
        print(e.shift_prediction["method"])
    """)
    )
    env = {**os.environ, "VERIFY_CACHE_DIR": str(tmp_path / "cache")}
    out = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=150)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["model"]
    assert log.read_text().splitlines() == ["run"]
    piped = subprocess.run(
        [sys.executable, "-"],
        input=script.read_text(),
        env={**env, "VERIFY_CACHE_DIR": str(tmp_path / "cache2")},
        capture_output=True,
        text=True,
        timeout=150,
    )
    assert piped.returncode == 0, piped.stderr
    assert piped.stdout.split() == ["model"] and log.read_text().splitlines() == ["run", "run"]


@needs_csp5
def test_forked_plate_worker_predicts_after_the_parent_did(tmp_path):
    # a plate forks its workers; once the parent has predicted, a worker's own prediction must not hang
    env = {**os.environ, "VERIFY_CACHE_DIR": str(tmp_path)}
    code = textwrap.dedent("""
        import multiprocessing as mp
        from verify.expectation import build_expectation
        from verify.structure.target import read_target

        def child(q):
            q.put(build_expectation(read_target("CCOc1ccc(CN2CCCNCC2)cc1")).shift_prediction["method"])

        print(build_expectation(read_target("CCc1ccncc1")).shift_prediction["method"])
        q = mp.get_context("fork").Queue()
        p = mp.get_context("fork").Process(target=child, args=(q,))
        p.start()
        print(q.get(timeout=90))
        p.join(30)
    """)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=150)
    assert out.stdout.split() == ["model", "model"], out.stderr[-2000:]


def test_plate_predicts_its_structures_in_one_batch_per_solvent(monkeypatch, tmp_path):
    from verify.plate.run import WellJob, prefetch_shift_predictions

    calls = []
    monkeypatch.setattr(learned, "_predict", _fake_runner(calls))
    model = Csp5Model(cache=PredictionCache(tmp_path / "p.sqlite"))
    monkeypatch.setattr(learned, "shared_model", lambda: model)
    monkeypatch.setattr(learned, "csp5_installed", lambda: True)
    jobs = [
        WellJob("A1", "c1", smiles="c1ccccc1CN"),
        WellJob("A2", "c2", smiles="NCc1ccccc1"),  # same structure
        WellJob("A3", "c3", smiles="CCOC(C)=O", solvent="DMSO-d6"),
        WellJob("A4", "c4", smiles="C1CC1.Cl"),
        WellJob("A5", "bad", smiles="not a smiles"),
        WellJob("A6", "e", smiles="CCO", error="ambiguous data"),
    ]
    assert prefetch_shift_predictions(jobs) == 3  # benzylamine and cyclopropane (HCl stripped); ethyl acetate
    assert sorted((len(b), s) for b, s in calls) == [(1, "dmso-d6"), (2, "cdcl3")]
    assert prefetch_shift_predictions(jobs) == 0  # all cached now
