"""`read_register`: any ERP export -> the canonical register frame, rejects and warnings.

Steps: load the file as text (`_load`), decide which header feeds which field (`mapping`),
parse every cell once into `_v_<field>` columns (`_parse`), validate the text cells with a pandera
schema that judges them by those parsed values (so checks and conversion cannot disagree),
convert the good rows, and validate the canonical frame (`imsdata.schemas.register`).
A row with any error is rejected whole, with file, row, column, value and reason.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import pandera.polars as pa
import polars as pl

from imsdata import gstin as gst
from imsdata.errors import InputError
from imsdata.register import _parse as parse
from imsdata.register._load import ROW, load
from imsdata.register.lines import aggregate_line_items, payment_mode_warnings
from imsdata.register.mapping import (
    FIELDS,
    MONEY_FIELDS,
    Mapping,
    Resolved,
    load_mapping,
    load_preset,
    recognised,
    resolve,
)
from imsdata.schemas import AMOUNT_HEADS, REGISTER_COLUMNS, TAX_HEADS, conform
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
    resolved = resolve(headers, chosen, id_column=id_column, origin=str(source))
    used = resolved.used
    notes = [*table.notes, f"mapping: {chosen.name}"]
    staged = _stage(table.frame, resolved)
    _refuse_month_first(staged, used, chosen, source)
    staged = _parse_columns(staged, chosen, resolved)

    errors = failures(_staging_schema(chosen, resolved), staged, fields=ROW_CHECK_FIELDS)
    good = staged
    if errors.height:  # a row with any error is rejected whole
        bad = errors["index"].unique().implode()
        good = staged.with_row_index("_i").filter(~pl.col("_i").is_in(bad)).drop("_i")

    converted, more_notes = _convert(good, chosen, resolved, source.name)
    rejected_lines = None
    if errors.height:
        rejected_lines = staged.with_row_index("_i").filter(
            pl.col("_i").is_in(errors["index"].unique().implode())
        )
    converted, item_notes, aside = aggregate_line_items(
        converted,
        headers,
        line_items=chosen.line_items,
        by_id=bool(id_column) or ("register_id" in used),
        rejected=rejected_lines,
    )
    documents, late_rejects, warnings = validate_register(converted)
    late_rejects = pl.concat(
        [
            late_rejects,
            aside.select(
                source_file=pl.lit(source.name),
                source_row="source_row",
                register_id="register_id",
                field=pl.lit("doc_number"),
                column=pl.lit(None, pl.String),
                value="doc_number",
                reason="reason",
                record=pl.lit(None, pl.String),
            ).cast(pl.Schema(REJECT_COLUMNS)),
        ]
    )
    warnings = pl.concat([warnings, payment_mode_warnings(good, documents, source.name)])
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
    shown = resolved.shown()
    rejects = _with_context(rejects, table.frame, shown)
    warnings = _with_context(warnings, None, shown).select(list(WARNING_COLUMNS))
    if not documents["source_row"].is_sorted():
        documents = documents.sort("source_row")
    return RegisterResult(
        documents=documents,
        rejects=rejects.sort("source_row", "field", "reason"),
        warnings=warnings.sort("source_row", "field", "reason"),
        mapping_used=shown,
        notes=notes + more_notes + item_notes,
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


#: Cells ERPs and Excel print for a zero amount ("-", an en or em dash, "nil").
_ZERO_WORDS = r"(?i)^(-+|\u2013+|\u2014+|nil)$"


def part_name(name: str, i: int) -> str:
    """Staged name of the i-th column of a field read from several (0 is the field itself)."""
    return name if i == 0 else f"{name}#{i}"


def _stage(raw: pl.DataFrame, resolved: Resolved) -> pl.DataFrame:
    """One text column per source field (trimmed, blanks as null), plus the data row number.

    A field summed from several columns gets one staged column per part (`cgst`, `cgst#1`...).
    An amount written as "-", a dash or "nil" is zero.
    """
    columns = []
    for name in FIELDS:
        headers = resolved.parts.get(name) or (
            (resolved.used[name],) if name in resolved.used else ()
        )
        for i, header in enumerate(headers):
            text = pl.col(header).str.strip_chars()
            if name in MONEY_FIELDS:
                text = pl.when(text.str.contains(_ZERO_WORDS)).then(pl.lit("0")).otherwise(text)
            columns.append(pl.when(text != "").then(text).alias(part_name(name, i)))
        if not headers:
            columns.append(pl.lit(None, dtype=pl.String).alias(name))
    return raw.select(*columns, pl.col(ROW).alias("source_row"))


def _extra_parts(resolved: Resolved) -> list[str]:
    """Staged names of the second and later columns of summed fields."""
    return [part_name(f, i) for f, p in resolved.parts.items() for i in range(1, len(p))]


def _refuse_month_first(
    staged: pl.DataFrame, used: dict[str, str], mapping: Mapping, source: Path
) -> None:
    """Stop before loading a month-first date column as day-first (half the rows swapped)."""
    if mapping.date_formats:
        return
    for name in ("doc_date", "voucher_date"):
        example = parse.month_first_example(staged[name].unique())
        if example is not None:
            raise InputError(
                f"{source}: column '{used[name]}' looks month-first (e.g. '{example}') but "
                "dates are read day-first; if it is month-first, set [options] date_format = "
                '"%m/%d/%Y" in a --mapping file'
            )


def _id_expr() -> pl.Expr:
    """register_id: the id column's value, else the data row number."""
    return pl.coalesce(pl.col("register_id"), pl.col("source_row").cast(pl.String))


