"""The portal's error report for an upload (ims-spec.md §2.4): read it, match it, advise.

Reads the status response (`error_report` keyed by section, possibly wrapped in `data`) and the
offline tool's `imsDetailsErr` file, matches each error to its document (unmatched errors are
kept, never dropped), and turns every other uploaded document into a `portal` decision.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

from imsdata.errors import InputError
from imsdata.fileio import read_json
from imsdata.portal.sections import ACTION_CODES, SECTIONS
from imsdata.schemas import (
    DECISION_COLUMNS,
    DECISION_DEFAULTS,
    Action,
    DecisionSource,
    conform,
    empty,
)

#: One row per reported error (per document when the entry lists documents).
ERROR_COLUMNS: dict[str, pl.DataType] = {
    "source_file": pl.String(),
    "entry": pl.Int64(),  # 0-based position of the entry in the report (file order)
    "status": pl.String(),  # the report's status_cd (P / PE / ER / IP) when present
    "section": pl.String(),  # null for an error about the whole request
    "supplier_gstin": pl.String(),
    "doc_number": pl.String(),
    "doc_date": pl.String(),  # as reported (dd-mm-yyyy), when the entry gives it
    "supplier_period": pl.String(),
    "error_code": pl.String(),
    "error_message": pl.String(),
}

#: Plain-words advice for the error codes we know (ims-spec.md §2.4); others show the message.
ADVICE: dict[str, str] = {
    "IMSSAV0010": (
        "Download IMS again: the supplier changed the record or the previous action we sent is "
        "stale; then decide again and re-upload."
    ),
    "IMSSAV005": "The portal's schema validation failed: check this record's fields and values.",
    "GEN5001": "Mandatory parameters were missing from the request: regenerate the upload.",
}

_UNWRAP = ("data", "imsDetailsErr")
_NUMBER_KEYS = ("inum", "nt_num")
_DATE_KEYS = ("idt", "nt_dt")
#: How an error row was matched (the `match` column of `match_errors`).
MATCH_NOTES: dict[str, str] = {
    "document": "matched to its document",
    "supplier": "supplier-level entry (no document listed): not applied to any document",
    "ambiguous": "several documents share this number: not applied, check by hand",
    "none": "no such document was uploaded or downloaded",
    "request": "error about the whole request",
}


def _section_key(raw: str) -> str:
    """Registry key for a section as written in a report (key or API parameter), else lowercase."""
    low = raw.lower()
    if low in SECTIONS:
        return low
    for sec in SECTIONS.values():
        if sec.api_param.lower() == low:
            return sec.key
    return low


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _number(item: dict[str, Any], section: str) -> str | None:
    """The document number of an `inv` item or an offline record (inum even for notes, §2.4)."""
    keys: tuple[str, ...] = _NUMBER_KEYS
    if section in SECTIONS:
        keys = (SECTIONS[section].number_key, *_NUMBER_KEYS)
    for key in keys:
        if item.get(key) is not None:
            return str(item[key])
    return None


def _date(item: dict[str, Any], section: str) -> str | None:
    """The document date of an `inv` item or an offline record, when it carries one."""
    keys: tuple[str, ...] = _DATE_KEYS
    if section in SECTIONS:
        keys = (SECTIONS[section].date_key, *_DATE_KEYS)
    for key in keys:
        if item.get(key) is not None:
            return str(item[key])
    return None


def _rows_from_report(report: dict[str, Any], status: str | None) -> list[dict[str, Any]]:
    """Rows of the API `error_report`: one per listed document, one per entry without any."""
    rows: list[dict[str, Any]] = []
    for raw_section, entries in report.items():
        section = _section_key(raw_section)
        for entry in entries if isinstance(entries, list) else [entries]:
            if not isinstance(entry, dict):
                raise InputError(f"error_report.{raw_section}: entry is not an object: {entry!r}")
            base = {
                "status": status,
                "section": section,
                "supplier_gstin": _text(entry.get("stin") or entry.get("ctin")),
                "error_code": _text(entry.get("error_cd") or entry.get("err_cd")),
                "error_message": _text(entry.get("error_msg") or entry.get("err_msg")),
            }
            items = entry.get("inv") or entry.get("nt") or []
            if not items:
                rows.append(
                    {
                        **base,
                        "doc_number": _number(entry, section),
                        "doc_date": _date(entry, section),
                        "supplier_period": _text(entry.get("rtnprd")),
                    }
                )
            for item in items:
                rows.append(
                    {
                        **base,
                        "doc_number": _number(item, section),
                        "doc_date": _date(item, section),
                        "supplier_period": _text(item.get("rtnprd")),
                    }
                )
    return rows


def _rows_from_offline(records: dict[str, Any], status: str | None) -> list[dict[str, Any]]:
    """Rows of the offline tool's `imsDetailsErr`: records keyed by section with error_msg."""
    rows: list[dict[str, Any]] = []
    for raw_section, items in records.items():
        if not isinstance(items, list):
            continue
        section = _section_key(raw_section)
        for item in items:
            if not isinstance(item, dict):
                raise InputError(f"imsDetailsErr.{raw_section}: record is not an object: {item!r}")
            rows.append(
                {
                    "status": status,
                    "section": section,
                    "supplier_gstin": _text(item.get("stin")),
                    "doc_number": _number(item, section),
                    "doc_date": _date(item, section),
                    "supplier_period": _text(item.get("rtnprd")),
                    "error_code": _text(item.get("error_cd") or item.get("err_cd")),
                    "error_message": _text(item.get("error_msg") or item.get("err_msg")),
                }
            )
    return rows


