"""Reconcile IMS documents against the purchase register: number keys in polars, match in SQL.

Matching is one-to-one and best-first over the whole candidate set: each round keeps the pairs
that are the best candidate of both their IMS document and their register row (ties broken by a
total order), removes everything they touch and repeats until nothing changes. The loop is over
rounds, never over documents.
"""

from __future__ import annotations

import functools

import polars as pl

from imsdata import gstin as gst
from imsdata.engines import Engine, engine_scope
from imsdata.errors import InputError
from imsdata.reconcile import periods, sql
from imsdata.reconcile.numbers import number_key_table, numeric_core_expr, with_number_keys
from imsdata.reconcile.tolerances import Tolerances
from imsdata.schemas import AMOUNT_HEADS, IMS_COLUMNS, MATCH_COLUMNS, REGISTER_COLUMNS, conform

AMOUNTS: tuple[str, ...] = (*AMOUNT_HEADS, "doc_value")
#: Safety stop for the assignment rounds (each round pairs at least one candidate).
MAX_ROUNDS = 10_000


def _check_columns(frame: pl.DataFrame, columns: dict[str, pl.DataType], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(f"{what} frame lacks column(s) {missing}")


def _check_unique(frame: pl.DataFrame, column: str, what: str) -> None:
    values = frame.get_column(column)
    nulls = values.null_count()
    if nulls:
        raise InputError(f"{what}: {nulls} row(s) have no {column}; identities must be set")
    # the usual case, without grouping: in a sorted column a duplicate is a neighbour
    if values.is_sorted():
        if not (values.head(-1) == values.tail(-1)).any():
            return
    elif values.n_unique() == frame.height:
        return
    dup = frame.group_by(column).len().filter(pl.col("len") > 1).sort(column)
    if dup.height:
        first = dup.row(0, named=True)
        raise InputError(
            f"{what}: {column} {first[column]!r} appears {first['len']} times "
            f"({dup.height} duplicated value(s)); identities must be unique"
        )


def _block(prefix: str = "num") -> pl.Expr:
    core, norm = pl.col(f"{prefix}_core"), pl.col(f"{prefix}_norm")
    return pl.when(core != "").then(core).otherwise(pl.lit("#") + norm).alias("block")


def _has_letters(prefix: str = "num") -> pl.Expr:
    return pl.col(f"{prefix}_norm").str.contains("[A-Z]").alias(f"{prefix}_has_letters")


def ims_frames(ims: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(ims_docs, key rows): one row per document, one per number it can be found by, before
    the number keys are added (`ims_keys`)."""
    _check_columns(ims, IMS_COLUMNS, "IMS")
    # the columns are chosen before the sort (only they are reordered), the identities checked
    # after it (a duplicate is then a neighbour)
    docs = ims.select(
        "doc_key", "section", "doc_type", pl.col("is_amendment").fill_null(False),
        "supplier_gstin",
        pl.coalesce("supplier_pan", gst.pan_expr(pl.col("supplier_gstin"))).alias("supplier_pan"),
        "recipient_gstin", "doc_number", "doc_date", "orig_doc_number", "orig_doc_date",
        *AMOUNTS,
    ).sort("doc_key").with_row_index("i_id")  # fmt: skip
    docs = docs.with_columns(pl.col("i_id").cast(pl.Int64))
    _check_unique(docs, "doc_key", "IMS")
    ident = ["i_id", "supplier_gstin", "supplier_pan", "doc_type", "recipient_gstin"]
    current = docs.select(
        *ident,
        pl.lit("current").alias("variant"),
        pl.col("doc_number").alias("key_number"),
        pl.col("doc_date").alias("key_date"),
    )
    original = docs.filter(pl.col("is_amendment") & pl.col("orig_doc_number").is_not_null()).select(
        *ident,
        pl.lit("original").alias("variant"),
        pl.col("orig_doc_number").alias("key_number"),
        pl.coalesce("orig_doc_date", "doc_date").alias("key_date"),
    )
    return docs, pl.concat([current, original])


def ims_keys(rows: pl.DataFrame, known: pl.DataFrame | None = None) -> pl.DataFrame:
    """The IMS key rows with their number keys, plus one row per glued key (rec_ims_keys).
    Row-local (a row's keys depend on that row only): an engine may run it per partition.
    `known`: the keys already computed (`numbers.number_key_table`)."""
    keys = with_number_keys(rows, "key_number", "key_date", glued=True, known=known)
    return _with_glued_rows(keys).with_columns(_block(), _has_letters())


def prepare_ims(ims: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(ims_docs, ims_keys): one row per document, one per number it can be found by."""
    docs, rows = ims_frames(ims)
    return docs, ims_keys(rows)


GLUED_KEYS: tuple[str, ...] = ("num_glued", "num_glued_short")


def _keyed_by_glued(frame: pl.DataFrame) -> pl.DataFrame:
    """One row per glued key of each row, keyed by it (num_norm, num_core)."""
    parts = [
        frame.filter(pl.col(key).is_not_null()).with_columns(
            pl.col(key).alias("num_norm"), numeric_core_expr(key).alias("num_core")
        )
        for key in GLUED_KEYS
    ]
    return pl.concat(parts)


def _with_glued_rows(keys: pl.DataFrame) -> pl.DataFrame:
    """The key rows plus one more per glued key (a document found by its glued keys too)."""
    glued = _keyed_by_glued(keys)
    return (pl.concat([keys, glued]) if glued.height else keys).drop(*GLUED_KEYS)


def glued_rows(rows: pl.DataFrame) -> pl.DataFrame:
    """The register rows that have glued keys, one row per key (rec_reg_glued)."""
    return _keyed_by_glued(rows).with_columns(_block(), _has_letters())


def in_scope_rows(register: pl.DataFrame) -> pl.DataFrame:
    """In-scope register rows with ids and PAN, before the number keys (out-of-scope rows are
    never reported)."""
    _check_columns(register, REGISTER_COLUMNS, "register")
    _check_unique(register, "register_id", "register")
    return register_rows(register.filter(pl.col("in_scope").fill_null(True)))


def prepare_register(register: pl.DataFrame) -> pl.DataFrame:
    """In-scope register rows with number keys (out-of-scope rows are never reported)."""
    return register_keys(in_scope_rows(register))


def register_rows(rows: pl.DataFrame, *extra: str) -> pl.DataFrame:
    """Register rows with ids (in register_id order) and PAN, before the number keys."""
    chosen = rows.select(  # before the sort: only these columns are reordered
        "register_id", "recipient_gstin", "supplier_gstin",
        pl.coalesce("supplier_pan", gst.pan_expr(pl.col("supplier_gstin"))).alias("supplier_pan"),
        "doc_type", "doc_number", "doc_date", *AMOUNTS, *extra,
        # issue 13: books with only a total GST column are compared on total tax (sql.py)
        (pl.col("tax_heads").fill_null("split") == "total").alias("heads_unknown")
        if "tax_heads" in rows.columns
        else pl.lit(False).alias("heads_unknown"),
    )  # fmt: skip
    ordered = chosen.sort("register_id").with_row_index("r_id")
    return ordered.with_columns(pl.col("r_id").cast(pl.Int64))


#: The register's number and date columns (the keys' inputs).
REG_NUMBER: tuple[str, str] = ("doc_number", "doc_date")


def register_keys(rows: pl.DataFrame, known: pl.DataFrame | None = None) -> pl.DataFrame:
    """Register rows with their number keys (rec_reg_rows); row-local, like `ims_keys`."""
    keyed = with_number_keys(rows, "doc_number", "doc_date", glued=True, known=known)
    return keyed.with_columns(_block(), _has_letters())


def keyed_register(rows: pl.DataFrame, *extra: str) -> pl.DataFrame:
    """Register rows with ids (in register_id order), PAN and number keys."""
    return register_keys(register_rows(rows, *extra))


def load_register(engine: Engine, rows: pl.DataFrame) -> None:
    """Register rows (from `register_rows`) as rec_reg_rows and rec_reg_glued, the number keys
    computed by the engine (`Engine.register_mapped`: per partition on Spark)."""
    engine.register_mapped({"rec_reg_rows": (rows, register_keys)})
    engine.register_mapped({"rec_reg_glued": ("rec_reg_rows", glued_rows)})


def load(engine: Engine, ims: pl.DataFrame, register: pl.DataFrame) -> None:
    """Register the prepared inputs (rec_ims_docs, rec_ims_keys, rec_reg_rows, rec_reg_glued).

    The ids and PANs are set here; the number keys (a chain of regexes, the costly part) are
    computed by the engine from the same polars functions: Spark per partition on its
    executors; an engine that maps in this process (DuckDB) computes the keys of each distinct
    number once for both sides (`numbers.number_key_table`: the two sides mostly carry the same
    numbers), then both sides at once."""
    docs, key_rows = ims_frames(ims)
    rows = in_scope_rows(register)
    engine.register("rec_ims_docs", docs)
    ims_fn, reg_fn = ims_keys, register_keys
    if engine.maps_in_process:
        known = number_key_table([(key_rows, "key_number", "key_date"), (rows, *REG_NUMBER)])
        ims_fn = functools.partial(ims_keys, known=known)
        reg_fn = functools.partial(register_keys, known=known)
    engine.register_mapped({"rec_ims_keys": (key_rows, ims_fn), "rec_reg_rows": (rows, reg_fn)})
    engine.register_mapped({"rec_reg_glued": ("rec_reg_rows", glued_rows)})


def score_candidates(engine: Engine, tolerances: Tolerances) -> None:
    """Steps rec_superseded, rec_live_keys, rec_cand, rec_scored: every admissible pair with its
    status, score and reasons. The live keys are read once (by the candidates): a view."""
    engine.materialise("rec_superseded", sql.SUPERSEDED)
    engine.view("rec_live_keys", sql.LIVE_KEYS)
    engine.materialise("rec_cand", sql.candidate_pairs(tolerances, engine.dialect))
    engine.materialise("rec_scored", sql.scored(tolerances, engine.dialect))


def assign(engine: Engine) -> int:
    """Mutual-best rounds over `rec_ranked` into `rec_pairs`; returns the number of rounds."""
    engine.materialise("rec_ranked", sql.RANKED)
    engine.materialise("rec_pairs", "SELECT * FROM rec_ranked WHERE FALSE")
    engine.materialise("rec_live", "SELECT * FROM rec_ranked")
    for rounds in range(1, MAX_ROUNDS + 1):
        engine.materialise("rec_round_pairs", sql.ROUND_PAIRS)
        found = engine.scalar("SELECT count(*) FROM rec_round_pairs", step="round_pairs")
        if not found:
            # the per-PAN rank (sql.RANKED) relies on each row's candidates sharing one PAN
            twice = engine.scalar(
                "SELECT count(*) FROM (SELECT r_id FROM rec_pairs GROUP BY r_id "
                "HAVING count(*) > 1)",
                step="pairs_check",
            )
            if twice:
                raise InputError(
                    f"{twice} register row(s) paired twice: supplier_pan disagrees with the "
                    "PAN inside supplier_gstin; leave supplier_pan empty to derive it"
                )
            return rounds
        engine.append("rec_pairs", "SELECT * FROM rec_round_pairs")
        engine.materialise("rec_live", sql.REMAINING)
    raise RuntimeError(f"reconciliation did not settle after {MAX_ROUNDS} assignment rounds")


def reconcile(
    ims: pl.DataFrame,
    register: pl.DataFrame,
    *,
    engine: Engine | None = None,
    tolerances: Tolerances | None = None,
    period: str | None = None,
    claimed: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Pair IMS documents with register rows one-to-one; MATCH_COLUMNS, sorted.

    One row per IMS document and one per in-scope register row left unpaired, each with a status,
    a 0-100 score and reasons in words. A register with a `book_period` column holds the books of
    several months (`imsdata.reconcile.periods`): `period` is the month worked on (default: the
    latest); `claimed` lists bookings already paired and accepted in an earlier period.
    """
    tol = tolerances or Tolerances()
    with engine_scope(engine) as eng:
        load(eng, ims, register)
        score_candidates(eng, tol)
        assign(eng)
        eng.materialise("rec_duplicates", sql.DUPLICATES)
        eng.view("rec_paired", sql.PAIRED)  # read once, by the result
        out = eng.query(sql.RESULT, step="result")
    out = periods.apply_periods(out, register, periods.current_period(register, period), claimed)
    return conform(out, MATCH_COLUMNS)  # sorted by the SQL: IMS rows by doc_key, then books
