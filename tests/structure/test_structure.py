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


@pytest.fixture(autouse=True)
def _rule_windows(monkeypatch):
    """These tests check the hand-written rule tables (the windows where the learned model does not apply, and
    the whole prediction when csp5 is absent); tests/test_learned.py covers the model's windows."""
    monkeypatch.setenv("VERIFY_SHIFT_MODEL", "rules")


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
    [
        BOC_DIAZEPANE,
        BENZYL_DIAZEPANE,
        BOC_BENZYL,
        "C1CNCCNC1",
        "CC(=O)Oc1ccccc1C(=O)O",
        "O=C(c1ccccc1)N1CCCN(Cc2ccc(F)cc2)CC1",
        "OC[C@H]1O[C@H](O)[C@H](O)[C@@H](O)[C@@H]1O",
    ],
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


# --- free alpha-amino acids (zwitterions in D2O) -------------------------------------------------------


def _groups(smiles, solvent):
    return build_expectation(read_target(smiles), solvent).h_groups


def _group_of(groups, label_part):
    return [g for g in groups if label_part in g.label]


@pytest.mark.parametrize(
    "smiles,alpha,beta",
    [
        # HMDB0000177 L-histidine (D2O, pH 7): alpha 3.98, beta 3.13/3.23
        ("N[C@@H](Cc1cnc[nH]1)C(=O)O", 3.98, (3.13, 3.23)),
        # HMDB0000001 1-methyl-L-histidine: alpha 3.97, beta 3.06/3.16
        ("Cn1cnc(C[C@H](N)C(=O)O)c1", 3.97, (3.06, 3.16)),
        # HMDB0000159 L-phenylalanine: alpha 3.98, beta 3.12/3.28
        ("N[C@@H](Cc1ccccc1)C(=O)O", 3.98, (3.12, 3.28)),
    ],
)
def test_aromatic_amino_acid_windows_in_d2o(smiles, alpha, beta):
    gs = _groups(smiles, "D2O")
    (a,) = _group_of(gs, "alpha-CH of free alpha-amino acid")
    assert a.lo <= alpha <= a.hi
    # the neutral-amine value (CH-N of an amine, about 2.5-3.0) is not what a zwitterion shows
    assert a.lo > 3.3
    (b,) = _group_of(gs, "ArCH2 (beta)")
    assert b.n_h == 2 and all(b.lo <= x <= b.hi for x in beta)
    assert b.lo > 2.9  # the C-linked benzylic CH2 window (2.45-2.95) would not hold 3.1-3.3


def test_alanine_and_glycine_in_d2o():
    # BMRB bmse000028 L-alanine: 3.77 (q), 1.47 (d); bmse000089 glycine: 3.55 (s)
    gs = _groups("C[C@H](N)C(=O)O", "D2O")
    (a,) = _group_of(gs, "alpha-CH of free")
    (m,) = _group_of(gs, "CH3 (beta) of free alanine")
    assert a.lo <= 3.77 <= a.hi and m.lo <= 1.47 <= m.hi and m.n_h == 3
    (g,) = _group_of(_groups("NCC(=O)O", "D2O"), "glycine")
    assert g.lo <= 3.55 <= g.hi and g.n_h == 2


def test_amino_acid_window_depends_on_solvent():
    # D2O: zwitterion, narrow; DMSO-d6/CDCl3: protonation state unknown, spans free base to ammonium salt
    d2o = _group_of(_groups("C[C@H](N)C(=O)O", "D2O"), "alpha-CH of free")[0]
    dmso = _group_of(_groups("C[C@H](N)C(=O)O", "DMSO-d6"), "alpha-CH of free")[0]
    assert dmso.lo < d2o.lo and d2o.hi - d2o.lo < dmso.hi - dmso.lo


