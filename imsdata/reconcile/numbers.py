"""Document-number keys: the normalised key, its numeric core and the glued key (polars).

One implementation of the normalisation rules; reconciliation computes the keys in polars before
the frames reach SQL, so the SQL only compares strings. Rules (issues 4 and 14): case folded; the
financial-year tokens of the document's own FY removed in every separated form (2025-2026,
2025/26, 25-26, 2526, 202526, FY25-26, the zero-padded 25-026, 25-00026, 2025-0026, and the lone
start year 2025 as its own group); common prefixes (INVOICE, INV, BILL, TI) removed; leading
zeros of each number group removed; separators and punctuation removed. The numeric core is the
digits of the key: fuzzy similarity is only ever tried between numbers whose cores are equal.

The glued key (issue 14) is a second key for numbers whose books glued the FY token to the serial
(INV25261230, 19492526, TI1253202526, S0000523202526, INV00025261469): after the leading zeros of
each group, the own FY written as 20252026, 202526 or 2526 is removed from the start or the end
of a digit group, never from its middle. It is only kept when it differs from the normalised key.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

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


def fy_token_pattern(start_year: int, *, padded: bool = True) -> str:
    """Regex of every written form of FY `start_year`-`start_year+1`, bounded by non-digits.

    With `padded`, each year of a two-year form may be zero-padded (25-026, 2025-0026); that
    reading is only kept when a serial is left (see `_parts`): '2025/00026' is year 2025, serial 26.
    """
    a, b = f"{start_year:04d}", f"{start_year + 1:04d}"
    s = FY_SEPARATOR
    z = "0*" if padded else ""
    forms = f"{z}{a}{s}{z}(?:{b}|{b[2:]})|{z}{a[2:]}{s}{z}{b[2:]}|{a}"  # lone start year last
    return rf"(^|[^0-9])(?:FY{s})?(?:{forms})([^0-9]|$)"


def glued_fy_forms(start_year: int) -> str:
    """Regex alternation of the FY forms books glue to a serial, longest first (20252026|...)."""
    a, b = f"{start_year:04d}", f"{start_year + 1:04d}"
    return f"{a}{b}|{a}{b[2:]}|{a[2:]}{b[2:]}"


#: A glued FY is only read off a digit group that keeps enough digits (zeros included) for the
#: serial: 3 beside the 4-digit form ('12526' stays 12526, never serial 1 of FY 25-26), 2 beside
#: the 6- and 8-digit forms, which a serial rarely contains by chance ('ABC2025202677' is 77).
#: Short serials glued to an FY are rare; a false pair is not.
MIN_GLUED_SERIAL_DIGITS = 3
MIN_GLUED_SERIAL_DIGITS_LONG_FY = 2


def _glued_parts(start_year: int) -> tuple[str, str, int, int]:
    a, b = f"{start_year:04d}", f"{start_year + 1:04d}"
    long_forms = f"{a}{b}|{a}{b[2:]}"
    return long_forms, f"{a[2:]}{b[2:]}", MIN_GLUED_SERIAL_DIGITS_LONG_FY, MIN_GLUED_SERIAL_DIGITS


def _unglue(upper: pl.Expr, start_year: int) -> pl.Expr:
    """The own FY removed from the start of a digit group (after its leading zeros), else from
    its end, reading the longest FY form ('TI1253202526' is 1253 + 202526)."""
    long_forms, short_form, n_long, n_short = _glued_parts(start_year)
    unpadded = upper.str.replace_all(r"(^|[^0-9])0+([0-9])", "${1}${2}")
    head = unpadded.str.replace_all(
        rf"(^|[^0-9])(?:(?:{long_forms})([0-9]{{{n_long},}})|{short_form}([0-9]{{{n_short},}}))",
        "${1}${2}${3}",
    )
    tail = upper.str.replace_all(
        rf"(^|[^0-9])(?:([0-9]{{{n_long},}}?)(?:{long_forms})|([0-9]{{{n_short},}}?){short_form})"
        r"([^0-9]|$)",
        "${1}${2}${3}${4}",
    )
    return pl.when(head != unpadded).then(head).otherwise(tail)


def _unglue_short(upper: pl.Expr, start_year: int) -> pl.Expr:
    """The other reading of an FY glued at the end: the shortest form, the longest serial
    ('006202526' is serial 620 + 2526, where `_unglue` reads 6 + 202526)."""
    long_forms, short_form, n_long, n_short = _glued_parts(start_year)
    return upper.str.replace_all(
        rf"(^|[^0-9])(?:([0-9]{{{n_short},}}){short_form}|([0-9]{{{n_long},}})(?:{long_forms}))"
        r"([^0-9]|$)",
        "${1}${2}${3}${4}",
    )


def _finish(upper: pl.Expr) -> pl.Expr:
    prefixes = "|".join(PREFIXES)
    return (
        upper.str.replace(rf"^[^A-Z0-9]*(?:{prefixes})([^A-Z]|$)", "${1}")
        .str.replace_all(r"(^|[^0-9])0+([0-9])", "${1}${2}")
        .str.replace_all(r"[^A-Z0-9]", "")
    )


def _per_year(value: pl.Expr, fy: pl.Expr, years: list[int], make: Callable) -> pl.Expr:
    """`make(value, year)` for the row's own FY among `years`; `value` for any other year."""
    if not years:
        return value
    chain: Then | ChainedThen = pl.when(fy == years[0]).then(make(value, years[0]))
    for year in years[1:]:
        chain = chain.when(fy == year).then(make(value, year))
    return chain.otherwise(value)


