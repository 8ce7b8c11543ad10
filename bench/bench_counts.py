"""Does the 1H check notice one H too many or too few? Scored on real spectra against near-miss analogues.

The H scale of a spectrum is fitted to all its integrals, so a target with one aromatic H more or less than
the compound in the tube can pass: the fit shares the error out below every region's tolerance. The
leave-one-out count check (`verify.nmr.integral_checks.leave_one_out_counts`, thresholds `integral_loo_min_h`,
`integral_loo_min_scale_h`) measures each region against the scale of the others instead. This bench runs
every real 1H data set of ../shared/realdata (MANIFEST kind nmr) and the good bundled samples against

* its own structure (a new warning there is a false alarm), and
* analogues that differ by one aromatic H: each aromatic halogen, OMe, OH, CH3 or NO2 replaced by H (the
  des-substituent compound, one ArH more than the data show), and each aromatic C-H made C-F (one ArH fewer;
  F changes the shifts least of all substituents);

with the leave-one-out check on and off (NmrThresholds replaced, nothing else changed), and prints how many
own structures stay consistent and how many analogues are caught (verdict not consistent) either way.

    python bench/bench_counts.py [--realdata PATH] [--max-analogues N] [--json FILE]
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import sys
import time
from pathlib import Path

from rdkit import Chem

ROOT = Path(__file__).resolve().parents[1]

# aromatic substituents whose removal leaves a plausible des-analogue (the atom bonded to the ring first)
_DES = [Chem.MolFromSmarts(s) for s in ("[F,Cl,Br,I]c", "[OX2]([CH3])c", "[OX2H]c", "[CH3]c", "[N+](=O)([O-])c")]


def analogues(smiles: str, limit: int) -> list[tuple[str, str]]:
    """(SMILES, what changed) of the one-aromatic-H analogues of `smiles`, distinct, at most `limit`."""
    mol = Chem.MolFromSmiles(smiles)
    if mol is None:
        return []
    own = Chem.MolToSmiles(mol)
    out: dict[str, str] = {}
    for patt in _DES:
        for match in mol.GetSubstructMatches(patt):
            rw = Chem.RWMol(mol)
            ring_c = match[-1]
            drop = [a for a in match if a != ring_c]
            for a in sorted(drop, reverse=True):
                rw.RemoveAtom(a)
            try:
                new = Chem.MolFromSmiles(Chem.MolToSmiles(rw))
            except Exception:  # noqa: BLE001 - an edit RDKit cannot sanitise: no analogue
                new = None
            if new is not None and Chem.MolToSmiles(new) != own and "." not in Chem.MolToSmiles(new):
                out.setdefault(Chem.MolToSmiles(new), f"des-{mol.GetAtomWithIdx(match[0]).GetSymbol()}")
    for atom in mol.GetAtoms():
        if atom.GetIsAromatic() and atom.GetSymbol() == "C" and atom.GetTotalNumHs() == 1:
            rw = Chem.RWMol(mol)
            f = rw.AddAtom(Chem.Atom(9))
            rw.AddBond(atom.GetIdx(), f, Chem.BondType.SINGLE)
            rw.GetAtomWithIdx(atom.GetIdx()).SetNumExplicitHs(0)
            try:
                new = Chem.MolFromSmiles(Chem.MolToSmiles(rw))
            except Exception:  # noqa: BLE001
                new = None
            if new is not None:
                out.setdefault(Chem.MolToSmiles(new), "+F")
    return list(out.items())[:limit]


def data_sets(realdata: Path) -> list[tuple[str, Path, str]]:
    """(label, path, SMILES) of the real 1H sets and the good bundled samples."""
    sets = []
    manifest = realdata / "MANIFEST.tsv"
    if manifest.is_file():
        with open(manifest, newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader((ln for ln in fh if not ln.startswith("#")), delimiter="\t"))
        sets += [(r["path"], realdata / r["path"], r["smiles"]) for r in rows if r["kind"] == "nmr"]
    samples = ROOT / "sample_spectra"
    with open(samples / "MANIFEST.tsv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader((ln for ln in fh if not ln.startswith("#")), delimiter="\t"))
    sets += [
        (f"sample {r['sample']}", samples / r["sample"] / "nmr", r["smiles"]) for r in rows if r["failure"] == "none"
    ]
    return sets


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--realdata", type=Path, default=ROOT.parent / "shared" / "realdata")
    ap.add_argument("--max-analogues", type=int, default=6, help="analogues per data set (default 6)")
    ap.add_argument("--json", type=Path, help="write every check's verdict and codes here")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(ROOT / "src"))
    from verify.errors import VerifyError
    from verify.nmr.check import _load, check_spectrum
    from verify.nmr.thresholds import NMR_THRESHOLDS
    from verify.structure.target import read_target

    variants = {
        "leave-one-out on": NMR_THRESHOLDS,
        "leave-one-out off": dataclasses.replace(NMR_THRESHOLDS, integral_loo_min_h=float("inf")),
    }
    records = []
    t0 = time.perf_counter()
    for label, path, smiles in data_sets(args.realdata):
        try:
            spectrum = _load(path, None)
        except VerifyError as exc:
            print(f"  skipped {label}: {exc}", file=sys.stderr)
            continue
        for kind, smi, what in [("own", smiles, "own")] + [
            ("analogue", s, w) for s, w in analogues(smiles, args.max_analogues)
        ]:
            try:
                target = read_target(smi)
            except VerifyError:
                continue
            for name, th in variants.items():
                res = check_spectrum(spectrum, target, None, th)
                records.append(
                    {
                        "set": label,
                        "kind": kind,
                        "smiles": smi,
                        "change": what,
                        "variant": name,
                        "verdict": res.verdict,
                        "codes": sorted({f.code for f in res.findings if f.severity != "info"}),
                    }
                )
    print(
        f"bench_counts: {len({r['set'] for r in records})} data sets, "
        f"{len({(r['set'], r['smiles']) for r in records if r['kind'] == 'analogue'})} analogues, "
        f"{time.perf_counter() - t0:.0f} s"
    )
    print(f"  {'variant':<20} {'own consistent':>16} {'analogues caught':>18}   caught by change")
    for name in variants:
        own = [r for r in records if r["variant"] == name and r["kind"] == "own"]
        ana = [r for r in records if r["variant"] == name and r["kind"] == "analogue"]
        ok = sum(r["verdict"] == "consistent" for r in own)
        caught = sum(r["verdict"] != "consistent" for r in ana)
        by = {}
        for r in ana:
            key = r["change"] if r["change"] == "+F" else "des-X"
            n, c = by.get(key, (0, 0))
            by[key] = (n + 1, c + (r["verdict"] != "consistent"))
        detail = ", ".join(f"{k} {c}/{n}" for k, (n, c) in sorted(by.items()))
        print(f"  {name:<20} {ok:>7}/{len(own):<8} {caught:>9}/{len(ana):<8}   {detail}")
    on = {(r["set"], r["smiles"]): r for r in records if r["variant"] == "leave-one-out on"}
    off = {(r["set"], r["smiles"]): r for r in records if r["variant"] == "leave-one-out off"}
    for k in on:
        if on[k]["verdict"] != off[k]["verdict"]:
            print(f"    changed: {k[0]} {on[k]['kind']} {k[1]}: {off[k]['verdict']} -> {on[k]['verdict']}")
    if args.json:
        args.json.write_text(json.dumps(records, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
