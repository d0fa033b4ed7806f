"""CSV exports as ERPs write them: delimiters, encodings, titles, Indian numbers, dates, signs."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest
from register_helpers import BASE_ROW, csv_bytes, make_rows

from imsdata.errors import InputError
from imsdata.register import read_register
from imsdata.schemas import REGISTER_COLUMNS


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_each_delimiter_is_detected(write_csv, delimiter):
    path = write_csv(make_rows({}, {"Supplier Name": "Comma, Semicolon; Pipe| Ltd"}),
                     delimiter=delimiter)  # fmt: skip
    result = read_register(path)
    assert result.documents["doc_number"].to_list() == ["INV-1", "INV-2"]
    assert result.documents["supplier_name"][1] == "Comma, Semicolon; Pipe| Ltd"
    assert result.rejects.height == 0


def test_frame_has_exactly_the_register_contract(write_csv):
    docs = read_register(write_csv(make_rows({}))).documents
    assert docs.schema == pl.Schema(REGISTER_COLUMNS)
    row = docs.row(0, named=True)
    assert row["taxable_value"] == Decimal("10000.00")
    assert row["doc_date"] == dt.date(2025, 11, 5)  # the bill date, not the voucher date
    assert row["register_id"] == "PV-1"
    assert row["source_row"] == 1
    assert row["source_file"] == "register.csv"
    assert row["supplier_pan"] == BASE_ROW["Supplier GSTIN"][2:12]
    assert row["pos"] == "24"
    assert row["in_scope"] is True


def test_utf8_bom_does_not_hide_the_first_header(write_csv):
    result = read_register(write_csv(make_rows({}), bom=True))
    assert result.mapping_used["register_id"] == "Voucher No"
    assert result.documents["register_id"].to_list() == ["PV-1"]


def test_cp1252_file_is_decoded_with_a_note(write_csv):
    path = write_csv(make_rows({"Supplier Name": "Café Ré Traders"}), encoding="cp1252")
    result = read_register(path)
    assert result.documents["supplier_name"].to_list() == ["Café Ré Traders"]
    assert any("Windows-1252" in note for note in result.notes)


def test_utf16_export_is_read(write_csv):
    path = write_csv(make_rows({"Supplier Name": "ऐक्मे"}), encoding="utf-16", delimiter="\t")
    assert read_register(path).documents["supplier_name"].to_list() == ["ऐक्मे"]


def test_undecodable_bytes_name_the_file(tmp_path):
    path = tmp_path / "broken.csv"
    path.write_bytes(csv_bytes(make_rows({})).replace(b"Acme", b"Ac\x81\x8dme"))
    with pytest.raises(InputError, match=r"broken\.csv: cannot decode"):
        read_register(path)


def test_title_rows_above_the_header_are_skipped(write_csv):
    title = ["Acme Industries Pvt Ltd", "Purchase Register", "1-Apr-25 to 30-Nov-25", ""]
    result = read_register(write_csv(make_rows({}, {}), title=title))
    assert result.documents["register_id"].to_list() == ["PV-1", "PV-2"]
    assert result.documents["source_row"].to_list() == [1, 2]


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("1,23,456.78", "123456.78"),
        ("123,456.78", "123456.78"),
        ("₹ 1,00,000", "100000.00"),
        ("Rs. 2,500.50", "2500.50"),
        ("INR 750", "750.00"),
        ("12.5", "12.50"),
        ("1500.500", "1500.50"),  # trailing zeros are not extra decimals
    ],
)
def test_amount_spellings(write_csv, cell, expected):
    docs = read_register(write_csv(make_rows({"Taxable Value": cell}))).documents
    assert docs["taxable_value"].to_list() == [Decimal(expected)]


@pytest.mark.parametrize(
    "cell",
    ["05-11-2025", "5-11-2025", "05/11/2025", "05.11.2025", "2025-11-05", "05-Nov-2025",
     "5-Nov-25", "05 Nov 2025", "05-NOV-2025", "05/11/25", "45966", "2025-11-05 00:00:00"],
)  # fmt: skip
def test_date_formats(write_csv, cell):
    docs = read_register(write_csv(make_rows({"Bill Date": cell}))).documents
    assert docs["doc_date"].to_list() == [dt.date(2025, 11, 5)]


def test_bill_date_blank_falls_back_to_voucher_date(write_csv):
    result = read_register(write_csv(make_rows({"Bill Date": ""})))
    assert result.documents["doc_date"].to_list() == [dt.date(2025, 11, 6)]
    assert any("voucher date" in note for note in result.notes)


@pytest.mark.parametrize("style", ["-{}", "({})", "{}-"])
def test_credit_note_booked_negative_becomes_positive_cn(write_csv, style):
    amounts = {"Taxable Value": "1,000.00", "IGST": "180", "Invoice Value": "1,180.00"}
    neg = {header: style.format(value) for header, value in amounts.items()}
    rows = make_rows(neg, {**neg, "Voucher Type": "Credit Note"})
    docs = read_register(write_csv(rows)).documents
    assert docs["doc_type"].to_list() == ["CN", "CN"]
    assert docs["taxable_value"].to_list() == [Decimal("1000.00")] * 2
    assert docs["igst"].to_list() == [Decimal("180.00")] * 2
    assert docs["doc_value"].to_list() == [Decimal("1180.00")] * 2


def test_credit_note_booked_positive_stays_cn(write_csv):
    docs = read_register(write_csv(make_rows({"Voucher Type": "Cr Note"}))).documents
    assert docs["doc_type"].to_list() == ["CN"]
    assert docs["taxable_value"].to_list() == [Decimal("10000.00")]


def test_blank_lines_are_skipped_but_rows_keep_their_numbers(tmp_path):
    data = csv_bytes(make_rows({}, {}, {}))
    lines = data.split(b"\r\n")
    path = tmp_path / "gaps.csv"
    path.write_bytes(b"\r\n".join([*lines[:2], b"", *lines[2:]]))
    result = read_register(path)
    assert result.documents["source_row"].to_list() == [1, 3, 4]
    assert any("blank row" in note for note in result.notes)


def test_ragged_line_is_an_input_error(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_bytes(csv_bytes(make_rows({})) + b"a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q,r,s\r\n")
    with pytest.raises(InputError, match=r"ragged\.csv: cannot read as CSV"):
        read_register(path)


def test_input_file_is_not_modified(write_csv):
    path = write_csv(make_rows({"Taxable Value": "(5)"}))
    before = path.read_bytes()
    read_register(path)
    assert path.read_bytes() == before


def test_float_noise_from_other_tools_is_rounded_with_a_note(write_csv):
    rows = make_rows({"IGST": "0.30000000000000004", "CGST": "300.29999999999995"},
                     {"Cess": "0.125"})  # fmt: skip
    result = read_register(write_csv(rows))
    assert result.documents.select("igst", "cgst").rows() == [(Decimal("0.30"), Decimal("300.30"))]
    assert any("float noise" in note for note in result.notes)
    assert result.rejects.select("source_row", "value", "reason").rows() == [
        (2, "0.125", "more than 2 decimals")
    ]


def test_month_first_date_column_is_refused_not_half_swapped(write_csv, tmp_path):
    us = {"Voucher Date": "11/30/2025"}
    rows = make_rows({**us, "Bill Date": "11/05/2025"}, {**us, "Bill Date": "11/28/2025"})
    with pytest.raises(InputError, match=r"'Bill Date' looks month-first \(e\.g\. '11/28/2025'\)"):
        read_register(write_csv(rows))
    mapping = tmp_path / "us.toml"
    mapping.write_text('[options]\ndate_format = "%m/%d/%Y"\n', encoding="utf-8")
    docs = read_register(write_csv(rows), mapping=mapping).documents
    assert docs["doc_date"].to_list() == [dt.date(2025, 11, 5), dt.date(2025, 11, 28)]


def test_day_first_column_with_ambiguous_values_is_read_day_first(write_csv):
    rows = make_rows({"Bill Date": "05/11/2025"}, {"Bill Date": "28/11/2025"})
    docs = read_register(write_csv(rows)).documents
    assert docs["doc_date"].to_list() == [dt.date(2025, 11, 5), dt.date(2025, 11, 28)]


def test_header_only_file_gives_empty_frames(tmp_path):
    path = tmp_path / "none.csv"
    path.write_bytes(csv_bytes(make_rows({})).split(b"\r\n")[0] + b"\r\n")
    result = read_register(path)
    assert result.documents.schema == pl.Schema(REGISTER_COLUMNS)
    assert (result.documents.height, result.rejects.height) == (0, 0)


def test_empty_file_is_an_input_error(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(InputError, match=r"empty\.csv: the file is empty"):
        read_register(path)


def test_missing_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match=r"nope\.csv: file not found"):
        read_register(tmp_path / "nope.csv")