def parse_error_report(obj: Any, source_file: str = "<report>") -> pl.DataFrame:
    """Error rows (ERROR_COLUMNS) of an already-parsed report; InputError for an unknown shape."""
    if not isinstance(obj, dict):
        raise InputError(f"{source_file}: not an IMS error report (expected a JSON object)")
    status: str | None = None
    offline = False
    while True:
        if "status_cd" in obj and obj["status_cd"] not in ("0", "1", 0, 1):
            status = _text(obj["status_cd"])
        wrapper = next((k for k in _UNWRAP if isinstance(obj.get(k), dict)), None)
        if wrapper is None:
            break
        offline = offline or wrapper == "imsDetailsErr"
        obj = obj[wrapper]
    if status == "IP":
        raise InputError(
            f"{source_file}: the portal is still processing this upload (status IP); "
            "fetch the status again later"
        )
    if isinstance(obj.get("error_report"), dict):
        rows = _rows_from_report(obj["error_report"], status)
    elif offline or any(_section_key(k) in SECTIONS for k in obj):
        rows = _rows_from_offline(obj, status)
    elif obj.get("err_cd") or obj.get("err_msg") or status in ("P", "ER", "IP"):
        rows = []
    else:
        raise InputError(
            f"{source_file}: not an IMS error report (no error_report, imsDetailsErr or status_cd)"
        )
    if obj.get("err_cd") or obj.get("err_msg"):
        # An error about the whole request (status ER): no document was processed.
        rows.insert(
            0,
            {
                "status": status,
                "section": None,
                "supplier_gstin": None,
                "doc_number": None,
                "doc_date": None,
                "supplier_period": None,
                "error_code": _text(obj.get("err_cd")),
                "error_message": _text(obj.get("err_msg")),
            },
        )
    frame = pl.DataFrame(rows, schema={k: v for k, v in ERROR_COLUMNS.items() if k != "entry"})
    frame = frame.with_row_index("entry").with_columns(
        pl.col("entry").cast(pl.Int64), source_file=pl.lit(source_file)
    )
    return conform(frame, ERROR_COLUMNS)


def read_error_report(path: str | Path) -> pl.DataFrame:
    """Read a portal error report file into one row per error (ERROR_COLUMNS)."""
    return parse_error_report(read_json(path, "error report"), str(path))


def advice_expr() -> pl.Expr:
    """Plain-words advice per error code; the portal's own message for codes we do not know."""
    known = pl.col("error_code").replace_strict(ADVICE, default=None, return_dtype=pl.String)
    return pl.coalesce(
        known,
        pl.concat_str(pl.lit("The portal says: "), pl.col("error_message")),
        pl.lit("The portal gave no message: check the record and re-upload."),
    )


def _norm(col: str) -> pl.Expr:
    return pl.col(col).str.strip_chars().str.to_uppercase()


