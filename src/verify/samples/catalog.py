"""The committed sample set (`sample_spectra/`) and the 96-well demo plate design.

Expected verdicts follow the rules of the NMR and HRMS issues: a named side product or an unexplained
co-eluting compound at >= ~10 mol% makes a part suspicious; the wrong compound, or the compound absent
from the LC-MS run, makes it inconsistent; residual solvents are named impurities and leave the NMR
consistent (they say nothing against the structure).
"""

from __future__ import annotations

from .generate import SampleDef

GOOD = [
    # key, field (None = random), note
    ("boc_benzyl_diazepane", 400, "unsymmetrical N-Boc / N-benzyl"),
    ("benzyl_diazepane", 500, "N-H / N-benzyl"),
    ("boc_diazepane", 400, "N-H / N-Boc (carbamate rotamers broaden the ring CH2)"),
    ("fluorobenzyl_diazepane", 500, "N-(4-fluorobenzyl), H-F couplings"),
    ("boc_chlorobenzyl_diazepane", 600, "N-(4-chlorobenzyl) / N-Boc; Cl isotope pattern"),
    ("bromobenzyl_methyl_diazepane", 400, "N-(4-bromobenzyl) / N-methyl; Br isotope pattern"),
    ("methoxybenzyl_diazepane", 500, "N-(4-methoxybenzyl), DMSO-d6"),
    ("acetyl_benzyl_diazepane", 600, "N-acetyl (amide rotamers: two CH3 singlets) / N-benzyl"),
    ("benzoyl_methyl_diazepane", 400, "N-benzoyl / N-methyl, DMSO-d6, rotamer-broadened ring"),
    # the salts a Boc deprotection gives, as labs run them: N-H+ 9-11.5 ppm, ring N-CH2 0.5-0.9 ppm downfield
    ("benzyl_diazepane_2hcl", 400, "dihydrochloride salt in DMSO-d6 (registered with its HCl)"),
    ("benzyl_diazepane_tfa", 500, "bis-TFA salt in DMSO-d6 (registered with its TFA)"),
]
# samples committed but kept off the demo plate, so that its wells (drawn from GOOD + PLATE_ONLY) stay as they were
SAMPLE_ONLY = [
    ("benzyl_diazepane_2hcl_d2o", 400, "dihydrochloride salt in D2O: N-H+ exchanged (absent), HOD 4.79, TSP-d4"),
]
# compounds that only the demo plate uses (the committed set stays under ~15 MB)
PLATE_ONLY = [("homopiperazine", None, "N-H / N-H, the parent ring"), ("boc_ethyl_diazepane", None, "N-Boc / N-ethyl")]

FAILURES = [
    SampleDef(
        "fail_boc_not_removed",
        "benzyl_diazepane",
        side=[("boc_not_removed", 0.30)],
        failure="Boc not removed (30 mol% tert-butyl 4-benzyl-1,4-diazepane-1-carboxylate)",
        expect_nmr="suspicious",
        expect_ms="suspicious",
        field=400,
        tms=True,
        note="NMR: extra 9H singlet 1.46 and Boc-side ring CH2 3.4-3.5; MS: +100.0524 at a later RT",
    ),
    SampleDef(
        "fail_over_alkylation",
        "benzyl_diazepane",
        side=[("over_alkylation", 0.25)],
        failure="over-alkylation (25 mol% 1,4-dibenzyl-1,4-diazepane)",
        expect_nmr="suspicious",
        expect_ms="suspicious",
        field=500,
        tms=True,
        note="NMR: aromatic and ArCH2 integrals above the count; MS: +90.0470 ([M+H]+ 281.2012)",
    ),
    SampleDef(
        "fail_starting_material",
        "boc_benzyl_diazepane",
        side=[("starting_material", 0.20)],
        impurities=[("benzaldehyde", 0.05)],
        failure="unreacted starting material (20 mol% tert-butyl 1,4-diazepane-1-carboxylate) + 5 mol% benzaldehyde",
        expect_nmr="suspicious",
        expect_ms="suspicious",
        field=400,
        tms=True,
        note="NMR: N-H side ring CH2 2.8-2.9 and CHO 10.02; MS: [M+H]+ 201.1598 early",
    ),
    SampleDef(
        "fail_residual_solvents",
        "boc_benzyl_diazepane",
        impurities=[("ethyl acetate", 0.25), ("dichloromethane", 0.15), ("triethylamine", 0.08), ("acetic acid", 0.20)],
        failure="residual EtOAc 0.25 eq, DCM 0.15 eq, Et3N 0.08 eq, AcOH 0.20 eq",
        expect_nmr="consistent",
        expect_ms="consistent",
        field=500,
        tms=True,
        note="every extra peak is a named impurity (reference/impurities.tsv); structure confirmed",
    ),
    SampleDef(
        "fail_coeluting_impurity",
        "methoxybenzyl_diazepane",
        extra=[("triphenylphosphine_oxide", 0.15)],
        failure="co-eluting unrelated impurity (15 mol% triphenylphosphine oxide)",
        expect_nmr="suspicious",
        expect_ms="suspicious",
        field=400,
        note="NMR: unexplained aromatic multiplets 7.45-7.70; MS: unexplained m/z 279.0933",
    ),
    SampleDef(
        "fail_wrong_compound",
        "fluorobenzyl_diazepane",
        data="bromobenzyl_methyl_diazepane",
        failure="wrong compound (data are 1-(4-bromobenzyl)-4-methyl-1,4-diazepane)",
        expect_nmr="inconsistent",
        expect_ms="inconsistent",
        field=400,
        tms=True,
        note="no F couplings, an NCH3 singlet, no NH; MS: Br doublet at 283.08/285.08, no 209.14",
    ),
    SampleDef(
        "fail_missing_in_lcms",
        "boc_chlorobenzyl_diazepane",
        ms_missing=True,
        failure="compound missing from the LC-MS run (background only)",
        expect_nmr="consistent",
        expect_ms="inconsistent",
        field=500,
        note="NMR fine; no [M+H]+ 325.1678 anywhere in the run",
    ),
]


