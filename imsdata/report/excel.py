"""The report as an .xlsx workbook: one sheet per table, Indian money format, frozen headers."""

from __future__ import annotations

import datetime as dt
import io
import os
from pathlib import Path
from typing import Any

import polars as pl
import xlsxwriter

from imsdata.fileio import atomic_path, safe_text
from imsdata.report.build import Report
from imsdata.report.html import HEADERS
from imsdata.report.inr import EXCEL_INR_FORMAT, EXCEL_INR_NEGATIVE_FORMAT
from imsdata.xlsx_rows import SheetColumn, fill_sheets


def write_excel(
    report: Report, path: str | os.PathLike[str], *, created: dt.datetime | None = None
) -> Path:
    """Write every report table to its own sheet (sheet name = table key), atomically.

    Money cells are numbers with the Indian grouping format; the header row is frozen. A first
    sheet 'about' names the GSTIN, period, as-of date and each table's note. `created` is the
    workbook's creation time in its properties (default: now); a fixed one gives the same bytes.
    """
    # text is never a formula or link: written as strings, made formula-safe (safe_text); the
    # tables' rows are streamed into the closed workbook (imsdata.xlsx_rows), a document list of
    # 200k rows in bulk rather than cell by cell
    book = io.BytesIO()
    options = {
        "in_memory": True,
        "remove_timezone": True,
        "strings_to_formulas": False,
        "strings_to_urls": False,
    }
    wb = xlsxwriter.Workbook(book, options)
    if created is not None:
        wb.set_properties({"created": created})
    try:
        sheets, formats = _write(wb, report)
    finally:
        wb.close()
    styles = {kind: fmt.xf_index for kind, fmt in formats.items()}
    with atomic_path(path) as tmp:
        fill_sheets(book.getvalue(), tmp, sheets, styles)
    return Path(path)


def _write(
    wb: xlsxwriter.Workbook, report: Report
) -> tuple[dict[str, tuple[list[SheetColumn], pl.DataFrame]], dict[str, Any]]:
    """The 'about' sheet in full and each table's header, formats and filter; returns the
    tables' rows for `fill_sheets` and the cell formats they use (indexed once closed)."""
    bold = wb.add_format({"bold": True})
    head = wb.add_format({"bold": True, "bg_color": "#DCE6F1", "border": 1, "text_wrap": True})
    money = wb.add_format({"num_format": EXCEL_INR_FORMAT})
    negative = wb.add_format({"num_format": EXCEL_INR_NEGATIVE_FORMAT})
    count = wb.add_format({"num_format": "#,##0"})
    date = wb.add_format({"num_format": "dd-mm-yyyy"})
    wrap = wb.add_format({"text_wrap": True, "valign": "top"})

    about = wb.add_worksheet("about")
    about.write(0, 0, "IMS period-end report", bold)
    rows = [
        ("GSTIN", report.gstin),
        ("Return period", f"{report.period_label} ({report.period})"),
        ("Figures as of", report.as_of.strftime("%d-%m-%Y")),
    ]
    for i, (k, v) in enumerate(rows, start=2):
        about.write(i, 0, k, bold)
        about.write(i, 1, safe_text(v))
    r = len(rows) + 3
    about.write(r, 0, "Sheet", head)
    about.write(r, 1, "Table and notes", head)
    for t in report.tables:
        r += 1
        about.write(r, 0, t.key)
        about.write(r, 1, f"{t.title}. {t.note}".strip(), wrap)
    for note in report.notes:
        r += 1
        about.write(r, 1, note, wrap)
    about.set_column(0, 0, 22)
    about.set_column(1, 1, 110)

    sheets: dict[str, tuple[list[SheetColumn], pl.DataFrame]] = {}
    for t in report.tables:
        ws = wb.add_worksheet(t.key[:31])
        frame = t.frame
        cols: list[SheetColumn] = []
        for c, (name, dtype) in enumerate(frame.schema.items()):
            header = HEADERS.get(name, name)
            ws.write(0, c, header, head)
            fmt: Any
            if isinstance(dtype, pl.Decimal):
                fmt, width, kind = money, 18, "money"
            elif dtype.is_integer():
                fmt, width, kind = count, 12, "int"
            elif isinstance(dtype, pl.Date):
                fmt, width, kind = date, 12, "date"
            else:
                fmt, kind = None, "text"
                lengths = frame[name].cast(pl.String).str.len_chars().drop_nulls()
                longest = int(lengths.max()) if lengths.len() else 8  # type: ignore[arg-type]
                width = min(max(longest, len(header), 8) + 2, 60)
            cols.append(SheetColumn(header, name, kind, width))
            if fmt is money and frame.height:
                ws.conditional_format(
                    1, c, frame.height, c,
                    {"type": "cell", "criteria": "<", "value": 0, "format": negative},
                )  # fmt: skip
            # the column format also registers the cell format the streamed rows refer to
            ws.set_column(c, c, width, fmt)
        ws.set_row(0, 30)
        ws.freeze_panes(1, 0)
        if frame.height:
            ws.autofilter(0, 0, frame.height, max(frame.width - 1, 0))
        # xlsxwriter names sheet files in the order they were added ('about' is sheet1)
        sheets[f"xl/worksheets/sheet{len(sheets) + 2}.xml"] = (cols, frame)
    return sheets, {"money": money, "int": count, "date": date}
