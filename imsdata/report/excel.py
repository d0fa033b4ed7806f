"""The report as an .xlsx workbook: one sheet per table, Indian money format, frozen headers."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import polars as pl
import xlsxwriter

from imsdata.fileio import atomic_path, safe_text
from imsdata.report.build import Report
from imsdata.report.html import HEADERS
from imsdata.report.inr import EXCEL_INR_FORMAT, EXCEL_INR_NEGATIVE_FORMAT


def write_excel(
    report: Report, path: str | os.PathLike[str], *, created: dt.datetime | None = None
) -> Path:
    """Write every report table to its own sheet (sheet name = table key), atomically.

    Money cells are numbers with the Indian grouping format; the header row is frozen. A first
    sheet 'about' names the GSTIN, period, as-of date and each table's note. `created` is the
    workbook's creation time in its properties (default: now); a fixed one gives the same bytes.
    """
    with atomic_path(path) as tmp:
        # text is never a formula or link: written as strings, made formula-safe (safe_text)
        options = {"remove_timezone": True, "strings_to_formulas": False, "strings_to_urls": False}
        wb = xlsxwriter.Workbook(str(tmp), options)
        if created is not None:
            wb.set_properties({"created": created})
        try:
            _write(wb, report)
        finally:
            wb.close()
    return Path(path)


def _write(wb: xlsxwriter.Workbook, report: Report) -> None:
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

    for t in report.tables:
        ws = wb.add_worksheet(t.key[:31])
        frame = t.frame
        for c, (name, dtype) in enumerate(frame.schema.items()):
            ws.write(0, c, HEADERS.get(name, name), head)
            values = frame[name]
            data: list[Any]
            if isinstance(dtype, pl.Decimal):
                fmt, width = money, 18
                data = [None if v is None else float(v) for v in values.to_list()]
            elif dtype.is_integer():
                fmt, width = count, 12
                data = values.to_list()
            elif isinstance(dtype, pl.Date):
                fmt, width = date, 12
                data = values.to_list()
            else:
                fmt = None
                data = [safe_text(v) for v in values.cast(pl.String).to_list()]
                longest = max((len(v) for v in data if v), default=8)
                width = min(max(longest, len(HEADERS.get(name, name)), 8) + 2, 60)
            ws.write_column(1, c, data, fmt)
            if fmt is money and frame.height:
                ws.conditional_format(
                    1, c, frame.height, c,
                    {"type": "cell", "criteria": "<", "value": 0, "format": negative},
                )  # fmt: skip
            ws.set_column(c, c, width)
        ws.set_row(0, 30)
        ws.freeze_panes(1, 0)
        if frame.height:
            ws.autofilter(0, 0, frame.height, max(frame.width - 1, 0))
