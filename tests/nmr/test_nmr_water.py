"""Water that has moved: in CDCl3 holding an amine (or an N-H/O-H) the water line drifts downfield from
1.56 toward about 1.9 ppm by hydrogen bonding and exchange, and can sit on the diazepane ring C6H2
multiplet (1.7-1.9 ppm). Synthetic spectra (numpy only)."""

from __future__ import annotations

import pytest
from nmr_spectra import BENZYL_DIAZEPANE, BENZYL_DIAZEPANE_SIGNALS, codes, spectrum

from verify.nmr.check import check_spectrum
from verify.structure.target import read_target

NO_WATER = [s for s in BENZYL_DIAZEPANE_SIGNALS if s[0] != 1.56]  # the water line of the base set removed


@pytest.mark.parametrize("ppm", [1.72, 1.80, 1.86])
@pytest.mark.parametrize("width_hz,n_h", [(3.0, 0.8), (10.0, 1.0), (25.0, 1.5)])
def test_water_moved_onto_the_ring_c6h2_is_not_a_surplus(ppm, width_hz, n_h):
    res = check_spectrum(spectrum(NO_WATER + [(ppm, n_h, [], width_hz)]), read_target(BENZYL_DIAZEPANE))
    assert res.verdict == "consistent", [f.message for f in res.findings if f.severity != "info"]
    near = [p for p in res.peaks if 1.6 < p.ppm < 1.95]
    assert any(p.status == "consistent" and "C6" in p.assignment for p in near)  # the CH2 keeps its place
    assert not any(p.status == "suspicious" and p.integral >= 0.3 for p in near)


def test_extra_intensity_on_the_c6h2_beside_a_seen_water_line_stays_flagged():
    # water is seen at its own place (1.56): the 0.8 H more under the C6H2 multiplet is something else
    res = check_spectrum(spectrum(BENZYL_DIAZEPANE_SIGNALS + [(1.80, 0.8, [], 3.0)]), read_target(BENZYL_DIAZEPANE))
    assert "nmr.integral_mismatch" in codes(res)


def test_no_drift_without_an_amine_or_exchangeable_h():
    # butyl benzoate: no N, no O-H; water stays near 1.56, so 0.8 H more on the 1.75 ppm CH2 is flagged
    signals = [
        (8.04, 2, [(7.5, 1)]),
        (7.55, 1, [(7.5, 2)]),
        (7.43, 2, [(7.5, 2)]),
        (4.32, 2, [(6.6, 2)]),
        (1.75, 2, [(7.0, 4)]),
        (1.47, 2, [(7.4, 5)]),
        (0.98, 3, [(7.4, 2)]),
        (1.80, 0.8, [], 3.0),
    ]
    res = check_spectrum(spectrum(signals), read_target("CCCCOC(=O)c1ccccc1"))
    assert res.verdict != "consistent"


BOC_BENZYL = "CC(C)(C)OC(=O)N1CCCN(Cc2ccccc2)CC1"
BOC_BENZYL_SIGNALS = [  # tert-butyl 4-benzyl-1,4-diazepane-1-carboxylate in CDCl3, no water line of its own
    (7.33, 2, [(7.5, 1)]),
    (7.30, 2, [(7.5, 2)]),
    (7.23, 1, [(7.3, 2)]),
    (3.60, 2, []),
    (3.49, 2, [(6.0, 2)]),
    (3.43, 2, [(6.0, 2)]),
    (2.64, 2, [(5.5, 2)]),
    (2.58, 2, [(5.5, 2)]),
    (1.80, 2, [(6.0, 4)]),
    (1.46, 9, []),
    (7.26, 0.05, []),
]


@pytest.mark.parametrize("ppm", [1.74, 1.81])
def test_water_on_the_c6h2_when_the_line_at_water_is_the_boc_singlet(ppm):
    # the Boc singlet at 1.46 lies within water's tolerance of 1.56 and would be taken for the water line;
    # it is wholly the tert-butyl's, so water was not seen there and may sit on the C6H2 multiplet
    res = check_spectrum(spectrum(BOC_BENZYL_SIGNALS + [(ppm, 0.8, [], 8.0)]), read_target(BOC_BENZYL))
    assert res.verdict == "consistent", [f.message for f in res.findings if f.severity != "info"]
    assert any(p.status == "consistent" and "C6" in p.assignment for p in res.peaks if 1.7 < p.ppm < 1.9)


def test_boc_compound_with_water_seen_keeps_an_extra_c6h2_surplus_flagged():
    # water seen at 1.56 apart from the Boc singlet: 0.8 H more under the C6H2 is something else
    signals = BOC_BENZYL_SIGNALS + [(1.56, 0.6, [], 4.0), (1.81, 0.8, [], 3.0)]
    res = check_spectrum(spectrum(signals), read_target(BOC_BENZYL))
    assert "nmr.integral_mismatch" in codes(res)
