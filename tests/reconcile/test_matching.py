"""Reconciliation behaviour: statuses, one-to-one best-first pairing, classes, PAN, amendments,
recipients, duplicates, scope, and that nothing is lost."""

import datetime as dt

import polars as pl
import pytest

from imsdata.errors import InputError
from imsdata.reconcile import reconcile
from imsdata.schemas import MATCH_COLUMNS, MATCH_STATUSES
from imsdata.testing import RECIPIENT, SUPPLIER, ims_frame, make_gstin, register_frame

D = dt.date(2025, 11, 5)
BRANCH = make_gstin("29", SUPPLIER[2:12])  # same PAN, another state: another branch
OTHER_RECIPIENT = make_gstin("27", RECIPIENT[2:12])  # another registration of the buyer


def test_exact_when_number_date_and_every_amount_agree(by_number):
    out = reconcile(ims_frame([{"doc_number": "INV-1"}]), register_frame([{"doc_number": "INV-1"}]))
    row = by_number(out)["INV-1"]
    assert (row["register_id"], row["match_status"], row["match_score"]) == ("1", "exact", 100)
    assert row["reasons"] == "all fields agree"
    assert row["diff_taxable_value"] == 0
    assert row["diff_days"] == 0


def test_output_has_the_match_contract_and_known_statuses():
    out = reconcile(ims_frame([{}, {}]), register_frame([{"doc_number": "X-9"}]))
    assert out.schema == pl.Schema(MATCH_COLUMNS)
    assert set(out["match_status"]) <= set(MATCH_STATUSES)


def test_rounding_and_a_few_days_are_within_tolerance_with_reasons(by_number):
    ims = ims_frame([{"doc_number": "A-7", "taxable_value": "10000.60", "doc_date": D}])
    reg = register_frame([{"doc_number": "A-7", "doc_date": D + dt.timedelta(days=3)}])
    row = by_number(reconcile(ims, reg))["A-7"]
    assert row["match_status"] == "within_tolerance"
    assert 80 <= row["match_score"] < 100
    assert row["reasons"] == (
        "within tolerance: rounding and date; "
        "taxable value differs by Rs 0.60 (IMS 10,000.60, books 10,000.00); "
        "document value differs by Rs 0.60 (IMS 11,800.60, books 11,800.00); "
        "dated 3 days apart (later in the books, within the 10-day window)"
    )
    assert row["diff_days"] == -3
    assert str(row["diff_taxable_value"]) == "0.60"


def test_normalised_number_matches_and_says_so(by_number):
    ims = ims_frame([{"doc_number": "INV/2025-26/0042"}])
    reg = register_frame([{"doc_number": "inv-42"}])
    row = by_number(reconcile(ims, reg))["INV/2025-26/0042"]
    assert row["match_status"] == "within_tolerance"
    assert row["match_pass"] == "gstin_normalised"
    assert row["reasons"] == ("number matched after normalisation: 'INV/2025-26/0042' ~ 'inv-42'")


def test_amounts_beyond_tolerance_are_a_mismatch_naming_the_difference(by_number):
    ims = ims_frame([{"doc_number": "B-5", "taxable_value": "10012.40"}])
    row = by_number(reconcile(ims, register_frame([{"doc_number": "B-5"}])))["B-5"]
    assert row["match_status"] == "mismatch"
    assert row["reasons"].startswith(
        "taxable value differs by Rs 12.40 (IMS 10,012.40, books 10,000.00), beyond tolerance"
    )


def test_date_outside_the_window_is_a_mismatch(by_number):
    reg = register_frame([{"doc_number": "C-3", "doc_date": D + dt.timedelta(days=11)}])
    row = by_number(reconcile(ims_frame([{"doc_number": "C-3"}]), reg))["C-3"]
    assert row["match_status"] == "mismatch"
    assert row["reasons"] == "dated 11 days apart (later in the books, outside the 10-day window)"


def test_fuzzy_number_with_equal_numeric_core_is_probable(by_number):
    ims = ims_frame([{"doc_number": "ABC/42"}])
    row = by_number(reconcile(ims, register_frame([{"doc_number": "ABD-42"}])))["ABC/42"]
    assert row["match_status"] == "probable"
    assert row["match_pass"] == "gstin_fuzzy"
    assert "numeric core 42 agrees" in row["reasons"]


@pytest.mark.parametrize(
    ("ims_no", "reg_no"),
    [("BILL-23-00040", "BILL-23-00045"), ("12", "312"), ("QKI/055190", "QKI/053612")],
)
def test_adversarial_near_miss_numbers_never_pair_even_with_equal_amounts(
    ims_no, reg_no, by_number
):
    out = reconcile(ims_frame([{"doc_number": ims_no}]), register_frame([{"doc_number": reg_no}]))
    assert by_number(out)[ims_no]["match_status"] == "missing_in_register"
    assert out.filter(pl.col("register_id") == "1")["match_status"].to_list() == ["missing_in_ims"]


