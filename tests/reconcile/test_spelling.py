"""Issue 14: a document is found however the books spelled its number, and only with a
corroborating amount or date when the numbers agree only after normalisation."""

import datetime as dt

import polars as pl
import pytest

from imsdata.reconcile import explain, reconcile
from imsdata.reconcile.numbers import with_number_keys
from imsdata.testing import ims_frame, register_frame

D = dt.date(2025, 11, 5)  # FY 2025-26
D24 = dt.date(2024, 11, 5)  # FY 2024-25


def paired(ims_number: str, books_number: str, date: dt.date = D, **books) -> dict:
    ims = ims_frame([{"doc_number": ims_number, "doc_date": date}])
    reg = register_frame([{"doc_number": books_number, "doc_date": date, **books}])
    rows = reconcile(ims, reg).filter(pl.col("doc_key").is_not_null()).to_dicts()
    return rows[0]


@pytest.mark.parametrize(
    ("ims_number", "books_number"),
    [
        # the FY token glued to the number, separators dropped (before and after the serial)
        ("INV/25-26/1230", "INV25261230"),
        ("1949/25-26", "19492526"),
        ("TI-1253/2025-26", "TI1253202526"),
        ("ABC/2025-2026/77", "ABC2025202677"),
        # the FY token with zero-padded parts
        ("0182/25-26", "0182/25-026"),
        ("0904/25-26", "0904/25-00026"),
        ("TI-1278/2025-26", "TI-1278/2025-0026"),
        # an FY the supplier's number does not carry, appended or prepended in the books
        ("S0000523", "S0000523202526"),
        ("CRN-00067", "CRN000672526"),
        ("S0000523", "S2526523"),
        ("00620", "006202526"),  # 620 + 2526, not 6 + 202526: both readings are keys
        # the prefix dropped or zero-padded
        ("INV/25-26/2339", "25262339"),
        ("INV/25-26/1469", "INV00025261469"),
        # and the other way round: the supplier glued, the books separated
        ("INV25261230", "INV/25-26/1230"),
    ],
)
def test_every_spelling_class_pairs_within_tolerance(ims_number, books_number):
    row = paired(ims_number, books_number)
    assert row["register_id"] == "1"
    assert row["match_status"] == "within_tolerance"
    assert "number matched after normalisation" in row["reasons"]


def test_the_fy_is_recognised_from_the_documents_own_date():
    assert paired("S0000523", "S0000523202425", D24)["register_id"] == "1"
    # in FY 2025-26, 202425 is part of the number: nothing to un-glue, no pairing
    assert paired("S0000523", "S0000523202425", D)["register_id"] is None


@pytest.mark.parametrize(
    ("books", "status"),
    [
        ({"taxable_value": "10000.60"}, "within_tolerance"),  # rounding
        ({"doc_date": D + dt.timedelta(days=6)}, "within_tolerance"),  # a date a few days off
        ({"taxable_value": "11500.00"}, "mismatch"),  # an amount mismatch: same date
    ],
)
def test_spelling_combined_with_noise_still_pairs(books, status):
    row = paired("INV/25-26/1230", "INV25261230", **books)
    assert (row["register_id"], row["match_status"]) == ("1", status)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("BILL-23-00040", "BILL-23-00045"),
        ("12", "312"),
        ("QKI/055190", "QKI/053612"),
        ("INV/25-26/1230", "INV25261231"),
        ("S0000523", "S0000524202526"),
        ("INV/25-26/2339", "25262393"),
    ],
)
def test_numbers_whose_serials_differ_never_pair(a, b):
    assert paired(a, b)["register_id"] is None


def test_an_invoice_never_pairs_with_a_credit_note_of_the_same_number():
    ims = ims_frame([{"doc_number": "INV25261230", "section": "b2bcn"}])
    reg = register_frame([{"doc_number": "INV/25-26/1230", "doc_type": "INV"}])
    assert reconcile(ims, reg).filter(pl.col("doc_key").is_not_null())["register_id"][0] is None


def test_a_number_that_is_a_lone_year_and_a_padded_serial_keeps_its_serial():
    frame = pl.DataFrame({"n": ["2025/00026", "TI-1278/2025-0026", "25-00026"], "d": [D] * 3})
    keys = with_number_keys(frame, "n", "d", glued=True)
    assert keys["num_norm"].to_list() == ["26", "1278", "2526"]  # only an FY: kept


def test_glued_key_is_only_kept_where_it_differs():
    frame = pl.DataFrame({"n": ["INV/25-26/1230", "INV25261230", "4412"], "d": [D] * 3})
    keys = with_number_keys(frame, "n", "d", glued=True)
    assert keys["num_glued"].to_list() == [None, "1230", None]


# --- corroboration -------------------------------------------------------------------------
FAR = {"taxable_value": "48988.26", "cgst": "4408.94", "sgst": "4408.94"}


@pytest.mark.parametrize(("ims_number", "books_number"), [("INV/25-26/1229", "INV/1229"),
                                                          ("720", "720/2025-26")])  # fmt: skip
def test_a_normalised_number_with_nothing_corroborating_stays_unpaired(ims_number, books_number):
    ims = ims_frame([{"doc_number": ims_number}])
    reg = register_frame(
        [{"doc_number": books_number, "doc_date": D - dt.timedelta(days=60), **FAR}]
    )
    out = reconcile(ims, reg)
    assert sorted(out["match_status"].to_list()) == ["missing_in_ims", "missing_in_register"]
    why = explain(ims_number, ims, reg, matches=out).to_dicts()[0]
    assert why["verdict"] == "rejected"
    assert "refused: the numbers are equal only after normalisation" in why["failed_tests"]


def test_the_date_in_the_window_corroborates_a_far_amount_as_a_mismatch():
    row = paired("INV/25-26/1229", "INV/1229", **FAR)
    assert (row["register_id"], row["match_status"]) == ("1", "mismatch")


def test_an_amount_in_the_wide_band_corroborates_a_far_date():
    books = {"doc_date": D - dt.timedelta(days=60), "taxable_value": "11000.00"}
    row = paired("INV/25-26/1229", "INV/1229", **books)
    assert (row["register_id"], row["match_status"]) == ("1", "mismatch")


def test_the_raw_number_needs_no_corroboration():
    row = paired("INV/1229", "INV/1229", doc_date=D - dt.timedelta(days=60), **FAR)
    assert (row["register_id"], row["match_status"]) == ("1", "mismatch")


def test_a_short_plain_serial_is_never_read_as_serial_plus_a_glued_fy():
    # 12526 and 102526 are serials of FY 25-26, not serial 1 / 10 with 2526 glued to them
    frame = pl.DataFrame({"n": ["12526", "102526", "1002526"], "d": [D] * 3})
    keys = with_number_keys(frame, "n", "d", glued=True)
    assert keys["num_glued"].to_list() == [None, None, "100"]
    assert paired("12526", "1")["register_id"] is None
