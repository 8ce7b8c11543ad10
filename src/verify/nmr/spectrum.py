"""Plain data handed over by the NMR readers and processing (no file access here)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class RawFID:
    """A 1D 1H FID as read from a vendor file, digital filter still in place.

    data: complex time-domain points; sw_hz: spectral width (Hz); sf_mhz: spectrometer frequency of the
    observe nucleus (MHz); carrier_ppm: ppm at the centre of the spectral window (O1/SFO1 or its equivalent,
    before any referencing); group_delay: digital-filter group delay in points (Bruker, JEOL) (0 when none or
    already removed; negative for a stated pre-acquisition delay, the time origin before the first point); solvent: the solvent string the file gives (may be empty); nucleus: "1H", "13C", ...
    """

    data: np.ndarray
    sw_hz: float
    sf_mhz: float
    carrier_ppm: float
    group_delay: float = 0.0
    solvent: str = ""
    nucleus: str = "1H"
    vendor: str = ""  # "bruker" | "varian" | "jcamp" | "jeol" | "magritek"
    source: str = ""  # path as given
    params: dict = field(default_factory=dict)  # selected vendor parameters (for the report)
    reverse: bool = False  # axis runs the other way (e.g. JCAMP $REVERSE=yes)


@dataclass
class Spectrum1D:
    """A processed, phased, baseline-corrected and referenced real 1H spectrum.

    ppm: chemical-shift axis, descending (left to right as a chemist plots it); intensity: real part;
    sf_mhz: spectrometer frequency (MHz), to convert ppm <-> Hz for J; referencing: how the axis was
    referenced ({"method": "TMS"|"solvent"|"file"|"fitted"|"none", "offset_ppm": ..., "detail": ...}; "none": the
    file has no ppm scale, the axis is ppm from the transmitter);
    processing: parameters used (line broadening, zero-filling, phases, baseline method...).
    """

    ppm: np.ndarray
    intensity: np.ndarray
    sf_mhz: float
    solvent: str = ""
    source: str = ""
    referencing: dict = field(default_factory=dict)
    processing: dict = field(default_factory=dict)
    params: dict = field(default_factory=dict)

    @property
    def hz_per_point(self) -> float:
        return abs(float(self.ppm[0] - self.ppm[-1])) * self.sf_mhz / (len(self.ppm) - 1)
