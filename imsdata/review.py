"""The Excel review workbook, like the portal's IMS offline tool: written out, edited, read back.

`write_review` writes a Home sheet (GSTIN, period, summary, instructions) and one protected sheet
per section with the documents, the reconciliation outcome, the suggestion and an editable Action
dropdown and Remarks column. By default it holds the documents a person must look at (see
`attention_expr`), biggest ITC first up to a row limit; the Home sheet says how many were left out
and how to get them. `read_review` reads the edited workbook (all or some documents) with a real
reader (fastexcel) and turns changed rows into `excel` decisions, checked by the rule guards.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import xlsxwriter
from xlsxwriter.utility import xl_col_to_name

from imsdata import decisions as dec
from imsdata.errors import GuardError, InputError, UsageError
from imsdata.fileio import atomic_path, check_workbook, safe_text_expr
from imsdata.portal.sections import ACTION_CODES, SECTIONS, Section
from imsdata.portal.write import current_decisions
from imsdata.schemas import ACTIONS, DECISION_COLUMNS, MATCH_COLUMNS, MONEY, conform

HOME = "Home"
#: Most documents written by default (a person cannot work through more; biggest ITC first).
DEFAULT_REVIEW_LIMIT = 50_000
#: Match statuses whose automatic accept needs no look (reconciliation-notes: books agree).
ROUTINE_STATUSES: tuple[str, ...] = ("exact", "within_tolerance")
#: Rows in an Excel sheet (the header takes one).
EXCEL_MAX_ROWS = 1_048_576
#: Indian digit grouping (lakh, crore) for money cells.
INR_FORMAT = r"[>=10000000]##\,##\,##\,##0.00;[>=100000]##\,##\,##0.00;##,##0.00"
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


@dataclass(frozen=True)
class _Column:
    header: str
    source: str  # column of the sheet frame
    kind: str  # text / date / money / int / editable / hidden
    width: float = 14


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


def _sheet_frame(
    ims: pl.DataFrame,
    matches: pl.DataFrame,
    suggestions: pl.DataFrame,
    decisions: pl.DataFrame | None,
) -> pl.DataFrame:
    """One row per IMS document with everything the section sheets show (unsorted)."""
    matched = conform(matches, MATCH_COLUMNS).filter(pl.col("doc_key").is_not_null())
    # The best match per document; only documents with several rows need sorting.
    several = matched["doc_key"].is_duplicated()
    picked = (
        matched.filter(several)
        .sort(["match_score", "register_id"], descending=[True, False], nulls_last=True)
        .unique("doc_key", keep="first", maintain_order=True)
    )
    best = pl.concat([matched.filter(~several), picked]).select(
        "doc_key", "match_status", "match_score", "register_id", "reasons"
    )
    superseded = matched.filter(pl.col("superseded_by").is_not_null()).select(
        "doc_key", superseded=pl.lit(True)
    )
    sugg = suggestions.select(
        "doc_key",
        pl.col("action").alias("suggested"),
        (pl.col("rule_id") if "rule_id" in suggestions.columns else pl.lit(None, pl.String)).alias(
            "rule_id"
        ),
        (pl.col("reason") if "reason" in suggestions.columns else pl.lit(None, pl.String)).alias(
            "suggestion_reason"
        ),
        (pl.col("conflict") if "conflict" in suggestions.columns else pl.lit(None, pl.String))
        .replace_strict(ACTION_LABELS, default=None, return_dtype=pl.String)
        .alias("portal_conflict"),
    ).unique("doc_key", keep="last", maintain_order=True)
    shown = {c.source for sec in SECTIONS.values() for c in _columns(sec)}
    keep = [
        c
        for c in ims.columns
        if c in shown
        or c in ("section", "portal_action", "pending_blocked", "remarks", "is_amendment")
        or c in DECLARATION_COLUMNS.values()
    ]
    sugg_decl = [c for c in DECLARATION_COLUMNS.values() if c in suggestions.columns]
    sugg = sugg.join(
        suggestions.select("doc_key", *[pl.col(c).alias(f"s_{c}") for c in sugg_decl]).unique(
            "doc_key", keep="last", maintain_order=True
        ),
        on="doc_key",
        how="left",
    )
    frame = (
        ims.select(keep)
        .join(best, on="doc_key", how="left")
        .join(superseded.unique("doc_key"), on="doc_key", how="left")
        .join(sugg, on="doc_key", how="left")
    )
    portal_word = pl.col("portal_action").replace_strict(
        ACTION_CODES, default=None, return_dtype=pl.String
    )
    if decisions is not None and not decisions.is_empty():
        cur = current_decisions(decisions).select(
            "doc_key",
            pl.col("action").alias("decided"),
            pl.col("remarks").alias("d_remarks"),
            pl.col("source").alias("d_source"),
            *[pl.col(c).alias(f"d_{c}") for c in DECLARATION_COLUMNS.values()],
        )
        if "status" in decisions.columns:  # the workspace's carry-over status (valid/review/gone)
            # (the workspace gives one current decision per document; else the last row's)
            latest = decisions.select("doc_key", pl.col("status").alias("d_status")).unique(
                "doc_key", keep="last"
            )
        else:
            latest = cur.select("doc_key", d_status=pl.lit(None, pl.String))
        frame = frame.join(cur, on="doc_key", how="left").join(latest, on="doc_key", how="left")
    else:
        frame = frame.with_columns(
            decided=pl.lit(None, pl.String),
            d_remarks=pl.lit(None, pl.String),
            d_source=pl.lit(None, pl.String),
            d_status=pl.lit(None, pl.String),
            **{f"d_{c}": pl.lit(None, pl.String) for c in DECLARATION_COLUMNS.values()},
        )
    return frame.with_columns(
        match_status=pl.col("match_status").fill_null("missing_in_register"),
        portal_word=portal_word,
        portal_action_label=portal_word.replace_strict(
            ACTION_LABELS, default=None, return_dtype=pl.String
        ),
        pending_allowed=pl.when(pl.col("pending_blocked"))
        .then(pl.lit("No"))
        .otherwise(pl.lit("Yes")),
        suggested_label=_label_expr("suggested"),
        action_label=pl.coalesce(pl.col("decided"), portal_word).replace_strict(
            ACTION_LABELS, default=None, return_dtype=pl.String
        ),
        remarks_out=pl.coalesce(pl.col("d_remarks"), pl.col("remarks")),
        reason_out=pl.lit(None, pl.String),
        conflict_label=pl.when(pl.col("portal_conflict").is_not_null()).then(
            pl.format("rule suggests {}", pl.col("portal_conflict"))
        ),
        **_declaration_out(frame.columns),
        itc_value=pl.sum_horizontal(pl.col(h).abs() for h in ("igst", "cgst", "sgst", "cess")),
    )


def _declaration_out(columns: list[str]) -> dict[str, pl.Expr]:
    """The declaration shown per document: the current decision's (when it has one), else the
    suggestion's, else the portal's as downloaded; amounts as text with 2 decimals."""
    out: dict[str, pl.Expr] = {}
    decided = pl.col("d_itc_reduction").is_not_null()
    suggested = pl.col("s_itc_reduction").is_not_null() if "s_itc_reduction" in columns else None
    for col in DECLARATION_COLUMNS.values():
        sources = [pl.col(f"d_{col}")]
        if f"s_{col}" in columns:
            sources.append(pl.col(f"s_{col}"))
        sources.append(pl.col(col) if col in columns else pl.lit(None, pl.String))
        texts = [
            src.cast(pl.Decimal(18, 2)).cast(pl.String)
            if col != "itc_reduction"
            else src.cast(pl.String)
            for src in sources
        ]
        value = pl.when(decided).then(texts[0])
        if suggested is not None:
            value = value.when(suggested).then(texts[1])
        out[f"{col}_out"] = value.otherwise(texts[-1])
    return out


def attention_expr() -> pl.Expr:
    """True for a document a person must look at; False only for the routine case: an exact or
    within-tolerance match, suggested accept, not decided otherwise by a person, the portal not
    holding another action, not an amendment, not superseded and not changed by the supplier
    since it was decided."""
    auto = pl.col("decided").is_null() | pl.col("d_source").is_in(("rule", "portal"))
    routine = (
        pl.col("match_status").is_in(ROUTINE_STATUSES)
        & pl.col("suggested").eq_missing(pl.lit("accept"))
        & pl.coalesce("decided", pl.lit("accept")).eq("accept")
        & auto
        & pl.col("portal_word").is_in(("no_action", "accept"))
        & ~pl.col("is_amendment").fill_null(False)
        & pl.col("superseded").is_null()
        & pl.col("d_status").is_in(("review", "gone")).not_().fill_null(True)
    )
    conflict = pl.col("portal_conflict").is_not_null()
    return ~routine.fill_null(False) | conflict


@dataclass(frozen=True)
class ReviewScope:
    """Where a review workbook went, how many documents it holds and why others were left out."""

    path: Path
    documents: int  # in the IMS snapshot
    needing_attention: int
    written: int
    routine_left_out: int  # routine documents left out (scope: attention only)
    over_limit: int  # documents in scope left out by the row limit (smallest ITC)
    limit: int | None

    @property
    def left_out(self) -> int:
        """Documents of the snapshot not in the workbook."""
        return self.documents - self.written

    def message(self) -> str:
        """One line saying what the workbook holds and how to get the rest."""
        text = f"{self.written:,} of {self.documents:,} documents"
        if not self.left_out:
            return text + " (all)"
        parts = []
        if self.routine_left_out:
            parts.append(
                f"{self.routine_left_out:,} routine (exact or within-tolerance match, "
                "accepted automatically)"
            )
        if self.over_limit:
            parts.append(f"{self.over_limit:,} beyond the {self.limit:,}-row limit (smallest ITC)")
        needed = self.documents if self.routine_left_out else self.needing_attention
        flags = ["--all"] if self.routine_left_out else []
        if self.limit is not None and needed > self.limit:
            flags.append("--limit 0")  # no row limit
        how = " ".join(flags)
        return (
            f"{text}; {self.left_out:,} left out: {' and '.join(parts)}; "
            f"to get them: imsdata review --out FILE {how}"
        )


def row_limit(option: int | None) -> int | None:
    """A --limit option as `write_review` takes it: the default when not given, 0 = no limit."""
    if option is None:
        return DEFAULT_REVIEW_LIMIT
    if option < 0:
        raise UsageError(f"--limit {option}: give 0 (no limit) or a positive number of rows")
    return option or None


def select_rows(
    frame: pl.DataFrame, *, limit: int | None = DEFAULT_REVIEW_LIMIT, all_documents: bool = False
) -> tuple[pl.DataFrame, ReviewScope]:
    """The rows a workbook holds: those needing attention (or all), biggest ITC first up to
    `limit` (None: no limit), sorted for display; and the counts of what was left out."""
    if limit is not None and limit < 0:
        raise UsageError(f"review row limit must be 0 or more, not {limit}")
    flagged = frame.with_columns(_attention=attention_expr())
    attention = int(flagged["_attention"].sum())
    scope = flagged if all_documents else flagged.filter("_attention")
    over = 0
    if limit is not None and scope.height > limit:
        over = scope.height - limit
        scope = scope.sort(
            ["itc_value", "doc_key"], descending=[True, False], nulls_last=True
        ).head(limit)
    shown = scope.sort(["supplier_gstin", "doc_date", "doc_number", "doc_key"], nulls_last=True)
    counts = ReviewScope(
        path=Path(),
        documents=frame.height,
        needing_attention=attention,
        written=shown.height,
        routine_left_out=0 if all_documents else frame.height - attention,
        over_limit=over,
        limit=limit,
    )
    return shown, counts


#: XML 1.0 forbids these control characters; Excel stores them escaped as _xHHHH_.
_CONTROL = [chr(i) for i in (*range(0, 9), 11, 12, *range(14, 32))]
_CONTROL_ESCAPES = [f"_x{ord(ch):04X}_" for ch in _CONTROL]
#: Rows per chunk when streaming sheet XML (bounded memory for big workbooks).
_CHUNK_ROWS = 20_000
_EXCEL_MAX_TEXT = 32_767


def _excel_date(col: str) -> pl.Expr:
    """Dates as Excel serial numbers (days since 1899-12-30), what write_datetime stores."""
    return (pl.col(col) - pl.lit(dt.date(1899, 12, 30))).dt.total_days()


def _xml_text(expr: pl.Expr) -> pl.Expr:
    """Text as an inline-string cell body: XML-escaped, control characters as _xHHHH_ (a
    literal _xHHHH_ in the data is protected first), spaces kept."""
    escaped = (
        expr.str.replace_all(r"_(x[0-9A-Fa-f]{4}_)", "_x005F_$1")
        .str.replace_all("&", "&amp;", literal=True)
        .str.replace_all("<", "&lt;", literal=True)
        .str.replace_all(">", "&gt;", literal=True)
        .str.replace_many(_CONTROL, _CONTROL_ESCAPES)
    )
    space = pl.when(expr.str.contains(r"^\s|\s$")).then(pl.lit(' xml:space="preserve"'))
    return pl.concat_str(
        pl.lit("<is><t"), space.otherwise(pl.lit("")), pl.lit(">"), escaped, pl.lit("</t></is>")
    )


def _cell_xml(col: _Column, letter: str, row: pl.Expr, style: int | None) -> pl.Expr:
    """One column's cells as XML: text is always an inline string (never a formula or URL),
    numbers and dates are values; an empty cell is written only when its format must show."""
    s = f' s="{style}"' if style is not None else ""
    ref = pl.concat_str(pl.lit(f'<c r="{letter}'), row, pl.lit('"'))
    if col.kind == "money":
        value = pl.col(col.source).cast(pl.String)
    elif col.kind == "date":
        value = _excel_date(col.source).cast(pl.String)
    elif col.kind == "int":
        value = pl.col(col.source).cast(pl.Int64).cast(pl.String)
    else:
        # Excel holds at most 32,767 characters in a cell (xlsxwriter truncates the same way)
        text = pl.col(col.source).cast(pl.String)
        if col.kind == "text":  # shown, never read back: formula-safe like every output
            text = safe_text_expr(text)
        text = text.str.slice(0, _EXCEL_MAX_TEXT)
        cell = pl.concat_str(ref, pl.lit(f' t="inlineStr"{s}>'), _xml_text(text), pl.lit("</c>"))
        blank = pl.concat_str(ref, pl.lit(f"{s}/>")) if style is not None else pl.lit("")
        return pl.when(text.is_null() | (text == "")).then(blank).otherwise(cell)
    cell = pl.concat_str(ref, pl.lit(f"{s}><v>"), value, pl.lit("</v></c>"))
    blank = pl.concat_str(ref, pl.lit(f"{s}/>")) if style is not None else pl.lit("")
    return pl.when(value.is_null()).then(blank).otherwise(cell)


def _rows_xml(
    rows: pl.DataFrame, cols: list[_Column], styles: dict[str, int], offset: int = 0
) -> pl.Series:
    """Each document as one `<row>` of sheet XML; the first is Excel row 2 + `offset`."""
    row = (pl.int_range(pl.len()) + 2 + offset).cast(pl.String)
    cells = [
        _cell_xml(col, xl_col_to_name(c), row, styles.get(col.kind)) for c, col in enumerate(cols)
    ]
    xml = pl.concat_str(
        [pl.lit('<row r="'), row, pl.lit('">'), *cells, pl.lit("</row>")], ignore_nulls=False
    )
    return rows.select(xml.alias("xml"))["xml"]


def _write_section(wb: Any, sec: Section, rows: pl.DataFrame, formats: dict[str, Any]) -> None:
    """One protected section sheet: header frozen, filters, dropdown, editable cells unlocked.

    Only the header row goes through xlsxwriter; the data rows are rendered as XML in bulk by
    `_fill_sheets` after the workbook is closed (xlsxwriter costs ~4 us per cell).
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


