"""Free base or ammonium salt: the 1H check reads the spectrum as each form of the target and keeps the one
the data show (a salt needs its own N-H+ signal where the solvent does not exchange it away)."""

from __future__ import annotations

from rdkit import Chem

from test_nmr_compare import BENZYL_DIAZEPANE, BENZYL_DIAZEPANE_SIGNALS, spectrum
from verify.nmr.check import check_spectrum
from verify.structure.species import basic_amines, protonated_forms
from verify.structure.target import read_target

BOC_BENZYL = "CC(C)(C)OC(=O)N1CCCN(Cc2ccccc2)CC1"
# tert-butyl 4-benzyl-1,4-diazepane-1-carboxylate hydrochloride in DMSO-d6: N+-H 10.6 (br), ArH 7.56/7.46,
# ArCH2N+ 4.36, carbamate N-CH2 3.55/3.46, N+-CH2 3.36/3.18, C6H2 1.98, tBu 1.40; DMSO 2.50, water 3.33
SALT_DMSO = [(10.6, 1, [], 25.0), (7.56, 2, [(7.0, 1)]), (7.46, 3, [(7.0, 2)]), (4.36, 2, []), (3.55, 2, [(6.0, 2)]),
             (3.46, 2, [(6.0, 2)]), (3.36, 2, [(6.0, 2)]), (3.18, 2, [(6.0, 2)]), (1.98, 2, [(6.0, 4)]), (1.40, 9, []),
             (2.50, 0.2, []), (3.33, 0.6, [], 4.0)]


def test_protonated_forms_protonate_only_basic_amines():
    assert basic_amines(Chem.MolFromSmiles("CC(=O)N1CCCNCC1")) == [7]  # the amide N is not basic
    assert basic_amines(Chem.MolFromSmiles("Nc1ccccc1")) == []  # nor an aniline
    forms = protonated_forms(Chem.MolFromSmiles(BENZYL_DIAZEPANE))
    assert [f.n_protonated for f in forms] == [1, 1, 2]  # each N alone, then the bis salt
    assert all(Chem.MolFromSmiles(f.smiles) is not None and "+" in f.smiles for f in forms)


def test_hcl_salt_spectrum_is_read_as_the_salt_whether_registered_as_salt_or_free_base():
    for registered in (BOC_BENZYL, "CC(C)(C)OC(=O)N1CCC[NH+](Cc2ccccc2)CC1.[Cl-]"):
        res = check_spectrum(spectrum(SALT_DMSO, solvent="DMSO-d6"), read_target(registered))
        assert res.verdict == "consistent", [f.message for f in res.findings if f.severity != "info"]
        assert res.species.startswith("mono-protonated") and "+" in res.species_smiles
        assert res.to_dict()["species"]["form"] == res.species


def test_salt_form_does_not_rescue_a_wrong_ring():
    # the piperazine analogue has no C6H2: the 1.98 quintet stays unexplained whichever form is read
    res = check_spectrum(spectrum(SALT_DMSO, solvent="DMSO-d6"), read_target("CC(C)(C)OC(=O)N1CCN(Cc2ccccc2)CC1"))
    assert res.verdict != "consistent"


def test_free_base_spectrum_stays_the_free_base():
    res = check_spectrum(spectrum(BENZYL_DIAZEPANE_SIGNALS), read_target(BENZYL_DIAZEPANE + ".Cl"))
    assert res.verdict == "consistent" and res.species == "free base"
    assert any(f.code == "nmr.species" and "free base" in f.message for f in res.findings)  # registered as a salt
