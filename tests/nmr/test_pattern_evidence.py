"""Ring patterns as evidence between a target and its positional isomers (verify.nmr.pattern_evidence)."""

from __future__ import annotations

import numpy as np
import pytest
from nmr_spectra import BOC_RING as RING
from nmr_spectra import CL2, CL3, CL4, para_ring, spectrum

from verify.nmr.check import check_spectrum
from verify.nmr.spectrum import Spectrum1D
from verify.structure.target import read_target


def para_chlorobenzyl_spectrum():
    """Boc-4-(4-chlorobenzyl)-1,4-diazepane at 400 MHz: the ring an exact, strongly coupled AA'BB' under
    CHCl3 (shifts and couplings typical of 4-chlorobenzylamines in CDCl3)."""
    s = spectrum([(3.55, 2, []), (7.26, 0.05, [])] + RING)
    y = s.intensity + para_ring(s.ppm)
    return Spectrum1D(ppm=s.ppm, intensity=y, sf_mhz=s.sf_mhz, solvent=s.solvent, source="synthetic")


def _problems(res):
    return [f.message for f in res.findings if f.severity != "info"]


def test_para_ring_pattern_passes_its_own_structure_and_beats_its_isomers():
    res = check_spectrum(para_chlorobenzyl_spectrum(), read_target(CL4))
    assert res.verdict == "consistent", _problems(res)
    # isomers the shifts already exclude (by the alternative margin) are not fitted: that costs time only
    fitted = [a for a in res.alternatives if a.alternative.smiles in (CL2, CL3) and a.patterns]
    assert fitted
    for a in fitted:
        # the isomer's ring leaves much of the lines unexplained; the target's reproduces them
        p = a.patterns[0]
        assert p.advantage < -3.0
        assert p.target.unexplained_fraction < 0.15 < p.alternative.unexplained_fraction
        assert a.advantage < 0


def test_meta_isomer_does_not_pass_on_a_para_ring_pattern():
    res = check_spectrum(para_chlorobenzyl_spectrum(), read_target(CL3))
    assert res.verdict != "consistent"
    warn = [f for f in res.findings if f.code == "nmr.alternative_fits"]
    assert warn and "spin pattern" in warn[0].message and CL4 in warn[0].message, _problems(res)
    best = next(a for a in res.alternatives if a.alternative.smiles == CL4)
    doc = best.to_dict()["ring_patterns"][0]
    assert doc["advantage"] > 3.0
    assert doc["alternative_fit"]["unexplained_fraction"] < doc["target_fit"]["unexplained_fraction"]


def test_same_ring_on_both_structures_adds_no_pattern_term():
    # N1/N4 or chain isomers that keep the 4-chlorobenzyl ring fit its lines alike: nothing is fitted
    res = check_spectrum(para_chlorobenzyl_spectrum(), read_target(CL4))
    for a in res.alternatives:
        if "Cc2ccc(Cl)cc2" in a.alternative.smiles or "c1ccc(Cl)cc1" in a.alternative.smiles:
            assert not a.patterns, a.alternative.smiles


def test_no_pattern_term_when_the_ring_shares_its_multiplet_with_other_signals():
    # a broad singlet of 2 H laid over the ring: the ring multiplet is no longer the ring's alone
    s = para_chlorobenzyl_spectrum()
    ppm = s.ppm
    hw = 15.0 / s.sf_mhz / 2
    extra = 2 * 1000.0 / 15.0 * hw**2 / ((ppm - 7.27) ** 2 + hw**2)
    spec = Spectrum1D(ppm=ppm, intensity=s.intensity + extra, sf_mhz=s.sf_mhz, solvent="CDCl3", source="synthetic")
    res = check_spectrum(spec, read_target(CL4))
    for a in res.alternatives:
        for p in a.patterns:
            # where fitted at all, neither reading is let to decide on lines it cannot reproduce
            assert min(p.target.unexplained_fraction, p.alternative.unexplained_fraction) <= 0.25
    assert np.isfinite([a.advantage for a in res.alternatives]).all()


# real para-disubstituted rings whose ortho isomers passed on shifts alone (before the pattern fits): the
# isomer's ring cannot reproduce the AA'BB' lines; each own structure stays consistent
REAL_PARA = [
    ("nmr/estragole/1h.fid.dx", "C=CCc1ccc(OC)cc1", "C=CCc1ccccc1OC"),
    ("nmr/trifluoroethoxyaniline_57946-61-9/1h.fid.dx", "Nc1ccc(OCC(F)(F)F)cc1", "Nc1ccccc1OCC(F)(F)F"),
    (
        "nmr/ibuprofen_qmagnetics_neat/ibuprofen_j_ave_qmagnetics.jdx",
        "CC(C)Cc1ccc(C(C)C(=O)O)cc1",
        "CC(C)Cc1ccccc1C(C)C(=O)O",
    ),
]


@pytest.mark.realdata
@pytest.mark.parametrize("path,own,ortho", REAL_PARA, ids=[r[0].split("/")[1] for r in REAL_PARA])
def test_real_para_ring_does_not_pass_for_its_ortho_isomer(realdata, path, own, ortho):
    from verify.nmr.check import check_nmr

    mine = check_nmr(realdata / path, read_target(own))
    assert mine.verdict == "consistent", _problems(mine)
    fitted = [p for a in mine.alternatives if a.alternative.smiles == ortho for p in a.patterns]
    assert fitted and fitted[0].advantage < -3.0
    wrong = check_nmr(realdata / path, read_target(ortho))
    assert wrong.verdict != "consistent"
    warn = [f for f in wrong.findings if f.code == "nmr.alternative_fits"]
    assert warn and "spin pattern" in warn[0].message, _problems(wrong)