def _fill_sheets(
    book: bytes,
    target: Path,
    sheets: dict[str, tuple[list[_Column], pl.DataFrame]],
    styles: dict[str, int],
) -> None:
    """Copy the closed workbook into `target`, streaming each section's data rows into its
    sheet XML (after the header row) and widening the sheet's dimension to match."""
    with (
        zipfile.ZipFile(io.BytesIO(book)) as src,
        # level 1: a third of the default's CPU for a file ~20% bigger (75 MB of XML at 200k)
        zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as dst,
    ):
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename not in sheets:
                dst.writestr(info, data)
                continue
            cols, rows = sheets[info.filename]
            xml = data.decode("utf-8")
            head, tail = xml.split("</sheetData>", 1)
            last = f"{xl_col_to_name(len(cols) - 1)}{rows.height + 1}"
            head = re.sub(
                r'<dimension ref="[^"]*"/>', f'<dimension ref="A1:{last}"/>', head, count=1
            )
            with dst.open(info.filename, "w", force_zip64=True) as out:
                out.write(head.encode("utf-8"))
                for start in range(0, rows.height, _CHUNK_ROWS):
                    body = _rows_xml(rows.slice(start, _CHUNK_ROWS), cols, styles, offset=start)
                    out.write("".join(body.to_list()).encode("utf-8"))
                out.write(("</sheetData>" + tail).encode("utf-8"))


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
            tax=(pl.col("igst") + pl.col("cgst") + pl.col("sgst") + pl.col("cess")).sum(),
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
) -> ReviewScope:
    """Write the review workbook atomically: Home sheet plus one sheet per section present.

    It holds the documents needing attention (`all_documents`: every one), biggest ITC first up
    to `limit` rows (None: no limit). The Action column starts at the current decision (else the
    portal's action as downloaded); the suggestion is shown beside it. Returns the path and
    the counts (`ReviewScope`).
    """
    frame = _sheet_frame(ims, matches, suggestions, decisions)
    shown, scope = select_rows(frame, limit=limit, all_documents=all_documents)
    biggest = shown.group_by("section").len().get_column("len").max() if shown.height else 0
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
        _fill_sheets(book.getvalue(), tmp, sheets, styles)
    return dataclasses.replace(scope, path=target)