def test_greedy_trap_a_weak_early_candidate_does_not_take_the_true_counterpart(by_number):
    # Greedy in document order gives I1 its best (R1, a normalised match) and leaves I2 with the
    # weaker R2; globally best-first pairs each raw-equal number with its own booking.
    ims = ims_frame([{"doc_number": "INV-100"}, {"doc_number": "INV100"}])
    reg = register_frame(
        [
            {"doc_number": "INV100", "register_id": "R1"},
            {
                "doc_number": "INV-100",
                "register_id": "R2",
                "taxable_value": "9999.60",
                "doc_date": D + dt.timedelta(days=2),
            },
        ]
    )
    rows = by_number(reconcile(ims, reg))
    assert rows["INV100"]["register_id"] == "R1"
    assert rows["INV100"]["match_status"] == "exact"
    assert rows["INV-100"]["register_id"] == "R2"
    assert rows["INV-100"]["match_status"] == "within_tolerance"


def test_a_fuzzy_candidate_loses_the_booking_to_the_raw_match(by_number):
    ims = ims_frame([{"doc_number": "SR-42"}, {"doc_number": "42"}])  # SR-42 sorts first
    rows = by_number(reconcile(ims, register_frame([{"doc_number": "42"}])))
    assert rows["42"]["match_status"] == "exact"
    assert rows["SR-42"]["match_status"] == "missing_in_register"


def test_document_booked_twice_pairs_once_and_flags_the_duplicate(by_number, books_only):
    reg = register_frame(
        [{"doc_number": "D-1", "register_id": "V1"}, {"doc_number": "D-1", "register_id": "V2"}]
    )
    out = reconcile(ims_frame([{"doc_number": "D-1"}]), reg)
    assert by_number(out)["D-1"]["register_id"] == "V1"
    extra = books_only(out)["V2"]
    assert extra["match_status"] == "missing_in_ims"
    assert extra["duplicate_of"] == "V1"
    assert "booked twice" in extra["reasons"]


def test_credit_notes_never_pair_with_invoices(by_number, books_only):
    ims = ims_frame([{"section": "b2bcn", "doc_number": "CN-5"}])
    reg = register_frame([{"doc_number": "CN-5", "doc_type": "INV", "register_id": "inv"}])
    out = reconcile(ims, reg)
    assert by_number(out)["CN-5"]["match_status"] == "missing_in_register"
    assert books_only(out)["inv"]["match_status"] == "missing_in_ims"
    reg2 = register_frame([{"doc_number": "CN-5", "doc_type": "CN", "register_id": "cn"}])
    assert by_number(reconcile(ims, reg2))["CN-5"]["match_status"] == "exact"


def test_booking_under_another_branch_of_the_supplier_is_a_pan_match(by_number):
    reg = register_frame(
        [
            {
                "doc_number": "P-9",
                "supplier_gstin": BRANCH,
                "igst": "1800.00",
                "cgst": "0",
                "sgst": "0",
            }
        ]
    )
    row = by_number(reconcile(ims_frame([{"doc_number": "P-9"}]), reg))["P-9"]
    assert row["match_status"] == "pan_match"  # total tax equal across IGST vs CGST+SGST
    assert row["match_pass"] == "pan_raw"
    assert f"booked under GSTIN {BRANCH} (same PAN, another branch" in row["reasons"]


def test_pan_level_only_takes_leftovers(by_number, books_only):
    reg = register_frame(
        [
            {"doc_number": "P-9", "supplier_gstin": BRANCH, "register_id": "branch"},
            {"doc_number": "P-9", "register_id": "own"},
        ]
    )
    out = reconcile(ims_frame([{"doc_number": "P-9"}]), reg)
    assert by_number(out)["P-9"]["register_id"] == "own"
    assert books_only(out)["branch"]["match_status"] == "missing_in_ims"


def test_amendment_matches_through_its_original_and_supersedes_it(by_number):
    ims = ims_frame(
        [
            {"section": "b2b", "doc_number": "INV-40"},
            {
                "section": "b2ba",
                "doc_number": "INV-40A",
                "orig_doc_number": "INV-40",
                "orig_doc_date": D,
                "doc_date": D + dt.timedelta(days=20),
            },
        ]
    )
    rows = by_number(reconcile(ims, register_frame([{"doc_number": "INV-40"}])))
    amended = rows["INV-40A"]
    assert amended["register_id"] == "1"
    assert amended["match_pass"] == "gstin_raw_original"
    assert amended["match_status"] == "within_tolerance"
    assert "original number 'INV-40'" in amended["reasons"]
    original = rows["INV-40"]
    assert original["superseded_by"] == amended["doc_key"]
    assert original["match_status"] == "missing_in_register"
    assert "superseded by amendment" in original["reasons"]


