"""imsdata.synth for issue 14: the number-spelling classes (off by default) and the
multi-month mode, each consistent with its ground truth."""

import polars as pl
import pytest

from imsdata.errors import UsageError
from imsdata.synth import (
    DEFAULT_MIX,
    KINDS,
    SPELLING_KINDS,
    SPELLING_MIX,
    SPELLINGS,
    generate,
)


@pytest.fixture(scope="module")
def spelled():
    return generate(3000, seed=4, mix=SPELLING_MIX)


def books_and_ims_numbers(data, kind_prefix: str) -> pl.DataFrame:
    truth = data.truth.filter(pl.col("kind").str.starts_with(kind_prefix))
    reg = data.register.select("register_id", pl.col("doc_number").alias("books"))
    return truth.join(reg, on="register_id").with_columns(
        ims=pl.col("doc_key").str.split("|").list.get(2)
    )


def test_spelling_kinds_are_off_by_default_and_every_class_appears_in_the_spelling_mix(spelled):
    assert all(DEFAULT_MIX.get(k, 0) == 0 for k in SPELLING_KINDS)
    assert set(KINDS).isdisjoint(SPELLING_KINDS)
    kinds = set(spelled.truth["kind"])
    assert set(SPELLING_KINDS) <= kinds
    for sp in SPELLINGS:
        assert {sp, f"{sp}+rounding", f"{sp}+date_shift", f"{sp}+amount_mismatch"} <= kinds


@pytest.mark.parametrize(
    ("kind", "pattern"),
    [
        ("fy_glued", r"^[A-Z]*[0-9]+$"),  # no separators left
        ("fy_padded", r"-0+[0-9]{2}"),  # a zero-padded second year
        ("fy_added", r"(2526|202526)"),  # the FY the supplier's number lacks
        ("prefix_dropped", r"^(INV000|TI000|2025|25)"),  # prefix dropped or zero-padded
    ],
)
def test_each_class_books_the_number_its_own_way(spelled, kind, pattern):
    rows = books_and_ims_numbers(spelled, kind)
    assert rows.height > 0
    assert (rows["books"] != rows["ims"]).all()
    assert rows["books"].str.contains(pattern).all(), rows.filter(
        ~pl.col("books").str.contains(pattern)
    ).head()


def test_noise_combinations_carry_their_expected_status(spelled):
    status = dict(spelled.truth.select("kind", "expected_status").unique().iter_rows())
    assert status["fy_glued+amount_mismatch"] == "mismatch"
    assert status["fy_padded+rounding"] == "within_tolerance"
    assert status["prefix_dropped+date_shift"] == "within_tolerance"
    date_rows = books_and_ims_numbers(spelled, "fy_added+date_shift").join(
        spelled.register.select("register_id", "doc_date"), on="register_id"
    )
    assert (date_rows["doc_date"] != date_rows["doc_key"].str.slice(-10).str.to_date()).all()


def test_uncorroborated_books_another_document_far_off(spelled):
    truth = spelled.truth.filter(pl.col("kind") == "uncorroborated")
    assert truth.filter(
        pl.col("doc_key").is_not_null() & pl.col("register_id").is_not_null()
    ).is_empty()
    assert set(truth["expected_status"]) == {"missing_in_register", "missing_in_ims"}


def test_multi_month_mode_books_each_row_in_the_month_of_its_voucher():
    data = generate(1500, seed=4, months=3)
    periods = set(data.register["book_period"])
    assert periods == {"082025", "092025", "102025"}
    assert "book_period" not in generate(50, seed=4).register.columns  # only when asked
    # documents of the download are booked in months other than the period
    paired = data.truth.filter(
        pl.col("doc_key").is_not_null() & pl.col("register_id").is_not_null()
    )
    booked = paired.join(data.register.select("register_id", "book_period"), on="register_id")
    assert booked.filter(pl.col("book_period") != data.period).height > 0


@pytest.mark.parametrize("months", [0, 13, "2"])
def test_months_must_be_a_whole_number_from_1_to_12(months):
    with pytest.raises(UsageError, match="months"):
        generate(10, months=months)
