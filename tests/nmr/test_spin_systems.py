"""Exact spin simulation and ring pattern fits (verify.nmr.spin_systems) on synthetic spectra."""

from __future__ import annotations

import numpy as np
import pytest
from nmr_spectra import CL2, CL3, CL4, SF, para_ring
from rdkit import Chem

from verify.expectation import build_expectation
from verify.nmr.spin_systems import fit_ring_pattern, ring_spin_systems, simulate_lines
from verify.solvents import find_solvent
from verify.structure.target import read_target

PY3 = "CC(C)(C)OC(=O)N1CCCN(Cc2cccnc2)CC1"


def test_ab_quartet_matches_the_closed_form():
    # AB: lines at the centre +-(C +- J)/2 with C = sqrt(dnu^2 + J^2); inner/outer intensities 1 +- J/C
    dnu, j = 10.0, 8.0
    f, w = simulate_lines(np.array([0.0, dnu]), np.array([[0.0, j], [0.0, 0.0]]))
    order = np.argsort(f)
    f, w = f[order], w[order]
    c = np.hypot(dnu, j)
    centre = dnu / 2
    expected = centre + np.array([-(c + j) / 2, -(c - j) / 2, (c - j) / 2, (c + j) / 2])
    np.testing.assert_allclose(f, expected, atol=1e-6)
    np.testing.assert_allclose(w / w.sum() * 4, [1 - j / c, 1 + j / c, 1 + j / c, 1 - j / c], atol=1e-9)


def test_weak_coupling_gives_first_order_doublets():
    # AX, dnu/J = 60: two 1:1 doublets split by J around each shift
    f, w = simulate_lines(np.array([0.0, 420.0]), np.array([[0.0, 7.0], [0.0, 0.0]]))
    order = np.argsort(f)
    np.testing.assert_allclose(f[order], [-3.5, 3.5, 416.5, 423.5], atol=0.1)
    assert np.ptp(w) < 0.05 * w.max()
    assert w.sum() == pytest.approx(2.0)


def test_equivalent_spins_give_one_line():
    # two isochronous spins: their coupling does not show (A2 is one line of 2 H)
    f, w = simulate_lines(np.array([5.0, 5.0]), np.array([[0.0, 7.0], [0.0, 0.0]]))
    np.testing.assert_allclose(f, 5.0, atol=1e-6)
    assert w.sum() == pytest.approx(2.0)


def _systems(smiles):
    t = read_target(smiles)
    exp = build_expectation(t, find_solvent("CDCl3"))
    return ring_spin_systems(exp.mol, exp.h_groups)


def test_ring_spin_systems_know_which_h_are_equivalent_and_how_they_couple():
    (para,) = _systems(CL4)
    assert len(para.carbons) == 4 and len(para.groups) == 2 and para.copies == 1
    assert sorted(k for _, _, k in para.kinds).count("aromatic ortho") == 2
    assert sorted(k for _, _, k in para.kinds).count("aromatic para") == 2
    (meta,) = _systems(CL3)
    (ortho,) = _systems(CL2)
    assert len(meta.groups) == 4 and len(ortho.groups) == 4
    # H2 of a 1,3-ring has no ortho neighbour: three ortho pairs in the 1,2-ring, two in the 1,3
    assert [k for _, _, k in ortho.kinds].count("aromatic ortho") == 3
    assert [k for _, _, k in meta.kinds].count("aromatic ortho") == 2
    assert len({para.topology, meta.topology, ortho.topology}) == 3
    # the same ring on another scaffold is the same spin system
    (other,) = _systems("Clc1ccc(CN2CCCC2)cc1")
    assert other.topology == para.topology


def test_pyridine_pairs_beside_the_ring_n_get_their_own_coupling():
    (pyr,) = _systems(PY3)
    kinds = {k for _, _, k in pyr.kinds}
    assert "aromatic ortho beside heteroatom" in kinds and "aromatic ortho" in kinds


def test_rings_with_fluorine_or_a_single_h_carry_no_pattern():
    assert _systems("Fc1ccc(CN2CCCNCC2)cc1") == []  # J(H,F) is not simulated
    assert _systems("Clc1cc(Cl)c(Cl)c(CN2CCCNCC2)c1Cl") == []  # one ring H: nothing to fit


def test_a_para_ring_explains_its_own_pattern_and_a_meta_ring_does_not():
    ppm = np.linspace(7.40, 7.10, 4000)
    y = para_ring(ppm) + np.random.default_rng(3).normal(0, 0.5, ppm.size)
    pts = (ppm > 7.20) & (ppm < 7.33)
    (para,) = _systems(CL4)
    (meta,) = _systems(CL3)
    fit_p = fit_ring_pattern(ppm, y, 0.5, para, pts, SF, width_hz=1.0)
    fit_m = fit_ring_pattern(ppm, y, 0.5, meta, pts, SF, width_hz=1.0)
    assert fit_p.unexplained_fraction < 0.1
    assert sorted(fit_p.shifts.values()) == pytest.approx([7.25, 7.28], abs=0.003)
    assert fit_p.j_hz["aromatic ortho"] == pytest.approx(8.4, abs=0.3)
    assert fit_m.unexplained_fraction > 2 * fit_p.unexplained_fraction
    assert fit_m.rss > 10 * fit_p.rss


def test_too_few_points_give_no_fit():
    ppm = np.linspace(7.4, 7.1, 4000)
    (para,) = _systems(CL4)
    pts = np.zeros(ppm.size, dtype=bool)
    pts[:5] = True
    assert fit_ring_pattern(ppm, para_ring(ppm), 0.5, para, pts, SF) is None


def test_mol_without_aromatic_ring_has_no_system():
    assert ring_spin_systems(Chem.MolFromSmiles("CCCCO"), []) == []
