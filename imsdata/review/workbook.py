"""Writing the review workbook: xlsxwriter for the Home sheet, formats and protection, and a
streamed OOXML writer for the section sheets' rows, spliced into xlsxwriter's zip."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
from pathlib import Path
from typing import Any

import polars as pl
import xlsxwriter

from imsdata.errors import UsageError
from imsdata.fileio import atomic_path
from imsdata.portal.sections import SECTIONS, Section
from imsdata.review.layout import (
    _GSTIN_CELL,
    _PERIOD_CELL,
    _SCOPE_CELL,
    ACTION,
    ACTION_LABELS,
    CONFLICT,
    DATE_FORMAT,
    DEFAULT_REVIEW_LIMIT,
    EXCEL_MAX_ROWS,
    HOME,
    INR_FORMAT,
    ITC_REDUCTION,
    _Column,
    _columns,
)
from imsdata.review.rows import ReviewScope, _sheet_frame, select_rows
from imsdata.schemas import total_tax
from imsdata.xlsx_rows import fill_sheets


def _write_section(wb: Any, sec: Section, rows: pl.DataFrame, formats: dict[str, Any]) -> None:
    """One protected section sheet: header frozen, filters, dropdown, editable cells unlocked.

    Only the header row goes through xlsxwriter; the data rows are rendered as XML in bulk by
    `imsdata.xlsx_rows.fill_sheets` after the workbook is closed (xlsxwriter costs ~4 us per cell).
    """
    ws = wb.add_worksheet(sec.api_param)
    cols = _columns(sec)
    for c, col in enumerate(cols):
        ws.write_string(0, c, col.header, formats["header"])
        hidden = col.kind == "hidden"
        # column formats also register the cell formats that the XML rows refer to
        cell_format = formats.get(col.kind) if col.kind in ("editable", "money", "date") else None
        ws.set_column(c, c, col.width, cell_format, {"hidden": hidden})
    last = max(rows.height, 1)
    action_col = next(i for i, c in enumerate(cols) if c.header == ACTION)
    ws.data_validation(
        1,
        action_col,
        last,
        action_col,
        {
            "validate": "list",
            "source": list(ACTION_LABELS.values()),
            "error_title": "Action",
            "error_message": "Choose Accept, Reject, Pending or No action.",
        },
    )
    if sec.itc_reduction:
        itc_col = next(i for i, c in enumerate(cols) if c.header == ITC_REDUCTION)
        ws.data_validation(
            1,
            itc_col,
            last,
            itc_col,
            {
                "validate": "list",
                "source": ["Y", "N"],
                "error_title": ITC_REDUCTION,
                "error_message": "Y: reduce ITC (in full, or by the declared amounts);"
                " N: no ITC was claimed. Only with Accept.",
            },
        )
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, last, len(cols) - 1)
    ws.protect("", {"autofilter": True, "sort": True, "format_columns": True})


def _write_home(
    wb: Any,
    frame: pl.DataFrame,
    shown: pl.DataFrame,
    scope: ReviewScope,
    *,
    rtin: str,
    period: str,
    formats: dict[str, Any],
) -> None:
    """Home sheet: identity, what the workbook holds, summary counts by section, match status
    and action (every document, and how many are in this workbook), instructions."""
    ws = wb.add_worksheet(HOME)
    ws.set_column(0, 0, 22)
    ws.set_column(1, 6, 16)
    ws.write_string(0, 0, "IMS review workbook (imsdata)", formats["title"])
    ws.write_string(_GSTIN_CELL[0], 0, "GSTIN")
    ws.write_string(*_GSTIN_CELL, rtin)
    ws.write_string(_PERIOD_CELL[0], 0, "Period")
    ws.write_string(*_PERIOD_CELL, period)
    ws.write_string(_SCOPE_CELL[0], 0, "In this workbook")
    ws.write_string(*_SCOPE_CELL, scope.message())
    keys = ["section", "match_status", "action_label"]
    in_book = shown.group_by(keys).agg(in_workbook=pl.len())
    summary = (
        frame.group_by(keys)
        .agg(
            documents=pl.len(),
            taxable_value=pl.col("taxable_value").sum(),
            tax=total_tax().sum(),
        )
        .join(in_book, on=keys, how="left", nulls_equal=True)
        .with_columns(
            order=pl.col("section").replace_strict(
                {k: i for i, k in enumerate(SECTIONS)}, default=len(SECTIONS)
            ),
            sheet=pl.col("section").replace_strict(
                {k: s.api_param for k, s in SECTIONS.items()}, default=pl.col("section")
            ),
        )
        .sort("order", "match_status", "action_label", nulls_last=True)
    )
    row = 5
    headers = (
        "Sheet", "Match status", "Action", "Documents", "Taxable value", "Tax", "In this workbook",
    )  # fmt: skip
    for c, h in enumerate(headers):
        ws.write_string(row, c, h, formats["header"])
    for rec in summary.iter_rows(named=True):
        row += 1
        ws.write_string(row, 0, rec["sheet"])
        ws.write_string(row, 1, rec["match_status"] or "")
        ws.write_string(row, 2, rec["action_label"] or "")
        ws.write_number(row, 3, rec["documents"])
        ws.write_number(row, 4, float(rec["taxable_value"] or 0), formats["money"])
        ws.write_number(row, 5, float(rec["tax"] or 0), formats["money"])
        ws.write_number(row, 6, rec["in_workbook"] or 0)
    row += 2
    conflicts = int(frame["portal_conflict"].is_not_null().sum())
    ws.write_string(row, 0, "Conflicts with the portal")
    ws.write_string(
        row,
        1,
        f"{conflicts} document(s): a rule disagrees with an action a person took on the portal;"
        f" not sent unless you change the Action (filter the '{CONFLICT}' column)",
    )
    row += 2
    instructions = (
        "How to use this workbook:",
        "1. Each section has its own sheet. Review the match status, reasons and suggestion.",
        "2. Change the Action column (Accept / Reject / Pending / No action) where you disagree.",
        "3. Add Remarks for the supplier where needed (Reject or Pending). Changing the Action",
        "   drops a suggested remark left as it was: to send a remark, write or edit it.",
        "   'Conflict with portal': a rule disagrees with an action taken on the portal; nothing",
        "   is sent for it unless you change the Action (filter that column to find them).",
        "   Overriding a guard (e.g. Accept on a document not in the books) needs a Reason.",
        "4. Do not edit other columns, rename sheets or change the GSTIN and period above.",
        "5. Import it back: imsdata review --import THIS_FILE; then imsdata export.",
        "Documents left out keep their current decision (or the suggestion); to review them too,",
        "write a new workbook: imsdata review --out FILE --all (every document) or --limit N.",
    )
    for line in instructions:
        ws.write_string(row, 0, line)
        row += 1
    ws.protect("")


def write_review(
    path: str | Path,
    ims: pl.DataFrame,
    matches: pl.DataFrame,
    suggestions: pl.DataFrame,
    decisions: pl.DataFrame | None = None,
    *,
    rtin: str,
    period: str,
    limit: int | None = DEFAULT_REVIEW_LIMIT,
    all_documents: bool = False,
    created: dt.datetime | None = None,
) -> ReviewScope:
    """Write the review workbook atomically: Home sheet plus one sheet per section present.

    It holds the documents needing attention (`all_documents`: every one), biggest ITC first up
    to `limit` rows (None: no limit). The Action column starts at the current decision (else the
    portal's action as downloaded); the suggestion is shown beside it. Returns the path and
    the counts (`ReviewScope`). `created`: the workbook's creation time (default: now).
    """
    frame = _sheet_frame(ims, matches, suggestions, decisions)
    shown, scope = select_rows(frame, limit=limit, all_documents=all_documents)
    biggest = (
        shown.group_by("section").len().select(pl.col("len").max()).item() if shown.height else 0
    )
    if biggest and biggest >= EXCEL_MAX_ROWS:
        raise UsageError(
            f"{path}: a section has {biggest} documents, more than an Excel sheet holds "
            f"({EXCEL_MAX_ROWS - 1}); use a row limit (--limit), review it in a notebook or "
            "split the download"
        )
    target = Path(path)
    book = io.BytesIO()
    wb = xlsxwriter.Workbook(
        book,
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    if created is not None:
        wb.set_properties({"created": created})
    formats = {
        "title": wb.add_format({"bold": True, "font_size": 14}),
        "header": wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1}),
        "money": wb.add_format({"num_format": INR_FORMAT}),
        "date": wb.add_format({"num_format": DATE_FORMAT}),
        "editable": wb.add_format({"locked": False, "bg_color": "#FFF2CC"}),
    }
    _write_home(wb, frame, shown, scope, rtin=rtin, period=period, formats=formats)
    by_section = shown.partition_by("section", as_dict=True, maintain_order=True)
    sheets: dict[str, tuple[list[_Column], pl.DataFrame]] = {}
    for sec in SECTIONS.values():
        rows = by_section.get((sec.key,))
        if rows is not None and not rows.is_empty():
            _write_section(wb, sec, rows, formats)
            # xlsxwriter names sheet files in the order they were added (Home is sheet1)
            sheets[f"xl/worksheets/sheet{len(sheets) + 2}.xml"] = (_columns(sec), rows)
    wb.close()
    styles = {kind: formats[kind].xf_index for kind in ("money", "date", "editable")}
    with atomic_path(target) as tmp:
        fill_sheets(book.getvalue(), tmp, sheets, styles)
    return dataclasses.replace(scope, path=target)
