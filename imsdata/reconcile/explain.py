"""Why did (or didn't) a document match: its nearest register rows and the tests each failed."""

from __future__ import annotations

import polars as pl

from imsdata import gstin as gst
from imsdata.engines import Engine, engine_scope
from imsdata.errors import NotFoundError
from imsdata.reconcile import sql
from imsdata.reconcile.match import load, load_register, reconcile, register_rows
from imsdata.reconcile.numbers import with_number_keys
from imsdata.reconcile.tolerances import Tolerances
from imsdata.schemas import REGISTER_COLUMNS

EXPLAIN_COLUMNS: tuple[str, ...] = (
    "doc_key", "rank", "register_id", "closeness", "verdict", "failed_tests", "differences",
    "supplier_gstin", "doc_type", "doc_number", "doc_date", "taxable_value", "doc_value",
)  # fmt: skip


def find_documents(doc: str, ims: pl.DataFrame) -> pl.DataFrame:
    """IMS documents named by `doc`: a doc_key, or a number (raw or normalised), optionally
    written 'GSTIN:NUMBER'. Raises InputError when none matches."""
    text = doc.strip()
    hit = ims.filter(pl.col("doc_key") == text)
    if hit.height:
        return hit
    supplier, number = None, text
    head, sep, tail = text.partition(":")
    if sep and gst.is_valid_format(head.strip().upper()):
        supplier, number = head.strip().upper(), tail.strip()
    scope = ims if supplier is None else ims.filter(pl.col("supplier_gstin") == supplier)
    keyed = with_number_keys(
        scope.with_columns(pl.lit(number).alias("_query")), "_query", "doc_date", prefix="q"
    )
    keyed = with_number_keys(keyed, "doc_number", "doc_date", prefix="d")
    hit = keyed.filter(
        (pl.col("doc_number") == number) | (pl.col("q_norm") == pl.col("d_norm"))
    ).select(ims.columns)
    if not hit.height:
        where = f" from supplier {supplier}" if supplier else ""
        raise NotFoundError(f"no IMS document{where} matches {doc!r} (by doc_key or number)")
    return hit


def explain(
    doc: str,
    ims: pl.DataFrame,
    register: pl.DataFrame,
    *,
    engine: Engine | None = None,
    tolerances: Tolerances | None = None,
    limit: int = 5,
    matches: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """The `limit` nearest register rows of each document named by `doc`, with the verdict of
    the actual reconciliation and every failed test in words (EXPLAIN_COLUMNS).

    Pass `matches` (the result of `reconcile` on the same inputs) to skip reconciling again.
    """
    tol = tolerances or Tolerances()
    chosen = find_documents(doc, ims)
    with engine_scope(engine) as eng:
        if matches is None:
            matches = reconcile(ims, register, engine=eng, tolerances=tol)
        load(eng, ims, register)
        rows = register_rows(
            register.with_columns(pl.col("in_scope").fill_null(True)), "in_scope", "scope_reason"
        )
        load_register(eng, rows)
        eng.register("rec_explain_docs", chosen.select("doc_key"))
        eng.register("rec_matches", matches)
        eng.materialise("rec_explain_cand", sql.explain_candidates(eng.dialect))
        eng.materialise(
            "rec_features",
            sql.pair_features(tol, eng.dialect, source="rec_explain_cand", admitted_only=False),
        )
        out = eng.query(sql.explain_tests(tol), step="explain")
    ranked = out.sort(
        by=[
            pl.col("doc_key"),
            pl.col("verdict").str.starts_with("rec_paired").not_(),
            pl.col("closeness"),
            pl.col("register_id"),
        ],
        descending=[False, False, True, False],
    ).with_columns(pl.int_range(1, pl.len() + 1).over("doc_key").alias("rank"))
    ranked = ranked.filter(pl.col("rank") <= limit)
    missing = chosen.select("doc_key").join(
        ranked.select("doc_key").unique(), on="doc_key", how="anti"
    )
    empty_rows = missing.with_columns(
        pl.lit(0).alias("rank"),
        pl.lit("no register row of this supplier's PAN or with this number").alias("verdict"),
    )
    result = pl.concat([ranked, empty_rows], how="diagonal_relaxed")
    cast: dict[str, pl.DataType] = {"rank": pl.Int32(), "closeness": pl.Int32()}
    cast |= {c: REGISTER_COLUMNS[c] for c in ("doc_date", "taxable_value", "doc_value")}
    return result.select(
        (pl.col(c) if c in result.columns else pl.lit(None)).cast(cast.get(c, pl.String())).alias(c)
        for c in EXPLAIN_COLUMNS
    ).sort(["doc_key", "rank"])
