"""Rows the reader cannot trust are rejected whole with a reason; doubtful ones get warnings."""

from __future__ import annotations

import json
from decimal import Decimal

import polars as pl
import pytest
from register_helpers import make_rows

from imsdata.register import read_register
from imsdata.schemas.register import REJECT_COLUMNS, WARNING_COLUMNS
from imsdata.testing import SUPPLIER, make_gstin


@pytest.mark.parametrize(
    ("change", "field", "column", "reason"),
    [
        ({"Bill Date": "31-02-2025"}, "doc_date", "Bill Date", "unparseable date"),
        ({"Bill Date": "Nov 5th"}, "doc_date", "Bill Date", "unparseable date"),
        ({"Taxable Value": "ten"}, "taxable_value", "Taxable Value", "unparseable amount"),
        ({"IGST": "1.8.0"}, "igst", "IGST", "unparseable amount"),
        ({"CGST": "10.555"}, "cgst", "CGST", "more than 2 decimals"),
        ({"Voucher Type": "Journal"}, "doc_type", "Voucher Type", "unknown document type"),
        ({"Supplier GSTIN": "27AAPFU0939F1Z"}, "supplier_gstin", "Supplier GSTIN",
         "bad GSTIN format"),
        ({"Recipient GSTIN": "GSTIN123"}, "recipient_gstin", "Recipient GSTIN",
         "bad GSTIN format"),
        ({"Place of Supply": "Atlantis"}, "pos", "Place of Supply", "unknown place of supply"),
        ({"Reverse Charge": "maybe"}, "reverse_charge", "Reverse Charge", "not a yes/no value"),
        ({"Bill No": ""}, "doc_number", "Bill No", "missing document number"),
        ({"Taxable Value": ""}, "taxable_value", "Taxable Value", "missing taxable value"),
        ({"Taxable Value": "-100", "IGST": "18"}, "taxable_value", "Taxable Value",
         "amounts have mixed signs"),
    ],
)  # fmt: skip
def test_each_error_rejects_the_row_with_file_row_column_value_reason(
    write_csv, change, field, column, reason
):
    result = read_register(write_csv(make_rows({}, change, {})))
    assert result.documents["source_row"].to_list() == [1, 3]  # never half-loaded
    assert result.rejects.columns == list(REJECT_COLUMNS)
    reject = result.rejects.row(0, named=True)
    assert result.rejects.height == 1
    assert (reject["source_file"], reject["source_row"], reject["register_id"]) == (
        "register.csv", 2, "PV-2",
    )  # fmt: skip
    assert (reject["field"], reject["column"], reject["reason"]) == (field, column, reason)
    assert reject["value"] == (change.get(column) or None)
    assert json.loads(reject["record"])["Bill No"] == (change.get("Bill No", "INV-2") or None)


def test_both_dates_missing_is_rejected(write_csv):
    result = read_register(write_csv(make_rows({"Bill Date": "", "Voucher Date": ""})))
    assert result.documents.height == 0
    assert result.rejects["reason"].to_list() == [
        "missing document date (no bill date nor voucher date)"
    ]


def test_several_errors_in_one_row_are_all_listed(write_csv):
    rows = make_rows({"Bill Date": "someday", "IGST": "lots", "Voucher Type": "??"})
    rejects = read_register(write_csv(rows)).rejects
    assert rejects["field"].to_list() == ["doc_date", "doc_type", "igst"]
    assert rejects["source_row"].unique().to_list() == [1]


def test_negative_debit_note_is_rejected_as_ambiguous(write_csv):
    rows = make_rows({"Voucher Type": "Debit Note", "Taxable Value": "-10", "IGST": "-1.8",
                      "Invoice Value": "-11.80"})  # fmt: skip
    rejects = read_register(write_csv(rows)).rejects
    assert rejects["reason"].str.starts_with("debit note booked with negative").to_list() == [True]


def test_nothing_is_lost(write_csv):
    rows = make_rows({}, {"IGST": "x"}, {"Supplier GSTIN": ""}, {"Bill Date": "?"}, {})
    result = read_register(write_csv(rows))
    kept = set(result.documents["source_row"]) | set(result.rejects["source_row"])
    assert kept == {1, 2, 3, 4, 5}
    assert not set(result.documents["source_row"]) & set(result.rejects["source_row"])


@pytest.mark.parametrize("blank", ["", "URP", "N/A", "Unregistered", "-"])
def test_blank_supplier_gstin_is_kept_out_of_scope(write_csv, blank):
    docs = read_register(write_csv(make_rows({"Supplier GSTIN": blank}))).documents
    row = docs.row(0, named=True)
    assert (row["supplier_gstin"], row["supplier_pan"], row["in_scope"]) == (None, None, False)
    assert row["scope_reason"] == "blank supplier GSTIN"


@pytest.mark.parametrize(("cell", "flag"), [("Y", True), ("Yes", True), ("true", True),
                         ("1", True), ("N", False), ("no", False), ("FALSE", False), ("0", False),
                         ("", False)])  # fmt: skip
def test_reverse_charge_spellings_and_scope(write_csv, cell, flag):
    row = read_register(write_csv(make_rows({"Reverse Charge": cell}))).documents.row(0, named=True)
    assert row["reverse_charge"] is flag
    assert row["in_scope"] is not flag
    assert row["scope_reason"] == ("reverse charge" if flag else None)


