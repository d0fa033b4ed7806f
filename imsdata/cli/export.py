"""`imsdata export`, `imsdata errors` and `imsdata review`: the last mile, over the workspace.

Thin commands: they read the latest IMS snapshot, matches and current decisions from the
workspace and call `imsdata.portal.write`, `imsdata.portal.errors` and `imsdata.review`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import polars as pl
import typer

from imsdata import decisions as dec
from imsdata.cli._common import err, frame_table, out
from imsdata.errors import GuardError, InputError, UsageError
from imsdata.portal.errors import (
    read_error_report,
    to_fix,
)
from imsdata.portal.write import DEFAULT_MAX_BYTES, DEFAULT_MAX_RECORDS
from imsdata.review import DEFAULT_REVIEW_LIMIT
from imsdata.workspace import DEFAULT_WORKSPACE, Workspace

WorkspaceOpt = Annotated[Path, typer.Option("--workspace", "-w", help="Workspace DuckDB file.")]
GstinOpt = Annotated[
    str | None,
    typer.Option("--gstin", help="Recipient GSTIN (rtin); default: from the IMS download."),
]
RulesOpt = Annotated[
    Path | None, typer.Option("--rules", help="Rule file (TOML); default: bundled rules.")
]
PeriodOpt = Annotated[
    str | None, typer.Option("--period", help="Return period MMYYYY; default: latest.")
]


def _open(workspace: Path) -> Workspace:
    if not workspace.exists():
        raise UsageError(f"{workspace}: no workspace yet (run imsdata suggest first)")
    return Workspace(workspace)


def _month(ws: Workspace, gstin: str | None, period: str | None = None) -> dec.Month:
    """The workspace's latest month as every command sees it (`imsdata.decisions`)."""
    return dec.from_workspace(ws, gstin=gstin, period=period)


def export_command(
    workspace: WorkspaceOpt = Path(DEFAULT_WORKSPACE),
    out_dir: Annotated[
        Path, typer.Option("--out", "-o", help="Folder for save_001.json, reset_001.json...")
    ] = Path("upload"),
    only_failed: Annotated[
        bool,
        typer.Option("--only-failed", help="Only the documents the portal reported as failed."),
    ] = False,
    max_records: Annotated[
        int, typer.Option("--max-records", help="Most records per file (split beyond).")
    ] = DEFAULT_MAX_RECORDS,
    max_bytes: Annotated[
        int, typer.Option("--max-bytes", help="Largest file size in bytes (split beyond).")
    ] = DEFAULT_MAX_BYTES,
    api: Annotated[
        bool, typer.Option("--api", help='Wrap for the API channel: {"action","data"}.')
    ] = False,
    gstin: GstinOpt = None,
    rules: RulesOpt = None,
    period: PeriodOpt = None,
) -> None:
    """Write the upload JSON (SAVE, and RESET for documents back to No action) for the changed
    documents, after every record passes the portal guards; nothing is written on a violation.

    Example: `imsdata export --out upload --max-records 5000`
    """
    from imsdata.steps import export_from_workspace

    with _open(workspace) as ws:
        try:
            # rows recorded as "written", files written, rows confirmed (imsdata.upload_log)
            exported = export_from_workspace(
                ws,
                out_dir,
                gstin=gstin,
                period=period,
                rules=rules,
                only_failed=only_failed,
                max_records=max_records,
                max_bytes=max_bytes,
                api=api,
            )
        except GuardError as exc:
            _show_violations(exc)
            raise
    result, rtin = exported.upload, exported.month.rtin
    if result is None:
        out.print("no failed documents to upload again: nothing written")
        return
    review, conflicts = exported.left_for_review, exported.conflicts
    if review.height:
        err.print(
            f"[yellow]{review.height} decision(s) left out: the supplier changed the document "
            "since it was decided; decide again (imsdata suggest / decide)[/]"
        )
    if conflicts.height:
        err.print(
            f"[yellow]{conflicts.height} rule suggestion(s) conflict with an action taken on the "
            "portal and are not sent: decide them (imsdata review / decide)[/]"
        )
    skipped = result.payloads.skipped
    for (reason,), group in skipped.partition_by("reason", as_dict=True).items():
        err.print(f"[yellow]{group.height} decision(s) not uploaded: {reason}[/]")
    if not result.files:
        out.print("no changes to upload: every decision matches the portal; nothing written")
        return
    docs = result.payloads.documents()
    counts = docs.group_by("kind", "section", "action").len("records").sort(pl.all())
    out.print(frame_table(counts, title=f"Upload for {rtin}"))
    for item in result.files:
        out.print(f"wrote {item.path} ({len(item.doc_keys)} records)")