def test_amino_ester_and_acylated_amino_acid_are_not_free_amino_acids():
    # methyl ester (neutral amine) and N-acetyl amino acid keep their own rules
    labels = {g.label for g in _groups("COC(=O)[C@@H](N)Cc1ccccc1", "CDCl3")}
    assert not any("amino acid" in lab for lab in labels)
    labels = {g.label for g in _groups("CC(=O)N[C@@H](C)C(=O)O", "D2O")}
    assert "CH-N of amide" in labels and not any("amino acid" in lab for lab in labels)


def test_amine_ch2_in_d2o_allows_the_protonated_amine():
    # GABA N-CH2 3.01 in D2O (HMDB0000112): the amine is protonated in water
    d2o = _group_of(_groups("NCCCC(=O)O", "D2O"), "N-CH2 of amine")[0]
    cdcl3 = _group_of(_groups("NCCCC(=O)O", "CDCl3"), "N-CH2 of amine")[0]
    assert d2o.lo <= 3.01 <= d2o.hi and cdcl3.hi < 3.01


# --- aromatic solvents (ASIS) ---------------------------------------------------------------------------


def test_c6d6_windows_widen_by_the_documented_margins():
    # ethyl acetate, Fulmer 2010 Table 1: CDCl3 2.05/4.12/1.26, C6D6 1.65/3.89/0.92
    cd = {g.label: g for g in _groups("CC(=O)OCC", "CDCl3")}
    bz = {g.label: g for g in _groups("CC(=O)OCC", "C6D6")}
    tol = {g.label: g for g in _groups("CC(=O)OCC", "toluene-d8")}
    ac = "acetyl CH3 (ketone/ester/amide)"
    assert not (cd[ac].lo <= 1.65) and bz[ac].lo <= 1.65 <= bz[ac].hi
    assert bz[ac].lo == pytest.approx(cd[ac].lo - 0.60) and bz[ac].hi == pytest.approx(cd[ac].hi + 0.05)
    och2 = "O-CH2 of ester"
    assert bz[och2].lo <= 3.89 <= bz[och2].hi
    me = "CH3 next to C-O/C-N"  # one bond further from the ester O: the smaller (beta) margin
    assert bz[me].lo == pytest.approx(cd[me].lo - 0.35) and bz[me].lo <= 0.92
    assert {k: (g.lo, g.hi) for k, g in tol.items()} == {k: (g.lo, g.hi) for k, g in bz.items()}
    # DMSO-d6 and CDCl3 windows carry no aromatic-solvent margin
    assert "aromatic-solvent" not in " ".join(g.note for g in cd.values())


def test_c6d6_heteroaromatic_ch_gets_the_polar_margin():
    # pyridine, Fulmer 2010 Table 1: CDCl3 8.62/7.29/7.68, C6D6 8.53/6.66/6.98 (beta-H 0.63 ppm upfield)
    cd = sorted((g.lo, g.hi) for g in _groups("c1ccncc1", "CDCl3"))
    bz = sorted((g.lo, g.hi) for g in _groups("c1ccncc1", "C6D6"))
    assert not any(lo <= 6.66 <= hi for lo, hi in cd)
    assert any(lo <= 6.66 <= hi for lo, hi in bz) and any(lo <= 8.53 <= hi for lo, hi in bz)
    assert all(b[0] == pytest.approx(c[0] - 0.60) for b, c in zip(bz, cd))


def test_d2o_uses_the_dmso_column_where_the_table_gives_no_d2o_window():
    d2o = {g.label: (g.lo, g.hi) for g in _groups("CCO", "D2O")}
    dmso = {g.label: (g.lo, g.hi) for g in _groups("CCO", "DMSO-d6")}
    assert d2o == dmso


def test_c6d6_margin_small_for_hydrocarbon_h():
    # hexane CH3 0.88 (CDCl3) vs 0.89 (C6D6): a remote alkyl H barely moves
    cd = _groups("CCCCCC", "CDCl3")
    bz = _groups("CCCCCC", "C6D6")
    for a, b in zip(cd, bz):
        assert b.lo == pytest.approx(a.lo - 0.10) and b.hi == pytest.approx(a.hi + 0.05)


# --- rigid bridged bicyclic CH2 near a pendant aryl -----------------------------------------------------

