"""Plates: batch-check a 96/384-well plate map and write the plate report.

`verify plate MAP ...` is `verify.plate.cli.run_plate(argv)`; the map reader is `verify.plate.map`,
the worker side `verify.plate.run`, the results store `verify.plate.store`.
"""
