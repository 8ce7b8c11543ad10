"""What to do next (verify.remedies): one sourced line per side product or failure a result names."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from rdkit import Chem

from verify.findings import Finding
from verify.reference import reference_dir, table
from verify.remedies import remedy_findings, remedy_table
from verify.structure.side_products import side_products

SAMPLES = Path(__file__).resolve().parents[1] / "sample_spectra"
BENZYL = "c1ccc(CN2CCCNCC2)cc1"


def _sps():
    return side_products(Chem.MolFromSmiles(BENZYL))


def test_every_side_product_kind_has_a_sourced_remedy():
    kinds = {sp.kind for sp in _sps()} | {
        "boc_not_removed",
        "over_alkylation",
        "alcohol",
        "aldehyde",
        "starting_material",
        "dealkylation",
        "salt",
    }
    rows = {r["kind"]: r for r in table("remedies.tsv")}
    assert kinds <= set(rows)
    assert all(r["source"] and r["remedy"] for r in rows.values())
    # every source key used is cited in the table's header block
    header = (reference_dir() / "remedies.tsv").read_text(encoding="utf-8").split("\nkind\t")[0]
    for r in rows.values():
        for key in r["source"].split(";"):
            assert f"#   {key.strip()}:" in header, key


def test_a_warning_naming_a_side_product_gets_its_remedy_and_info_does_not():
    over = next(sp for sp in _sps() if sp.kind == "over_alkylation")
    warn = [Finding("warning", "ms.side_product", f"named impurity: {over.name} [M+H]+ at m/z 281.2015")]
    out = remedy_findings(warn, _sps())
    assert [f.code for f in out] == ["remedy.over_alkylation"]
    assert out[0].severity == "info" and remedy_table()["over_alkylation"] in out[0].message
    assert over.name in out[0].message
    # the same side product at info level (under the warning level) names no remedy
    assert remedy_findings([Finding("info", "ms.side_product", warn[0].message)], _sps()) == []


def test_codes_name_their_kind_and_each_kind_is_given_once():
    found = [
        Finding("warning", "nmr.alcohol_byproduct", "a benzylic CH2OH signal at 4.68 ppm"),
        Finding("warning", "ms.side_product", "named impurity: alcohol from aldehyde reduction [M+H]+"),
    ]
    out = remedy_findings(found, _sps())
    assert [f.code for f in out] == ["remedy.alcohol"]


def test_salt_and_impurities_from_their_amount():
    out = remedy_findings(
        [],
        _sps(),
        [{"name": "triethylamine", "mol_percent": 37.0}, {"name": "acetone", "mol_percent": 50.0}],
        salt_read=True,
    )
    assert [f.code for f in out] == ["remedy.salt", "remedy.impurity"]  # acetone: no remedy row
    assert "Et3N" in out[1].message
    few = remedy_findings([], _sps(), [{"name": "triethylamine", "mol_percent": 4.0}])
    assert few == []


def _manifest() -> dict[str, dict]:
    lines = [ln for ln in (SAMPLES / "MANIFEST.tsv").read_text(encoding="utf-8").splitlines() if not ln.startswith("#")]
    return {r["sample"]: r for r in csv.DictReader(lines, delimiter="\t")}


@pytest.mark.parametrize(
    "sample,kind", [("fail_over_alkylation", "over_alkylation"), ("fail_boc_not_removed", "boc_not_removed")]
)
def test_failed_samples_carry_their_remedy_and_keep_their_verdict(sample, kind):
    from verify.pipeline import check_compound

    d = SAMPLES / sample
    res = check_compound((d / "compound.smi").read_text().strip(), nmr=d / "nmr" / "1", ms=d / "ms.mzML")
    assert res.verdict == _manifest()[sample]["expected_overall"]
    codes = [f.code for f in res.all_findings()]
    assert f"remedy.{kind}" in codes
    good = SAMPLES / "benzyl_diazepane"
    ok = check_compound((good / "compound.smi").read_text().strip(), nmr=good / "nmr" / "1", ms=good / "ms.mzML")
    assert not any(c.startswith("remedy.") for c in (f.code for f in ok.all_findings()))