def test_gstin_is_trimmed_and_upper_cased(write_csv):
    docs = read_register(write_csv(make_rows({"Supplier GSTIN": f"  {SUPPLIER.lower()} "})))
    assert docs.documents["supplier_gstin"].to_list() == [SUPPLIER]


@pytest.mark.parametrize(
    ("cell", "code"),
    [("24", "24"), ("7", "07"), ("27-Maharashtra", "27"), ("27 - Maharashtra", "27"),
     ("Maharashtra", "27"), ("tamil nadu", "33"), ("Jammu & Kashmir", "01"), ("", None),
     ("Dadra and Nagar Haveli and Daman and Diu", "26")],
)  # fmt: skip
def test_place_of_supply_spellings(write_csv, cell, code):
    docs = read_register(write_csv(make_rows({"Place of Supply": cell, "IGST": "0"}))).documents
    assert docs["pos"].to_list() == [code]


@pytest.mark.parametrize(
    ("cell", "kind"),
    [("Invoice", "INV"), ("Tax Invoice", "INV"), ("Purchase", "INV"), ("Purchase Invoice", "INV"),
     ("Bill", "INV"), ("", "INV"), ("CN", "CN"), ("Credit Note", "CN"), ("Cr Note", "CN"),
     ("Cr. Note", "CN"), ("Purchase Return", "CN"), ("DN", "DN"), ("Debit Note", "DN"),
     ("Dr Note", "DN"), ("dr. note", "DN")],
)  # fmt: skip
def test_document_type_spellings(write_csv, cell, kind):
    docs = read_register(write_csv(make_rows({"Voucher Type": cell}))).documents
    assert docs["doc_type"].to_list() == [kind]


def _warnings(write_csv, change):
    result = read_register(write_csv(make_rows(change)))
    assert result.documents.height == 1  # warnings never reject
    assert result.warnings.columns == list(WARNING_COLUMNS)
    return result.warnings.select("field", "column", "reason").rows()


def test_no_warnings_for_a_clean_row(write_csv):
    assert _warnings(write_csv, {}) == []


def test_bad_check_character_is_a_warning(write_csv):
    wrong = SUPPLIER[:14] + ("A" if SUPPLIER[14] != "A" else "B")
    assert _warnings(write_csv, {"Supplier GSTIN": wrong}) == [
        ("supplier_gstin", "Supplier GSTIN", "bad GSTIN check character")
    ]


def test_igst_on_an_intra_state_supply_is_a_warning(write_csv):
    found = _warnings(write_csv, {"Place of Supply": "27"})  # supplier is in 27
    assert [(f, r.split(" (")[0]) for f, _, r in found] == [
        ("igst", "IGST charged on an intra-state supply")
    ]


def test_cgst_sgst_on_an_inter_state_supply_is_a_warning(write_csv):
    change = {"IGST": "0", "CGST": "900", "SGST": "900"}
    found = _warnings(write_csv, change)
    assert [(f, r.split(" (")[0]) for f, _, r in found] == [
        ("cgst", "CGST/SGST charged on an inter-state supply")
    ]


def test_cgst_differing_from_sgst_is_a_warning(write_csv):
    intra = make_gstin("24", "AAACB1234C")
    change = {"Supplier GSTIN": intra, "IGST": "0", "CGST": "900", "SGST": "899.99"}
    assert _warnings(write_csv, change) == [("sgst", "SGST", "CGST differs from SGST")]


def test_duplicate_register_id_is_a_warning(write_csv):
    result = read_register(write_csv(make_rows({"Voucher No": "PV-9"}, {"Voucher No": "PV-9"})))
    assert result.warnings["reason"].to_list() == ["duplicate register_id"] * 2


def test_money_is_decimal_end_to_end(write_csv):
    docs = read_register(write_csv(make_rows({"Taxable Value": "0.10", "IGST": "0.20",
                                              "Invoice Value": ""}))).documents  # fmt: skip
    assert docs["doc_value"].to_list() == [Decimal("0.30")]  # never 0.30000000000000004


def test_every_row_breaking_a_row_check_gets_its_own_warning_with_its_own_value(write_csv):
    # an ERP whose bill numbers all exceed the GST limit: every row warns, each naming its own
    # number (row checks are judged in bulk, not through pandera's per-row error report)
    numbers = [f"PURCHASE-BILL-2025-26-{i:05d}" for i in range(1, 41)]
    intra = make_gstin("24", "AAACB1234C")
    split = {"Supplier GSTIN": intra, "IGST": "0", "CGST": "900", "SGST": "899.99"}
    rows = make_rows(*({"Bill No": n} for n in numbers), split)
    result = read_register(write_csv(rows))
    limit = result.warnings.filter(pl.col("field") == "doc_number")
    assert limit["source_row"].to_list() == list(range(1, 41))
    assert limit["value"].to_list() == numbers
    assert limit["reason"].str.starts_with("document number breaks the GST limit").all()
    others = result.warnings.filter(pl.col("field") != "doc_number")
    assert others.select("source_row", "reason").rows() == [(41, "CGST differs from SGST")]
    assert result.rejects.height == 0
