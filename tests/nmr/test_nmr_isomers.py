"""Regioisomers by 1H: equivalent H give one signal, so a symmetric isomer cannot be spread over the
separate signals of an unsymmetric one (and the reverse leaves its groups without their own signals).

Synthetic spectra use literature-typical shifts and couplings of 2-, 3- and 4-substituted pyridines and of
the Boc-diazepane ring (CDCl3); the real one is aspirin (../shared/realdata).
"""

from __future__ import annotations

import pytest
from nmr_spectra import BOC_RING as RING
from nmr_spectra import spectrum
from rdkit import Chem

from verify.nmr.check import check_nmr, check_spectrum
from verify.structure.hgroups import _may_split
from verify.structure.target import read_target

PY2 = "CC(C)(C)OC(=O)N1CCCN(Cc2ccccn2)CC1"
PY3 = "CC(C)(C)OC(=O)N1CCCN(Cc2cccnc2)CC1"
PY4 = "CC(C)(C)OC(=O)N1CCCN(Cc2ccncc2)CC1"
SIGNALS = {
    # H2 d (4J 2 Hz), H6 dd (4.8, 1.6), H4 dt (7.8, 1.9), H5 dd (7.8, 4.8)
    PY3: [
        (8.52, 1, [(2.0, 1)]),
        (8.48, 1, [(4.8, 1), (1.6, 1)]),
        (7.66, 1, [(7.8, 1), (1.9, 2)]),
        (7.25, 1, [(7.8, 1), (4.8, 1)]),
        (3.60, 2, []),
    ]
    + RING,
    # AA'XX' read as two 2H doublets
    PY4: [(8.52, 2, [(6.0, 1)]), (7.26, 2, [(6.0, 1)]), (3.60, 2, [])] + RING,
    # H6 d, H4 td, H3 d, H5 dd; the CH2 next to C2 of the pyridine is further downfield
    PY2: [
        (8.54, 1, [(4.9, 1)]),
        (7.64, 1, [(7.7, 2), (1.8, 1)]),
        (7.42, 1, [(7.8, 1)]),
        (7.15, 1, [(7.5, 1), (4.9, 1)]),
        (3.76, 2, []),
    ]
    + RING,
}


@pytest.mark.parametrize("data", [PY2, PY3, PY4])
@pytest.mark.parametrize("checked", [PY2, PY3, PY4])
def test_pyridylmethyl_regioisomers_are_told_apart(data, checked):
    res = check_spectrum(spectrum(SIGNALS[data]), read_target(checked))
    if data == checked:
        assert res.verdict == "consistent", [f.message for f in res.findings if f.severity != "info"]
    else:
        assert res.verdict != "consistent", (data, checked)


def test_equivalent_aromatic_h_are_one_signal_but_rotamers_and_diastereotopic_may_split():
    def split_of(smi, label_part):
        from verify.structure.hgroups import expected_groups
        from verify.structure.shifts import RuleShiftPredictor

        m = Chem.MolFromSmiles(smi)
        return {
            g.label: g.may_split for g in expected_groups(m, "cdcl3", RuleShiftPredictor()) if label_part in g.label
        }

    assert not any(split_of(PY4, "aromatic").values())  # the 2H pairs of a 4-pyridyl
    assert all(split_of("CN(C)C(=O)c1ccccc1", "N-CH3").values())  # amide rotamers: two N-CH3 singlets
    assert split_of("C=CC(=O)OCCCC", "=CH2") == {"terminal enone/acrylate =CH2": True}  # cis/trans H differ
    assert not any(split_of("C=CC(=O)OCCCC", "O-CH2").values())  # an achiral chain CH2 is one signal
    m = Chem.MolFromSmiles("CC(C)C[C@H](N)C(=O)O")  # leucine: diastereotopic CH2 and CH3 pair
    ch2 = next(a.GetIdx() for a in m.GetAtoms() if a.GetTotalNumHs() == 2 and a.GetAtomicNum() == 6)
    assert _may_split(m, (ch2,), False, "")
    ipr = tuple(a.GetIdx() for a in m.GetAtoms() if a.GetTotalNumHs() == 3)
    assert _may_split(m, ipr, False, "")
    assert not _may_split(Chem.MolFromSmiles("CC(C)Cc1ccccc1"), (0, 2), False, "")  # achiral isobutyl CH3