FENCHYL_THIAZOLE = "CC1(C)[C@H]2CC[C@](C)(C2)[C@]1(O)c1nccs1"


def test_bicyclic_ch2_near_aryl_gets_higher_upper_edge():
    gs = _groups(FENCHYL_THIAZOLE, "CDCl3")
    near = _group_of(gs, "rigid bicyclic, near aryl")
    mol = Chem.MolFromSmiles(FENCHYL_THIAZOLE)
    # the methano bridge C7 (between the two bridgeheads) and C6 (next to the methyl bridgehead)
    ri = mol.GetRingInfo()
    bridge = next(
        a.GetIdx()
        for a in mol.GetAtoms()
        if a.GetTotalNumHs() == 2 and all(ri.NumAtomRings(n.GetIdx()) == 2 for n in a.GetNeighbors())
    )
    assert len(near) == 2 and sum(g.n_h for g in near) == 4
    # NMReDATA assignment of this compound: H-7 at 2.73 (d, 2J 10 Hz) and 1.34
    g7 = next(g for g in near if bridge in g.atoms)
    assert g7.lo <= 1.34 and 2.73 <= g7.hi
    # the C5 CH2 (1,4 to the aryl-bearing carbon) keeps an alkyl window (with the rigid-bicyclic spread only)
    plain = [g for g in _group_of(gs, "alkyl CH2") if "near aryl" not in g.label]
    assert plain and all(g.hi < 2.73 for g in plain)


COCAINE = "COC(=O)[C@H]1[C@@H](OC(=O)c2ccccc2)C[C@@H]2CC[C@H]1N2C"


def test_rigid_bicyclic_ch2_reaches_its_deshielded_h():
    # cocaine H-4ax 2.45 / H-4eq 1.73 (NMReDATA, cheminfo nmr-dataset1): the tropane C4 window reaches 2.45;
    # the same CH2 in an open-chain analogue (no rigid ring) does not
    mol = Chem.MolFromSmiles(COCAINE)
    c4 = next(
        a.GetIdx()
        for a in mol.GetAtoms()
        if a.GetTotalNumHs() == 2
        and a.IsInRing()
        and any(
            n.GetTotalNumHs() == 1 and any(x.GetSymbol() == "O" for x in n.GetNeighbors()) for n in a.GetNeighbors()
        )
    )
    g4 = next(g for g in _groups(COCAINE, "CDCl3") if c4 in g.atoms)
    assert g4.lo <= 1.73 and 2.45 <= g4.hi + 0.10  # (+ the comparison's in-window slack)
    open_chain = _groups("COC(=O)C(CCN(C)C)C(OC(=O)c1ccccc1)CC(C)N(C)C", "CDCl3")
    ch2 = [g for g in open_chain if "CH2" in g.label and "beta" in g.label]
    assert ch2 and all(g.hi + 0.10 < 2.45 for g in ch2)


@pytest.mark.parametrize(
    "smiles",
    [
        "CC1CCCC(C)(C)C1(O)c1nccs1",  # monocyclic analogue (cyclohexanol): conformers average the effect
        "CCC(C)(C)C(O)(CC)c1nccs1",  # open-chain analogue
        "CC1(C)[C@H]2CC[C@](C)(C2)[C@@H]1O",  # fenchol itself: no aryl
        "CC1(C)[C@H]2CC[C@](C)(C2)[C@@H]1OC(=O)c1ccccc1",  # aryl not on the ring carbon (ester)
    ],
)
def test_bicyclic_aryl_rule_does_not_apply(smiles):
    from verify.structure.shifts import _bridged_systems

    gs = _groups(smiles, "CDCl3")
    assert not _group_of(gs, "near aryl")
    # a bridged ring keeps only the general rigid-bicyclic spread of its CH2 (upper edge up to 2.25), far
    # below the aryl-deshielded 2.73; monocyclic and open-chain CH2 keep the plain window
    limit = 2.25 if _bridged_systems(Chem.MolFromSmiles(smiles)) else 2.0
    assert all(g.hi <= limit for g in gs if g.label in ("alkyl CH2", "CH2 beta to N/O"))


