"""Seeded mutation fuzzing of every reader and of the target parser, one subprocess per case.

    python bench/fuzz.py --cases 5000 [--seed N] [--kinds bruker,mzml,...] [--timeout 60] [--workers 2]

Each case starts from a genuine input (the bundled samples in sample_spectra/, files written from them here, and,
where no sample exists for a format, a copy of a file from ../shared/realdata, which is only read), damages it with
one seeded mutation (bit flips, truncation, deleted or repeated lines, a header value replaced by 0, -1, inf, nan,
a huge number or bytes that are not UTF-8, a gzip bomb, long or exotic SMILES, plate maps with bad rows) and runs
`verify.cli.main` on it in a child process (forked from a server that has the libraries imported already, so a case
costs its own work only, not Python's start-up). The child has an address-space limit (--memory-mb, default 2048);
it is killed after --timeout seconds. Every case is classed:

  accepted    exit 0/1/2 (a verdict), nothing on stderr
  clean       a documented error exit (64, 65, 66, 73, 74) with one line "verify: error: ..." on stderr
  unexpected  the catch-all's message ("unexpected ..."), an exit code the README does not document, or a
              reader's own catch-all passing a Python error through ("... (KeyError: 127)", "truth value of an
              array ... is ambiguous"): a bug met on the way, not a statement about the file
  crash       a traceback on stderr, or the child died of a signal
  hang        still running after --timeout s (killed)
  memory      "out of memory" or a peak RSS at the limit
  noisy       a verdict or a clean error, but with more on stderr (library warnings, RDKit log lines)

It prints a table of counts per input kind and class and, for each non-good class, the first few cases with a
command that reproduces them (the damaged inputs of those cases are kept under --workdir).

The tests (tests/test_fuzz_properties.py) use the same seeds and mutations through `build_seed` and `MUTATIONS`.
"""

from __future__ import annotations

import argparse
import collections
import gzip
import json
import math
import multiprocessing
import os
import random
import re
import shutil
import struct
import sys
import tempfile
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_spectra"
REALDATA = Path(os.environ.get("VERIFY_REALDATA") or ROOT.parent / "shared" / "realdata")

CLASSES = ("accepted", "clean", "unexpected", "crash", "hang", "memory", "noisy")
GOOD = ("accepted", "clean")
DOCUMENTED_ERRORS = (64, 65, 66, 73, 74)  # README's exit-code table; 0/1/2 are verdicts
VERDICTS = (0, 1, 2)

# ----------------------------------------------------------------------------- seeds


@dataclass
class Seed:
    """A genuine input of one kind: its files (relative path -> bytes), the command line and what may be damaged.

    `argv` holds "{dir}" where the case folder goes; `mutable` lists the files (or "@target" for a literal SMILES
    on the command line) the mutations pick from, with the flavour of text each is ("jcamp", "procpar", "par",
    "xml", "csv", "mol", "smiles", or "binary").
    """

    kind: str
    files: dict[str, bytes]
    argv: list[str]
    mutable: dict[str, str]
    literal: str = ""  # a literal SMILES target (kind "smiles")


def _sample_dirs() -> list[Path]:
    return sorted(p for p in SAMPLES.iterdir() if (p / "compound.smi").is_file())


