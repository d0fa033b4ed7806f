"""Registers as ERPs really export them (issue 13): rate-split heads, '-' for zero, total GST
only, line items, payment-mode words, Tally's own headers, presets for Zoho Books and Busy."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest
from register_helpers import make_rows

from imsdata.errors import InputError
from imsdata.reconcile import reconcile
from imsdata.register import presets, read_register
from imsdata.testing import SUPPLIER, ims_frame

D = Decimal

TALLY_HEADER = (
    "Date,Particulars,Voucher Type,Voucher No.,Supplier Invoice No.,Supplier Invoice Date,"
    "GSTIN/UIN,Value,Input CGST 9%,Input SGST 9%,Input CGST 2.5%,Input SGST 2.5%,Gross Total"
)


def _tally(tmp_path, *lines: str, header: str = TALLY_HEADER):
    path = tmp_path / "tally.csv"
    title = "Sharma Traders,,,\nPurchase Register,,,\n1-Nov-25 to 30-Nov-25,,,\n"
    path.write_text(title + header + "\n" + "\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_tax_split_by_rate_is_summed_per_head_without_a_preset(tmp_path):
    path = _tally(
        tmp_path,
        f"05-Nov-25,Acme,Purchase,P/1,INV-88,03-Nov-25,{SUPPLIER},2000,0,0,50,50,2100",
        f'06-Nov-25,Acme,Purchase,P/2,INV-89,04-Nov-25,{SUPPLIER},"10,000.00",900,900,25,25,'
        '"11,850.00"',
    )
    result = read_register(path)
    docs = result.documents
    assert docs["cgst"].to_list() == [D("50.00"), D("925.00")]
    assert docs["sgst"].to_list() == [D("50.00"), D("925.00")]
    assert docs["register_id"].to_list() == ["P/1", "P/2"]
    assert result.mapping_used["cgst"] == "Input CGST 9% + Input CGST 2.5%"
    assert result.warnings.filter(pl.col("field") == "doc_value").is_empty()


@pytest.mark.parametrize("header", ["CGST @ 2.5%", "Input CGST @9%", "CGST 2.5%"])
def test_rate_spellings_are_recognised(tmp_path, header):
    rows = make_rows({"CGST": ..., "IGST": "0", header: "25.00", "CGST @ 6%": "60.00"})
    path = tmp_path / "r.csv"
    pl.DataFrame(rows).write_csv(path)
    assert read_register(path).documents["cgst"].to_list() == [D("85.00")]


def test_a_plain_head_column_is_the_total_and_rate_columns_are_not_added_again(tmp_path):
    rows = make_rows({"IGST": "0", "CGST": "75.00", "CGST 9%": "50.00", "CGST 2.5%": "25.00"})
    path = tmp_path / "r.csv"
    pl.DataFrame(rows).write_csv(path)
    assert read_register(path).documents["cgst"].to_list() == [D("75.00")]


def test_a_mapping_listing_several_columns_sums_them(tmp_path):
    rows = make_rows({"IGST": "0", "CGST": ..., "CGST Goods": "30.00", "CGST Services": "20"})
    path = tmp_path / "r.csv"
    pl.DataFrame(rows).write_csv(path)
    mapping = tmp_path / "m.toml"
    mapping.write_text('[columns]\ncgst = ["CGST Goods", "CGST Services"]\n')
    result = read_register(path, mapping=mapping)
    assert result.documents["cgst"].to_list() == [D("50.00")]
    assert result.mapping_used["cgst"] == "CGST Goods + CGST Services"


@pytest.mark.parametrize("zero", ["-", "\u2014", "\u2013", "nil", "NIL", ""])
def test_dash_nil_and_blank_amounts_are_zero(write_csv, zero):
    result = read_register(write_csv(make_rows({"CGST": zero, "SGST": zero, "Cess": zero})))
    assert result.rejects.is_empty()
    assert result.documents["cgst"].to_list() == [D("0.00")]


def test_invoice_value_that_does_not_add_up_is_warned(tmp_path):
    path = _tally(
        tmp_path, f"05-Nov-25,Acme,Purchase,P/1,B-5,03-Nov-25,{SUPPLIER},2000,0,0,0,0,2100"
    )
    result = read_register(path)
    warned = result.warnings.filter(pl.col("field") == "doc_value")
    assert warned["reason"].to_list() == [
        "invoice value differs from taxable value + tax beyond tolerance"
    ]
    assert warned["column"].to_list() == ["Gross Total"]


def test_total_gst_only_register_reconciles_on_total_tax(write_csv, tmp_path):
    path = tmp_path / "total.csv"
    path.write_text(
        "invoice_no,invoice_date,supplier_gstin,taxable_value,gst_amount\n"
        f"INV-1,2025-11-05,{SUPPLIER},10000,1800\nINV-2,2025-11-06,{SUPPLIER},5000,900\n"
    )
    result = read_register(path)
    docs = result.documents
    assert docs["tax_heads"].to_list() == ["total", "total"]
    assert docs["doc_value"].to_list() == [D("11800.00"), D("5900.00")]
    assert any("only a total GST column" in n for n in result.notes)
    ims = ims_frame(
        [
            {"doc_number": "INV-1", "doc_date": dt.date(2025, 11, 5), "igst": "0", "cgst": "900",
             "sgst": "900", "taxable_value": "10000", "doc_value": "11800"},
            {"doc_number": "INV-2", "doc_date": dt.date(2025, 11, 6), "igst": "0", "cgst": "500",
             "sgst": "500", "taxable_value": "5000", "doc_value": "6000"},
        ]
    )  # fmt: skip
    matches = reconcile(ims, docs).sort("register_id")
    first, second = matches.rows(named=True)
    assert first["match_status"] == "within_tolerance"
    assert "IGST/CGST/SGST not compared" in first["reasons"]
    assert "CGST differs" not in first["reasons"]
    assert second["match_status"] == "mismatch"
    assert "total tax differs by Rs 100.00" in second["reasons"]


def test_line_item_register_is_one_document_per_bill_with_its_rows(tmp_path):
    path = tmp_path / "bills.csv"
    path.write_text(
        "Bill Date,Bill ID,Bill Number,Vendor Name,GST Identification Number (GSTIN),Item Name,"
        "Quantity,Item Total,IGST,CGST,SGST,CESS,Total\n"
        f"05/11/2025,B1,INV-7,Acme,{SUPPLIER},Bolts,10,1000,0,90,90,0,2360\n"
        f"05/11/2025,B1,INV-7,Acme,{SUPPLIER},Nuts,5,1000,0,90,90,0,2360\n"
        f"06/11/2025,B2,INV-8,Acme,{SUPPLIER},Washers,1,500,0,45,45,0,590\n"
    )
    result = read_register(path, preset="zoho")
    docs = result.documents
    assert docs["register_id"].to_list() == ["B1", "B2"]
    assert docs["taxable_value"].to_list() == [D("2000.00"), D("500.00")]
    assert docs["cgst"].to_list() == [D("180.00"), D("45.00")]
    assert docs["doc_value"].to_list() == [D("2360.00"), D("590.00")]  # the total, taken once
    assert docs["source_rows"].to_list() == ["1,2", None]
    assert any("line-item register: 3 row(s) read as 2 document(s)" in n for n in result.notes)


def test_line_items_are_detected_without_a_preset_by_their_item_column(write_csv):
    rows = make_rows({"HSN": "7318"}, {"HSN": "7319"})
    rows[1]["Voucher No"], rows[1]["Bill No"] = "PV-1", "INV-1"
    result = read_register(write_csv(rows))
    assert result.documents.height == 1
    assert result.documents["igst"].to_list() == [D("3600.00")]


def test_a_register_booked_twice_without_item_columns_is_not_merged(write_csv):
    rows = make_rows({}, {})
    rows[1]["Bill No"] = "INV-1"
    assert read_register(write_csv(rows)).documents.height == 2


@pytest.mark.parametrize("word", ["CREDIT", "Cash", "Credit Purchase"])
def test_payment_mode_in_document_type_is_an_invoice_with_a_warning(write_csv, word):
    result = read_register(write_csv(make_rows({"Voucher Type": word})))
    assert result.documents["doc_type"].to_list() == ["INV"]
    warned = result.warnings.filter(pl.col("field") == "doc_type")
    assert warned["value"].to_list() == [word]
    assert "not a credit note" in warned["reason"][0]


def test_credit_note_spelled_out_is_still_a_credit_note(write_csv):
    result = read_register(write_csv(make_rows({"Voucher Type": "Credit Note"})))
    assert result.documents["doc_type"].to_list() == ["CN"]
    assert result.warnings.filter(pl.col("field") == "doc_type").is_empty()


def test_tally_default_register_says_which_columns_to_enable(tmp_path):
    header = (
        "Date,Particulars,Voucher Type,Voucher No.,Value,Gross Total,Input CGST 9%,Input SGST 9%"
    )
    path = _tally(tmp_path, "01-Nov-25,Acme,Purchase,111,375,443,33.75,33.75", header=header)
    for preset in (None, "tally"):
        with pytest.raises(InputError) as caught:
            read_register(path, preset=preset)
        message = str(caught.value)
        assert "Tally's Purchase Register without 'GSTIN/UIN'" in message
        assert "'Supplier Invoice No.'" in message
        assert "F12" in message
        assert "\n" not in message


def test_preset_given_is_not_asked_for_again(write_csv):
    with pytest.raises(InputError) as caught:
        read_register(write_csv(make_rows({"Bill No": ...})), preset="busy")
    assert "choose a --preset" not in str(caught.value)


def test_voucher_ref_columns_and_vno_are_known(tmp_path):
    path = tmp_path / "books.csv"
    path.write_text(
        "GSTIN,Name,Invoice Type,Voucher Ref. No.,Vno,Voucher Ref. Date,Taxable Value,IGST,CGST,"
        f"SGST\n{SUPPLIER},Neo,Invoice,27,550,21-03-2025,2705.0,-,243.45,243.45\n"
    )
    result = read_register(path)
    row = result.documents.row(0, named=True)
    assert (row["register_id"], row["doc_number"], str(row["doc_date"])) == (
        "550", "27", "2025-03-21"
    )  # fmt: skip
    assert row["igst"] == D("0.00")


def test_document_number_beyond_the_gst_limit_is_a_warning_in_the_books(write_csv):
    result = read_register(write_csv(make_rows({"Bill No": "INV 2025 000000012345"})))
    assert result.documents.height == 1  # kept: books carry what the clerk typed
    warned = result.warnings.filter(pl.col("field") == "doc_number")
    assert "at most 16 characters" in warned["reason"][0]


def test_presets_for_zoho_and_busy_are_shipped():
    assert {"tally", "zoho", "busy"} <= set(presets())


def test_busy_cash_purchase_reads_as_an_invoice(tmp_path):
    path = tmp_path / "busy.csv"
    path.write_text(
        "Date,Vch/Bill No,Party Name,GSTIN,Vch Type,Bill No.,Bill Date,Taxable Amount,"
        f"IGST Amount,CGST Amount,SGST Amount,Bill Amount\n"
        f"06-11-2025,17,Acme,{SUPPLIER},Cash Purchase,A-1,05-11-2025,100,18,0,0,118\n"
    )
    result = read_register(path, preset="busy")
    row = result.documents.row(0, named=True)
    assert (row["register_id"], row["doc_number"], row["doc_type"]) == ("17", "A-1", "INV")
    assert result.warnings.filter(pl.col("field") == "doc_type").height == 1


def test_a_json_download_given_as_the_register_is_named(tmp_path):
    path = tmp_path / "ims.json"
    path.write_text('{"b2b": []}')
    with pytest.raises(InputError, match=r"JSON file .* not a purchase register"):
        read_register(path)


def test_a_line_item_document_with_a_rejected_line_is_set_aside_whole(tmp_path):
    path = tmp_path / "bills.csv"
    path.write_text(
        "Bill Date,Bill ID,Bill Number,Vendor Name,GST Identification Number (GSTIN),Item Name,"
        "Quantity,Item Total,IGST,CGST,SGST,CESS,Total\n"
        f"05/11/2025,B1,INV-7,Acme,{SUPPLIER},Bolts,10,1000,0,90,90,0,2360\n"
        f"05/11/2025,B1,INV-7,Acme,{SUPPLIER},Nuts,5,10x0,0,90,90,0,2360\n"
        f"06/11/2025,B2,INV-8,Acme,{SUPPLIER},Washers,1,500,0,45,45,0,590\n"
        f"06/11/2025,B2,INV-8,Acme,{SUPPLIER},Rivets,1,500,0,45,45,0,590\n"
    )
    result = read_register(path, preset="zoho")
    assert result.documents["register_id"].to_list() == ["B2"]
    aside = result.rejects.filter(pl.col("reason").str.starts_with("another line"))
    assert aside["source_row"].to_list() == [1]
    assert "(row 2)" in aside["reason"][0]
    assert set(result.rejects["source_row"]) == {1, 2}  # every line of B1 accounted for


def test_taxable_value_split_by_rate_is_summed_and_a_blank_rate_column_is_not_missing(tmp_path):
    rows = make_rows(
        {"Taxable Value": ..., "Taxable Value 18%": "1000", "Taxable Value 5%": "", "IGST": "180"},
        {"Taxable Value": ..., "Taxable Value 18%": "", "Taxable Value 5%": "400", "IGST": "20"},
    )
    for row, value in zip(rows, ("1180.00", "420.00"), strict=True):
        row["Invoice Value"] = value
    path = tmp_path / "r.csv"
    pl.DataFrame(rows).write_csv(path)
    result = read_register(path)
    assert result.rejects.is_empty()
    assert result.documents["taxable_value"].to_list() == [D("1000.00"), D("400.00")]
