"""GST deadlines of an IMS record (ims-spec.md R3, R4; CGST Act sec. 16(4), sec. 39).

Every deadline is computed from the record's *own* GSTR-2B period (its supplier's return period,
`rtnprd`), never from the period being worked on, and for the recipient's filing frequency:

- the GSTR-3B due date of a tax period: monthly filers the 20th of the next month; quarterly
  (QRMP) filers the 22nd (category-1 states) or 24th (category-2 states) of the month after the
  quarter (CGST Rules r. 61(5), notification 82/2020-CT); the state comes from the recipient
  GSTIN's first two digits (`STATE_GROUPS`, keyed by the state codes of `imsdata.gstin`);
- the **pending window** (R3) of a credit note or other specified record from the October 2025
  2B period on: the GSTR-3B due date of the record's 2B period + one tax period; afterwards it
  is deemed accepted;
- the **sec. 16(4) time limit** of an invoice or debit note: 30 November following the end of
  the financial year of the document date, or the date the annual return (GSTR-9) for that year
  is filed if earlier. Assumption: the annual return is not yet filed (or filed on or after
  30 November) unless its date is given.

Assumption on the 2B period: a record appears in the recipient's GSTR-2B of its supplier's
return period (for a quarterly recipient: the quarter holding that month). A supplier who files
after the 2B cut-off pushes the record into the next 2B, so the deadlines shown are never late.

Scalar functions for one record and polars expressions for whole columns; one table of facts.
"""

from __future__ import annotations

import datetime as dt
import re

import polars as pl

from imsdata import gstin as gst
from imsdata.errors import UsageError

MONTHLY = "monthly"
QUARTERLY = "quarterly"
FILING_FREQUENCIES: tuple[str, ...] = (MONTHLY, QUARTERLY)

#: GSTR-3B due day of the month after the tax period, monthly filers (sec. 39(1), r. 61(5)).
MONTHLY_DUE_DAY = 20
#: QRMP due day of the month after the quarter, by state group (notification 82/2020-CT).
QUARTERLY_DUE_DAY: dict[int, int] = {1: 22, 2: 24}
#: State group of each state code of `imsdata.gstin.STATES` (category 1: the 22nd; category 2:
#: the 24th). Codes the notification does not name (96 foreign, 97 other territory) get group 1,
#: the earlier date, so a deadline is never shown late.
_GROUP_2_CODES = (
    "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12", "13", "14", "15",
    "16", "17", "18", "19", "20", "21", "38",
)  # fmt: skip
STATE_GROUPS: dict[str, int] = {code: 2 if code in _GROUP_2_CODES else 1 for code in gst.STATES}
#: The first 2B period in which specified records (credit notes ...) may be kept pending (R3).
PENDING_WINDOW_FROM = dt.date(2025, 10, 1)
#: Sec. 16(4): ITC of a financial year may be taken until 30 November after its end.
SEC_16_4_MONTH, SEC_16_4_DAY = 11, 30

_PERIOD_RE = re.compile(r"(0[1-9]|1[0-2])\d{4}")


def check_frequency(frequency: str) -> str:
    """The filing frequency, lower-cased; UsageError if it is not monthly or quarterly."""
    value = (frequency or "").strip().lower()
    if value not in FILING_FREQUENCIES:
        raise UsageError(f"filing frequency '{frequency}' must be monthly or quarterly")
    return value


def state_group(recipient_gstin: str | None) -> int:
    """The QRMP state group (1: due the 22nd, 2: the 24th) of a recipient GSTIN's state."""
    return STATE_GROUPS.get((recipient_gstin or "")[:2], 1)


def period_start(period: str) -> dt.date:
    """First day of a return period MMYYYY; UsageError when it is not MMYYYY."""
    if not _PERIOD_RE.fullmatch(period or ""):
        raise UsageError(f"period '{period}' is not a return period MMYYYY (e.g. 112025)")
    return dt.date(int(period[2:]), int(period[:2]), 1)


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def tax_period_end_month(month_start: dt.date, frequency: str) -> dt.date:
    """First day of the last month of the tax period holding `month_start` (its quarter end
    month for quarterly filers: Jun, Sep, Dec, Mar)."""
    if check_frequency(frequency) == MONTHLY:
        return month_start.replace(day=1)
    return _add_months(month_start.replace(day=1), (3 - month_start.month % 3) % 3)