def _tree(folder: Path, prefix: str) -> dict[str, bytes]:
    return {f"{prefix}/{p.relative_to(folder)}": p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _smiles_of(sample: Path) -> str:
    return sample.joinpath("compound.smi").read_text().split()[0]


def _bruker(sample: Path) -> Seed:
    files = _tree(sample / "nmr" / "1", "nmr/1")
    files["compound.smi"] = (sample / "compound.smi").read_bytes()
    return Seed(
        "bruker",
        files,
        ["{dir}/compound.smi", "--nmr", "{dir}/nmr/1"],
        {"nmr/1/acqus": "jcamp", "nmr/1/acqu": "jcamp", "nmr/1/fid": "binary", "nmr/1/pdata/1/procs": "jcamp"},
    )


def _realdata_seed(kind: str, rel: str, smiles: str, flavours: dict[str, str]) -> Seed | None:
    """A seed from a real file or folder (copied into the case folder, never into the project); None when absent."""
    src = REALDATA / rel
    if not src.exists():
        return None
    name = src.name
    files = _tree(src, name) if src.is_dir() else {name: src.read_bytes()}
    files["compound.smi"] = f"{smiles} real\n".encode()
    mutable = {f"{name}/{k}" if src.is_dir() else name: v for k, v in flavours.items()}
    return Seed(kind, files, ["{dir}/compound.smi", "--nmr", "{dir}/" + name], mutable)


def _spinsolve(sample: Path) -> Seed:
    sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "nmr")]
    from test_nmr_read_formats import MTBE, _write_spinsolve  # the tests' Prospa writer, so both agree

    with tempfile.TemporaryDirectory() as tmp:
        d = _write_spinsolve(Path(tmp) / "spinsolve", MTBE, n=8192)
        files = _tree(d, "spinsolve")
    files["compound.smi"] = b"COC(C)(C)C MTBE\n"
    return Seed(
        "magritek",
        files,
        ["{dir}/compound.smi", "--nmr", "{dir}/spinsolve"],
        {"spinsolve/acqu.par": "par", "spinsolve/data.1d": "binary"},
    )


def _ms(sample: Path, kind: str) -> Seed:
    raw = (sample / "ms.mzML").read_bytes()
    smi = (sample / "compound.smi").read_bytes()
    if kind == "mzml":
        return Seed(
            kind,
            {"compound.smi": smi, "run.mzML": raw},
            ["{dir}/compound.smi", "--ms", "{dir}/run.mzML"],
            {"run.mzML": "xml"},
        )
    if kind == "mzml.gz":
        return Seed(
            kind,
            {"compound.smi": smi, "run.mzML.gz": gzip.compress(raw, 6, mtime=0)},
            ["{dir}/compound.smi", "--ms", "{dir}/run.mzML.gz"],
            {"run.mzML.gz": "gzip"},
        )
    sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "ms")]
    from test_ms_mzxml import _mzml_to_mzxml  # the tests' converter, so both agree

    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "run.mzML"
        src.write_bytes(raw)
        dst = _mzml_to_mzxml(src, Path(tmp) / "run.mzXML")
        data = dst.read_bytes()
    return Seed(
        "mzxml",
        {"compound.smi": smi, "run.mzXML": data},
        ["{dir}/compound.smi", "--ms", "{dir}/run.mzXML"],
        {"run.mzXML": "xml"},
    )


def _target(sample: Path, kind: str) -> Seed:
    from rdkit import Chem
    from rdkit.Chem import AllChem

    smiles = _smiles_of(sample)
    if kind == "smiles":
        return Seed(kind, {}, ["{target}"], {"@target": "smiles"}, literal=smiles)
    if kind == "smi":
        return Seed(
            kind,
            {"compound.smi": (sample / "compound.smi").read_bytes()},
            ["{dir}/compound.smi"],
            {"compound.smi": "smiles"},
        )
    mol = Chem.MolFromSmiles(smiles)
    AllChem.Compute2DCoords(mol)
    mol.SetProp("_Name", sample.name)
    block = Chem.MolToMolBlock(mol)
    if kind == "mol":
        return Seed(kind, {"compound.mol": block.encode()}, ["{dir}/compound.mol"], {"compound.mol": "mol"})
    return Seed(
        kind,
        {"compound.sdf": (block + "> <id>\n" + sample.name + "\n\n$$$$\n").encode()},
        ["{dir}/compound.sdf"],
        {"compound.sdf": "mol"},
    )


def _plate(sample: Path) -> Seed:
    smi = _smiles_of(sample)
    rows = [
        "well,compound_id,smiles,ms,solvent",
        f"A1,{sample.name},{smi},run.mzML,CDCl3",
        "A2,ethanol,CCO,,",
        "B1,boc,CC(C)(C)OC(=O)N1CCCNCC1,,DMSO-d6",
    ]
    return Seed(
        "plate",
        {"plate.csv": ("\n".join(rows) + "\n").encode(), "run.mzML": (sample / "ms.mzML").read_bytes()},
        ["plate", "{dir}/plate.csv", "-o", "{dir}/report", "--workers", "1", "--quiet"],
        {"plate.csv": "csv"},
    )


