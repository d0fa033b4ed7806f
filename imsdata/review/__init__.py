"""The Excel review workbook, like the portal's IMS offline tool: written out, edited, read back.

`write_review` writes a Home sheet (GSTIN, period, summary, instructions) and one protected sheet
per section with the documents, the reconciliation outcome, the suggestion and an editable Action
dropdown and Remarks column. By default it holds the documents a person must look at (see
`attention_expr`), biggest ITC first up to a row limit; the Home sheet says how many were left out
and how to get them. `read_review` reads the edited workbook (all or some documents) with a real
reader (fastexcel) and turns changed rows into `excel` decisions, checked by the rule guards.

One module per concern: `layout` (sheet and column names, labels, formats), `rows` (which
documents: the sheet frame, the attention policy, the row limit), `workbook` (writing it, with
the streamed OOXML rows) and `read` (reading it back). The public names stay importable from
`imsdata.review`.
"""

from __future__ import annotations

from imsdata.review.layout import (
    ACTION,
    ACTION_LABELS,
    CONFLICT,
    DATE_FORMAT,
    DECLARATION_COLUMNS,
    DEFAULT_REVIEW_LIMIT,
    DOC_KEY,
    EXCEL_MAX_ROWS,
    HOME,
    INR_FORMAT,
    ITC_REDUCTION,
    REASON,
    REMARKS,
    ROUTINE_STATUSES,
    WRITTEN_ACTION,
    WRITTEN_REMARKS,
    WRITTEN_SUFFIX,
)
from imsdata.review.read import read_review
from imsdata.review.rows import ReviewScope, attention_expr, row_limit, select_rows
from imsdata.review.workbook import write_review

__all__ = [
    "ACTION",
    "ACTION_LABELS",
    "CONFLICT",
    "DATE_FORMAT",
    "DECLARATION_COLUMNS",
    "DEFAULT_REVIEW_LIMIT",
    "DOC_KEY",
    "EXCEL_MAX_ROWS",
    "HOME",
    "INR_FORMAT",
    "ITC_REDUCTION",
    "REASON",
    "REMARKS",
    "ROUTINE_STATUSES",
    "WRITTEN_ACTION",
    "WRITTEN_REMARKS",
    "WRITTEN_SUFFIX",
    "ReviewScope",
    "attention_expr",
    "read_review",
    "row_limit",
    "select_rows",
    "write_review",
]
