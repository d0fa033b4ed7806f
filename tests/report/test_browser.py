"""The HTML report in a real headless Chromium (Debian's), offline: no script errors, charts
drawn, key figures shown, a screenshot that is not blank."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import struct
import zlib
from pathlib import Path

import pytest

from imsdata.report import Report, write_html

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _chromium() -> str:
    """The browser to drive; fail in CI (it must be installed there), else skip."""
    found = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail(f"{CHROMIUM} is not installed, and CI must have it (.ci/run installs it)")
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium); browser test skipped")


def _png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """Decode an 8-bit RGB/RGBA, non-interlaced PNG into rows of raw pixel bytes."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width = 8, b"", 0
    height = channels = 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8
            assert interlace == 0
            channels = {2: 3, 6: 4}[colour]
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    rows: list[bytes] = []
    prev = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        ftype, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            b = prev[i]
            c = prev[i - channels] if i >= channels else 0
            if ftype == 1:
                line[i] = (line[i] + a) & 0xFF
            elif ftype == 2:
                line[i] = (line[i] + b) & 0xFF
            elif ftype == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pred) & 0xFF
        rows.append(bytes(line))
        prev = line
    return width, channels, rows


def _colours(png: bytes) -> int:
    """Number of distinct colours in the screenshot (every 4th pixel of every 4th row)."""
    width, channels, rows = _png_pixels(png)
    seen = set()
    for row in rows[::4]:
        for x in range(0, width, 4):
            seen.add(row[x * channels : x * channels + 3])
    return len(seen)


@pytest.fixture
def page_file(report: Report, tmp_path: Path) -> Path:
    """The tiny month's report on disk."""
    at = dt.datetime(2025, 12, 1, 9, 30, tzinfo=dt.UTC)
    return write_html(report, tmp_path / "report.html", generated_at=at)


def test_report_renders_offline_in_chromium(page_file: Path, tmp_path: Path) -> None:
    executable = _chromium()
    sync_api = pytest.importorskip("playwright.sync_api")
    errors: list[str] = []
    blocked: list[str] = []

    def route(r) -> None:  # type: ignore[no-untyped-def]
        if r.request.url.startswith("file://"):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
            page.on(
                "console",
                lambda msg: errors.append(f"console: {msg.text}") if msg.type == "error" else None,
            )
            page.route("**/*", route)
            page.goto(page_file.as_uri(), wait_until="load")
            page.wait_for_selector(".js-plotly-plot .main-svg", timeout=20_000)

            assert errors == []
            assert blocked == []  # the page asked for nothing beyond its own file
            assert "24AAQCA8719H1ZC" in page.title()

            charts = page.locator(".js-plotly-plot")
            assert charts.count() == 5
            for i in range(charts.count()):
                box = charts.nth(i).locator("svg.main-svg").first.bounding_box()
                assert box is not None
                assert box["width"] > 200
                assert box["height"] > 150
                assert charts.nth(i).locator("g.point, path.point").count() >= 1

            kpis = page.locator("#kpis").inner_text()
            assert "₹4.68 L" in kpis  # ITC available
            assert "₹4,51,080.00" in kpis  # ITC at risk
            body = page.locator("main").inner_text()
            assert "4,50,000.00" in body
            assert "Rathi Steel" in body

            shot = tmp_path / "report.png"
            full = page.screenshot(path=str(shot), full_page=True)
            top = page.screenshot(clip={"x": 0, "y": 0, "width": 1280, "height": 700})
            chart = charts.first.screenshot()
            page.set_content("<html><body style='background:#fff'></body></html>")
            white = page.screenshot(clip={"x": 0, "y": 0, "width": 1280, "height": 700})
        finally:
            browser.close()
    assert _colours(white) == 1  # the check below can tell a blank page
    assert _colours(top) > 50  # header, figure tiles, table text
    assert _colours(chart) > 10  # bars, axes, labels
    assert len(full) > 10 * len(white)
