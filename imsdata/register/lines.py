"""Registers booked as line items, and payment-mode words in a document-type column.

Zoho Books and Busy export one row per item: the same bill repeats on every line with that
line's amounts. `aggregate_line_items` turns them into one row per document (amounts summed,
the row numbers kept in `source_rows`). `payment_mode_warnings` says where a document-type
cell held "Credit" or "Cash" (how the purchase was paid) and was read as an invoice.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import polars as pl

from imsdata.register._parse import key, key_expr, payment_mode_keys, spellings
from imsdata.schemas import AMOUNT_HEADS, REGISTER_COLUMNS
from imsdata.schemas.register import WARNING_COLUMNS

#: What identifies one document among its lines.
DOCUMENT = ("supplier_gstin", "doc_type", "doc_number", "doc_date")
_SUMMED = AMOUNT_HEADS
#: Lines of documents set aside because one of their lines was rejected.
SET_ASIDE: dict[str, pl.DataType] = {
    "source_row": pl.Int64(), "register_id": pl.String(), "doc_number": pl.String(),
    "reason": pl.String(),
}  # fmt: skip


@cache
def _item_header_keys() -> frozenset[str]:
    return frozenset(key(h) for h in spellings()["line_items"]["headers"])


def aggregate_line_items(
    frame: pl.DataFrame,
    headers: Sequence[str],
    *,
    line_items: bool | None,
    by_id: bool,
    rejected: pl.DataFrame | None = None,
) -> tuple[pl.DataFrame, list[str], pl.DataFrame]:
    """One row per document when the register is booked as line items; notes say so.

    `line_items` None detects it: a column of item details (Item Name, HSN, Quantity...) and a
    document on two or more rows. Documents are told apart by supplier, type, number and date,
    and by the id column when that repeats on the lines of a document (Zoho's Bill ID). The
    invoice value is taken once when every line repeats the document total, else summed.
    A document with a rejected line (`rejected`: supplier_gstin, doc_number, source_row as read)
    would be understated: it is set aside whole (third item: source_row, register_id, doc_number,
    reason), never loaded short.
    """
    aside = pl.DataFrame(schema=SET_ASIDE)
    if line_items is False or frame.is_empty():
        return frame, [], aside
    group = list(DOCUMENT)
    if by_id and frame["register_id"].is_duplicated().any():
        group.append("register_id")
    repeated = frame.select(pl.struct(group).is_duplicated().any()).item()
    if line_items is None:
        has_items = any(key(h) in _item_header_keys() for h in headers)
        if not (has_items and repeated):
            return frame, [], aside
    if not repeated:
        return frame, [], aside
    parts = pl.sum_horizontal(*_SUMMED)
    lines = pl.len()
    value_once = pl.col("doc_value").first()
    value_sum = pl.col("doc_value").sum()
    whole = parts.sum()
    doc_value = (
        pl.when(
            (pl.col("doc_value").n_unique() == 1)
            & ((value_once - whole).abs() <= (value_sum - whole).abs())
        )
        .then(value_once)
        .otherwise(value_sum)
    )
    others = [c for c in REGISTER_COLUMNS if c not in (*group, *_SUMMED, "doc_value")]
    out = (
        frame.sort("source_row")
        .group_by(group, maintain_order=True)
        .agg(
            *(pl.col(c).sum() for c in _SUMMED),
            doc_value.alias("doc_value"),
            *(pl.col(c).first() for c in others if c not in ("source_row", "source_rows")),
            pl.col("source_row").min(),
            pl.when(lines > 1)
            .then(pl.col("source_row").cast(pl.String).str.join(","))
            .alias("source_rows"),
        )
        .select(list(REGISTER_COLUMNS))
        .cast(pl.Schema(REGISTER_COLUMNS))
    )
    note = (
        f"line-item register: {frame.height} row(s) read as {out.height} document(s), "
        "amounts summed per document (rows listed in source_rows)"
    )
    if rejected is not None and rejected.height:
        lost = (
            rejected.select(
                pl.col("supplier_gstin").str.strip_chars().str.to_uppercase(),
                pl.col("doc_number").str.strip_chars(),
                pl.col("source_row").alias("rejected_row"),
            )
            .group_by("supplier_gstin", "doc_number")
            .agg(pl.col("rejected_row").min())
        )
        hit = out.join(lost, on=["supplier_gstin", "doc_number"], how="inner")
        if hit.height:
            aside = hit.select(
                pl.coalesce("source_rows", pl.col("source_row").cast(pl.String))
                .str.split(",")
                .cast(pl.List(pl.Int64))
                .alias("source_row"),
                "register_id",
                "doc_number",
                pl.format(
                    "another line of this document (row {}) was rejected: the document is set "
                    "aside whole rather than loaded short",
                    "rejected_row",
                ).alias("reason"),
            ).explode("source_row")
            out = out.join(lost, on=["supplier_gstin", "doc_number"], how="anti")
    return out, [note], aside.cast(pl.Schema(SET_ASIDE))


def payment_mode_warnings(
    staged: pl.DataFrame, documents: pl.DataFrame, file_name: str
) -> pl.DataFrame:
    """A warning for every kept row whose document type was a payment mode ('Credit', 'Cash')."""
    empty = pl.DataFrame(schema=WARNING_COLUMNS)
    if staged.is_empty() or documents.is_empty():
        return empty
    hit = staged.filter(key_expr(pl.col("doc_type")).is_in(list(payment_mode_keys())))
    if hit.is_empty():
        return empty
    lineage = documents.select(
        "register_id",
        pl.coalesce("source_rows", pl.col("source_row").cast(pl.String))
        .str.split(",")
        .cast(pl.List(pl.Int64))
        .alias("source_row"),
    ).explode("source_row")
    return (
        hit.select("source_row", "doc_type")
        .join(lineage, on="source_row")
        .select(
            source_file=pl.lit(file_name),
            source_row="source_row",
            register_id="register_id",
            field=pl.lit("doc_type"),
            column=pl.lit(None, pl.String),
            value="doc_type",
            reason=pl.format(
                "document type '{}' is how the purchase was paid, not a credit note: read as "
                "an invoice (INV); write 'Credit Note' in this column for a credit note",
                "doc_type",
            ),
        )
        .cast(pl.Schema(WARNING_COLUMNS))
    )