@pytest.mark.realdata
def test_real_aspirin_does_not_pass_for_its_para_isomer(realdata):
    path = realdata / "nmr" / "aspirin_bruker" / "1"
    own = check_nmr(path, read_target("CC(=O)Oc1ccccc1C(=O)O"))
    para = check_nmr(path, read_target("CC(=O)Oc1ccc(cc1)C(=O)O"))
    assert own.verdict == "consistent", [f.message for f in own.findings if f.severity != "info"]
    assert para.verdict != "consistent"
    # the four ring H are four separate signals (8.04 dd, 7.53 td, 7.28 t, 7.07 d): none is split over two
    for g in own.groups:
        if "aromatic" in g.group.label:
            assert g.found and "spread" not in g.note, (g.group.label, g.note)


# ------------------------------------------------------------------------------- competing structures
def test_competing_structures_are_this_chemistrys_plausible_edits():
    from verify.structure.alternatives import competing_structures

    def alts(smi):
        return {a.smiles: a.kind for a in competing_structures(Chem.MolFromSmiles(smi))}

    canon = lambda s: Chem.MolToSmiles(Chem.MolFromSmiles(s))  # noqa: E731
    py3 = alts(PY3)
    assert py3[canon(PY4)] == "position" and py3[canon(PY2)] == "position"
    assert py3[canon("CC(C)(C)OC(=O)N1CCN(Cc2cccnc2)CC1")] == "ring"  # piperazine for the diazepane
    assert canon(PY3) not in py3
    benzyl = alts("C1CNCCN(C1)Cc1ccccc1")
    assert benzyl[canon("CN1CCCN(Cc2ccccc2)CC1")] == "methyl"  # N-CH3 for the free N-H
    assert not any(k == "position" for k in benzyl.values())  # a monosubstituted ring has no isomer
    assert not any(k == "swap" for k in benzyl.values())  # the diazepane's two N are equivalent by symmetry
    assert alts("CC(O)c1ccccc1") == {canon("CC(=O)c1ccccc1"): "redox"}
    assert alts("CC(=O)c1ccccc1") == {canon("CC(O)c1ccccc1"): "redox"}
    # an unsymmetric ring: which N carries which substituent matters
    swap = alts("CN1CC(C)N(Cc2ccccc2)CC1")
    assert swap[canon("CN1CCN(Cc2ccccc2)CC1C")] == "swap"


def test_no_alternatives_when_turned_off():
    from dataclasses import replace

    from verify.nmr.thresholds import NMR_THRESHOLDS

    off = replace(NMR_THRESHOLDS, alternatives=0)
    res = check_spectrum(spectrum(SIGNALS[PY3]), read_target(PY3), th=off)
    assert res.alternatives == [] and res.verdict == "consistent"
    on = check_spectrum(spectrum(SIGNALS[PY3]), read_target(PY3))
    kinds = {a.alternative.kind for a in on.alternatives}
    assert "position" in kinds and all(a.advantage < NMR_THRESHOLDS.alternative_margin for a in on.alternatives)


def test_hrms_rules_out_an_alternative_of_another_formula():
    from types import SimpleNamespace

    from verify.findings import verdict_from_findings
    from verify.nmr.alternatives import AlternativeFit, alternative_findings
    from verify.pipeline import _rule_out_by_hrms
    from verify.structure.alternatives import Alternative

    homologue = AlternativeFit(
        Alternative("CCN1CCCNCC1", "homologue", "one CH2 more in the chain"),
        "C7H16N2",
        misfit=2.0,
        advantage=9.0,
        same_formula=False,
        clean=True,
    )
    findings = alternative_findings([homologue])
    assert [f.code for f in findings] == ["nmr.alternative_fits"]
    nmr = SimpleNamespace(alternatives=[homologue], findings=list(findings), verdict=verdict_from_findings(findings))
    assert nmr.verdict == "suspicious"
    _rule_out_by_hrms(nmr, SimpleNamespace(main_ion=None, verdict="inconsistent"))  # MS did not see the target
    assert nmr.verdict == "suspicious" and homologue.ruled_out_by == ""
    _rule_out_by_hrms(nmr, SimpleNamespace(main_ion=object(), verdict="consistent"))
    assert nmr.verdict == "consistent" and homologue.ruled_out_by == "HRMS"
    assert [f.code for f in nmr.findings] == ["nmr.alternative_ruled_out"]


