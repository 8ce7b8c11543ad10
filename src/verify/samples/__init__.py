"""Deterministic generator of realistic sample data (Bruker 1H FIDs, LC-MS mzML) and the demo plate.

Generator-only code: psims is imported inside the mzML writer, never by runtime modules.
Entry point: `verify-samples OUTDIR`, `verify-samples plate OUTDIR [--wells 96]`.
"""