def _read_home(reader: Any, path: Path) -> tuple[str | None, str | None]:
    """GSTIN and period from the Home sheet (as text)."""
    if HOME not in reader.sheet_names:
        raise InputError(f"{path}: not an imsdata review workbook (no {HOME} sheet)")
    home = reader.load_sheet(HOME, header_row=None, dtypes="string").to_polars()

    def cell(rc: tuple[int, int]) -> str | None:
        r, c = rc
        if home.height <= r or home.width <= c:
            return None
        v = home[r, c]
        return None if v is None else str(v).strip()

    return cell(_GSTIN_CELL), cell(_PERIOD_CELL)


def _read_sheets(reader: Any, path: Path) -> pl.DataFrame:
    """Every section sheet's doc_key, action and remarks (new and as written), with sheet/row."""
    by_sheet = {s.api_param: s for s in SECTIONS.values()}
    wanted = [DOC_KEY, ACTION, REMARKS, WRITTEN_ACTION, WRITTEN_REMARKS]
    frames = []
    for name in reader.sheet_names:
        if name not in by_sheet:
            continue
        sheet = reader.load_sheet(name, dtypes="string").to_polars()
        missing = [c for c in wanted if c not in sheet.columns]
        if missing:
            raise InputError(f"{path}: sheet {name}: column(s) missing: {', '.join(missing)}")
        if REASON not in sheet.columns:  # a workbook written before the Reason column
            sheet = sheet.with_columns(pl.lit(None, pl.String).alias(REASON))
        declaration = [*DECLARATION_COLUMNS, *(h + WRITTEN_SUFFIX for h in DECLARATION_COLUMNS)]
        has_declaration = by_sheet[name].itc_reduction
        if has_declaration:
            missing = [c for c in declaration if c not in sheet.columns]
            if missing:
                raise InputError(f"{path}: sheet {name}: column(s) missing: {', '.join(missing)}")
        frames.append(
            sheet.select(
                *wanted,
                REASON,
                *[
                    pl.col(c) if has_declaration else pl.lit(None, pl.String).alias(c)
                    for c in declaration
                ],
                has_declaration=pl.lit(has_declaration),
            )
            .with_row_index("row", offset=2)
            .with_columns(sheet=pl.lit(name), sheet_section=pl.lit(by_sheet[name].key))
        )
    texts = [
        *wanted,
        REASON,
        *DECLARATION_COLUMNS,
        *(h + WRITTEN_SUFFIX for h in DECLARATION_COLUMNS),
    ]
    if not frames:  # nothing needed review when it was written: no rows, no decisions
        schema = {c: pl.String() for c in texts}
        frames.append(
            pl.DataFrame(
                schema={**schema, "has_declaration": pl.Boolean(), "row": pl.UInt32(),
                        "sheet": pl.String()}
            ).with_columns(sheet_section=pl.lit(None, pl.String))
        )  # fmt: skip
    blank = {c: pl.col(c).cast(pl.String).str.strip_chars().replace("", None) for c in texts}
    return pl.concat(frames).with_columns(**blank)