@pytest.mark.realdata
def test_real_aspirin_checked_as_its_meta_isomer_names_aspirin(realdata):
    res = check_nmr(realdata / "nmr" / "aspirin_bruker" / "1", read_target("CC(=O)Oc1cccc(c1)C(=O)O"))
    assert res.verdict == "suspicious"
    better = [f for f in res.findings if f.code == "nmr.alternative_fits"]
    aspirin = Chem.MolToSmiles(Chem.MolFromSmiles("CC(=O)Oc1ccccc1C(=O)O"))
    assert better and aspirin in better[0].message
    assert res.alternatives[0].alternative.smiles == aspirin  # best first
    assert res.to_dict()["alternatives"][0]["smiles"] == aspirin


# ------------------------------------------------------------------------------- ring patterns
PMB = "COc1ccc(CN2CCCNCC2)cc1"  # 1-(4-methoxybenzyl)-1,4-diazepane, CDCl3
PMB_SIGNALS = [
    (7.22, 2, [(8.6, 1)]),
    (6.86, 2, [(8.6, 1)]),
    (3.80, 3, []),
    (3.56, 2, []),
    (2.93, 2, [(6.0, 2)]),
    (2.89, 2, [(5.5, 2)]),
    (2.66, 4, [(5.8, 2)]),
    (1.77, 2, [(6.0, 4)]),
    (1.56, 0.3, [], 4.0),
]


def test_ortho_ring_h_counts_set_the_expected_pattern():
    from verify.structure.hgroups import expected_groups
    from verify.structure.shifts import RuleShiftPredictor

    def counts(smi):
        return sorted(
            g.ortho_h
            for g in expected_groups(Chem.MolFromSmiles(smi), "cdcl3", RuleShiftPredictor())
            if g.ortho_h is not None
        )

    assert counts(PMB) == [1, 1]  # two doublets
    assert counts("COc1ccccc1CN1CCCNCC1") == [1, 1, 2, 2]  # d, d, t, t
    assert counts(PY3) == [0, 1, 1, 2]  # H2 s, H4 d, H6 d, H5 dd
    assert counts("Fc1ccc(CN2CCCNCC2)cc1") == [1]  # the H next to F carry J(H,F): no expectation


@pytest.mark.parametrize("wrong", ["COc1ccccc1CN1CCCNCC1", "COc1cccc(CN2CCCNCC2)c1"])
def test_para_doublets_do_not_pass_for_an_ortho_or_meta_ring(wrong):
    own = check_spectrum(spectrum(PMB_SIGNALS), read_target(PMB))
    assert own.verdict == "consistent", [f.message for f in own.findings if f.severity != "info"]
    res = check_spectrum(spectrum(PMB_SIGNALS), read_target(wrong))
    assert res.verdict != "consistent"
    assert any(f.code == "nmr.multiplicity_mismatch" for f in res.findings)


CL2 = "CC(C)(C)OC(=O)N1CCCN(Cc2ccccc2Cl)CC1"
CL3 = "CC(C)(C)OC(=O)N1CCCN(Cc2cccc(Cl)c2)CC1"
CL_SIGNALS = {
    # H6 dd, H3 dd, H5 td, H4 td: every H of a 1,2-ring has an ortho neighbour
    CL2: [
        (7.49, 1, [(7.6, 1), (1.6, 1)]),
        (7.33, 1, [(7.8, 1), (1.4, 1)]),
        (7.22, 1, [(7.5, 2), (1.4, 1)]),
        (7.17, 1, [(7.6, 2), (1.8, 1)]),
        (3.73, 2, []),
    ]
    + RING,
    # H2 a narrow t of meta couplings only, H5 t, H4 dt, H6 d
    CL3: [
        (7.34, 1, [(1.8, 2)]),
        (7.22, 1, [(7.7, 2)]),
        (7.20, 1, [(7.8, 1), (1.8, 2)]),
        (7.12, 1, [(7.4, 1)]),
        (3.56, 2, []),
    ]
    + RING,
}


@pytest.mark.parametrize("data", [CL2, CL3])
@pytest.mark.parametrize("checked", [CL2, CL3])
def test_ortho_and_meta_chlorobenzyl_are_told_apart_by_their_couplings(data, checked):
    res = check_spectrum(spectrum(CL_SIGNALS[data]), read_target(checked))
    if data == checked:
        assert res.verdict == "consistent", [f.message for f in res.findings if f.severity != "info"]
    else:
        assert res.verdict != "consistent", (data, checked)
        assert any(f.code == "nmr.multiplicity_mismatch" for f in res.findings), [f.message for f in res.findings]