# --- parsing, once per cell --------------------------------------------------------------------

_WORDS: dict[str, Callable[[pl.Expr], pl.Expr]] = {
    "doc_type": parse.doc_type,
    "reverse_charge": parse.boolean,
    "pos": parse.pos,
    "supplier_gstin": parse.gstin,
    "recipient_gstin": parse.gstin,
}


def _by_distinct(
    staged: pl.DataFrame, name: str, convert: Callable[[pl.LazyFrame], pl.LazyFrame]
) -> pl.Expr:
    """`_v_<name>` computed on the column's distinct values, then looked up for every row.

    Dates, types, states and GSTINs repeat a lot: a million rows hold a few thousand values.
    """
    distinct = staged.lazy().select(pl.col(name).unique().drop_nulls())
    table = convert(distinct).collect()
    out = f"_v_{name}"
    return (
        pl.col(name)
        .replace_strict(table[name], table[out], default=None, return_dtype=table.schema[out])
        .alias(out)
    )


def _parse_columns(staged: pl.DataFrame, mapping: Mapping, resolved: Resolved) -> pl.DataFrame:
    """Add the parsed value `_v_<field>` of every field (and `_p_<field>` for amounts).

    Computed once and shared by the validation checks and the conversion, so the two agree.
    Also `_negative`: the row is booked negative (negative taxable value, or zero taxable value
    and a negative document value). Blank tax heads and cess count as zero.
    """
    dates = [
        _by_distinct(staged, f, partial(_dates, field=f, formats=mapping.date_formats))
        for f in ("doc_date", "voucher_date")
    ]
    words = [
        _by_distinct(staged, f, partial(_words, field=f, convert=fn)) for f, fn in _WORDS.items()
    ]
    extra = _extra_parts(resolved)
    frame = parse.add_amounts(
        staged.lazy(), [*MONEY_FIELDS, *extra], decimal_comma=bool(mapping.decimal_comma)
    ).with_columns(*dates, *words)
    summed = {}
    for name, headers in resolved.parts.items():  # null only when every part is blank
        parts = [pl.col(f"_v_{part_name(name, i)}") for i in range(len(headers))]
        any_read = pl.any_horizontal(p.is_not_null() for p in parts)
        summed[f"_v_{name}"] = pl.when(any_read).then(pl.sum_horizontal(parts))
    frame = frame.with_columns(**summed)
    frame = frame.with_columns(pl.col(f"_v_{f}").fill_null(0) for f in TAX_HEADS)
    taxable, total = pl.col("_v_taxable_value").fill_null(0), pl.col("_v_doc_value").fill_null(0)
    return frame.with_columns(_negative=(taxable < 0) | ((taxable == 0) & (total < 0))).collect()


