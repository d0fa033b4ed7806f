"""`read_register`: any ERP export -> the canonical register frame, rejects and warnings.

Steps: load the file as text (`_load`), decide which header feeds which field (`mapping`),
validate the text cells with a pandera schema built from the same parsers that then convert them
(`_parse`), convert the good rows, and validate the canonical frame (`imsdata.schemas.register`).
A row with any error is rejected whole, with file, row, column, value and reason.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandera.polars as pa
import polars as pl

from imsdata import gstin as gst
from imsdata.register import _parse as parse
from imsdata.register._load import ROW, load
from imsdata.register.mapping import (
    FIELDS,
    MONEY_FIELDS,
    TAX_HEADS,
    Mapping,
    load_mapping,
    load_preset,
    recognised,
    resolve,
)
from imsdata.schemas import REGISTER_COLUMNS, conform
from imsdata.schemas.register import (
    REJECT_COLUMNS,
    WARNING_COLUMNS,
    failures,
    problems_frame,
    validate_register,
)

#: Row-level staging checks and the field each one is reported against.
ROW_CHECK_FIELDS: dict[str, str] = {
    "missing document number": "doc_number",
    "missing document date (no bill date nor voucher date)": "doc_date",
    "missing taxable value": "taxable_value",
    "amounts have mixed signs": "taxable_value",
    "debit note booked with negative amounts (ambiguous: fix the sign or the type)": "doc_type",
}


@dataclass
class RegisterResult:
    """What `read_register` returns: canonical documents, rejects, warnings and how it read."""

    documents: pl.DataFrame  # REGISTER_COLUMNS, sorted by source_row
    rejects: pl.DataFrame  # REJECT_COLUMNS: one row per (row, field, reason)
    warnings: pl.DataFrame  # WARNING_COLUMNS
    mapping_used: dict[str, str]  # canonical field -> file header
    notes: list[str] = field(default_factory=list)  # encoding, header row, fallbacks used


def read_register(
    path: str | os.PathLike[str],
    *,
    mapping: str | os.PathLike[str] | Mapping | None = None,
    preset: str | None = None,
    id_column: str | None = None,
    sheet: str | None = None,
) -> RegisterResult:
    """Read a purchase register (CSV, .xlsx/.xls, Parquet) into the canonical frame.

    `mapping` (a TOML file or a Mapping) overrides `preset`, which overrides the built-in header
    spellings; `id_column` names the user's id column (else a voucher-number column, else the
    data row number); `sheet` picks an Excel sheet (else the first with data).
    """
    source = Path(path)
    chosen = _choose_mapping(mapping, preset)
    extra = [h for candidates in chosen.columns.values() for h in candidates]
    extra += [id_column] if id_column else []
    table = load(source, sheet=sheet, is_header=lambda cell: recognised(cell, extra))
    headers = [c for c in table.frame.columns if c != ROW]
    used = resolve(headers, chosen, id_column=id_column, origin=str(source))
    notes = [*table.notes, f"mapping: {chosen.name}"]
    staged = _amount_columns(_stage(table.frame, used))

    errors = failures(_staging_schema(chosen), staged, fields=ROW_CHECK_FIELDS)
    bad_rows = staged.with_row_index("_i").filter(pl.col("_i").is_in(errors["index"].implode()))
    good = staged.join(bad_rows.select("source_row"), on="source_row", how="anti")

    converted, more_notes = _convert(good, chosen, used, source.name)
    documents, late_rejects, warnings = validate_register(converted)
    rejects = pl.concat(
        [
            problems_frame(
                staged.with_columns(source_file=pl.lit(source.name), register_id=_id_expr()),
                errors,
                REJECT_COLUMNS,
            ),
            late_rejects,
        ]
    )
    rejects = _with_context(rejects, table.frame, used)
    warnings = _with_context(warnings, None, used).select(list(WARNING_COLUMNS))
    return RegisterResult(
        documents=documents.sort("source_row"),
        rejects=rejects.sort("source_row", "field", "reason"),
        warnings=warnings.sort("source_row", "field", "reason"),
        mapping_used=used,
        notes=notes + more_notes,
    )


def _choose_mapping(
    mapping: str | os.PathLike[str] | Mapping | None, preset: str | None
) -> Mapping:
    """The user's mapping layered over the preset (either may be absent)."""
    chosen = load_preset(preset) if preset else Mapping()
    if mapping is not None:
        user = mapping if isinstance(mapping, Mapping) else load_mapping(mapping)
        chosen = user.over(chosen)
    return chosen


