"""The `verify` command.

    verify TARGET [--nmr PATH] [--ms PATH] [--solvent NAME] [--format text|json|html] [-o FILE]
                  [--timeout S] [--max-memory SIZE]
    verify plate MAP [--nmr-dir D] [--ms-dir D] [-o REPORT_DIR] [--workers N]

Exit codes: 0 consistent, 1 suspicious, 2 inconsistent, 64 usage, 65 unreadable/corrupt input,
66 missing input, 70 the check crashed (a native library), 73 output cannot be created (read-only or
missing folder, no permission), 74 output write failed (disk full, I/O error), 75 stopped by --timeout or
--max-memory. Errors are one line on stderr; never a traceback.

The check runs in a forked child under the limits (`verify.limits.run_limited`): only another process can
stop native code that holds the GIL. This process parses the command line and writes the report.
"""

from __future__ import annotations

import argparse
import sys

from . import __version__
from .errors import EXIT_DATAERR, VERDICT_EXIT, UsageError, UsageErrorParser, VerifyError
from .limits import CheckCrashed, LimitExceeded, add_limit_options, check_limit_options, run_limited
from .ms.thresholds import THRESHOLDS as MS_THRESHOLDS


def build_parser() -> argparse.ArgumentParser:
    from .solvents import all_solvents

    p = UsageErrorParser(
        prog="verify",
        description="Check that 1H NMR and HRMS data support an intended structure.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n"
        "  verify compound.smi --nmr run/1 --ms run.mzML        text report, verdict in the exit code\n"
        "  verify 'CC(C)(C)OC(=O)N1CCCNCC1' --nmr run/1 --format json -o result.json\n"
        "  verify compound.smi                                  expectation only (verdict: unchecked)\n\n"
        "solvents (--solvent, or the file's own): " + ", ".join(sv.name for sv in all_solvents()) + "\n\n"
        "exit codes: 0 consistent (or unchecked: no data), 1 suspicious, 2 inconsistent, 64 usage error,\n"
        "  65 unreadable or corrupt input, 66 input not found, 73 output cannot be created,\n"
        "  70 the check crashed (a native library), 74 output write failed (disk full),\n"
        "  75 stopped by --timeout or --max-memory (a larger limit may pass)\n"
        "plates: verify plate MAP --help",
    )
    p.add_argument("target", metavar="TARGET", help="structure: .smi/.smiles, .mol/.sdf, or a literal SMILES")
    p.add_argument(
        "--nmr",
        metavar="PATH",
        help="raw 1H FID: Bruker folder or fid, Varian .fid folder, JCAMP-DX, JEOL .jdf, Magritek Spinsolve/Kea folder",
    )
    p.add_argument(
        "--ms", metavar="PATH", help="LC-MS or infusion run as mzML or mzXML (.mzML, .mzML.gz, .mzXML, .mzXML.gz)"
    )
    p.add_argument("--solvent", metavar="NAME", help="NMR solvent (overrides the file's; default CDCl3 without NMR)")
    p.add_argument(
        "--ppm",
        type=float,
        default=MS_THRESHOLDS.ppm,
        help=f"HRMS m/z tolerance in ppm (default {MS_THRESHOLDS.ppm:g})",
    )
    p.add_argument(
        "--format",
        choices=("text", "json", "html", "pdf"),
        default="text",
        help="text (default), json, html, or pdf (the HTML page printed by headless Chromium, A4)",
    )
    p.add_argument("-o", "--output", metavar="FILE", help="write the report here instead of stdout")
    p.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="text: also print what the structure predicts (ions, 1H groups, ring windows)",
    )
    add_limit_options(p, "the check")
    p.add_argument("--version", action="version", version=f"verify {__version__}")
    return p


def _write(text: str | bytes, output: str | None) -> None:
    """The report to `output` (atomically: a reader never sees half a file) or to stdout (bytes: a PDF)."""
    if output:
        from .report.atomic import write_atomic

        write_atomic(output, text, "output")
    else:
        try:
            if isinstance(text, bytes):
                sys.stdout.flush()
                sys.stdout.buffer.write(text)
                sys.stdout.buffer.flush()
            else:
                sys.stdout.write(text)
                sys.stdout.flush()
        except BrokenPipeError:  # `verify ... | head`: the reader has gone; not an error of ours
            pass
        except OSError as exc:
            from .report.atomic import output_error

            raise output_error(exc, "<stdout>", "output") from None


def run(argv: list[str]) -> int:
    if argv and argv[0] == "plate":
        from .plate.cli import run_plate

        return run_plate(argv[1:])
    args = build_parser().parse_args(argv)
    if args.ppm <= 0:
        raise UsageError("--ppm must be positive", "--ppm")
    check_limit_options(args)
    if args.format == "pdf":
        from .report.pdf import require_chromium

        require_chromium()  # before the check, not after it: a missing printer is a usage error
    try:
        text, verdict = run_limited(
            lambda: _check_and_render(args), args.timeout, args.max_memory, prepare=_import_pipeline
        )
    except (LimitExceeded, CheckCrashed) as exc:  # raised by the limit, which does not know the input's name
        raise exc.__class__(exc.message, args.target) from None
    if args.format == "pdf":
        # printed here, outside the limited child: Chromium maps far more address space than --max-memory allows
        from .report.pdf import html_to_pdf

        text = html_to_pdf(text, args.output)
    _write(text, args.output)  # here, not in the child: a write error is reported as for any run
    return VERDICT_EXIT[verdict]


def _import_pipeline() -> None:
    # imported before the memory limit is set: the program's own libraries are not the check's memory
    import verify.pipeline  # noqa: F401


def _check_and_render(args) -> tuple[str, str]:
    """Check the target against its data and render the report: (text, verdict). Runs in the limited
    child, drawing included (RDKit's depiction is native code that can stall too)."""
    from .pipeline import check_compound

    result = check_compound(args.target, nmr=args.nmr, ms=args.ms, solvent=args.solvent, ppm=args.ppm)
    data = result.to_dict()
    if args.format == "json":
        from .report.safe import json_text

        return json_text(data), result.verdict
    if args.format in ("html", "pdf"):
        from .report.html import compound_html

        return compound_html(result), result.verdict
    from .report.text import render_text

    return render_text(data, verbose=args.verbose), result.verdict


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        code = run(argv)
    except VerifyError as exc:
        print(f"verify: error: {exc}", file=sys.stderr)
        code = exc.exit_code
    except SystemExit as exc:  # --help / --version
        code = exc.code if isinstance(exc.code, int) else 0
    except KeyboardInterrupt:
        print("verify: interrupted", file=sys.stderr)
        code = 130
    except MemoryError:
        print("verify: error: out of memory reading the input", file=sys.stderr)
        code = EXIT_DATAERR
    except Exception as exc:  # a bug or an unforeseen corrupt input: still one line, no traceback
        print(f"verify: error: unexpected {exc.__class__.__name__}: {exc}", file=sys.stderr)
        code = EXIT_DATAERR
    try:
        sys.stdout.flush()
    except OSError:  # stdout closed or a broken pipe: the exit code still tells
        pass
    return code


if __name__ == "__main__":
    sys.exit(main())