def sample_defs() -> list[SampleDef]:
    out = [SampleDef(k, k, field=f, note=n, big_endian=False) for k, f, n in GOOD + SAMPLE_ONLY]
    # the headline sample always has TMS
    out[0].tms = True
    # one acquisition from an older console: big-endian FID (BYTORDA=1)
    for d in out:
        if d.name == "bromobenzyl_methyl_diazepane":
            d.big_endian = True
            d.note += "; big-endian fid (BYTORDA=1)"
    for d in FAILURES:
        d.big_endian = False
    return out + FAILURES


# ---------------------------------------------------------------- demo plate
ROWS = "ABCDEFGH"


def wells(n: int = 96) -> list[str]:
    if n == 96:
        return [f"{r}{c:02d}" for r in ROWS for c in range(1, 13)]
    if n == 384:
        return [f"{r}{c:02d}" for r in "ABCDEFGHIJKLMNOP" for c in range(1, 25)]
    return [f"{ROWS[i // 12]}{i % 12 + 1:02d}" for i in range(n)]


def plate_design(n: int = 96) -> list[tuple[str, SampleDef, str]]:
    """(well, definition, special) for each well; special is '', 'no_nmr', 'no_ms', 'missing_file',
    'corrupt_fid', 'garbage_mzml' or 'invalid_smiles'."""
    import numpy as np

    rng = np.random.default_rng(96)
    ws = wells(n)
    keys = [k for k, _, _ in GOOD + PLATE_ONLY]
    specials = []

    # a fixed mix scaled to the plate size
    def scaled(k):
        return max(1, round(k * n / 96))

    mix = (
        [("boc_not_removed", None)] * scaled(3)
        + [("over_alkylation", None)] * scaled(2)
        + [("starting_material", None)] * scaled(2)
        + [("coeluting", None)] * scaled(2)
        + [("residual", None)] * scaled(4)
        + [("wrong", None)] * scaled(5)
        + [("ms_missing", None)] * scaled(2)
        + [("no_nmr", None)] * scaled(2)
        + [("no_ms", None)] * scaled(1)
        + [("missing_file", None)] * scaled(1)
        + [("corrupt_fid", None)] * scaled(1)
        + [("garbage_mzml", None)] * scaled(1)
        + [("saturated", None)] * scaled(2)
        + [("invalid_smiles", None)] * scaled(1)
    )
    kinds = [m[0] for m in mix] + ["good"] * (n - len(mix))
    kinds = kinds[:n]
    order = rng.permutation(n)
    for idx, w in enumerate(ws):
        kind = kinds[order[idx]]
        key = keys[int(rng.integers(len(keys)))]
        name = f"plate_{w}"
        special = ""
        if kind == "boc_not_removed":
            key = str(rng.choice(["benzyl_diazepane"]))
            d = SampleDef(
                name,
                key,
                side=[("boc_not_removed", float(rng.uniform(0.15, 0.35)))],
                failure="Boc not removed",
                expect_nmr="suspicious",
                expect_ms="suspicious",
            )
        elif kind == "over_alkylation":
            d = SampleDef(
                name,
                "benzyl_diazepane",
                side=[("over_alkylation", float(rng.uniform(0.15, 0.3)))],
                failure="over-alkylation",
                expect_nmr="suspicious",
                expect_ms="suspicious",
            )
        elif kind == "starting_material":
            d = SampleDef(
                name,
                "boc_benzyl_diazepane",
                side=[("starting_material", float(rng.uniform(0.15, 0.3)))],
                failure="unreacted starting material",
                expect_nmr="suspicious",
                expect_ms="suspicious",
            )
        elif kind == "coeluting":
            d = SampleDef(
                name,
                key,
                extra=[("triphenylphosphine_oxide", float(rng.uniform(0.12, 0.25)))],
                failure="co-eluting unrelated impurity (triphenylphosphine oxide)",
                expect_nmr="suspicious",
                expect_ms="suspicious",
            )
        elif kind == "residual":
            solv = [("ethyl acetate", float(rng.uniform(0.1, 0.3))), ("dichloromethane", float(rng.uniform(0.05, 0.2)))]
            if rng.random() < 0.5:
                solv.append(("triethylamine", float(rng.uniform(0.03, 0.1))))
            else:
                solv.append(("acetic acid", float(rng.uniform(0.05, 0.2))))
            d = SampleDef(name, key, impurities=solv, failure="residual solvents: " + ", ".join(s for s, _ in solv))
        elif kind == "wrong":
            other = keys[(keys.index(key) + 1 + int(rng.integers(len(keys) - 1))) % len(keys)]
            d = SampleDef(
                name,
                key,
                data=other,
                failure=f"wrong compound (data are {other})",
                expect_nmr="inconsistent",
                expect_ms="inconsistent",
            )
        elif kind == "ms_missing":
            d = SampleDef(
                name, key, ms_missing=True, failure="compound missing from the LC-MS run", expect_ms="inconsistent"
            )
        elif kind == "no_nmr":
            d = SampleDef(name, key, failure="no NMR acquired (nmr column empty)", expect_nmr="not run")
            special = "no_nmr"
        elif kind == "no_ms":
            d = SampleDef(name, key, failure="no LC-MS acquired (ms column empty)", expect_ms="not run")
            special = "no_ms"
        elif kind == "missing_file":
            d = SampleDef(
                name,
                key,
                failure="map points to an NMR folder that does not exist",
                expect_nmr="error",
                expect_ms="consistent",
            )
            special = "missing_file"
        elif kind == "corrupt_fid":
            d = SampleDef(
                name, key, failure="corrupt NMR: fid truncated to 40% of TD", expect_nmr="error", expect_ms="consistent"
            )
            special = "corrupt_fid"
        elif kind == "garbage_mzml":
            d = SampleDef(
                name,
                key,
                failure="corrupt LC-MS: mzML is not XML (garbage bytes)",
                expect_nmr="consistent",
                expect_ms="error",
            )
            special = "garbage_mzml"
        elif kind == "invalid_smiles":
            # good data under a SMILES with a typo: nothing can be checked, the well is an error result
            d = SampleDef(
                name,
                key,
                failure="invalid SMILES in the plate map (unclosed branch)",
                expect_nmr="error",
                expect_ms="error",
            )
            special = "invalid_smiles"
        elif kind == "saturated":
            d = SampleDef(
                name,
                key,
                saturate=True,
                failure="none: overloaded injection, TOF detector saturated on [M+H]+ (+3..+9 ppm, M+1 suppressed)",
                note="the right compound; the mass error and isotope ratio are detector artefacts",
            )
        else:
            d = SampleDef(name, key)
        # traces a clean sample still shows: grease from a greased joint in some CDCl3 wells (named, minor)
        # (the invalid-SMILES well draws like a good one, so that adding it left every other well unchanged)
        if kind in ("good", "invalid_smiles") and rng.random() < 0.25:
            from .tables import compounds

            if compounds()[d.target].solvent == "CDCl3":
                d.impurities = [("grease", float(rng.uniform(0.003, 0.012)))]
                d.note = "trace grease (0.86, 1.26 ppm)"
        # a few good wells come from an Orbitrap writing profile data
        if kind in ("good", "invalid_smiles") and rng.random() < 0.08:
            d.profile = True
            d.failure = "none (profile-mode mzML)"
        specials.append((w, d, special))
    return specials
