"""Streamed sheet rows (imsdata.xlsx_rows): every cell reads back as written, whichever rows of
a chunk carry the odd text (the per-chunk shortcuts must never skip a cell that needs a step)."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from decimal import Decimal

import fastexcel
import openpyxl
import polars as pl
import pytest
import xlsxwriter

from imsdata import xlsx_rows
from imsdata.xlsx_rows import SheetColumn, fill_sheets

#: Odd text -> what openpyxl reads back (Excel shows the _xHHHH_ escapes decoded: "_x0041_",
#: "ctl\x01x"; openpyxl leaves them as stored).
ODD_TEXT = {
    " lead": " lead",
    "trail ": "trail ",
    "=SUM(A1)": "'=SUM(A1)",
    "@cmd": "'@cmd",
    "a&b<c>d": "a&b<c>d",
    "_x0041_": "_x005F_x0041_",
    "ctl\x01x": "ctl_x0001_x",
    "x" * 40_000: "x" * 32_767,
    "": None,
}
PLAIN = "plain text"


def _workbook(tmp_path, rows: pl.DataFrame, cols: list[SheetColumn]):
    book = io.BytesIO()
    wb = xlsxwriter.Workbook(book, {"in_memory": True})
    ws = wb.add_worksheet("s")
    formats = {
        "money": wb.add_format({"num_format": "#,##0.00"}),
        "date": wb.add_format({"num_format": "dd-mm-yyyy"}),
        "editable": wb.add_format({"locked": False}),
    }
    for c, col in enumerate(cols):
        ws.write_string(0, c, col.header)
        ws.set_column(c, c, col.width, formats.get(col.kind))
    wb.close()
    path = tmp_path / "rows.xlsx"
    styles = {kind: fmt.xf_index for kind, fmt in formats.items()}
    fill_sheets(book.getvalue(), path, {"xl/worksheets/sheet1.xml": (cols, rows)}, styles)
    return path


@pytest.mark.parametrize("shared", [False, True], ids=["inline", "shared_strings"])
@pytest.mark.parametrize("chunk_rows", [1, 4, 20_000])
def test_odd_text_among_plain_rows_reads_back_cell_for_cell(
    tmp_path, monkeypatch, chunk_rows, shared
):
    monkeypatch.setattr(xlsx_rows, "_CHUNK_ROWS", chunk_rows)
    # every text column through the shared-string table, or none
    monkeypatch.setattr(xlsx_rows, "_SHARED_MAX_SHARE", 1.0 if shared else 0.0)
    odd = list(ODD_TEXT)
    # each odd value alone in its row, plain text around it; the other text column the reverse
    texts = [v for o in odd for v in (PLAIN, o, PLAIN)]
    n = len(texts)
    rows = pl.DataFrame(
        {
            "text": texts,
            "edit": list(reversed(texts)),
            "money": pl.Series([Decimal("1.50")] * (n - 1) + [None], dtype=pl.Decimal(18, 2)),
            "date": [dt.date(2025, 10, 3)] * 5 + [None] + [dt.date(2025, 10, 3)] * (n - 6),
            "count": [None, *range(1, n)],
        }
    )
    cols = [
        SheetColumn("Text", "text", "text"),
        SheetColumn("Edit", "edit", "editable"),
        SheetColumn("Money", "money", "money"),
        SheetColumn("Date", "date", "date"),
        SheetColumn("Count", "count", "int"),
    ]
    path = _workbook(tmp_path, rows, cols)

    got = list(openpyxl.load_workbook(path)["s"].iter_rows(min_row=2, values_only=True))
    shown = {**{PLAIN: PLAIN}, **ODD_TEXT}
    if shared:  # openpyxl decodes a shared string's _x005F_ escape (as Excel shows it)
        shown["_x0041_"] = "_x0041_"
    # the editable column is never made formula-safe (it is read back as the person's input)
    shown_edit = {**shown, "=SUM(A1)": "=SUM(A1)", "@cmd": "@cmd"}
    assert [r[0] for r in got] == [shown[t] for t in texts]
    assert [r[1] for r in got] == [shown_edit[t] for t in reversed(texts)]
    assert [r[2] for r in got] == [1.5] * (n - 1) + [None]
    assert [r[3] for r in got] == [dt.datetime(2025, 10, 3)] * 5 + [None] + [
        dt.datetime(2025, 10, 3)
    ] * (n - 6)
    assert [r[4] for r in got] == [None, *range(1, n)]
    # the reader imsdata reads workbooks back with sees the text itself either way
    excel = {**shown, "_x0041_": "_x0041_", "ctl\x01x": "ctl\x01x"}  # escapes decoded
    back = fastexcel.read_excel(path).load_sheet(0).to_polars()
    assert back["Text"].to_list() == [excel[t] for t in texts]
    with zipfile.ZipFile(path) as z:
        xml = z.read("xl/worksheets/sheet1.xml").decode()
        table = z.read("xl/sharedStrings.xml").decode()
    data = xml.split("</row>", 1)[1]  # the rows after xlsxwriter's header row
    assert ('t="s"' in data, "inlineStr" in data) == (shared, not shared)
    # Excel keeps leading/trailing spaces only when told to
    text = table if shared else xml
    assert re.search(r'<t xml:space="preserve"> lead</t>', text)
    assert re.search(r'<t xml:space="preserve">trail </t>', text)
    # each spaced value in both text columns inline; once in the shared table
    assert text.count('xml:space="preserve"') == (2 if shared else 4)
    # a styled empty cell keeps its format; an unstyled empty one is not written
    assert re.search(r'<c r="C\d+" s="\d+"/>', xml)
    assert not re.search(r'<c r="E\d+"/>', xml)


def test_repeated_text_is_stored_once_for_the_whole_workbook_and_distinct_text_stays_inline(
    tmp_path,
):
    statuses = ["exact", "mismatch", "probable", None] * 25
    rows = pl.DataFrame({"status": statuses, "key": [f"INV-{i}" for i in range(100)]})
    cols = [SheetColumn("Status", "status", "text"), SheetColumn("Key", "key", "text")]
    book = io.BytesIO()
    wb = xlsxwriter.Workbook(book, {"in_memory": True})
    for name in ("one", "two"):
        ws = wb.add_worksheet(name)
        for c, col in enumerate(cols):
            ws.write_string(0, c, col.header)
    wb.close()
    path = tmp_path / "shared.xlsx"
    second = rows.reverse()
    sheets = {"xl/worksheets/sheet1.xml": (cols, rows), "xl/worksheets/sheet2.xml": (cols, second)}
    fill_sheets(book.getvalue(), path, sheets, {})

    reader = fastexcel.read_excel(path)
    for sheet, frame in ((0, rows), (1, second)):
        back = reader.load_sheet(sheet).to_polars()
        assert back["Status"].to_list() == frame["status"].to_list()
        assert back["Key"].to_list() == frame["key"].to_list()
    with zipfile.ZipFile(path) as z:
        table = z.read("xl/sharedStrings.xml").decode()
        sheet_xml = [z.read(name).decode() for name in sheets]
    entries = re.findall(r"<si><t[^>]*>([^<]*)</t></si>", table)
    # the two headers, then each status once, in the order first seen
    assert entries == ["Status", "Key", "exact", "mismatch", "probable"]
    # Excel checks the counts: 75 status cells per sheet plus 4 header cells
    assert re.search(r'count="154" uniqueCount="5"', table)
    for xml in sheet_xml:
        assert xml.count('t="s"') == 2 + 75
        assert xml.count("inlineStr") == 100  # every key is distinct: written in place
