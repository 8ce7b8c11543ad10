"""One sample = compound.smi + nmr/1 (Bruker) + ms.mzML + truth.json, from a `SampleDef`.

Everything random comes from one numpy Generator seeded from the sample's name and the base seed,
so the same definition and seed give the same bytes.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import asdict, dataclass, field
from dataclasses import field as _dc_field  # the class attribute `field` (MHz) shadows `field` below it
from pathlib import Path

import numpy as np
from rdkit import Chem

from ..solvents import find_solvent
from ..structure.side_products import side_products
from . import ms as msim
from . import nmr as nsim
from .tables import NAMES, Compound, Group, compounds, impurity_groups

VERDICT_ORDER = ("consistent", "suspicious", "inconsistent")


@dataclass
class SampleDef:
    name: str
    target: str  # compound key (compounds.tsv) written to compound.smi
    data: str | None = None  # compound key whose spectra are simulated (wrong compound); default target
    side: list = field(default_factory=list)  # [(side-product kind, mole fraction of the mixture)]
    impurities: list = field(default_factory=list)  # [(impurity name in reference/impurities.tsv, equivalents)]
    extra: list = field(default_factory=list)  # [(compound key, mole fraction)] unrelated co-eluting compound
    ms_missing: bool = False  # compound absent from the LC-MS run
    failure: str = "none"
    expect_nmr: str = "consistent"
    expect_ms: str = "consistent"
    note: str = ""
    field: int | None = None
    tms: bool | None = None
    profile: bool = False
    instrument: str | None = None
    run_s: float | None = None  # LC run length override (tests use short runs)
    big_endian: bool | None = None  # BYTORDA=1 FID (None: 12 % of samples at random)
    saturate: bool = False  # TOF run loaded so high that the detector saturates on [M+H]+
    # --- optional perturbations of the 1H spectrum (benchmarks of hard cases); the defaults change nothing
    water: tuple | None = None  # (ppm, nH, extra line width Hz) of the water line; None keeps the drawn value
    shifts: list = _dc_field(default_factory=list)  # [(assignment, ppm, extra_lw_Hz or None)] move a data group
    rotamers: list = _dc_field(default_factory=list)  # [(assignment substring, minor fraction, delta ppm)]
    broad: list = _dc_field(default_factory=list)  # [(ppm, nH, line width Hz, label)] extra broad lines (humps)

    @property
    def expect_overall(self) -> str:
        parts = (self.expect_nmr, self.expect_ms)
        vs = [v for v in parts if v in VERDICT_ORDER]
        if not vs:
            return "error"  # nothing readable: an error result
        worst = max(vs, key=VERDICT_ORDER.index)
        if "error" in parts:
            # one unreadable part (a partial well): the other technique's verdict, at best suspicious, since
            # evidence that was supplied is lost; inconsistent stays inconsistent
            return "inconsistent" if worst == "inconsistent" else "suspicious"
        return worst


def seed_for(name: str, base_seed: int) -> int:
    return (zlib.crc32(name.encode()) ^ (base_seed * 2654435761)) & 0xFFFFFFFF


def _canon(smi: str) -> str:
    return Chem.MolToSmiles(Chem.MolFromSmiles(smi))


def _parent_smiles(smiles: str) -> str:
    """The free base of a salt (counter-ions stripped, the ammonium neutralised): what ESI+ ionises as
    [M+H]+ and what the column retains; a neutral single compound is returned as it is."""
    from ..structure.target import parent_target

    return parent_target(Chem.MolFromSmiles(smiles), "", smiles).smiles if "." in smiles or "+" in smiles else smiles


def compound_by_smiles(smiles: str, comps: dict[str, Compound] | None = None) -> Compound | None:
    """The compound of `comps` (default: the sample table) whose SMILES is `smiles` (canonical match)."""
    c = _canon(smiles)
    for comp in (compounds() if comps is None else comps).values():
        if _canon(comp.smiles) == c:
            return comp
    return None


def side_product(target: Compound, kind: str, comps: dict[str, Compound] | None = None):
    """The named side product of `kind` (verify.structure.side_products) and its 1H table if `comps`
    (default: the sample table) has one."""
    sps = side_products(Chem.MolFromSmiles(target.smiles))
    kinds = [kind] if kind != "starting_material" else ["starting_material", "dealkylation"]
    for k in kinds:
        for sp in sps:
            if sp.kind == k:
                return sp, compound_by_smiles(sp.smiles, comps)
    raise KeyError(f"no side product of kind {kind!r} for {target.key}")


def edit_groups(groups, shifts=(), rotamers=()) -> tuple[Group, ...]:
    """A compound's 1H groups with some moved and some doubled by rotamers.

    Parameters
    ----------
    groups : sequence of Group
    shifts : sequence of (assignment, ppm, extra_lw_Hz or None)
        The group whose assignment equals `assignment` goes to `ppm` (and gets that extra line width, Hz,
        unless None): an exchangeable N-H or O-H where concentration and water put it.
    rotamers : sequence of (assignment substring, minor fraction, delta ppm)
        Each group whose assignment contains the substring becomes two: the major rotamer's share at its
        own shift, the minor's (`minor fraction` of its H) `delta ppm` away (slow rotation of a carbamate
        or amide C-N bond on the NMR time scale).

    Returns
    -------
    tuple of Group
    """
    out = []
    for g in groups:
        for name, ppm, lw in shifts:
            if g.assignment == name:
                g = Group(float(ppm), g.mult, g.j_hz, g.n_h, g.extra_lw_hz if lw is None else float(lw), g.assignment)
        split = next((r for r in rotamers if r[0] in g.assignment), None)
        if split is None:
            out.append(g)
            continue
        _, minor, delta = split
        out.append(
            Group(g.ppm, g.mult, g.j_hz, g.n_h * (1.0 - minor), g.extra_lw_hz, g.assignment + " (major rotamer)")
        )
        out.append(
            Group(
                round(g.ppm + delta, 4), g.mult, g.j_hz, g.n_h * minor, g.extra_lw_hz, g.assignment + " (minor rotamer)"
            )
        )
    return tuple(out)


def generate_sample(
    d: SampleDef,
    outdir: str | Path,
    base_seed: int = 0,
    write_smi: bool = True,
    comps: dict[str, Compound] | None = None,
) -> dict:
    """Write one sample folder; return its manifest row (and truth).

    Parameters
    ----------
    d : SampleDef
    outdir : str or Path
        The sample folder (created).
    base_seed : int, default 0
    write_smi : bool, default True
        Write compound.smi (the target's SMILES and name).
    comps : dict of str to Compound, optional
        The 1H tables to draw the compounds and side products from (default: sample_spectra/compounds.tsv);
        benchmarks pass their own, merged with the sample table.
    """
    rng = np.random.default_rng(seed_for(d.name, base_seed))
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    comps = compounds() if comps is None else comps
    target = comps[d.target]
    data = comps[d.data or d.target]
    solvent = find_solvent(data.solvent)
    skey = solvent.key
    field_mhz = d.field or int(rng.choice([400, 500, 600], p=[0.5, 0.3, 0.2]))
    bf1 = nsim.FIELDS[field_mhz][0]
    tms = d.tms if d.tms is not None else bool(rng.random() < 0.8)

    # --- mixture: (compound table, mole fraction, role, name, smiles)
    mix = []
    frac_main = 1.0 - sum(f for _, f in d.side) - sum(f for _, f in d.extra)
    mix.append((data, frac_main, "target" if d.data is None else "wrong compound", data.key, data.smiles))
    for kind, f in d.side:
        sp, table = side_product(data, kind, comps)
        mix.append((table, f, "side product", sp.name, sp.smiles))
    for key, f in d.extra:
        mix.append((comps[key], f, "impurity", key, comps[key].smiles))

    # --- NMR
    lw = float(rng.uniform(0.5, 1.1))
    spec = nsim.NmrSpec(
        field=field_mhz,
        solvent=_ACQUS_SOLVENT.get(skey, "DMSO"),
        o1p=float(rng.choice([6.175, 6.0, 6.5, 4.7])),
        lw_hz=lw,
        gauss_hz=float(rng.uniform(0.2, 0.6)),
        p0_err=float(rng.uniform(-180, 180)),
        p1_err=float(rng.uniform(-40, 40)),
        grpdly=float(rng.choice([67.9842071533203, 67.9862518310547, 67.9855346679688])),
        fid_max=float(rng.uniform(1.5e6, 9e6)),
        baseline=(
            float(rng.uniform(-0.004, 0.004)),
            float(rng.uniform(-0.003, 0.003)),
            float(rng.uniform(-0.004, 0.004)),
        ),
        ns=int(rng.choice([8, 16, 16, 32])),
        rg=float(rng.choice([64.0, 90.5, 101.0, 128.0, 181.0])),
        title=d.name,
        date=1763000000 + int(rng.integers(0, 3_000_000)),
    )
    spec.snr = float(np.exp(rng.uniform(np.log(2500.0), np.log(60000.0))))
    be = rng.random() < 0.12
    spec.big_endian = be if d.big_endian is None else d.big_endian
    lines: list = []
    comps_out: list = []

    def add(groups, fraction, source, lw_extra=0.0, sat=True):
        ab = nsim.ab_patterns(groups, bf1)
        for i, g in enumerate(groups):
            if lw_extra:
                g = Group(g.ppm, g.mult, g.j_hz, g.n_h, g.extra_lw_hz + lw_extra, g.assignment)
            ls, c = nsim.group_lines(g, fraction, bf1, lw, source, satellites=sat, pattern=ab.get(i))
            lines.extend(ls)
            comps_out.append(c)

    for table, f, role, name, _ in mix:
        if table is None:
            raise KeyError(f"no 1H table for {name}")
        src = "target" if role == "target" else f"{role}:{name}"
        groups = table.groups
        if role in ("target", "wrong compound") and (d.shifts or d.rotamers):
            groups = edit_groups(groups, d.shifts, d.rotamers)
        add(groups, f, src)
    for name, eq in d.impurities:
        add(impurity_groups(name, skey), eq, f"impurity:{name}")
    # solvent residual, water, TMS
    if skey == "cdcl3":
        add(
            [Group(7.26, "s", (), float(np.exp(rng.uniform(np.log(0.05), np.log(0.8)))), 0.0, "CHCl3")],
            1.0,
            "solvent",
            sat=False,
        )
        add([_water(d.water, 1.56, float(rng.uniform(0.3, 1.4)), float(rng.uniform(1.5, 4.0)), "H2O")], 1.0, "water")
    elif skey == "d2o":
        # HOD is the residual line and the water at once: large (99.9 % D2O against ~30 mM, plus the salt's
        # exchanged N-H), 4.79 ppm at 25 degC
        add([_water(d.water, 4.79, float(rng.uniform(2.0, 8.0)), float(rng.uniform(1.5, 4.0)), "HOD")], 1.0, "water")
    else:
        # CHD2 of 99.8-99.9 % DMSO-d6 against a ~30 mM sample: a few H-equivalents
        add([Group(2.50, "quint", (1.9,), float(rng.uniform(0.5, 3.0)), 0.0, "DMSO-d5")], 1.0, "solvent", sat=False)
        add(
            [_water(d.water, 3.33, float(rng.uniform(1.0, 3.5)), float(rng.uniform(4.0, 12.0)), "HOD/H2O")],
            1.0,
            "water",
        )
    if tms:
        # TMS does not dissolve in D2O: TSP-d4 (its Si(CH3)3, 9H; the CD2 give no 1H line) is the reference there
        ref = (9, "TSP-d4 (TMS-like Si(CH3)3)") if skey == "d2o" else (12, "TMS")
        add([Group(0.0, "s", (), ref[0] * float(rng.uniform(0.04, 0.25)), 0.0, ref[1])], 1.0, "tms")
    # extra broad lines (probe-background humps, exchange-broadened lines): fixed, no random draw, so that a
    # definition without them keeps every other draw (and byte) of the sample
    for ppm, n_h, lw_hz, label in d.broad:
        add([Group(float(ppm), "s", (), float(n_h), float(lw_hz), label)], 1.0, "broad", sat=False)
    dic, raw, ntruth = nsim.simulate(spec, lines, rng)
    nsim.write_bruker(out / "nmr" / "1", dic, raw)

    # --- MS
    inst = d.instrument or (
        "orbitrap" if d.profile else ("tof" if d.saturate else str(rng.choice(["tof", "tof", "orbitrap"])))
    )
    mspec = msim.MsSpec(
        instrument=inst,
        run_s=d.run_s or 240.0,
        scan_s=float(rng.uniform(1.0, 1.1)),
        ppm_offset=float(rng.uniform(-2.0, 2.0)) if inst == "tof" else float(rng.uniform(-1.2, 1.2)),
        ppm_scatter=0.8 if inst == "tof" else 0.4,
        background_level=float(rng.uniform(3e4, 1.2e5)) * (1.0 if inst == "tof" else 20.0),
        profile=d.profile,
        resolution=30000.0 if inst == "tof" else 70000.0,
        threshold=150.0 if inst == "tof" else 3000.0,
        noise_peaks=int(rng.integers(25, 40)) if inst == "tof" else int(rng.integers(10, 20)),
        saturation=4.0e5 if d.saturate else None,
    )
    base_amount = float(rng.uniform(4e5, 3e6)) * (1.0 if inst == "tof" else 25.0)
    if d.saturate:
        base_amount = float(rng.uniform(3e6, 8e6))  # an overloaded injection
    species = []
    main_rt = msim.retention_time(Chem.MolFromSmiles(_parent_smiles(mix[0][4])), mspec.run_s)
    for _table, f, role, name, smi in mix:
        # ionisation efficiency differs between compounds; keep the side products' share near their mole fraction
        amt = base_amount * f * float(rng.uniform(0.7, 1.3))
        # the unrelated impurity co-elutes with the compound (within a few seconds); side products elute
        # where their polarity puts them
        rt = main_rt + float(rng.uniform(-2.0, 3.0)) if role == "impurity" else None
        sp = msim.species_for(name, _parent_smiles(smi), amt, rng, mspec.run_s, role=role, rt_s=rt)
        if role in ("target", "wrong compound") and d.ms_missing:
            continue
        species.append(sp)
    run = msim.simulate_run(mspec, species, rng)
    indexed = bool(rng.random() < 0.6)
    msim.write_mzml(out / "ms.mzML", run, d.name, indexed=indexed)

    if write_smi:
        (out / "compound.smi").write_text(f"{target.smiles} {NAMES.get(d.target, d.target)}\n")
    truth = {
        "sample": d.name,
        "target": {"key": target.key, "smiles": target.smiles},
        "data_compound": data.key,
        "failure": d.failure,
        "expected": {"nmr": d.expect_nmr, "ms": d.expect_ms, "overall": d.expect_overall},
        "note": d.note,
        "nmr": {
            "path": "nmr/1",
            "solvent": solvent.name,
            "field_mhz": field_mhz,
            "tms": tms,
            "processing": "fft -> remove_digital_filter(truncate=False, post_proc=True) -> rev -> ps(p0, p1); "
            "p0_truncated/p1_truncated for the default truncate=True",
            **{k: (round(v, 6) if isinstance(v, float) else v) for k, v in ntruth.items()},
            "p0_error_deg": round(spec.p0_err, 4),
            "p1_error_deg": round(spec.p1_err, 4),
            "linewidth_hz": round(lw, 4),
            "components": [
                {
                    "ppm": c.ppm,
                    "n_h": round(c.n_h, 5),
                    "mult": c.mult,
                    "j_hz": list(c.j_hz),
                    "source": c.source,
                    "assignment": c.assignment,
                    "span_hz": round(c.span_hz, 4),
                    "lw_hz": round(c.lw_hz, 4),
                    "satellites": [list(x) for x in c.satellites],
                    **({"lines": [list(x) for x in c.lines]} if c.lines else {}),
                }
                for c in comps_out
            ],
        },
        "ms": {"path": "ms.mzML", "compound_present": not d.ms_missing, "indexed": indexed, **run.truth},
    }
    (out / "truth.json").write_text(json.dumps(truth, indent=1, sort_keys=True) + "\n")
    return {
        "sample": d.name,
        "smiles": target.smiles,
        "solvent": solvent.name,
        "field_mhz": field_mhz,
        "failure": d.failure,
        "expected_nmr": d.expect_nmr,
        "expected_ms": d.expect_ms,
        "expected_overall": d.expect_overall,
        "note": d.note,
        "truth": truth,
    }


# SOLVENT as TopSpin writes it into acqus
_ACQUS_SOLVENT = {"cdcl3": "CDCl3", "dmso": "DMSO", "d2o": "D2O"}


def _water(override, ppm: float, n_h: float, lw_hz: float, label: str) -> Group:
    """The water line: drawn (`ppm`, `n_h`, `lw_hz`) unless `override` = (ppm, nH, extra lw Hz) sets some
    (None entries keep the drawn value). The draws happen either way, so the rest of the sample is unchanged."""
    vals = [ppm, n_h, lw_hz]
    for i, v in enumerate(override or ()):
        if v is not None:
            vals[i] = float(v)
    return Group(vals[0], "s", (), vals[1], vals[2], label)


def asdict_def(d: SampleDef) -> dict:
    return asdict(d)