def test_ortho_couplings_are_counted_from_the_multiplet_name():
    from verify.nmr.multiplicity_checks import ortho_couplings as _ortho_couplings
    from verify.nmr.peaks import Line, Multiplet

    def m(name, js, n_lines=4):
        lines = [Line(7.0 + 0.01 * k, 1.0, 1.0, k) for k in range(n_lines)]
        return Multiplet(7.0, 6.98, 7.05, lines, name, js, 1.0, 1.0, 100.0)

    assert _ortho_couplings(m("td", [7.5, 1.4], 6)) == 2
    assert _ortho_couplings(m("dd", [7.6, 1.6])) == 1
    assert _ortho_couplings(m("dd", [7.8, 4.8])) == 2  # pyridine H5: J(4,5) and J(5,6)
    assert _ortho_couplings(m("t", [1.8], 3)) == 0  # meta couplings only
    assert _ortho_couplings(m("m", [])) is None
    assert _ortho_couplings(m("s", [], 1)) is None
    assert _ortho_couplings(m("dd", [7.6])) is None  # letters and J values that do not pair


N_ETHYL = "CCN1CCCN(C(=O)OC(C)(C)C)CC1"
N_METHYL = "CN1CCCN(C(=O)OC(C)(C)C)CC1"
# ring N-CH2 on the N-ethyl side as resolved dd (the ethyl CH2 quartet beside them), CH3 triplet
N_ETHYL_SIGNALS = [
    (3.47, 2, [(6.0, 2)]),
    (3.41, 2, [(6.2, 2)]),
    (2.66, 2, [(6.0, 1), (5.0, 1)]),
    (2.57, 2, [(5.6, 2)]),
    (2.50, 2, [(7.1, 3)]),
    (1.80, 2, [(6.0, 4)]),
    (1.46, 9, []),
    (1.04, 3, [(7.1, 2)]),
]


def test_a_methyl_singlet_cannot_sit_alone_on_a_vicinal_dd():
    own = check_spectrum(spectrum(N_ETHYL_SIGNALS), read_target(N_ETHYL))
    assert own.verdict == "consistent", [f.message for f in own.findings if f.severity != "info"]
    res = check_spectrum(spectrum(N_ETHYL_SIGNALS), read_target(N_METHYL))
    assert res.verdict != "consistent"
    assert any(f.code == "nmr.multiplicity_mismatch" for f in res.findings), [f.message for f in res.findings]


BENZOYL = "CN1CCCN(C(=O)c2ccccc2)CC1"
# the benzoyl m- and p-H overlap at 7.46 (3H) with amide-rotamer-broadened lines: the two triplets merge
# into an apparent d, which is no first-order doublet of either group
BENZOYL_SIGNALS = [
    (7.46, 3, [(7.5, 1), (1.5, 1)], 2.5),
    (7.36, 2, [(7.5, 1), (1.5, 1)], 2.5),
    (3.74, 2, [(6.0, 2)], 6.0),
    (3.45, 2, [(6.0, 2)], 6.0),
    (2.70, 2, [(5.5, 2)]),
    (2.55, 2, [(6.0, 2)]),
    (2.38, 3, []),
    (1.95, 2, [(6.0, 4)], 3.0),
]


def test_merged_broad_lines_are_not_read_as_a_first_order_doublet():
    from dataclasses import replace

    from verify.nmr.thresholds import NMR_THRESHOLDS

    res = check_spectrum(spectrum(BENZOYL_SIGNALS), read_target(BENZOYL))
    assert res.verdict == "consistent", [f.message for f in res.findings if f.severity != "info"]
    # the same shared d with its width guard and the strong-coupling guard turned off is read as a forbidden
    # pattern
    loose = replace(NMR_THRESHOLDS, pattern_max_width_ratio=1e9, strong_coupling_ratio=0.0)
    res = check_spectrum(spectrum(BENZOYL_SIGNALS), read_target(BENZOYL), th=loose)
    assert any(f.code == "nmr.multiplicity_mismatch" for f in res.findings)
    # the benzoyl m- and p-H are predicted within a few Hz of each other (delta-nu / J < 3 at 400 MHz): second
    # order, so even without the width guard no first-order pattern is asked of them
    res = check_spectrum(
        spectrum(BENZOYL_SIGNALS), read_target(BENZOYL), th=replace(NMR_THRESHOLDS, pattern_max_width_ratio=1e9)
    )
    assert not any(f.code == "nmr.multiplicity_mismatch" for f in res.findings)
    assert any(g["strongly_coupled_with"] for g in res.to_dict()["groups"])
