"""Document-number keys: the normalised key and its numeric core (polars expressions).

One implementation of the normalisation rules; reconciliation computes the keys in polars before
the frames reach SQL, so the SQL only compares strings. Rules (issue 4): case folded; the
financial-year tokens of the document's own FY removed in every form (2025-2026, 2025/26, 25-26,
2526, 202526, FY25-26, and the lone start year 2025 as its own group); common prefixes
(INVOICE, INV, BILL, TI) removed; leading zeros of each number group removed; separators and
punctuation removed. The numeric core is the digits of the key: fuzzy similarity is only ever
tried between numbers whose cores are equal.
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl
from polars.expr.whenthen import ChainedThen, Then

#: Characters that may separate the two years of an FY token ("2025-26", "2025/26", "25 26").
FY_SEPARATOR = r"[-/_. ]?"
#: Prefixes dropped from the start of a number when a non-letter follows them.
PREFIXES: tuple[str, ...] = ("INVOICE", "INV", "BILL", "TI")
#: FYs whose tokens the public expression knows by default (GST began in FY 2017-18).
DEFAULT_FISCAL_YEARS = range(2017, 2041)


def fiscal_year_expr(date: pl.Expr) -> pl.Expr:
    """The starting calendar year of the Indian financial year (April-March) of a date."""
    return pl.when(date.dt.month() >= 4).then(date.dt.year()).otherwise(date.dt.year() - 1)


def fy_token_pattern(start_year: int) -> str:
    """Regex of every written form of FY `start_year`-`start_year+1`, bounded by non-digits."""
    a, b = f"{start_year:04d}", f"{start_year + 1:04d}"
    s = FY_SEPARATOR
    forms = f"{a}{s}(?:{b}|{b[2:]})|{a[2:]}{s}{b[2:]}|{a}"  # the lone start year ("2025/42") last
    return rf"(^|[^0-9])(?:FY{s})?(?:{forms})([^0-9]|$)"


def _finish(upper: pl.Expr) -> pl.Expr:
    prefixes = "|".join(PREFIXES)
    return (
        upper.str.replace(rf"^[^A-Z0-9]*(?:{prefixes})([^A-Z]|$)", "${1}")
        .str.replace_all(r"(^|[^0-9])0+([0-9])", "${1}${2}")
        .str.replace_all(r"[^A-Z0-9]", "")
    )


def _parts(
    number: pl.Expr | str, date: pl.Expr | str, fiscal_years: Iterable[int]
) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """(key without the FY token, key with it, bare alphanumerics): the rule and its fallbacks."""
    num = pl.col(number) if isinstance(number, str) else number
    day = pl.col(date) if isinstance(date, str) else date
    upper = num.str.to_uppercase().str.strip_chars()
    fy = fiscal_year_expr(day)
    years = sorted(set(fiscal_years))
    stripped = upper
    if years:
        chain: Then | ChainedThen = pl.when(fy == years[0]).then(
            upper.str.replace_all(fy_token_pattern(years[0]), "${1} ${2}")
        )
        for year in years[1:]:
            chain = chain.when(fy == year).then(
                upper.str.replace_all(fy_token_pattern(year), "${1} ${2}")
            )
        stripped = chain.otherwise(upper)
    return _finish(stripped), _finish(upper), upper.str.replace_all(r"[^A-Z0-9]", "")


def _fallback(first: pl.Expr, with_fy: pl.Expr, bare: pl.Expr) -> pl.Expr:
    return pl.when(first != "").then(first).when(with_fy != "").then(with_fy).otherwise(bare)


def normalise_number_expr(
    number: pl.Expr | str = "doc_number",
    date: pl.Expr | str = "doc_date",
    *,
    fiscal_years: Iterable[int] = DEFAULT_FISCAL_YEARS,
) -> pl.Expr:
    """The normalised number key ('INV/2025-26/0042' and 'inv-42' both give '42').

    `fiscal_years` limits the FY tokens tried to those present (faster on big frames); a number
    that is nothing but its FY token keeps it rather than becoming empty.
    """
    return _fallback(*_parts(number, date, fiscal_years))


def numeric_core_expr(key: pl.Expr | str) -> pl.Expr:
    """The digits of a normalised key ('' when it has none)."""
    col = pl.col(key) if isinstance(key, str) else key
    return col.str.replace_all(r"[^0-9]", "")


def with_number_keys(
    frame: pl.DataFrame, number: str, date: str, *, prefix: str = "num"
) -> pl.DataFrame:
    """Add `{prefix}_norm` and `{prefix}_core` for the FYs actually present in the frame."""
    years = (
        frame.select(fiscal_year_expr(pl.col(date)).unique().drop_nulls().alias("y"))
        .get_column("y")
        .to_list()
    )
    first, with_fy, bare = _parts(number, date, years)
    name = f"{prefix}_norm"
    out = frame.with_columns(first.alias(name))
    if (out.get_column(name) == "").any():  # rare: only then pay for the fallbacks
        out = out.with_columns(_fallback(pl.col(name), with_fy, bare).alias(name))
    return out.with_columns(numeric_core_expr(name).alias(f"{prefix}_core"))
