"""Structure side: formula, exact masses, ions, isotope patterns, 1H groups, diazepane windows."""

from __future__ import annotations

import pytest
from rdkit import Chem

from verify.expectation import build_expectation
from verify.structure.masses import adduct_ions, composition, hill_formula, isotope_pattern, parse_formula
from verify.structure.target import read_target

BOC_DIAZEPANE = "CC(C)(C)OC(=O)N1CCCNCC1"
BENZYL_DIAZEPANE = "C1CNCCN(C1)Cc1ccccc1"
BOC_BENZYL = "CC(C)(C)OC(=O)N1CCCN(Cc2ccccc2)CC1"


def ions_by_name(smiles, **kw):
    return {i.name: i for i in adduct_ions(Chem.MolFromSmiles(smiles), **kw)}


def test_boc_diazepane_masses_independent_values():
    e = build_expectation(read_target(BOC_DIAZEPANE))
    assert e.formula == "C10H20N2O2"
    assert e.monoisotopic_mass == pytest.approx(200.152478, abs=1e-4)
    ions = ions_by_name(BOC_DIAZEPANE, all_adducts=True)
    assert ions["[M+H]+"].mz == pytest.approx(201.159754, abs=1e-4)
    assert ions["[M+Na]+"].mz == pytest.approx(223.141699, abs=1e-4)
    assert ions["[M+2H]2+"].mz == pytest.approx(101.083515, abs=1e-4)


def test_benzyl_diazepane_mh():
    ions = ions_by_name(BENZYL_DIAZEPANE)
    assert ions["[M+H]+"].mz == pytest.approx(191.154275, abs=1e-4)
    # two basic amine nitrogens -> the doubly protonated ion is expected
    assert "[M+2H]2+" in ions
    assert ions["[M+2H]2+"].mz == pytest.approx((190.146999 + 2 * 1.007276467) / 2, abs=1e-4)


def test_boc_benzyl_issue_example():
    e = build_expectation(read_target(BOC_BENZYL))
    assert e.formula == "C17H26N2O2"
    assert round(e.monoisotopic_mass, 4) == 290.1994
    assert round(e.ion("[M+H]+").mz, 4) == 291.2067
    # carbamate N is not basic: no [M+2H]2+
    assert e.ion("[M+2H]2+") is None


def test_negative_mode_ions():
    ions = ions_by_name(BOC_BENZYL)
    m = 290.199428
    e_mass = 0.000548580
    assert ions["[M-H]-"].mz == pytest.approx(m - 1.007825032 + e_mass, abs=1e-4)
    assert ions["[M+Cl]-"].mz == pytest.approx(m + 34.968852682 + e_mass, abs=1e-4)
    assert ions["[M+HCOO]-"].mz == pytest.approx(m + 44.997654 + e_mass, abs=1e-4)
    assert ions["[M+K]+"].mz == pytest.approx(m + 38.963158, abs=1e-4)
    assert ions["[M+NH4]+"].mz == pytest.approx(m + 18.033826, abs=1e-4)
    assert ions["[2M+H]+"].mz == pytest.approx(2 * m + 1.007276, abs=1e-4)


def test_isotope_pattern_c17h27n2o2():
    pat = isotope_pattern(parse_formula("C17H27N2O2"))
    assert pat[1].relative * 100 == pytest.approx(19.49, abs=0.1)
    assert pat[2].relative * 100 == pytest.approx(2.21, abs=0.1)


@pytest.mark.parametrize(
    "smiles,m2",
    [("Clc1ccccc1", 32.0), ("Brc1ccccc1", 97.3), ("Clc1ccc(Cl)cc1", 64.0)],
)
def test_halogen_m2(smiles, m2):
    pat = isotope_pattern(composition(Chem.MolFromSmiles(smiles)))
    assert pat[2].relative * 100 == pytest.approx(m2, abs=1.5)


def test_hill_formula_order():
    assert hill_formula(parse_formula("ClC2H5")) == "C2H5Cl"
    assert hill_formula(parse_formula("H2O")) == "H2O"
    assert hill_formula(parse_formula("NaCl")) == "ClNa"


@pytest.mark.parametrize(
    "smiles",
    [BOC_DIAZEPANE, BENZYL_DIAZEPANE, BOC_BENZYL, "C1CNCCNC1", "CC(=O)Oc1ccccc1C(=O)O",
     "O=C(c1ccccc1)N1CCCN(Cc2ccc(F)cc2)CC1", "OC[C@H]1O[C@H](O)[C@H](O)[C@@H](O)[C@@H]1O"],
)
def test_group_counts_sum_to_formula_h(smiles):
    e = build_expectation(read_target(smiles))
    assert sum(g.n_h for g in e.h_groups) == e.composition["H"]
    for g in e.h_groups:
        assert g.lo < g.hi


def _ring_windows(smiles, solvent="CDCl3"):
    e = build_expectation(read_target(smiles), solvent)
    (ring,) = e.diazepanes
    by_next = {}
    for g in e.h_groups:
        for p in ring.positions:
            if p.atom_idx in g.atoms:
                by_next.setdefault(p.next_to, []).append((g.lo, g.hi, g.n_h))
    return ring, by_next


