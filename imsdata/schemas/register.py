"""Pandera models for the canonical purchase-register frame (`REGISTER_COLUMNS`, issue 3).

`RegisterModel` is the contract every register frame must meet (errors reject the row);
`RegisterWarnings` holds the checks that only deserve a warning (a wrong GSTIN check character,
tax heads that do not fit the place of supply). `validate_register` runs both and returns the
good rows plus rejects and warnings as frames, one row per (row, field, reason).
"""

import copy

import pandera.polars as pa
import polars as pl
from pandera.config import ValidationDepth, config_context

from imsdata import gstin as gst
from imsdata.schemas import AMOUNT_HEADS, MONEY, REGISTER_COLUMNS, REGISTER_DOC_TYPES
from imsdata.schemas.ims import (
    DOC_NUMBER_PATTERN,
    DOC_NUMBER_RULE,
    DOC_VALUE_SHARE,
    DOC_VALUE_TOLERANCE,
)

DOC_TYPES: tuple[str, ...] = tuple(t.value for t in REGISTER_DOC_TYPES)
#: `tax_heads`: the heads as booked, or only their total (a register with one GST column).
TAX_HEAD_KINDS = ("split", "total")


#: One row per problem: where it is (file, data row, id, field and file header), the cell, why.
REJECT_COLUMNS: dict[str, pl.DataType] = {
    "source_file": pl.String(),
    "source_row": pl.Int64(),
    "register_id": pl.String(),
    "field": pl.String(),  # canonical field (REGISTER_COLUMNS name or a mapped source field)
    "column": pl.String(),  # the file's header for that field, when known
    "value": pl.String(),  # the cell as read
    "reason": pl.String(),
    "record": pl.String(),  # the whole input row as a JSON object, so nothing is lost
}
WARNING_COLUMNS: dict[str, pl.DataType] = {k: v for k, v in REJECT_COLUMNS.items() if k != "record"}


def _state() -> pl.Expr:
    return pl.col("supplier_gstin").str.slice(0, 2)


