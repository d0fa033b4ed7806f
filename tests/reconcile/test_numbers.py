"""Document-number keys: normalisation and the numeric core that gates fuzzy matching."""

import datetime as dt

import polars as pl
import pytest

from imsdata.reconcile import normalise_number_expr, numeric_core_expr

NOV_2025 = dt.date(2025, 11, 5)  # FY 2025-26


def keys(numbers: list[str], date: dt.date = NOV_2025) -> list[tuple[str, str]]:
    frame = pl.DataFrame({"n": numbers, "d": [date] * len(numbers)})
    out = frame.select(k=normalise_number_expr("n", "d")).with_columns(c=numeric_core_expr("k"))
    return list(out.iter_rows())


@pytest.mark.parametrize(
    "number",
    [
        "INV/2025-26/0042", "inv-42", "INV/2025-2026/42", "2025/26/042", "25-26/42", "25/26-42",
        "2526/42", "202526-42", "20252026/42", "FY25-26/42", "FY 2025-26/0042", "BILL 42",
        "TI/00042", "INVOICE-42", "Inv_25_26_42", "42", "2025/00042",
    ],
)  # fmt: skip
def test_every_fy_form_prefix_and_zero_padding_reduce_to_the_same_key(number):
    assert keys([number]) == [("42", "42")]


def test_only_the_documents_own_fy_is_removed():
    # In FY 2025-26 the token 24-25 is part of the number, so last year's 42 stays distinct.
    assert keys(["INV/24-25/42"]) == [("2425" + "42", "242542")]
    assert keys(["INV/24-25/42"], dt.date(2024, 6, 1)) == [("42", "42")]


def test_fy_digits_inside_a_longer_number_are_kept():
    assert keys(["INV2526001"]) == [("2526001", "2526001")]


def test_a_number_that_is_only_an_fy_token_keeps_it():
    assert keys(["2025-26"]) == [("202526", "202526")]


def test_leading_zeros_are_removed_from_each_group_not_only_the_first():
    assert keys(["A-007/0012", "A-7/12", "0"]) == [("A712", "712"), ("A712", "712"), ("0", "0")]


@pytest.mark.parametrize(
    ("a", "b"), [("BILL-23-00040", "BILL-23-00045"), ("12", "312"), ("QKI/055190", "QKI/053612")]
)
def test_adversarial_numbers_keep_different_numeric_cores(a, b):
    (_, core_a), (_, core_b) = keys([a, b])
    assert core_a != core_b


def test_frame_helper_and_expression_agree_including_fallbacks():
    from imsdata.reconcile.numbers import with_number_keys

    numbers = ["INV/2025-26/0042", "2025-26", "INV", "--", None, "FY25-26"]
    frame = pl.DataFrame({"n": numbers, "d": [NOV_2025] * len(numbers)})
    helper = with_number_keys(frame, "n", "d")["num_norm"].to_list()
    expr = frame.select(normalise_number_expr("n", "d"))["n"].to_list()
    assert helper == expr
    assert helper[:4] == ["42", "202526", "INV", ""]


def test_keys_shared_by_both_sides_equal_each_sides_own_keys():
    """The register and the download are keyed once per distinct (number, FY) for both; a
    side whose rows span other FYs, glued FYs, FY-only numbers and gaps gets the same keys,
    row for row, as when it is keyed alone."""
    from imsdata.reconcile.numbers import number_key_table, with_number_keys

    numbers = [
        "INV/2025-26/0042", "INV25261230", "19492526", "TI1253202526", "006202526", "2025-26",
        "FY25-26", "2025/00026", "INV/24-25/42", "2425/42", "INV", None, "12526", "INV24251230",
    ]  # fmt: skip
    dates = [NOV_2025, dt.date(2025, 2, 1), None, dt.date(2024, 6, 1)]
    books = pl.DataFrame(
        {"n": numbers * 4, "d": [d for d in dates for _ in numbers], "id": range(len(numbers) * 4)}
    )
    ims = pl.DataFrame({"k": numbers[::-1], "kd": [NOV_2025] * len(numbers)})
    table = number_key_table([(ims, "k", "kd"), (books, "n", "d")])
    assert table.height < ims.height + books.height  # the shared numbers are keyed once
    for frame, number, date in ((books, "n", "d"), (ims, "k", "kd")):
        alone = with_number_keys(frame, number, date, glued=True)
        shared = with_number_keys(frame, number, date, glued=True, known=table)
        assert shared.equals(alone)
    assert alone["num_glued"].drop_nulls().len() >= 3  # the glued readings are exercised
