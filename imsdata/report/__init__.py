"""Period-end reports: tables (`build_report`), a self-contained HTML page and an Excel workbook.

`build_report(ims, matches, decisions, gstin=..., period=...)` returns a `Report` of polars
frames; `write_html(report, path)` and `write_excel(report, path)` write it atomically.
"""

from __future__ import annotations

from imsdata.report.build import Report, ReportTable, build_report, period_end
from imsdata.report.excel import write_excel
from imsdata.report.html import figures, render_html, write_html
from imsdata.report.inr import format_inr

__all__ = [
    "Report",
    "ReportTable",
    "build_report",
    "figures",
    "format_inr",
    "period_end",
    "render_html",
    "write_excel",
    "write_html",
]