def _stage(raw: pl.DataFrame, used: dict[str, str]) -> pl.DataFrame:
    """One text column per source field (trimmed, blanks as null), plus the data row number."""
    columns = []
    for name in FIELDS:
        if name in used:
            text = pl.col(used[name]).str.strip_chars()
            columns.append(pl.when(text != "").then(text).alias(name))
        else:
            columns.append(pl.lit(None, dtype=pl.String).alias(name))
    return raw.select(*columns, pl.col(ROW).alias("source_row"))


def _id_expr() -> pl.Expr:
    """register_id: the id column's value, else the data row number."""
    return pl.coalesce(pl.col("register_id"), pl.col("source_row").cast(pl.String))


# --- validation of the text cells ----------------------------------------------------------------


def _cell_check(problem: Callable[[pl.Expr], pl.Expr], reason: str) -> pa.Check:
    """A pandera check failing the cells for which `problem` gives `reason`."""

    def check(data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select((problem(pl.col(data.key)) != reason).fill_null(True))

    return pa.Check(check, name=reason)


def _row_check(ok: Callable[[], pl.Expr], reason: str) -> pa.Check:
    """A pandera row-level check failing the rows where `ok()` is False."""

    def check(data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(ok().fill_null(False))

    return pa.Check(check, name=reason, ignore_na=False)


def _not_found(convert: Callable[[pl.Expr], pl.Expr], reason: str) -> Callable[[pl.Expr], pl.Expr]:
    """A problem expression: `reason` when a non-blank cell converts to null."""
    return lambda col: pl.when(col.is_not_null() & convert(col).is_null()).then(pl.lit(reason))


def _amount_columns(staged: pl.DataFrame) -> pl.DataFrame:
    """Add `_a_<field>` (signed amounts; blank tax heads and cess are zero) and `_negative`.

    Computed once and shared by the checks and the conversion. A row is booked negative when its
    taxable value is negative, or zero with a negative document value.
    """
    staged = staged.with_columns(
        parse.amount(pl.col(f)).alias(f"_a_{f}") for f in MONEY_FIELDS
    ).with_columns(pl.col(f"_a_{f}").fill_null(0) for f in ("igst", "cgst", "sgst", "cess"))
    taxable, total = pl.col("_a_taxable_value").fill_null(0), pl.col("_a_doc_value").fill_null(0)
    return staged.with_columns(_negative=(taxable < 0) | ((taxable == 0) & (total < 0)))


def _staging_schema(mapping: Mapping) -> pa.DataFrameSchema:
    """Pandera schema of the staged text cells; its checks use the parsers that convert them."""
    formats = mapping.date_formats
    unparseable_date = "unparseable date"
    columns = {name: pa.Column(str, nullable=True) for name in FIELDS}
    for name in MONEY_FIELDS:
        columns[name] = pa.Column(
            str,
            nullable=True,
            checks=[
                _cell_check(parse.amount_problem, "unparseable amount"),
                _cell_check(parse.amount_problem, "more than 2 decimals"),
            ],
        )
    for name in ("doc_date", "voucher_date"):
        columns[name] = pa.Column(
            str,
            nullable=True,
            checks=[_cell_check(lambda c: parse.date_problem(c, formats), unparseable_date)],
        )
    for name in ("supplier_gstin", "recipient_gstin"):
        columns[name] = pa.Column(
            str, nullable=True, checks=[_cell_check(parse.gstin_problem, "bad GSTIN format")]
        )
    word_checks = {
        "doc_type": (parse.doc_type, "unknown document type"),
        "reverse_charge": (parse.boolean, "not a yes/no value"),
        "pos": (parse.pos, "unknown place of supply"),
    }
    for name, (convert, reason) in word_checks.items():
        columns[name] = pa.Column(
            str, nullable=True, checks=[_cell_check(_not_found(convert, reason), reason)]
        )

    amounts = [pl.col(f"_a_{f}") for f in MONEY_FIELDS]
    has_type = parse.doc_type(pl.col("doc_type"))
    if mapping.sign_convention == "negative_is_credit_note":
        neg = pl.col("_negative")
        same_sign = pl.all_horizontal(
            [pl.when(neg).then(a <= 0).otherwise(a >= 0).fill_null(True) for a in amounts]
        )
        negative_dn = ~(neg & (has_type == "DN")).fill_null(False)
    else:
        same_sign = negative_dn = pl.lit(True)
    row_checks = {
        "missing document number": pl.col("doc_number").is_not_null(),
        "missing document date (no bill date nor voucher date)": pl.col("doc_date").is_not_null()
        | pl.col("voucher_date").is_not_null(),
        "missing taxable value": pl.col("taxable_value").is_not_null(),
        "amounts have mixed signs": same_sign,
        "debit note booked with negative amounts (ambiguous: fix the sign or the type)": (
            negative_dn
        ),
    }
    checks = [_row_check(lambda e=expr: e, reason) for reason, expr in row_checks.items()]
    return pa.DataFrameSchema(columns, checks=checks, strict=False, name="register staging")


# --- conversion of the good rows -----------------------------------------------------------------


def _convert(
    staged: pl.DataFrame, mapping: Mapping, used: dict[str, str], file_name: str
) -> tuple[pl.DataFrame, list[str]]:
    """Parse the validated text cells into the canonical frame (not yet conformed-checked)."""
    amounts = {f: pl.col(f"_a_{f}") for f in MONEY_FIELDS}
    if mapping.sign_convention == "negative_is_credit_note":
        neg = pl.col("_negative")
        signed = {f: pl.when(neg).then(-a).otherwise(a) for f, a in amounts.items()}
        kind = pl.when(neg).then(pl.lit("CN"))
    else:
        signed = {f: a.abs() for f, a in amounts.items()}
        kind = pl.lit(None, dtype=pl.String)
    kind = pl.coalesce(kind, parse.doc_type(pl.col("doc_type")), pl.lit(mapping.default_doc_type))
    heads = [signed[f] for f in ("taxable_value", *TAX_HEADS, "cess")]
    total = pl.coalesce(signed["doc_value"], pl.sum_horizontal(heads))
    supplier = parse.gstin(pl.col("supplier_gstin"))
    reverse = parse.boolean(pl.col("reverse_charge")).fill_null(False)
    no_gstin = supplier.is_null()
    reason = pl.concat_str(
        pl.when(no_gstin).then(pl.lit("blank supplier GSTIN")),
        pl.when(reverse).then(pl.lit("reverse charge")),
        separator="; ",
        ignore_nulls=True,
    )
    frame = staged.with_columns(
        register_id=_id_expr(),
        recipient_gstin=parse.gstin(pl.col("recipient_gstin")),
        supplier_gstin=supplier,
        supplier_pan=gst.pan_expr(supplier),
        doc_type=kind,
        doc_date=pl.coalesce(
            parse.date(pl.col("doc_date"), mapping.date_formats),
            parse.date(pl.col("voucher_date"), mapping.date_formats),
        ),
        **{f: signed[f] for f in MONEY_FIELDS if f != "doc_value"},
        doc_value=total,
        pos=parse.pos(pl.col("pos")),
        reverse_charge=reverse,
        in_scope=~no_gstin & ~reverse,
        scope_reason=pl.when(reason != "").then(reason),
        source_file=pl.lit(file_name),
    )
    notes = _fallback_notes(staged, used)
    return conform(frame, REGISTER_COLUMNS), notes


def _fallback_notes(staged: pl.DataFrame, used: dict[str, str]) -> list[str]:
    """Say where a value was filled in rather than read (voucher date, computed total...)."""
    counts = staged.select(
        voucher=(pl.col("doc_date").is_null() & pl.col("voucher_date").is_not_null()).sum(),
        total=pl.col("doc_value").is_null().sum(),
        kind=pl.col("doc_type").is_null().sum(),
    ).row(0, named=True)
    notes = []
    if counts["voucher"]:
        notes.append(f"{counts['voucher']} row(s) without a bill date used the voucher date")
    if "doc_value" in used and counts["total"]:
        notes.append(f"{counts['total']} row(s) without a document value: taxable + taxes used")
    elif "doc_value" not in used:
        notes.append("no document value column: document value = taxable value + taxes")
    if "doc_type" in used and counts["kind"]:
        notes.append(f"{counts['kind']} row(s) without a document type: read by sign")
    missing = [f for f in (*TAX_HEADS, "cess") if f not in used]
    if missing:
        notes.append(f"no column for {', '.join(missing)}: taken as zero")
    return notes


def _with_context(problems: pl.DataFrame, raw: pl.DataFrame | None, used: dict[str, str]):
    """Add the file's header name for each field and, for rejects, the whole input row as JSON."""
    header = pl.col("field").replace_strict(used, default=None, return_dtype=pl.String)
    problems = problems.with_columns(column=pl.coalesce(pl.col("column"), header))
    if raw is None or "record" not in problems.columns or not problems.height:
        return problems
    rows = problems["source_row"].unique().implode()
    originals = [c for c in raw.columns if c != ROW]
    records = raw.filter(pl.col(ROW).is_in(rows)).select(
        pl.col(ROW).alias("source_row"),
        pl.struct(originals).struct.json_encode().alias("_record"),
    )
    return (
        problems.join(records, on="source_row", how="left")
        .with_columns(record=pl.coalesce("record", "_record"))
        .select(list(REJECT_COLUMNS))
    )
