"""Aromatic ring spin systems fitted as patterns: can this ring's H, at any shifts, explain the lines seen?

Shifts alone cannot tell ring positional isomers apart when their signals crowd into one multiplet (a
para-substituted ring's AA'BB' and a meta ring's four signals both sit at 7.2-7.3 ppm, under CHCl3). What
does tell them apart is the pattern: how many lines, their spacings and their intensities, fixed by which
H couple ortho, meta and para. Here the H of one six-membered aromatic ring are simulated exactly (the
strongly coupled spin-1/2 Hamiltonian, diagonalised; AA'BB' and ABC systems come out right at any field)
and fitted to the spectrum over the observed multiplets that carry the ring's signals:

* nonlinear parameters: one shift per group of equivalent ring H (free within the fitted range: the
  shift evidence is scored elsewhere, this asks only whether *some* shifts reproduce the pattern), one
  J per coupling kind (ortho, meta, para; bounded by `reference/coupling_constants.tsv`) and one line
  width (Hz), by `scipy.optimize.least_squares` from a few starts;
* linear parameters, solved exactly at each step (variable projection): the ring's amplitude, a free
  singlet at each residual-solvent line inside the range, and a straight baseline.

The result is the fraction of the range's signal the best ring model leaves unexplained (residual beyond
the noise / signal), which `verify.nmr.alternatives` turns into unexplained H for the target and each
competing structure alike, on the same points. Pure functions on arrays; no files.

Why not nmrsim: its public dense solver rebuilds the spin operators at every call (about 2 ms for four
spins, the whole budget of a fit step) and its sparse path fails with sparse 0.19 (../shared/field-notes.md);
the Hamiltonian for at most 6 spins is a few lines of numpy with the operators built once per size.
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass

import numpy as np

from ..structure.couplings import coupling_kind, j_ranges

__all__ = ["RingPatternFit", "RingSpinSystem", "fit_ring_pattern", "ring_spin_systems", "simulate_lines"]

_AROMATIC_KINDS = ("aromatic ortho", "aromatic meta", "aromatic para")
_HETERO = " beside heteroatom"
_SHORT_RUNS = 4  # starts (best by their initial cost) given a short run
_REFINE = 2  # starts run to convergence after the short runs
_SHORT_NFEV = 4  # evaluations per parameter in a short run
MAX_SPINS = 6  # 64 states: a few hundred microseconds per simulation


@dataclass(frozen=True)
class RingSpinSystem:
    """The C-H of one six-membered aromatic ring: which group each H belongs to and how each pair couples.

    `copies` is how many identical rings the groups' H counts cover (2 for a symmetric bis-aryl), so that
    one ring's simulated intensity times `copies` matches the groups' H.
    """

    ring: tuple[int, ...]  # ring atom indices (RDKit)
    carbons: tuple[int, ...]  # the ring carbons that carry one H, in ring order
    group_ids: tuple[str, ...]  # the expected group of each of those H
    kinds: tuple[tuple[int, int, str], ...]  # (i, j, coupling kind) between spins i < j
    copies: int = 1
    groups: tuple[str, ...] = ()  # distinct group ids, in order of decreasing predicted shift
    ring_pattern: tuple = ()  # per ring atom in ring order: index of its H's group (first seen first), -1 for none,
    # -2 for a heteroatom

    @property
    def n_h(self) -> int:
        """The H this ring's pattern accounts for (over every copy)."""
        return len(self.carbons) * self.copies

    @property
    def topology(self) -> tuple:
        """A key equal for rings whose spin systems are the same (which positions carry H, which are
        equivalent, where the heteroatoms sit), whatever the atom numbering: two structures that differ only
        away from the ring fit its lines alike."""
        seq = self.ring_pattern
        best = None
        for r in range(len(seq)):
            for s in (seq[r:] + seq[:r], tuple(reversed(seq[r:] + seq[:r]))):
                relabel: dict[int, int] = {}
                key = tuple(relabel.setdefault(v, len(relabel)) if v >= 0 else v for v in s)
                best = key if best is None or key < best else best
        return (best, self.copies)


