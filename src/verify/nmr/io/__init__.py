"""1H readers, one module per format (as pyteomics keeps one per format); verify.nmr.read dispatches to them."""