# kind -> builder(sample folder) -> Seed or None (None: the kind's real-data seed is absent here)
KINDS = {
    "smiles": lambda s: _target(s, "smiles"),
    "smi": lambda s: _target(s, "smi"),
    "mol": lambda s: _target(s, "mol"),
    "sdf": lambda s: _target(s, "sdf"),
    "bruker": _bruker,
    "varian": lambda s: _realdata_seed(
        "varian",
        "nmr/1-methylhistidine_varian/HMDB00001.fid",
        "CN1C=NC=C1CC(N)C(=O)O",
        {"PROCPAR": "procpar", "FID": "binary"},
    ),
    "jcamp": lambda s: _realdata_seed(
        "jcamp", "nmr/ibuprofen_nanalysis60/1h.jdx", "CC(C)Cc1ccc(cc1)C(C)C(=O)O", {"": "jcamp"}
    ),
    "jcamp-topspin": lambda s: _realdata_seed(
        "jcamp-topspin", "nmr/coumarin/1h.fid.dx", "O=C1C=Cc2ccccc2O1", {"": "jcamp"}
    ),
    "jeol": lambda s: _realdata_seed("jeol", "nmr/chloroform_jeol/50percCHCL3.jdf", "ClC(Cl)Cl", {"": "binary"}),
    "kea": lambda s: _realdata_seed(
        "kea", "nmr/toluene_tempone_kea/42", "Cc1ccccc1", {"acqu.par": "par", "data.1d": "binary"}
    ),
    "magritek": _spinsolve,
    "mzml": lambda s: _ms(s, "mzml"),
    "mzml.gz": lambda s: _ms(s, "mzml.gz"),
    "mzxml": lambda s: _ms(s, "mzxml"),
    "plate": _plate,
}


def build_seed(kind: str, sample: Path | None = None) -> Seed | None:
    """The genuine input of `kind`, from `sample` (default: the first bundled sample); None when unavailable.

    For a real-data kind the file path `""` in `mutable` is rewritten to the file's own name.
    """
    seed = KINDS[kind](sample or _sample_dirs()[0])
    if seed is not None and "" in seed.mutable:
        name = next(k for k in seed.files if k != "compound.smi")
        seed.mutable = {name: seed.mutable[""]}
    elif seed is not None:
        seed.mutable = {k: v for k, v in seed.mutable.items() if k == "@target" or k in seed.files}
    return seed


def materialise(
    seed: Seed, folder: Path, files: dict[str, bytes] | None = None, literal: str | None = None
) -> list[str]:
    """Write the (damaged) files of a case into `folder`; the command line for verify.cli.main."""
    for rel, data in (files or seed.files).items():
        p = folder / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    target = seed.literal if literal is None else literal
    return [a.replace("{dir}", str(folder)).replace("{target}", target) for a in seed.argv]


# ----------------------------------------------------------------------------- mutations
# Each mutation takes the bytes of one file (or the SMILES text) and `rng` (random.Random, or the tests'
# Hypothesis-driven stand-in with the same randrange/choice/random methods) and returns the damaged bytes.