def test_amendment_also_matches_through_its_new_number(by_number):
    ims = ims_frame(
        [
            {
                "section": "b2bcna",
                "doc_number": "CN-9R",
                "orig_doc_number": "CN-9",
                "orig_doc_date": D,
            }
        ]
    )
    reg = register_frame([{"doc_number": "CN-9R", "doc_type": "CN"}])
    assert by_number(reconcile(ims, reg))["CN-9R"]["match_status"] == "exact"


def test_wrong_recipient_booking_is_a_mismatch_naming_the_gstin(by_number):
    reg = register_frame([{"doc_number": "W-1", "recipient_gstin": OTHER_RECIPIENT}])
    row = by_number(reconcile(ims_frame([{"doc_number": "W-1"}]), reg))["W-1"]
    assert row["match_status"] == "mismatch"
    assert f"booked under recipient GSTIN {OTHER_RECIPIENT}" in row["reasons"]


def test_right_recipient_wins_over_wrong_recipient(by_number, books_only):
    reg = register_frame(
        [
            {"doc_number": "W-1", "recipient_gstin": OTHER_RECIPIENT, "register_id": "a"},
            {"doc_number": "W-1", "recipient_gstin": RECIPIENT, "register_id": "b"},
        ]
    )
    out = reconcile(ims_frame([{"doc_number": "W-1"}]), reg)
    assert by_number(out)["W-1"]["register_id"] == "b"
    assert by_number(out)["W-1"]["match_status"] == "exact"
    assert books_only(out)["a"]["duplicate_of"] == "b"


def test_out_of_scope_register_rows_are_not_reported_missing():
    reg = register_frame(
        [
            {"doc_number": "RC-1", "in_scope": False, "scope_reason": "reverse charge"},
            {"doc_number": "Q-1"},
        ]
    )
    out = reconcile(ims_frame([{}]).clear(), reg)
    assert out["register_id"].to_list() == ["2"]


def test_nothing_is_lost_and_output_is_sorted_and_deterministic():
    ims = ims_frame([{"doc_number": n} for n in ("Z-1", "A-1", "M-5", "M-6")])
    reg = register_frame([{"doc_number": n} for n in ("M-6", "A-1", "Q-7", "Z-1")])
    out = reconcile(ims, reg)
    assert out["doc_key"].drop_nulls().sort().to_list() == ims["doc_key"].sort().to_list()
    assert sorted(out["register_id"].drop_nulls()) == ["1", "2", "3", "4"]
    assert out.equals(reconcile(ims.reverse(), reg.reverse()))
    assert out["doc_key"].drop_nulls().is_sorted()
    assert out["doc_key"].is_null().is_sorted()  # IMS rows first, books-only rows last


def test_duplicate_identities_are_input_errors():
    ims = ims_frame([{"doc_number": "A"}, {"doc_number": "A"}])
    with pytest.raises(InputError, match="doc_key"):
        reconcile(ims, register_frame([{}]).clear())
    reg = register_frame([{"register_id": "7"}, {"register_id": "7"}])
    with pytest.raises(InputError, match="register_id '7'"):
        reconcile(ims_frame([{}]).clear(), reg)
    # found whether or not the identities come sorted, and the first duplicate is named
    ids = ["9", "3", "9", "1", "3"]
    reg = register_frame([{"register_id": i, "doc_number": f"N{n}"} for n, i in enumerate(ids)])
    for books in (reg, reg.sort("register_id")):
        with pytest.raises(InputError, match=r"register_id '3' appears 2 times \(2 dup"):
            reconcile(ims_frame([{}]).clear(), books)


def test_missing_columns_are_input_errors():
    with pytest.raises(InputError, match="register frame lacks"):
        reconcile(ims_frame([{}]).clear(), register_frame([{}]).clear().drop("in_scope"))


def test_rows_without_identity_are_input_errors():
    with pytest.raises(InputError, match="no register_id"):
        reconcile(ims_frame([{}]).clear(), register_frame([{"register_id": None}]))


def test_a_callers_engine_keeps_its_own_tables(by_number):
    from imsdata.engine import DuckDBEngine

    with DuckDBEngine() as eng:
        eng.execute("CREATE TABLE pairs AS SELECT 42 AS answer")
        out = reconcile(
            ims_frame([{"doc_number": "E-1"}]), register_frame([{"doc_number": "E-1"}]), engine=eng
        )
        assert by_number(out)["E-1"]["match_status"] == "exact"
        assert eng.execute("SELECT answer FROM main.pairs").fetchone() == (42,)
