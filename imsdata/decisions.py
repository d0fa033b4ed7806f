"""One decision path: what imsdata holds as decided, what the portal holds, what may be sent.

Every command (run, suggest, decide, review --import, export, report) and the notebooks go
through this module for the facts a taxpayer's upload rests on, so the same inputs give the same
decisions and the same upload whichever command was used:

- `recipient_gstin`: our GSTIN (the upload's rtin) from --gstin, the download, or the register;
- `latest`: the current decision per document (the latest one wins);
- `portal_state`: the portal's last known action per document (the download, plus the uploads
  the portal has since processed, recorded by `imsdata errors`);
- `check` / `refusal`: the rule engine's guards on any decision, and the one refusal message;
- `sendable` / `export`: what may go out (a person's decision always; a rule's only as the
  rule file's `[policy]` allows), and the upload files themselves;
- `conflicts`: rule suggestions withheld because a person already decided on the portal;
- `register_warnings`: sanity checks on the register before an upload is written.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from imsdata import gstin as gst
from imsdata.errors import UsageError
from imsdata.portal.sections import ACTION_WORDS
from imsdata.schemas import (
    DECISION_COLUMNS,
    DECISION_DEFAULTS,
    MATCH_COLUMNS,
    Action,
    DecisionSource,
    DecisionStatus,
    conform,
    empty,
)
from imsdata.schemas import HUMAN_SOURCES as HUMAN_SOURCES  # a person's decision

if TYPE_CHECKING:
    from imsdata.portal.write import ExportResult
    from imsdata.rules import RuleSet
    from imsdata.workspace import Workspace


#: The actions that change the portal (a conflict's suggestion is one of them), as a regex group.
_ACTED = "|".join(a for a in Action if a != Action.NO_ACTION)
#: The reason of a rule decision withheld because the portal holds a person's other action.
CONFLICT_PREFIX = "Conflict with the portal"
#: Portal action codes in words for messages: A -> Accepted ...
PORTAL_LABELS: dict[str, str] = {"N": "No action", "A": "Accepted", "R": "Rejected", "P": "Pending"}
#: Columns of `conflicts`.
CONFLICT_COLUMNS: dict[str, pl.DataType] = {
    "doc_key": pl.String(),
    "section": pl.String(),
    "supplier_gstin": pl.String(),
    "doc_number": pl.String(),
    "doc_date": pl.Date(),
    "portal_action": pl.String(),
    "suggested": pl.String(),
    "rule_id": pl.String(),
    "reason": pl.String(),
}


# --------------------------------------------------------------------------- inputs


def files_hash(paths: Sequence[str | os.PathLike[str]]) -> str:
    """The content hash of inputs, folders included (`imsdata.workspace.files_hash`)."""
    from imsdata.workspace import files_hash as _files_hash

    return _files_hash(paths)


def recipient_gstin(
    flag: str | None, ims: pl.DataFrame, register: pl.DataFrame | None = None
) -> str:
    """Our GSTIN for this month: --gstin, else the one GSTIN the download names, else the
    register's most common recipient GSTIN; UsageError saying "give --gstin" when none is sure.

    A --gstin that differs from the download's own GSTIN is refused: the upload would go to the
    wrong registration.
    """
    named = sorted(ims["recipient_gstin"].drop_nulls().unique().to_list())
    if flag:
        given = flag.strip().upper()
        if not (gst.is_valid_format(given) and gst.has_valid_check(given)):
            raise UsageError(f"--gstin {flag!r} is not a valid GSTIN")
        if named and named != [given]:
            raise UsageError(f"--gstin {given} differs from the download's GSTIN {named[0]}")
        return given
    if len(named) == 1:
        return named[0]
    if len(named) > 1:
        raise UsageError(f"the IMS download names several GSTINs {named}: give --gstin")
    if register is not None and "recipient_gstin" in register.columns:
        counts = (
            register.select("recipient_gstin")
            .drop_nulls()
            .group_by("recipient_gstin")
            .len()
            .sort(["len", "recipient_gstin"], descending=[True, False])
        )
        if counts.height == 1 or (counts.height > 1 and counts["len"][0] > counts["len"][1]):
            return counts["recipient_gstin"][0]
        if counts.height > 1:
            raise UsageError(
                "the IMS download names no recipient GSTIN and the register holds several "
                f"equally often ({', '.join(counts['recipient_gstin'].head(3).to_list())}): "
                "give --gstin"
            )
    raise UsageError(
        "the IMS download names no recipient GSTIN (nor does the register): give --gstin"
    )


def with_recipient(ims: pl.DataFrame, rtin: str) -> pl.DataFrame:
    """The IMS frame with a bare download's documents marked as `rtin`'s own (reconciliation
    compares it with the register's recipient GSTIN)."""
    return ims.with_columns(recipient_gstin=pl.coalesce("recipient_gstin", pl.lit(rtin)))


# --------------------------------------------------------------------------- decisions


def latest(decisions: pl.DataFrame) -> pl.DataFrame:
    """The current decision per doc_key (latest decided_at, then log order), sorted by doc_key.

    A frame already holding one decision per document (the workspace's current decisions) is
    returned as it is (sorted), keeping its extra columns such as the carry-over `status`.
    """
    keys = (
        decisions["doc_key"] if "doc_key" in decisions.columns else pl.Series([], dtype=pl.String)
    )
    if keys.null_count() == 0 and keys.is_unique().all():
        frame = (
            decisions
            if "action" in decisions.columns
            else conform(decisions, DECISION_COLUMNS, defaults=DECISION_DEFAULTS)
        )
        return frame if _ascending(frame["doc_key"]) else frame.sort("doc_key")
    frame = conform(decisions, DECISION_COLUMNS, defaults=DECISION_DEFAULTS).with_row_index(
        "_order"
    )
    return (
        frame.sort(["decided_at", "_order"], nulls_last=False)
        .unique("doc_key", keep="last", maintain_order=True)
        .drop("_order")
        .sort("doc_key")
    )


def _ascending(keys: pl.Series) -> bool:
    if keys.len() < 2:
        return True
    return bool((keys.slice(1) >= keys.slice(0, keys.len() - 1)).all())


def portal_state(ims: pl.DataFrame, log: pl.DataFrame, *, import_id: str | None) -> pl.DataFrame:
    """The IMS snapshot with `portal_action` as the portal holds it now: the download's, updated
    by the uploads the portal has processed since (`portal` decisions against this import)."""
    if import_id is None or log.is_empty() or "import_id" not in log.columns:
        return ims
    portal = latest(
        conform(
            log.filter(
                (pl.col("source") == DecisionSource.PORTAL) & (pl.col("import_id") == import_id)
            ),
            DECISION_COLUMNS,
            defaults=DECISION_DEFAULTS,
        )
    ).select(
        "doc_key",
        pl.col("action").replace_strict(ACTION_WORDS, return_dtype=pl.String).alias("_now"),
    )
    if portal.is_empty():
        return ims
    return (
        ims.join(portal, on="doc_key", how="left")
        .with_columns(portal_action=pl.coalesce("_now", "portal_action"))
        .drop("_now")
    )


def conflicts(ims: pl.DataFrame, decided: pl.DataFrame) -> pl.DataFrame:
    """Rule suggestions withheld because the portal holds a person's other action
    (CONFLICT_COLUMNS, sorted): from `suggest`'s `conflict` column, or from the decision log's
    rule decisions (their reason starts with CONFLICT_PREFIX)."""
    if "conflict" in decided.columns:
        found = decided.filter(pl.col("conflict").is_not_null()).select(
            "doc_key", pl.col("conflict").alias("suggested"), "rule_id", "reason"
        )
    elif not {"source", "reason", "rule_id"} <= set(decided.columns):
        return pl.DataFrame(schema=CONFLICT_COLUMNS)
    else:
        found = decided.filter(
            (pl.col("source") == DecisionSource.RULE)
            & pl.col("reason").str.starts_with(CONFLICT_PREFIX).fill_null(False)
        ).select(
            "doc_key",
            pl.col("reason").str.extract(f"suggests ({_ACTED})", 1).alias("suggested"),
            "rule_id",
            "reason",
        )
    docs = ims.select(
        "doc_key", "section", "supplier_gstin", "doc_number", "doc_date", "portal_action"
    )
    return conform(found.join(docs, on="doc_key", how="inner"), CONFLICT_COLUMNS).sort(
        "supplier_gstin", "doc_date", "doc_number", "doc_key"
    )


def sendable(
    ims: pl.DataFrame, current: pl.DataFrame, *, rules: RuleSet | str | Path | None = None
) -> pl.DataFrame:
    """The current decisions that may go out: decisions made before the supplier changed the
    document are held back (status `review`), and unless the rule file's policy lets rules
    override the portal, a rule decision that would change a portal Accepted or Rejected (a
    person's decision) is held back too (it is a conflict, see `conflicts`)."""
    from imsdata.rules import load_rules

    ruleset = (
        rules if not isinstance(rules, (str, Path)) and rules is not None else load_rules(rules)
    )
    # Only what is held back is dropped; when nothing is, the frame itself is returned (no copy
    # of a whole month's decisions: ~0.3 GB at 1M).
    frame = current
    if "status" in frame.columns:
        kept = (pl.col("status") != DecisionStatus.REVIEW).fill_null(False)
        if not frame.select(kept.all()).item():
            frame = frame.filter(kept)
    if ruleset.policy.rules_override_portal:
        return frame
    portal = ims.lazy().select("doc_key", pl.col("portal_action").alias("_portal"))
    target = pl.col("action").replace_strict(ACTION_WORDS, default=None, return_dtype=pl.String)
    flips = (
        (pl.col("source") == DecisionSource.RULE)
        & pl.col("_portal").is_in(["A", "R"])
        & (pl.col("action") != Action.NO_ACTION)
        & target.ne_missing(pl.col("_portal"))
    ).fill_null(False)
    flipped = (
        frame.lazy()
        .select("doc_key", "source", "action")
        .with_row_index("_row")
        .join(portal, on="doc_key", how="left")
        .filter(flips)
        .select("_row")
        .collect()
    )
    if flipped.is_empty():
        return frame
    kept_rows = frame.with_row_index("_row")
    return kept_rows.join(flipped, on="_row", how="anti", maintain_order="left").drop("_row")


# --------------------------------------------------------------------------- guards


def check(
    ims: pl.DataFrame,
    decisions: pl.DataFrame,
    *,
    matches: pl.DataFrame | None = None,
    rules: RuleSet | str | Path | None = None,
    period: str | None = None,
) -> pl.DataFrame:
    """The guard violations that refuse these decisions (VIOLATION_COLUMNS): every guard of the
    rule file, the same for decide, Excel import, notebooks and export. An overridable guard
    broken by a person's decision that gives a reason does not refuse it."""
    from imsdata.rules import blocking
    from imsdata.rules import check as rule_check

    found = rule_check(
        ims,
        matches if matches is not None else empty(MATCH_COLUMNS),
        decisions,
        rules=rules,
        period=period,
    )
    return blocking(found)


def refusal(
    violations: pl.DataFrame,
    what: str = "refused",
    *,
    where: pl.DataFrame | None = None,
    hint: str = "give a reason to override",
    limit: int = 20,
) -> str:
    """One line naming every refused document (up to `limit`), the guard's message and, for an
    overridable guard, how to override it. `where` (doc_key, place) names e.g. sheet and row."""
    rows = violations.sort("doc_key", "guard_id")
    if where is not None:
        rows = rows.join(where.select("doc_key", "place"), on="doc_key", how="left")
    items = []
    for r in rows.head(limit).iter_rows(named=True):
        place = r.get("place") or r["doc_key"]
        tip = f" ({hint})" if r.get("overridable") else ""
        items.append(f"{place}: {r['message']}{tip} [{r['guard_id']}]")
    more = f"; and {rows.height - limit} more" if rows.height > limit else ""
    return f"{what}: {violations.height} guard violation(s): {'; '.join(items)}{more}"


# --------------------------------------------------------------------------- uploads


@dataclass(frozen=True)
class Month:
    """The facts an upload rests on: the IMS snapshot as the portal holds it now, its matches,
    the current decisions, our GSTIN and the return period."""

    ims: pl.DataFrame
    matches: pl.DataFrame
    decisions: pl.DataFrame
    rtin: str
    period: str | None


def from_workspace(ws: Workspace, *, gstin: str | None = None, period: str | None = None) -> Month:
    """The latest month of a workspace, with the portal's processed uploads applied."""
    from imsdata.rules import resolve_period

    ims = ws.latest_ims()
    ids = ws.imports().filter(pl.col("kind") == "ims")["import_id"].to_list()
    import_id = ids[-1] if ids else None
    portal = ws.decision_log(source=DecisionSource.PORTAL, import_id=import_id)
    ims = portal_state(ims, portal, import_id=import_id)
    rtin = recipient_gstin(gstin, ims, ws.latest_register())
    return Month(
        ims=with_recipient(ims, rtin),
        matches=ws.latest_matches(),
        decisions=ws.current_decisions(),
        rtin=rtin,
        period=resolve_period(ims, period),
    )


def export(
    month: Month,
    out_dir: str | Path,
    *,
    rules: RuleSet | str | Path | None = None,
    only: Iterable[str] | None = None,
    ws: Workspace | None = None,
    recorded_dir: Path | None = None,
    **limits: Any,
) -> ExportResult:
    """Write the upload for a month: only what differs from the portal's last known state, only
    what may be sent (`sendable`), after every guard; GuardError (nothing written) otherwise.

    With `ws`, the files and their workspace rows are committed together (`imsdata.upload_log`)
    so that `imsdata errors` can answer them; `recorded_dir` is where the files will finally
    live when `out_dir` is a staging copy (the caller confirms the rows after moving them).
    """
    from imsdata import upload_log
    from imsdata.portal import write as portal_write

    payloads = portal_write.build_payloads(
        month.ims,
        sendable(month.ims, month.decisions, rules=rules),
        rtin=month.rtin,
        matches=month.matches,
        rules=rules,
        period=month.period,
        only=only,
    )
    plan = portal_write.plan_upload(payloads, out_dir, **limits)
    if ws is None:
        portal_write.write_files(plan)
    else:
        upload_log.write_recorded(ws, plan, recorded_dir=recorded_dir)
    return portal_write.ExportResult(payloads, plan)


def register_warnings(register: pl.DataFrame, ims: pl.DataFrame, period: str | None) -> list[str]:
    """Plain-words warnings about a register that cannot be this month's books: no in-scope
    rows, or more than half of its rows dated outside the IMS period's month (a month's books
    also hold some older documents, a third at most in the synthetic months)."""
    scoped = (
        register.filter(pl.col("in_scope").fill_null(True))
        if "in_scope" in register.columns
        else register
    )
    if scoped.is_empty():
        return [
            "the register has no in-scope rows (no document with a supplier GSTIN): every IMS "
            "document would be 'missing in register'; is it the right file?"
        ]
    booked = scoped["doc_date"].drop_nulls()
    if booked.is_empty():
        return []
    if period and len(period) == 6 and period.isdigit() and 1 <= int(period[:2]) <= 12:
        month, year = int(period[:2]), int(period[2:])
        lo = dt.date(year, month, 1)
        hi = dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)
        window = f"the IMS period {period}"
    else:  # no period: the middle 90% of the download's document dates
        dates = ims["doc_date"].drop_nulls().sort()
        if dates.is_empty():
            return []
        n = dates.len()
        lo, hi = dates[(n - 1) // 20], dates[n - 1 - (n - 1) // 20]
        window = "the IMS documents' dates"
    outside = int(((booked < lo) | (booked > hi)).sum())
    if outside * 2 > booked.len():
        return [
            f"{outside} of {booked.len()} register rows are dated outside {lo:%d-%m-%Y} to "
            f"{hi:%d-%m-%Y} ({window}): is the register for another month?"
        ]
    return []


def has_in_scope_rows(register: pl.DataFrame) -> bool:
    """True when the register holds at least one row IMS could match."""
    if "in_scope" in register.columns:
        return bool(register["in_scope"].fill_null(True).any())
    return not register.is_empty()
