"""Reports: figures, tables, the per-compound HTML page and the plate CSV/JSON/HTML.

The fake NMR/HRMS results (tests/fakes.py) follow docs/INTERFACES.md (NmrResult, MsResult) so that the
presentation code is tested on its own.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from fakes import BOC_BENZYL, fake_ms, fake_nmr

from verify.expectation import build_expectation
from verify.pipeline import CompoundResult
from verify.structure.target import read_target


def _result(mode_nmr="good", mode_ms="good"):
    tgt = read_target(BOC_BENZYL)
    tgt.name = "Boc-benzyl diazepane"
    nres = fake_nmr(tgt, "x/fid", mode_nmr)
    mres = fake_ms(nres.expectation, "x.mzML", mode_ms)
    return CompoundResult(tgt, nres.expectation, nres, mres, [])


# --------------------------------------------------------------------------------------------- tests
def _svg_images(html: str) -> list[str]:
    import base64

    return [base64.b64decode(m).decode() for m in re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', html)]


def test_envelope_keeps_peak_heights():
    from verify.report.plots import envelope

    x = np.linspace(10, 0, 100_000)
    y = np.zeros_like(x)
    y[12345] = 5.0
    y[77777] = -2.0
    ex, ey = envelope(x, y, 500)
    assert len(ex) == 1000
    assert ey.max() == 5.0 and ey.min() == -2.0
    assert np.all(np.diff(ex) <= 0)  # stays in order


def test_nmr_plot_marks_windows_statuses_and_integrals():
    from verify.report.plots import STATUS_COLORS, nmr_spectrum_svg

    r = _result("suspicious")
    svg = nmr_spectrum_svg(r.nmr)
    assert svg.startswith("<svg")
    assert len(svg) < 150_000  # downsampled, not 64k points
    labels = re.findall(r">((?:G\d+/?)+) (\d+)H<", svg)  # window labels; identical windows share one
    assert sorted(g for lab, _ in labels for g in lab.split("/")) == sorted(g.group.id for g in r.nmr.groups)
    assert sum(int(n) for _, n in labels) == sum(g.group.n_h for g in r.nmr.groups)
    for st in ("consistent", "solvent", "impurity", "suspicious"):
        assert STATUS_COLORS[st] in svg  # every status drawn in its colour
    assert ">9.00<" in svg  # the Boc integral


def test_nmr_plot_tolerates_missing_spectrum():
    from verify.report.plots import nmr_spectrum_svg

    assert nmr_spectrum_svg(SimpleNamespace(spectrum=None, peaks=[], groups=[])) is None


def test_ms_panels():
    from verify.report.plots import ms_panels_svg

    r = _result()
    svg = ms_panels_svg(r.ms)
    assert "EIC [M+H]+" in svg and "Isotope pattern" in svg and "Spectrum at the apex" in svg
    assert "Boc not removed" in svg and "391.2591" in svg  # labels keep their decimals
    # parts may be missing
    svg2 = ms_panels_svg(
        SimpleNamespace(
            eic=None,
            apex_spectrum=None,
            isotope_comparison=[{"label": "M", "theoretical": 1.0, "observed": None}],
            ions=[],
            peaks=[],
        )
    )
    assert "no chromatographic peak" in svg2
    assert ms_panels_svg(SimpleNamespace(eic=None, apex_spectrum=None, isotope_comparison=[])) is None


def test_compound_html_is_self_contained_and_complete():
    from verify.report.html import compound_html

    r = _result("missing", "good")
    html = compound_html(r)
    assert html.startswith("<!DOCTYPE html>")
    # no network: no external URLs in src/href, no external scripts or stylesheets
    assert not re.search(r'(src|href)="(https?:)?//', html)
    assert "<link" not in html
    imgs = _svg_images(html)
    assert len(imgs) == 3  # structure, 1H spectrum, MS panels
    assert any("δ 1H (ppm)" in s for s in imgs)
    assert "C17H26N2O2" in html
    assert "Boc-benzyl diazepane" in html
    assert "expected" in html and "not found" in html  # finding in words
    assert "Observed peaks" in html and "Expected groups and integrals" in html
    assert "Expected ions" in html and "[M+H]+" in html
    assert "vd-inconsistent" in html


def test_compound_html_without_data_shows_expectation():
    from verify.pipeline import check_compound
    from verify.report.html import compound_html

    html = compound_html(check_compound(BOC_BENZYL))
    assert "no data" in html
    assert "Expected 1H groups" in html
    assert len(_svg_images(html)) == 1  # structure only


def test_cli_format_html(tmp_path):
    from verify.cli import main

    out = tmp_path / "c.html"
    assert main([BOC_BENZYL, "--format", "html", "-o", str(out)]) == 0
    assert "<svg" in _svg_images(out.read_text())[0]


def test_plot_failure_does_not_lose_the_report(monkeypatch):
    import verify.report.plots as plots
    from verify.report.html import compound_html

    def boom(*a, **k):
        raise ValueError("bad axis")

    monkeypatch.setattr(plots, "nmr_spectrum_svg", boom)
    html = compound_html(_result())
    assert "figure could not be drawn (ValueError: bad axis)" in html
    assert "Observed peaks" in html


def test_csv_row_and_reasons():
    from verify.report.tables import CSV_COLUMNS, csv_header, csv_row

    r = _result("suspicious")
    rec = {
        "well": "B3",
        "compound_id": "VRF-1",
        "smiles": BOC_BENZYL,
        "verdict": r.verdict,
        "result": json.loads(json.dumps(r.to_dict())),
        "extra": {"chemist": "AB", "verdict": "x"},
    }
    row = csv_row(rec, ["chemist", "verdict"])
    assert list(row) == csv_header(["chemist", "verdict"]) == CSV_COLUMNS + ["chemist", "map_verdict"]
    assert row["verdict"] == "suspicious" and row["nmr_verdict"] == "suspicious" and row["ms_verdict"] == "consistent"
    assert row["main_ion_ppm_error"] == "1.20" and row["ms_purity"] == "0.910"
    assert "unexplained singlet" in row["reasons"]
    assert row["chemist"] == "AB" and row["map_verdict"] == "x"
    err = csv_row(
        {
            "well": "C1",
            "compound_id": "X",
            "smiles": "C1CC",
            "verdict": "error",
            "error": "well C1: invalid SMILES 'C1CC'",
        },
        [],
    )
    assert err["verdict"] == "error" and "invalid SMILES" in err["reasons"] and err["nmr_verdict"] == ""


def test_plate_html_grid_counts_and_sections():
    from verify.report.html import compound_section, plate_html, well_file, well_page_html

    r = _result()
    d = json.loads(json.dumps(r.to_dict()))
    recs = [
        {
            "well": "A1",
            "compound_id": "VRF-1",
            "smiles": BOC_BENZYL,
            "verdict": "consistent",
            "result": d,
            "fragment": compound_section(r, well="A1", compound_id="VRF-1", data=d),
        },
        {
            "well": "H12",
            "compound_id": "VRF-2",
            "smiles": "C1C",
            "verdict": "error",
            "error": "invalid SMILES",
            "result": None,
            "fragment": None,
        },
    ]
    html = plate_html({"name": "P1", "rows": "ABCDEFGH", "cols": 12, "map": "p.csv"}, recs)
    assert html.count('<td class="empty"') == 94
    assert 'data-well="A1" data-verdict="consistent"' in html and 'data-well="H12" data-verdict="error"' in html
    assert 'href="wells/A1.html"' in html and 'href="wells/H12.html"' in html and "<section" not in html
    assert re.search(r'data-filter="consistent" data-count="1"', html)
    assert re.search(r'data-filter="error" data-count="1"', html)
    assert "invalid SMILES" in html
    meta = {"name": "P1", "title": "Plate P1"}
    a1 = well_page_html(meta, recs[0], None, "H12")
    assert 'id="well-A1"' in a1 and 'href="../wells/H12.html"' in a1 and 'href="../index.html"' in a1
    assert "<title>A1 VRF-1 · Plate P1</title>" in a1 and "<img" in a1
    h12 = well_page_html(meta, recs[1], "A1", None)
    assert 'id="well-H12"' in h12 and "invalid SMILES" in h12 and 'href="../wells/A1.html"' in h12
    assert well_file("A1") == "wells/A1.html" and well_file("../x y") == "wells/___x_y.html"


def test_text_findings_name_the_technique_that_raised_them():
    from verify.report.text import render_text

    data = _result("missing", "good").to_dict()
    text = render_text(data)
    block = text.split("\nVerdict: ", 1)[1].split("\n\n", 1)[0].splitlines()[1:]  # the findings, wrapped
    after = []
    for ln in block:  # a continuation line of a wrapped finding is indented further
        if ln.startswith("  ["):
            after.append(ln)
        else:
            assert ln.startswith("      ") and after, ln
            after[-1] += " " + ln.strip()
    assert len(after) == len(data["findings"]) and data["findings"]
    assert any(f["code"].startswith("nmr.") and f["severity"] != "info" for f in data["findings"])
    for ln, f in zip(after, data["findings"]):
        assert ln.startswith(f"  [{f['severity']}] ")
        assert ("] 1H NMR: " in ln) == f["code"].startswith("nmr.") and ("] HRMS: " in ln) == f["code"].startswith(
            "ms."
        )


# ------------------------------------------------------------------------------------ readable figures
def _peak(ppm, half=0.02, status="consistent", integral=1.0):
    return SimpleNamespace(ppm=ppm, lo=ppm - half, hi=ppm + half, status=status, integral=integral)


def test_expansion_regions_follow_the_signals():
    from verify.report.plots import expansion_regions

    peaks = [_peak(7.32), _peak(7.25), _peak(7.21), _peak(3.61), _peak(3.46, 0.12), _peak(0.0, status="solvent")]
    regions = expansion_regions(peaks)
    assert len(regions) == 2  # aromatic; benzylic CH2 + ring CH2 (touching); no region for TMS alone
    (alo, ahi), (blo, bhi) = regions  # high shift first, as in the spectrum
    assert alo < 7.19 and ahi > 7.34 and ahi - alo < 0.5
    assert blo < 3.34 and bhi > 3.63 and bhi < 7
    # a small quintet 0.3 ppm from a 9H singlet keeps an expansion of its own: each is scaled to its tallest line
    split = expansion_regions([_peak(1.81, 0.07), _peak(1.46)], heights=[0.05, 1.0])
    together = expansion_regions([_peak(1.81, 0.07), _peak(1.46)], heights=[0.8, 1.0])
    assert len(split) == 2 and len(together) == 1
    # never more than NMR_MAX_EXPANSIONS, however scattered the signals
    assert len(expansion_regions([_peak(x) for x in np.arange(0.5, 10, 0.6)])) <= 6


def test_spread_labels_never_overlap():
    from verify.report.plots import label_rows, spread_labels

    rng = np.random.default_rng(3)
    for _ in range(50):
        n = int(rng.integers(1, 12))
        c = list(rng.uniform(0, 200, n))
        w = list(rng.uniform(10, 30, n))
        pos = spread_labels(c, w, 0.0, 400.0, gap=2.0)
        spans = sorted((p - wi / 2, p + wi / 2) for p, wi in zip(pos, w))
        assert all(a[1] + 2.0 - 1e-6 <= b[0] for a, b in zip(spans, spans[1:]))
        assert spans[0][0] >= -1e-6 and spans[-1][1] <= 400 + 1e-6
        # order kept: leader lines do not cross
        assert [k for k in np.argsort(pos)] == [k for k in np.argsort(c, kind="stable")] or len(set(c)) < n
    pos, rows = label_rows([10.0] * 8, [30.0] * 8, 0.0, 120.0, max_rows=3)
    assert max(rows) == 2  # 8 labels of 32 pt do not fit in one 120 pt row


def _nmr_info(r):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from verify.report.plots import nmr_figure

    fig, info = nmr_figure(r.nmr)
    FigureCanvasAgg(fig).draw()  # the real text extents
    return fig, info


def test_nmr_expansions_each_scaled_to_its_own_tallest_line():
    r = _result("good")
    fig, info = _nmr_info(r)
    exps = info["expansions"]
    ranges = [(e["lo"], e["hi"]) for e in exps]
    assert any(lo < 7.3 < hi for lo, hi in ranges), ranges  # aromatic
    assert any(lo < 1.5 < hi for lo, hi in ranges), ranges  # Boc
    assert not any(lo < 0.0 < hi for lo, hi in ranges)  # TMS alone gets none
    spec = r.nmr.spectrum
    for e in exps:
        inside = [p for p in r.nmr.peaks if p.status != "solvent" and e["lo"] <= p.ppm <= e["hi"]]
        assert inside
        m = (spec.ppm >= min(p.lo for p in inside)) & (spec.ppm <= max(p.hi for p in inside))
        assert e["top"] == pytest.approx(float(spec.intensity[m].max()), rel=1e-6)
        y0, y1 = e["ax"].get_ylim()
        assert y1 == pytest.approx(1.42 * e["top"])  # the axis follows the panel's own line
    tops = sorted(e["top"] for e in exps)
    assert tops[-1] > 3 * tops[0]  # the aromatic expansion is not squashed by the Boc singlet


def test_nmr_integral_labels_do_not_overlap():
    r = _result("suspicious")
    # crowd the aromatic region: seven more integrated multiplets within 0.25 ppm
    for k in range(7):
        r.nmr.peaks.append(
            SimpleNamespace(
                ppm=7.12 + 0.035 * k,
                lo=7.11 + 0.035 * k,
                hi=7.13 + 0.035 * k,
                multiplicity="m",
                j_hz=[],
                integral=1.0 + k / 10,
                status="impurity",
                assignment="",
                note="",
            )
        )
    fig, info = _nmr_info(r)
    labels = info["integral_labels"]
    integrated = [p for p in r.nmr.peaks if p.status != "solvent"]
    assert len(labels) == len(integrated)
    from matplotlib.text import Text

    renderer = fig.canvas.get_renderer()
    # the label's own box (an Annotation's extent would include its leader line)
    boxes = [Text.get_window_extent(t, renderer) for t in labels]
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            a, b = boxes[i], boxes[j]
            assert not a.overlaps(b), (labels[i].get_text(), labels[j].get_text())
    wboxes = [Text.get_window_extent(t, renderer) for t in info["window_labels"]]
    for i in range(len(wboxes)):
        for j in range(i + 1, len(wboxes)):
            assert not wboxes[i].overlaps(wboxes[j])


def _sample_ms(name):
    from conftest import SAMPLES

    from verify.ms.check import check_ms

    d = SAMPLES / name
    if not (d / "ms.mzML").is_file():
        pytest.skip(f"{d}/ms.mzML absent")
    exp = build_expectation(read_target((d / "compound.smi").read_text().split()[0]), "CDCl3")
    return check_ms(d / "ms.mzML", exp)


def test_chromatogram_marks_the_target_and_the_side_product():
    from verify.report.plots import STATUS_COLORS, ms_figure, ms_panels_svg

    ms = _sample_ms("fail_boc_not_removed")  # benzyl diazepane at ~1.07 min, 30 % Boc-protected at ~2.05 min
    fig, info = ms_figure(ms)
    marks = info["marks"]
    target = [m for m in marks if m["status"] == "consistent"]
    side = [m for m in marks if m["status"] == "impurity"]
    assert len(target) == 1 and "target [M+H]+" in target[0]["text"]
    assert target[0]["rt_min"] == pytest.approx(ms.rt_s / 60, abs=0.02)
    assert side and "Boc not removed" in side[0]["text"] and side[0]["rt_min"] > target[0]["rt_min"] + 0.5
    svg = ms_panels_svg(ms)
    assert "Boc not removed" in svg and "retention time (min)" in svg and STATUS_COLORS["impurity"] in svg
    assert re.search(r"\d\.\d\d min", svg)


def test_target_absent_shows_the_main_peak_spectrum():
    from verify.report.html import compound_section
    from verify.report.plots import ms_panels_svg

    ms = _sample_ms("fail_missing_in_lcms")
    assert ms.main_ion is None and ms.apex_spectrum is not None
    assert ms.spectrum_of.startswith("main peak m/z")
    svg = ms_panels_svg(ms)
    assert "Spectrum of the main peak" in svg and "the target is not detected" in svg
    assert "unexplained m/z" in svg  # the run's peaks are marked on the chromatogram
    tgt = read_target(
        (Path(__file__).parents[2] / "sample_spectra/fail_missing_in_lcms/compound.smi").read_text().split()[0]
    )
    html = compound_section(CompoundResult(tgt, ms.expectation, None, ms, []))
    assert "nothing to plot" not in html and len(_svg_images(html)) == 2


def test_retention_times_read_in_minutes():
    from verify.report.html import compound_section
    from verify.report.text import render_text

    ms = _sample_ms("fail_starting_material")
    msgs = [f.message for f in ms.findings]
    assert any(re.search(r"at \d+\.\d\d min", m) for m in msgs), msgs
    assert not any(re.search(r"\d s\b", m) for m in msgs), msgs  # no seconds left in what people read
    tgt = read_target(BOC_BENZYL)
    res = CompoundResult(tgt, ms.expectation, None, ms, [])
    text = render_text(res.to_dict())
    assert "RT min" in text and "retention time: 2." in text and "rt_s" not in text
    html = compound_section(res)
    assert "RT (min)" in html and not re.search(r"\d s\b", re.sub(r"<[^>]+>", " ", html))