def _doc_frame(documents: pl.DataFrame) -> pl.DataFrame:
    """doc_key, section, normalised supplier and number, document date, supplier period."""
    date = (
        pl.col("doc_date").cast(pl.Date)
        if "doc_date" in documents.columns
        else pl.col("doc_key").str.split("|").list.last().str.to_date("%Y-%m-%d", strict=False)
    )
    period = (
        pl.col("supplier_period")
        if "supplier_period" in documents.columns
        else pl.lit(None, pl.String)
    )
    return documents.select(
        "doc_key",
        "section",
        _norm("supplier_gstin").alias("_stin"),
        _norm("doc_number").alias("_num"),
        date.alias("_date"),
        period.alias("_period"),
    ).unique("doc_key")


def _fy(date: pl.Expr) -> pl.Expr:
    """The first calendar year of a date's financial year (April to March)."""
    return date.dt.year() - (date.dt.month() < 4).cast(pl.Int32)


def _match(errors: pl.DataFrame, documents: pl.DataFrame) -> pl.DataFrame:
    """Each error row with doc_key (null unless exactly one document fits), `match` (a
    MATCH_NOTES key) and `related` (the doc_keys an unapplied entry may concern).

    The key is the full document key: section, supplier, number, and the date when the entry
    gives it, else its return period (equal to the document's supplier period; failing that,
    a document dated up to the period's end in the same or the previous financial year).
    """
    docs = _doc_frame(documents)
    errs = errors.with_row_index("_eid").with_columns(
        _stin=_norm("supplier_gstin"),
        _num=_norm("doc_number"),
        _edate=pl.col("doc_date").str.strip_chars().str.to_date("%d-%m-%Y", strict=False),
        _eperiod=pl.concat_str(pl.lit("01"), pl.col("supplier_period")).str.to_date(
            "%d%m%Y", strict=False
        ),
    )
    listed = errs.filter(pl.col("_num").is_not_null())
    pairs = listed.select("_eid", "section", "_stin", "_num", "_edate", "_eperiod").join(
        docs, on=["section", "_stin", "_num"], how="inner"
    )
    period_end = pl.col("_eperiod").dt.month_end()
    fits = (
        pl.when(pl.col("_edate").is_not_null())
        .then(pl.col("_date") == pl.col("_edate"))
        .when(pl.col("_eperiod").is_not_null() & pl.col("_period").is_not_null())
        .then(pl.col("_period") == pl.col("supplier_period_text"))
        .when(pl.col("_eperiod").is_not_null())
        .then(
            (pl.col("_date") <= period_end) & (_fy(pl.col("_date")) >= _fy(pl.col("_eperiod")) - 1)
        )
        .otherwise(pl.lit(True))
    )
    pairs = pairs.with_columns(supplier_period_text=pl.col("_eperiod").dt.strftime("%m%Y")).filter(
        fits.fill_null(False)
    )
    found = pairs.group_by("_eid").agg(
        pl.col("doc_key").sort().alias("related"), pl.len().alias("_n")
    )
    by_doc = (
        listed.join(found, on="_eid", how="left")
        .with_columns(
            doc_key=pl.when(pl.col("_n") == 1).then(pl.col("related").list.first()),
            match=pl.when(pl.col("_n") == 1)
            .then(pl.lit("document"))
            .when(pl.col("_n") > 1)
            .then(pl.lit("ambiguous"))
            .otherwise(pl.lit("none")),
        )
        .with_columns(related=pl.when(pl.col("match") == "ambiguous").then(pl.col("related")))
    )
    suppliers = errs.filter(pl.col("_num").is_null() & pl.col("section").is_not_null())
    related = (
        suppliers.select("_eid", "section", "_stin")
        .join(docs.select("section", "_stin", "doc_key"), on=["section", "_stin"], how="inner")
        .group_by("_eid")
        .agg(pl.col("doc_key").sort().alias("related"))
    )
    by_supplier = suppliers.join(related, on="_eid", how="left").with_columns(
        doc_key=pl.lit(None, pl.String), match=pl.lit("supplier")
    )
    request = errs.filter(pl.col("_num").is_null() & pl.col("section").is_null()).with_columns(
        doc_key=pl.lit(None, pl.String),
        match=pl.lit("request"),
        related=pl.lit(None, pl.List(pl.String)),
    )
    out = pl.concat(
        [
            frame.select(*errors.columns, "doc_key", "match", pl.col("related").cast(
                pl.List(pl.String)), "_eid")
            for frame in (by_doc, by_supplier, request)
        ]
    )  # fmt: skip
    return out.sort("_eid").drop("_eid")


