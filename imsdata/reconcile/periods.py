"""Books are monthly, IMS is not (issue 14): reconcile against the books of every period.

The register passed to `reconcile` may hold the bookings of several months, each row carrying
its `book_period` (MMYYYY, the month whose register it was imported with). A document booked in
another month pairs with that booking like any other and says so ("booked in 09-2025");
register rows of other months that stay unpaired are not reported again (they were reported in
their own month). `claimed` lists the bookings already paired with a document that was accepted
in an earlier period: a pair on such a booking is flagged `already_claimed` (the double-claim
risk), which the default rules keep pending.
"""

from __future__ import annotations

import polars as pl

BOOK_PERIOD = "book_period"
#: Columns of the `claimed` frame: the booking, the document it was accepted with, and when.
CLAIMED_COLUMNS: dict[str, pl.DataType] = {
    "register_id": pl.String(),
    "doc_key": pl.String(),
    "period": pl.String(),
}


def period_label(period: pl.Expr) -> pl.Expr:
    """MMYYYY as MM-YYYY, the way the reasons write a period."""
    return pl.concat_str(period.str.slice(0, 2), pl.lit("-"), period.str.slice(2, 4))


def _period_order(period: str) -> str:
    return period[2:] + period[:2]


def current_period(register: pl.DataFrame, period: str | None) -> str | None:
    """The period worked on: `period` if given, else the latest book_period of the register."""
    if period is not None or BOOK_PERIOD not in register.columns:
        return period
    periods = [p for p in register.get_column(BOOK_PERIOD).drop_nulls().unique().to_list() if p]
    return max(periods, key=_period_order) if periods else None


def with_book_period(register: pl.DataFrame, period: str | None) -> pl.DataFrame:
    """The register of the month worked on, each row marked with that month (for combining)."""
    return register.with_columns(pl.lit(period, dtype=pl.String).alias(BOOK_PERIOD))


def combine_books(current: pl.DataFrame, earlier: pl.DataFrame) -> pl.DataFrame:
    """This month's register plus other months' rows (a register_id booked in both: this
    month's row wins), all with `book_period`."""
    if earlier.is_empty():
        return current
    others = earlier.join(current.select("register_id"), on="register_id", how="anti")
    return pl.concat([current, others], how="diagonal_relaxed")


def apply_periods(
    matches: pl.DataFrame,
    register: pl.DataFrame,
    period: str | None,
    claimed: pl.DataFrame | None,
) -> pl.DataFrame:
    """Mark pairs booked in another month, drop other months' unpaired rows, flag claims."""
    out = matches
    if BOOK_PERIOD in register.columns and period is not None:
        booked = register.select("register_id", pl.col(BOOK_PERIOD).alias("_booked"))
        out = out.join(booked, on="register_id", how="left", maintain_order="left")
        other = pl.col("_booked").is_not_null() & (pl.col("_booked") != period)
        paired = pl.col("doc_key").is_not_null() & pl.col("register_id").is_not_null()
        out = out.filter(pl.col("doc_key").is_not_null() | ~other).with_columns(
            booked_period=pl.when(paired).then(pl.col("_booked")),
            reasons=pl.when(paired & other)
            .then(pl.concat_str("reasons", pl.lit("; booked in "), period_label(pl.col("_booked"))))
            .otherwise("reasons"),
        )
        out = out.drop("_booked")
    if claimed is not None and not claimed.is_empty():
        first = (
            claimed.select(list(CLAIMED_COLUMNS))
            .sort("period", "register_id", "doc_key")
            .unique("register_id", keep="first", maintain_order=True)
            .rename({"doc_key": "_claimed_doc", "period": "_claimed_period"})
        )
        out = out.join(first, on="register_id", how="left", maintain_order="left")
        hit = pl.col("doc_key").is_not_null() & pl.col("_claimed_period").is_not_null()
        out = out.with_columns(
            already_claimed=hit,
            reasons=pl.when(hit)
            .then(
                pl.concat_str(
                    "reasons",
                    pl.lit("; already claimed: this booking was paired with "),
                    "_claimed_doc",
                    pl.lit(" and accepted in "),
                    period_label(pl.col("_claimed_period")),
                )
            )
            .otherwise("reasons"),
        ).drop("_claimed_doc", "_claimed_period")
    if "already_claimed" not in out.columns:
        out = out.with_columns(already_claimed=pl.lit(False))
    if "booked_period" not in out.columns:  # books of one month: no book period to name
        out = out.with_columns(booked_period=pl.lit(None, pl.String))
    return out
