"""Alternatives tested side by side: does another plausible structure explain the 1H spectrum better?

Every competing structure (verify.structure.alternatives) is compared with the same observed multiplets
by the same machinery as the target (verify.nmr.compare), and each comparison is scored by one misfit,
a negative log-likelihood in the spirit of ACD/Labs' match factor:

    misfit = 0.5 * sum_groups n_H * min(z^2, 9)  +  th.alternative_h_cost * (unexplained + missing H)

(z after removing one common offset of at most th.misfit_offset_ppm, the referencing uncertainty)

z is how far the signal a group was placed on lies from the group's predicted centre, in standard
deviations of the prediction (its window is a ~90 % interval: sigma = width / 3.29); unexplained H are
observed H no group took, missing H expected H no signal carries (or that sit on a signal too small for
them). A difference of misfits is a log likelihood ratio. Shift errors of one prediction are partly common
to all signals (referencing to a residual solvent line, concentration), so one offset of at most
th.misfit_offset_ppm is removed before the z are taken. An alternative must fit better by
th.alternative_margin (3.0, odds of about 20:1) before the verdict cannot stay consistent: measured on
the real spectra of ../shared/realdata checked against their own structures, the best competing
structure came at most 0.7 below a correct target (without the offset and the pairing of equal-H groups,
5.2: a benchtop file 0.08 ppm off made isomers predicted higher "fit better", and crossed 2H pairs of a
para ring scored as misses). One that fits about as well
is stated as not excluded by 1H (an info finding; the chemist reads which one), never a failure: with
predicted shifts good to about 0.13 ppm, many isomers fit a correct spectrum nearly as well. Only an
alternative whose own comparison is clean (no warning or error: every signal explained, every group
found) counts. Pure functions, no files.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..expectation import Expectation, build_expectation
from ..findings import Finding
from ..structure.alternatives import Alternative, competing_structures
from ..structure.target import Target
from .pattern_evidence import SpectrumTrace, compare_ring_patterns, ring_readings
from .peaks import Multiplet
from .records import Comparison
from .thresholds import NMR_THRESHOLDS, NmrThresholds

__all__ = [
    "ALTERNATIVE_CODES",
    "AlternativeFit",
    "alternative_findings",
    "best_species",
    "misfit",
    "score_alternatives",
]

ALTERNATIVE_CODES = ("nmr.alternative_fits", "nmr.alternative_not_excluded", "nmr.alternative_ruled_out")


@dataclass
class AlternativeFit:
    """One competing structure scored on the same spectrum as the target."""

    alternative: Alternative
    formula: str
    misfit: float  # the alternative's misfit (lower is better)
    advantage: float  # target misfit - alternative misfit (> 0: the alternative explains the data better)
    same_formula: bool
    clean: bool  # its own comparison has no warning or error
    ruled_out_by: str = ""  # "HRMS" when the MS evidence excludes its formula (set by the pipeline)
    # rings fitted as spin patterns on the same lines (verify.nmr.pattern_evidence); their advantage is in
    # `advantage` and in the misfit of whichever reading's ring fits worse
    patterns: list = field(default_factory=list)

    @property
    def pattern_advantage(self) -> float:
        return sum(p.advantage for p in self.patterns)

    def to_dict(self) -> dict:
        return {
            **self.alternative.to_dict(),
            "formula": self.formula,
            "misfit": round(self.misfit, 2),
            "advantage": round(self.advantage, 2),
            "same_formula": self.same_formula,
            "clean": self.clean,
            "ruled_out_by": self.ruled_out_by,
            "ring_patterns": [p.to_dict() for p in self.patterns],
        }


def misfit(cmp: Comparison, th: NmrThresholds = NMR_THRESHOLDS) -> float:
    """Negative log-likelihood-like misfit of one comparison (see the module docstring); lower is better.

    Parameters
    ----------
    cmp : Comparison
        The result of verify.nmr.compare.compare for one structure.
    th : NmrThresholds, optional
        `alternative_h_cost` weighs unexplained and missing H against shift deviations.

    Returns
    -------
    float
        The misfit (dimensionless).
    """
    missing = 0.0
    resid = []  # (observed ppm, predicted centre, sigma, n_H) of each placed group
    for gc in cmp.groups:
        g = gc.group
        if g.exchangeable:
            continue
        missing += max(0.0, g.n_h - gc.placed_h)
        if gc.found and gc.placed_ppm is not None and g.centre is not None:
            # where the group's H sit on average: continuous in how the assignment shares them out, so a
            # tie between equally good placements does not jump the score
            resid.append((gc.placed_ppm, g.centre, g.sigma_ppm, g.n_h))
    unexplained = sum(p.h for p in cmp.peaks if p.kind == "unexplained" and p.h >= th.report_min_h)
    # surplus on a target signal counts, unless a solvent/water line sits under it (that surplus is free)
    unexplained += sum(p.surplus_h for p in cmp.peaks if p.status == "consistent" and not p.solvent_label)
    missing += sum(p.deficit_h for p in cmp.peaks)  # H placed on a signal too small to carry them
    return _shift_misfit(resid, th) + th.alternative_h_cost * (unexplained + missing)


def _shift_misfit(placed: list[tuple[float, float, float, int]], th: NmrThresholds) -> float:
    """0.5 sum n_H min(z^2, 9) over (observed ppm, predicted centre, sigma, n_H) of the placed groups.

    Groups of equal H count may trade the signals they sit on (integrals do not tell them apart, and the
    assignment picks freely between equal optima, e.g. crossing the two 2H pairs of a para ring): the
    pairing with the least misfit is taken (scipy linear_sum_assignment). One common offset of at most
    th.misfit_offset_ppm is removed first (referencing and concentration move every signal together: a
    benchtop file 0.08 ppm off made every isomer whose predictions sit higher "fit better").
    """
    import numpy as np
    from scipy.optimize import linear_sum_assignment

    if not placed:
        return 0.0
    off = 0.0
    total = 0.0
    for _ in range(2):  # pair, fit the offset, pair again
        pairs = []
        for n in sorted({p[3] for p in placed}):
            cls = [p for p in placed if p[3] == n]
            cost = np.array([[min(((o - c - off) / s) ** 2, 9.0) for o, _, _, _ in cls] for _, c, s, _ in cls])
            rows, cols = linear_sum_assignment(cost)
            pairs += [(cls[j][0], cls[i][1], cls[i][2], n) for i, j in zip(rows, cols)]
        w = sum(n / s**2 for _, _, s, n in pairs)
        off = sum(n * (o - c) / s**2 for o, c, s, n in pairs) / w
        off = max(-th.misfit_offset_ppm, min(th.misfit_offset_ppm, off))
        total = sum(0.5 * n * min(((o - c - off) / s) ** 2, 9.0) for o, c, s, n in pairs)
    return total


def score_alternatives(
    mults: list[Multiplet],
    target_cmp: Comparison,
    expectation: Expectation,
    sf_mhz: float,
    th: NmrThresholds = NMR_THRESHOLDS,
    trace: SpectrumTrace | None = None,
) -> list[AlternativeFit]:
    """Score every competing structure of the target on the same multiplets.

    Parameters
    ----------
    mults : list of Multiplet
        The observed multiplets (as given to compare()).
    target_cmp : Comparison
        The target's comparison.
    expectation : Expectation
        The target's expectation (its solvent is used for the alternatives).
    sf_mhz : float
        Spectrometer frequency, MHz.
    th : NmrThresholds, optional
        `alternatives` (how many, 0: none), `alternative_h_cost`.
    trace : SpectrumTrace, optional
        The spectrum itself: where given, a same-formula alternative that fits about as well by shifts
        has its aromatic rings and the target's fitted as spin patterns on the same lines
        (verify.nmr.pattern_evidence), and the likelihood ratio joins the misfits.

    Returns
    -------
    list of AlternativeFit
        Best-fitting first.
    """
    from .compare import compare

    if th.alternatives <= 0:
        return []
    alts = competing_structures(expectation.mol, limit=th.alternatives)
    if not alts:
        return []
    from rdkit import Chem

    from ..structure.learned import prefetch_targets

    mols = [Chem.MolFromSmiles(a.smiles) for a in alts]
    solvent = expectation.solvent
    key = solvent.key if solvent is not None else "cdcl3"
    prefetch_targets([m for m in mols if m is not None], [key] * len(mols))
    own = misfit(target_cmp, th)
    target_rings = ring_readings(target_cmp, expectation) if trace is not None else []
    singlets = tuple(s for s, m in zip(solvent.residual, solvent.residual_mult) if m == "s") if solvent else ()
    cache: dict = {}  # ring fits by spin topology and points: isomers that differ off the ring share them
    out = []
    for alt, mol in zip(alts, mols):
        if mol is None:
            continue
        tgt = Target(name=alt.description, smiles=alt.smiles, mol=mol, input_smiles=alt.smiles, source="alternative")
        exp = build_expectation(tgt, solvent)
        cmp = compare(mults, exp, sf_mhz, th, side_products=[])
        score = misfit(cmp, th)
        clean = not any(f.severity in ("warning", "error") for f in cmp.findings)
        same = exp.formula == expectation.formula
        fit = AlternativeFit(alt, exp.formula, score, own - score, same, clean)
        # only where the shifts leave the two undecided is the ring pattern worth its fitting time
        if target_rings and trace is not None and same and clean and fit.advantage > -th.alternative_margin:
            fit.patterns = compare_ring_patterns(
                target_rings, ring_readings(cmp, exp), mults, trace, singlets, th, cache
            )
            gain = fit.pattern_advantage
            fit.misfit += max(0.0, -gain)
            fit.advantage = own + max(0.0, gain) - fit.misfit
        out.append(fit)
    out.sort(key=lambda f: f.misfit)
    return out


def alternative_findings(fits: list[AlternativeFit], th: NmrThresholds = NMR_THRESHOLDS) -> list[Finding]:
    """Findings from scored alternatives: a warning for one that explains the spectrum clearly better, info
    for an isomer that fits about as well (1H alone does not exclude it) and for those HRMS ruled out."""
    out = []
    ruled = [f for f in fits if f.ruled_out_by and f.clean and f.advantage > -th.alternative_margin]
    if ruled:
        out.append(
            Finding(
                "info",
                "nmr.alternative_ruled_out",
                "; ".join(
                    f"{f.alternative.description} ({f.formula}) fits the 1H spectrum about as well "
                    f"or better, but {f.ruled_out_by} found the target's formula"
                    for f in ruled
                ),
            )
        )
    for f in fits:
        if f.ruled_out_by or not f.clean:
            continue
        a = f.alternative
        what = f"{a.description}: {a.smiles} ({f.formula})"
        if f.advantage >= th.alternative_margin:
            out.append(
                Finding(
                    "warning",
                    "nmr.alternative_fits",
                    f"the 1H spectrum fits a competing structure better than the target, {what}; misfit "
                    f"{f.misfit:.1f} against {f.misfit + f.advantage:.1f} (lower is better)"
                    + _pattern_words(f)
                    + ("" if f.same_formula else "; HRMS tells their formulas apart"),
                )
            )
        elif f.advantage > -th.alternative_margin and f.same_formula:
            out.append(
                Finding(
                    "info",
                    "nmr.alternative_not_excluded",
                    f"1H alone does not exclude {what}: it fits the spectrum about as well as the target "
                    f"(misfit {f.misfit:.1f} against {f.misfit + f.advantage:.1f})",
                )
            )
    return out


def _pattern_words(f: AlternativeFit) -> str:
    """What the ring patterns added, when they decided it."""
    won = [p for p in f.patterns if p.advantage >= 1.0]
    if not won:
        return ""
    parts = []
    for p in won:
        span = (
            f"{min(p.multiplets_ppm):.2f}-{max(p.multiplets_ppm):.2f}"
            if len(p.multiplets_ppm) > 1
            else (f"{p.multiplets_ppm[0]:.2f}")
        )
        parts.append(
            f"at {span} ppm its aromatic ring's spin pattern leaves {100 * p.alternative.unexplained_fraction:.0f} % "
            f"of the signal unexplained, the target's {100 * p.target.unexplained_fraction:.0f} %"
        )
    return "; " + "; ".join(parts) + f" (pattern term {f.pattern_advantage:.1f})"


def _salt_evidence(cmp: Comparison, exp: Expectation, registered_salt: bool) -> bool:
    """Whether the spectrum may be read as an ammonium salt at all. Where N-H+ do not exchange with the
    solvent (CDCl3, DMSO-d6, ...) the salt shows its broad N-H+ downfield: one must be seen inside its
    window (not only on the soft exchangeable slack). Without this, the salt's wider rule windows would
    "explain" a free base whose predicted shifts miss. In D2O/CD3OD nothing shows the proton, and water
    protonates an amine (pKa 9-11) even without added acid, so both forms stay open there: an unregistered
    salt form must then beat the free base by the species margin (`best_species`)."""
    solvent = exp.solvent
    if solvent is not None and solvent.exchanges_labile_h:
        return True
    return any(
        gc.found and gc.in_window and gc.group.exchangeable and "ammonium" in gc.group.label.lower()
        for gc in cmp.groups
    )


def best_species(
    mults: list[Multiplet], expectation: Expectation, sf_mhz: float, th: NmrThresholds = NMR_THRESHOLDS
) -> tuple[Expectation, Comparison, str, list[Finding]]:
    """Read the spectrum as the free base and as each ammonium salt form of the target; keep the best.

    The form the chemist registered (a salt when counter-ions were stripped or a charged amine was
    neutralised, else the free base) wins unless another explains the spectrum better by
    th.species_margin (misfit units, see `misfit`); a salt form needs its own evidence (`_salt_evidence`).

    Returns
    -------
    (expectation, comparison, species name, findings)
        The chosen form's expectation and comparison, its name ("free base", "mono-protonated (ammonium
        salt)", ...) and an info finding saying which form was read when it is not the free base or when
        a salt was registered.
    """
    from ..structure.side_products import side_products
    from ..structure.species import protonated_forms
    from .compare import compare

    try:  # this chemistry's side products are those of the neutral parent, whatever form is read
        sps = side_products(expectation.mol)
    except Exception:  # noqa: BLE001 - a structure the side-product rules cannot handle: name nothing
        sps = []
    base = compare(mults, expectation, sf_mhz, th, side_products=sps)
    registered_salt = bool(expectation.target.notes)
    if th.species_margin < 0:
        return expectation, base, "free base", []
    forms = protonated_forms(expectation.mol)
    if not forms:
        return expectation, base, "free base", []
    from rdkit import Chem

    from ..structure.learned import prefetch_targets

    solvent = expectation.solvent
    key = solvent.key if solvent is not None else "cdcl3"
    prefetch_targets([f.mol for f in forms], [key] * len(forms))
    # the registered form starts with the preference
    best = (misfit(base, th) - (0.0 if registered_salt else th.species_margin), expectation, base, "free base")
    for form in forms:
        tgt = Target(
            name=expectation.target.name,
            smiles=form.smiles,
            mol=Chem.Mol(form.mol),
            input_smiles=expectation.target.input_smiles,
            notes=list(expectation.target.notes),
            source=expectation.target.source,
        )
        exp = build_expectation(tgt, solvent)
        cmp = compare(mults, exp, sf_mhz, th, side_products=sps)
        if not _salt_evidence(cmp, exp, registered_salt):
            continue
        score = misfit(cmp, th) - (th.species_margin if registered_salt else 0.0)
        if score < best[0]:
            best = (score, exp, cmp, form.name)
    _, exp, cmp, name = best
    findings = []
    if name != "free base":
        findings.append(
            Finding(
                "info",
                "nmr.species",
                f"the spectrum is read as the {name} of the target, {exp.target.smiles}: its N-CH "
                "signals sit where the protonated amine puts them",
            )
        )
    elif registered_salt:
        findings.append(
            Finding(
                "info",
                "nmr.species",
                "registered as a salt, but the spectrum fits the free base better (free-based in "
                "the work-up, or the counter-ion exchanged)",
            )
        )
    return exp, cmp, name, findings
