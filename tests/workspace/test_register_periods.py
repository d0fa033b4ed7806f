"""Issue 14: each register import keeps its period; a later month reconciles against the books
of every earlier month and sees which bookings were already claimed."""

import datetime as dt

import polars as pl

from imsdata.reconcile import periods, reconcile
from imsdata.rules import suggest
from imsdata.testing import ims_frame, register_frame
from imsdata.workspace import Workspace

SEP = dt.date(2025, 9, 20)


def test_october_sees_septembers_books_and_what_was_claimed_there(tmp_path):
    with Workspace(tmp_path / "ws.duckdb") as ws:
        # September: A-1 booked and accepted; Z-9 booked, not in IMS (reported in September).
        ims_sep = ims_frame([{"doc_number": "A-1", "doc_date": SEP, "supplier_period": "092025"}])
        reg_sep = register_frame(
            [
                {"doc_number": "A-1", "doc_date": SEP, "register_id": "S1"},
                {"doc_number": "Z-9", "doc_date": SEP, "register_id": "S2"},
                {"doc_number": "B-2", "doc_date": SEP, "register_id": "S3"},
            ]
        )
        ws.import_ims(ims_sep)
        ws.import_register(reg_sep, period="092025")
        sep_matches = reconcile(ims_sep, reg_sep)
        ws.save_matches(sep_matches)
        sep = suggest(ims_sep, sep_matches, period="092025")
        assert sep.filter(pl.col("doc_key").str.contains("A-1"))["action"].to_list() == ["accept"]
        ws.store_suggestions(sep)

        # October: the supplier reports A-1 again (another date), and B-2 dated in September.
        ims_oct = ims_frame(
            [
                {"doc_number": "A-1", "doc_date": SEP + dt.timedelta(days=2)},
                {"doc_number": "B-2", "doc_date": SEP},
                {"doc_number": "C-3"},
            ]
        )
        reg_oct = register_frame([{"doc_number": "C-3", "register_id": "O1"}])
        earlier = ws.books_of_other_periods("102025")
        assert earlier["register_id"].to_list() == ["S1", "S2", "S3"]
        assert earlier["book_period"].unique().to_list() == ["092025"]
        claimed = ws.claimed_bookings("102025")
        assert claimed.select("register_id", "period").rows() == [("S1", "092025")]

        books = periods.combine_books(periods.with_book_period(reg_oct, "102025"), earlier)
        out = reconcile(ims_oct, books, period="102025", claimed=claimed)

    rows = {
        r["doc_key"].split("|")[2]: r
        for r in out.filter(pl.col("doc_key").is_not_null()).to_dicts()
    }
    assert rows["B-2"]["register_id"] == "S3"
    assert rows["B-2"]["reasons"].endswith("booked in 09-2025")
    assert rows["B-2"]["already_claimed"] is False
    assert rows["A-1"]["register_id"] == "S1"
    assert rows["A-1"]["already_claimed"] is True
    assert rows["C-3"]["booked_period"] == "102025"
    # September's unmatched Z-9 is not reported again in October
    assert out.filter(pl.col("doc_key").is_null())["register_id"].to_list() == []
    decided = suggest(ims_oct, out, period="102025")
    a1 = decided.filter(pl.col("doc_key").str.contains("A-1")).row(0, named=True)
    assert (a1["action"], a1["rule_id"]) == ("pending", "r_already_claimed")


def test_a_workspace_without_register_periods_has_no_other_books(tmp_path):
    with Workspace(tmp_path / "ws.duckdb") as ws:
        ws.import_register(register_frame([{"doc_number": "A-1"}]))  # no period (older use)
        assert ws.books_of_other_periods("102025").is_empty()
        assert ws.claimed_bookings("102025").is_empty()
