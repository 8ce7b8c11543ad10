"""Import pyteomics' mzML reader without paying for psims' controlled vocabulary.

pyteomics 5 imports psims at module level when psims is installed (0.4-1.1 s of start-up, see the
shared field notes) and, when it is *not* installed, refuses to construct an `MzML` reader at all.
The mzML reader here passes its own minimal CV stand-in (`NO_CV`: every term is "untyped", values
fall back to float/str exactly as pyteomics does for terms it does not know), so psims is never
needed at run time. To keep pyteomics fully working for any other caller in the same process,
psims is replaced by lazy shims: `load_psims()` and the `HasValueTypeRelationship` check import
psims on first real use.
"""

from __future__ import annotations

import importlib.util
import sys

_PSIMS_NAMES = (
    "psims",
    "psims.controlled_vocabulary",
    "psims.controlled_vocabulary.controlled_vocabulary",
    "psims.controlled_vocabulary.relationship",
)


class _LazyRelationshipMeta(type):
    def __instancecheck__(cls, obj):  # pragma: no cover - only used by other pyteomics callers
        from psims.controlled_vocabulary.relationship import HasValueTypeRelationship as real

        return isinstance(obj, real)


class _LazyHasValueTypeRelationship(metaclass=_LazyRelationshipMeta):
    """Stands in for psims' class in `isinstance` checks; imports psims only when asked."""


def _lazy_load_psims(*args, **kwargs):  # pragma: no cover - only used by other pyteomics callers
    from psims.controlled_vocabulary.controlled_vocabulary import load_psims

    return load_psims(*args, **kwargs)


def _import_mzml():
    if "pyteomics.mzml" in sys.modules or "psims" in sys.modules:
        from pyteomics import mzml, xml

        if not getattr(xml, "_has_psims", True):  # psims absent: we pass our own CV
            xml._has_psims = True
        return mzml
    blocked = [n for n in _PSIMS_NAMES if n not in sys.modules]
    for n in blocked:
        sys.modules[n] = None  # makes `from psims... import` raise ImportError inside pyteomics
    try:
        from pyteomics import mzml, xml

        try:
            from pyteomics.auxiliary import psims_util
        except ImportError:  # older pyteomics: psims imported inside pyteomics.xml itself
            psims_util = xml
    finally:
        for n in blocked:
            if sys.modules.get(n, 0) is None:
                del sys.modules[n]
    # psims was blocked (or is absent): the reader here never needs it; keep pyteomics usable for others.
    xml._has_psims = True
    if importlib.util.find_spec("psims") is not None:
        for mod in (xml, psims_util):
            mod.load_psims = _lazy_load_psims
            mod.HasValueTypeRelationship = _LazyHasValueTypeRelationship
        psims_util._has_psims = True
    return mzml


class _Term:
    __slots__ = ("name", "relationship")

    def __init__(self, name):
        self.name = name
        self.relationship = ()


class _NoCV:
    """Minimal controlled-vocabulary stand-in: unknown term -> no type information."""

    def __getitem__(self, accession):
        return _Term(None)


NO_CV = _NoCV()
mzml = _import_mzml()