def ring_spin_systems(mol, groups) -> list[RingSpinSystem]:
    """Spin systems of the six-membered aromatic rings whose C-H are all expected groups without F/P near.

    Parameters
    ----------
    mol : rdkit.Chem.Mol
        The parent structure (no explicit H needed).
    groups : sequence of HGroup
        Its expected 1H groups (`verify.structure.hgroups`); a ring is used only when every ring C-H belongs
        to a group whose ``ortho_h`` is set (H-F and H-P couplings are not simulated) and no group spreads
        unevenly over rings.

    Returns
    -------
    list of RingSpinSystem
        One per ring with 2 to 6 ring H; rings with one H or none carry no pattern.
    """
    owner = {a: g for g in groups if not g.exchangeable for a in g.atoms}
    out = []
    for ring in mol.GetRingInfo().AtomRings():
        if len(ring) != 6 or not all(mol.GetAtomWithIdx(i).GetIsAromatic() for i in ring):
            continue
        carbons = [
            i for i in ring if mol.GetAtomWithIdx(i).GetAtomicNum() == 6 and mol.GetAtomWithIdx(i).GetTotalNumHs() == 1
        ]
        if not 2 <= len(carbons) <= MAX_SPINS or any(i not in owner or owner[i].ortho_h is None for i in carbons):
            continue
        gids = [owner[i].id for i in carbons]
        # equivalent H on other rings: the group's H count over its atoms in this ring, the same for every group
        copies = {owner[i].n_h // max(1, gids.count(owner[i].id)) for i in carbons}
        if len(copies) != 1 or 0 in copies:
            continue
        kinds = []
        for a, b in itertools.combinations(range(len(carbons)), 2):
            kind = coupling_kind(mol, carbons[a], carbons[b])
            if kind in _AROMATIC_KINDS:
                # a ring N (or other heteroatom) beside one of the pair shrinks its J (pyridine 3J(2,3) about 5 Hz
                # against 3J(3,4) about 8, 4J(2,6) about 0): such pairs get their own J
                if _next_to_heteroatom(mol, ring, carbons[a]) or _next_to_heteroatom(mol, ring, carbons[b]):
                    kind += _HETERO
                kinds.append((a, b, kind))
        order = tuple(sorted(dict.fromkeys(gids), key=lambda g: -next(h.mid for h in groups if h.id == g)))
        first = list(dict.fromkeys(gids))
        pattern = tuple(
            first.index(owner[i].id) if i in carbons else (-2 if mol.GetAtomWithIdx(i).GetAtomicNum() != 6 else -1)
            for i in ring
        )
        out.append(RingSpinSystem(tuple(ring), tuple(carbons), tuple(gids), tuple(kinds), copies.pop(), order, pattern))
    return out


def _next_to_heteroatom(mol, ring, idx: int) -> bool:
    return any(nb.GetIdx() in ring and nb.GetAtomicNum() != 6 for nb in mol.GetAtomWithIdx(idx).GetNeighbors())


def _kind_range(kind: str, ranges: dict) -> tuple[float, float]:
    """|J| bounds (Hz) of a coupling kind; beside a ring heteroatom the lower bound opens to 0 (pyridine 4J(2,6)
    is about 0, 3J(2,3) sits at the table's lower edge)."""
    lo, hi = ranges[kind.removesuffix(_HETERO)]
    return (0.0, hi) if kind.endswith(_HETERO) else (lo, hi)


# --------------------------------------------------------------------------------------- simulation


@functools.cache
def _operators(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """For n spin-1/2 nuclei, flattened so that a Hamiltonian is two matrix products: Iz of each spin
    (n, 4^n), the scalar-coupling operators I_i.I_j (n*n, 4^n; real: the x/y parts written as
    (I+I- + I-I+)/2), Fx = sum Ix (2^n, 2^n) and the state pairs (upper triangle) a transition joins."""
    iz = np.array([[0.5, 0.0], [0.0, -0.5]])
    ip = np.array([[0.0, 1.0], [0.0, 0.0]])
    im = ip.T
    ix = 0.5 * (ip + im)
    one = np.eye(2)

    def embed(op, k):
        m = np.ones((1, 1))
        for s in range(n):
            m = np.kron(m, op if s == k else one)
        return m

    z = np.array([embed(iz, k) for k in range(n)])
    p = [embed(ip, k) for k in range(n)]
    m_ = [embed(im, k) for k in range(n)]
    dim = 2**n
    ij = np.zeros((n, n, dim, dim))
    for a in range(n):
        for b in range(a + 1, n):
            ij[a, b] = z[a] @ z[b] + 0.5 * (p[a] @ m_[b] + m_[a] @ p[b])
    fx = sum(embed(ix, k) for k in range(n))
    return z.reshape(n, dim * dim), ij.reshape(n * n, dim * dim), fx, np.triu_indices(dim, 1)


def simulate_lines(freqs_hz: np.ndarray, j_hz: np.ndarray, cutoff: float = 1e-3) -> tuple[np.ndarray, np.ndarray]:
    """Line frequencies and intensities of a spin-1/2 system, exactly (strong coupling included).

    Parameters
    ----------
    freqs_hz : array of shape (n,)
        Each nucleus' resonance frequency (Hz), n <= 6.
    j_hz : array of shape (n, n)
        Coupling constants (Hz); the upper triangle is used.
    cutoff : float, optional
        Lines weaker than this (relative to a single uncoupled spin's line of 1) are dropped. Default 1e-3.

    Returns
    -------
    (freq, intensity) : tuple of arrays
        Transition frequencies (Hz) and intensities, summing to n.
    """
    freqs_hz = np.asarray(freqs_hz, dtype=float)
    n = freqs_hz.size
    z, ij, fx, iu = _operators(n)
    # a large common offset keeps every transition frequency positive, so |E_a - E_b| carries its sign
    carrier = 1.0e5 + float(np.max(np.abs(freqs_hz), initial=0.0))
    h = (freqs_hz + carrier) @ z + np.triu(np.asarray(j_hz, dtype=float), 1).ravel() @ ij
    e, v = np.linalg.eigh(h.reshape(fx.shape))
    inten = np.square(v.T @ fx @ v)
    f, w = np.abs(e[iu[0]] - e[iu[1]]), inten[iu]
    keep = w >= cutoff * 0.5  # an isolated spin's single line has |<a|Fx|b>|^2 = 1/4 per transition pair
    f, w = f[keep] - carrier, w[keep]
    return f, w * (n / w.sum()) if w.sum() > 0 else w


# --------------------------------------------------------------------------------------- fitting


@dataclass(frozen=True)
class RingPatternFit:
    """The best fit of one ring's pattern over the points lo..hi (ppm)."""

    lo: float
    hi: float
    shifts: dict  # group id -> fitted shift (ppm)
    j_hz: dict  # coupling kind -> fitted |J| (Hz)
    width_hz: float  # fitted line width (FWHM, Hz)
    unexplained_fraction: float  # (sum |residual| beyond the noise) / (sum |signal| beyond the baseline)
    rss: float  # sum of squared residuals over the fitted points, in noise units squared
    n_params: int  # nonlinear parameters fitted (shifts, J, width, solvent offsets)

    def to_dict(self) -> dict:
        return {
            "range": [round(self.lo, 4), round(self.hi, 4)],
            "shifts": {k: round(v, 4) for k, v in self.shifts.items()},
            "j_hz": {k: round(v, 2) for k, v in self.j_hz.items()},
            "width_hz": round(self.width_hz, 2),
            "unexplained_fraction": round(self.unexplained_fraction, 4),
            "rss": round(self.rss, 1),
        }


def _lorentz(x_hz: np.ndarray, f: np.ndarray, w: np.ndarray, fwhm: float) -> np.ndarray:
    hw = 0.5 * fwhm
    return (w[None, :] * (hw * hw) / ((x_hz[:, None] - f[None, :]) ** 2 + hw * hw)).sum(axis=1)


def fit_ring_pattern(
    ppm: np.ndarray,
    y: np.ndarray,
    noise: float,
    system: RingSpinSystem,
    points: np.ndarray,
    sf_mhz: float,
    singlets_ppm: tuple[float, ...] = (),
    width_hz: float = 1.0,
) -> RingPatternFit | None:
    """Fit one ring's exact spin pattern to the chosen points of the spectrum.

    Parameters
    ----------
    ppm, y : arrays
        The spectrum (ppm axis, real intensities).
    noise : float
        Rms noise of `y` (intensity units).
    system : RingSpinSystem
        The ring (`ring_spin_systems`).
    points : boolean array like `ppm`
        The points fitted: the observed multiplets that carry the ring's signals (and nothing else).
    sf_mhz : float
        Spectrometer frequency (MHz).
    singlets_ppm : tuple of float, optional
        Residual-solvent lines inside the range, each fitted as a free singlet (amplitude free, position
        within 0.01 ppm, the ring's width). Default none.
    width_hz : float, optional
        Starting line width (FWHM, Hz), e.g. the observed lines' median. Default 1.0.

    Returns
    -------
    RingPatternFit or None
        None when the range holds too few points to fit.
    """
    from scipy.optimize import least_squares

    sel = np.asarray(points, dtype=bool)
    if sel.sum() < 12 or sf_mhz <= 0:
        return None
    x = np.asarray(ppm[sel], dtype=float)
    yy = np.asarray(y[sel], dtype=float)
    asc = np.argsort(x)
    x, yy = x[asc], yy[asc]
    lo, hi = float(x[0]), float(x[-1])
    # four points per line width are enough to see a pattern; denser digitisation only costs time
    step = max(1, int(0.25 * width_hz / max(float(np.median(np.diff(x))) * sf_mhz, 1e-9)))
    x, yy = x[::step], yy[::step]
    x_hz = (x - x.mean()) * sf_mhz
    gids = system.groups
    spin_group = np.array([gids.index(g) for g in system.group_ids])
    kinds = sorted({k for _, _, k in system.kinds})
    ranges = j_ranges()
    n_s = len(singlets_ppm)
    xc = x.mean()
    # one nonlinear vector: group shifts (Hz from the range centre), J per kind, width, singlet offsets (Hz)
    span = (hi - lo) * sf_mhz
    jr = [_kind_range(k, ranges) for k in kinds]
    lo_b = [-0.5 * span] * len(gids) + [r[0] for r in jr] + [0.3] + [-0.01 * sf_mhz] * n_s
    hi_b = [0.5 * span] * len(gids) + [r[1] for r in jr] + [max(6.0, 2 * width_hz)] + [0.01 * sf_mhz] * n_s
    base = np.column_stack([np.ones_like(x_hz), x_hz / max(span, 1e-9)])

    def design(p):
        shifts, js = p[: len(gids)], p[len(gids) : len(gids) + len(kinds)]
        fwhm = p[len(gids) + len(kinds)]
        offs = p[len(gids) + len(kinds) + 1 :]
        jm = np.zeros((spin_group.size, spin_group.size))
        for a, b, k in system.kinds:
            jm[a, b] = js[kinds.index(k)]
        f, w = simulate_lines(shifts[spin_group], jm)
        cols = [_lorentz(x_hz, f, w, fwhm)]
        for s, off in zip(singlets_ppm, offs):
            cols.append(_lorentz(x_hz, np.array([(s - xc) * sf_mhz + off]), np.ones(1), fwhm))
        return np.column_stack(cols + [base])

    def linear(p):
        a = design(p)
        coef, *_ = np.linalg.lstsq(a, yy, rcond=None)
        k = 1 + n_s
        coef[:k] = np.maximum(coef[:k], 0.0)  # no negative signal amplitudes
        return a, coef

    def resid(p):
        a, coef = linear(p)
        return (a @ coef - yy) / max(noise, 1e-12)

    # every start a short run, then the best few run to convergence: the pattern's cost surface has a local
    # minimum for each way of laying the groups over the lines
    h_share = [system.group_ids.count(g) for g in gids]
    starts = sorted(
        _starts(x_hz, yy, h_share, lo_b, hi_b, len(kinds), width_hz, n_s), key=lambda v: float(np.sum(resid(v) ** 2))
    )
    short = []
    for start in starts[:_SHORT_RUNS]:
        short.append(least_squares(resid, start, bounds=(lo_b, hi_b), x_scale="jac", max_nfev=_SHORT_NFEV * len(start)))
    short.sort(key=lambda r: r.cost)
    best = None
    for r0 in short[:_REFINE]:
        r = least_squares(resid, r0.x, bounds=(lo_b, hi_b), x_scale="jac", max_nfev=40 * len(r0.x))
        if best is None or r.cost < best.cost:
            best = r
    assert best is not None  # at least one start is refined
    a, coef = linear(best.x)
    model = a @ coef
    base_curve = base @ coef[1 + n_s :]
    signal = np.abs(yy - base_curve)
    signal_sum = float(np.sum(np.maximum(signal - noise, 0.0)))
    res_sum = float(np.sum(np.maximum(np.abs(yy - model) - noise, 0.0)))
    frac = res_sum / signal_sum if signal_sum > 0 else 0.0
    p = best.x
    return RingPatternFit(
        lo,
        hi,
        {g: float(xc + p[i] / sf_mhz) for i, g in enumerate(gids)},
        {k: float(p[len(gids) + i]) for i, k in enumerate(kinds)},
        float(p[len(gids) + len(kinds)]),
        min(1.0, frac),
        float(2.0 * best.cost),
        int(p.size),
    )


def _orders(n: int) -> list[tuple[int, ...]]:
    """Orders in which to lay the groups over the range: all of them (at most 6! = 720 for 6 groups, but
    a ring has at most 4-5 distinct groups; capped at 120)."""
    return list(itertools.islice(itertools.permutations(range(n)), 120))


def _starts(x_hz, yy, h_share, lo_b, hi_b, n_kinds, width_hz, n_s):
    """Starting vectors: each group's shift where the range's cumulative intensity reaches the middle of its
    share of the H (groups laid over the range in several orders, `_orders`), J at the middle of each kind's
    range, the observed line width, solvent singlets at their table shifts."""
    n_groups = len(h_share)
    sig = np.abs(yy - np.median(yy))
    cum = np.cumsum(sig[::-1])[::-1]  # from the high-ppm end: groups come in order of decreasing shift
    cum = cum / cum[0] if cum[0] > 0 else np.linspace(1.0, 0.0, cum.size)
    js = [0.5 * (lo_b[n_groups + i] + hi_b[n_groups + i]) for i in range(n_kinds)]
    w = min(max(width_hz, lo_b[n_groups + n_kinds]), hi_b[n_groups + n_kinds])
    lo_a, hi_a = np.array(lo_b) + 1e-9, np.array(hi_b) - 1e-9
    for order in _orders(n_groups):
        shares = np.array([h_share[o] for o in order], dtype=float)
        mids = (np.cumsum(shares) - 0.5 * shares) / shares.sum()
        at = [float(x_hz[int(np.argmin(np.abs(cum - (1.0 - m))))]) for m in mids]
        sh = np.empty(n_groups)
        for pos, o in enumerate(order):
            sh[o] = at[pos]
        v = np.concatenate([sh, js, [w], np.zeros(n_s)])
        yield np.clip(v, lo_a, hi_a)
