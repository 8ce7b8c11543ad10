"""Raw 1H data -> processed, referenced Spectrum1D (verify.nmr.read / verify.nmr.process)."""

from __future__ import annotations

import csv
import warnings

import numpy as np
import pytest

from verify.nmr.process import load_spectrum
from verify.nmr.spectrum import Spectrum1D

from conftest import _realdata_dir


def _nmr_rows():
    f = _realdata_dir() / "MANIFEST.tsv"
    if not f.is_file():
        return ["(no realdata)"]
    with open(f, newline="") as fh:
        return [r["path"] for r in csv.DictReader(fh, delimiter="\t") if r["kind"] == "nmr"]


@pytest.mark.realdata
@pytest.mark.parametrize("rel", _nmr_rows())
def test_every_realdata_1h_set_processes(realdata, rel):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = load_spectrum(realdata / rel)
    assert isinstance(s, Spectrum1D)
    assert s.ppm.size == s.intensity.size > 1000
    assert s.ppm[0] > s.ppm[-1]  # descending
    assert np.all(np.isfinite(s.intensity))
    assert s.referencing["method"] in ("TMS", "solvent", "file", "fitted")
    assert s.sf_mhz > 20