def gstr3b_due(month_start: dt.date, frequency: str, group: int = 1) -> dt.date:
    """GSTR-3B due date of the tax period holding the month that starts `month_start`."""
    last = tax_period_end_month(month_start, frequency)
    day = MONTHLY_DUE_DAY if frequency == MONTHLY else QUARTERLY_DUE_DAY[group]
    return _add_months(last, 1).replace(day=day)


def pending_window_end(record_period: str, frequency: str, group: int = 1) -> dt.date | None:
    """Last day a specified record (credit note ...) of this 2B period may stay pending (R3):
    the GSTR-3B due date of the next tax period. None before the October 2025 period, when such
    records could not be kept pending at all."""
    start = period_start(record_period)
    if start < PENDING_WINDOW_FROM:
        return None
    months = 1 if check_frequency(frequency) == MONTHLY else 3
    return gstr3b_due(_add_months(tax_period_end_month(start, frequency), months), frequency, group)


def itc_time_limit(doc_date: dt.date, annual_return: dt.date | None = None) -> dt.date:
    """Sec. 16(4): 30 November after the end of the document's financial year, or the annual
    return's filing date for that year when earlier."""
    fy_end_year = doc_date.year + (1 if doc_date.month >= 4 else 0)
    limit = dt.date(fy_end_year, SEC_16_4_MONTH, SEC_16_4_DAY)
    return min(limit, annual_return) if annual_return else limit


# ------------------------------------------------------------------------ polars expressions


def period_start_expr(period: pl.Expr) -> pl.Expr:
    """First day of an MMYYYY column (null when it is not MMYYYY)."""
    return pl.concat_str(pl.lit("01"), period).str.to_date("%d%m%Y", strict=False)


def _add_months_expr(day: pl.Expr, months: pl.Expr | int) -> pl.Expr:
    index = day.dt.year().cast(pl.Int32) * 12 + day.dt.month().cast(pl.Int32) - 1 + months
    return pl.date(index // 12, index % 12 + 1, 1)


def _tax_period_end_expr(start: pl.Expr, frequency: str) -> pl.Expr:
    if check_frequency(frequency) == MONTHLY:
        return start
    return _add_months_expr(start, (3 - start.dt.month().cast(pl.Int32) % 3) % 3)


def gstr3b_due_expr(record_period: pl.Expr, frequency: str, group: int = 1) -> pl.Expr:
    """`gstr3b_due` of the tax period holding each MMYYYY period of a column: after it the
    record's action is final (R10, R12)."""
    frequency = check_frequency(frequency)
    day = MONTHLY_DUE_DAY if frequency == MONTHLY else QUARTERLY_DUE_DAY[group]
    last = _tax_period_end_expr(period_start_expr(record_period), frequency)
    return _add_months_expr(last, 1).dt.offset_by(f"{day - 1}d")


def pending_window_end_expr(record_period: pl.Expr, frequency: str, group: int = 1) -> pl.Expr:
    """`pending_window_end` for a column of MMYYYY periods (null before October 2025 or when
    the period is not MMYYYY)."""
    frequency = check_frequency(frequency)
    start = period_start_expr(record_period)
    months = 1 if frequency == MONTHLY else 3
    next_end = _add_months_expr(_tax_period_end_expr(start, frequency), months)
    next_period = next_end.dt.strftime("%m%Y")
    due = gstr3b_due_expr(next_period, frequency, group)
    return pl.when(start >= pl.lit(PENDING_WINDOW_FROM)).then(due)


def itc_time_limit_expr(doc_date: pl.Expr) -> pl.Expr:
    """`itc_time_limit` for a column of document dates (annual return not yet filed)."""
    fy_end_year = doc_date.dt.year().cast(pl.Int32) + (doc_date.dt.month() >= 4).cast(pl.Int32)
    return pl.date(fy_end_year, SEC_16_4_MONTH, SEC_16_4_DAY)
