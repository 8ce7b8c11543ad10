"""Coupling partners of each expected 1H group, from the molecular graph, with typical J ranges.

Two groups couple when their H sit on carbons joined by a path the table `reference/coupling_constants.tsv`
has a J for: H-C-C-H (vicinal sp3, allylic, aldehyde, vinyl), and H on one six-membered aromatic ring, ortho,
meta or para. Exchangeable H (N-H, O-H) are left out: exchange averages their couplings away in most samples.
Whether a pair is first order or strongly coupled depends on the spectrometer's field (delta-nu / J), so that
is decided where the field is known (`strong_partners`, used by the 1H comparison).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from rdkit import Chem

from .. import reference


@dataclass(frozen=True)
class Coupling:
    """One coupling partner of a group: the partner's group id, the kind (a row of coupling_constants.tsv)
    and its typical |J| range (Hz)."""

    partner: str
    kind: str
    j_lo_hz: float
    j_hi_hz: float

    @property
    def j_hz(self) -> float:
        """Typical J (Hz): the middle of the range."""
        return 0.5 * (self.j_lo_hz + self.j_hi_hz)

    def to_dict(self) -> dict:
        return {"partner": self.partner, "kind": self.kind, "j_hz": [self.j_lo_hz, self.j_hi_hz]}


@functools.cache
def j_ranges() -> dict[str, tuple[float, float]]:
    """{kind: (lo, hi)} of `reference/coupling_constants.tsv` (|J|, Hz)."""
    return {
        str(r["kind"]): (float(r["j_lo_hz"]), float(r["j_hi_hz"])) for r in reference.table("coupling_constants.tsv")
    }


def _six_ring_path(mol: Chem.Mol, a: int, b: int) -> int | None:
    """Bonds between aromatic ring carbons a and b when both lie in one six-membered aromatic ring (1-3)."""
    for ring in mol.GetRingInfo().AtomRings():
        if len(ring) == 6 and a in ring and b in ring and all(mol.GetAtomWithIdx(i).GetIsAromatic() for i in ring):
            d = abs(ring.index(a) - ring.index(b))
            return min(d, 6 - d)
    return None


def coupling_kind(mol: Chem.Mol, a: int, b: int) -> str | None:
    """The kind of H-H coupling between H on carbons `a` and `b` (a row of the table), or None."""
    at, bt = mol.GetAtomWithIdx(a), mol.GetAtomWithIdx(b)
    if at.GetAtomicNum() != 6 or bt.GetAtomicNum() != 6:
        return None
    if at.GetIsAromatic() and bt.GetIsAromatic():
        n = _six_ring_path(mol, a, b)
        return {1: "aromatic ortho", 2: "aromatic meta", 3: "aromatic para"}.get(n) if n else None
    bond = mol.GetBondBetweenAtoms(a, b)
    if bond is None or at.GetIsAromatic() or bt.GetIsAromatic():
        return None
    if bond.GetBondType() == Chem.BondType.DOUBLE:
        return "vinyl"
    sp2 = [x for x in (at, bt) if x.GetHybridization() == Chem.HybridizationType.SP2]
    if not sp2:
        return "vicinal sp3"
    if len(sp2) == 1 and any(
        nb.GetAtomicNum() == 8
        and mol.GetBondBetweenAtoms(sp2[0].GetIdx(), nb.GetIdx()).GetBondType() == Chem.BondType.DOUBLE
        for nb in sp2[0].GetNeighbors()
    ):
        return "aldehyde vicinal"
    return "allylic vicinal" if len(sp2) == 1 else "conjugated vicinal"


def group_couplings(mol: Chem.Mol, groups) -> dict[str, tuple[Coupling, ...]]:
    """{group id: its coupling partners} for expected groups (`HGroup`: ``id``, ``atoms``, ``exchangeable``).

    A pair of groups couples by the closest kind any of their atom pairs gives (ortho before meta before para).
    Couplings inside one group (equivalent H) are not listed: they do not split its signal.
    """
    ranges = j_ranges()
    owner = {a: g for g in groups if not g.exchangeable for a in g.atoms}
    order = list(ranges)
    found: dict[tuple[str, str], str] = {}
    for g in groups:
        if g.exchangeable:
            continue
        for a in g.atoms:
            for b, h in owner.items():
                if h.id == g.id:
                    continue
                kind = coupling_kind(mol, a, b)
                if kind is None:
                    continue
                key = (g.id, h.id)
                if key not in found or order.index(kind) < order.index(found[key]):
                    found[key] = kind
    out: dict[str, list[Coupling]] = {g.id: [] for g in groups}
    for (gid, hid), kind in sorted(found.items()):
        lo, hi = ranges[kind]
        out[gid].append(Coupling(hid, kind, lo, hi))
    return {k: tuple(v) for k, v in out.items()}


def strong_partners(
    couplings: tuple[Coupling, ...], shift_of: dict[str, float], gid: str, sf_mhz: float, ratio: float = 3.0
) -> list[str]:
    """Partners strongly coupled to group `gid` at a field of `sf_mhz` (MHz): delta-nu / J below `ratio`.

    Parameters
    ----------
    couplings : tuple of Coupling
        The group's partners (`group_couplings`).
    shift_of : dict of str to float
        Group id -> shift (ppm): each group's predicted centre.
    gid : str
        The group.
    sf_mhz : float
        Spectrometer frequency (MHz).
    ratio : float, default 3.0
        Below this delta-nu / J a pair is second order: line positions and intensities no longer follow the
        n+1 rule (Pretsch 2009: first-order analysis needs delta-nu / J of about 10; below ~3 lines merge,
        vanish or appear).

    Returns
    -------
    list of str
        Partner group ids; couplings under 1 Hz (para) never count.
    """
    if gid not in shift_of or sf_mhz <= 0:
        return []
    out = []
    for c in couplings:
        if c.j_hz < 1.0 or c.partner not in shift_of:
            continue
        if abs(shift_of[gid] - shift_of[c.partner]) * sf_mhz / c.j_hz < ratio:
            out.append(c.partner)
    return out
