"""The compound page as PDF, printed by headless Chromium from the HTML report and its print stylesheet.

A browser's print engine is what lays the page out (the stylesheet sets A4 and what a printed page keeps), so
the PDF is the page a chemist would print from the HTML, not a second layout to keep in step. Chromium is a
system program, found as `VERIFY_CHROMIUM` or on PATH (chromium, chromium-browser, google-chrome); without it
`--format pdf` is a usage error that says what to install.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..errors import OutputIOError, UsageError

_BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
PRINT_TIMEOUT_S = 120.0


def find_chromium() -> str | None:
    """Path of the Chromium/Chrome executable: `VERIFY_CHROMIUM` when set (None if it is not executable), else the
    first of chromium, chromium-browser, google-chrome, google-chrome-stable on PATH."""
    env = os.environ.get("VERIFY_CHROMIUM")
    if env:
        return env if os.access(env, os.X_OK) else None
    return next((p for p in map(shutil.which, _BROWSERS) if p), None)


def require_chromium() -> str:
    """The Chromium/Chrome executable, or UsageError (exit 64) naming what to install."""
    browser = find_chromium()
    if browser is None:
        raise UsageError(
            "--format pdf needs Chromium or Google Chrome (Debian/Ubuntu: apt-get install chromium; "
            "or set VERIFY_CHROMIUM); --format html gives the same page to print from a browser",
            "--format",
        )
    return browser


def html_to_pdf(html: str, output: str | None = None) -> bytes:
    """Print an HTML page to PDF with headless Chromium.

    Parameters
    ----------
    html : str
        A self-contained page (`verify.report.html.compound_html`).
    output : str, optional
        The file the PDF is meant for, named in errors.

    Returns
    -------
    bytes
        The PDF.

    Raises
    ------
    UsageError
        No Chromium/Chrome found (exit 64).
    OutputIOError
        Chromium ran but wrote no PDF, or did not finish in PRINT_TIMEOUT_S seconds (exit 74).
    """
    browser = require_chromium()
    with tempfile.TemporaryDirectory(prefix="verify-pdf-") as tmp:
        page, pdf = Path(tmp) / "report.html", Path(tmp) / "report.pdf"
        page.write_text(html, encoding="utf-8")
        cmd = [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-extensions",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={Path(tmp) / 'profile'}",
            f"--print-to-pdf={pdf}",
            "--no-pdf-header-footer",
            page.as_uri(),
        ]
        try:
            proc = subprocess.run(
                cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=PRINT_TIMEOUT_S, check=False
            )
        except subprocess.TimeoutExpired:
            raise OutputIOError(f"Chromium did not print the PDF within {PRINT_TIMEOUT_S:.0f} s", output) from None
        except OSError as exc:
            raise OutputIOError(f"Chromium could not be started ({exc.strerror or exc})", output) from None
        if not pdf.is_file() or pdf.stat().st_size == 0:
            last = (proc.stderr or b"").decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
            raise OutputIOError(f"Chromium wrote no PDF (exit {proc.returncode}) {last[0][:120]}".rstrip(), output)
        return pdf.read_bytes()
