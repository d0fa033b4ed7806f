"""Every file in ../shared/real-world (public files nobody on this project wrote) read as its
user would, asserting what an accountant reads from it (the values PROVENANCE.txt states).

The folder lives beside the repository and is never copied into it: absent, these tests skip.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from imsdata.cli import app
from imsdata.errors import InputError
from imsdata.portal.read import read
from imsdata.reconcile import reconcile
from imsdata.register import read_register

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "real-world"
pytestmark = pytest.mark.skipif(not REAL.is_dir(), reason="../shared/real-world is absent")
D = Decimal


def _docs(frame: pl.DataFrame, *columns: str) -> list[tuple]:
    return frame.select(columns).rows()


# --- IMS in three wrappers ------------------------------------------------------------------


def test_ic_ims_bare_sections_give_one_document_per_section():
    result = read(REAL / "ic-ims" / "test_ims.json")
    docs = result.documents
    assert sorted(docs["section"]) == ["b2b", "b2ba", "b2bcn", "b2bcna", "b2bdn", "b2bdna"]
    assert set(docs["supplier_gstin"]) == {"24MAYAS0100J1JD"}
    b2b = docs.filter(pl.col("section") == "b2b").row(0, named=True)
    assert (b2b["doc_number"], b2b["portal_action"], b2b["supplier_filed"]) == ("b1", "R", False)
    assert "source" not in docs.columns  # an IMS download keeps the IMS contract
    assert result.rejects.is_empty()


def test_fillgst_web_ui_shape_reads_booleans_and_filing_code():
    docs = read(REAL / "fillgst-ims-webapi" / "ims_portal_getinvoices_b2b.json").documents
    row = docs.row(0, named=True)
    assert (row["doc_number"], row["doc_date"], row["pos"]) == (
        "INV-ELIDED-1", dt.date(2025, 11, 1), "07"
    )  # fmt: skip
    assert (row["taxable_value"], row["cgst"], row["sgst"]) == (D("210000"), D("18900"), D("18900"))
    assert row["supplier_filed"] is True
    assert row["pending_blocked"] is False


def test_sandbox_double_wrapper_is_unwrapped_and_its_odd_gstin_loaded_with_a_warning(tmp_path):
    path = REAL / "sandbox-ims-getinvoices" / "ims_getinvoices_b2b_sandbox.json"
    result = read(path)
    assert result.rejects.is_empty()
    (doc,) = result.documents.rows(named=True)
    assert (doc["section"], doc["supplier_gstin"]) == ("b2b", "24ABCCU0123M1YZ")
    assert doc["supplier_filed"] is False  # srcfilstatus "Not Filed"
    # its 14th character "Y" is outside the registered-taxpayer pattern: said, not dropped
    flagged = result.warnings.filter(pl.col("key") == "stin")
    assert flagged["reason"].str.contains("does not follow the registered-taxpayer").all()
    assert flagged.height == 1
    cli = CliRunner().invoke(app, ["ingest", str(path), "--out", str(tmp_path / "x.parquet")])
    assert cli.exit_code == 0, cli.output


# --- GSTR-2B and GSTR-2A --------------------------------------------------------------------


def test_ic_gstr2b_portal_shape_is_read_as_gstr2b():
    result = read(REAL / "ic-gstr2b" / "test_gstr_2b.json")
    docs = result.documents
    assert set(docs["source"]) == {"gstr2b"}
    assert _docs(docs, "section", "supplier_gstin", "doc_number") == [
        ("b2b", "01AABCE2207R1Z5", "S008400"),
        ("b2ba", "01AABCE2207R1Z5", "S008400"),
        ("b2bcn", "01AAAAP1208Q1ZS", "533515"),
        ("b2bcna", "01AAAAP1208Q1ZS", "533515"),
    ]
    b2b = docs.row(0, named=True)
    assert (b2b["taxable_value"], b2b["cgst"], b2b["sgst"], b2b["doc_value"]) == (
        D("400"), D("200"), D("200"), D("729248.16")
    )  # fmt: skip
    assert '"itcavl": "N"' in b2b["extra_json"]  # 2B's ITC availability kept for check-2b
    assert set(docs["recipient_gstin"]) == {"01AABCE2207R1Z5"}
    not_read = dict(zip(result.rejects["section"], result.rejects["reason"], strict=True))
    assert sorted(not_read) == ["impg", "impgsez", "isd", "isda"]
    assert all("not a supplier document" in r for r in not_read.values())


def test_sandbox_flat_gstr2b_pairs_with_the_same_authors_books():
    docs = read(REAL / "sandbox-gstr2b-flat" / "gstr2b_sandbox_flat_032025.json").documents
    assert docs.height == 4
    assert set(docs["source"]) == {"gstr2b"}
    indigo = docs.filter(pl.col("doc_number") == "KA1242503DK97450").row(0, named=True)
    assert (indigo["supplier_gstin"], indigo["cgst"], indigo["sgst"]) == (
        "29AABCI2726B1ZY", D("55"), D("55")
    )  # fmt: skip
    books = read_register(REAL / "talha-books-xlsx" / "sample_books_data.xlsx").documents
    matches = reconcile(docs.drop("source"), books)
    paired = matches.filter(pl.col("doc_key").is_not_null() & pl.col("register_id").is_not_null())
    assert sorted(paired["register_id"]) == ["551", "552", "553", "554"]
    assert set(paired["match_status"]) <= {"exact", "within_tolerance"}
    only_books = matches.filter(pl.col("doc_key").is_null())["register_id"]
    assert sorted(only_books) == ["550", "555"]  # Neo Fasteners and BKC: not in this 2B


def test_ic_gstr2a_items_are_summed_and_notes_keep_their_own_number():
    result = read(REAL / "ic-gstr2a" / "test_gstr_2a.json")
    docs = result.documents
    assert set(docs["source"]) == {"gstr2a"}
    amended = docs.filter(pl.col("section") == "b2ba").row(0, named=True)
    assert (amended["taxable_value"], amended["cgst"], amended["cess"]) == (
        D("7211.04"), D("1501.88"), D("671.21")
    )  # two item lines  # fmt: skip
    note = docs.filter(pl.col("section") == "b2bcn").row(0, named=True)
    assert (note["doc_number"], note["doc_date"]) == ("533515", dt.date(2018, 9, 23))
    assert sorted(result.rejects["section"]) == ["impg", "impgsez", "isd"]


def test_sandbox_gstr2a_list_has_headers_only_and_says_amounts_are_not_compared():
    result = read(REAL / "sandbox-gstr2a-list" / "gstr2a_sandbox_list_012025.json")
    docs = result.documents
    assert sorted(docs["doc_number"]) == ["11129", "11652", "AL-2425-0038", "KA1242503DK97450"]
    assert docs["taxable_value"].null_count() == 4
    assert docs.filter(pl.col("doc_number") == "KA1242503DK97450")["doc_value"][0] == D("2310")
    assert "amounts are not compared" in result.warnings["reason"][0]


# --- purchase registers ---------------------------------------------------------------------


def test_tally_gst_register_sums_rate_columns_as_its_author_expected():
    docs = read_register(REAL / "tally-pr-gst" / "Purchase Register.csv").documents
    first, second = docs.rows(named=True)
    assert (first["doc_number"], first["doc_date"], first["taxable_value"], first["cgst"]) == (
        "INV-88", dt.date(2026, 8, 3), D("10000.00"), D("900.00")
    )  # fmt: skip
    assert (second["doc_number"], second["cgst"], second["sgst"]) == ("B-5", D("50"), D("50"))
    assert [first["register_id"], second["register_id"]] == ["P/12", "P/13"]


def test_tally_default_register_is_refused_with_the_columns_to_enable():
    with pytest.raises(InputError) as caught:
        read_register(REAL / "tally-pr-default" / "Purchase Register.csv")
    assert "switch on 'GSTIN/UIN' and 'Supplier Invoice No.'" in str(caught.value)


@pytest.mark.parametrize("name", ["sample_books_data.xlsx", "books_data_from_source.csv"])
def test_talha_books_read_voucher_ref_and_dash_for_zero(name):
    result = read_register(REAL / "talha-books-xlsx" / name)
    docs = result.documents
    assert result.rejects.is_empty()
    assert docs.height == 6
    neo = docs.filter(pl.col("doc_number") == "27").row(0, named=True)
    assert (neo["register_id"], neo["doc_date"], neo["igst"], neo["cgst"]) == (
        "550", dt.date(2025, 3, 21), D("0"), D("243.45")
    )  # fmt: skip
    assert docs["taxable_value"].sum() == D("133476.90")


def test_hakrnjn_credit_document_type_is_a_credit_purchase():
    result = read_register(REAL / "hakrnjn-purchase-xlsx" / "Purchase Data Test.xlsx")
    row = result.documents.row(0, named=True)
    assert (row["register_id"], row["supplier_gstin"], row["doc_number"], row["doc_type"]) == (
        "1984", "24DPQPK2377E1ZP", "287", "INV"
    )  # fmt: skip
    assert (row["doc_date"], row["taxable_value"], row["doc_value"]) == (
        dt.date(2025, 3, 29), D("68000"), D("71400")
    )  # fmt: skip
    assert result.warnings.filter(pl.col("field") == "doc_type")["value"].to_list() == ["CREDIT"]


def test_hakrnjn_template_has_no_data_and_the_cli_says_so(tmp_path):
    path = REAL / "hakrnjn-purchase-xlsx" / "Purchase Data Sample.xlsx"
    result = read_register(path)
    assert result.documents.is_empty()
    assert set(result.rejects["source_row"]) == {1}
    cli = CliRunner().invoke(app, ["register", str(path), "--out", str(tmp_path / "r.parquet")])
    assert isinstance(cli.exception, InputError)
    assert "no register row could be read" in str(cli.exception)


def test_chirag_total_gst_register_is_read_on_total_tax():
    result = read_register(REAL / "chirag-register-totalgst" / "purchase_register.csv")
    docs = result.documents
    assert docs["doc_number"].to_list() == ["P001", "P002", "P003", "P004", "P005"]
    assert set(docs["tax_heads"]) == {"total"}
    assert docs["igst"].sum() == D("11880")
    assert docs["taxable_value"].sum() == D("66000")


# --- files given in the wrong place ----------------------------------------------------------


@pytest.mark.parametrize(
    "relative",
    ["tally-pr-gst/Purchase Register.csv", "talha-books-xlsx/sample_books_data.xlsx"],
)
def test_a_register_given_as_the_download_is_named(relative):
    with pytest.raises(InputError, match="register FILE"):
        read(REAL / relative)


def test_a_download_given_as_the_register_is_named():
    with pytest.raises(InputError, match="not a purchase register"):
        read_register(REAL / "ic-gstr2b" / "test_gstr_2b.json")