def _problems(rows: pl.DataFrame, ims: pl.DataFrame) -> pl.DataFrame:
    """One row (sheet, row, reason) per problem in the edited rows; empty when all is well."""
    known = ims.select("doc_key", pl.col("section").alias("ims_section"), pl.lit(True).alias("_k"))
    checked = rows.join(known, left_on=DOC_KEY, right_on="doc_key", how="left").with_columns(
        _bad_itc=pl.col(ITC_REDUCTION).is_not_null()
        & ~pl.col(ITC_REDUCTION).str.to_uppercase().is_in(["Y", "N"]),
        _bad_amount=pl.coalesce(
            pl.when(pl.col(h).is_not_null() & pl.col(f"_{c}").is_null()).then(
                pl.format("{} '{}'", pl.lit(h), pl.col(h))
            )
            for h, c in DECLARATION_COLUMNS.items()
            if c != "itc_reduction"
        ),
    )
    labels = ", ".join(ACTION_LABELS.values())
    return (
        checked.with_columns(dup=pl.len().over(DOC_KEY) > 1)
        .select(
            "sheet",
            "row",
            reason=pl.when(pl.col(DOC_KEY).is_null())
            .then(pl.lit("row has no document key (rows cannot be added)"))
            .when(pl.col("_k").is_null())
            .then(pl.format("unknown document {} (not in the IMS snapshot)", pl.col(DOC_KEY)))
            .when(pl.col("ims_section") != pl.col("sheet_section"))
            .then(pl.format("document {} belongs to another section", pl.col(DOC_KEY)))
            .when(pl.col("dup"))
            .then(pl.format("document {} appears more than once", pl.col(DOC_KEY)))
            .when(pl.col("new_action").is_null() & pl.col(ACTION).is_not_null())
            .then(pl.format("action '{}' is not one of {}", pl.col(ACTION), pl.lit(labels)))
            .when(pl.col(ACTION).is_null())
            .then(pl.lit(f"action is empty (choose one of {labels})"))
            .when(pl.col("_bad_itc"))
            .then(pl.format("{} '{}' must be Y or N", pl.lit(ITC_REDUCTION), pl.col(ITC_REDUCTION)))
            .when(pl.col("_bad_amount").is_not_null())
            .then(pl.format("{} is not an amount", pl.col("_bad_amount"))),
        )
        .filter(pl.col("reason").is_not_null())
        .sort("sheet", "row")
    )