def _upper(number: pl.Expr | str) -> pl.Expr:
    num = pl.col(number) if isinstance(number, str) else number
    return num.str.to_uppercase().str.strip_chars()


def _fy(date: pl.Expr | str) -> pl.Expr:
    return fiscal_year_expr(pl.col(date) if isinstance(date, str) else date)


def _strip_fy(upper: pl.Expr, date: pl.Expr | str, years: list[int], *, padded: bool) -> pl.Expr:
    def strip(value: pl.Expr, year: int) -> pl.Expr:
        return value.str.replace_all(fy_token_pattern(year, padded=padded), "${1} ${2}")

    return _per_year(upper, _fy(date), years, strip)


def _parts(
    number: pl.Expr | str, date: pl.Expr | str, fiscal_years: Iterable[int]
) -> tuple[pl.Expr, pl.Expr, pl.Expr, pl.Expr]:
    """(key without the FY token in any form, the same without zero-padded forms, key with the
    token, bare alphanumerics): the rule and its fallbacks (see `_fallback`)."""
    upper, years = _upper(number), sorted(set(fiscal_years))
    first = _finish(_strip_fy(upper, date, years, padded=True))
    plain = _finish(_strip_fy(upper, date, years, padded=False))
    return first, plain, _finish(upper), upper.str.replace_all(r"[^A-Z0-9]", "")


def glued_key_expr(
    number: pl.Expr | str = "doc_number",
    date: pl.Expr | str = "doc_date",
    *,
    fiscal_years: Iterable[int] = DEFAULT_FISCAL_YEARS,
    shortest: bool = False,
) -> pl.Expr:
    """The key with the own FY un-glued from the serial ('INV25261230' gives '1230'); the
    separated FY forms are removed first, exactly as in the normalised key. `shortest` reads an
    FY glued at the end as its shortest form (the longest serial)."""
    upper, fy, years = _upper(number), _fy(date), sorted(set(fiscal_years))
    stripped = _strip_fy(upper, date, years, padded=True)
    return _finish(_per_year(stripped, fy, years, _unglue_short if shortest else _unglue))


def _fallback(first: pl.Expr, plain: pl.Expr, with_fy: pl.Expr, bare: pl.Expr) -> pl.Expr:
    """A key left without digits by a zero-padded FY reading takes the plain reading when that
    keeps a serial ('2025/00026' is 26); an empty key keeps its FY token, else its characters."""
    digit = "[0-9]"
    return (
        pl.when(first.str.contains(digit))
        .then(first)
        .when(plain.str.contains(digit))
        .then(plain)
        .when(first != "")
        .then(first)
        .when(with_fy != "")
        .then(with_fy)
        .otherwise(bare)
    )


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


def _years(frame: pl.DataFrame, date: str) -> list[int]:
    return (
        frame.select(fiscal_year_expr(pl.col(date)).unique().drop_nulls().alias("y"))
        .get_column("y")
        .to_list()
    )


