"""Pandera validation of the canonical IMS document frame (ims-spec.md §1-§4).

`IMS_SCHEMA` is the contract (every column of `IMS_COLUMNS` with its dtype) plus the error checks;
`warning_rules` are the checks that only warn. `validate_ims` runs both and returns errors and
warnings as data (file, section, index, key, value, reason), never raising for bad records.

The reader hands over a *staged* frame: the canonical columns plus, for parsed fields, the wire
text in `<column>__raw` (String). Checks on the raw text (a real date, an amount with at most two
decimals) only run when those columns are present, so a plain canonical frame validates too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TypeVar

import pandera.polars as pa
import polars as pl
from pandera.errors import SchemaErrors

from imsdata import gstin as gst
from imsdata.portal.sections import ACTION_CODES, SECTIONS
from imsdata.schemas import (
    AMOUNT_HEADS,
    DECLARED_COLUMNS,
    IMS_COLUMNS,
    MONEY,
    conform,
    total_tax,
)

RAW = "__raw"
Frame = TypeVar("Frame", pl.DataFrame, pl.LazyFrame)

#: One row per problem found (rejects, warnings, duplicates all share it).
ISSUE_COLUMNS: dict[str, pl.DataType] = {
    "file": pl.String(),
    "section": pl.String(),
    "index": pl.Int64(),  # 0-based index of the record within its section in that file
    "key": pl.String(),  # the column (validate_ims) or the JSON key (reader) at fault
    "value": pl.String(),
    "reason": pl.String(),
}

MONEY_COLUMNS: tuple[str, ...] = ("doc_value", *AMOUNT_HEADS)
DATE_COLUMNS: tuple[str, ...] = ("doc_date", "orig_doc_date")
FLAG_COLUMNS: tuple[str, ...] = ("pending_blocked", "itc_reduction_blocked", "remarks_blocked")
#: Columns every record must carry (identity and value keys of ims-spec.md §1.2; the original
#: document only on amended sections).
REQUIRED_COLUMNS: tuple[str, ...] = (
    "supplier_gstin", "doc_number", "doc_date", "supply_type", "source_form", "supplier_period",
    *MONEY_COLUMNS, "pos",
)  # fmt: skip
AMENDMENT_COLUMNS: tuple[str, ...] = ("orig_doc_number", "orig_doc_date")

#: Filing-status words seen on the wire (ims-spec.md §6.4), upper-cased, and what they mean.
FILING_STATUS: dict[str, bool] = {
    "FILED": True, "F": True, "NOT FILED": False, "NOTFILED": False, "NOT_FILED": False,
    "NF": False, "SAVED": False, "S": False,
}  # fmt: skip
#: Flag spellings (ims-spec.md §6.3), upper-cased.
FLAG_VALUES: dict[str, bool] = {"Y": True, "N": False, "TRUE": True, "FALSE": False, "1": True,
                                "0": False}  # fmt: skip
#: doc_value may differ from taxable value + taxes by this much (rupees) or this share of it
#: before a warning (round-off and TCS make small gaps normal).
DOC_VALUE_TOLERANCE = Decimal("1.00")
#: GST rule 46: a document number has at most 16 characters: letters, digits, '/' and '-'.
#: An IMS record breaking it is rejected (the portal cannot hold it); a register row is warned.
DOC_NUMBER_PATTERN = r"^[A-Za-z0-9/-]{1,16}$"
#: What a supplier GSTIN from a download must be to be loaded: a state code and 13 letters or
#: digits (keys, PAN and state work). The registered-taxpayer pattern of `imsdata.gstin` is only
#: a warning: the portal is the authority on the GSTINs it sends (a record is never dropped
#: because its registration type is one the pattern does not know).
GSTIN_SHAPE = r"^\d{2}[0-9A-Z]{13}$"
DOC_NUMBER_RULE = (
    "document number breaks the GST limit (at most 16 characters: letters, digits, '/' and '-')"
)
DOC_VALUE_SHARE = Decimal("0.01")


@dataclass(frozen=True)
class Rule:
    """One named check: `ok` is True for a good row; `value` says what was wrong on a bad one."""

    name: str
    column: str
    ok: pl.Expr
    reason: str
    value: pl.Expr | None = None
    explain: Callable[[str | None], str] | None = None  # reason from the value, when it varies
    suspect: pl.Expr | None = None  # cheap: `.any()` is True whenever some row might fail


def shape(frame: Frame, columns: dict[str, pl.DataType]) -> Frame:
    """Like `conform`, but casts only the columns whose dtype differs (no pass over good data)."""
    schema = frame.collect_schema()
    if list(schema.items()) == list(columns.items()):
        return frame  # already the contract: a select would still touch every column
    return frame.select(
        pl.col(name)
        if schema.get(name) == dtype
        else (pl.col(name) if name in schema else pl.lit(None)).cast(dtype).alias(name)
        for name, dtype in columns.items()
    )


def staged_columns(frame: pl.DataFrame | pl.LazyFrame) -> dict[str, pl.DataType]:
    """The canonical contract plus the frame's `<column>__...` companions (sorted by name)."""
    schema = frame.collect_schema()
    extra = sorted(c for c in schema if "__" in c and c not in IMS_COLUMNS)
    return {**IMS_COLUMNS, **{c: schema[c] for c in extra}}


