"""The structure argument: literal SMILES before paths, RDKit's reason for a bad SMILES, encodings,
bounded work on huge or many-fragment inputs, and depictions that cannot hang (issue 12)."""

from __future__ import annotations

import threading

import pytest
from rdkit import Chem

from verify.errors import InputError, MissingInputError
from verify.structure.target import MAX_FRAGMENTS, MAX_HEAVY_ATOMS, read_target


def within(seconds, fn, *args):
    """fn(*args) in a thread; fails (instead of hanging the suite) when it takes longer than `seconds`."""
    out = {}

    def run():
        try:
            out["value"] = fn(*args)
        except BaseException as exc:  # handed back to the test
            out["error"] = exc

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(seconds)
    assert not t.is_alive(), f"took longer than {seconds} s"
    if "error" in out:
        raise out["error"]
    return out["value"]


def test_long_literal_smiles_is_not_taken_for_a_file_name():
    smiles = "[CH3]" + "[CH2]" * 120 + "[NH2]"  # 611 characters: longer than any file name may be
    t = read_target(smiles)
    assert t.mol.GetNumHeavyAtoms() == 122 and t.source == "literal"


@pytest.mark.parametrize(
    "smiles,reason",
    [
        ("CC(C", "extra open parentheses"),
        ("C1CC", "unclosed ring"),
        ("C(C)(C)(C)(C)C", "valence"),
        ("CXC", "syntax error"),
    ],
)
def test_invalid_smiles_says_what_rdkit_found(smiles, reason, capfd):
    with pytest.raises(InputError) as ei:
        read_target(smiles)
    msg = str(ei.value)
    assert f"invalid SMILES {smiles!r}: RDKit: " in msg and reason in msg and "\n" not in msg
    assert "SMILES Parse Error" not in capfd.readouterr().err  # RDKit's own log is not printed


def test_long_invalid_smiles_is_shortened_in_the_message():
    with pytest.raises(InputError) as ei:
        read_target("C" * 200 + "(")
    assert "…" in str(ei.value) and len(str(ei.value)) < 200


def test_trans_double_bond_smiles_and_missing_paths():
    assert read_target("F/C=C/F").smiles == "F/C=C/F"
    with pytest.raises(MissingInputError):
        read_target("no_such_folder/compound")
    with pytest.raises(MissingInputError):
        read_target("/nonexistent/x.smi")


def test_many_fragments_and_huge_structures_are_refused_quickly():
    with pytest.raises(InputError, match=f"300 fragments; at most {MAX_FRAGMENTS}"):
        within(5, read_target, ".".join(["CCCCCCCCCCCCCCCCCCCC"] * 300))
    with pytest.raises(InputError, match=f"heavy atoms; at most {MAX_HEAVY_ATOMS}"):
        within(5, read_target, "C" * 400)
    # a salt with a few counter-ions is still fine
    t = read_target("Cl.Cl.C1CNCCN(C1)Cc1ccccc1")
    assert t.smiles == Chem.CanonSmiles("C1CNCCN(C1)Cc1ccccc1") and t.notes


def test_latin1_molfile_is_read_and_binary_is_refused(tmp_path):
    block = Chem.MolToMolBlock(Chem.MolFromSmiles("CCO"))
    p = tmp_path / "ethanol.mol"
    p.write_bytes(("Éthanol (échantillon)" + block[block.index("\n") :]).encode("latin-1"))
    t = read_target(str(p))
    assert t.name == "Éthanol (échantillon)" and t.smiles == "CCO"
    b = tmp_path / "junk.sdf"
    b.write_bytes(b"\x00\x01\x02binary\xff" * 50)
    with pytest.raises(InputError, match="binary content"):
        read_target(str(b))


def test_unreadable_molfile_names_rdkit_reason(tmp_path):
    p = tmp_path / "bad.mol"
    block = Chem.MolToMolBlock(Chem.MolFromSmiles("CCO"))
    p.write_text(block.replace("    0.0000 O ", "    0.0000 Xx"))  # an unknown element symbol
    with pytest.raises(InputError) as ei:
        read_target(str(p))
    assert "not a readable molfile/SDF record" in str(ei.value) and "\n" not in str(ei.value)


@pytest.mark.parametrize("ring", [44, 120])
def test_macrocycle_depiction_is_bounded(ring):
    from verify.report.plots import structure_svg

    svg = within(20, structure_svg, Chem.MolFromSmiles("C1" + "C" * (ring - 1) + "1"))
    assert svg.startswith("<svg") and "<path" in svg


def test_very_large_structure_is_not_drawn():
    from verify.report.plots import MAX_DEPICTED_HEAVY_ATOMS, structure_svg

    svg = within(5, structure_svg, Chem.MolFromSmiles("C" * (MAX_DEPICTED_HEAVY_ATOMS + 10)))
    assert "structure not drawn" in svg