def read_review(
    path: str | Path,
    ims: pl.DataFrame,
    *,
    rtin: str,
    period: str,
    matches: pl.DataFrame | None = None,
    decisions: pl.DataFrame | None = None,
    user: str | None = None,
    rules: Any = None,
) -> pl.DataFrame:
    """Decisions (source `excel`) for the rows whose Action or Remarks were changed.

    Refuses (InputError naming sheet, row and reason) a workbook for another GSTIN or period, an
    unknown document or action; GuardError when a portal guard forbids a changed decision. With
    `decisions`, an ITC declaration already decided is carried over to the new decision.
    """
    import fastexcel

    p = Path(path)
    check_workbook(p, "review workbook")  # bounded before the Excel engine reads it
    try:
        reader = fastexcel.read_excel(p)
    except FileNotFoundError:
        raise InputError(f"{p}: file not found") from None
    except Exception as exc:  # fastexcel raises its own error types for non-workbooks
        raise InputError(f"{p}: not a readable .xlsx workbook ({exc})") from None
    gstin, wb_period = _read_home(reader, p)
    if gstin != rtin:
        raise InputError(f"{p}: workbook is for GSTIN {gstin}, not {rtin}")
    if wb_period != period:
        raise InputError(f"{p}: workbook is for period {wb_period}, not {period}")
    rows = _read_sheets(reader, p).with_columns(
        new_action=pl.col(ACTION)
        .str.to_lowercase()
        .replace_strict(_LABEL_TO_ACTION, default=None, return_dtype=pl.String),
        old_action=pl.col(WRITTEN_ACTION)
        .str.to_lowercase()
        .replace_strict(_LABEL_TO_ACTION, default=None, return_dtype=pl.String),
    )
    rows = rows.with_columns(
        (
            pl.col(h)
            .str.replace_all(",", "")
            .cast(pl.Float64, strict=False)
            .round(2)
            .cast(pl.Decimal(18, 2), strict=False)
            .alias(f"_{c}")
            for h, c in DECLARATION_COLUMNS.items()
            if c != "itc_reduction"
        )
    )
    problems = _problems(rows, ims)
    if not problems.is_empty():
        shown = "; ".join(
            f"sheet {r['sheet']} row {r['row']}: {r['reason']}"
            for r in problems.head(10).iter_rows(named=True)
        )
        more = f"; and {problems.height - 10} more" if problems.height > 10 else ""
        raise InputError(f"{p}: {problems.height} problem(s): {shown}{more}")
    declaration_edited = pl.any_horizontal(
        pl.col(h).ne_missing(pl.col(h + WRITTEN_SUFFIX)) for h in DECLARATION_COLUMNS
    )
    changed = rows.filter(
        pl.col("new_action").ne_missing(pl.col("old_action"))
        | pl.col(REMARKS).ne_missing(pl.col(WRITTEN_REMARKS))
        | declaration_edited
    ).with_columns(_declaration_edited=declaration_edited)
    if decisions is not None and not decisions.is_empty():
        # Importing the same workbook again changes nothing: rows already decided this way go.
        cur = current_decisions(decisions).select(
            pl.col("doc_key").alias(DOC_KEY),
            pl.col("action").alias("_cur_action"),
            pl.col("remarks").alias("_cur_remarks"),
        )
        changed = changed.join(cur, on=DOC_KEY, how="left").filter(
            ~(
                pl.col("new_action").eq_missing(pl.col("_cur_action"))
                & pl.col(REMARKS).eq_missing(pl.col("_cur_remarks"))
                & ~pl.col("_declaration_edited")
            )
        )
    # A remark goes only with the action it was written for: when the Action changed and the
    # Remarks cell was left as written (the suggestion's or the earlier decision's), it is
    # dropped; a remark the person wrote or edited is theirs and goes.
    kept_remark = pl.col(REMARKS).eq_missing(pl.col(WRITTEN_REMARKS))
    action_changed = pl.col("new_action").ne_missing(pl.col("old_action"))
    out = changed.select(
        pl.col(DOC_KEY).alias("doc_key"),
        pl.col("new_action").alias("action"),
        source=pl.lit("excel"),
        # only a person's own words count as the reason that overrides a guard
        reason=pl.when(pl.col(REASON).is_not_null()).then(
            pl.format("{} (edited in {}, sheet {} row {})", REASON, pl.lit(p.name), "sheet", "row")
        ),
        remarks=pl.when(action_changed & kept_remark).then(None).otherwise(pl.col(REMARKS)),
        user=pl.lit(user, pl.String),
        _place=pl.format("sheet {} row {}", "sheet", "row"),
    )
    places = out.select("doc_key", place="_place")
    out = out.drop("_place")
    # The declaration: the sheet's on the sheets of specified records (R5), with Accept only;
    # elsewhere one already decided is carried over to an Accept.
    itc = list(DECLARATION_COLUMNS.values())
    sheet_itc = changed.select(
        pl.col(DOC_KEY).alias("doc_key"),
        pl.col("has_declaration").alias("_from_sheet"),
        pl.col("_declaration_edited").alias("_edited"),
        pl.col(ITC_REDUCTION).str.to_uppercase().alias("_s_itc_reduction"),
        *[pl.col(f"_{c}").alias(f"_s_{c}") for c in itc if c != "itc_reduction"],
    )
    out = out.join(sheet_itc, on="doc_key", how="left")
    if decisions is not None and not decisions.is_empty():
        prior = current_decisions(decisions).select(
            "doc_key",
            *itc,
            pl.col("action").alias("_prior_action"),
            # a person's reason stays with the action it was given for (e.g. a remarks edit
            # of an accepted document that overrode a guard needs no new reason)
            pl.when(pl.col("source").is_in(dec.HUMAN_SOURCES))
            .then(pl.col("reason"))
            .alias("_prior_reason"),
        )
        out = (
            out.join(prior, on="doc_key", how="left")
            .with_columns(
                reason=pl.coalesce(
                    "reason",
                    pl.when(pl.col("action") == pl.col("_prior_action")).then("_prior_reason"),
                )
            )
            .drop("_prior_action", "_prior_reason")
        )
    else:
        out = out.with_columns(
            pl.lit(None, pl.String if c == "itc_reduction" else MONEY).alias(c) for c in itc
        )
    accepted = pl.col("action") == "accept"
    from_sheet = pl.col("_from_sheet").fill_null(False)
    # a declaration left as written goes only with an Accept; one the user edited is kept, so
    # the guards refuse it with a reason when it does not go with the action
    out = out.with_columns(
        pl.when(from_sheet & (accepted | pl.col("_edited").fill_null(False)))
        .then(pl.col(f"_s_{c}"))
        .when(~from_sheet & accepted)
        .then(pl.col(c))
        .alias(c)
        for c in itc
    )
    result = conform(out.sort("doc_key"), DECISION_COLUMNS)
    if not result.is_empty():
        # the same guards, the same way as `decide` (imsdata.decisions)
        violations = dec.check(ims, result, matches=matches, rules=rules, period=period)
        if violations.height:
            error = GuardError(
                dec.refusal(
                    violations,
                    f"{p.name} refused",
                    where=places,
                    hint="fill in the Reason column to override",
                )
            )
            error.violations = violations
            raise error
    return result
