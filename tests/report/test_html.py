"""The HTML page: one self-contained file, Indian figures, deterministic, written atomically."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import polars as pl
import pytest

from imsdata.report import Report, build_report, write_html
from imsdata.report.html import MAX_HTML_ROWS, render_html
from imsdata.testing import RECIPIENT, complete, ims_frame

AT = dt.datetime(2025, 12, 1, 9, 30, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def page(report: Report) -> str:
    """The tiny month's page, rendered once (the plotly bundle makes it ~5 MB)."""
    return render_html(report, generated_at=AT)


def test_page_is_self_contained_with_the_plotly_bundle_once(page: str) -> None:
    # no external script, stylesheet, image or font
    assert not re.search(r"<(script|img|iframe)[^>]+src=", page)
    assert "<link" not in page
    # the plotly.js bundle is inlined exactly once, and every chart is drawn with it
    assert page.count("plotly.js v") == 1
    bundle = re.search(r"<script[^>]*>[^<]*plotly\.js v.*?</script>", page, re.S)
    assert bundle is not None
    assert len(bundle.group(0)) > 1_000_000
    # outside the library (whose defaults name map-tile servers it never calls here) the page
    # points nowhere
    rest = page.replace(bundle.group(0), "")
    assert re.findall(r"https?://(?!www\.w3\.org)", rest) == []
    assert page.count('class="plotly-graph-div"') == 5


def test_title_names_gstin_and_period(page: str) -> None:
    title = re.search(r"<title>(.*?)</title>", page).group(1)
    assert RECIPIENT in title
    assert "November 2025" in title
    assert "(112025)" in page


def test_figures_are_in_indian_format(page: str) -> None:
    assert "4,50,000.00" in page  # R-7 IGST
    assert "29,50,000.00" in page  # R-7 document value
    assert "-180.00" in page  # deemed-accepted credit note
    assert "₹4.68 L" in page  # ITC available tile
    assert "450,000.00" not in page


def test_sections_in_reading_order(page: str) -> None:
    order = [
        "itc_summary", "itc_at_risk", "gstr3b_table4", "reconciliation", "top_mismatch",
        "top_pending", "pending_ageing", "by_section_action", "changes", "at_risk_documents",
    ]  # fmt: skip
    positions = [page.index(f'<section id="{k}">') for k in order]
    assert positions == sorted(positions)


def test_page_explains_at_risk_and_table4(page: str) -> None:
    assert "within 30 days of 05-12-2025" in page
    assert "for a monthly filer (GSTR-3B due 20-12-2025 for 112025)" in page
    assert "4(A)(5)" in page
    assert "4(B)(2)" in page
    assert "@media print" in page


def test_same_report_same_bytes_apart_from_timestamp(report: Report, tmp_path: Path) -> None:
    a = write_html(report, tmp_path / "a.html", generated_at=AT).read_bytes()
    b = write_html(report, tmp_path / "b.html", generated_at=AT).read_bytes()
    assert a == b
    c = render_html(report, generated_at=AT + dt.timedelta(hours=1))
    assert c != a.decode()
    assert c.replace("10:30:00", "09:30:00") == a.decode()


def test_write_is_atomic_and_leaves_no_temp_files(report: Report, tmp_path: Path) -> None:
    out = tmp_path / "deep" / "report.html"
    write_html(report, out)
    assert [p.name for p in out.parent.iterdir()] == ["report.html"]
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_long_detail_tables_are_cut_with_a_pointer_to_excel() -> None:
    n = MAX_HTML_ROWS + 5
    ims = ims_frame([{"doc_number": f"M-{i:03d}"} for i in range(n)])
    from imsdata.schemas import MATCH_COLUMNS

    matches = complete(
        pl.DataFrame({"doc_key": ims["doc_key"], "match_status": ["mismatch"] * n}),
        MATCH_COLUMNS,
    )
    rep = build_report(ims, matches, None, gstin=RECIPIENT, period="112025")
    page = render_html(rep, generated_at=AT)
    assert f"Showing the first {MAX_HTML_ROWS} of {n} rows" in page


def test_text_is_escaped(month) -> None:
    ims = month["ims"].with_columns(supplier_name=pl.lit("<script>alert(1)</script> & Co"))
    rep = build_report(ims, month["matches"], month["decisions"], gstin=RECIPIENT,
                       period="112025")  # fmt: skip
    page = render_html(rep, generated_at=AT)
    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in page


def test_figures_for_notebooks_match_the_tables(report: Report) -> None:
    from imsdata.report import figures

    figs = figures(report)
    assert list(figs) == [
        "itc_summary", "reconciliation", "top_mismatch", "top_pending", "pending_ageing",
    ]  # fmt: skip
    itc = figs["itc_summary"].data[0]
    assert list(itc.x) == ["Accepted", "Deemed accepted (no action)", "Pending", "Rejected"]
    assert list(itc.y) == [468000.0, -180.0, 900.0, 126.0]
    ticks = figs["itc_summary"].layout.yaxis.ticktext
    assert all(t.startswith(("₹", "-₹")) for t in ticks)
    assert any(t.endswith(" L") for t in ticks)  # lakh, not 400k