def test_diazepane_windows_depend_on_neighbour():
    ring, w = _ring_windows(BOC_BENZYL)
    assert (ring.n1_class, ring.n4_class) == ("Boc/carbamate", "benzyl")
    boc_side = w["N1"]
    bn_side = w["N4"]
    assert sum(n for *_, n in boc_side) == 4 and sum(n for *_, n in bn_side) == 4
    assert all(3.2 <= lo and hi <= 3.8 for lo, hi, _ in boc_side)
    assert all(2.4 <= lo and hi <= 2.9 for lo, hi, _ in bn_side)
    (c6,) = w["C"]
    assert 1.5 <= c6[0] and c6[1] <= 2.05 and c6[2] == 2


def test_diazepane_nh_vs_boc():
    ring, w = _ring_windows(BOC_DIAZEPANE)
    assert (ring.n1_class, ring.n4_class) == ("Boc/carbamate", "H")
    assert all(lo >= 2.7 and hi <= 3.1 for lo, hi, _ in w["N4"])
    ring, w = _ring_windows("C1CNCCNC1")
    assert (ring.n1_class, ring.n4_class) == ("H", "H")


@pytest.mark.parametrize(
    "smiles,cls",
    [
        ("CC(=O)N1CCCN(C)CC1", {"acyl/amide", "alkyl"}),
        ("CS(=O)(=O)N1CCCNCC1", {"sulfonyl", "H"}),
        ("c1ccc(cc1)N1CCCNCC1", {"aryl", "H"}),
        ("C[NH+]1CCCN(Cc2ccccc2)CC1", {"benzyl", "alkyl"}),  # neutralised parent
    ],
)
def test_diazepane_classes(smiles, cls):
    e = build_expectation(read_target(smiles))
    (ring,) = e.diazepanes
    assert {ring.n1_class, ring.n4_class} == cls


def test_boc_and_benzylic_windows():
    e = build_expectation(read_target(BOC_BENZYL))
    boc = next(g for g in e.h_groups if g.n_h == 9)
    assert boc.lo >= 1.35 and boc.hi <= 1.55 and boc.multiplicity == "s"
    bn = next(g for g in e.h_groups if "benzylic" in g.label)
    assert bn.lo <= 3.55 and bn.hi >= 3.65 and bn.n_h == 2
    arom = [g for g in e.h_groups if g.label.startswith("aromatic")]
    assert sum(g.n_h for g in arom) == 5


def test_dmso_windows_differ_for_exchangeables():
    cd = build_expectation(read_target("CC(=O)Nc1ccccc1"), "CDCl3")
    dm = build_expectation(read_target("CC(=O)Nc1ccccc1"), "DMSO-d6")
    nh_cd = next(g for g in cd.h_groups if g.exchangeable)
    nh_dm = next(g for g in dm.h_groups if g.exchangeable)
    assert nh_dm.lo > nh_cd.lo


def test_aromatic_increments_fluorobenzyl():
    e = build_expectation(read_target("Fc1ccc(CN2CCCNCC2)cc1"))
    arom = sorted((g for g in e.h_groups if g.label.startswith("aromatic")), key=lambda g: g.mid)
    # H ortho to F ~7.0, H meta to F ~7.3 (SDBS 4-fluorobenzylamine: 6.99, 7.27)
    assert arom[0].lo <= 7.00 <= arom[0].hi
    assert arom[1].lo <= 7.27 <= arom[1].hi


def test_literal_smiles_with_slashes_is_not_a_path():
    t = read_target("C/C=C/C(=O)OCC")
    assert t.smiles and t.source == "literal"


def test_vinyl_ch_both_ends_matched():
    # C=C atoms must each get their own rule (SMARTS matches are not uniquified by atom set)
    e = build_expectation(read_target("C=CCc1ccc(OC)cc1"))
    vinyl = [g for g in e.h_groups if g.label == "vinylic CH"]
    assert sorted(g.n_h for g in vinyl) == [1, 2]


def test_nitro_is_not_an_amine_increment():
    e = build_expectation(read_target("Nc1c(F)cc(Br)cc1[N+](=O)[O-]"))
    arom = sorted(g.mid for g in e.h_groups if g.label.startswith("aromatic"))
    # observed 7.3 (H3) and 8.1 (H5)
    assert arom[0] == pytest.approx(7.3, abs=0.2) and arom[1] == pytest.approx(8.0, abs=0.2)


def test_side_products_for_deprotected_benzyl_diazepane():
    from verify.structure.side_products import side_products

    sps = {sp.kind: sp for sp in side_products(Chem.MolFromSmiles("C1CNCCN(C1)Cc1ccc(F)cc1"))}
    assert sps["boc_not_removed"].delta_mass == pytest.approx(100.0524, abs=1e-4)
    assert sps["over_alkylation"].formula == "C19H22F2N2"
    assert sps["dealkylation"].smiles == "C1CNCCNC1"
    assert sps["starting_material"].formula == "C10H20N2O2"
    assert sps["aldehyde"].smiles == "O=Cc1ccc(F)cc1"
    assert sps["alcohol"].smiles == "OCc1ccc(F)cc1"
    # a fully substituted diazepane has nothing to over-alkylate
    kinds = {sp.kind for sp in side_products(Chem.MolFromSmiles(BOC_BENZYL))}
    assert "over_alkylation" not in kinds and "boc_not_removed" not in kinds
    assert side_products(Chem.MolFromSmiles("CCO")) == []