def match_errors(
    errors: pl.DataFrame, documents: pl.DataFrame, fallback: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Attach each error to its document on the full key; adds doc_key, match, related, advice.

    `documents` holds doc_key, section, supplier_gstin, doc_number and optionally doc_date and
    supplier_period (the uploaded documents); errors they do not explain are tried against
    `fallback` (e.g. the downloaded documents). An entry naming a supplier but no document is
    reported as a supplier-level entry (`match` = 'supplier'), and one whose number fits
    several documents as ambiguous: neither marks a document (`related` lists the documents
    concerned). Unmatched errors keep a null doc_key: they are listed, never dropped.
    """
    matched = _match(errors, documents)
    if fallback is not None:
        missing = matched.filter(pl.col("match") == "none").select(errors.columns)
        if missing.height:
            matched = pl.concat(
                [matched.filter(pl.col("match") != "none"), _match(missing, fallback)]
            )
    return matched.with_columns(advice=advice_expr()).sort("entry", "doc_key", nulls_last=True)


def request_failed(errors: pl.DataFrame) -> bool:
    """True when the report is an error about the whole request (nothing was processed)."""
    whole = errors.filter(pl.col("section").is_null() & pl.col("doc_number").is_null())
    return not whole.is_empty() or bool((errors["status"] == "ER").any())


def portal_decisions(
    uploaded: pl.DataFrame, matched: pl.DataFrame, *, user: str = "portal"
) -> pl.DataFrame:
    """`portal` decisions for every uploaded document the report does not list (§2.4).

    `uploaded` holds doc_key and action (wire code A/R/P, or null/N for a reset). Its portal
    action becomes the uploaded action. A request-level error accepts nothing.
    """
    if request_failed(matched):
        return empty(DECISION_COLUMNS)
    # documents named by an error, or possibly concerned by a supplier-level or ambiguous entry:
    # the portal's outcome for them is not known, so none of them is recorded as processed
    named = matched.filter(pl.col("doc_key").is_not_null()).select("doc_key")
    if "related" in matched.columns:
        concerned = matched.select(pl.col("related").explode().alias("doc_key")).drop_nulls()
        named = pl.concat([named, concerned])
    failed = named.unique()
    no_action = next(code for code, word in ACTION_CODES.items() if word == Action.NO_ACTION)
    accepted = uploaded.join(failed, on="doc_key", how="anti").select(
        "doc_key",
        pl.col("action")
        .fill_null(no_action)
        .replace_strict(ACTION_CODES, return_dtype=pl.String)
        .alias("action"),
        source=pl.lit(DecisionSource.PORTAL),
        reason=pl.lit("processed by the portal without error"),
        user=pl.lit(user),
    )
    return conform(accepted.sort("doc_key"), DECISION_COLUMNS, defaults=DECISION_DEFAULTS)


def to_fix(matched: pl.DataFrame) -> pl.DataFrame:
    """What the user must fix: one row per error and document, with the advice in plain words."""
    return matched.select(
        "doc_key",
        "section",
        "supplier_gstin",
        "doc_number",
        "error_code",
        "error_message",
        "advice",
        matched_document=pl.col("doc_key").is_not_null(),
        match=pl.col("match").replace_strict(MATCH_NOTES, default=None)
        if "match" in matched.columns
        else pl.lit(None, pl.String),
    )


def open_failures(portal_errors: pl.DataFrame, log: pl.DataFrame) -> list[str]:
    """doc_keys the portal reported as failed and has not processed since (no later `portal`
    decision): what `imsdata export --only-failed` uploads again."""
    errs = (
        portal_errors.filter(pl.col("doc_key").is_not_null())
        .group_by("doc_key")
        .agg(pl.col("received").max())
    )
    later = (
        log.filter(pl.col("source") == DecisionSource.PORTAL)
        .group_by("doc_key")
        .agg(pl.col("decided_at").max().alias("processed"))
    )
    still = errs.join(later, on="doc_key", how="left").filter(
        pl.col("processed").is_null() | (pl.col("processed") < pl.col("received"))
    )
    return sorted(still["doc_key"].to_list())