def _money_reason(text: str | None) -> str:
    """Why an amount's wire text is not a valid amount (positive, at most 2 decimals)."""
    if text is None:
        return "amount missing"
    try:
        value = Decimal(text)
    except InvalidOperation:
        return "amount is not a number"
    if not value.is_finite():
        return "amount is not a number"
    if value < 0:
        return "amount is negative (amounts are positive on the wire, ims-spec R16)"
    if abs(value) >= Decimal(10) ** 16:
        return "amount too large for Decimal(18,2)"
    if value != value.quantize(Decimal("0.01")):
        return "amount has more than 2 decimals"
    return "amount is not a plain decimal number"


def error_rules(columns: set[str]) -> list[Rule]:
    """The checks whose failure rejects a record (ims-spec.md §1.2, §4; R16)."""
    rules: list[Rule] = []
    amended = pl.col("is_amendment").fill_null(False)
    for col in REQUIRED_COLUMNS + AMENDMENT_COLUMNS:
        present = pl.col(col).is_not_null()
        if col + RAW in columns:
            present = present | pl.col(col + RAW).is_not_null()
        # sections with their own required columns (bills of entry) need only those
        exempt = [
            k for k, s in SECTIONS.items() if s.required is not None and col not in s.required
        ]
        need = amended if col in AMENDMENT_COLUMNS else ~pl.col("section").is_in(exempt)
        rules.append(
            Rule(f"required:{col}", col, present | ~need, "required key missing", pl.lit(None))
        )
    for col in DATE_COLUMNS:
        if col + RAW in columns:
            ok = pl.col(col + RAW).is_null() | pl.col(col).is_not_null()
            rules.append(
                Rule(f"date:{col}", col, ok, "not a real date (dd-mm-yyyy)", pl.col(col + RAW))
            )
    for col in MONEY_COLUMNS + DECLARED_COLUMNS:
        if col + RAW in columns:
            ok = pl.when(pl.col(col).is_not_null()).then(pl.col(col) >= 0)
            ok = ok.otherwise(pl.col(col + RAW).is_null())
            value = pl.coalesce(pl.col(col + RAW), pl.col(col).cast(pl.String))
            rules.append(Rule(f"amount:{col}", col, ok, "bad amount", value, _money_reason))
        else:
            rules.append(
                Rule(
                    f"amount:{col}", col, (pl.col(col) >= 0).fill_null(True),
                    "amount is negative (amounts are positive on the wire, ims-spec R16)",
                )
            )  # fmt: skip
    for col in FLAG_COLUMNS:
        if col + RAW in columns:
            ok = pl.col(col + RAW).is_null() | pl.col(col).is_not_null()
            rules.append(
                Rule(f"flag:{col}", col, ok, "flag must be Y/N/true/false/1/0", pl.col(col + RAW))
            )
    action = pl.col("portal_action")
    rules += [
        Rule(
            "action_code", "portal_action",
            action.is_null() | action.is_in(list(ACTION_CODES)),
            f"action code must be one of {'/'.join(ACTION_CODES)}",
        ),
        Rule(
            "itc_reduction", "itc_reduction",
            pl.col("itc_reduction").is_null() | pl.col("itc_reduction").is_in(["Y", "N"]),
            "ITC-reduction declaration must be Y or N",
        ),
        Rule(
            "pos_format", "pos", pl.col("pos").is_null() | pl.col("pos").str.contains(r"^\d{2}$"),
            "place of supply must be a two-digit state code",
        ),
        Rule(
            "doc_number_rule", "doc_number",
            pl.col("doc_number").is_null() | pl.col("doc_number").str.contains(DOC_NUMBER_PATTERN),
            DOC_NUMBER_RULE, pl.col("doc_number").str.slice(0, 40),
        ),
        Rule(
            "gstin_format", "supplier_gstin",
            pl.col("supplier_gstin").is_null()
            | pl.col("supplier_gstin").str.contains(GSTIN_SHAPE),
            "supplier GSTIN is not a valid GSTIN (15 characters, ims-spec §4)",
        ),
    ]  # fmt: skip
    return rules


