"""Indian number format: lakh/crore grouping (1,23,45,678.90), for the HTML page and Excel."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

_PAISE = Decimal("0.01")

#: Excel number format with Indian grouping: crore, lakh, then thousands. Excel allows two
#: conditions per format, so negative cells get EXCEL_INR_NEGATIVE_FORMAT through a conditional
#: format (a conditional section shows the absolute value, hence the explicit minus).
EXCEL_INR_FORMAT = r"[>=10000000]##\,##\,##\,##0.00;[>=100000]##\,##\,##0.00;##,##0.00"
EXCEL_INR_NEGATIVE_FORMAT = r"[<=-10000000]-##\,##\,##\,##0.00;[<=-100000]-##\,##\,##0.00;##,##0.00"


def group_indian(digits: str) -> str:
    """Group a string of integer digits the Indian way: last three, then pairs."""
    if len(digits) <= 3:
        return digits
    head, tail = digits[:-3], digits[-3:]
    pairs: list[str] = []
    while len(head) > 2:
        pairs.insert(0, head[-2:])
        head = head[:-2]
    return ",".join([head, *pairs, tail])


def format_inr(value: Decimal | int | None, *, decimals: int = 2) -> str:
    """A money amount in Indian grouping, rounded half-up: 12345678.9 -> '1,23,45,678.90'.

    Negative amounts get a leading minus ('-1,50,000.00'); None gives an empty string.
    """
    if value is None:
        return ""
    amount = Decimal(value)
    quantum = Decimal(1).scaleb(-decimals) if decimals else Decimal(1)
    amount = amount.quantize(quantum, rounding=ROUND_HALF_UP)
    sign = "-" if amount < 0 else ""
    text = f"{abs(amount):.{decimals}f}"
    whole, _, frac = text.partition(".")
    grouped = group_indian(whole)
    return f"{sign}{grouped}.{frac}" if decimals else f"{sign}{grouped}"


def format_count(value: int | None) -> str:
    """A count in Indian grouping: 123456 -> '1,23,456'."""
    return "" if value is None else format_inr(Decimal(value), decimals=0)


def short_inr(value: Decimal | None, *, trim: bool = False) -> str:
    """A compact amount for KPI tiles and chart labels: '₹1.23 Cr', '₹4.56 L', '₹12,345'.

    `trim` drops trailing zeros of the lakh/crore figure ('₹50 L', for axis ticks).
    """
    if value is None:
        return ""
    amount = Decimal(value)
    sign = "-" if amount < 0 else ""
    a = abs(amount)
    for unit, size in (("Cr", Decimal(10_000_000)), ("L", Decimal(100_000))):
        if a >= size:
            text = f"{(a / size).quantize(_PAISE, ROUND_HALF_UP)}"
            if trim:
                text = text.rstrip("0").rstrip(".")
            return f"{sign}₹{text} {unit}"
    return f"{sign}₹{format_inr(a, decimals=0)}"
