"""The Excel workbook: one sheet per table, read back with real readers."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import polars as pl

from imsdata.report import Report, write_excel
from imsdata.report.inr import EXCEL_INR_FORMAT, EXCEL_INR_NEGATIVE_FORMAT


def test_one_sheet_per_table_and_values_read_back(report: Report, tmp_path: Path) -> None:
    path = write_excel(report, tmp_path / "report.xlsx")
    sheets = pl.read_excel(path, sheet_id=0)
    assert list(sheets) == ["about", *[t.key for t in report.tables]]
    itc = sheets["itc_summary"]
    assert itc.columns[:3] == ["Category", "Documents", "Taxable value (₹)"]
    accepted = itc.filter(pl.col("Category") == "Accepted").row(0, named=True)
    assert accepted["ITC (₹)"] == 468000.0
    assert accepted["Documents"] == 2
    rec = sheets["reconciliation"]
    assert rec.height == report.table("reconciliation").height
    detail = sheets["changes_detail"]
    assert detail["Document"].to_list() == ["A-9", "A-1", "GONE-1"]


def test_money_has_indian_format_and_headers_are_frozen(report: Report, tmp_path: Path) -> None:
    path = write_excel(report, tmp_path / "report.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb["itc_summary"]
    assert ws.freeze_panes == "A2"
    assert ws["H2"].value == 468000
    assert ws["H2"].number_format == EXCEL_INR_FORMAT
    assert ws["B2"].number_format == "#,##0"
    # negative amounts (credit notes) get the minus-sign variant through a conditional format
    rules = [r for rng in ws.conditional_formatting for r in rng.rules]
    assert rules
    assert {r.dxf.numFmt.formatCode for r in rules} == {EXCEL_INR_NEGATIVE_FORMAT}
    assert {r.operator for r in rules} == {"lessThan"}
    assert ws["H3"].value == -180  # deemed-accepted credit note
    about = wb["about"]
    assert about["B3"].value == report.gstin
    ageing = wb["at_risk_documents"]
    assert ageing["F2"].number_format == "dd-mm-yyyy"


def test_written_atomically(report: Report, tmp_path: Path) -> None:
    write_excel(report, tmp_path / "out" / "r.xlsx")
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["r.xlsx"]
