"""GSTIN facts (ims-spec.md §4): format, Luhn mod-36 check character, PAN, state codes.

Scalar functions for single values and polars expressions for whole columns; one source for both.
"""

from __future__ import annotations

import polars as pl

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_VALUE = {c: i for i, c in enumerate(ALPHABET)}

#: Regular taxpayer and government-department GSTIN patterns (ims-spec.md §4).
REGULAR_PATTERN = r"^\d{2}[A-Z]{5}\d{4}[A-Z][1-9A-Z][Z1-9ABD-J][0-9A-Z]$"
GOVT_PATTERN = r"^\d{2}[A-Z]{4}\d{5}[A-Z]\dZ\d$"
FORMAT_PATTERN = f"({REGULAR_PATTERN})|({GOVT_PATTERN})"

#: Place-of-supply / state codes (ims-spec.md §4). 96 (foreign) is known but not expected in IMS.
STATES: dict[str, str] = {
    "01": "Jammu and Kashmir", "02": "Himachal Pradesh", "03": "Punjab", "04": "Chandigarh",
    "05": "Uttarakhand", "06": "Haryana", "07": "Delhi", "08": "Rajasthan", "09": "Uttar Pradesh",
    "10": "Bihar", "11": "Sikkim", "12": "Arunachal Pradesh", "13": "Nagaland", "14": "Manipur",
    "15": "Mizoram", "16": "Tripura", "17": "Meghalaya", "18": "Assam", "19": "West Bengal",
    "20": "Jharkhand", "21": "Odisha", "22": "Chhattisgarh", "23": "Madhya Pradesh",
    "24": "Gujarat", "25": "Daman and Diu (legacy)", "26": "Dadra Nagar Haveli and Daman Diu",
    "27": "Maharashtra", "28": "Andhra Pradesh (old)", "29": "Karnataka", "30": "Goa",
    "31": "Lakshadweep", "32": "Kerala", "33": "Tamil Nadu", "34": "Puducherry",
    "35": "Andaman and Nicobar Islands", "36": "Telangana", "37": "Andhra Pradesh", "38": "Ladakh",
    "96": "Foreign Country", "97": "Other Territory",
}  # fmt: skip


def check_char(first14: str) -> str:
    """The check character for the first 14 characters of a GSTIN."""
    total = 0
    for pos, ch in enumerate(first14.upper()):
        p = _VALUE[ch] * (2 if pos % 2 else 1)
        total += p // 36 + p % 36
    return ALPHABET[(36 - total % 36) % 36]


def is_valid_format(gstin: str) -> bool:
    """True when the GSTIN has the regular or government shape (check character not tested)."""
    import re

    return bool(re.fullmatch(FORMAT_PATTERN, gstin or ""))


def has_valid_check(gstin: str) -> bool:
    """True when the 15th character is the Luhn mod-36 check character of the first 14."""
    if len(gstin or "") != 15 or any(c not in _VALUE for c in gstin.upper()):
        return False
    return check_char(gstin[:14]) == gstin[14].upper()


def pan(gstin: str) -> str:
    """The PAN inside a GSTIN (characters 3 to 12)."""
    return gstin[2:12]


def format_expr(col: pl.Expr) -> pl.Expr:
    """Column expression: GSTIN has a valid shape."""
    return col.str.contains(FORMAT_PATTERN).fill_null(False)


def check_expr(col: pl.Expr) -> pl.Expr:
    """Column expression: the check character is right (vectorised Luhn mod-36)."""
    upper = col.str.to_uppercase()
    total = pl.lit(0, dtype=pl.Int32)
    for pos in range(14):
        value = upper.str.slice(pos, 1).replace_strict(_VALUE, default=None, return_dtype=pl.Int32)
        p = value * (2 if pos % 2 else 1)
        total = total + p // 36 + p % 36
    expected = ((36 - total % 36) % 36).replace_strict(
        dict(enumerate(ALPHABET)), default=None, return_dtype=pl.String
    )
    return ((upper.str.len_chars() == 15) & (upper.str.slice(14, 1) == expected)).fill_null(False)


def pan_expr(col: pl.Expr) -> pl.Expr:
    """Column expression: the PAN inside a GSTIN."""
    return col.str.slice(2, 10)