def test_peptide_residue_alpha_windows():
    # Ac-MeLeu-NHMe: the alpha-H of an N-methyl residue (up to ~5.7 in cyclic peptides) fits the peptide row,
    # not the generic CH-N of amide (3.80-5.20); an ordinary N-acyl amine CH keeps the generic row
    gs = _groups("CC(C)C[C@@H](N(C)C(C)=O)C(=O)NC", "CDCl3")
    (a,) = _group_of(gs, "alpha-CH of a peptide residue")
    assert a.lo <= 4.3 and a.hi >= 5.7
    labels = {g.label for g in _groups("CC(C)NC(C)=O", "CDCl3")}
    assert "CH-N of amide" in labels and not any("peptide" in lab for lab in labels)
    (g,) = _group_of(_groups("CC(=O)NCC(=O)NC", "CDCl3"), "glycine/sarcosine peptide residue")
    assert g.lo <= 3.97 <= g.hi


@pytest.mark.parametrize(
    "smiles,beta",
    [
        ("CC(C)C[C@H](N)C(=O)O", (1.70,)),
        ("N[C@@H](CCC(=O)O)C(=O)O", (2.05, 2.12)),
        ("OC(=O)[C@@H]1CCCN1", (2.02, 2.34)),
    ],
)
def test_alkyl_beta_ch2_of_amino_acids_in_d2o(smiles, beta):
    # HMDB0000687 leucine 1.70, HMDB0000148 glutamate 2.05/2.12, HMDB0000162 proline 2.02/2.34
    (b,) = _group_of(_groups(smiles, "D2O"), "alkyl CH2 (beta) of free alpha-amino acid")
    assert all(b.lo <= x <= b.hi for x in beta)
    # serine's beta CH2 carries the O: not an alkyl beta CH2
    assert not _group_of(_groups("N[C@@H](CO)C(=O)O", "D2O"), "alkyl CH2 (beta)")


# --- the windows on real spectra: the structure's own rules must not let a close analogue pass -------------


@pytest.mark.realdata
@pytest.mark.parametrize(
    "path,analogue",
    [
        # monocyclic analogue of the fenchyl thiazole (same H count): its CH2 are not held near the thiazole,
        # so the 2.70 ppm doublet stays unexplained
        ("nmr/bicycloheptanol_1047626-52-7/1h.fid.dx", "CC1CCCC(C)(C)C1(O)c1nccs1"),
        # 1-methylhistidine against phenylalanine and against the N-acetyl amino acid
        ("nmr/1-methylhistidine_varian/HMDB00001.fid", "N[C@@H](Cc1ccccc1)C(=O)O"),
        ("nmr/1-methylhistidine_varian/HMDB00001.fid", "Cn1cnc(C[C@H](NC(C)=O)C(=O)O)c1"),
    ],
)
def test_widened_windows_do_not_admit_an_analogue(realdata, path, analogue):
    from verify.nmr.check import check_nmr

    assert check_nmr(realdata / path, read_target(analogue)).verdict != "consistent"


# --- aromatic increment windows by crowding ------------------------------------------------------------


def test_aromatic_window_half_width_follows_crowding():
    # 4-fluorobenzylamine unit (para pair: additive): o-F H 6.99 lit. (SDBS 4-fluorobenzylamine) is inside
    # its window, a plain phenyl H at 7.30 is not (even with the comparison's 0.10 ppm slack)
    g = next(x for x in _groups("C1CNCCN(C1)Cc1ccc(F)cc1", "CDCl3") if "o-F" in x.label)
    assert g.lo <= 6.99 <= g.hi and g.hi + 0.10 < 7.30
    assert g.hi - g.lo == pytest.approx(0.30, abs=0.005)
    # an ortho pair of substituents (2-chlorobenzyl) gets the wider crowded window
    crowded = [x for x in _groups("C1CNCCN(C1)Cc1ccccc1Cl", "CDCl3") if x.label.startswith("aromatic CH")]
    assert crowded and all(x.hi - x.lo == pytest.approx(0.44, abs=0.005) for x in crowded)
    # a substituent without a row (a boronic acid here) is taken as 0 and gets the widest window
    unknown = [x for x in _groups("OB(O)c1ccc(C)cc1", "CDCl3") if "unknown" in x.label]
    assert unknown and all(x.hi - x.lo == pytest.approx(0.60, abs=0.005) for x in unknown)


