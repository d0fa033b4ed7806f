"""Tolerances are configuration: defaults, TOML files, percent and per-head options."""

import datetime as dt
from decimal import Decimal

import pytest

from imsdata.errors import InputError
from imsdata.reconcile import Tolerances, reconcile
from imsdata.testing import ims_frame, register_frame

D = dt.date(2025, 11, 5)


def status(tol: Tolerances | None, ims_row: dict, reg_row: dict) -> str:
    out = reconcile(ims_frame([ims_row]), register_frame([reg_row]), tolerances=tol)
    return out["match_status"][0]


def test_documented_defaults():
    tol = Tolerances()
    assert (tol.amount_abs, tol.amount_pct, tol.total_abs, tol.total_pct, tol.date_days) == (
        Decimal("1.00"), Decimal("0"), None, None, 10,
    )  # fmt: skip
    assert tol.derived_total  # the document value is allowed the sum of its heads' tolerances
    assert (tol.candidate_days, tol.fuzzy_min_similarity, tol.corroboration_pct) == (
        366, Decimal("0.8"), Decimal("25"),
    )  # fmt: skip


def test_one_rupee_is_the_default_edge():
    base = {"doc_number": "T-1"}
    assert status(None, {**base, "taxable_value": "10001.00"}, base) == "within_tolerance"
    assert status(None, {**base, "taxable_value": "10001.01"}, base) == "mismatch"


def test_tolerances_from_toml_widen_amounts_and_narrow_the_date_window(tmp_path):
    path = tmp_path / "tol.toml"
    path.write_text("[tolerances]\namount_abs = 20\ntotal_abs = 20\ndate_days = 2\n")
    tol = Tolerances.from_toml(path)
    base = {"doc_number": "T-2"}
    assert status(tol, {**base, "taxable_value": "10012.40"}, base) == "within_tolerance"
    late = {**base, "doc_date": D + dt.timedelta(days=3)}
    assert status(tol, base, late) == "mismatch"
    out = reconcile(ims_frame([base]), register_frame([late]), tolerances=tol)
    assert "outside the 2-day window" in out["reasons"][0]


def test_percent_tolerance_applies_per_head_and_on_the_total(tmp_path):
    path = tmp_path / "pct.toml"
    path.write_text("amount_pct = 0.5\ntotal_pct = 0.5\n")  # top-level keys work too
    tol = Tolerances.from_toml(path)
    base = {"doc_number": "T-3"}
    # 40 on 10,000 is 0.4%: within 0.5%, far beyond Rs 1.
    assert status(tol, {**base, "taxable_value": "10040.00"}, base) == "within_tolerance"
    assert status(tol, {**base, "taxable_value": "10060.00"}, base) == "mismatch"


def test_per_head_override(tmp_path):
    path = tmp_path / "heads.toml"
    path.write_text("[tolerances]\ntotal_abs = 5\n[tolerances.heads.cess]\nabs = 5\n")
    tol = Tolerances.from_toml(path)
    base = {"doc_number": "T-4"}
    assert status(tol, {**base, "cess": "4.00"}, base) == "within_tolerance"
    assert status(tol, {**base, "igst": "4.00"}, base) == "mismatch"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("amount_abs = -1", "non-negative"),
        ("amount_abss = 1", "unknown tolerance key"),
        ("[tolerances.heads.vat]\nabs = 1", "unknown tolerance head"),
        ("amount_abs = [", "not valid TOML"),
        ('amount_abs = "x"', "must be a number"),
    ],
)
def test_bad_tolerance_files_are_input_errors_naming_the_file(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(InputError, match=message) as info:
        Tolerances.from_toml(path)
    assert "bad.toml" in str(info.value)


def test_missing_tolerance_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="not found"):
        Tolerances.from_toml(tmp_path / "none.toml")


# --- issue 12 item 5: heads first, the total derived from them, the date its own test ------
def test_every_head_within_tolerance_is_never_a_mismatch_on_the_total():
    # 0.50 off taxable, 0.40 + 0.40 off tax: 1.30 off the document value
    ims = {"doc_number": "T-1", "taxable_value": "10000.50", "cgst": "900.40", "sgst": "900.40"}
    out = reconcile(ims_frame([ims]), register_frame([{"doc_number": "T-1"}]))
    row = out.row(0, named=True)
    assert row["match_status"] == "within_tolerance"
    assert row["diff_doc_value"] == Decimal("1.30")
    assert row["reasons"].startswith("within tolerance: rounding;")


def test_the_derived_total_still_catches_a_total_off_beyond_its_heads():
    base = {"doc_number": "T-1"}
    assert status(None, {**base, "doc_value": "11805.00"}, base) == "within_tolerance"
    assert status(None, {**base, "doc_value": "11805.01"}, base) == "mismatch"


def test_an_explicit_total_tolerance_tests_the_total_on_its_own():
    ims = {"doc_number": "T-1", "taxable_value": "10000.50", "cgst": "900.40", "sgst": "900.40"}
    tol = Tolerances(total_abs=Decimal("1.00"))
    assert status(tol, ims, {"doc_number": "T-1"}) == "mismatch"


def test_the_date_window_is_its_own_test_and_its_own_reason():
    late = {"doc_number": "T-1", "doc_date": D + dt.timedelta(days=9)}
    out = reconcile(ims_frame([{"doc_number": "T-1"}]), register_frame([late]))
    row = out.row(0, named=True)
    assert row["match_status"] == "within_tolerance"
    assert row["reasons"] == (
        "within tolerance: date; dated 9 days apart (later in the books, within the 10-day window)"
    )


def test_candidate_window_and_fuzzy_threshold_come_from_the_tolerance_file(tmp_path):
    path = tmp_path / "tol.toml"
    path.write_text("[tolerances]\ncandidate_days = 30\nfuzzy_min_similarity = 0.95\n")
    tol = Tolerances.from_toml(path)
    assert (tol.candidate_days, tol.fuzzy_min_similarity) == (30, Decimal("0.95"))
    far = {"doc_number": "T-1", "doc_date": D + dt.timedelta(days=40)}
    assert status(None, {"doc_number": "T-1"}, far) == "mismatch"  # compared within 366 days
    assert status(tol, {"doc_number": "T-1"}, far) == "missing_in_register"
    # 'SRVA-118' ~ 'SRVC-118': similarity 0.93, enough for 0.8, not for 0.95
    assert status(None, {"doc_number": "SRVA-118"}, {"doc_number": "SRVC-118"}) == "probable"
    assert status(tol, {"doc_number": "SRVA-118"}, {"doc_number": "SRVC-118"}) != "probable"
