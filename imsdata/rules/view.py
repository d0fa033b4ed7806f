"""The decision view: one row per IMS document with everything a rule or guard may look at.

Suggestion rules (`when`) and guards (`forbid`) are SQL boolean expressions over this view. It is
built in SQL from the canonical IMS frame, the reconciliation output and the section registry,
so the column list below is the contract rule authors rely on (docs/rules.md is generated from it).
"""

from __future__ import annotations

import datetime as dt
import re

import polars as pl

from imsdata.dialects import DUCKDB, Dialect
from imsdata.engines import Engine, engine_scope
from imsdata.errors import UsageError
from imsdata.portal.sections import ACTION_CODES, SECTIONS
from imsdata.schemas import (
    AMOUNT_HEADS,
    DECISION_COLUMNS,
    DECISION_DEFAULTS,
    IMS_COLUMNS,
    IMS_PROVENANCE_DEFAULTS,
    MATCH_COLUMNS,
    MATCH_DEFAULTS,
    MONEY_SQL,
    TAX_HEADS,
    MatchStatus,
    conform,
    total_tax_sql,
)

#: Names of the relations the rule engine creates in its DuckDB connection (temp, per connection).
IMS_TABLE = "rules_ims"
MATCHES_TABLE = "rules_matches"
DECISIONS_TABLE = "rules_decisions"
BASE_VIEW = "rules_base"
FULL_VIEW = "rules_full"

_PERIOD_RE = re.compile(r"^(0[1-9]|1[0-2])(\d{4})$")


