"""Deadlines per record (ims-spec R3, R4; sec. 16(4)): table-driven, every boundary day."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from imsdata import deadlines as dl
from imsdata.errors import UsageError

D = dt.date

# record 2B period, frequency, state group -> last day it may stay pending (R3)
PENDING_WINDOW = [
    # the finding: an October 2025 credit note, monthly filer -> 20-12-2025
    ("102025", "monthly", 1, D(2025, 12, 20)),
    ("112025", "monthly", 2, D(2026, 1, 20)),  # group does not matter for monthly filers
    ("122025", "monthly", 1, D(2026, 2, 20)),  # across the year end
    ("012026", "monthly", 1, D(2026, 3, 20)),
    # quarterly: Oct-Dec 2025 quarter -> next quarter Jan-Mar 2026 -> 22nd/24th April 2026
    ("102025", "quarterly", 1, D(2026, 4, 22)),
    ("112025", "quarterly", 1, D(2026, 4, 22)),
    ("122025", "quarterly", 2, D(2026, 4, 24)),
    ("012026", "quarterly", 1, D(2026, 7, 22)),
    ("032026", "quarterly", 2, D(2026, 7, 24)),
    ("042026", "quarterly", 2, D(2026, 10, 24)),
    # before October 2025 a credit note could not be kept pending at all
    ("092025", "monthly", 1, None),
    ("092025", "quarterly", 1, None),
]


@pytest.mark.parametrize(("period", "freq", "group", "expected"), PENDING_WINDOW)
def test_pending_window_ends_on_the_3b_due_date_of_the_next_tax_period(
    period: str, freq: str, group: int, expected: dt.date | None
) -> None:
    assert dl.pending_window_end(period, freq, group) == expected
    frame = pl.DataFrame({"p": [period]})
    got = frame.select(dl.pending_window_end_expr(pl.col("p"), freq, group))[0, 0]
    assert got == expected


# document date -> sec. 16(4) limit (30 November after the end of its financial year)
ITC_LIMIT = [
    (D(2025, 3, 31), D(2025, 11, 30)),  # last day of FY 2024-25
    (D(2025, 4, 1), D(2026, 11, 30)),  # first day of FY 2025-26
    (D(2025, 11, 30), D(2026, 11, 30)),
    (D(2026, 1, 1), D(2026, 11, 30)),
    (D(2026, 3, 31), D(2026, 11, 30)),
    (D(2026, 4, 1), D(2027, 11, 30)),
]


@pytest.mark.parametrize(("doc_date", "expected"), ITC_LIMIT)
def test_invoice_itc_lapses_on_30_november_after_its_financial_year(
    doc_date: dt.date, expected: dt.date
) -> None:
    assert dl.itc_time_limit(doc_date) == expected
    frame = pl.DataFrame({"d": [doc_date]})
    assert frame.select(dl.itc_time_limit_expr(pl.col("d")))[0, 0] == expected


def test_an_annual_return_filed_before_30_november_ends_the_itc_limit_earlier() -> None:
    assert dl.itc_time_limit(D(2025, 6, 1), annual_return=D(2026, 10, 15)) == D(2026, 10, 15)
    assert dl.itc_time_limit(D(2025, 6, 1), annual_return=D(2026, 12, 31)) == D(2026, 11, 30)


# month -> 3B due date of its own tax period
DUE = [
    (D(2025, 11, 1), "monthly", 1, D(2025, 12, 20)),
    (D(2025, 12, 1), "monthly", 2, D(2026, 1, 20)),
    (D(2025, 10, 1), "quarterly", 1, D(2026, 1, 22)),
    (D(2025, 12, 1), "quarterly", 2, D(2026, 1, 24)),
    (D(2026, 1, 1), "quarterly", 1, D(2026, 4, 22)),
    (D(2026, 3, 1), "quarterly", 1, D(2026, 4, 22)),
    (D(2026, 6, 1), "quarterly", 2, D(2026, 7, 24)),
]


@pytest.mark.parametrize(("month", "freq", "group", "expected"), DUE)
def test_gstr3b_due_date_by_frequency_and_state_group(
    month: dt.date, freq: str, group: int, expected: dt.date
) -> None:
    assert dl.gstr3b_due(month, freq, group) == expected


@pytest.mark.parametrize(
    ("gstin", "group"),
    [
        ("27AAPFU0939F1ZV", 1),  # Maharashtra: 22nd
        ("24AABCR6898M1ZN", 1),  # Gujarat
        ("29AAACB1234C1Z5", 1),  # Karnataka
        ("07AAACB1234C1Z5", 2),  # Delhi: 24th
        ("09AAACB1234C1Z5", 2),  # Uttar Pradesh
        ("38AAACB1234C1Z5", 2),  # Ladakh
        ("97AAACB1234C1Z5", 1),  # not named by the notification: the earlier date
        (None, 1),
    ],
)
def test_state_group_of_the_recipient_gstin(gstin: str | None, group: int) -> None:
    assert dl.state_group(gstin) == group


def test_every_state_code_has_a_group() -> None:
    from imsdata import gstin as gst

    assert set(dl.STATE_GROUPS) == set(gst.STATES)


def test_unknown_frequency_is_a_clear_error() -> None:
    with pytest.raises(UsageError, match="monthly or quarterly"):
        dl.pending_window_end("102025", "yearly")


@pytest.mark.parametrize(("month", "freq", "group", "expected"), DUE)
def test_gstr3b_due_date_expression_agrees(
    month: dt.date, freq: str, group: int, expected: dt.date
) -> None:
    frame = pl.DataFrame({"p": [month.strftime("%m%Y")]})
    assert frame.select(dl.gstr3b_due_expr(pl.col("p"), freq, group))[0, 0] == expected
