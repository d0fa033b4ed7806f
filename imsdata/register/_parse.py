"""Vectorised cell parsers for ERP exports: amounts, dates, document types, POS, yes/no, GSTIN.

Every parser is a polars expression over a String column (already trimmed, blanks as null) and
returns null when the cell cannot be understood; the matching `*_problem` expression names why.
The same expressions validate (pandera checks) and parse, so the two can never disagree.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from functools import cache
from importlib import resources
from typing import Any

import polars as pl

from imsdata import gstin as gst
from imsdata.schemas import MONEY

MONEY_DIGITS = 16  # integer digits that fit pl.Decimal(18, 2)
_MAGNITUDE = rf"^(\d{{1,{MONEY_DIGITS}}}(\.\d*)?|\.\d+)$"
_CURRENCY = r"(?i)₹|inr|rs\.?|[,\s]"
_EXCEL_EPOCH = dt.date(1899, 12, 30)  # Excel serial day 0 (with the 1900 leap-year bug)
EARLIEST, LATEST = dt.date(2000, 1, 1), dt.date(2099, 12, 31)


@cache
def spellings() -> dict[str, Any]:
    """The spellings file: header spellings, document types, yes/no words, no-GSTIN markers."""
    text = resources.files("imsdata.register").joinpath("spellings.toml").read_text("utf-8")
    return tomllib.loads(text)


def key(text: str) -> str:
    """A spelling's comparison key: upper case, letters and digits only."""
    return re.sub(r"[^0-9A-Z]", "", text.upper())


def key_expr(col: pl.Expr) -> pl.Expr:
    """Column expression: the comparison key of each cell (see `key`)."""
    return col.str.to_uppercase().str.replace_all(r"[^0-9A-Z]", "")


# --- amounts -------------------------------------------------------------------------------------