def bad_check_gstins(gstins: pl.Series) -> pl.Series:
    """The distinct well-formed GSTINs whose check character is wrong (ims-spec.md §4).

    The Luhn check costs 14 slices a value: it runs once per distinct GSTIN (a few thousand).
    """
    distinct = gstins.drop_nulls().unique().to_frame("g")
    g = pl.col("g")
    return distinct.filter(gst.format_expr(g) & ~gst.check_expr(g))["g"]


def warning_rules(columns: set[str], bad_check: pl.Series) -> list[Rule]:
    """The checks that only warn: the record loads, the analyst should look (ims-spec.md §4).

    `bad_check` is `bad_check_gstins` of the frame's supplier GSTINs.
    """
    g = pl.col("supplier_gstin")
    taxes = total_tax()
    computed = pl.col("taxable_value").fill_null(0) + taxes
    gap = (pl.col("doc_value") - computed).abs()
    allowed = pl.max_horizontal(
        pl.lit(DOC_VALUE_TOLERANCE, MONEY), (computed * pl.lit(DOC_VALUE_SHARE)).cast(MONEY)
    )
    rules = [
        Rule(
            "gstin_check", "supplier_gstin",
            ~g.is_in(pl.lit(bad_check, pl.String).implode()).fill_null(False),
            "supplier GSTIN check character is wrong (ims-spec §4: loaded, please verify)",
            suspect=pl.lit(bad_check.len() > 0),
        ),
        Rule(
            "gstin_pattern", "supplier_gstin",
            ~g.str.contains(GSTIN_SHAPE).fill_null(False) | gst.format_expr(g),
            "supplier GSTIN does not follow the registered-taxpayer pattern (ims-spec §4):"
            " loaded as the portal sent it, please verify",
        ),
        Rule(
            "pos_known", "pos",
            ~pl.col("pos").str.contains(r"^\d{2}$").fill_null(False)
            | pl.col("pos").is_in(list(gst.STATES)),
            "place of supply is not a known state code",
        ),
        Rule(
            "igst_with_cgst_sgst", "igst",
            ~((pl.col("igst") > 0) & ((pl.col("cgst") > 0) | (pl.col("sgst") > 0)))
            .fill_null(False),
            "IGST charged together with CGST/SGST",
            pl.concat_str([pl.lit("igst="), pl.col("igst").cast(pl.String), pl.lit(" cgst="),
                        pl.col("cgst").cast(pl.String), pl.lit(" sgst="),
                        pl.col("sgst").cast(pl.String)], ignore_nulls=True),
        ),
        Rule(
            "cgst_sgst_equal", "cgst", (pl.col("cgst") == pl.col("sgst")).fill_null(True),
            "CGST differs from SGST",
            pl.concat_str([pl.lit("cgst="), pl.col("cgst").cast(pl.String), pl.lit(" sgst="),
                        pl.col("sgst").cast(pl.String)], ignore_nulls=True),
        ),
        Rule(
            "doc_value_gap", "doc_value", (gap <= allowed).fill_null(True),
            "document value far from taxable value + taxes",
            pl.concat_str([pl.lit("val="), pl.col("doc_value").cast(pl.String),
                        pl.lit(" taxable+taxes="), computed.cast(MONEY).cast(pl.String)],
                       ignore_nulls=True),
        ),
        Rule(
            "filing_status", "supplier_filing_status",
            pl.col("supplier_filing_status").is_null() | pl.col("supplier_filed").is_not_null(),
            "unknown supplier filing status (kept verbatim, supplier_filed left empty)",
        ),
        Rule(
            "duplicate_doc_key", "doc_key",
            pl.col("doc_key").is_null()
            | (pl.col("record_hash").n_unique().over("doc_key") <= 1),
            "another record has the same document key (section, supplier, number, date) with "
            "different content",
            # hashes of the key: a collision only costs the exact check below, never a miss
            suspect=pl.col("doc_key").hash().is_duplicated(),
        ),
    ]  # fmt: skip
    return rules


def _check(rule: Rule) -> pa.Check:
    ok = rule.ok.fill_null(False)
    return pa.Check(lambda data, ok=ok: data.lazyframe.select(ok), name=rule.name, ignore_na=False)


def build_schema(rules: list[Rule], *, contract: bool) -> pa.DataFrameSchema:
    """A pandera schema running `rules` (attached to their columns), optionally with dtypes."""
    columns: dict[str, pa.Column] = {}
    for name, dtype in IMS_COLUMNS.items():
        checks = [_check(r) for r in rules if r.column == name]
        columns[name] = pa.Column(dtype if contract else None, checks=checks, nullable=True)
    return pa.DataFrameSchema(columns, strict=False, name="IMS document")


#: The canonical IMS document contract with its error checks (no raw columns needed).
IMS_SCHEMA = build_schema(error_rules(set(IMS_COLUMNS)), contract=True)


