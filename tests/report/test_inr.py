"""Indian number format: lakh/crore grouping, as a CFO reads amounts."""

from decimal import Decimal

import pytest

from imsdata.report import format_inr
from imsdata.report.inr import format_count, group_indian, short_inr


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("12345678.90"), "1,23,45,678.90"),
        (Decimal("0"), "0.00"),
        (Decimal("0.00"), "0.00"),
        (Decimal("7"), "7.00"),
        (Decimal("999.99"), "999.99"),
        (Decimal("1000"), "1,000.00"),
        (Decimal("99999.99"), "99,999.99"),
        (Decimal("100000"), "1,00,000.00"),
        (Decimal("10000000"), "1,00,00,000.00"),
        (Decimal("123456789012.34"), "1,23,45,67,89,012.34"),
        (Decimal("-150000"), "-1,50,000.00"),
        (Decimal("-0.5"), "-0.50"),
        (Decimal("-12345678.9"), "-1,23,45,678.90"),
        (5, "5.00"),
    ],
)
def test_format_inr_groups_lakh_and_crore(value: Decimal, text: str) -> None:
    assert format_inr(value) == text


def test_format_inr_rounds_half_up_to_paise() -> None:
    assert format_inr(Decimal("0.005")) == "0.01"
    assert format_inr(Decimal("1234.565")) == "1,234.57"
    assert format_inr(Decimal("-1234.565")) == "-1,234.57"


def test_tiny_negative_rounds_to_unsigned_zero() -> None:
    assert format_inr(Decimal("-0.004")) == "0.00"


def test_none_is_blank() -> None:
    assert format_inr(None) == ""


def test_group_indian_and_counts() -> None:
    assert group_indian("1234567") == "12,34,567"
    assert group_indian("123") == "123"
    assert format_count(1234567) == "12,34,567"
    assert format_count(0) == "0"


def test_short_amounts_use_lakh_and_crore() -> None:
    assert short_inr(Decimal("46782000")) == "₹4.68 Cr"
    assert short_inr(Decimal("467820")) == "₹4.68 L"
    assert short_inr(Decimal("12345.6")) == "₹12,346"
    assert short_inr(Decimal("-180")) == "-₹180"


def test_short_amounts_can_drop_trailing_zeros_for_axis_ticks() -> None:
    assert short_inr(Decimal("5000000"), trim=True) == "₹50 L"
    assert short_inr(Decimal("10000000"), trim=True) == "₹1 Cr"
    assert short_inr(Decimal("250000"), trim=True) == "₹2.5 L"
    assert short_inr(Decimal("5000000")) == "₹50.00 L"
