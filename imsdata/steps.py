"""The month's steps, shared by `imsdata run` (`imsdata.pipeline`) and the single commands.

`reconcile_and_suggest` is the one place that stores both inputs in the workspace (by content
hash, folders included: `imsdata.workspace.files_hash`), reconciles, saves the matches, takes the
portal's last known state and logs the rule suggestions (`run`, `suggest`). `write_report` writes
report.html and report.xlsx (`run`, `report`); `export_from_workspace` writes the upload through
`imsdata.decisions.export`, the function `run` writes its upload with (`export`). Each command
parses its options, loads its inputs and makes one call; what it prints afterwards is its own.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from imsdata import decisions as dec
from imsdata import reconcile as rec
from imsdata import rules as rl
from imsdata.deadlines import MONTHLY
from imsdata.engines import Engine
from imsdata.errors import InputError, NotFoundError, UsageError
from imsdata.schemas import DecisionSource, DecisionStatus
from imsdata.workspace import ImportInfo, Workspace, files_hash

if TYPE_CHECKING:
    import datetime as dt

    from imsdata.portal.write import ExportResult
    from imsdata.report import Report
    from imsdata.review import ReviewScope

#: A progress hook: a context manager per named step (the CLI shows a bar; the library none).
Step = Callable[[str], contextlib.AbstractContextManager[None]]


@contextlib.contextmanager
def no_progress(name: str) -> Iterator[None]:
    """The default step hook: nothing shown."""
    yield


@dataclass(frozen=True)
class Suggested:
    """What `reconcile_and_suggest` did: the frames, the period and both imports."""

    ims: pl.DataFrame  # the portal's last known state (the download plus processed uploads)
    matches: pl.DataFrame
    suggestions: pl.DataFrame
    decisions: pl.DataFrame  # the current decision per document after the suggestions
    period: str | None
    stored: dict[str, int]  # appended / kept_human / unchanged (Workspace.store_suggestions)
    ims_import: ImportInfo
    register_import: ImportInfo


def reconcile_and_suggest(
    ws: Workspace,
    ims: pl.DataFrame,
    register: pl.DataFrame,
    *,
    ims_paths: Sequence[str | os.PathLike[str]],
    register_path: str | os.PathLike[str],
    rules: rl.RuleSet,
    tolerances: rec.Tolerances | None = None,
    period: str | None = None,
    labels: tuple[str, str] = ("ims", "register"),
    step: Step = no_progress,
    engine: Engine | None = None,
) -> Suggested:
    """Import both inputs into `ws`, reconcile, save the matches, suggest and log the suggestions.

    `ims` carries our GSTIN already (`decisions.with_recipient`). The imports run beside the
    reconciliation (its own in-memory engine, or `engine`, which also runs the rules). The matches
    are always saved: the same files reconciled with other tolerances give other matches.
    """
    resolved = rl.resolve_period(ims, period)
    # The workspace's connection is used by one thread at a time: the side thread holds it while
    # the main thread reconciles (then runs the rules) on its own engine.
    with ThreadPoolExecutor(max_workers=1) as pool:
        with step("reconcile"):
            # Books of every month imported before (issue 14): read before the imports start.
            books, claimed = _books_of_every_period(ws, register, resolved)
            imported = pool.submit(
                _import_inputs, ws, ims, register, ims_paths, register_path, labels, resolved
            )
            matches = rec.reconcile(
                ims,
                books,
                tolerances=tolerances or rec.Tolerances(),
                period=resolved,
                claimed=claimed,
                engine=engine,
            )
            ims_import, register_import = imported.result()
            import_id = ims_import.import_id
            portal = ws.decision_log(source=DecisionSource.PORTAL, import_id=import_id)
            saved = pool.submit(ws.save_matches, matches)  # stored while the rules run
        with step("suggest"):
            state = dec.portal_state(ims, portal, import_id=import_id)
            suggestions = rl.suggest(state, matches, rules=rules, period=resolved, engine=engine)
            saved.result()  # the matches are in before any suggestion is logged
            stored = ws.store_suggestions(suggestions)
            decisions = ws.current_decisions()
    return Suggested(
        ims=state,
        matches=matches,
        suggestions=suggestions,
        decisions=decisions,
        period=resolved,
        stored=stored,
        ims_import=ims_import,
        register_import=register_import,
    )


def _import_inputs(
    ws: Workspace,
    ims: pl.DataFrame,
    register: pl.DataFrame,
    ims_paths: Sequence[str | os.PathLike[str]],
    register_path: str | os.PathLike[str],
    labels: tuple[str, str],
    book_period: str | None,
) -> tuple[ImportInfo, ImportInfo]:
    """Store both snapshots (by content hash: the same files again are no-ops); the register
    as the books of `book_period`."""
    ims_info = ws.import_ims(ims, source_hash=files_hash(list(ims_paths)), label=labels[0])
    reg_info = ws.import_register(
        register, source_hash=files_hash([register_path]), label=labels[1], period=book_period
    )
    return ims_info, reg_info


def _books_of_every_period(
    ws: Workspace, register: pl.DataFrame, period: str | None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(this month's register plus the other months' books in the workspace, the bookings
    already claimed in other months): what `reconcile` needs to look across months."""
    earlier = ws.books_of_other_periods(period)
    if earlier.is_empty():
        return register, ws.claimed_bookings(period)
    books = rec.periods.combine_books(rec.periods.with_book_period(register, period), earlier)
    return books, ws.claimed_bookings(period)