def test_permanent_cation_is_seen_as_itself_not_protonated():
    # tetramethylammonium C4H12N+: 4 x 12 + 12 x 1.00782503 + 14.00307401 - e (0.00054858) = 74.096426
    ions = ions_by_name("C[N+](C)(C)C")
    assert set(ions) == {"[M]+"}
    assert ions["[M]+"].mz == pytest.approx(74.096426, abs=1e-4) and ions["[M]+"].charge == 1
    # a 1,1-dimethyl-1,4-diazepanium iodide keeps its charge (nothing to deprotonate); its basic N4 can
    # take a proton as well: [M+H]2+ = (C14H24N2 - 2e) / 2
    e = build_expectation(read_target("C[N+]1(C)CCCN(Cc2ccccc2)CC1.[I-]"))
    by = {i.name: i for i in e.ions}
    assert set(by) == {"[M]+", "[M+H]2+"}
    assert by["[M]+"].mz == pytest.approx(219.185574, abs=1e-4)
    assert by["[M+H]2+"].mz == pytest.approx(110.096425, abs=1e-4)
    assert by["[M]+"].priority == 1


@pytest.mark.parametrize(
    "smiles,n_ammonium",
    [("c1ccc(CN2CCCNCC2)cc1", 0), ("c1ccc(CN2CCC[NH2+]CC2)cc1", 1), ("c1ccc(C[NH+]2CCC[NH2+]CC2)cc1", 2)],
)
def test_ring_c6_window_moves_downfield_with_each_ammonium_nitrogen(smiles, n_ammonium):
    from verify.structure.diazepane import find_diazepanes

    (ring,) = find_diazepanes(Chem.MolFromSmiles(smiles))
    (c6,) = [p for p in ring.positions if p.position == "C6"]
    lo, hi = c6.window_dmso
    # free base 1.50-1.90 in DMSO-d6; +0.2 to +0.4 ppm per ammonium N (beta-CH protonation shift)
    assert lo == pytest.approx(1.50 + 0.2 * n_ammonium) and hi == pytest.approx(1.90 + 0.4 * n_ammonium)
    # a salt's C6H2 at 2.2 ppm (homopiperazine dihydrochloride) fits a salt window, never the free base's
    assert (lo <= 2.2 <= hi) == (n_ammonium >= 1)


def test_ammonium_ring_ch2_window_in_d2o_is_its_own_and_the_free_base_falls_back_to_dmso():
    from verify.structure.diazepane import find_diazepanes
    from verify.structure.shifts import RuleShiftPredictor

    salt = Chem.MolFromSmiles("c1ccc(C[NH+]2CCC[NH2+]CC2)cc1")
    (ring,) = find_diazepanes(salt)
    c2 = next(p for p in ring.positions if p.position == "C2")
    # ammonium CH2 sit further downfield in D2O than in DMSO-d6: 1-benzylpiperazine 2HCl ring CH2 ~3.6 in D2O
    assert c2.window("d2o") == pytest.approx((3.10, 3.70))
    assert c2.window("dmso") == pytest.approx((3.05, 3.50)) and c2.window("cd3od") == c2.window("dmso")
    assert c2.window("cdcl3") == pytest.approx((3.10, 3.60))
    assert (
        not (c2.window("dmso")[0] <= 3.62 <= c2.window("dmso")[1])
        and c2.window("d2o")[0] <= 3.62 <= c2.window("d2o")[1]
    )
    w = RuleShiftPredictor().predict(Chem.AddHs(salt), "d2o")
    assert (w[c2.atom_idx].lo, w[c2.atom_idx].hi) == pytest.approx((3.10, 3.70))
    # a ring N without a D2O row (the free base's N-benzyl side) keeps the DMSO-d6 window in D2O
    (free,) = find_diazepanes(Chem.MolFromSmiles("c1ccc(CN2CCCNCC2)cc1"))
    c2f = next(p for p in free.positions if p.position == "C2")
    assert c2f.window_d2o is None and c2f.window("d2o") == c2f.window_dmso
    assert free.to_dict("d2o")["ring_ch2"][0]["window"] == list(free.positions[0].window_dmso)