class RegisterModel(pa.DataFrameModel):
    """The canonical register frame: one row per document, positive Decimal money, INV/DN/CN."""

    register_id: str = pa.Field(nullable=False)
    recipient_gstin: str = pa.Field(nullable=True)
    supplier_gstin: str = pa.Field(nullable=True)
    supplier_pan: str = pa.Field(nullable=True)
    supplier_name: str = pa.Field(nullable=True)
    doc_type: str = pa.Field(isin=DOC_TYPES)
    doc_number: str = pa.Field(str_length={"min_value": 1})
    doc_date: pl.Date = pa.Field()
    # pandera takes the dtype instance Decimal(18, 2) from the annotation; mypy wants a class
    taxable_value: MONEY = pa.Field(ge=0)  # type: ignore[valid-type]
    igst: MONEY = pa.Field(ge=0)  # type: ignore[valid-type]
    cgst: MONEY = pa.Field(ge=0)  # type: ignore[valid-type]
    sgst: MONEY = pa.Field(ge=0)  # type: ignore[valid-type]
    cess: MONEY = pa.Field(ge=0)  # type: ignore[valid-type]
    doc_value: MONEY = pa.Field(ge=0)  # type: ignore[valid-type]
    pos: str = pa.Field(nullable=True, isin=list(gst.STATES))
    reverse_charge: bool = pa.Field()
    in_scope: bool = pa.Field()
    scope_reason: str = pa.Field(nullable=True)
    source_file: str = pa.Field()
    source_row: pl.Int64 = pa.Field(ge=1)
    source_rows: str = pa.Field(nullable=True)
    tax_heads: str = pa.Field(nullable=True, isin=TAX_HEAD_KINDS)  # null: "split"

    class Config:
        strict = True
        ordered = True

    @pa.check("supplier_gstin", "recipient_gstin", name="bad GSTIN format")
    def gstin_format(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """A GSTIN, when present, has the regular or government shape."""
        col = pl.col(data.key)
        return data.lazyframe.select(col.is_null() | gst.format_expr(col))

    @pa.dataframe_check(name="no supplier GSTIN but in IMS scope")
    def scope_needs_gstin(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """Only documents from a registered supplier can be in IMS scope."""
        return data.lazyframe.select(~pl.col("in_scope") | pl.col("supplier_gstin").is_not_null())

    @pa.dataframe_check(name="out of scope without a reason")
    def scope_reason_given(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """Every out-of-scope row says why."""
        return data.lazyframe.select(pl.col("in_scope") | pl.col("scope_reason").is_not_null())


#: The field a row-level (dataframe) check is about, for the rejects/warnings frames.
CHECK_FIELDS: dict[str, str] = {
    "no supplier GSTIN but in IMS scope": "supplier_gstin",
    "out of scope without a reason": "scope_reason",
    "IGST charged on an intra-state supply (supplier state = place of supply)": "igst",
    "CGST/SGST charged on an inter-state supply (supplier state != place of supply)": "cgst",
    "CGST differs from SGST": "sgst",
    "duplicate register_id": "register_id",
    "invoice value differs from taxable value + tax beyond tolerance": "doc_value",
    DOC_NUMBER_RULE: "doc_number",
}


class RegisterWarnings(pa.DataFrameModel):
    """Checks that flag a row for review without rejecting it."""

    supplier_gstin: str = pa.Field(nullable=True)
    recipient_gstin: str = pa.Field(nullable=True)

    class Config:
        strict = False

    @pa.check("supplier_gstin", "recipient_gstin", name="bad GSTIN check character")
    def gstin_check_char(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """The 15th character is the Luhn mod-36 check of the first 14 (ims-spec.md §4)."""
        col = pl.col(data.key)
        # the check is computed once per distinct GSTIN (a register repeats its suppliers)
        distinct = data.lazyframe.select(col.unique().drop_nulls().alias("_g"))
        table = distinct.with_columns(
            _ok=~gst.format_expr(pl.col("_g")) | gst.check_expr(pl.col("_g"))
        )
        looked_up = data.lazyframe.select(col).join(
            table, left_on=data.key, right_on="_g", how="left", maintain_order="left"
        )
        return looked_up.select(pl.col("_ok").fill_null(True))

    @pa.dataframe_check(
        name="IGST charged on an intra-state supply (supplier state = place of supply)"
    )
    def igst_intra(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """Intra-state supplies carry CGST and SGST, not IGST."""
        intra = (_state() == pl.col("pos")).fill_null(False) & (
            pl.col("tax_heads").fill_null("split") == "split"
        )
        return data.lazyframe.select(~(intra & (pl.col("igst") > 0)))

    @pa.dataframe_check(
        name="CGST/SGST charged on an inter-state supply (supplier state != place of supply)"
    )
    def cgst_inter(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """Inter-state supplies carry IGST, not CGST and SGST."""
        inter = (_state() != pl.col("pos")).fill_null(False) & (
            pl.col("tax_heads").fill_null("split") == "split"
        )
        return data.lazyframe.select(~(inter & ((pl.col("cgst") > 0) | (pl.col("sgst") > 0))))

    @pa.dataframe_check(name="invoice value differs from taxable value + tax beyond tolerance")
    def value_adds_up(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """Invoice value = taxable value + taxes + cess, within the IMS reader's tolerance."""
        parts = pl.sum_horizontal(*AMOUNT_HEADS)
        gap = (pl.col("doc_value") - parts).abs()
        allowed = pl.max_horizontal(
            pl.lit(DOC_VALUE_TOLERANCE, MONEY),
            pl.col("doc_value").abs() * pl.lit(DOC_VALUE_SHARE, MONEY),
        )
        return data.lazyframe.select(gap <= allowed)

    @pa.dataframe_check(name=DOC_NUMBER_RULE)
    def doc_number_rule(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """Books keep the number as typed, so a breach is a warning (IMS rejects it)."""
        return data.lazyframe.select(pl.col("doc_number").str.contains(DOC_NUMBER_PATTERN))

    @pa.dataframe_check(name="CGST differs from SGST")
    def cgst_equals_sgst(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """CGST and SGST are levied at the same rate, so they are equal."""
        return data.lazyframe.select(pl.col("cgst") == pl.col("sgst"))

    @pa.dataframe_check(name="duplicate register_id")
    def unique_id(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """Register ids identify rows downstream; a repeated id makes matches ambiguous."""
        return data.lazyframe.select(~pl.col("register_id").is_duplicated())


#: Failures before they become reasons: the failing row, its field, the cell, the check's name.
_CASES = pl.Schema(
    {"index": pl.Int64(), "field": pl.String(), "failure_case": pl.String(), "check": pl.String()}
)


def _row_check_failures(
    schema: pa.DataFrameSchema, frame: pl.DataFrame, fields: dict[str, str]
) -> pl.DataFrame:
    """(index, field, failure_case, check) of every row a dataframe-level check fails, the cell
    of the check's field as the value. The checks run through pandera's own check backend;
    only its error report is skipped: it turns every failing row into Python objects (3 s per
    100k rows), and a register whose numbers all break the GST limit fails on every row."""
    lazy = frame.lazy()
    parts = [pl.DataFrame(schema=_CASES)]
    for check in schema.checks:
        passed = check(lazy).check_output.collect().to_series()
        failing = pl.arg_where(passed.not_().fill_null(False), eager=True).cast(pl.Int64)
        if not failing.len():
            continue
        field = fields.get(check.name)
        value = (
            frame.get_column(field).gather(failing).cast(pl.String)
            if field in frame.columns
            else pl.Series(values=[None] * failing.len(), dtype=pl.String)
        )
        parts.append(
            pl.DataFrame({"index": failing, "failure_case": value}).select(
                "index",
                pl.lit(field, pl.String).alias("field"),
                pl.col("failure_case").cast(pl.String),
                pl.lit(check.name, pl.String).alias("check"),
            )
        )
    return pl.concat(parts)


def failures(
    model: type[pa.DataFrameModel] | pa.DataFrameSchema,
    frame: pl.DataFrame,
    *,
    fields: dict[str, str] | None = None,
) -> pl.DataFrame:
    """Run a pandera model (data checks, lazily) and return its failures as data.

    Columns: `index` (row position in `frame`), `field`, `value` (the cell as text), `reason`
    (the check's name). Row-level checks are attributed to a field by `fields` (name -> field).
    A failure that is not about a row (a missing column, a wrong dtype) is a bug: it is raised.
    """
    fields = {**CHECK_FIELDS, **(fields or {})}
    schema = pl.Schema({"index": pl.Int64(), "field": pl.String(), "value": pl.String(),
                        "reason": pl.String()})  # fmt: skip
    full = model.to_schema() if isinstance(model, type) else model
    row_level = _row_check_failures(full, frame, fields)
    # pandera reports the rest (column checks, nulls, and dtypes: a bug of ours when wrong)
    by_column = copy.copy(full)
    by_column.checks = []
    with config_context(validation_depth=ValidationDepth.SCHEMA_AND_DATA):
        try:
            by_column.validate(frame, lazy=True)
        except pa.errors.SchemaErrors as exc:
            cases = exc.failure_cases
            if cases["index"].null_count():
                raise  # schema-level: our own bug, not the user's data
            # Nothing keeps the exception: held in a local, its traceback and the validated
            # frames formed a cycle that kept ~0.9 GB alive at 1M rows until a full collection.
        else:
            cases = None
    if cases is None and not row_level.height:
        return pl.DataFrame(schema=schema)
    column_level = (
        pl.DataFrame(schema=_CASES)
        if cases is None
        else cases.select(
            pl.col("index").cast(pl.Int64),
            pl.col("column").alias("field"),
            pl.col("failure_case").cast(pl.String),
            pl.col("check").cast(pl.String),
        )
    )
    out = pl.concat([column_level, row_level])
    check = pl.col("check")
    reason = (
        pl.when(check.str.starts_with("isin("))
        .then(pl.lit("not an allowed value"))
        .when(check.str.starts_with("greater_than_or_equal_to("))
        .then(pl.lit("negative amount"))
        .when(check.str.starts_with("str_length("))
        .then(pl.lit("blank value"))
        .when(check == "not_nullable")
        .then(pl.lit("missing value"))
        .otherwise(check)
    )
    return (
        out.select("index", "field", value="failure_case", reason=reason)
        .unique(maintain_order=True)
        .sort("index", "field", "reason")
        .cast(schema)
    )


def problems_frame(frame: pl.DataFrame, found: pl.DataFrame, columns: dict) -> pl.DataFrame:
    """Turn `failures` output into a rejects/warnings frame using the rows' lineage columns."""
    lineage = frame.select("source_file", "source_row", "register_id").with_row_index("index")
    joined = found.join(lineage.with_columns(pl.col("index").cast(pl.Int64)), on="index")
    return joined.select(
        [pl.col(c) if c in joined.columns else pl.lit(None).alias(c) for c in columns]
    ).cast(columns)


def validate_register(frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Validate a canonical register frame: (good rows, rejects, warnings), as `REJECT_COLUMNS`.

    A row with any error is rejected whole; warnings are reported only for the good rows.
    """
    errors = failures(RegisterModel, frame)
    bad = errors["index"].unique()
    rejects = problems_frame(frame, errors, REJECT_COLUMNS)
    good = frame
    if errors.height:
        good = frame.with_row_index("_i").filter(~pl.col("_i").is_in(bad.implode())).drop("_i")
    warnings = problems_frame(good, failures(RegisterWarnings, good), WARNING_COLUMNS)
    return good, rejects, warnings


__all__ = [
    "CHECK_FIELDS",
    "DOC_TYPES",
    "REGISTER_COLUMNS",
    "REJECT_COLUMNS",
    "WARNING_COLUMNS",
    "RegisterModel",
    "RegisterWarnings",
    "failures",
    "problems_frame",
    "validate_register",
]
