"""NMReDATA assignment reader (verify.structure.nmredata) and the arithmetic of bench/bench_prediction.py."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import pytest
from rdkit import Chem

from verify.errors import InputError, MissingInputError
from verify.structure.hgroups import HGroup
from verify.structure.nmredata import AssignedSpectrum, choose_assignment_file, find_assigned_spectra, read_assignments

ROOT = Path(__file__).resolve().parents[2]


def _h(mol: Chem.Mol, idx: int) -> int:
    return mol.GetAtomWithIdx(idx).GetTotalNumHs()


def _neighbours(mol: Chem.Mol, idx: int) -> list[str]:
    return sorted(nb.GetSymbol() for nb in mol.GetAtomWithIdx(idx).GetNeighbors())


# --------------------------------------------------------------------------------------------- real files


@pytest.mark.realdata
def test_aspirin_implicit_h_version_1_0(realdata):
    """NMReDATA 1.0, no backslashes, implicit H, NMR_ASSIGNMENT tag, 'h5, 2.291, H9' = H on atom 9."""
    spec = read_assignments(realdata / "nmr/aspirin_nmrdataset1/Displayer_50-78-2.nmredata.sdf")
    assert isinstance(spec, AssignedSpectrum)
    mol = spec.mol
    assert Chem.MolToSmiles(mol) == Chem.CanonSmiles("CC(=O)Oc1ccccc1C(=O)O")
    assert all(a.GetAtomicNum() > 1 for a in mol.GetAtoms())
    assert spec.solvent == "DMSO"  # as written in the record (the spectrum itself is CDCl3, see the manifest)
    # the methyl carbon: molfile atom 9, sp3 C with 3 H bonded to the ester carbonyl carbon
    methyl = 8
    assert mol.GetAtomWithIdx(methyl).GetSymbol() == "C" and _h(mol, methyl) == 3
    carbonyl = mol.GetAtomWithIdx(methyl).GetNeighbors()[0]
    assert sorted(nb.GetSymbol() for nb in carbonyl.GetNeighbors()) == ["C", "O", "O"]
    assert spec.h_shifts[methyl] == (2.291,)
    # 'h1, 8.038, H5': aromatic CH ortho to the COOH (molfile atom 5)
    assert mol.GetAtomWithIdx(4).GetIsAromatic() and _h(mol, 4) == 1
    assert spec.h_shifts[4] == (8.038,)
    assert spec.h_shifts == {3: (7.522,), 4: (8.038,), 5: (7.276,), 6: (7.063,), 8: (2.291,)}
    # the acid O-H is exchangeable (not assigned in this file); 13C lines gave nothing
    assert spec.exchangeable == frozenset({9}) and mol.GetAtomWithIdx(9).GetSymbol() == "O"
    assert spec.notes == ()


@pytest.mark.realdata
def test_menthol_explicit_h_and_backslashes(realdata):
    """NMReDATA 1.1: every line ends with a backslash; the CH2 protons are explicit H atoms (12-17), the other
    H are implicit and named 'H3' (H on atom 3); 'OH, 1.3536, H8' is the hydroxyl."""
    spec = read_assignments(realdata / "nmr/menthol_nmredata/compound1.nmredata.sdf")
    mol = spec.mol
    assert mol.GetNumAtoms() == 11 and all(a.GetAtomicNum() > 1 for a in mol.GetAtoms())
    assert Chem.MolToSmiles(mol) == Chem.CanonSmiles("CC(C)[C@@H]1CC[C@@H](C)C[C@H]1O")
    assert spec.solvent == "CDCl3"
    # ring CH2 of molfile atom 1: 'H1eq, 1.6822, 12' and 'H1ax, 0.8630, 13' (explicit H 12 and 13 sit on atom 1)
    assert mol.GetAtomWithIdx(0).GetSymbol() == "C" and _h(mol, 0) == 2 and mol.GetAtomWithIdx(0).IsInRing()
    assert spec.h_shifts[0] == (1.6822, 0.8630)
    assert spec.h_shifts[1] == (0.9933, 1.6293)  # H2ax, H2eq
    assert spec.h_shifts[4] == (0.9535, 1.9844)  # H5ax, H5eq
    # CH3 'Me7, 0.9331, H7': one value for the three H
    assert _h(mol, 6) == 3 and spec.h_shifts[6] == (0.9331,)
    # CH-O 'H4, 3.4302, H4'
    assert _neighbours(mol, 3) == ["C", "C", "O"] and spec.h_shifts[3] == (3.4302,)
    # hydroxyl on molfile atom 8
    assert mol.GetAtomWithIdx(7).GetSymbol() == "O" and spec.h_shifts[7] == (1.3536,)
    assert spec.exchangeable == frozenset({7})
    assert sum(len(v) for v in spec.h_shifts.values()) == 14 and spec.notes == ()
    assert spec.atom_numbers[0] == 1 and spec.atom_numbers[10] == 11


@pytest.mark.realdata
def test_cocaine_implicit_h_backslashes_and_ch2_pair(realdata):
    """Implicit H with backslash line ends; the ring CH2 of molfile atom 13 is assigned twice (2.448, 1.877)."""
    spec = read_assignments(realdata / "nmr/cocaine/ChiuZ_Cocaine_Luc.nmredata.sdf")
    mol = spec.mol
    assert spec.solvent == "CDCl3"
    assert Chem.MolToSmiles(mol) == Chem.CanonSmiles("COC(=O)[C@H]1[C@@H](OC(=O)c2ccccc2)C[C@@H]2CC[C@H]1N2C")
    ch2 = 12
    assert mol.GetAtomWithIdx(ch2).GetSymbol() == "C" and _h(mol, ch2) == 2 and mol.GetAtomWithIdx(ch2).IsInRing()
    assert spec.h_shifts[ch2] == (2.448, 1.877)
    assert spec.h_shifts[13] == (2.182, 1.734) and spec.h_shifts[14] == (2.114, 1.734)
    # 'h5, 3.729, H10': the ester O-CH3
    assert _h(mol, 9) == 3 and _neighbours(mol, 9) == ["O"] and spec.h_shifts[9] == (3.729,)
    # 'h8, 3.031, H11' (the CH next to the ester) and the N-CH3 'h10, 2.237, H12'
    assert _h(mol, 11) == 3 and _neighbours(mol, 11) == ["N"] and spec.h_shifts[11] == (2.237,)
    assert spec.exchangeable == frozenset()
    assert sum(len(v) for v in spec.h_shifts.values()) == 16


@pytest.mark.realdata
def test_butyl_acrylate_partly_explicit_h(realdata):
    """The =CH2 H are explicit atoms (10, 11) but the file names them 'H2' (H on atom 2), on two lines."""
    spec = read_assignments(realdata / "nmr/butyl_acrylate/Displayer_141-32-2.nmredata.sdf")
    mol = spec.mol
    assert mol.GetNumAtoms() == 9
    assert mol.GetAtomWithIdx(1).GetSymbol() == "C" and _h(mol, 1) == 2
    assert [b.GetBondTypeAsDouble() for b in mol.GetAtomWithIdx(1).GetBonds()] == [2.0]
    assert spec.h_shifts[1] == (6.324, 5.739)
    assert spec.h_shifts[6] == (0.878,) and _h(mol, 6) == 3


@pytest.mark.realdata
def test_arborinine_chelated_oh_is_exchangeable(realdata):
    spec = read_assignments(realdata / "nmr/arborinine/compound1.nmredata.sdf")
    assert spec.solvent == "CDCl3"  # written 'CDCl3\'
    assert spec.mol.GetAtomWithIdx(14).GetSymbol() == "O"
    assert spec.h_shifts[14] == (14.7674,) and 14 in spec.exchangeable
    assert spec.h_shifts[16] == (3.8143,)  # N-CH3
    assert len(spec.ch_shifts()) == 8


@pytest.mark.realdata
def test_broken_lines_are_skipped_with_notes(realdata):
    """with_char_10.sdf has two assignment lines cut by a line feed: they are skipped, the rest is read."""
    spec = read_assignments(realdata / "nmr/menthol_nmredata/with_char_10.sdf")
    assert 2 not in spec.h_shifts and 9 not in spec.h_shifts  # H3 and Me10 were on the cut lines
    assert spec.h_shifts[0] == (1.6822, 0.8630)
    assert len(spec.notes) == 4 and all("\n" not in n for n in spec.notes)


@pytest.mark.realdata
def test_find_assigned_spectra_one_per_file(realdata):
    pairs = find_assigned_spectra(realdata)
    files = [Path(spec.path).resolve() for _, spec in pairs]
    assert len(files) == len(set(files)) == 22
    by_folder = {Path(row["path"]).parts[1]: (row, spec) for row, spec in pairs}
    assert len(by_folder) == len(pairs)
    row, spec = by_folder["menthol_nmredata"]
    assert Path(spec.path).name == "compound1.nmredata.sdf" and row["path"] == "nmr/menthol_nmredata/AN-menthol/10"
    assert "aspirin_bruker" not in by_folder and "aspirin_nmrdataset1" in by_folder  # folder without sdf: none
    assert choose_assignment_file(realdata / "nmr/menthol_nmredata").name == "compound1.nmredata.sdf"
    for row, _ in pairs:
        assert row["kind"] == "nmr"


# ---------------------------------------------------------------------------------------- synthetic files


def _record(molblock: str, assignment: list[str], solvent: str = "CDCl3\\", tag: str = "NMREDATA_ASSIGNMENT") -> str:
    body = "\n".join(assignment)
    return f"{molblock}>  <NMREDATA_VERSION>\n1.1\\\n\n>  <NMREDATA_SOLVENT>\n{solvent}\n\n>  <{tag}>\n{body}\n\n$$$$\n"


def _interleaved_isopropanol() -> tuple[str, list[int]]:
    """Isopropanol with explicit H, an H atom placed second in the molfile; returns (molblock, new order)."""
    mol = Chem.AddHs(Chem.MolFromSmiles("CC(C)O"))  # 0 C, 1 C, 2 C, 3 O, 4.. H
    h_on_c0 = next(nb.GetIdx() for nb in mol.GetAtomWithIdx(0).GetNeighbors() if nb.GetAtomicNum() == 1)
    order = [0, h_on_c0] + [i for i in range(mol.GetNumAtoms()) if i not in (0, h_on_c0)]
    return Chem.MolToMolBlock(Chem.RenumberAtoms(mol, order)), order


def test_interleaved_explicit_h_and_multi_atom_lines(tmp_path):
    molblock, order = _interleaved_isopropanol()
    written = Chem.MolFromMolBlock(molblock, removeHs=False)
    num = {old: order.index(old) + 1 for old in range(len(order))}  # original index -> 1-based molfile number
    h_on_c1 = next(
        nb.GetIdx()
        for nb in Chem.AddHs(Chem.MolFromSmiles("CC(C)O")).GetAtomWithIdx(1).GetNeighbors()
        if nb.GetAtomicNum() == 1
    )
    h_on_o = next(nb.GetIdx() for nb in written.GetAtomWithIdx(num[3] - 1).GetNeighbors() if nb.GetAtomicNum() == 1)
    lines = [
        f"c1, 25.1, {num[0]}\\",  # 13C of a methyl: ignored
        f"Me, 1.20, {num[0]}, H{num[2]}\\",  # a plain heavy-atom number (13C style, ignored) and an H form
        f"Me2, 1.21, H{num[0]}, H{num[2]}\\",  # both methyls by H prefix: one value each
        f"CH, 4.02, {num[h_on_c1]}\\",  # the explicit methine H by its own number
        f"OH, 1.9, {h_on_o + 1}\\;a comment",  # hydroxyl H by its own number
    ]
    p = tmp_path / "ipa.nmredata.sdf"
    p.write_text(_record(molblock, lines))
    spec = read_assignments(p)
    mol = spec.mol
    assert mol.GetNumAtoms() == 4
    # map the original heavy atoms to the H-implicit molecule through the molfile numbers
    idx = {spec.atom_numbers[i]: i for i in spec.atom_numbers}
    c0, c1, c2, o3 = idx[num[0]], idx[num[1]], idx[num[2]], idx[num[3]]
    assert mol.GetAtomWithIdx(o3).GetSymbol() == "O" and _h(mol, c1) == 1
    assert spec.h_shifts[c0] == (1.21,)  # 'Me' names carbon num[0] by a plain number: its 13C, not its H
    assert spec.h_shifts[c2] == (1.20, 1.21)
    assert spec.h_shifts[c1] == (4.02,)
    assert spec.h_shifts[o3] == (1.9,) and spec.exchangeable == frozenset({o3})
    assert spec.solvent == "CDCl3" and spec.name == "ipa"


def test_one_line_for_both_h_of_a_ch2_gives_one_value(tmp_path):
    mol = Chem.AddHs(Chem.MolFromSmiles("CCO"))
    hs = [nb.GetIdx() + 1 for nb in mol.GetAtomWithIdx(1).GetNeighbors() if nb.GetAtomicNum() == 1]
    together = read_assignments(_write(tmp_path / "a.sdf", Chem.MolToMolBlock(mol), [f"h, 3.65, {hs[0]}, {hs[1]}"]))
    apart = read_assignments(
        _write(tmp_path / "b.sdf", Chem.MolToMolBlock(mol), [f"ha, 3.60, {hs[0]}", f"hb, 3.70, {hs[1]}"])
    )
    assert together.h_shifts == {1: (3.65,)}
    assert apart.h_shifts == {1: (3.60, 3.70)}


def _write(p: Path, molblock: str, lines: list[str], **kw) -> Path:
    p.write_text(_record(molblock, lines, **kw))
    return p


@pytest.mark.parametrize(
    "text, words",
    [
        ("just some text\nwithout a molfile\n", "M  END"),
        (
            "\n  x\n\n  1  0  0  0  0  0  0  0  0  0999 V2000\n    0.0    0.0    0.0 Xx  0  0\nM  END\n"
            ">  <NMREDATA_ASSIGNMENT>\nh1, 1.0, H1\n\n$$$$\n",
            "molfile",
        ),
        (None, "no NMREDATA_ASSIGNMENT"),
        ("atom-out-of-range", "names atom 99"),
    ],
)
def test_malformed_files_raise_input_error(tmp_path, text, words):
    mb = Chem.MolToMolBlock(Chem.MolFromSmiles("CCO"))
    p = tmp_path / "bad.nmredata.sdf"
    if text is None:
        p.write_text(mb + ">  <NMREDATA_SOLVENT>\nCDCl3\n\n$$$$\n")
    elif text == "atom-out-of-range":
        _write(p, mb, ["h1, 1.20, H1", "h9, 2.00, H99"])
    else:
        p.write_text(text)
    with pytest.raises(InputError) as err:
        read_assignments(p)
    assert words in str(err.value)
    assert "\n" not in str(err.value) and err.value.path == str(p)


def test_binary_and_missing_files(tmp_path):
    p = tmp_path / "bin.sdf"
    p.write_bytes(b"\x00\x01\x02M  END\x00")
    with pytest.raises(InputError):
        read_assignments(p)
    with pytest.raises(MissingInputError):
        read_assignments(tmp_path / "nope.sdf")


# --------------------------------------------------------------------------------------- bench arithmetic


def _bench():
    spec = importlib.util.spec_from_file_location("bench_prediction", ROOT / "bench" / "bench_prediction.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_bench_metric_on_a_hand_made_case():
    bench = _bench()
    groups = [
        HGroup(id="G1", atoms=(0,), n_h=2, label="", lo=1.0, hi=2.0, centre=1.2),
        HGroup(id="G2", atoms=(1, 2), n_h=6, label="", lo=3.0, hi=3.5),  # no centre: midpoint 3.25
        HGroup(id="G3", atoms=(3,), n_h=1, label="", lo=4.0, hi=6.0, exchangeable=True),
        HGroup(id="G4", atoms=(5,), n_h=1, label="", lo=math.nan, hi=math.nan, source="none"),
    ]
    h_shifts = {0: (1.5, 2.5), 1: (3.1,), 2: (3.5,), 3: (9.0,), 4: (0.9,), 5: (7.0,)}
    recs = bench.score_groups(groups, h_shifts, exchangeable=frozenset({3}))
    assert [(r["atom"], r["shift"], r["inside"]) for r in recs] == [
        (0, 1.5, True),
        (0, 2.5, False),
        (1, 3.1, True),
        (2, 3.5, True),
        (4, 0.9, False),
        (5, 7.0, False),
    ]
    assert recs[0]["abs_err"] == pytest.approx(0.3) and recs[0]["width"] == pytest.approx(1.0)
    assert recs[1]["abs_err"] == pytest.approx(1.3)
    assert recs[2]["centre"] == pytest.approx(3.25) and recs[2]["abs_err"] == pytest.approx(0.15)
    assert recs[3]["abs_err"] == pytest.approx(0.25) and recs[3]["width"] == pytest.approx(0.5)
    assert recs[4]["lo"] is None and recs[4]["source"] is None  # no group holds atom 4
    assert recs[5]["lo"] is None and recs[5]["source"] == "none"  # a group without a finite window
    s = bench.summarise(recs)
    assert s["n"] == 6 and s["n_inside"] == 3 and s["n_no_window"] == 2
    assert s["coverage_pct"] == pytest.approx(50.0)
    assert s["median_width"] == pytest.approx(0.75)  # widths 1.0, 1.0, 0.5, 0.5
    assert s["mae"] == pytest.approx((0.3 + 1.3 + 0.15 + 0.25) / 4)
    assert s["median_ae"] == pytest.approx((0.25 + 0.3) / 2)
    assert bench.summarise([])["coverage_pct"] is None


def test_bench_pairs_per_h_centres_with_assigned_shifts_in_order():
    # a diastereotopic ring CH2 (model: 2.04 and 0.93) observed at 0.95 and 1.98: each H scored against its own
    # prediction, not both against their mean 1.49; a group with fewer assigned shifts than H keeps its centre
    bench = _bench()
    groups = [
        HGroup(id="G1", atoms=(0,), n_h=2, label="", lo=0.6, hi=2.6, centre=1.485, h_centres=(0.93, 2.04)),
        HGroup(id="G2", atoms=(1,), n_h=2, label="", lo=0.6, hi=2.6, centre=1.5, h_centres=(1.0, 2.0)),
    ]
    recs = bench.score_groups(groups, {0: (1.98, 0.95), 1: (1.7,)})
    assert [round(r["abs_err"], 3) for r in recs] == [0.06, 0.02, 0.2]
    assert [r["centre"] for r in recs] == [2.04, 0.93, 1.5]
