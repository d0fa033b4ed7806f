"""Real .xlsx workbooks (written with xlsxwriter) and Parquet files read like CSV exports."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest
import xlsxwriter
from register_helpers import BASE_ROW, make_rows

from imsdata.errors import InputError
from imsdata.register import read_register


def _workbook(path, rows, *, sheet="Purchase Register", empty_first=True, numbers=True):
    """A register as accountants save it: title rows, a real date column, typed numbers."""
    book = xlsxwriter.Workbook(path)
    if empty_first:
        book.add_worksheet("Notes")  # an empty sheet before the data
    sheet_ = book.add_worksheet(sheet)
    date_fmt = book.add_format({"num_format": "dd-mmm-yy"})
    sheet_.write(0, 0, "Acme Industries Pvt Ltd")
    sheet_.write(1, 0, "Purchase Register: 1-Apr-2025 to 30-Nov-2025")
    headers = list(rows[0])
    sheet_.write_row(3, 0, headers)
    for r, row in enumerate(rows, start=4):
        for c, header in enumerate(headers):
            value = row[header]
            if header == "Bill Date":
                day, month, year = (int(p) for p in value.split("-"))
                sheet_.write_datetime(r, c, dt.datetime(year, month, day), date_fmt)
            elif numbers and header in ("IGST", "CGST", "SGST", "Cess"):
                sheet_.write_number(r, c, float(value))
            else:
                sheet_.write_string(r, c, value)  # e.g. Taxable Value as text "1,23,456.78"
    book.close()
    return path


def test_xlsx_with_title_rows_indian_numbers_and_real_dates(tmp_path):
    rows = make_rows(
        {"Taxable Value": "1,23,456.78", "IGST": "22222.22", "Invoice Value": "1,45,679.00"},
        {"Taxable Value": "(1,000.00)", "IGST": "-180", "Invoice Value": "(1,180)",
         "Bill Date": "28-11-2025"},
    )  # fmt: skip
    result = read_register(_workbook(tmp_path / "register.xlsx", rows))
    docs = result.documents
    assert result.rejects.height == 0
    assert docs["taxable_value"].to_list() == [Decimal("123456.78"), Decimal("1000.00")]
    assert docs["igst"].to_list() == [Decimal("22222.22"), Decimal("180.00")]
    assert docs["doc_type"].to_list() == ["INV", "CN"]
    assert docs["doc_date"].to_list() == [dt.date(2025, 11, 5), dt.date(2025, 11, 28)]
    assert docs["source_row"].to_list() == [1, 2]
    assert any("sheet 'Purchase Register'" in note for note in result.notes)


def test_xlsx_sheet_by_name(tmp_path):
    path = _workbook(tmp_path / "two.xlsx", make_rows({}), sheet="FY25", empty_first=True)
    assert read_register(path, sheet="FY25").documents.height == 1
    with pytest.raises(InputError, match=r"two\.xlsx: no sheet 'Sales'; sheets: Notes, FY25"):
        read_register(path, sheet="Sales")


def test_xlsx_without_data_is_an_input_error(tmp_path):
    path = tmp_path / "empty.xlsx"
    book = xlsxwriter.Workbook(path)
    book.add_worksheet("Sheet1")
    book.close()
    with pytest.raises(InputError, match=r"empty\.xlsx: no sheet has data"):
        read_register(path)


def test_excel_rejects_name_the_excel_row_cell(tmp_path):
    rows = make_rows({}, {"Taxable Value": "abc"})
    result = read_register(_workbook(tmp_path / "bad.xlsx", rows))
    assert result.rejects.select("source_file", "source_row", "value", "reason").rows() == [
        ("bad.xlsx", 2, "abc", "unparseable amount")
    ]


def test_parquet_with_typed_columns(tmp_path):
    frame = pl.DataFrame(make_rows({}, {"Voucher Type": "Credit Note"})).with_columns(
        pl.col("Bill Date").str.to_date("%d-%m-%Y"),
        pl.col("Taxable Value").cast(pl.Decimal(18, 2)),
        pl.col("IGST").cast(pl.Float64),
    )
    path = tmp_path / "register.parquet"
    frame.write_parquet(path)
    docs = read_register(path).documents
    assert docs["doc_date"].to_list() == [dt.date(2025, 11, 5)] * 2
    assert docs["taxable_value"].to_list() == [Decimal("10000.00")] * 2
    assert docs["igst"].to_list() == [Decimal("1800.00")] * 2
    assert docs["doc_type"].to_list() == ["INV", "CN"]


def test_format_is_read_from_content_not_suffix(tmp_path):
    path = _workbook(tmp_path / "register.dat", make_rows({}))
    assert read_register(path).documents["supplier_gstin"].to_list() == [BASE_ROW["Supplier GSTIN"]]


def test_excel_float_numbers_are_read_as_excel_shows_them(tmp_path):
    path = tmp_path / "floats.xlsx"
    book = xlsxwriter.Workbook(path)
    sheet = book.add_worksheet()
    row = make_rows({})[0]
    sheet.write_row(0, 0, list(row))
    sheet.write_row(1, 0, list(row.values()))
    sheet.write_number(1, list(row).index("IGST"), 0.1 + 0.2)  # 0.30000000000000004 in binary
    sheet.write_number(1, list(row).index("CGST"), 100.1 * 3)  # 300.29999999999995
    book.close()
    result = read_register(path)
    assert result.rejects.height == 0
    assert result.documents.select("igst", "cgst").rows() == [(Decimal("0.30"), Decimal("300.30"))]