#: The documented columns of the decision view, in order: name -> what it means.
#: Suggestion rules see the document, match and period columns; guards also see the proposal.
DOCUMENT_COLUMNS: dict[str, str] = {
    "doc_key": "document identity: section|supplier GSTIN|number|ISO date",
    "section": "registry key: b2b, b2ba, b2bdn, b2bdna, b2bcn, b2bcna, ecom, ecoma",
    "doc_type": "INV / DN / CN",
    "is_amendment": "true for the amended sections (…a)",
    "supplier_gstin": "supplier GSTIN (stin)",
    "supplier_pan": "supplier PAN (GSTIN characters 3-12)",
    "supplier_name": "supplier trade name when the download has it",
    "doc_number": "document number as downloaded",
    "doc_date": "document date (DATE)",
    "orig_doc_number": "original document number (amendments only)",
    "orig_doc_date": "original document date (amendments only)",
    "supply_type": "inv_typ, verbatim (R, SEZWP, SEZWOP, DE, CBW)",
    "source_form": "srcform, verbatim (R1, R1A, R5)",
    "supplier_period": "supplier's return period rtnprd, MMYYYY",
    "supplier_period_start": "first day of supplier_period (DATE; null if not MMYYYY)",
    "supplier_filing_status": "srcfilstatus, verbatim",
    "supplier_filed": "true when the supplier has filed the return carrying the document (R17)",
    "doc_value": f"document value ({MONEY_SQL})",
    "taxable_value": "taxable value",
    "igst": "IGST on the document",
    "cgst": "CGST on the document",
    "sgst": "SGST/UTGST on the document",
    "cess": "cess on the document",
    "total_tax": " + ".join(TAX_HEADS),
    "pos": "place of supply, 2-digit state code",
    "portal_action": "action on the portal as downloaded: N / A / R / P",
    "portal_action_word": "the same in words: no_action / accept / reject / pending",
    "pending_blocked": "portal flag ispendactblocked: Pending not allowed (R2)",
    "itc_reduction_blocked": "portal flag isItcRedReqBlocked: no ITC-reduction declaration (R5)",
    "remarks_blocked": "portal flag isRemarksBlocked: no remarks (R8)",
    "portal_itc_reduction": "ITC-reduction declaration on the portal (itcRedReq Y / N / null)",
    "portal_declared_igst": "declared IGST reduction on the portal",
    "portal_declared_cgst": "declared CGST reduction on the portal",
    "portal_declared_sgst": "declared SGST reduction on the portal",
    "portal_declared_cess": "declared cess reduction on the portal",
    "portal_remarks": "remarks on the portal",
    "record_hash": "the portal's hash, else a hash of the record (changes when the supplier edits)",
    "recipient_gstin": "our GSTIN, from the download envelope",
    "reject_allowed": "registry: the section may be rejected (false for import bills of entry, R9)",
    "itc_reduction_allowed": "registry: the section may carry the ITC-reduction declaration (R5)",
}
MATCH_VIEW_COLUMNS: dict[str, str] = {
    "match_status": "reconciliation outcome; missing_in_register when no match row exists",
    "match_score": "0 to 100 (0 when unmatched)",
    "match_pass": "the named matching pass that paired the documents",
    "match_reasons": "plain-words differences, '; '-separated",
    "register_id": "the paired purchase-register row (null when none)",
    "has_register": "a counterpart exists in the books (register_id is not null)",
    "diff_taxable_value": "IMS minus books, taxable value",
    "diff_igst": "IMS minus books, IGST",
    "diff_cgst": "IMS minus books, CGST",
    "diff_sgst": "IMS minus books, SGST",
    "diff_cess": "IMS minus books, cess",
    "diff_doc_value": "IMS minus books, document value",
    "diff_total_tax": "IMS minus books, all tax heads together",
    "diff_days": "IMS date minus books date, in days",
    "booked_under_gstin": "our other GSTIN the books booked the document under (null when ours)",
    "diff_summary": "the actual differences in plain words, for remarks (only those not zero)",
    "superseded_by": "doc_key of the amendment that replaces this original (R14)",
    "is_superseded": "superseded_by is not null",
    "original_in_books": "the original a declaration would reduce is in our books: for an"
    " amendment, it or its original in this download has a register match; for a credit note,"
    " the note itself (its invoice is not named in IMS)",
    "original_rejected": "an amendment whose original, in this download, was rejected on the"
    " portal (its ITC was never claimed)",
    "specified_record": "R5's specified record, which takes an ITC-reduction declaration with"
    " Accept: a credit note; an amendment raising a credit note or lowering an invoice, debit"
    " note or ECO document (known only when the original is in this download)",
    "booked_period": "MMYYYY of the register month the paired booking was imported with",
    "already_claimed": "the paired booking was already paired and accepted in an earlier period",
}
PERIOD_COLUMNS: dict[str, str] = {
    "period": "the return period worked on, MMYYYY (default: the most common supplier_period)",
    "period_start": "first day of the period (DATE)",
    "period_end": "last day of the period (DATE)",
    "doc_after_period": "doc_date is after period_end: the ITC belongs to a later period",
    "later_period": "the document belongs to a later GSTR-2B: its supplier's return period"
    " (else, when that is not MMYYYY, its date) is after period_end",
}
#: The proposal a guard judges: a rule's suggestion, or a manual / Excel / portal decision.
PROPOSAL_COLUMNS: dict[str, str] = {
    "action": "proposed action: accept / reject / pending / no_action",
    "remarks": "proposed remarks for the supplier",
    "itc_reduction": "proposed ITC-reduction declaration: Y / N / null",
    "declared_igst": "proposed declared IGST reduction",
    "declared_cgst": "proposed declared CGST reduction",
    "declared_sgst": "proposed declared SGST reduction",
    "declared_cess": "proposed declared cess reduction",
    "decision_source": "rule / manual / excel / portal",
    "decision_reason": "the reason given with the decision (an overridable guard needs one)",
    "decision_user": "who decided",
}
BASE_COLUMNS: dict[str, str] = {**DOCUMENT_COLUMNS, **MATCH_VIEW_COLUMNS, **PERIOD_COLUMNS}
VIEW_COLUMNS: dict[str, str] = {**BASE_COLUMNS, **PROPOSAL_COLUMNS}


