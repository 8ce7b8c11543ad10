"""The plate report opened in a real browser: headless Chromium through Selenium.

Checks that index.html renders with no failed resource and no JavaScript error, that every well of the
plate is on the overview (grid cell and summary row) and that a well's own page opens from it (section,
figures decoded), and saves a screenshot PNG (the test's
tmp dir, and a copy at /tmp/verify_plate_screenshot.png for a human to look at).

Chromium comes from the Debian packages `chromium` and `chromium-driver` (.ci/run installs them).
Without them the test fails when CI=true and skips with a reason otherwise.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
SCREENSHOT_COPY = Path("/tmp/verify_plate_screenshot.png")

pytestmark = pytest.mark.browser


def _need_browser():
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not os.access(p, os.X_OK)]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("python package selenium")
    if missing:
        msg = f"headless browser test needs {', '.join(missing)} (apt-get install chromium chromium-driver)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg)
        pytest.skip(msg)


@pytest.fixture
def driver(tmp_path):
    _need_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        "--window-size=1400,1000",
    ):
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    d = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    d.set_page_load_timeout(120)
    try:
        yield d
    finally:
        d.quit()


def _failed_requests(perf_log: list[dict], page_url: str) -> list[str]:
    """Failed loads and non-file requests made by the page (Chromium's own traffic is ignored)."""
    urls, doc_requests, out = {}, set(), []
    events = []
    for entry in perf_log:
        try:
            events.append(json.loads(entry["message"])["message"])
        except (KeyError, ValueError):
            continue
    for msg in events:
        p = msg.get("params", {})
        if msg.get("method") == "Network.requestWillBeSent":
            url = p.get("request", {}).get("url", "")
            urls[p.get("requestId")] = url
            # requests made by our page: its document, or anything it initiated
            if url == page_url or p.get("documentURL") == page_url:
                doc_requests.add(p.get("requestId"))
    for msg in events:
        p = msg.get("params", {})
        rid = p.get("requestId")
        if rid not in doc_requests:
            continue
        url = urls.get(rid, "")
        if msg.get("method") == "Network.loadingFailed":
            out.append(f"{url[:100]}: {p.get('errorText')}")
        elif msg.get("method") == "Network.responseReceived":
            status = int(p.get("response", {}).get("status") or 0)
            if status >= 400:
                out.append(f"{url[:100]}: HTTP {status}")
        elif msg.get("method") == "Network.requestWillBeSent" and not url.startswith(("file:", "data:")):
            out.append(f"network request from a report that must be self-contained: {url[:100]}")
    return out


def test_plate_report_in_chromium(driver, tmp_path, plate_report):
    index, wells = plate_report
    # the overview: grid, filter and one summary row per well; the figures live on the wells' pages
    assert index.stat().st_size < 2_000_000
    driver.get(index.as_uri())
    n_cells = driver.execute_script("return document.querySelectorAll('table.plate td[data-well]').length")
    rows = driver.execute_script("return Array.from(document.querySelectorAll('tr[data-row]')).map(r => r.dataset.row)")
    assert n_cells == len(wells)
    assert sorted(rows) == sorted(wells)
    assert driver.execute_script("return document.querySelectorAll('section.well').length") == 0
    # the verdict filter works (the page's only script)
    driver.execute_script("document.querySelector('.counts button[data-filter=\"consistent\"]').click()")
    shown = driver.execute_script(
        "return Array.from(document.querySelectorAll('tr[data-row]')).filter(r => r.offsetParent !== null)"
        ".map(r => r.getAttribute('data-verdict'))"
    )
    assert shown and set(shown) == {"consistent"}
    driver.execute_script("document.querySelector('.counts button[data-filter=\"consistent\"]').click()")
    logs = driver.get_log("browser")
    severe = [entry for entry in logs if entry.get("level") == "SEVERE"]
    assert severe == [], severe
    assert _failed_requests(driver.get_log("performance"), index.as_uri()) == []
    driver.execute_script("window.scrollTo(0, 0)")
    png = tmp_path / "verify_plate_screenshot.png"
    assert driver.save_screenshot(str(png))
    shutil.copyfile(png, SCREENSHOT_COPY)
    assert png.stat().st_size > 20_000

    # one well's page, reached by clicking its grid cell: its section, every figure decoded, links back
    first = sorted(wells)[0]
    driver.execute_script(f"document.querySelector('td[data-well=\"{first}\"] a').click()")
    assert driver.current_url.endswith(f"/wells/{first}.html")
    ids = driver.execute_script("return Array.from(document.querySelectorAll('section.well')).map(s => s.id)")
    assert ids == [f"well-{first}"]
    broken = driver.execute_script(
        "return Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.alt)"
    )
    assert broken == []
    assert driver.execute_script("return document.images.length") >= 1
    assert [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"] == []
    assert _failed_requests(driver.get_log("performance"), driver.current_url) == []
    png2 = tmp_path / "verify_well_screenshot.png"
    assert driver.save_screenshot(str(png2))
    shutil.copyfile(png2, SCREENSHOT_COPY.with_name("verify_well_screenshot.png"))
    driver.execute_script("document.querySelector('nav.wellnav a').click()")
    assert driver.current_url.endswith("/index.html")


def test_384_well_overview_is_small_and_paints_fast(driver, tmp_path):
    # the overview of a full 384-well plate: one stored result reused for every well (the overview shows the
    # verdicts, reasons and part badges only; each well's figures are on its own page)
    from test_report import _result

    from verify.report.html import plate_html

    data = json.loads(json.dumps(_result("suspicious").to_dict()))
    verdicts = ["consistent", "suspicious", "inconsistent", "error"]
    recs = [
        {
            "well": f"{r}{c}",
            "compound_id": f"VRF-{k:05d}",
            "smiles": "C",
            "verdict": verdicts[k % 4],
            "result": None if k % 4 == 3 else data,
            "error": "invalid SMILES" if k % 4 == 3 else None,
            "fragment": None,
        }
        for k, (r, c) in enumerate((r, c) for r in "ABCDEFGHIJKLMNOP" for c in range(1, 25))
    ]
    page = tmp_path / "index.html"
    page.write_text(
        plate_html({"name": "P384", "title": "P384", "rows": "ABCDEFGHIJKLMNOP", "cols": 24, "map": "p.csv"}, recs)
    )
    assert page.stat().st_size < 2_000_000
    driver.get(page.as_uri())
    assert driver.execute_script("return document.querySelectorAll('table.plate td[data-well]').length") == 384
    assert driver.execute_script("return document.querySelectorAll('tr[data-row]').length") == 384
    # the paint entry is recorded asynchronously after load: wait for it (its time is still measured from
    # navigation start, so waiting does not change what is asserted)
    from selenium.webdriver.support.ui import WebDriverWait

    paint = WebDriverWait(driver, 10, poll_frequency=0.1).until(
        lambda d: d.execute_script(
            "const p = performance.getEntriesByName('first-contentful-paint')[0]; return p ? p.startTime : null"
        )
    )
    assert paint < 1000, paint  # ms from navigation start
    assert [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"] == []


def test_compound_page_in_chromium(driver, tmp_path):
    from test_report import _result

    from verify.report.html import compound_html

    page = tmp_path / "c.html"
    page.write_text(compound_html(_result("suspicious")))
    driver.get(page.as_uri())
    assert driver.execute_script("return document.images.length") == 3
    assert driver.execute_script("return Array.from(document.images).every(i => i.naturalWidth > 0)")
    assert [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"] == []
    assert _failed_requests(driver.get_log("performance"), page.as_uri()) == []


@pytest.fixture
def plate_report(tmp_path_factory, tmp_path, monkeypatch):
    """(index.html, wells) of the real 96-well demo plate; a small fake plate when the demo plate
    generator is not available."""
    from test_plate import demo_report

    try:
        rep, _ = demo_report(tmp_path_factory)
    except pytest.skip.Exception:
        rep = None
    if rep is None:
        from test_plate import BENZYL, make_plate
        from test_report import fake_check_compound

        import verify.pipeline
        from verify.cli import main

        monkeypatch.setattr(verify.pipeline, "check_compound", fake_check_compound)
        m = make_plate(
            tmp_path / "fake",
            [
                ("A1", "VRF-1", BENZYL, "good", "good", ""),
                ("A2", "VRF-2", BENZYL, "suspicious", "good", ""),
                ("B5", "VRF-3", BENZYL, "missing", "absent", ""),
                ("H12", "VRF-4", "C1CC(", "good", "good", ""),
            ],
        )
        rep = tmp_path / "fake_report"
        assert main(["plate", str(m), "-o", str(rep), "--workers", "1", "-q"]) == 0
    data = json.loads((rep / "results.json").read_text())
    return rep / "index.html", [w["well"] for w in data["wells"]]


def _pdf_pages(html: Path, pdf: Path, profile: Path) -> int:
    """Pages of `html` printed to PDF by headless Chromium (its own print engine, A4 from the page's @page)."""
    import re
    import subprocess

    subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            f"--user-data-dir={profile}",
            f"--print-to-pdf={pdf}",
            "--no-pdf-header-footer",
            html.as_uri(),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=120,
        check=False,
    )
    assert pdf.is_file() and pdf.stat().st_size > 10_000
    return len(re.findall(rb"/Type\s*/Page[^s]", pdf.read_bytes()))


@pytest.mark.parametrize("sample,most_pages", [("boc_benzyl_diazepane", 1), ("fail_residual_solvents", 2)])
def test_compound_page_prints_on_one_or_two_a4_pages(tmp_path, sample, most_pages):
    # the print stylesheet: structure, verdict, findings, both figures and the observed tables on one A4 page for a
    # clean compound; a failure with 18 peaks and 7 findings runs onto a second page (screen shows much more)
    _need_browser()
    from verify.pipeline import check_compound
    from verify.report.html import compound_html

    d = Path(__file__).resolve().parents[2] / "sample_spectra" / sample
    page = tmp_path / "c.html"
    page.write_text(compound_html(check_compound(str(d / "compound.smi"), nmr=str(d / "nmr"), ms=str(d / "ms.mzML"))))
    n = _pdf_pages(page, tmp_path / "c.pdf", tmp_path / "chromium-print")
    assert 1 <= n <= most_pages, n


def test_format_pdf_prints_the_compound_page(tmp_path, capsys):
    _need_browser()
    import re

    from verify.cli import main

    d = Path(__file__).resolve().parents[2] / "sample_spectra" / "boc_benzyl_diazepane"
    out = tmp_path / "report.pdf"
    code = main(
        [
            str(d / "compound.smi"),
            "--nmr",
            str(d / "nmr"),
            "--ms",
            str(d / "ms.mzML"),
            "--format",
            "pdf",
            "-o",
            str(out),
        ]
    )
    assert code == 0 and out.read_bytes().startswith(b"%PDF-")
    assert len(re.findall(rb"/Type\s*/Page[^s]", out.read_bytes())) == 1
