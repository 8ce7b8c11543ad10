"""Every number the 1H NMR peak picking, comparison and verdict use, in one place.

`NMR_THRESHOLDS` is the default used by `verify.nmr.check.check_nmr`; tests and callers may pass a
modified copy (`dataclasses.replace(NMR_THRESHOLDS, snr_pick=8)`). Units are in the field names or the
comments: ppm, Hz, H (integral in protons of the target, after scaling), or plain ratios.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NmrThresholds:
    # --- noise and peak picking (verify.nmr.peaks) ---
    noise_segments: int = 64
    """The spectrum is cut into this many segments; the noise (rms, intensity units) is the 20th
    percentile of the segments' detrended standard deviations, i.e. it comes from signal-free regions."""
    edge_fraction: float = 0.02
    """No lines are picked in the outer 2 % of the spectral width at each end (digital-filter roll-off,
    baseline-fit edges)."""
    snr_pick: float = 6.0
    """A line is picked when its height is at least this many times the rms noise."""
    prominence_snr: float = 6.0
    """...and it stands out of its neighbourhood (prominence) by at least this many times the noise."""
    max_j_hz: float = 18.0
    """Lines closer than this (Hz) are grouped into one multiplet (largest usual 1H-1H coupling)."""
    line_match_hz: float = 0.6
    """Tolerance (Hz, plus 15 % of the smallest J) when matching observed lines to a first-order pattern."""
    line_height_tolerance: float = 0.45
    """Relative tolerance on line heights when naming a first-order multiplet (roofing allowed)."""
    broad_hz: float = 6.0
    """A single line wider than this (FWHM, Hz) and 3x the median line width is called `br s`."""
    hump_hz: float = 80.0
    """A line wider than this (FWHM, Hz) is a baseline roll, not a signal: listed nowhere, never
    integrated (broad NH/OH are 10-50 Hz wide)."""
    # --- fitted line-shape model (verify.nmr.fit) ---
    fit_max_lines: int = 60
    """A region of touching multiplets with more lines than this is not fitted (its sums stand)."""
    fit_max_evaluations: int = 60
    """Model evaluations allowed per region (least squares, analytic Jacobian)."""
    fit_points_per_width: float = 5.0
    """Points kept per FWHM of each line within `fit_near_widths` FWHM of it when fitting (elsewhere one in
    eight: the tails and the baseline need few)."""
    fit_near_widths: float = 6.0
    """How far (FWHM of the line) around each line all its points are kept for the fit."""
    fit_max_unexplained: float = 0.05
    """The fit apportions a region's integral among its multiplets only when it leaves at most this
    fraction of the region's absolute intensity in the residual."""
    hidden_solvent_margin: float = 0.5
    """A solvent line hidden in a wider multiplet (CHCl3 among aromatic H) may add its fitted area times
    (1 + this) to that multiplet's integral free of cost: the fit cannot tell a compound line lying on it."""
    hidden_solvent_max_share: float = 0.5
    """...only when the solvent line is the minor part of that multiplet's fitted area (above it the multiplet
    is mostly solvent and its surplus stays free)."""
    hump_window_hz: float = 160.0
    hump_min_width_hz: float = 200.0
    hump_min_snr: float = 5.0
    hump_max_spread: float = 4.0
    """A broad background found apart from the lines: the running median of the spectrum over
    hump_window_hz (Hz; narrow multiplets fill less than half of it and do not move it), where it stands
    at least hump_min_snr x noise high over a stretch at least hump_min_width_hz wide at half its height
    (Hz; the foot of a tall line is narrower) and mostly bare there (the robust spread of the spectrum
    about it at most hump_max_spread noise levels: a crowded region of multiplets is far above), is a hump (probe background, a baseline roll): subtracted there before
    lines are measured and integrated, so noise riding on it is not read as a signal."""
    plateau_min_hz: float = 300.0
    plateau_min_lines: int = 10
    plateau_peak_ratio: float = 2.0
    plateau_even_fraction: float = 0.7
    """A multiplet at least this wide (Hz) with at least this many lines, most of them (this fraction) under
    plateau_peak_ratio times their median height, is a raised stretch of baseline (the foot of a dominant
    TMS line, a baseline roll), not a signal: flagged as a baseline hump and not integrated; the lines
    standing out of it are grouped again."""
    satellite_half_hz: tuple = (55.0, 110.0)
    """13C satellites sit +/- J(CH)/2 from their parent (J(CH) 110-220 Hz; CHCl3 209 Hz)."""
    satellite_ratio: tuple = (0.0015, 0.02)
    """Each 13C satellite carries ~0.55 % of its parent's integral; accepted range of that ratio."""
    sideband_ratio_max: float = 0.02
    """Symmetric pairs of small signals (< this fraction of a parent's height) 5-55 Hz from a big line
    are spinning sidebands."""

    # --- classification of solvent and impurity signals (verify.nmr.compare) ---
    solvent_tol_ppm: float = 0.03
    """Residual solvent signal and TMS/DSS position tolerance (ppm)."""
    water_tol_ppm: float = 0.12
    """Water/HOD wanders with temperature, concentration and acidity: tolerance around the table value (ppm)."""
    water_exchange_drift_ppm: float = 0.35
    """How far beyond water_tol_ppm downfield the water line may move when the compound holds an amine or
    an N-H/O-H (hydrogen bonding and exchange; 1.5 to about 1.9 ppm in CDCl3)."""
    shift_range_ppm: tuple = (-1.0, 14.5)
    """Organic 1H shifts lie here (TMS 0; carboxylic acids to ~13.5). A signal outside it that nothing
    explains is an edge or baseline artefact (info `nmr.out_of_range`); the range grows to take in
    every expected group's window (0.5 ppm below, 1 ppm above) for structures that reach further."""
    water_shoulder_gap_ppm: float = 0.08
    water_shoulder_fraction: float = 0.05
    """A small unsplit line within this many ppm of the water/HOD multiplet and at most this fraction of its
    integral is part of the water line (presaturation residue, shoulder of a strong line)."""
    exchange_water_max_h: float = 3.0
    """Fast exchange of water with the compound's OH/NH/COOH averages them into one line between the
    solvent's water shift and the XH window. When neither water nor the XH group is seen, one unsplit
    unexplained line of at most this many H in that span is taken as the averaged water/XH line."""
    impurity_tol_ppm: float = 0.02
    """Impurity signal position tolerance (ppm) against reference/impurities.tsv."""
    impurity_ratio_max: float = 2.0
    """The per-H integrals of an impurity's signals must agree within this factor for the pattern to fit."""
    impurity_warn_mol_percent: float = 50.0
    """A named solvent/reagent impurity above this many mol % of the compound is a warning (below: info)."""

    # --- assignment of multiplets to the expected groups ---
    window_slack_ppm: float = 0.10
    """A group found within this distance (ppm) outside its predicted window still counts as in-window
    (rule windows are +/- 0.1-0.2 ppm estimates)."""
    assign_centre_cost: float = 0.004
    """Cost per H per standard deviation of the prediction (capped at 3) by which a placement lies from the
    group's predicted centre: breaks ties between equally good placements in overlapping windows, never more
    (the smallest other cost, integration error, is 0.1 per H)."""
    max_outside_ppm: float = 0.40
    """A group may be placed at most this far (ppm) outside its window; beyond that it is missing."""
    exchangeable_outside_ppm: float = 3.0
    """A broad signal may be an exchangeable OH/NH/COOH this far (ppm) outside that group's window
    (exchange with water, concentration and acidity move them)."""
    found_fraction: float = 0.5
    """A group is found when at least this fraction of its H is placed on observed signals."""

    # --- costs of the assignment's linear programme (verify.nmr.assign), per H placed ---
    # The unit is 1 per H of a signal left unexplained (or of a signal's H not observed); a placement costs
    # what it makes less plausible, so that the programme leaves a signal unexplained rather than pay more.
    assign_edge_cost: float = 0.01
    """Every placement (keeps the programme from spreading a group over signals for nothing)."""
    assign_slack_cost: float = 0.2
    """A placement at the edge of the window slack (rising from 0 at the window's edge): ties go inside."""
    assign_outside_cost: float = 0.5
    """A placement just beyond the slack ..."""
    assign_outside_cost_rise: float = 1.5
    """... rising by this much up to max_outside_ppm."""
    assign_missing_cost: float = 1.5
    """A non-exchangeable H placed nowhere (dearer than an unexplained H: a group is there unless the data
    say otherwise)."""
    assign_broad_exchangeable_cost: float = 0.05
    """An exchangeable OH/NH on an exchange-broadened signal anywhere within exchangeable_outside_ppm."""
    assign_exchangeable_broad_cost: float = 0.02
    """An exchangeable group on a broad signal inside its window."""
    assign_exchangeable_polar_solvent_cost: float = 0.1
    """OH or amide NH on a sharp, coupled line in DMSO-d6/acetone-d6, where they are often sharp."""
    assign_amine_nh_polar_solvent_cost: float = 0.5
    """Amine N-H on a sharp line in DMSO-d6/acetone-d6 (they exchange fast and are usually broad even there)."""
    assign_exchangeable_may_be_sharp_cost: float = 0.3
    """Amide, sulfonamide, heteroaromatic NH, phenol, thiol, ammonium or acid H on a sharp line elsewhere."""
    assign_alcohol_sharp_singlet_cost: float = 0.5
    """An alcohol OH on an uncoupled sharp line elsewhere."""
    assign_exchangeable_sharp_cost: float = 1.05
    """Any other exchangeable H (amine N-H) on a sharp line: above 1, so it never pays off."""
    assign_singlet_on_vicinal_cost: float = 1.5
    """H with no vicinal H (nor F/P near) on a first-order t/q with a 4-9.5 Hz J: geminal sp3 couplings are
    10-18 Hz and give AB pairs; dearer than leaving the signal unexplained."""
    assign_singlet_on_split_cost: float = 0.3
    """A singlet group on another resolved, split multiplet."""
    assign_methyl_on_broad_cost: float = 2.6
    """A methyl singlet (NCH3, OCH3, tBu) on an exchange-broadened hump: rather missing (1.5/H) with the hump
    unexplained (1/H) than placed there."""
    assign_methyl_off_singlet_cost: float = 1.6
    """A methyl singlet on a signal without a line standing out as a singlet (dearer than leaving it missing)."""
    assign_ch_on_hump_cost: float = 1.05
    """A C-H on a lone hump wider than 2.5 broad_hz (exchange or baseline), unless rotamers broaden it."""
    assign_coupled_on_sharp_singlet_cost: float = 0.5
    """A CH next to CH's on a sharp singlet (a Boc 9H singlet is no ring CH2)."""
    assign_free_error_fraction: float = 0.1
    """The first 10 % of a multiplet's own integral off in either direction ..."""
    assign_free_error_cost: float = 0.1
    """... costs only this per H: integration is not more accurate than that on real spectra; not 0, so that
    the scale stays centred."""
    assign_min_placed_h: float = 0.25
    """A placement below this many H ..."""
    assign_min_placed_fraction: float = 0.2
    """... and below this fraction of its group is dropped and the programme solved again (a group smeared
    over many small signals explains noise and impurities)."""
    assign_in_window_cost: float = 0.011
    """An edge costing at most this (a placement inside its window) to a signal of at least
    assign_keep_signal_h H is kept through that pruning, so that a first solution cannot lock a group away
    from its own signal ..."""
    assign_keep_signal_h: float = 0.5
    """... (H of that signal)."""
    assign_scale_bounds: tuple[float, float] = (0.2, 5.0)
    """How far the fitted H scale may move from the first estimate (all integrals over the expected H)."""

    # --- verdict ---
    integral_tol_rel: float = 0.20
    integral_tol_h: float = 0.35
    """The integral of a region of touching multiplets differing from the H assigned to it by more than
    both of these (relative and absolute, in H) is marginal: warning `nmr.integral_mismatch` (surplus
    only when it is also >= unexplained_min_h and no solvent line or exchangeable OH/NH sits there)."""
    integral_loo_min_h: float = 0.75
    integral_loo_min_scale_h: float = 4.0
    """Leave-one-out count check: a region whose groups sit wholly in it is measured against the H scale of the
    compound's other clean regions (no solvent line, no exchangeable H, at least integral_loo_min_scale_h H), so
    that one wrong count cannot pull the scale toward itself (a 4-H aromatic region holding 5 H, the best fit of
    all integrals shares the surplus out and every region looks within tolerance). It is off by more than
    tol (integral_tol_h, integral_tol_rel) and by at least this many H: warning `nmr.integral_mismatch`."""
    integral_wrong_h: float = 1.0
    h_count_wrong_fraction: float = 0.15
    """When the H missing over the whole spectrum (deficits of assigned signals plus unplaced H) exceed
    both 2 x integral_wrong_h and this fraction of the non-exchangeable H, the H count is clearly wrong:
    error `nmr.h_count_wrong`. Integral checks run over regions of touching multiplets (how a chemist
    integrates), not over each multiplet of an overlapped region."""
    unexplained_min_h: float = 0.30
    """An unexplained signal of at least this many H (relative to 1 H of the compound) makes the
    spectrum suspicious; smaller ones are listed as minor."""
    unexplained_min_fraction: float = 0.004
    """...or this fraction of the compound's non-exchangeable H when that is more: integrals are good to a
    fraction of the whole spectrum's integral (baseline and phase errors spread over its width), so in a
    100-H peptide a 0.3 H signal is within the integration error, in a 25-H amine it is not."""
    unexplained_major_h: float = 2.0
    """An unexplained signal of this many H or more is as large as a whole CH2/CH3 group of the compound:
    either the structure is wrong or the sample is mostly something else: error `nmr.unexplained_major`."""
    unexplained_total_h: float = 0.60
    unexplained_total_fraction: float = 0.08
    """...and so does a sum of minor unexplained signals above this many H and above this fraction of
    the target's non-exchangeable H (small impurities and 13C satellites of multiplets add up)."""
    report_min_h: float = 0.02
    """Signals smaller than this (H) are not listed at all (noise spikes, 13C satellites of small lines)."""
    side_product_min_h: float = 0.05
    """A side-product signal (aldehyde CHO, ArCH2OH, Boc 9H singlet per 9 H...) is named from this
    many H of unexplained intensity (for the Boc singlet: this times 9)."""
    side_product_warn_mol_percent: float = 10.0
    """A named side product (Boc not removed, aldehyde, its alcohol, over-alkylation) from this many mol %
    makes the spectrum suspicious; below it is named as info (the usual >= 90 % purity release criterion,
    and the cut at which the LC-MS check warns about another peak)."""
    over_alkylation_excess: float = 0.15
    """Over-alkylation is named when the benzylic CH2 singlet(s) integrate this fraction above what the
    other (ring) signals predict and the aromatic H too (a second benzyl group on the ring)."""

    # --- alternatives (verify.nmr.alternatives) ---
    alternatives: int = 8
    """How many competing structures are scored on each spectrum (0: none; each costs a prediction)."""
    alternative_h_cost: float = 2.0
    """Misfit per unexplained or missing H, against 0.5 z^2 per H for a shift deviation: an H left
    unexplained weighs as much as a shift 2 sigma from its prediction."""
    misfit_offset_ppm: float = 0.10
    """The misfit first removes one common shift offset of at most this (ppm): referencing to a residual
    solvent line and concentration move every signal together."""
    pattern_max_width_ratio: float = 2.0
    """A doublet shared by several aromatic groups is read as a first-order d only when none of its lines is
    wider than this many times the spectrum's natural line width (20th percentile of all line widths):
    wider lines are unresolved lines merged (two overlapping triplets can look like a d)."""
    strong_coupling_ratio: float = 3.0
    """Two coupled groups whose shifts lie closer than this many J apart (delta-nu / J at the spectrometer's
    field, J typical of reference/coupling_constants.tsv, the predicted shifts) are strongly
    coupled: their lines do not follow the n+1 rule, so no first-order pattern is expected of them."""
    pattern_swap_misfit: float = 1.0
    """An aromatic H on a pattern its ring neighbours forbid is excused when trading signals with another
    group of the same H count cures both and costs at most this much shift misfit per H (0.5 z^2 per H, the
    units of nmr.alternatives): the assignment's free pick between near-equal optima, not a misplacement."""
    alternative_margin: float = 3.0
    """An alternative whose misfit is this much lower than the target's (a likelihood ratio of about 20)
    explains the spectrum better; within it, an isomer is stated as not excluded by 1H. On the real spectra
    of ../shared checked against their own structures the best competing structure came at most 0.7 below a
    correct target once the common offset is removed and equal-H groups are paired by least misfit."""
    pattern_max_misfit_per_h: float = 4.5
    """The ring-pattern evidence between a target and a competing structure (verify.nmr.pattern_evidence) is
    capped at this misfit per ring H: the cost of every ring H at the shift term's own cap (0.5 * 9), so a
    pattern weighs at most as much as every ring H far off its prediction."""
    pattern_max_unexplained: float = 0.25
    """Ring patterns are compared only when one of the two readings leaves at most this fraction of the
    ring's multiplets unexplained: where neither ring reproduces the lines (phase error, an impurity under
    them) the pattern cannot say which is right."""
    species_margin: float = 2.0
    """The registered form (free base, or the salt when counter-ions were stripped) is kept unless
    another protonation state explains the spectrum better by this much misfit (negative: read the
    registered parent only)."""


NMR_THRESHOLDS = NmrThresholds()