def _dates(lf: pl.LazyFrame, *, field: str, formats: tuple[str, ...]) -> pl.LazyFrame:
    return parse.add_dates(lf, [field], formats)


def _words(lf: pl.LazyFrame, *, field: str, convert: Callable[[pl.Expr], pl.Expr]) -> pl.LazyFrame:
    return lf.with_columns(convert(pl.col(field)).alias(f"_v_{field}"))


# --- validation of the text cells ----------------------------------------------------------------


def _check(failing: pl.Expr, reason: str, *, row_level: bool = False) -> pa.Check:
    """A pandera check failing the rows where `failing` is True (cells, or whole rows)."""

    def check(data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(~failing.fill_null(False))

    return pa.Check(check, name=reason, ignore_na=not row_level)


def _unread(name: str) -> pl.Expr:
    """A non-blank cell whose parsed value is null."""
    return pl.col(name).is_not_null() & pl.col(f"_v_{name}").is_null()


def _staging_schema(mapping: Mapping, resolved: Resolved) -> pa.DataFrameSchema:
    """Pandera schema of the staged text cells, judged by their parsed `_v_`/`_p_` columns."""
    extra = _extra_parts(resolved)
    checks: dict[str, list[pa.Check]] = {name: [] for name in (*FIELDS, *extra)}
    for name in (*MONEY_FIELDS, *extra):
        for reason in ("unparseable amount", "more than 2 decimals"):
            checks[name].append(_check(pl.col(f"_p_{name}") == reason, reason))
    for name in ("doc_date", "voucher_date"):
        checks[name].append(_check(_unread(name), "unparseable date"))
    for name in ("supplier_gstin", "recipient_gstin"):
        bad = ~gst.format_expr(pl.col(f"_v_{name}")) & pl.col(f"_v_{name}").is_not_null()
        checks[name].append(_check(bad, "bad GSTIN format"))
    for name, reason in (
        ("doc_type", "unknown document type"),
        ("reverse_charge", "not a yes/no value"),
        ("pos", "unknown place of supply"),
    ):
        checks[name].append(_check(_unread(name), reason))
    columns = {name: pa.Column(str, nullable=True, checks=checks[name]) for name in checks}

    if mapping.sign == "negative_is_credit_note":
        neg = pl.col("_negative")
        amounts = [pl.col(f"_v_{f}") for f in (*MONEY_FIELDS, *extra)]
        mixed = ~pl.all_horizontal(
            [pl.when(neg).then(a <= 0).otherwise(a >= 0).fill_null(True) for a in amounts]
        )
        negative_dn = neg & (pl.col("_v_doc_type") == "DN")
    else:
        mixed = negative_dn = pl.lit(False)
    row_checks = {
        "missing document number": pl.col("doc_number").is_null(),
        "missing document date (no bill date nor voucher date)": pl.col("doc_date").is_null()
        & pl.col("voucher_date").is_null(),
        "missing taxable value": pl.all_horizontal(
            pl.col(part_name("taxable_value", i)).is_null()
            for i in range(max(1, len(resolved.parts.get("taxable_value", ()))))
        ),
        "amounts have mixed signs": mixed,
        "debit note booked with negative amounts (ambiguous: fix the sign or the type)": (
            negative_dn
        ),
    }
    row = [_check(e, reason, row_level=True) for reason, e in row_checks.items()]
    return pa.DataFrameSchema(columns, checks=row, strict=False, name="register staging")


# --- conversion of the good rows -----------------------------------------------------------------


def _convert(
    staged: pl.DataFrame, mapping: Mapping, resolved: Resolved, file_name: str
) -> tuple[pl.DataFrame, list[str]]:
    """Build the canonical frame from the parsed columns of the rows that passed validation.

    A register with only a total GST column keeps that total in `igst` (`tax_heads` "total").
    """
    used = resolved.used
    amounts = {f: pl.col(f"_v_{f}") for f in MONEY_FIELDS}
    if resolved.total_only:
        amounts["igst"] = amounts["total_tax"].fill_null(0)
    if mapping.sign == "negative_is_credit_note":
        neg = pl.col("_negative")
        signed = {f: pl.when(neg).then(-a).otherwise(a) for f, a in amounts.items()}
        kind: pl.Expr = pl.when(neg).then(pl.lit("CN"))
    else:
        signed = {f: a.abs() for f, a in amounts.items()}
        kind = pl.lit(None, dtype=pl.String)
    kind = pl.coalesce(kind, pl.col("_v_doc_type"), pl.lit(mapping.doc_type_default))
    heads = [signed[f] for f in AMOUNT_HEADS]
    total = pl.coalesce(signed["doc_value"], pl.sum_horizontal(heads))
    supplier = pl.col("_v_supplier_gstin")
    reverse = pl.col("_v_reverse_charge").fill_null(False)
    no_gstin = supplier.is_null()
    reason = pl.concat_str(
        pl.when(no_gstin).then(pl.lit("blank supplier GSTIN")),
        pl.when(reverse).then(pl.lit("reverse charge")),
        separator="; ",
        ignore_nulls=True,
    )
    frame = staged.with_columns(
        register_id=_id_expr(),
        recipient_gstin=pl.col("_v_recipient_gstin"),
        supplier_gstin=supplier,
        supplier_pan=gst.pan_expr(supplier),
        doc_type=kind,
        doc_date=pl.coalesce("_v_doc_date", "_v_voucher_date"),
        **{f: signed[f] for f in MONEY_FIELDS if f != "doc_value"},
        doc_value=total,
        pos=pl.col("_v_pos"),
        reverse_charge=reverse,
        in_scope=~no_gstin & ~reverse,
        scope_reason=pl.when(reason != "").then(reason),
        source_file=pl.lit(file_name),
        tax_heads=pl.lit("total" if resolved.total_only else None, pl.String),
    )
    notes = _fallback_notes(staged, used)
    if resolved.total_only:
        notes.append(
            f"only a total GST column ('{used['total_tax']}'): reconciled on total tax, "
            "IGST/CGST/SGST not compared"
        )
    # source_rows: only documents booked as line items have several rows
    return conform(frame, REGISTER_COLUMNS, defaults={"source_rows": None}), notes


def _fallback_notes(staged: pl.DataFrame, used: dict[str, str]) -> list[str]:
    """Say where a value was filled in rather than read (voucher date, computed total...)."""
    counts = staged.select(
        voucher=(pl.col("doc_date").is_null() & pl.col("voucher_date").is_not_null()).sum(),
        total=pl.col("doc_value").is_null().sum(),
        kind=pl.col("doc_type").is_null().sum(),
        noise=pl.col("_float_noise").sum(),
    ).row(0, named=True)
    notes = []
    if counts["noise"]:
        notes.append(
            f"{counts['noise']} row(s) had spreadsheet float noise in an amount "
            "(e.g. 0.30000000000000004): rounded to 2 decimals"
        )
    if counts["voucher"]:
        notes.append(f"{counts['voucher']} row(s) without a bill date used the voucher date")
    if "doc_value" in used and counts["total"]:
        notes.append(f"{counts['total']} row(s) without a document value: taxable + taxes used")
    elif "doc_value" not in used:
        notes.append("no document value column: document value = taxable value + taxes")
    if "doc_type" in used and counts["kind"]:
        notes.append(f"{counts['kind']} row(s) without a document type: read by sign")
    missing = [f for f in TAX_HEADS if f not in used and "total_tax" not in used]
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