def _show_violations(exc: GuardError, limit: int = 200) -> None:
    """Every offending document and message on stderr (the error line itself is shortened)."""
    violations = getattr(exc, "violations", None)
    if violations is None or violations.is_empty():
        return
    shown = violations.sort("doc_key", "guard_id").head(limit)
    err.print(frame_table(shown, title=f"Export refused: {violations.height} guard violation(s)"))
    if violations.height > limit:
        err.print(f"... and {violations.height - limit} more")


def errors_command(
    report: Annotated[Path, typer.Argument(help="The portal's error report / status JSON.")],
    workspace: WorkspaceOpt = Path(DEFAULT_WORKSPACE),
    upload: Annotated[
        str | None,
        typer.Option("--upload", help="Upload id or file the report is for; default: the last."),
    ] = None,
) -> None:
    """Read the portal's error report for an upload: record the errors, mark every other uploaded
    document as processed by the portal, and list what to fix in plain words.

    Example: `imsdata errors status.json --upload save_001.json`
    """
    from imsdata.steps import answer_error_report

    errors = read_error_report(report)
    with _open(workspace) as ws:
        answered = answer_error_report(ws, errors, upload)
    upload_id, file, uploaded = answered.upload_id, answered.file, answered.uploaded
    matched, accepted = answered.matched, answered.accepted
    fix = to_fix(matched)
    unmatched = fix.filter(~pl.col("matched_document")).height
    out.print(
        f"{upload_id} ({file.name}): {uploaded.height} record(s) uploaded, "
        f"{accepted.height} processed by the portal, {fix.height} error(s) to fix"
        + (f", {unmatched} not matched to any document" if unmatched else "")
    )
    if fix.height:
        shown = fix.select("section", "supplier_gstin", "doc_number", "error_code", "advice")
        out.print(frame_table(shown, title="To fix"))
        out.print("fix them, then: imsdata export --only-failed")


def review_command(
    out_file: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write the review workbook (.xlsx).")
    ] = None,
    import_file: Annotated[
        Path | None, typer.Option("--import", help="Import an edited review workbook.")
    ] = None,
    workspace: WorkspaceOpt = Path(DEFAULT_WORKSPACE),
    gstin: GstinOpt = None,
    period: PeriodOpt = None,
    rules: RulesOpt = None,
    user: Annotated[str | None, typer.Option("--user", help="Who reviewed.")] = None,
    all_documents: Annotated[
        bool,
        typer.Option(
            "--all", help="Every document, not only those needing attention (still --limit)."
        ),
    ] = False,
    limit: Annotated[
        int | None,
        typer.Option(
            "--limit",
            help=f"Most documents written, biggest ITC first (default {DEFAULT_REVIEW_LIMIT:,}; "
            "0 = no limit).",
        ),
    ] = None,
) -> None:
    """Write an Excel review workbook (like the portal's offline tool), or import the edited one:
    changed actions and remarks become decisions (source excel), checked by the guards.

    The workbook holds the documents needing attention (not the routine automatic accepts of
    exact or within-tolerance matches), biggest ITC first up to --limit rows; its Home sheet and
    this command say how many were left out. A workbook with only some documents imports fine.

    Example: `imsdata review --out review.xlsx`, then `imsdata review --import review.xlsx`;
    every document: `imsdata review --out all.xlsx --all --limit 0`
    """
    from imsdata.review import row_limit
    from imsdata.rules import load_rules
    from imsdata.steps import import_review, write_review_of_workspace

    if (out_file is None) == (import_file is None):
        raise UsageError("give exactly one of --out FILE or --import FILE")
    ruleset = load_rules(rules)
    with _open(workspace) as ws:
        month = _month(ws, gstin, period)
        if month.period is None:
            raise UsageError("give --period MMYYYY: the download has no valid return period")
        if out_file is not None:
            scope = write_review_of_workspace(
                out_file, month, rules=ruleset, limit=row_limit(limit), all_documents=all_documents
            )
            out.print(
                f"wrote {out_file} for {month.rtin}, period {month.period}: {scope.message()}"
            )
            return
        assert import_file is not None
        if not import_file.exists():
            raise InputError(f"{import_file}: file not found")
        decisions = import_review(ws, import_file, month, rules=ruleset, user=user)
    if decisions.is_empty():
        out.print(f"{import_file}: no changed actions or remarks; nothing imported")
        return
    counts = decisions.group_by("action").len("documents").sort("action")
    out.print(frame_table(counts, title=f"Imported {decisions.height} decision(s) from Excel"))


def register(app: typer.Typer) -> None:
    """Add `export`, `errors` and `review` to the app."""
    app.command("export")(export_command)
    app.command("errors")(errors_command)
    app.command("review")(review_command)