def _amount_parts(col: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """(is_negative, magnitude text) after dropping currency signs and thousands separators."""
    s = col.str.replace_all(_CURRENCY, "")
    paren = s.str.starts_with("(") & s.str.ends_with(")")
    lead = s.str.starts_with("-")
    trail = s.str.ends_with("-")  # SAP style "1,000.00-"
    mag = s.str.strip_prefix("(").str.strip_suffix(")").str.strip_prefix("-").str.strip_suffix("-")
    mag = mag.str.strip_prefix("+")
    negative = (paren.cast(pl.Int8) + lead.cast(pl.Int8) + trail.cast(pl.Int8)) == 1
    sign_ok = (paren.cast(pl.Int8) + lead.cast(pl.Int8) + trail.cast(pl.Int8)) <= 1
    return negative, pl.when(sign_ok).then(mag)


def _decimals(mag: pl.Expr) -> pl.Expr:
    """Significant decimal places of a magnitude text (trailing zeros do not count)."""
    frac = mag.str.extract(r"\.(\d*)$", 1)
    return frac.str.replace(r"0+$", "").str.len_chars().fill_null(0)


def amount_problem(col: pl.Expr) -> pl.Expr:
    """Why an amount cell is not a money value (null when blank or fine)."""
    _, mag = _amount_parts(col)
    ok = mag.str.contains(_MAGNITUDE).fill_null(False)
    return (
        pl.when(col.is_null())
        .then(None)
        .when(~ok)
        .then(pl.lit("unparseable amount"))
        .when(_decimals(mag) > 2)
        .then(pl.lit("more than 2 decimals"))
    )


def amount(col: pl.Expr) -> pl.Expr:
    """Signed Decimal(18,2) from text such as '₹ 1,23,456.78', '(500)', '-12.5', 'Rs. 10'."""
    negative, mag = _amount_parts(col)
    ok = mag.str.contains(_MAGNITUDE).fill_null(False) & (_decimals(mag) <= 2)
    value = pl.when(ok).then(mag).str.to_decimal(scale=2).cast(MONEY)
    return pl.when(negative).then(-value).otherwise(value)


# --- dates ---------------------------------------------------------------------------------------

# (shape after separators become "-", strftime format): unambiguous by shape, tried in order.
_DATE_SHAPES: tuple[tuple[str, str], ...] = (
    (r"^\d{4}-\d{1,2}-\d{1,2}$", "%Y-%m-%d"),
    (r"^\d{1,2}-\d{1,2}-\d{4}$", "%d-%m-%Y"),
    (r"^\d{1,2}-\d{1,2}-\d{2}$", "%d-%m-%y"),
    (r"^\d{1,2}-[A-Za-z]{3}-\d{4}$", "%d-%b-%Y"),
    (r"^\d{1,2}-[A-Za-z]{3}-\d{2}$", "%d-%b-%y"),
    (r"^\d{1,2}-[A-Za-z]{4,9}-\d{4}$", "%d-%B-%Y"),
    (r"^\d{1,2}-[A-Za-z]{4,9}-\d{2}$", "%d-%B-%y"),
)
#: The date formats read without a mapping file, as users would write them.
AUTO_DATE_FORMATS = (
    "dd-mm-yyyy",
    "dd/mm/yyyy",
    "dd.mm.yyyy",
    "dd-mm-yy",
    "yyyy-mm-dd",
    "dd-Mon-yyyy",
    "dd-Mon-yy",
    "dd Month yyyy",
    "Excel serial number",
)
_TIME = r"[ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$"


def date(col: pl.Expr, formats: tuple[str, ...] = ()) -> pl.Expr:
    """Date from the formats Indian books use, Excel serials, or the mapping's own `formats`.

    Given `formats` (strftime) replace the day-first guesses; ISO dates and Excel serial numbers
    are always read. Dates outside 2000-2099 count as unparseable (a wrong format, not a date).
    """
    bare = col.str.replace(_TIME, "")
    serial = bare.str.replace(r"\.0+$", "")
    as_serial = (
        pl.when(serial.str.contains(r"^\d{5}$"))
        .then(pl.lit(_EXCEL_EPOCH) + pl.duration(days=serial.cast(pl.Int64, strict=False)))
        .cast(pl.Date)
    )
    norm = bare.str.replace_all(r"[/.\s]+", "-")
    iso = pl.when(norm.str.contains(_DATE_SHAPES[0][0])).then(
        norm.str.to_date(_DATE_SHAPES[0][1], strict=False)
    )
    if formats:
        guesses = [bare.str.to_date(fmt, strict=False) for fmt in formats]
    else:
        guesses = [
            pl.when(norm.str.contains(shape)).then(norm.str.to_date(fmt, strict=False))
            for shape, fmt in _DATE_SHAPES[1:]
        ]
    value = pl.coalesce(*guesses, iso, as_serial)
    return pl.when(value.is_between(pl.lit(EARLIEST), pl.lit(LATEST))).then(value)


def date_problem(col: pl.Expr, formats: tuple[str, ...] = ()) -> pl.Expr:
    """Why a date cell is not a date (null when blank or fine)."""
    return pl.when(col.is_not_null() & date(col, formats).is_null()).then(
        pl.lit("unparseable date")
    )


# --- words ---------------------------------------------------------------------------------------


def _lookup(col: pl.Expr, table: dict[str, Any], dtype: pl.DataType) -> pl.Expr:
    return key_expr(col).replace_strict(table, default=None, return_dtype=dtype)


@cache
def doc_type_table() -> dict[str, str]:
    """Comparison key -> INV / DN / CN, from the spellings file."""
    return {key(s): code for code, words in spellings()["doc_types"].items() for s in words}


def doc_type(col: pl.Expr) -> pl.Expr:
    """INV / DN / CN from 'Tax Invoice', 'Purchase', 'Cr Note', 'Purchase Return', 'DN'..."""
    return _lookup(col, doc_type_table(), pl.String())


@cache
def boolean_table() -> dict[str, bool]:
    """Comparison key -> True / False for yes/no cells."""
    words = spellings()["booleans"]
    return {key(s): flag for flag, name in ((True, "true"), (False, "false")) for s in words[name]}


def boolean(col: pl.Expr) -> pl.Expr:
    """True / False from Y/N, Yes/No, true/false, 1/0 (null when blank or unknown)."""
    return _lookup(col, boolean_table(), pl.Boolean())


def _state_key(name: str) -> str:
    text = re.sub(r"&", " and ", name.lower())
    text = re.sub(r"\band\b", " ", text)
    return re.sub(r"[^a-z]", "", text)


def _state_key_expr(col: pl.Expr) -> pl.Expr:
    text = col.str.to_lowercase().str.replace_all("&", " and ", literal=True)
    return text.str.replace_all(r"\band\b", " ").str.replace_all(r"[^a-z]", "")


@cache
def state_table() -> dict[str, str]:
    """State-name key -> code, from `imsdata.gstin.STATES` (exact names win over bare ones)."""
    table = {_state_key(name): code for code, name in gst.STATES.items()}
    for code, name in gst.STATES.items():
        table.setdefault(_state_key(re.sub(r"\(.*?\)", "", name)), code)
    for alias, code in spellings()["state_aliases"].items():
        table.setdefault(_state_key(alias), code)
    return table


def pos(col: pl.Expr) -> pl.Expr:
    """Place-of-supply code from '27', '7', '27-Maharashtra', 'Maharashtra' (null if unknown)."""
    code = col.str.extract(r"^(\d{1,2})(\D.*)?$", 1).str.zfill(2)
    code = pl.when(code.is_in(list(gst.STATES))).then(code)
    name = _state_key_expr(col.str.replace(r"^\d{1,2}\s*[-:.]?\s*", ""))
    by_name = name.replace_strict(state_table(), default=None, return_dtype=pl.String)
    return pl.coalesce(code, by_name)


def gstin(col: pl.Expr) -> pl.Expr:
    """GSTIN trimmed and upper-cased; markers such as 'URP' or 'N/A' become null (no GSTIN)."""
    upper = col.str.strip_chars().str.to_uppercase()
    marker = key_expr(upper)
    blanks = [key(v) for v in spellings()["no_gstin"]["values"]]
    return pl.when(marker.is_in(blanks) | (marker == "")).then(None).otherwise(upper)


def gstin_problem(col: pl.Expr) -> pl.Expr:
    """'bad GSTIN format' when a non-blank GSTIN does not have a GSTIN's shape."""
    value = gstin(col)
    return pl.when(value.is_not_null() & ~gst.format_expr(value)).then(pl.lit("bad GSTIN format"))