def _glued_columns(
    frame: pl.DataFrame, number: str, date: str, norm: str, name: str, years: list[int]
) -> list[pl.Series]:
    """`name` and `name`_short: the two readings of a glued FY, each null where it adds no key.
    Only numbers holding a glued FY form can differ: the keys are computed for those rows only."""
    forms = "|".join(glued_fy_forms(y) for y in years) or "$^"
    mask = frame.get_column(number).str.contains(forms).fill_null(False)
    long_keys = pl.repeat(None, frame.height, dtype=pl.String, eager=True).alias(name)
    short_keys = long_keys.alias(f"{name}_short")
    if not mask.any():
        return [long_keys, short_keys]
    sub = frame.filter(mask).select(
        a=glued_key_expr(number, date, fiscal_years=years),
        b=glued_key_expr(number, date, fiscal_years=years, shortest=True),
        n=pl.col(norm),
    )
    new = lambda key, *others: (  # noqa: E731
        pl.when((pl.col(key) != "") & pl.all_horizontal(pl.col(key) != pl.col(o) for o in others))
        .then(key)
        .otherwise(pl.lit(None, dtype=pl.String))
    )
    sub = sub.select(new("a", "n").alias("a"), new("b", "n", "a").alias("b"))
    rows = mask.arg_true()
    return [long_keys.scatter(rows, sub.get_column("a")), short_keys.scatter(rows, sub["b"])]


def with_number_keys(
    frame: pl.DataFrame,
    number: str,
    date: str,
    *,
    prefix: str = "num",
    glued: bool = False,
    known: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Add `{prefix}_norm` and `{prefix}_core` for the FYs actually present in the frame, and
    with `glued` also `{prefix}_glued` and `{prefix}_glued_short`: the two readings of a glued
    FY where they differ from the norm (and each other), else null.

    `known` (from `number_key_table`, holding every number of the frame) gives the keys
    already computed instead of computing them again."""
    if known is not None:
        return _with_known_keys(frame, number, date, prefix, glued, known)
    years = _years(frame, date)
    first, plain, with_fy, bare = _parts(number, date, years)
    name, core = f"{prefix}_norm", f"{prefix}_core"
    out = frame.with_columns(first.alias(name)).with_columns(numeric_core_expr(name).alias(core))
    mask = (out.get_column(core) == "").fill_null(False)
    if mask.any():  # a key without digits: only those rows pay for the fallbacks
        sub = out.filter(mask).select(_fallback(pl.col(name), plain, with_fy, bare).alias(name))
        fixed = out.get_column(name).scatter(mask.arg_true(), sub.get_column(name))
        out = out.with_columns(fixed).with_columns(numeric_core_expr(name).alias(core))
    if glued:
        out = out.with_columns(*_glued_columns(out, number, date, name, f"{prefix}_glued", years))
    return out


#: Column names of `number_key_table`: the number, the FY its keys were read for, and the
#: prefix of its key columns (`with_number_keys`).
KEY_NUMBER, KEY_FY, _TABLE_PREFIX = "number", "fiscal_year", "key"


def number_key_table(sources: Iterable[tuple[pl.DataFrame, str, str]]) -> pl.DataFrame:
    """The keys (`with_number_keys`, glued included) of every distinct (number, FY) of the
    (frame, number column, date column) sources, each computed once.

    A number's keys depend only on the number and the FY of its date (the FYs tried are the
    row's own), so the IMS documents and the register rows, which mostly carry the same
    numbers, share them: about a third of the rows are distinct at 200k."""
    parts = [
        frame.select(pl.col(number).alias(KEY_NUMBER), pl.col(date).alias("_date"))
        for frame, number, date in sources
    ]
    distinct = (
        pl.concat(parts)
        .with_columns(fiscal_year_expr(pl.col("_date")).alias(KEY_FY))
        .unique([KEY_NUMBER, KEY_FY], keep="any")
    )
    return with_number_keys(distinct, KEY_NUMBER, "_date", glued=True, prefix=_TABLE_PREFIX).drop(
        "_date"
    )


def _with_known_keys(
    frame: pl.DataFrame, number: str, date: str, prefix: str, glued: bool, known: pl.DataFrame
) -> pl.DataFrame:
    """`with_number_keys` by lookup in a `number_key_table` (same columns, same order)."""
    keys = [c for c in known.columns if c.startswith(f"{_TABLE_PREFIX}_")]
    table = known.select(
        pl.col(KEY_NUMBER).alias(number),
        pl.col(KEY_FY).alias("_fy"),
        *(
            pl.col(key).alias(prefix + key.removeprefix(_TABLE_PREFIX))
            for key in keys
            if glued or "_glued" not in key
        ),
    )
    return (
        frame.with_columns(fiscal_year_expr(pl.col(date)).alias("_fy"))
        .join(table, on=[number, "_fy"], how="left", maintain_order="left", nulls_equal=True)
        .drop("_fy")
    )
