"""Vectorised cell parsers for ERP exports: amounts, dates, document types, POS, yes/no, GSTIN.

Every parser is a polars expression over a String column (already trimmed, blanks as null) and
returns null when the cell cannot be understood; the matching `*_problem` expression names why.
The same expressions validate (pandera checks) and parse, so the two can never disagree.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Iterable
from functools import cache
from importlib import resources
from typing import Any

import polars as pl
import polars.selectors as cs

from imsdata import gstin as gst
from imsdata.schemas import MONEY

MONEY_DIGITS = MONEY.precision - MONEY.scale  # integer digits that fit MONEY (16)
_MAGNITUDE = rf"^(\d{{1,{MONEY_DIGITS}}}(\.\d*)?|\.\d+)$"
#: Removed from amounts before reading them (with the thousands separator): currency, spaces.
#: A binary-float artefact: after the paise, six or more 0s or 9s (Excel's 0.1 + 0.2).
_FLOAT_NOISE = r"\.\d{0,2}(0{6,}|9{6,})\d*$"
_NOISE_SCALE = 20  # digits kept while rounding float noise (16 integer digits + 20 <= 38)
_CURRENCY = ["₹", "INR", "Inr", "inr", "Rs.", "RS.", "rs.", "Rs", "RS", "rs", " ", "\u00a0", "+"]
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


def add_amounts(
    frame: pl.LazyFrame, fields: Iterable[str], *, decimal_comma: bool = False
) -> pl.LazyFrame:
    """Add `_v_<field>` (signed Decimal(18,2), null if unreadable) and `_p_<field>` (why not).

    Reads '₹ 1,23,456.78', 'Rs. 10', '-12.5', '(500)' and SAP's '500-' ('1.234,56' with
    `decimal_comma`). Spreadsheet float noise such as '0.30000000000000004' is rounded to paise
    and flagged in `_float_noise`; any other third decimal is an error. Built in stages of cheap
    literal string operations on materialised columns, so each step runs once per cell.
    """
    fields = list(fields)
    text, mag = "__text_{}".format, "__mag_{}".format
    separators = {".": "", ",": "."} if decimal_comma else {",": ""}
    noise = [*_CURRENCY, *separators]
    blanks = [""] * len(_CURRENCY) + list(separators.values())
    frame = frame.with_columns(
        pl.col(f).str.replace_many(noise, blanks, leftmost=True).alias(text(f)) for f in fields
    ).with_columns(pl.col(text(f)).str.strip_chars("()-").alias(mag(f)) for f in fields)
    steps = []
    for f in fields:
        t, m = pl.col(text(f)), pl.col(mag(f))
        left, right = t.str.starts_with("("), t.str.ends_with(")")
        lead, trail = t.str.starts_with("-"), t.str.ends_with("-")
        marks = left.cast(pl.Int8) + lead.cast(pl.Int8) + trail.cast(pl.Int8)
        stripped = t.str.len_bytes().cast(pl.Int64) - m.str.len_bytes().cast(pl.Int64)
        well_formed = (left == right) & (marks <= 1) & (stripped == marks + right.cast(pl.Int8))
        shape = well_formed & m.str.contains(_MAGNITUDE)
        places = m.str.extract(r"\.(\d*)$", 1).str.strip_chars_end("0").str.len_chars()
        steps += [
            (marks > 0).alias(f"__neg_{f}"),
            shape.alias(f"__shape_{f}"),
            places.fill_null(0).alias(f"__places_{f}"),
            m.str.contains(_FLOAT_NOISE).alias(f"__noise_{f}"),
        ]
    frame = frame.with_columns(steps)
    out = []
    for f in fields:
        shape, places, noisy = (pl.col(f"__{k}_{f}") for k in ("shape", "places", "noise"))
        exact = pl.when(shape & (places <= 2)).then(pl.col(mag(f))).str.to_decimal(scale=2)
        noisy_text = pl.when(shape & (places > 2) & noisy).then(pl.col(mag(f)))
        rounded = noisy_text.str.to_decimal(scale=_NOISE_SCALE).round(2)
        value = pl.coalesce(exact.cast(MONEY), rounded.cast(MONEY))
        out += [
            pl.when(pl.col(f"__neg_{f}")).then(-value).otherwise(value).alias(f"_v_{f}"),
            pl.when(pl.col(f).is_null())
            .then(None)
            .when(~shape)
            .then(pl.lit("unparseable amount"))
            .when((places > 2) & ~noisy)
            .then(pl.lit("more than 2 decimals"))
            .alias(f"_p_{f}"),
        ]
    float_noise = pl.any_horizontal(
        pl.col(f"__noise_{f}") & (pl.col(f"__places_{f}") > 2) for f in fields
    ).fill_null(False)
    return frame.with_columns(*out, _float_noise=float_noise).drop(cs.starts_with("__"))


# --- dates ---------------------------------------------------------------------------------------

# Day-first formats tried in order after separators become "-": two-digit years first, since a
# four-digit-year format would read '05-11-25' as the year 25 ('%B' also reads 'Nov').
_DAY_FIRST = ("%d-%m-%y", "%d-%B-%y", "%d-%m-%Y", "%d-%B-%Y")
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


def add_dates(frame: pl.LazyFrame, fields: Iterable[str], formats: tuple[str, ...] = ()):
    """Add `_v_<field>`: the date, from the formats Indian books use or the mapping's `formats`.

    Given `formats` (strftime) replace the day-first guesses; ISO dates (also Excel's
    'yyyy-mm-dd 00:00:00') and Excel serial numbers are always read. Dates outside 2000-2099 are
    null: a wrong format, not a date.
    """
    fields = list(fields)
    bare, norm, serial = "__bare_{}".format, "__norm_{}".format, "__serial_{}".format
    frame = frame.with_columns(pl.col(f).str.replace(_TIME, "").alias(bare(f)) for f in fields)
    frame = frame.with_columns(
        *(pl.col(bare(f)).str.replace_all(r"[/.\s]+", "-").alias(norm(f)) for f in fields),
        *(pl.col(bare(f)).str.replace(r"\.0+$", "").alias(serial(f)) for f in fields),
    )
    out = []
    for f in fields:
        days = pl.col(serial(f))
        as_serial = pl.when(days.str.contains(r"^\d{5}$")).then(
            pl.lit(_EXCEL_EPOCH) + pl.duration(days=days.cast(pl.Int64, strict=False))
        )
        if formats:
            guesses = [pl.col(bare(f)).str.to_date(fmt, strict=False) for fmt in formats]
        else:
            guesses = [pl.col(norm(f)).str.to_date(fmt, strict=False) for fmt in _DAY_FIRST]
        iso = pl.col(norm(f)).str.to_date("%Y-%m-%d", strict=False)
        out.append(pl.coalesce(*guesses, iso, as_serial.cast(pl.Date)).alias(f"__date_{f}"))
    frame = frame.with_columns(out)
    return frame.with_columns(
        pl.when(pl.col(f"__date_{f}").is_between(pl.lit(EARLIEST), pl.lit(LATEST)))
        .then(pl.col(f"__date_{f}"))
        .alias(f"_v_{f}")
        for f in fields
    ).drop(cs.starts_with("__"))


def month_first_example(values: pl.Series) -> str | None:
    """A value proving a numeric date column is month-first ('04/13/2025'), if the column is.

    Day-first is assumed for Indian books; a column where some value only makes sense
    month-first and none only day-first would otherwise load half its rows with day and month
    swapped. None when the column is day-first, mixed, or not numeric.
    """
    norm = values.drop_nulls().str.replace(_TIME, "").str.replace_all(r"[/.\s]+", "-")
    parts = norm.str.extract_groups(r"^(\d{1,2})-(\d{1,2})-(\d{2}|\d{4})$").struct.unnest()
    first, second = (parts[c].cast(pl.Int32, strict=False) for c in parts.columns[:2])
    if (first > 12).any() or not (second > 12).any():
        return None
    return str(values.drop_nulls().filter((second > 12).fill_null(False))[0])


# --- words ---------------------------------------------------------------------------------------


def _lookup(col: pl.Expr, table: dict[str, Any], dtype: pl.DataType) -> pl.Expr:
    return key_expr(col).replace_strict(table, default=None, return_dtype=dtype)


@cache
def doc_type_table() -> dict[str, str]:
    """Comparison key -> INV / DN / CN, from the spellings file (payment modes are INV)."""
    table = {key(s): code for code, words in spellings()["doc_types"].items() for s in words}
    return {**table, **dict.fromkeys(payment_mode_keys(), "INV")}


@cache
def payment_mode_keys() -> frozenset[str]:
    """Keys of payment-mode words ('Credit', 'Cash') that may sit in a document-type column."""
    return frozenset(key(s) for words in spellings()["payment_modes"].values() for s in words)


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


@cache
def no_gstin_markers() -> list[str]:
    """Upper-cased cell values that mean 'no GSTIN' ('URP', 'N/A', '-'...)."""
    return sorted({v.upper() for v in spellings()["no_gstin"]["values"]} | {""})


def gstin(col: pl.Expr) -> pl.Expr:
    """GSTIN trimmed and upper-cased; markers such as 'URP' or 'N/A' become null (no GSTIN)."""
    upper = col.str.strip_chars().str.to_uppercase()
    return pl.when(upper.is_in(no_gstin_markers())).then(None).otherwise(upper)