BAD_NUMBERS = [
    "0",
    "-1",
    "inf",
    "-inf",
    "nan",
    "NaN",
    "1e308",
    "1e999",
    "-1e308",
    "99999999999999999999999",
    "2147483648",
    "-2147483649",
    "1e-320",
    "",
    " ",
    "abc",
    "0x10",
    "1,5",
]
BAD_BYTES = [b"\xff\xfe", b"\x80\x81\x82", b"\xc3\x28", b"\x00", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80"]
PACKED = [struct.pack(f, v) for f in ("<d", ">d") for v in (math.nan, math.inf, -math.inf, 1e308, -1.0, 0.0)] + [
    struct.pack(f, v) for f in ("<i", ">i", "<q", ">q") for v in (-1, 0, 2**31 - 1, -(2**31))
]

# a "key = value" line of each flavour of parameter text: group 1 the key part, group 2 the value
_VALUE_LINES = {
    "jcamp": re.compile(rb"^(##\$?[^=\n]*=[ \t]*)([^\n]*)$", re.M),
    "par": re.compile(rb"^([ \t]*\w+[ \t]*=[ \t]*)([^\n]*)$", re.M),
    "procpar": re.compile(rb"^(1 )([^\n]*)$", re.M),  # a procpar value line: count, then the value
    "xml": re.compile(rb'(\s[\w:]+=")([^"]*)(?=")'),
    "csv": re.compile(rb"^()([^\n]*)$", re.M),
    "mol": re.compile(rb"^()([^\n]*)$", re.M),
    "smiles": re.compile(rb"^()([^\n]*)$", re.M),
}


def flip_bits(data: bytes, rng) -> bytes:
    if not data:
        return data
    b = bytearray(data)
    for _ in range(1 + rng.randrange(8)):
        i = rng.randrange(len(b))
        b[i] ^= 1 << rng.randrange(8)
    return bytes(b)


def truncate(data: bytes, rng) -> bytes:
    return data[: rng.randrange(len(data) + 1)] if data else data


def _lines(data: bytes) -> list[bytes]:
    return data.split(b"\n")


def delete_lines(data: bytes, rng) -> bytes:
    lines = _lines(data)
    i = rng.randrange(len(lines))
    del lines[i : i + 1 + rng.randrange(4)]
    return b"\n".join(lines)


def duplicate_lines(data: bytes, rng) -> bytes:
    lines = _lines(data)
    i = rng.randrange(len(lines))
    lines[i:i] = lines[i : i + 1 + rng.randrange(3)] * rng.choice([1, 2, 10, 1000])
    return b"\n".join(lines)


def bad_header_value(data: bytes, rng, flavour: str = "jcamp") -> bytes:
    """One `key = value` of the header replaced by 0, -1, inf, nan, a huge number, text or non-UTF-8 bytes."""
    hits = list(_VALUE_LINES.get(flavour, _VALUE_LINES["jcamp"]).finditer(data))
    if not hits:
        return flip_bits(data, rng)
    m = rng.choice(hits)
    new = rng.choice(BAD_NUMBERS).encode() if rng.random() < 0.85 else rng.choice(BAD_BYTES)
    return data[: m.start(2)] + new + data[m.end(2) :]


def non_utf8(data: bytes, rng) -> bytes:
    i = rng.randrange(len(data) + 1)
    return data[:i] + rng.choice(BAD_BYTES) + data[i:]


def packed_numbers(data: bytes, rng) -> bytes:
    """A binary header or data word overwritten by a packed nan, inf, -1, 2^31-1 (either byte order)."""
    if len(data) < 8:
        return data + rng.choice(PACKED)
    # headers sit at the start of binary files: aim there half of the time
    span = min(len(data), 4096) if rng.random() < 0.5 else len(data)
    i = rng.randrange(span - 7) if span > 8 else 0
    w = rng.choice(PACKED)
    return data[:i] + w + data[i + len(w) :]


def gzip_bomb(data: bytes, rng) -> bytes:
    """A gzip stream that expands far beyond its size: zeros or spaces in a comment, a text node or a tag."""
    text = gzip.decompress(data)
    cut = text.find(b"<spectrum ") if rng.random() < 0.7 else text.find(b"<binary>") + len(b"<binary>")
    cut = max(cut, 0)
    filler, size = rng.choice([(b"\0", 1), (b" ", 1), (b"A", 1), (b"<!--", 0)]), rng.choice([300, 1100, 3000])
    comp = zlib.compressobj(1, zlib.DEFLATED, 31)
    out = [comp.compress(text[:cut])]
    if filler[0] == b"<!--":
        out.append(comp.compress(b"<!--"))
        filler = (b"\0", 1)
    block = filler[0] * (1 << 20)
    for _ in range(size):  # MB
        out.append(comp.compress(block))
    out.append(comp.compress(text[cut:]))
    out.append(comp.flush())
    return b"".join(out)


def gzip_inner(data: bytes, rng) -> bytes:
    """A damage to the mzML inside the gzip stream (the XML mutations), re-compressed."""
    inner = gzip.decompress(data)
    op = rng.choice([flip_bits, truncate, delete_lines, duplicate_lines, xml_value])
    return gzip.compress(op(inner, rng), 1, mtime=0)


def xml_value(data: bytes, rng) -> bytes:
    return bad_header_value(data, rng, "xml")


def xml_deep(data: bytes, rng) -> bytes:
    """Deep nesting or many elements inserted before the first spectrum (libxml2's own limits must hold)."""
    i = max(data.find(b"<spectrum "), data.find(b"<scan "), 0)
    n = rng.choice([300, 5000, 100000])
    junk = b"<a>" * n + b"</a>" * n if rng.random() < 0.5 else b"<cvParam/>" * n
    return data[:i] + junk + data[i:]


def binary_garbage(data: bytes, rng) -> bytes:
    """The first base64 payload replaced by text that is not base64, or by base64 of a wrong length."""
    m = list(re.finditer(rb"<(binary|peaks[^>]*)>([^<]*)<", data))
    if not m:
        return flip_bits(data, rng)
    m = rng.choice(m)
    new = rng.choice([b"!!!!", b"AAAA" * 3, b"=", b"", b"QUJD", b"\xff" * 8, b"A" * 1001])
    return data[: m.start(2)] + new + data[m.end(2) :]


# SMILES damage: what a chemist might paste, and what would bring a parser or a depiction to its knees
SMILES_ATOMS = [
    "C",
    "N",
    "O",
    "c",
    "n",
    "[nH]",
    "Cl",
    "Br",
    "F",
    "S",
    "P",
    "[Na+]",
    "[Xx]",
    "[Og]",
    "[Uue]",
    "*",
    "[2H]",
    "[999C]",
    "[C+99]",
    "[CH9]",
    "[C@@H]",
    "%99",
    "1",
    "=",
    "#",
    "(",
    ")",
    ".",
    "/",
    "\\",
    "$",
]


def smiles_edit(text: bytes, rng) -> bytes:
    s = list(text.decode("utf-8", "replace"))
    for _ in range(1 + rng.randrange(3)):
        op, i = rng.randrange(3), rng.randrange(len(s) + 1)
        if op == 0:
            s.insert(i, rng.choice(SMILES_ATOMS))
        elif op == 1 and s:
            del s[min(i, len(s) - 1)]
        elif s:
            j = rng.randrange(len(s))
            s[min(i, len(s) - 1)], s[j] = s[j], s[min(i, len(s) - 1)]
    return "".join(s).encode()


def smiles_exotic(text: bytes, rng) -> bytes:
    """Long chains, macrocycles, many fragments, deep branches, unknown elements, huge charges."""
    n = rng.choice([30, 40, 60, 200, 1000, 5000])
    choices = [
        "C" * n,  # a long literal chain
        "C1" + "C" * n + "1",  # a macrocycle
        "C1" + "c2ccccc2" * (n // 20 + 1) + "C1",
        ".".join(["CC"] * (n // 5 + 2)),  # many fragments
        "C" + "(C" * min(n, 2000) + ")" * min(n, 2000),  # deep branches
        "[Xx]CC",
        "[Og]CC",
        "C[Uue]",
        "[C+99]",
        "[999C]CC",
        "C" * 10 + "[CH5]",
        "c1ccccc1" * (n // 6 + 1),
        text.decode("utf-8", "replace") + "." + "[Na+]" * 50,
        "\u00a0" + text.decode("utf-8", "replace"),
        "C1CC",
        "c1cccc1",
        "",
        " ",
        "\t#",
        "C\x00C",
    ]
    return rng.choice(choices).encode()


def csv_bad_row(data: bytes, rng) -> bytes:
    """A plate-map row with a bad well, a duplicate well, a missing or extra cell, a path to a device."""
    lines = _lines(data.rstrip(b"\n"))
    i = 1 + rng.randrange(max(1, len(lines) - 1))
    bad = rng.choice(
        [
            b"Z99,x,CCO,,",
            b"A1,dup,CCO,,",
            b"A3",
            b"A4,id,C1CC,,",
            b",,,,",
            b"A5,id,CCO,/dev/zero,",
            b"A6,id,CCO,../../../etc/passwd,",
            b"A7,id,CCO,missing.mzML,",
            b'A8,"open quote,CCO,,',
            b"A9,id," + b"C" * 5000 + b",,",
            b"A10,id,CCO,,nosuchsolvent",
            b"P24,id,CCO,,",
            b"\xef\xbb\xbfA11,id,CCO,,",
            b"A12,=HYPERLINK(1),CCO,,",
            b"A1 ,id,[Og],,",
            b"a01,id,CCO,,",
        ]
    )
    lines.insert(i, bad)
    return b"\n".join(lines) + b"\n"


def csv_header(data: bytes, rng) -> bytes:
    lines = _lines(data)
    lines[0] = rng.choice(
        [
            b"",
            b"well",
            b"well,well,smiles",
            b"compound_id,smiles",
            b"WELL;ID;SMILES",
            b"\xff\xfe" + lines[0],
            b"well,compound_id,smiles,ms,solvent," * 100,
        ]
    )
    return b"\n".join(lines)


def mol_counts(data: bytes, rng) -> bytes:
    """The molfile counts line or an atom line given absurd numbers or an unknown element."""
    lines = _lines(data)
    if len(lines) > 4 and rng.random() < 0.5:
        lines[3] = rng.choice(
            [
                b"999999  0  0  0  0  0  0  0  0  0999 V2000",
                b" -1 -1  0  0  0  0  0  0  0  0999 V2000",
                b"  3  2  0  0  0  0  0  0  0  0999 V3000",
                b"nan",
            ]
        )
    elif len(lines) > 5:
        i = 4 + rng.randrange(3)
        lines[i] = rng.choice(
            [
                b"       nan       inf    0.0000 C   0  0",
                b"    0.0000    0.0000    0.0000 Xx  0  0",
                b"    0.0000    0.0000    0.0000 Og  0  0",
                b"1e308 1e308 1e308 C 0 0",
            ]
        )
    return b"\n".join(lines)


# flavour -> the mutations that fit it
MUTATIONS = {
    "jcamp": [flip_bits, truncate, delete_lines, duplicate_lines, bad_header_value, bad_header_value, non_utf8],
    "par": [flip_bits, truncate, delete_lines, duplicate_lines, lambda d, r: bad_header_value(d, r, "par"), non_utf8],
    "procpar": [
        flip_bits,
        truncate,
        delete_lines,
        duplicate_lines,
        lambda d, r: bad_header_value(d, r, "procpar"),
        non_utf8,
    ],
    "binary": [flip_bits, truncate, packed_numbers, packed_numbers, non_utf8],
    "xml": [
        flip_bits,
        truncate,
        delete_lines,
        duplicate_lines,
        xml_value,
        xml_value,
        non_utf8,
        xml_deep,
        binary_garbage,
    ],
    "gzip": [flip_bits, truncate, gzip_inner, gzip_inner, gzip_bomb],
    "csv": [truncate, delete_lines, duplicate_lines, csv_bad_row, csv_bad_row, csv_header, non_utf8],
    "mol": [flip_bits, truncate, delete_lines, duplicate_lines, mol_counts, mol_counts, non_utf8],
    "smiles": [smiles_edit, smiles_edit, smiles_exotic, smiles_exotic, truncate, non_utf8],
}


def mutate(seed: Seed, rng) -> tuple[dict[str, bytes], str, str]:
    """One damage to one mutable file of `seed`: (files, literal SMILES, what was done)."""
    target = rng.choice(sorted(seed.mutable))
    flavour = seed.mutable[target]
    op = rng.choice(MUTATIONS[flavour])
    name = getattr(op, "__name__", "op")
    name = "bad_header_value" if name == "<lambda>" else name
    files = dict(seed.files)
    literal = seed.literal
    if target == "@target":
        literal = op(literal.encode(), rng).decode("utf-8", "replace")
    else:
        files[target] = op(files[target], rng)
    return files, literal, f"{name}({target})"


# ----------------------------------------------------------------------------- running one case


# Python's words for a bug rather than for a damaged file: a message that carries them comes from a reader's
# `except Exception` around code that met the damage unprepared (the file's problem was never named)
LEAKED_BUG = re.compile(
    r"\b(TypeError|KeyError|IndexError|AttributeError|NameError|AssertionError|ZeroDivisionError|"
    r"UnboundLocalError|RecursionError|OverflowError|struct\.error|UnicodeEncodeError|UnicodeDecodeError)\b|"
    r"truth value of an array|codec can't (en|de)code|object has no attribute|unsupported operand|"
    r"not subscriptable|index out of range|unpack_from requires|invalid literal for int|could not convert|"
    r"buffer size must be a multiple|can't multiply sequence|cannot reshape|object is not iterable"
)


def classify(code: int | None, err: str, rss_mb: float, mem_mb: int, hung: bool) -> str:
    """The class of one run from its exit code (negative: killed by a signal), stderr and peak RSS."""
    lines = [ln for ln in err.splitlines() if ln.strip()]
    if hung:
        return "hang"
    if "out of memory" in err or "MemoryError" in err or rss_mb >= 0.95 * mem_mb:
        return "memory"
    if "Traceback (most recent call last)" in err or code is None or code < 0:
        return "crash"
    if "unexpected" in err.lower() or code not in VERDICTS + DOCUMENTED_ERRORS or LEAKED_BUG.search(err):
        return "unexpected"
    if code in VERDICTS:
        return "accepted" if not lines else "noisy"
    if len(lines) == 1 and lines[0].startswith("verify: error: "):
        return "clean"
    return "noisy"


def _child(argv: list[str], folder: str, mem_mb: int) -> None:
    """Run one case in this (forked) process: stdout/stderr to files, an address-space cap, exit with main's code."""
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (mem_mb << 20, mem_mb << 20))
    out = os.open(os.path.join(folder, "stdout"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    err = os.open(os.path.join(folder, "stderr"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    os.dup2(out, 1)
    os.dup2(err, 2)
    os.chdir(folder)
    from verify.cli import main

    code = main(argv)
    sys.stdout.flush()
    sys.stderr.flush()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    with open(os.path.join(folder, "rss"), "w") as fh:
        fh.write(f"{rss:.0f}")
    os._exit(code)


def run_case(ctx, argv: list[str], folder: Path, timeout: float, mem_mb: int) -> dict:
    t0 = time.monotonic()
    p = ctx.Process(target=_child, args=(argv, str(folder), mem_mb))
    p.start()
    p.join(timeout)
    hung = p.is_alive()
    if hung:
        p.kill()
        p.join()
    err = (folder / "stderr").read_text(errors="replace") if (folder / "stderr").exists() else ""
    rss = float((folder / "rss").read_text() or 0) if (folder / "rss").exists() else 0.0
    code = None if hung else p.exitcode
    return {
        "code": code,
        "stderr": err,
        "rss_mb": rss,
        "seconds": time.monotonic() - t0,
        "class": classify(code, err, rss, mem_mb, hung),
    }


def _repro(argv: list[str]) -> str:
    import shlex

    return "VERIFY_SHIFT_MODEL=rules PYTHONPATH=src python -m verify " + " ".join(shlex.quote(a) for a in argv)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", type=int, default=600)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--kinds", default=",".join(KINDS), help="comma-separated, from: " + ", ".join(KINDS))
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds before a case counts as a hang")
    ap.add_argument("--memory-mb", type=int, default=2048, help="address-space limit of each case")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--workdir", default=None, help="where cases run (default: a temporary folder)")
    ap.add_argument("--examples", type=int, default=4, help="cases listed per non-good class and kind")
    ap.add_argument("--jsonl", default=None, help="also write one JSON line per case here")
    ap.add_argument(
        "--case",
        type=int,
        action="append",
        default=None,
        help="only this case number (repeatable): rebuild its inputs, run it and keep its folder",
    )
    ap.add_argument(
        "--learned-model",
        action="store_true",
        help="keep the learned shift model (slow: its load per case); default: the rule windows",
    )
    args = ap.parse_args(argv)

    if not args.learned_model:
        os.environ["VERIFY_SHIFT_MODEL"] = "rules"  # the model is not what is fuzzed; its 3 s load per case is
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # two workers share two cores
    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    unknown = sorted(set(kinds) - set(KINDS))
    if unknown:
        ap.error(f"unknown kinds: {', '.join(unknown)}")
    samples = _sample_dirs()
    seeds: dict[str, list[Seed]] = {}
    for k in kinds:
        pool = [
            build_seed(k, s)
            for s in (samples[:3] if k in ("smiles", "smi", "mol", "sdf", "bruker", "mzml") else samples[:1])
        ]
        pool = [s for s in pool if s is not None]
        if pool:
            seeds[k] = pool
        else:
            print(f"fuzz: no seed for {k} here (real data absent); skipped", file=sys.stderr)
    kinds = [k for k in kinds if k in seeds]
    work = Path(args.workdir or tempfile.mkdtemp(prefix="verify-fuzz-"))
    work.mkdir(parents=True, exist_ok=True)

    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(
        [
            "verify.cli",
            "verify.pipeline",
            "verify.nmr.process",
            "verify.ms.read",
            "verify.plate.cli",
            "verify.report.html",
            "nmrglue",
            "scipy.signal",
            "pyteomics.mzml",
        ]
    )

    def one(i: int) -> dict:
        rng = random.Random(f"{args.seed}:{i}")
        kind = kinds[i % len(kinds)]
        seed = rng.choice(seeds[kind])
        files, literal, what = mutate(seed, rng)
        folder = work / f"case{i:05d}"
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir()
        cmd = materialise(seed, folder, files, literal)
        res = run_case(ctx, cmd, folder, args.timeout, args.memory_mb)
        res.update(case=i, kind=kind, mutation=what, argv=cmd, folder=str(folder))
        if res["class"] in GOOD and not args.case:
            shutil.rmtree(folder, ignore_errors=True)
        return res

    t0 = time.monotonic()
    results = []
    log = open(args.jsonl, "w") if args.jsonl else None
    with ThreadPoolExecutor(args.workers) as pool:
        for n, res in enumerate(pool.map(one, args.case or range(args.cases)), 1):
            results.append(res)
            if log:
                log.write(json.dumps({k: v for k, v in res.items()}) + "\n")
                log.flush()
            if n % 100 == 0:
                print(f"fuzz: {n}/{args.cases} cases, {time.monotonic() - t0:.0f} s", file=sys.stderr, flush=True)
    if log:
        log.close()
    report(results, args.examples, time.monotonic() - t0)
    if args.case:
        for r in results:
            print(
                f"case {r['case']} {r['kind']} {r['mutation']}: {r['class']}, exit {r['code']}, in {r['folder']}\n"
                f"{r['stderr'].strip()}"
            )
    return 0


def report(results: list[dict], n_examples: int, seconds: float) -> None:
    """The counts per kind and class, then the first cases of each non-good class with how to reproduce them."""
    counts = collections.Counter((r["kind"], r["class"]) for r in results)
    kinds = sorted({r["kind"] for r in results}, key=list(KINDS).index)
    print(f"{len(results)} cases in {seconds:.0f} s")
    head = f"{'kind':<14}" + "".join(f"{c:>11}" for c in CLASSES) + f"{'total':>8}"
    print(head)
    for k in kinds:
        row = [counts[(k, c)] for c in CLASSES]
        print(f"{k:<14}" + "".join(f"{n:>11}" for n in row) + f"{sum(row):>8}")
    total = [sum(counts[(k, c)] for k in kinds) for c in CLASSES]
    print(f"{'all':<14}" + "".join(f"{n:>11}" for n in total) + f"{sum(total):>8}")
    for c in CLASSES[2:]:
        bad = [r for r in results if r["class"] == c]
        if not bad:
            continue
        print(f"\n{c}: {len(bad)}")
        shown = collections.Counter()
        for r in bad:
            if shown[r["kind"]] >= n_examples:
                continue
            shown[r["kind"]] += 1
            msg = (r["stderr"].strip().splitlines() or [""])[-1][:200]
            print(
                f"  case {r['case']} {r['kind']} {r['mutation']} exit={r['code']} {r['seconds']:.1f}s "
                f"rss={r['rss_mb']:.0f}MB: {msg}"
            )
            print(f"    cd {ROOT} && {_repro(r['argv'])}")


if __name__ == "__main__":
    sys.exit(main())