def _failing(rules: list[Rule], frame: pl.DataFrame) -> list[Rule]:
    """The rules some row breaks, found in one parallel polars pass over the frame.

    A rule with a `suspect` expression is only evaluated when some row is suspect.
    """
    if not rules or not frame.height:
        return []
    suspects = [(r, r.suspect) for r in rules if r.suspect is not None]
    flagged = frame.select(*(s.any().alias(r.name) for r, s in suspects)).row(0) if suspects else ()
    clear = {r.name for (r, _), any_ in zip(suspects, flagged, strict=True) if not any_}
    todo = [r for r in rules if r.name not in clear]
    if not todo:
        return []
    passed = frame.select(*(r.ok.fill_null(False).all().alias(r.name) for r in todo)).row(0)
    return [r for r, ok in zip(todo, passed, strict=True) if not ok]


def _failures(schema: pa.DataFrameSchema, frame: pl.DataFrame) -> pl.DataFrame:
    """(check, index) of every failed row check; empty when everything passes.

    Callers pass only rules `_failing` found broken; with none, there is nothing for pandera to
    report (the dtypes are the contract already: `shape` cast them), so it is not run at all.
    """
    if not any(col.checks for col in schema.columns.values()):
        return pl.DataFrame(schema={"check": pl.String, "index": pl.Int64})
    try:
        schema.validate(frame, lazy=True)
    except SchemaErrors as exc:
        cases = exc.failure_cases
        structural = cases.filter(pl.col("index").is_null())
        if structural.height:
            first = structural.row(0, named=True)
            raise TypeError(
                f"IMS frame breaks its contract: {first['check']} on {first['column']}"
            ) from None
        return cases.select("check", pl.col("index").cast(pl.Int64))
    return pl.DataFrame(schema={"check": pl.String, "index": pl.Int64})


def _issues(frame: pl.DataFrame, rules: list[Rule], failures: pl.DataFrame) -> pl.DataFrame:
    """Turn failed (check, row index) pairs into the issue frame, one row per problem."""
    by_name = {r.name: r for r in rules}
    parts = []
    for (name,), group in failures.group_by("check", maintain_order=True):
        rule = by_name[str(name)]
        rows = frame[group["index"].unique().sort()]
        value = rule.value if rule.value is not None else pl.col(rule.column).cast(pl.String)
        part = rows.select(
            pl.col("source_file").alias("file"),
            pl.col("section"),
            pl.col("source_index").alias("index"),
            pl.lit(rule.column).alias("key"),
            value.cast(pl.String).alias("value"),
        )
        if rule.explain is not None:
            reasons = [rule.explain(v) for v in part["value"].to_list()]
            part = part.with_columns(reason=pl.Series(reasons, dtype=pl.String))
        else:
            part = part.with_columns(reason=pl.lit(rule.reason))
        parts.append(part)
    if not parts:
        return pl.DataFrame(schema=ISSUE_COLUMNS)
    return conform(pl.concat(parts), ISSUE_COLUMNS)


def sort_issues(issues: pl.DataFrame) -> pl.DataFrame:
    """Issues in a stable order: file, section, record index, key, reason."""
    return issues.sort(["file", "section", "index", "key", "reason"], nulls_last=False)


def validate_rows(frame: pl.DataFrame) -> tuple[pl.Series, pl.DataFrame, pl.DataFrame]:
    """Validate an IMS frame row by row: (keep, rejects, warnings), `keep` True for good rows.

    A row with any error is rejected whole (one reject row per problem); warnings never drop a
    row. `<column>__raw` wire-text columns, when present, let errors quote what was on the wire.
    """
    staged = shape(frame, staged_columns(frame))
    cols = set(staged.columns)
    # Pandera runs the dtype contract and, for their row-level report, the rules that fail.
    errors = _failing(error_rules(cols), staged)
    failed = _failures(build_schema(errors, contract=True), staged)
    rejects = _issues(staged, errors, failed)
    bad = failed["index"].unique()
    keep = pl.repeat(True, staged.height, dtype=pl.Boolean, eager=True)
    good_staged = staged
    if bad.len():
        keep = pl.select(
            ~pl.int_range(staged.height, dtype=pl.Int64).is_in(pl.lit(bad).implode())
        ).to_series()
        good_staged = staged.filter(keep)
    warns = _failing(
        warning_rules(cols, bad_check_gstins(good_staged["supplier_gstin"])), good_staged
    )
    warned = _failures(build_schema(warns, contract=False), good_staged)
    warnings = _issues(good_staged, warns, warned)
    return keep.alias("keep"), sort_issues(rejects), sort_issues(warnings)


def validate_ims(frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Validate an IMS frame: (good rows as the canonical frame, rejects, warnings).

    See `validate_rows`; the good rows keep their order.
    """
    keep, rejects, warnings = validate_rows(frame)
    good = frame if keep.all() else frame.filter(keep)
    return shape(good, IMS_COLUMNS), rejects, warnings
