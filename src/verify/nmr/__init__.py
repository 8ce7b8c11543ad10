"""1H NMR side: raw files -> spectrum -> peaks -> comparison with the expected groups."""
