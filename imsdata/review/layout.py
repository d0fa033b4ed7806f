"""The review workbook's layout: sheet and column names, labels, formats (shared by the
writer and the reader)."""

from __future__ import annotations

import polars as pl

from imsdata.portal.sections import Section
from imsdata.report.inr import EXCEL_INR_FORMAT
from imsdata.schemas import (
    ACTIONS,
    MATCHED,
)
from imsdata.xlsx_rows import SheetColumn

HOME = "Home"
#: Most documents written by default (a person cannot work through more; biggest ITC first).
DEFAULT_REVIEW_LIMIT = 50_000
#: Match statuses whose automatic accept needs no look (reconciliation-notes: books agree).
ROUTINE_STATUSES: tuple[str, ...] = MATCHED
#: Rows in an Excel sheet (the header takes one).
EXCEL_MAX_ROWS = 1_048_576
#: Indian digit grouping (lakh, crore) for money cells: the report's format (one definition).
INR_FORMAT = EXCEL_INR_FORMAT
DATE_FORMAT = "dd-mm-yyyy"
#: Labels of the Action dropdown, derived from the action words (accept -> Accept, ...).
ACTION_LABELS: dict[str, str] = {a: a.replace("_", " ").capitalize() for a in ACTIONS}
_LABEL_TO_ACTION: dict[str, str] = {
    **{label.lower(): a for a, label in ACTION_LABELS.items()},
    **{a: a for a in ACTIONS},
}
#: Cells of the Home sheet that identify the workbook (row, column), 0-based.
_GSTIN_CELL = (2, 1)
_PERIOD_CELL = (3, 1)
_SCOPE_CELL = (4, 1)

# Column headers the reader relies on.
DOC_KEY = "doc_key"
ACTION = "Action"
REMARKS = "Remarks"
WRITTEN_ACTION = "action as written"
WRITTEN_REMARKS = "remarks as written"
#: The person's reason, needed to override a guard (e.g. accept a document not in the books).
REASON = "Reason"
CONFLICT = "Conflict with portal"
#: The ITC-reduction declaration columns of the sheets of specified records (R5-R7): header ->
#: decision column. Edited with Accept; the portal guards check them on import.
ITC_REDUCTION = "ITC reduction (Y/N)"
DECLARATION_COLUMNS: dict[str, str] = {
    ITC_REDUCTION: "itc_reduction",
    "Declared IGST": "declared_igst",
    "Declared CGST": "declared_cgst",
    "Declared SGST": "declared_sgst",
    "Declared cess": "declared_cess",
}
WRITTEN_SUFFIX = " as written"


#: A column of a section sheet (the streamed-rows column, `imsdata.xlsx_rows`).
_Column = SheetColumn


def _columns(sec: Section) -> list[_Column]:
    """The columns of a section sheet, in order (original details first for amendments)."""
    cols = [_Column(DOC_KEY, "doc_key", "hidden", 10)]
    if sec.is_amendment:
        cols += [
            _Column("Original number", "orig_doc_number", "text", 16),
            _Column("Original date", "orig_doc_date", "date", 12),
        ]
    cols += [
        _Column("Supplier GSTIN", "supplier_gstin", "text", 18),
        _Column("Supplier name", "supplier_name", "text", 24),
        _Column("Number", "doc_number", "text", 16),
        _Column("Date", "doc_date", "date", 12),
        _Column("Supply type", "supply_type", "text", 8),
        _Column("Place of supply", "pos", "text", 8),
        _Column("Supplier period", "supplier_period", "text", 9),
        _Column("Supplier filing", "supplier_filing_status", "text", 10),
        _Column("Value", "doc_value", "money", 14),
        _Column("Taxable value", "taxable_value", "money", 14),
        _Column("IGST", "igst", "money", 12),
        _Column("CGST", "cgst", "money", 12),
        _Column("SGST", "sgst", "money", 12),
        _Column("Cess", "cess", "money", 10),
        _Column("Portal action", "portal_action_label", "text", 10),
        _Column("Pending allowed", "pending_allowed", "text", 8),
        _Column("Match status", "match_status", "text", 16),
        _Column("Score", "match_score", "int", 7),
        _Column("Register id", "register_id", "text", 12),
        _Column("Reasons", "reasons", "text", 40),
        _Column("Suggested action", "suggested_label", "text", 12),
        _Column("Rule", "rule_id", "text", 16),
        _Column("Why", "suggestion_reason", "text", 30),
        _Column(CONFLICT, "conflict_label", "text", 16),
        _Column(ACTION, "action_label", "editable", 12),
        _Column(REMARKS, "remarks_out", "editable", 30),
        _Column(REASON, "reason_out", "editable", 24),
    ]
    if sec.itc_reduction:
        cols += [_Column(h, f"{c}_out", "editable", 11) for h, c in DECLARATION_COLUMNS.items()]
    cols += [
        _Column(WRITTEN_ACTION, "action_label", "hidden", 10),
        _Column(WRITTEN_REMARKS, "remarks_out", "hidden", 10),
    ]
    if sec.itc_reduction:
        cols += [
            _Column(h + WRITTEN_SUFFIX, f"{c}_out", "hidden", 10)
            for h, c in DECLARATION_COLUMNS.items()
        ]
    return cols


def _label_expr(col: str) -> pl.Expr:
    return pl.col(col).replace_strict(ACTION_LABELS, default=None, return_dtype=pl.String)