def previous_ims(ws: Workspace) -> pl.DataFrame | None:
    """The IMS snapshot imported before the latest one (the report's "changes since the
    previous download"); None after the first import."""
    ids = ws.imports().filter(pl.col("kind") == "ims").sort("seq")["import_id"].to_list()
    return ws.ims(ids[-2]) if len(ids) > 1 else None


@dataclass(frozen=True)
class WrittenReport:
    """The period-end report and the files it was written to (report.html, report.xlsx)."""

    report: Report
    paths: list[Path]


def write_report(
    out: Path,
    ims: pl.DataFrame,
    matches: pl.DataFrame,
    decisions: pl.DataFrame | None,
    *,
    gstin: str,
    period: str,
    previous: pl.DataFrame | None = None,
    register: pl.DataFrame | None = None,
    as_of: dt.date | None = None,
    frequency: str = MONTHLY,
    generated_at: dt.datetime | None = None,
) -> WrittenReport:
    """Build the period-end report and write report.html and report.xlsx into `out`, each
    atomically: the same files for `imsdata run` and `imsdata report`. `generated_at`: the time
    written into both (None: now)."""
    from imsdata import report as rpt  # the report's modules load only when one is written

    built = rpt.build_report(
        ims,
        matches,
        decisions,
        previous=previous,
        gstin=gstin,
        period=period,
        as_of=as_of,
        register=register,
        frequency=frequency,
    )
    return WrittenReport(
        built,
        [
            rpt.write_html(built, out / "report.html", generated_at=generated_at),
            rpt.write_excel(built, out / "report.xlsx", created=generated_at),
        ],
    )


@dataclass(frozen=True)
class Exported:
    """What `export_from_workspace` did: the upload (None when nothing failed is left to send
    again), the decisions left out for a person to redo, and the rule suggestions withheld."""

    month: dec.Month
    upload: ExportResult | None
    left_for_review: pl.DataFrame  # decided, then the supplier changed the document
    conflicts: pl.DataFrame  # a rule's action, withheld: the portal holds a person's other one


def export_from_workspace(
    ws: Workspace,
    out_dir: str | Path,
    *,
    gstin: str | None = None,
    period: str | None = None,
    rules: rl.RuleSet | str | Path | None = None,
    only_failed: bool = False,
    **limits: Any,
) -> Exported:
    """The upload of the workspace's latest month (`decisions.export`, as `run` writes it):
    with `only_failed`, only the documents the portal reported as failed and has not processed
    since. GuardError (nothing written) when a record breaks a guard."""
    from imsdata.portal.errors import open_failures

    month = dec.from_workspace(ws, gstin=gstin, period=period)
    left = month.decisions.filter(pl.col("status") == DecisionStatus.REVIEW)
    conflicts = dec.conflicts(month.ims, month.decisions)
    only = open_failures(ws.portal_errors(), ws.decision_log()) if only_failed else None
    if only_failed and not only:
        return Exported(month, None, left, conflicts)
    upload = dec.export(month, out_dir, ws=ws, rules=rules, only=only, **limits)
    return Exported(month, upload, left, conflicts)


def write_review_of_workspace(
    path: Path,
    month: dec.Month,
    *,
    rules: rl.RuleSet,
    limit: int | None,
    all_documents: bool = False,
) -> ReviewScope:
    """Write the review workbook of a workspace's month (`decisions.from_workspace`) with the
    rules' suggestions, as `run` writes its review.xlsx (`review.write_review`)."""
    from imsdata.review import write_review

    suggestions = rl.suggest(month.ims, month.matches, rules=rules, period=month.period)
    return write_review(
        path,
        month.ims,
        month.matches,
        suggestions,
        month.decisions,
        rtin=month.rtin,
        period=month.period or "",
        limit=limit,
        all_documents=all_documents,
    )


