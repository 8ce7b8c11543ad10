"""The hard-case benchmark's machinery (bench/bench_accuracy.py): cases load, a sample is generated from its
true compound with the requested perturbation, read back and checked, and truth labels follow the case rules.
The verdict figures themselves are the benchmark's output, not asserted here."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from rdkit import Chem

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_accuracy", ROOT / "bench" / "bench_accuracy.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_case_tables_are_complete_and_labelled(bench):
    comps = bench.load_compounds()
    samples = bench.load_samples()
    cases = bench.load_cases()
    assert len(cases) >= 60
    for c in cases:
        s = samples[c["sample"]]
        assert s["data"] in comps, c
        smi = bench.check_smiles(c["check"], comps)
        assert Chem.MolFromSmiles(smi) is not None, c
        same = Chem.CanonSmiles(smi) == Chem.CanonSmiles(comps[s["data"]].smiles)
        side = max((f for _, f in s.get("side", [])), default=0.0)
        # a wrong structure is never labelled consistent; the true one is, unless a side product is >= 10 mol%
        assert c["truth"] == ("consistent" if same and side < 0.10 else "not consistent"), c


def test_generated_case_is_read_and_checked(bench, tmp_path):
    comps = bench.load_compounds()
    samples = bench.load_samples()
    cases = {c["case"]: c for c in bench.load_cases()}
    s = samples["water_and_nh_c6_bn"]
    row = bench.generate(s, tmp_path / "s", comps)
    comp = {c["source"]: c for c in row["truth"]["nmr"]["components"] if c["source"] in ("water",)}
    assert comp["water"]["ppm"] == pytest.approx(s["water"][0])
    nh = [c for c in row["truth"]["nmr"]["components"] if c["assignment"] == "NH"]
    assert nh and nh[0]["ppm"] == pytest.approx(s["shifts"][0][1])
    res = bench.run_case(cases["water_and_nh_c6_bn"], tmp_path / "s", row["solvent"], comps, modes=("nmr",))
    r = res["results"]["nmr"]
    assert r["verdict"] in ("consistent", "suspicious", "inconsistent")
    assert r["correct"] == (r["verdict"] == "consistent")  # the case's truth is "consistent"


def test_rotamer_doubling_splits_the_groups(bench, tmp_path):
    from verify.samples.generate import edit_groups

    comps = bench.load_compounds()
    g = comps["boc_benzyl_diazepane"].groups
    out = edit_groups(g, rotamers=[("N-Boc side", 0.4, 0.05)])
    boc_side = [x for x in g if "N-Boc side" in x.assignment]
    assert len(out) == len(g) + len(boc_side)
    assert sum(x.n_h for x in out) == pytest.approx(sum(x.n_h for x in g))
    minor = [x for x in out if "minor rotamer" in x.assignment]
    assert {round(x.ppm - 0.05, 4) for x in minor} == {x.ppm for x in boc_side}
