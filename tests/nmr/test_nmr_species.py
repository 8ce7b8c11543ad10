"""Free base or ammonium salt: the 1H check reads the spectrum as each form of the target and keeps the one
the data show (a salt needs its own N-H+ signal where the solvent does not exchange it away)."""

from __future__ import annotations

from pathlib import Path

from nmr_spectra import BENZYL_DIAZEPANE, BENZYL_DIAZEPANE_SIGNALS, spectrum
from rdkit import Chem

from verify.nmr.check import check_spectrum
from verify.structure.species import basic_amines, protonated_forms
from verify.structure.target import read_target

BOC_BENZYL = "CC(C)(C)OC(=O)N1CCCN(Cc2ccccc2)CC1"
# tert-butyl 4-benzyl-1,4-diazepane-1-carboxylate hydrochloride in DMSO-d6: N+-H 10.6 (br), ArH 7.56/7.46,
# ArCH2N+ 4.36, carbamate N-CH2 3.55/3.46, N+-CH2 3.36/3.18, C6H2 1.98, tBu 1.40; DMSO 2.50, water 3.33
SALT_DMSO = [
    (10.6, 1, [], 25.0),
    (7.56, 2, [(7.0, 1)]),
    (7.46, 3, [(7.0, 2)]),
    (4.36, 2, []),
    (3.55, 2, [(6.0, 2)]),
    (3.46, 2, [(6.0, 2)]),
    (3.36, 2, [(6.0, 2)]),
    (3.18, 2, [(6.0, 2)]),
    (1.98, 2, [(6.0, 4)]),
    (1.40, 9, []),
    (2.50, 0.2, []),
    (3.33, 0.6, [], 4.0),
]


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


# 1-benzyl-1,4-diazepane dihydrochloride in D2O: N-H+ exchanged for D (no signal), ArH 7.52 (5H), ArCH2N+ 4.44,
# ring N+-CH2 3.62/3.55/3.50/3.41 (about 1-benzylpiperazine dihydrochloride's 3.6), C6H2 2.27; HOD 4.79
SALT_D2O = [
    (7.54, 2, [(7.5, 1)]),
    (7.51, 2, [(7.5, 2)]),
    (7.49, 1, [(7.3, 2)]),
    (4.44, 2, [], 3.0),
    (3.62, 2, [(6.0, 2)], 4.0),
    (3.55, 2, [(5.6, 2)], 4.0),
    (3.50, 2, [(6.0, 2)], 4.0),
    (3.41, 2, [(6.0, 2)], 4.0),
    (2.27, 2, [(6.0, 4)]),
    (4.79, 5.0, [], 3.0),
]


def test_d2o_salt_is_read_as_the_salt_and_its_n_h_are_exchanged_not_missing():
    # registered as the salt, or as the free base (water protonates the amine; nothing shows N-H+ in D2O)
    for registered in ("Cl.Cl." + BENZYL_DIAZEPANE, BENZYL_DIAZEPANE):
        res = check_spectrum(spectrum(SALT_D2O, solvent="D2O"), read_target(registered))
        assert res.verdict == "consistent", (registered, [f.message for f in res.findings if f.severity != "info"])
        assert res.species.startswith("bis-protonated")
        nh = [g for g in res.to_dict()["groups"] if g["exchangeable"]]
        assert nh and all(not g["found"] and g["note"].startswith("exchanged for D in D2O") for g in nh)


def test_d2o_salt_form_does_not_rescue_the_piperazine_analogue():
    # a free-base piperazine registered in D2O may be read as its salt too, but it has no C6H2 for 2.27
    res = check_spectrum(spectrum(SALT_D2O, solvent="D2O"), read_target("C1CN(CCN1)Cc1ccccc1"))
    assert res.verdict != "consistent"


def test_one_aromatic_h_too_many_is_seen_against_the_other_signals():
    # a 4-fluorobenzyl target (4 ArH) on the benzyl salt's spectrum (5 ArH in one tight multiplet): the best
    # fit of all integrals shares the extra H out below every region's tolerance; measured against the
    # compound's other signals (ArCH2, ring CH2, C6H2) the aromatic region holds 5 H
    import dataclasses

    from verify.nmr.thresholds import NMR_THRESHOLDS

    target = read_target("Cl.Cl.Fc1ccc(CN2CCCNCC2)cc1")
    res = check_spectrum(spectrum(SALT_D2O, solvent="D2O"), target)
    loo = [f for f in res.findings if f.code == "nmr.integral_mismatch" and "other signals" in f.message]
    assert res.verdict == "suspicious" and len(loo) == 1, [f.message for f in res.findings]
    assert "7.5" in loo[0].message and "4 H" in loo[0].message
    implied = float(loo[0].message.split("integrate to ")[1].split(" H")[0])
    assert 4.8 <= implied <= 5.3
    off = dataclasses.replace(NMR_THRESHOLDS, integral_loo_min_h=float("inf"))
    assert check_spectrum(spectrum(SALT_D2O, solvent="D2O"), target, th=off).verdict == "consistent"


def test_verbose_ring_summary_follows_the_form_read():
    # a dihydrochloride read as the bis-ammonium salt: the ring summary gives the salt's ring CH2 windows
    # (about 3.0-3.5 ppm), not the free base's (2.5-3.05), and says which form it shows
    from verify.pipeline import check_compound
    from verify.report.text import render_text

    folder = Path(__file__).resolve().parents[2] / "sample_spectra" / "benzyl_diazepane_2hcl"
    res = check_compound((folder / "compound.smi").read_text().split()[0], nmr=str(folder / "nmr"))
    data = res.to_dict()
    assert data["nmr"]["species"]["form"].startswith("bis-protonated")
    rings = data["nmr"]["species"]["diazepane_rings"]
    assert rings and all(p["window"][0] >= 2.9 for p in rings[0]["ring_ch2"] if p["next_to"].startswith("N"))
    text = render_text(data, verbose=True)
    assert "1,4-Diazepane ring (as read: bis-protonated" in text
    assert "1,4-Diazepane ring: N1 benzyl" not in text
