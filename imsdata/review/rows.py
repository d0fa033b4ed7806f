"""Which documents the review workbook holds: one row per IMS document with what the sheets
show, the attention policy (`attention_expr`), the row limit and what was left out."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl
from polars.expr.whenthen import ChainedThen, Then

from imsdata.errors import UsageError
from imsdata.portal.sections import ACTION_CODES, SECTIONS
from imsdata.portal.write import current_decisions
from imsdata.review.layout import (
    ACTION_LABELS,
    DECLARATION_COLUMNS,
    DEFAULT_REVIEW_LIMIT,
    ROUTINE_STATUSES,
    _columns,
    _label_expr,
)
from imsdata.schemas import (
    MATCH_COLUMNS,
    MATCH_DEFAULTS,
    MONEY,
    TAX_HEADS,
    Action,
    DecisionSource,
    DecisionStatus,
    MatchStatus,
    conform,
)


def _sheet_frame(
    ims: pl.DataFrame,
    matches: pl.DataFrame,
    suggestions: pl.DataFrame,
    decisions: pl.DataFrame | None,
) -> pl.DataFrame:
    """One row per IMS document with everything the section sheets show (unsorted)."""
    matched = conform(matches, MATCH_COLUMNS, defaults=MATCH_DEFAULTS).filter(
        pl.col("doc_key").is_not_null()
    )
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
    sugg_decl = [c for c in DECLARATION_COLUMNS.values() if c in suggestions.columns]
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
        *[pl.col(c).alias(f"s_{c}") for c in sugg_decl],
    ).unique("doc_key", keep="last", maintain_order=True)  # one pass for all its columns
    shown = {c.source for sec in SECTIONS.values() for c in _columns(sec)}
    keep = [
        c
        for c in ims.columns
        if c in shown
        or c in ("section", "portal_action", "pending_blocked", "remarks", "is_amendment")
        or c in DECLARATION_COLUMNS.values()
    ]
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
        match_status=pl.col("match_status").fill_null(MatchStatus.MISSING_IN_REGISTER),
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
        itc_value=pl.sum_horizontal(pl.col(h).abs() for h in TAX_HEADS),
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
            src.cast(MONEY).cast(pl.String) if col != "itc_reduction" else src.cast(pl.String)
            for src in sources
        ]
        value: Then | ChainedThen = pl.when(decided).then(texts[0])
        if suggested is not None:
            value = value.when(suggested).then(texts[1])
        out[f"{col}_out"] = value.otherwise(texts[-1])
    return out


def attention_expr() -> pl.Expr:
    """True for a document a person must look at; False only for the routine case: an exact or
    within-tolerance match, suggested accept, not decided otherwise by a person, the portal not
    holding another action, not an amendment, not superseded and not changed by the supplier
    since it was decided."""
    auto = pl.col("decided").is_null() | pl.col("d_source").is_in(
        (DecisionSource.RULE, DecisionSource.PORTAL)
    )
    routine = (
        pl.col("match_status").is_in(ROUTINE_STATUSES)
        & pl.col("suggested").eq_missing(pl.lit(Action.ACCEPT))
        & pl.coalesce("decided", pl.lit(Action.ACCEPT)).eq(Action.ACCEPT)
        & auto
        & pl.col("portal_word").is_in((Action.NO_ACTION, Action.ACCEPT))
        & ~pl.col("is_amendment").fill_null(False)
        & pl.col("superseded").is_null()
        & pl.col("d_status")
        .is_in((DecisionStatus.REVIEW, DecisionStatus.GONE))
        .not_()
        .fill_null(True)
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
