"""HRMS side: mzML run -> chromatograms and spectra -> ions -> comparison with the expected ions."""
