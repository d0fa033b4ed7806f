"""Period-end report tables: pure polars, money Decimal(18,2), one frame per table.

`build_report` joins the IMS documents, their reconciliation outcome and the current action
(the latest decision, else the action as downloaded) and derives every table the HTML page and
the Excel workbook show. Nothing here does I/O.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal

import polars as pl

from imsdata import deadlines as dl
from imsdata import gstin as gst
from imsdata.decisions import CONFLICT_COLUMNS
from imsdata.decisions import conflicts as portal_conflicts
from imsdata.decisions import latest as current_decisions
from imsdata.errors import InputError, UsageError
from imsdata.portal.sections import ACTION_CODES, SECTIONS
from imsdata.report import table4 as t4
from imsdata.schemas import (
    ACTIONS,
    IMS_COLUMNS,
    ITC_TAKEN,
    MATCH_COLUMNS,
    MATCH_DEFAULTS,
    MATCH_STATUSES,
    MONEY,
    Action,
    DecisionStatus,
    MatchStatus,
    conform,
    itc_sign,
    total_tax,
)
from imsdata.schemas import RISKY as RISKY_STATUSES
from imsdata.schemas import TAX_HEADS as HEADS

#: IMS documents with no row in the matches frame.
NOT_RECONCILED = "not_reconciled"
AGEING_BUCKETS: tuple[str, ...] = ("0-30 days", "31-60 days", "61-90 days", "90+ days")
#: Pending documents whose deadline falls within this many days of `as_of` count as at risk.
NEAR_DEADLINE_DAYS = 30
TOP_SUPPLIERS = 10
ZERO = Decimal("0.00")

ACTION_LABELS: dict[str, str] = {
    Action.ACCEPT: "Accepted",
    Action.NO_ACTION: "Deemed accepted (no action)",
    Action.PENDING: "Pending",
    Action.REJECT: "Rejected",
}
RISK_LABELS: dict[str, str] = {
    "accept_books": "Accepted, but books disagree or lack the document",
    "deemed_books": "Deemed accepted (no action), but books disagree or lack the document",
    "pending_lapse": "Pending invoice/DN: ITC time limit (sec. 16(4)) near",
    "pending_deemed": "Pending specified record (e.g. credit note): pending window closing",
}


@dataclass(frozen=True)
class ReportTable:
    """One table of the report: a stable key (also the Excel sheet name), a title, a note."""

    key: str
    title: str
    frame: pl.DataFrame
    note: str = ""


@dataclass(frozen=True)
class Report:
    """Every period-end table for one recipient GSTIN and return period, in display order."""

    gstin: str
    period: str  # MMYYYY
    as_of: dt.date
    tables: tuple[ReportTable, ...]
    headline: dict[str, object] = field(default_factory=dict)  # key figures, Decimal money
    notes: tuple[str, ...] = ()  # data caveats found while building (input rows set aside...)
    near_deadline_days: int = NEAR_DEADLINE_DAYS

    def table(self, key: str) -> pl.DataFrame:
        """The frame of the table with this key; KeyError if the report has no such table."""
        for t in self.tables:
            if t.key == key:
                return t.frame
        raise KeyError(key)

    @property
    def period_label(self) -> str:
        """The return period as a month name, e.g. 'November 2025'."""
        return period_end(self.period).strftime("%B %Y")


# --------------------------------------------------------------------------------------------
# small helpers


def period_end(period: str) -> dt.date:
    """Last day of a return period MMYYYY; UsageError when it is not a valid MMYYYY."""
    if not re.fullmatch(r"(0[1-9]|1[0-2])\d{4}", period or ""):
        raise UsageError(f"period '{period}' is not a return period MMYYYY (e.g. 112025)")
    month, year = int(period[:2]), int(period[2:])
    first_next = dt.date(year + month // 12, month % 12 + 1, 1)
    return first_next - dt.timedelta(days=1)


def _money_sum(name: str) -> pl.Expr:
    return pl.col(name).sum().fill_null(0).cast(MONEY).alias(name)


def _require(frame: pl.DataFrame, columns: tuple[str, ...], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(f"report: the {what} frame lacks column(s) {', '.join(missing)}")


def _signed(name: str) -> pl.Expr:
    """A money column with credit notes negative (they reduce ITC)."""
    return itc_sign() * pl.col(name)


def _tax_total(prefix: str = "") -> pl.Expr:
    return total_tax(prefix).cast(MONEY)


# --------------------------------------------------------------------------------------------
# the joined document frame


def _current_decisions(decisions: pl.DataFrame | None, notes: list[str]) -> pl.DataFrame:
    """The latest decision per doc_key (by decided_at when given, else the last row)."""
    cols = {
        "doc_key": pl.String(),
        "action": pl.String(),
        "rule_id": pl.String(),
        "reason": pl.String(),
        "source": pl.String(),
        "itc_reduction": pl.String(),
        **{f"declared_{h}": MONEY for h in HEADS},
    }
    if decisions is None or decisions.height == 0:
        return pl.DataFrame(schema=cols)
    _require(decisions, ("doc_key", "action"), "decisions")
    bad = decisions.filter(~pl.col("action").is_in(ACTIONS) | pl.col("action").is_null())
    if bad.height:
        first = bad.row(0, named=True)
        raise InputError(
            f"report: decision for {first['doc_key']} has action '{first['action']}'"
            f" (expected one of {', '.join(ACTIONS)}); {bad.height} such row(s)"
        )
    if "status" in decisions.columns:  # the workspace's carry-over status of each decision
        review = decisions.filter(pl.col("status") == DecisionStatus.REVIEW).height
        if review:
            notes.append(
                f"{review} decision(s) were made before the supplier changed the document:"
                " review them (they still count here)."
            )
    latest = current_decisions(decisions)  # the one decision path (imsdata.decisions)
    if latest.height < decisions.height:
        notes.append(
            f"{decisions.height - latest.height} earlier decision(s) superseded by a later one"
            " for the same document; the latest counts."
        )
    return conform(latest, cols, defaults=dict.fromkeys(cols))  # _require checked the rest


def _documents(
    ims: pl.DataFrame, matches: pl.DataFrame, current: pl.DataFrame, notes: list[str]
) -> pl.DataFrame:
    """One row per IMS document with its match status, current action and signed ITC."""
    ims_side = matches.filter(pl.col("doc_key").is_not_null())
    # the best-scored row per document; only documents with several rows need sorting
    several = ims_side["doc_key"].is_duplicated()
    paired = pl.concat(
        [
            ims_side.filter(~several),
            ims_side.filter(several)
            .sort(["doc_key", "match_score"], descending=[False, True], nulls_last=True)
            .unique("doc_key", keep="first", maintain_order=True),
        ]
    )
    n_ims_rows = ims_side.height
    if paired.height < n_ims_rows:
        notes.append(
            f"{n_ims_rows - paired.height} extra match row(s) for already-matched documents"
            " ignored (the best-scored match counts)."
        )
    stale = paired.join(ims.select("doc_key"), on="doc_key", how="anti").height
    if stale:
        notes.append(f"{stale} match row(s) refer to documents not in this download; ignored.")
    orphan = current.join(ims.select("doc_key"), on="doc_key", how="anti").height
    if orphan:
        notes.append(f"{orphan} decision(s) refer to documents not in this download; ignored.")
    portal_action = pl.col("portal_action").replace_strict(
        ACTION_CODES, default=None, return_dtype=pl.String()
    )
    docs = (
        ims.join(
            paired.select(
                "doc_key", "register_id", "match_status", "superseded_by",
                *[f"diff_{h}" for h in HEADS],
            ),
            on="doc_key",
            how="left",
        )
        .join(
            current.rename({c: f"dec_{c}" for c in current.columns if c != "doc_key"}),
            on="doc_key",
            how="left",
        )
        .with_columns(
            match_status=pl.col("match_status").fill_null(NOT_RECONCILED),
            action=pl.coalesce(pl.col("dec_action"), portal_action, pl.lit(Action.NO_ACTION)),
            action_source=pl.when(pl.col("dec_action").is_not_null())
            .then(pl.col("dec_source").fill_null("decision"))
            .otherwise(pl.lit("portal")),
            tax=_tax_total(),
            itc=_signed("igst").fill_null(0)
            + _signed("cgst").fill_null(0)
            + _signed("sgst").fill_null(0)
            + _signed("cess").fill_null(0),
        )
        .with_columns(
            pl.col("itc").cast(MONEY),
            superseded=pl.col("superseded_by").is_not_null(),
        )
    )  # fmt: skip
    # in no particular order: every table sums (Decimal: exact in any order) or sorts its rows
    # by a unique key (a sort here copied every column of 200k-1M documents)
    return docs


# --------------------------------------------------------------------------------------------
# deadlines and risk


DEADLINE_KINDS: dict[str, str] = {
    "window": "pending window (R3)",
    "lapse": "ITC time limit, sec. 16(4)",
    "final": "action final at the GSTR-3B due date (R10)",
}


def _deadline(
    docs: pl.DataFrame, frequency: str, group: int
) -> tuple[pl.Expr, pl.Expr, dict[str, pl.Series]]:
    """Each document's deadline and its kind (a DEADLINE_KINDS key), from its own 2B period.

    Pending specified records (credit notes and amendments: every amendment is counted as one,
    to be safe) may stay pending until the GSTR-3B due date of their 2B period + one tax period
    (R3), and never past sec. 16(4); other pending invoices and debit notes until sec. 16(4).
    A document not pending keeps its action until the GSTR-3B due date of its own 2B period.
    Returns the two expressions and the columns they read (`_window`, `_final`): the period's
    dates are computed once per distinct 2B period (a handful), not once per document.
    """
    limited = [k for k, s in SECTIONS.items() if s.itc_reduction]
    period = pl.col("supplier_period")
    by_period = docs.select(period.unique()).with_columns(
        _window=dl.pending_window_end_expr(period, frequency, group),
        _final=dl.gstr3b_due_expr(period, frequency, group),
    )
    dates = docs.select(period).join(
        by_period, on="supplier_period", how="left", nulls_equal=True, maintain_order="left"
    )
    window, final = pl.col("_window"), pl.col("_final")
    lapse = dl.itc_time_limit_expr(pl.col("doc_date"))
    pending = pl.col("action") == Action.PENDING
    specified = pl.col("section").is_in(limited) & window.is_not_null()
    use_window = pending & specified & (window <= lapse).fill_null(True)
    use_lapse = pending | final.is_null()
    when = pl.when(use_window).then(window).when(use_lapse).then(lapse).otherwise(final)
    kind = (
        pl.when(use_window)
        .then(pl.lit("window"))
        .when(use_lapse)
        .then(pl.lit("lapse"))
        .otherwise(pl.lit("final"))
    )
    return when, kind, {"_window": dates["_window"], "_final": dates["_final"]}


def _with_risk(
    docs: pl.DataFrame, as_of: dt.date, near_days: int, frequency: str, group: int
) -> pl.DataFrame:
    """Add deadline, deadline_kind, days_left, pending_deadline (pending documents only),
    days_to_deadline, risk (a RISK_LABELS key or null): one pass over the documents."""
    limited = [k for k, s in SECTIONS.items() if s.itc_reduction]
    books = pl.col("match_status").is_in(RISKY_STATUSES)
    deadline, kind, dates = _deadline(docs, frequency, group)
    days_left = (deadline - pl.lit(as_of)).dt.total_days()
    pending = pl.col("action") == Action.PENDING
    near = pending & (days_left <= near_days)  # days_to_deadline: days_left of pending ones
    live = ~pl.col("superseded")
    risk = (
        pl.when(live & (pl.col("action") == Action.ACCEPT) & books)
        .then(pl.lit("accept_books"))
        .when(live & (pl.col("action") == Action.NO_ACTION) & books)
        .then(pl.lit("deemed_books"))
        .when(live & near & pl.col("section").is_in(limited))
        .then(pl.lit("pending_deemed"))
        .when(live & near)
        .then(pl.lit("pending_lapse"))
        .otherwise(None)
    )
    return (
        docs.with_columns(**dates)
        .with_columns(
            deadline=deadline,
            deadline_kind=kind,
            days_left=days_left,
            pending_deadline=pl.when(pending).then(deadline),
            days_to_deadline=pl.when(pending).then(days_left),
            risk=risk,
        )
        .drop("_window", "_final")
    )


# --------------------------------------------------------------------------------------------
# the tables


def _by_section_action(docs: pl.DataFrame) -> pl.DataFrame:
    section_order = {k: i for i, k in enumerate(SECTIONS)}
    action_order = {a: i for i, a in enumerate(ACTIONS)}
    money = ("doc_value", "taxable_value", *HEADS)
    return (
        docs.group_by("section", "action")
        .agg(pl.len().cast(pl.Int64).alias("documents"), *[_money_sum(m) for m in money])
        .with_columns(
            section_title=pl.col("section").replace_strict(
                {k: s.title for k, s in SECTIONS.items()}, default=pl.col("section")
            ),
            _s=pl.col("section").replace_strict(section_order, default=99),
            _a=pl.col("action").replace_strict(action_order, default=99),
        )
        .sort("_s", "_a")
        .select("section", "section_title", "action", "documents", *money)
    )


def _itc_summary(docs: pl.DataFrame) -> pl.DataFrame:
    money = ("taxable_value", *HEADS)
    # only the columns summed (the filters below would copy every column of 1M documents)
    signed = docs.select(
        "action", "superseded", *[_signed(m).alias(m) for m in money], "itc"
    )  # fmt: skip
    live = signed.filter(~pl.col("superseded"))

    def row(label: str, frame: pl.DataFrame) -> pl.DataFrame:
        return frame.select(
            pl.lit(label).alias("category"),
            pl.len().cast(pl.Int64).alias("documents"),
            *[_money_sum(m) for m in money],
            _money_sum("itc"),
        )

    parts = [row(ACTION_LABELS[a], live.filter(pl.col("action") == a)) for a in ACTION_LABELS]
    parts.insert(
        2,
        row(
            "ITC available (accepted + deemed)",
            live.filter(pl.col("action").is_in(ITC_TAKEN)),
        ),
    )
    superseded = signed.filter(pl.col("superseded"))
    if superseded.height:
        parts.append(row("Superseded by an amendment (excluded)", superseded))
    return pl.concat(parts)


def _counted(frame: pl.DataFrame, key: str, categories: list[str], amount: str) -> pl.DataFrame:
    """Documents and summed `amount` per category of `key`, every category listed in order (zero
    when absent)."""
    totals = frame.group_by(key).agg(pl.len().cast(pl.Int64).alias("documents"), _money_sum(amount))
    return (
        pl.DataFrame({key: categories})
        .join(totals, on=key, how="left", maintain_order="left")
        .select(key, pl.col("documents").fill_null(0), pl.col(amount).fill_null(0).cast(MONEY))
    )


def _at_risk(docs: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    risky = docs.filter(pl.col("risk").is_not_null()).with_columns(amount=pl.col("tax").cast(MONEY))
    summary = _counted(risky, "risk", list(RISK_LABELS), "amount").select(
        pl.col("risk").replace_strict(RISK_LABELS).alias("reason"), "documents", "amount"
    )
    total = summary.select(
        pl.lit("Total ITC at risk").alias("reason"),
        pl.col("documents").sum().cast(pl.Int64),
        _money_sum("amount"),
    )
    detail = risky.sort(["amount", "doc_key"], descending=[True, False]).select(
        pl.col("risk").replace_strict(RISK_LABELS).alias("reason"),
        "supplier_gstin", "supplier_name", "section", "doc_number", "doc_date", "action",
        "match_status", "supplier_period", "deadline",
        pl.col("deadline_kind").replace_strict(DEADLINE_KINDS, default=None),
        "days_left", "amount",
    )  # fmt: skip
    return pl.concat([summary, total]), detail


def _reconciliation(
    docs: pl.DataFrame, matches: pl.DataFrame, register: pl.DataFrame | None
) -> pl.DataFrame:
    ims_side = docs.group_by("match_status").agg(
        pl.len().cast(pl.Int64).alias("documents"), _money_sum("doc_value"), _money_sum("itc")
    )
    books = matches.filter(pl.col("match_status") == MatchStatus.MISSING_IN_IMS)
    if register is not None and {"register_id", "doc_value"} <= set(register.columns):
        reg = register.with_columns(
            itc=_tax_total() if set(HEADS) <= set(register.columns) else pl.lit(None, MONEY)
        ).with_columns(
            itc=itc_sign() * pl.col("itc") if "doc_type" in register.columns else pl.col("itc")
        )
        books = books.join(
            reg.select("register_id", "doc_value", "itc").unique("register_id", keep="first"),
            on="register_id",
            how="left",
        )
        books_row = books.select(
            pl.lit(MatchStatus.MISSING_IN_IMS).alias("match_status"),
            pl.len().cast(pl.Int64).alias("documents"),
            _money_sum("doc_value"),
            _money_sum("itc"),
        )
    else:
        books_row = pl.DataFrame(
            {"match_status": [MatchStatus.MISSING_IN_IMS], "documents": [books.height]},
            schema={"match_status": pl.String(), "documents": pl.Int64()},
        ).with_columns(doc_value=pl.lit(None, MONEY), itc=pl.lit(None, MONEY))
    statuses = [*MATCH_STATUSES, NOT_RECONCILED]
    both = pl.concat(
        [ims_side.filter(pl.col("match_status") != MatchStatus.MISSING_IN_IMS), books_row]
    )
    return (
        pl.DataFrame({"match_status": statuses, "_o": list(range(len(statuses)))})
        .join(both, on="match_status", how="left")
        .sort("_o")
        .select(
            "match_status",
            pl.col("documents").fill_null(0).cast(pl.Int64),
            pl.when(pl.col("match_status") == MatchStatus.MISSING_IN_IMS)
            .then(pl.col("doc_value"))
            .otherwise(pl.col("doc_value").fill_null(0))
            .cast(MONEY),
            pl.when(pl.col("match_status") == MatchStatus.MISSING_IN_IMS)
            .then(pl.col("itc"))
            .otherwise(pl.col("itc").fill_null(0))
            .cast(MONEY),
        )
    )


def _supplier_name() -> pl.Expr:
    return pl.col("supplier_name").drop_nulls().sort().first().alias("supplier_name")


def _top_mismatch(docs: pl.DataFrame, n: int) -> pl.DataFrame:
    diff = pl.sum_horizontal([pl.col(f"diff_{h}").fill_null(0).abs() for h in HEADS])
    value = (
        pl.when(pl.col("match_status") == MatchStatus.MISSING_IN_REGISTER)
        .then(pl.col("tax"))
        .otherwise(diff)
        .cast(MONEY)
    )
    return (
        docs.filter(pl.col("match_status").is_in(RISKY_STATUSES) & ~pl.col("superseded"))
        .with_columns(mismatch_value=value)
        .pipe(_by_supplier, _money_sum("mismatch_value"))
        .sort(["mismatch_value", "supplier_gstin"], descending=[True, False])
        .head(n)
    )


def _by_supplier(docs: pl.DataFrame, *extra: pl.Expr) -> pl.DataFrame:
    """Per supplier GSTIN: name, documents, document value, ITC, then `extra` aggregates."""
    return docs.group_by("supplier_gstin").agg(
        _supplier_name(),
        pl.len().cast(pl.Int64).alias("documents"),
        _money_sum("doc_value"),
        _money_sum("itc"),
        *extra,
    )


def _top_pending(docs: pl.DataFrame, n: int) -> pl.DataFrame:
    return (
        docs.filter((pl.col("action") == Action.PENDING) & ~pl.col("superseded"))
        .pipe(_by_supplier, pl.col("pending_deadline").min().alias("earliest_deadline"))
        .sort(["itc", "supplier_gstin"], descending=[True, False])
        .head(n)
    )


def _ageing(docs: pl.DataFrame, as_of: dt.date) -> pl.DataFrame:
    days = (pl.lit(as_of) - pl.col("doc_date")).dt.total_days()
    bucket = (
        pl.when(days <= 30)
        .then(pl.lit(AGEING_BUCKETS[0]))
        .when(days <= 60)
        .then(pl.lit(AGEING_BUCKETS[1]))
        .when(days <= 90)
        .then(pl.lit(AGEING_BUCKETS[2]))
        .otherwise(pl.lit(AGEING_BUCKETS[3]))
    )
    grouped = (
        docs.filter((pl.col("action") == Action.PENDING) & ~pl.col("superseded"))
        .with_columns(bucket=bucket)
        .group_by("bucket")
        .agg(pl.len().cast(pl.Int64).alias("documents"), _money_sum("doc_value"), _money_sum("itc"))
    )
    return (
        pl.DataFrame({"bucket": list(AGEING_BUCKETS), "_o": list(range(len(AGEING_BUCKETS)))})
        .join(grouped, on="bucket", how="left")
        .sort("_o")
        .select(
            "bucket",
            pl.col("documents").fill_null(0),
            pl.col("doc_value").fill_null(0).cast(MONEY),
            pl.col("itc").fill_null(0).cast(MONEY),
        )
    )


def _changes(docs: pl.DataFrame, previous: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    prev = previous.with_columns(itc=(_signed("igst").fill_null(0) + _signed("cgst").fill_null(0)
                                      + _signed("sgst").fill_null(0)
                                      + _signed("cess").fill_null(0)).cast(MONEY))  # fmt: skip
    cur = docs.select(
        "doc_key", "section", "supplier_gstin", "supplier_name", "doc_number", "doc_date",
        "record_hash", "doc_value", "itc", "portal_action",
    )  # fmt: skip
    old = prev.select(
        "doc_key", "section", "supplier_gstin", "supplier_name", "doc_number", "doc_date",
        "record_hash", "doc_value", "itc", "portal_action",
    ).unique("doc_key", keep="first")  # fmt: skip
    both = cur.join(old, on="doc_key", how="full", coalesce=True, suffix="_old")
    change = (
        pl.when(pl.col("section_old").is_null())
        .then(pl.lit("added"))
        .when(pl.col("section").is_null())
        .then(pl.lit("removed"))
        .when(pl.col("record_hash") != pl.col("record_hash_old"))
        .then(pl.lit("changed"))
        .otherwise(None)
    )
    detail = (
        both.with_columns(change=change)
        .filter(pl.col("change").is_not_null())
        .select(
            "change",
            "doc_key",
            *[
                pl.coalesce(c, f"{c}_old").alias(c)
                for c in ("section", "supplier_gstin", "supplier_name", "doc_number", "doc_date")
            ],
            pl.col("doc_value_old").alias("previous_doc_value"),
            "doc_value",
            pl.col("itc_old").alias("previous_itc"),
            "itc",
            (pl.col("itc").fill_null(0) - pl.col("itc_old").fill_null(0))
            .cast(MONEY)
            .alias("itc_change"),
        )
        .sort("change", "doc_key")
    )
    summary = _counted(detail, "change", ["added", "changed", "removed"], "itc_change")
    return summary, detail


# --------------------------------------------------------------------------------------------
# the public function


#: IMS columns the report never reads.
_UNUSED_IMS_COLUMNS = (
    "supplier_pan", "supply_type", "source_form", "supplier_filing_status",
    "pos", "pending_blocked", "itc_reduction_blocked", "remarks_blocked", "remarks",
    "recipient_gstin", "extra_json", "source_file", "source_index",
)  # fmt: skip


def build_report(
    ims: pl.DataFrame,
    matches: pl.DataFrame,
    decisions: pl.DataFrame | None,
    *,
    previous: pl.DataFrame | None = None,
    gstin: str,
    period: str,
    as_of: dt.date | None = None,
    register: pl.DataFrame | None = None,
    near_deadline_days: int = NEAR_DEADLINE_DAYS,
    top: int = TOP_SUPPLIERS,
    frequency: str = dl.MONTHLY,
) -> Report:
    """All period-end tables from the IMS frame, its matches and the current decisions.

    A document's action is its latest decision, else the action it was downloaded with. The
    optional register (canonical frame) values the documents missing in IMS. `as_of` (default:
    today) dates the deadlines; `frequency` is the recipient's GSTR-3B filing frequency (monthly
    or quarterly, QRMP) and the state group of its GSTIN sets the quarterly due day.
    """
    period_end(period)
    as_of = as_of or dt.date.today()
    frequency = dl.check_frequency(frequency)
    gstin = (gstin or "").strip().upper()
    if not gst.is_valid_format(gstin):
        raise UsageError(f"recipient GSTIN '{gstin}' is not a valid GSTIN")
    _require(ims, ("doc_key", "section", "doc_type", "doc_date", *HEADS), "IMS")
    _require(matches, ("doc_key", "match_status"), "matches")
    # the columns no table uses stay out of the joins (memory at 1M documents)
    # _require named the columns the tables need; the others may be absent (null)
    ims = conform(ims, IMS_COLUMNS, defaults=dict.fromkeys(IMS_COLUMNS)).drop(_UNUSED_IMS_COLUMNS)
    matches = conform(matches, MATCH_COLUMNS, defaults=MATCH_DEFAULTS)
    dup = ims.filter(pl.col("doc_key").is_duplicated())
    if dup.height:
        raise InputError(
            f"report: document {dup['doc_key'][0]} appears more than once in the IMS frame"
        )
    notes: list[str] = []
    current = _current_decisions(decisions, notes)
    conflicts = (
        portal_conflicts(ims, decisions)
        if decisions is not None and decisions.height
        else pl.DataFrame(schema=CONFLICT_COLUMNS)
    )
    group = dl.state_group(gstin)
    docs = _with_risk(
        _documents(ims, matches, current, notes), as_of, near_deadline_days, frequency, group
    )
    prev_ims = (
        conform(previous, IMS_COLUMNS, defaults=dict.fromkeys(IMS_COLUMNS))
        if previous is not None
        else None
    )
    t4_docs = t4.table4_documents(docs, period, prev_ims)
    due = dl.gstr3b_due(dl.period_start(period), frequency, group)
    window = dl.pending_window_end(period, frequency, group)
    window_text = (
        f"{window:%d-%m-%Y} for this period's own records"
        if window
        else "none before the October 2025 period"
    )

    risk_summary, risk_detail = _at_risk(docs)
    tables = [
        ReportTable(
            "itc_summary",
            "ITC by action",
            _itc_summary(docs),
            "Credit notes count negative. No action at GSTR-2B generation means deemed accepted."
            " Originals replaced by an amendment are excluded from ITC.",
        ),
        ReportTable(
            "portal_conflicts",
            "Conflicts with the portal",
            conflicts.drop("reason"),
            "Documents where a rule suggests another action than the one a person already took"
            " on the portal (Accepted, Rejected or Pending). Not sent: the portal's action stays"
            " until a person decides (review workbook, imsdata decide).",
        ),
        ReportTable(
            "itc_at_risk",
            "ITC at risk",
            risk_summary,
            "At risk: the tax on documents accepted or deemed accepted whose reconciliation is"
            " mismatch, PAN-level match or missing in the register; plus pending documents whose"
            f" deadline is within {near_deadline_days} days of {as_of:%d-%m-%Y}. Deadlines come"
            f" from each document's own GSTR-2B period (its supplier's return period), for a"
            f" {frequency} filer (GSTR-3B due {due:%d-%m-%Y} for {period}): credit notes and other"
            " specified records (every amendment counted as one, to be safe) may stay pending"
            " to the GSTR-3B due date of the next tax period (R3; "
            f"{window_text}), then they are deemed accepted; other invoices and debit notes"
            " lapse under sec. 16(4) on 30 November after the end of the document's financial"
            " year (earlier if the annual return is filed earlier: not modelled). Other"
            " documents keep their action until the GSTR-3B due date of their 2B period.",
        ),
        ReportTable(
            "gstr3b_table4",
            "GSTR-3B Table 4 preview",
            t4.table4(docs, t4_docs),
            "From accepted and deemed-accepted documents the supplier has filed with a return"
            f" period up to {period} (others reach a later GSTR-2B). Invoices and debit notes add"
            " their tax; credit notes reduce it, by the declared amounts where an ITC-reduction"
            " declaration is made ('N': nothing to reduce); amendments count as the difference"
            " from their original (taken from the previous download; an amendment whose original"
            " is in no download is listed and not counted). Per head a positive net is 4(A)(5),"
            " a negative one 4(B)(2). The reconciliation lines lead from 'ITC available' to the"
            " net; sheet table4_documents lists each document's share. A preview: GSTR-2B and"
            " your other ITC (RCM, ISD) decide the filed figures.",
        ),
        ReportTable(
            "by_section_action",
            "Documents and tax by section and action",
            _by_section_action(docs),
            "Amounts as on the documents (credit notes positive).",
        ),
        ReportTable(
            "reconciliation",
            "Reconciliation status",
            _reconciliation(docs, matches, register),
            "Value and ITC of IMS documents; missing_in_ims rows are register documents"
            " (valued only when the register is given).",
        ),
        ReportTable(
            "top_mismatch",
            f"Top {top} suppliers by mismatch value",
            _top_mismatch(docs, top),
            "Mismatch value: the absolute tax difference against the books per head, or the"
            " whole tax when the document is missing in the register.",
        ),
        ReportTable(
            "top_pending",
            f"Top {top} suppliers by pending ITC",
            _top_pending(docs, top),
        ),
        ReportTable(
            "pending_ageing",
            "Pending documents by age",
            _ageing(docs, as_of),
            f"Age: days from the document date to {as_of:%d-%m-%Y}.",
        ),
        ReportTable("at_risk_documents", "Documents at risk", risk_detail),
        ReportTable(
            "table4_documents",
            "Table 4: each document's share",
            t4_docs.drop("treatment").head(t4.MAX_DOCUMENT_ROWS),
            "One row per accepted or deemed-accepted document: its Table 4 line, its full ITC"
            " (itc_*, credit notes negative), before the declaration (undeclared_*) and what it"
            " adds to Table 4 per head."
            + (
                f" Cut to the first {t4.MAX_DOCUMENT_ROWS:,} of {t4_docs.height:,} rows."
                if t4_docs.height > t4.MAX_DOCUMENT_ROWS
                else ""
            ),
        ),
    ]
    if previous is not None:
        _require(previous, ("doc_key", "record_hash"), "previous IMS")
        summary, detail = _changes(
            docs, conform(previous, IMS_COLUMNS, defaults=dict.fromkeys(IMS_COLUMNS))
        )
        tables += [
            ReportTable(
                "changes",
                "Changes since the previous download",
                summary,
                "Added: new documents; changed: same document, different record (hash);"
                " removed: in the previous download only. ITC change = new minus previous.",
            ),
            ReportTable("changes_detail", "Changed documents", detail),
        ]
    else:
        notes.append("No previous download given: changes since the previous download not shown.")

    itc = tables[0].frame
    avail = itc.filter(pl.col("category") == "ITC available (accepted + deemed)")
    headline: dict[str, object] = {
        "documents": ims.height,
        "itc_available": avail["itc"][0],
        "itc_accepted": itc.filter(pl.col("category") == ACTION_LABELS[Action.ACCEPT])["itc"][0],
        "itc_deemed": itc.filter(pl.col("category") == ACTION_LABELS[Action.NO_ACTION])["itc"][0],
        "itc_pending": itc.filter(pl.col("category") == ACTION_LABELS[Action.PENDING])["itc"][0],
        "itc_rejected": itc.filter(pl.col("category") == ACTION_LABELS[Action.REJECT])["itc"][0],
        "itc_at_risk": risk_summary["amount"][-1],
    }
    return Report(
        gstin=gstin,
        period=period,
        as_of=as_of,
        tables=tuple(tables),
        headline=headline,
        notes=tuple(notes),
        near_deadline_days=near_deadline_days,
    )
