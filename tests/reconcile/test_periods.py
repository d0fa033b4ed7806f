"""Issue 14: books are monthly, IMS is not: reconcile against the books of every month."""

import datetime as dt

import polars as pl

from imsdata.reconcile import periods, reconcile
from imsdata.testing import ims_frame, register_frame

D = dt.date(2025, 9, 28)


def test_a_document_booked_in_another_month_pairs_and_says_so(by_number, books_only):
    ims = ims_frame([{"doc_number": "A-1", "doc_date": D}, {"doc_number": "A-2"}])
    october = periods.with_book_period(register_frame([{"doc_number": "A-2"}]), "102025")
    september = register_frame(
        [
            {"doc_number": "A-1", "doc_date": D, "register_id": "S1"},
            {"doc_number": "Z-9", "doc_date": D, "register_id": "S2"},  # unmatched in September
        ]
    ).with_columns(book_period=pl.lit("092025"))
    out = reconcile(ims, periods.combine_books(october, september))
    rows = by_number(out)
    assert rows["A-1"]["register_id"] == "S1"
    assert rows["A-1"]["match_status"] == "exact"
    assert rows["A-1"]["reasons"].endswith("booked in 09-2025")
    assert rows["A-1"]["booked_period"] == "092025"
    assert "booked in" not in rows["A-2"]["reasons"]
    assert books_only(out) == {}  # September's unmatched row was reported in September


def test_a_booking_already_paired_and_accepted_earlier_is_flagged(by_number):
    ims = ims_frame([{"doc_number": "A-1"}, {"doc_number": "A-2"}])
    reg = register_frame([{"doc_number": "A-1", "register_id": "R1"}, {"doc_number": "A-2"}])
    claimed = pl.DataFrame(
        {"register_id": ["R1"], "doc_key": ["b2b|X|A-1|2025-09-01"], "period": ["092025"]}
    )
    rows = by_number(reconcile(ims, reg, claimed=claimed))
    assert rows["A-1"]["already_claimed"] is True
    assert rows["A-1"]["reasons"].endswith(
        "already claimed: this booking was paired with b2b|X|A-1|2025-09-01 and accepted in 09-2025"
    )
    assert rows["A-2"]["already_claimed"] is False


def test_the_default_rule_keeps_an_already_claimed_document_pending():
    from imsdata.rules import suggest

    ims = ims_frame([{"doc_number": "A-1"}])
    reg = register_frame([{"doc_number": "A-1", "register_id": "R1"}])
    claimed = pl.DataFrame({"register_id": ["R1"], "doc_key": ["k"], "period": ["092025"]})
    out = suggest(ims, reconcile(ims, reg, claimed=claimed), period="112025")
    row = out.row(0, named=True)
    assert (row["action"], row["rule_id"]) == ("pending", "r_already_claimed")
    assert "double claim" in row["reason"]


def test_where_pending_is_blocked_an_already_claimed_document_is_left_as_it_is():
    from imsdata.rules import suggest

    ims = ims_frame([{"doc_number": "A-1", "pending_blocked": True}])
    reg = register_frame([{"doc_number": "A-1", "register_id": "R1"}])
    claimed = pl.DataFrame({"register_id": ["R1"], "doc_key": ["k"], "period": ["092025"]})
    out = suggest(ims, reconcile(ims, reg, claimed=claimed), period="112025")
    row = out.row(0, named=True)
    assert (row["action"], row["rule_id"]) == ("no_action", "r_already_claimed_blocked")