def resolve_period(ims: pl.DataFrame, period: str | None) -> str | None:
    """The period to work on: `period` if given (MMYYYY), else the download's main period.

    The main period is the supplier_period most documents carry (ties: the latest). Not simply
    the latest one: a download also holds documents suppliers already filed for the next month,
    and taking their period would hide exactly the documents dated after the period.
    """
    if period is not None:
        if not _PERIOD_RE.match(period):
            raise UsageError(f"period '{period}' must be MMYYYY, e.g. 112025")
        return period
    # count in polars (one row per distinct period), pick in Python among the few distinct ones
    per = ims["supplier_period"].drop_nulls().value_counts(name="n")
    counts = {p: n for p, n in per.iter_rows() if _PERIOD_RE.match(p)}
    return max(counts, key=lambda p: (counts[p], p[2:] + p[:2])) if counts else None


def _date_lit(value: dt.date | None) -> str:
    return "NULL::DATE" if value is None else f"DATE '{value.isoformat()}'"


def _str_lit(value: str | None) -> str:
    return "NULL::VARCHAR" if value is None else "'" + value.replace("'", "''") + "'"


def _period_bounds(period: str | None) -> tuple[dt.date | None, dt.date | None]:
    if period is None:
        return None, None
    month, year = int(period[:2]), int(period[2:])
    start = dt.date(year, month, 1)
    nxt = dt.date(year + month // 12, month % 12 + 1, 1)
    return start, nxt - dt.timedelta(days=1)


def base_view_sql(
    period: str | None, dialect: Dialect = DUCKDB, *, one_match_per_document: bool = False
) -> str:
    """SQL of the decision view without the proposal, over the registered IMS and matches.

    Each document takes its best match; `one_match_per_document` (the matches are known to hold
    at most one row per doc_key, as `reconcile` gives them) skips ranking them (a window over
    every match: ~0.7 CPU-s at 200k)."""
    start, end = _period_bounds(period)
    sections = ", ".join(
        f"({_str_lit(s.key)}, {str(s.reject_allowed).lower()}, {str(s.itc_reduction).lower()})"
        for s in SECTIONS.values()
    )
    words = " ".join(f"WHEN {_str_lit(c)} THEN {_str_lit(w)}" for c, w in ACTION_CODES.items())
    diffs = ", ".join(f"m.diff_{h}" for h in (*AMOUNT_HEADS, "doc_value"))
    total_tax = total_tax_sql("i")
    diff_tax = total_tax_sql("m", "diff_")
    portal_declared = ", ".join(f"i.declared_{h} AS portal_declared_{h}" for h in TAX_HEADS)
    best = (
        ""
        if one_match_per_document
        else "QUALIFY row_number() OVER (\n"
        "    PARTITION BY doc_key ORDER BY match_score DESC NULLS LAST, register_id NULLS LAST) = 1"
    )
    return f"""
WITH sec(section, reject_allowed, itc_reduction_allowed) AS (VALUES {sections}),
m AS (
  SELECT * FROM {MATCHES_TABLE} WHERE doc_key IS NOT NULL
  {best}
),
orig AS (
  SELECT a.doc_key, bool_or(o.portal_action = 'R') AS rejected,
    bool_or(om.register_id IS NOT NULL) AS booked,
    max({total_tax_sql("o")})
      AS tax
  FROM {IMS_TABLE} a
  JOIN {IMS_TABLE} o ON a.is_amendment AND o.section || 'a' = a.section
    AND o.supplier_gstin = a.supplier_gstin AND o.doc_number = a.orig_doc_number
    AND o.doc_date = a.orig_doc_date
  LEFT JOIN m om ON om.doc_key = o.doc_key
  GROUP BY a.doc_key
)
SELECT
  i.doc_key, i.section, i.doc_type, coalesce(i.is_amendment, false) AS is_amendment,
  i.supplier_gstin, i.supplier_pan, i.supplier_name, i.doc_number, i.doc_date,
  i.orig_doc_number, i.orig_doc_date, i.supply_type, i.source_form, i.supplier_period,
  {dialect.parse_date("'01' || i.supplier_period", "%d%m%Y")} AS supplier_period_start,
  i.supplier_filing_status, coalesce(i.supplier_filed, false) AS supplier_filed,
  i.doc_value, i.taxable_value, i.igst, i.cgst, i.sgst, i.cess,
  CAST({total_tax} AS {MONEY_SQL}) AS total_tax, i.pos,
  i.portal_action, CASE i.portal_action {words} END AS portal_action_word,
  coalesce(i.pending_blocked, false) AS pending_blocked,
  coalesce(i.itc_reduction_blocked, false) AS itc_reduction_blocked,
  coalesce(i.remarks_blocked, false) AS remarks_blocked,
  i.itc_reduction AS portal_itc_reduction, {portal_declared}, i.remarks AS portal_remarks,
  i.record_hash, i.recipient_gstin,
  coalesce(sec.reject_allowed, true) AS reject_allowed,
  coalesce(sec.itc_reduction_allowed, false) AS itc_reduction_allowed,
  coalesce(m.match_status, '{MatchStatus.MISSING_IN_REGISTER}') AS match_status,
  coalesce(m.match_score, 0) AS match_score, m.match_pass, m.reasons AS match_reasons,
  m.register_id, m.register_id IS NOT NULL AS has_register, {diffs},
  CASE WHEN m.register_id IS NOT NULL THEN CAST({diff_tax} AS {MONEY_SQL}) END
    AS diff_total_tax,
  m.diff_days, {_booked_under_sql()} AS booked_under_gstin,
  {_diff_summary_sql(diff_tax)} AS diff_summary,
  m.superseded_by, m.superseded_by IS NOT NULL AS is_superseded,
  m.register_id IS NOT NULL OR coalesce(orig.booked, false) AS original_in_books,
  coalesce(orig.rejected, false) AS original_rejected,
  coalesce(sec.itc_reduction_allowed, false) AND (
    (i.doc_type = 'CN' AND NOT coalesce(i.is_amendment, false))
    OR (i.doc_type = 'CN' AND {total_tax} > orig.tax)
    OR (i.doc_type <> 'CN' AND {total_tax} < orig.tax)
  ) IS TRUE AS specified_record,
  m.booked_period, coalesce(m.already_claimed, FALSE) AS already_claimed,
  {_str_lit(period)} AS period, {_date_lit(start)} AS period_start,
  {_date_lit(end)} AS period_end,
  coalesce(i.doc_date > {_date_lit(end)}, false) AS doc_after_period,
  coalesce(
    {dialect.parse_date("'01' || i.supplier_period", "%d%m%Y")} > {_date_lit(end)},
    i.doc_date > {_date_lit(end)}, false) AS later_period
FROM {IMS_TABLE} i
LEFT JOIN sec ON sec.section = i.section
LEFT JOIN m ON m.doc_key = i.doc_key
LEFT JOIN orig ON orig.doc_key = i.doc_key
"""


def _booked_under_sql() -> str:
    """The recipient GSTIN the books used when it is not the download's (the reconciliation
    names it in its reasons: 'booked under recipient GSTIN ...')."""
    return (
        "nullif(regexp_extract(coalesce(m.reasons, ''), "
        "'booked under recipient GSTIN ([0-9A-Z]{15})', 1), '')"
    )


def _diff_summary_sql(diff_tax: str) -> str:
    """The differences that are really there, in words from the supplier's side (their document
    against our books), '; '-separated; zero differences are left out."""

    def amount(label: str, expr: str) -> str:
        value = f"CAST({expr} AS {MONEY_SQL})"
        return (
            f"CASE WHEN coalesce({value}, 0) <> 0 THEN '{label} ' || "
            f"CAST(abs({value}) AS VARCHAR) || CASE WHEN {value} > 0 "
            "THEN ' more than in our books' ELSE ' less than in our books' END END"
        )

    booked = _booked_under_sql()
    parts = [
        f"CASE WHEN {booked} IS NOT NULL THEN 'we booked it under our GSTIN ' || {booked} || "
        "', not ' || coalesce(i.recipient_gstin, 'the GSTIN billed') END",
        amount("taxable value", "m.diff_taxable_value"),
        amount("tax", diff_tax),
        "CASE WHEN coalesce(m.diff_days, 0) <> 0 THEN 'date ' || "
        "CAST(abs(m.diff_days) AS VARCHAR) || ' day(s) ' || "
        "CASE WHEN m.diff_days > 0 THEN 'later' ELSE 'earlier' END || ' than in our books' END",
    ]
    summary = f"concat_ws('; ', {', '.join(parts)})"
    return (
        f"CASE WHEN m.register_id IS NOT NULL THEN coalesce(nullif({summary}, ''), m.reasons) END"
    )


def _null_proposal_sql() -> str:
    """Proposal columns as typed NULLs (the view a guard sees before anything is proposed)."""
    return ", ".join(
        f"NULL::{MONEY_SQL if name.startswith('declared_') else 'VARCHAR'} AS {name}"
        for name in PROPOSAL_COLUMNS
    )


def register_views(
    engine: Engine,
    ims: pl.DataFrame,
    matches: pl.DataFrame,
    *,
    period: str | None = None,
    materialise: bool = True,
) -> str | None:
    """Register the inputs and the base view in `engine` (materialised for callers that read it
    several times; a plain view when read once); returns the period used."""
    ims = conform(ims, IMS_COLUMNS, defaults=IMS_PROVENANCE_DEFAULTS)
    used = resolve_period(ims, period)
    engine.register(IMS_TABLE, ims)
    engine.register(MATCHES_TABLE, conform(matches, MATCH_COLUMNS, defaults=MATCH_DEFAULTS))
    keys = matches.get_column("doc_key").drop_nulls()
    sql = base_view_sql(used, engine.dialect, one_match_per_document=keys.is_unique().all())
    if materialise:
        engine.materialise(BASE_VIEW, sql)
    else:
        engine.view(BASE_VIEW, sql)
    engine.view(FULL_VIEW, f"SELECT b.*, {_null_proposal_sql()} FROM {BASE_VIEW} b")
    return used


def register_decisions(engine: Engine, decisions: pl.DataFrame) -> None:
    """Register decisions (DECISION_COLUMNS, missing ones null) with their 0-based row number."""
    frame = conform(decisions, DECISION_COLUMNS, defaults=DECISION_DEFAULTS).with_row_index("_row")
    engine.register(DECISIONS_TABLE, frame)


def proposal_from_decisions_sql(alias: str = "d") -> str:
    """Proposal columns taken from a registered decisions relation."""
    own = ("action", "remarks", "itc_reduction", *(f"declared_{h}" for h in TAX_HEADS))
    cols = [f"{alias}.{c} AS {c}" for c in own]
    cols += [
        f"{alias}.source AS decision_source",
        f"{alias}.reason AS decision_reason",
        f'{alias}."user" AS decision_user',
    ]
    return ", ".join(cols)


def decision_view(
    ims: pl.DataFrame,
    matches: pl.DataFrame,
    decisions: pl.DataFrame | None = None,
    *,
    period: str | None = None,
    engine: Engine | None = None,
) -> pl.DataFrame:
    """The decision view as a frame (one row per document, sorted), for notebooks and debugging.

    With `decisions`, the proposal columns hold each document's current decision
    (`imsdata.decisions.latest`).
    """
    with engine_scope(engine) as eng:
        register_views(eng, ims, matches, period=period)
        if decisions is None:
            sql = f"SELECT * FROM {FULL_VIEW}"
        else:
            from imsdata.decisions import latest

            register_decisions(eng, latest(decisions))  # the one decision path
            sql = (
                f"SELECT b.*, {proposal_from_decisions_sql()} "
                f"FROM {BASE_VIEW} b LEFT JOIN {DECISIONS_TABLE} d ON d.doc_key = b.doc_key"
            )
        return eng.query(f"{sql} ORDER BY doc_key", step="decision_view")


def columns_markdown() -> str:
    """A markdown table of the decision view's columns (for docs/rules.md)."""
    lines = []
    for title, cols in (
        ("Document (IMS download and section registry)", DOCUMENT_COLUMNS),
        ("Match (reconciliation)", MATCH_VIEW_COLUMNS),
        ("Period", PERIOD_COLUMNS),
        ("Proposal (guards only)", PROPOSAL_COLUMNS),
    ):
        lines += [f"#### {title}", "", "| column | meaning |", "|---|---|"]
        lines += [f"| `{name}` | {text} |" for name, text in cols.items()]
        lines.append("")
    return "\n".join(lines)