def test_coupling_partners_come_from_the_graph_with_the_tables_j_ranges():
    from verify.structure.couplings import coupling_kind, j_ranges
    from verify.structure.hgroups import expected_groups
    from verify.structure.shifts import RuleShiftPredictor

    mol = Chem.MolFromSmiles("CC(C)(C)OC(=O)N1CCCN(Cc2ccc(Cl)cc2)CC1")
    groups = {g.label: g for g in expected_groups(mol, "cdcl3", RuleShiftPredictor())}
    by_id = {g.id: g for g in groups.values()}
    aro = [g for g in groups.values() if g.label.startswith("aromatic")]
    assert len(aro) == 2 and all(
        [(c.partner, c.kind) for c in g.couplings] == [(next(h.id for h in aro if h is not g), "aromatic ortho")]
        for g in aro
    )
    c6 = next(g for g in groups.values() if "C6H2" in g.label)
    assert sorted(by_id[c.partner].label[:13] for c in c6.couplings) == ["diazepane C5H", "diazepane C7H"]
    assert all(c.kind == "vicinal sp3" and (c.j_lo_hz, c.j_hi_hz) == j_ranges()["vicinal sp3"] for c in c6.couplings)
    assert not groups["tert-butyl of Boc/carbamate"].couplings and not groups["ArCH2-N (benzylic amine)"].couplings
    # ring positions and chains
    benz = Chem.MolFromSmiles("c1ccccc1")
    assert [coupling_kind(benz, 0, k) for k in (1, 2, 3)] == ["aromatic ortho", "aromatic meta", "aromatic para"]
    enal = Chem.MolFromSmiles("CC=CC=O")
    assert coupling_kind(enal, 0, 1) == "allylic vicinal" and coupling_kind(enal, 1, 2) == "vinyl"
    assert coupling_kind(enal, 2, 3) == "conjugated vicinal"
    assert coupling_kind(Chem.MolFromSmiles("CCC=O"), 1, 2) == "aldehyde vicinal"


def test_strong_coupling_is_delta_nu_over_j_at_the_field():
    from verify.structure.couplings import Coupling, strong_partners

    ortho = (Coupling("G2", "aromatic ortho", 4.5, 9.0), Coupling("G3", "aromatic para", 0.0, 1.0))
    # 0.035 ppm apart: 14 Hz at 400 MHz for J 6.75 Hz (ratio 2.1, second order); the para partner (J < 1) never
    assert strong_partners(ortho, {"G1": 7.265, "G2": 7.23, "G3": 7.265}, "G1", 400.13) == ["G2"]
    # a para-disubstituted ring 0.4 ppm apart is first order (160 Hz / 6.75 Hz = 24)
    assert strong_partners(ortho, {"G1": 7.30, "G2": 6.90, "G3": 7.30}, "G1", 400.13) == []
    # 0.3 ppm apart is first order at 400 MHz (ratio 18) but second order on a 60 MHz benchtop (18 Hz: 2.7)
    assert strong_partners(ortho, {"G1": 7.20, "G2": 6.90, "G3": 7.2}, "G1", 60.0) == ["G2"]
    assert strong_partners(ortho, {"G1": 7.20, "G2": 6.90, "G3": 7.2}, "G1", 400.13) == []
    assert strong_partners(ortho, {"G1": 7.20, "G2": 6.90}, "G1", 400.13, ratio=30.0) == ["G2"]
