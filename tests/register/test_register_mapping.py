"""Header recognition, mapping files and presets: which header feeds which canonical field."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from register_helpers import BASE_ROW, make_rows

from imsdata.errors import InputError, UsageError
from imsdata.register import load_mapping, presets, read_register
from imsdata.register._parse import key, spellings
from imsdata.testing import RECIPIENT, SUPPLIER

#: Spellings the issue names, each with the field it must feed without a mapping file.
COMMON = [
    ("GSTIN/UIN of Supplier", "supplier_gstin"), ("Supplier GSTIN", "supplier_gstin"),
    ("Party GSTIN", "supplier_gstin"), ("GSTIN of supplier", "supplier_gstin"),
    ("Invoice No", "doc_number"), ("Bill No", "doc_number"), ("Supplier Invoice No", "doc_number"),
    ("Inv No.", "doc_number"), ("Document Number", "doc_number"), ("Invoice Date", "doc_date"),
    ("Bill Date", "doc_date"), ("Taxable Value", "taxable_value"),
    ("Taxable Amt", "taxable_value"), ("Integrated Tax", "igst"), ("IGST Amount", "igst"),
    ("Central Tax", "cgst"), ("State/UT Tax", "sgst"), ("Cess Amount", "cess"),
    ("Invoice Value", "doc_value"), ("Place Of Supply", "pos"),
    ("Reverse Charge", "reverse_charge"), ("Voucher No", "register_id"),
    ("Voucher Type", "doc_type"), ("IGST Amount (Rs.)", "igst"),
    ("Taxable Value (₹)", "taxable_value"),
    ("  supplier   gstin ", "supplier_gstin"), ("INVOICE_NO", "doc_number"),
]  # fmt: skip


@pytest.mark.parametrize(("header", "field"), COMMON)
def test_common_spellings_are_recognised(write_csv, header, field):
    renamed = {"Supplier GSTIN": "supplier_gstin", "Bill No": "doc_number",
               "Bill Date": "doc_date", "Taxable Value": "taxable_value", "IGST": "igst",
               "CGST": "cgst", "SGST": "sgst", "Cess": "cess", "Invoice Value": "doc_value",
               "Place of Supply": "pos", "Reverse Charge": "reverse_charge",
               "Voucher No": "register_id", "Voucher Type": "doc_type"}  # fmt: skip
    row = {renamed.get(h, h): v for h, v in BASE_ROW.items()}
    row[header] = row.pop(field)
    result = read_register(write_csv([row]))
    assert result.mapping_used[field] == header.strip()
    assert result.documents.height == 1


def test_spellings_are_one_source_with_no_header_claimed_twice():
    seen: dict[str, str] = {}
    for name, words in spellings()["headers"].items():
        for word in words:
            assert seen.setdefault(key(word), name) == name, f"{word!r} claimed by {name}"


def test_bill_date_wins_over_voucher_date_whatever_the_order(write_csv):
    rows = [{"Bill Date": "05-11-2025", **BASE_ROW}]  # Voucher Date column comes after
    result = read_register(write_csv(rows))
    assert result.mapping_used["doc_date"] == "Bill Date"
    assert result.mapping_used["voucher_date"] == "Voucher Date"
    assert result.documents["doc_date"].to_list() == [dt.date(2025, 11, 5)]


def test_missing_columns_error_lists_headers_seen_and_columns_missing(write_csv):
    rows = make_rows({"Bill No": ..., "Taxable Value": ...})
    with pytest.raises(InputError) as info:
        read_register(write_csv(rows))
    message = str(info.value)
    assert "\n" not in message
    assert "register.csv: required column(s) not found: doc_number, taxable_value" in message
    assert "headers seen: 'Voucher No', 'Voucher Date', 'Supplier Name'" in message
    assert "--mapping" in message
    assert "tally" in message


def test_no_tax_head_at_all_is_missing(write_csv):
    rows = make_rows({"IGST": ..., "CGST": ..., "SGST": ...})
    with pytest.raises(InputError, match="igst/cgst/sgst"):
        read_register(write_csv(rows))


def test_mapping_file_overrides_spellings_and_sets_options(write_csv, tmp_path):
    row = {"Ref No": "R-77", "Party": "Acme", "Tax Id": SUPPLIER, "Dated": "11/05/2025",
           "Net": "-500", "IGST": "-90", "Gross": "-590", "Our No": "J-1"}  # fmt: skip
    mapping = tmp_path / "erp.toml"
    mapping.write_text(
        '[columns]\ndoc_number = "Ref No"\nsupplier_gstin = "Tax Id"\ndoc_date = "Dated"\n'
        'taxable_value = "Net"\ndoc_value = "Gross"\nregister_id = "Our No"\n'
        '[options]\ndate_format = "%m/%d/%Y"\nsign_convention = "absolute"\n'
        'default_doc_type = "DN"\n',
        encoding="utf-8",
    )
    result = read_register(write_csv([row]), mapping=mapping)
    doc = result.documents.row(0, named=True)
    assert doc["doc_number"] == "R-77"
    assert doc["register_id"] == "J-1"
    assert doc["doc_date"] == dt.date(2025, 11, 5)  # month first, as the mapping says
    assert (doc["doc_type"], doc["taxable_value"]) == ("DN", Decimal("500.00"))  # absolute
    assert result.mapping_used["doc_number"] == "Ref No"


def test_mapping_naming_an_absent_header_is_an_input_error(write_csv, tmp_path):
    mapping = tmp_path / "m.toml"
    mapping.write_text('[columns]\ndoc_number = "Ref No"\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"names 'Ref No' for doc_number.*headers seen"):
        read_register(write_csv(make_rows({})), mapping=mapping)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("[columns]\nbill = 'X'\n", "unknown field 'bill'"),
        ("[options]\nsign_convention = 'weird'\n", "sign_convention must be one of"),
        ("[options]\ndate_format = 'dd/mm/yyyy'\n", "strftime"),
        ("[columns\n", "mapping file is not valid TOML"),
    ],
)
def test_bad_mapping_files_are_input_errors(tmp_path, text, match):
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=match):
        load_mapping(path)


def test_a_mapping_can_disable_a_field(write_csv, tmp_path):
    mapping = tmp_path / "m.toml"
    mapping.write_text('[columns]\nvoucher_date = ""\n', encoding="utf-8")
    result = read_register(write_csv(make_rows({"Bill Date": ""})), mapping=mapping)
    assert "voucher_date" not in result.mapping_used
    assert result.rejects["reason"].str.starts_with("missing document date").to_list() == [True]


def test_id_column_option(write_csv):
    rows = make_rows({"Bill Date": "05-11-2025"})
    rows[0]["Ledger Ref"] = "L-42"
    result = read_register(write_csv(rows), id_column="Ledger Ref")
    assert result.documents["register_id"].to_list() == ["L-42"]
    with pytest.raises(InputError, match="id column 'Nope' not found"):
        read_register(write_csv(rows), id_column="Nope")


def test_without_an_id_column_register_id_is_the_row_number(write_csv):
    docs = read_register(write_csv(make_rows({"Voucher No": ...}, {"Voucher No": ...}))).documents
    assert docs["register_id"].to_list() == ["1", "2"]


def test_tally_preset_reads_a_tally_voucher_register(write_csv):
    assert "tally" in presets()
    row = {"Date": "6-Nov-25", "Particulars": "Acme Traders", "Voucher Type": "Purchase",
           "Voucher No.": "142", "Supplier Invoice No.": "AT/25-26/0042",
           "Supplier Invoice Date": "5-Nov-25", "GSTIN/UIN": SUPPLIER, "Value": "10,000.00",
           "Integrated Tax Amount": "1,800.00", "Central Tax Amount": "",
           "State Tax Amount": "", "Cess Amount": "", "Gross Total": "11,800.00"}  # fmt: skip
    result = read_register(write_csv([row], title=["Acme Industries", "Purchase Register"]),
                           preset="tally")  # fmt: skip
    assert result.rejects.height == 0
    doc = result.documents.row(0, named=True)
    assert (doc["register_id"], doc["doc_number"]) == ("142", "AT/25-26/0042")
    assert doc["doc_date"] == dt.date(2025, 11, 5)
    assert doc["supplier_name"] == "Acme Traders"
    assert (doc["taxable_value"], doc["igst"]) == (Decimal("10000.00"), Decimal("1800.00"))
    assert result.mapping_used["taxable_value"] == "Value"


def test_tally_preset_reads_the_gstr2_layout(write_csv):
    row = {"GSTIN of Supplier": SUPPLIER, "Invoice Number": "X-1", "Invoice date": "05-Nov-2025",
           "Invoice Value": "118", "Place Of Supply": "24-Gujarat", "Reverse Charge": "N",
           "Taxable Value": "100", "Integrated Tax Paid": "18", "Central Tax Paid": "0",
           "State/UT Tax Paid": "0", "Cess Paid": "0"}  # fmt: skip
    result = read_register(write_csv([row]), preset="tally")
    assert result.documents.select("doc_number", "igst", "pos").rows() == [
        ("X-1", Decimal("18.00"), "24")
    ]


def test_mapping_file_may_build_on_a_preset(write_csv, tmp_path):
    mapping = tmp_path / "m.toml"
    mapping.write_text('preset = "tally"\n[columns]\nregister_id = "Our Ref"\n', "utf-8")
    row = {"Our Ref": "Z9", "Particulars": "Acme", "Supplier Invoice No.": "A1",
           "Supplier Invoice Date": "5-Nov-25", "GSTIN/UIN": SUPPLIER, "Value": "100",
           "Integrated Tax Amount": "18", "Recipient GSTIN": RECIPIENT}  # fmt: skip
    docs = read_register(write_csv([row]), mapping=mapping).documents
    assert docs.select("register_id", "supplier_name", "recipient_gstin").rows() == [
        ("Z9", "Acme", RECIPIENT)
    ]


def test_unknown_preset_is_a_usage_error(write_csv):
    with pytest.raises(UsageError, match="unknown preset 'sap'; available: busy, tally, zoho"):
        read_register(write_csv(make_rows({})), preset="sap")


def test_decimal_comma_option(write_csv, tmp_path):
    mapping = tmp_path / "eu.toml"
    mapping.write_text("[options]\ndecimal_comma = true\n", encoding="utf-8")
    rows = make_rows({"Taxable Value": "1.234,56", "IGST": "222,22", "Invoice Value": ""})
    docs = read_register(write_csv(rows, delimiter=";"), mapping=mapping).documents
    assert docs.select("taxable_value", "igst").rows() == [(Decimal("1234.56"), Decimal("222.22"))]


def test_user_options_win_over_the_preset_even_when_they_are_defaults(write_csv, tmp_path):
    mapping = tmp_path / "m.toml"
    mapping.write_text(
        'preset = "tally"\n[options]\nsign_convention = "negative_is_credit_note"\n', "utf-8"
    )
    rows = make_rows({"Taxable Value": "-10", "IGST": "-1.8", "Invoice Value": "-11.80"})
    docs = read_register(write_csv(rows), mapping=mapping).documents
    assert docs["doc_type"].to_list() == ["CN"]