def import_review(
    ws: Workspace, path: Path, month: dec.Month, *, rules: rl.RuleSet, user: str | None = None
) -> pl.DataFrame:
    """Read an edited review workbook against the month and log its changed actions and
    remarks as decisions of source excel (checked by the guards); the decisions logged."""
    from imsdata.review import read_review

    decisions = read_review(
        path,
        month.ims,
        rtin=month.rtin,
        period=month.period or "",
        matches=month.matches,
        decisions=month.decisions,
        user=user,
        rules=rules,
    )
    if not decisions.is_empty():
        ws.append_decisions(decisions, source=DecisionSource.EXCEL, user=user)
    return decisions


@dataclass(frozen=True)
class AnsweredReport:
    """What `answer_error_report` did: the upload the report answers, its records, the report's
    errors matched to documents, and the records the portal processed."""

    upload_id: str
    file: Path
    uploaded: pl.DataFrame
    matched: pl.DataFrame
    accepted: pl.DataFrame


def answer_error_report(
    ws: Workspace, errors: pl.DataFrame, upload: str | None = None
) -> AnsweredReport:
    """Record the portal's error report (`portal.errors.read_error_report`) against the upload it
    answers (`upload`: id, file or file name; default: the latest export's file the errors name)
    and log every other uploaded record as processed by the portal. Answering the same report
    again records nothing twice."""
    from imsdata import upload_log
    from imsdata.portal.errors import match_errors, portal_decisions
    from imsdata.portal.write import read_upload

    upload_log.reconcile(ws)  # settle an export a kill interrupted before choosing
    upload_id, file = _pick_upload(ws, upload, errors)
    uploaded = read_upload(file)
    matched = match_errors(errors, uploaded, fallback=ws.latest_ims())
    seen = ws.portal_errors().filter(pl.col("upload_id") == upload_id)
    if seen.is_empty():
        ws.record_portal_errors(
            matched.select(
                "doc_key",
                pl.col("error_code").alias("error_cd"),
                pl.col("error_message").alias("error_msg"),
            ),
            upload_id=upload_id,
        )
    accepted = portal_decisions(uploaded, matched)
    already = ws.current_decisions().filter(pl.col("source") == DecisionSource.PORTAL)
    new = accepted.join(already.select("doc_key", "action"), on=["doc_key", "action"], how="anti")
    if new.height:
        ws.append_decisions(new, source=DecisionSource.PORTAL)
    return AnsweredReport(upload_id, file, uploaded, matched, accepted)


def _by_content(hit: pl.DataFrame, errors: pl.DataFrame | None) -> pl.DataFrame:
    """Of several files of one export, the one whose records the report's errors name (a save
    and a reset file carry different documents); all of them when that does not decide."""
    from imsdata.portal import errors as portal_errors
    from imsdata.portal import write as portal_write

    if errors is None or errors.is_empty():
        return hit
    named = []
    for row in hit.iter_rows(named=True):
        try:
            uploaded = portal_write.read_upload(row["file"])
        except InputError:
            continue
        found = portal_errors.match_errors(errors, uploaded)["doc_key"].drop_nulls().len()
        named.append((found, row["upload_id"]))
    best = max((n for n, _ in named), default=0)
    winners = [uid for n, uid in named if n == best]
    if best and len(winners) == 1:
        return hit.filter(pl.col("upload_id") == winners[0])
    return hit


def _pick_upload(
    ws: Workspace, upload: str | None, errors: pl.DataFrame | None = None
) -> tuple[str, Path]:
    """The upload a report answers: --upload (id, file or file name), else the file of the
    latest export whose records the report names (or its only file)."""
    uploads = ws.uploads()
    if uploads.is_empty():
        raise UsageError(f"{ws.path}: no upload recorded yet (run imsdata export first)")
    if upload:
        hit = uploads.filter(
            (pl.col("upload_id") == upload)
            | (pl.col("file") == str(Path(upload).resolve()))
            | (pl.col("file").str.split("/").list.last() == upload)
        )
        if hit.is_empty():
            raise NotFoundError(f"no upload '{upload}' in {ws.path}")
    else:
        hit = _by_content(uploads.filter(pl.col("created") == pl.col("created").max()), errors)
        if hit.height > 1:
            names = ", ".join(
                f"{r['upload_id']} ({Path(r['file']).name})" for r in hit.iter_rows(named=True)
            )
            raise UsageError(
                f"the last export wrote several files; say which with --upload: {names}"
            )
    row = hit.sort("created").row(-1, named=True)
    return row["upload_id"], Path(row["file"])
