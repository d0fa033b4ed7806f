"""`imsdata run`: the routine month in one call (DESIGN.md, "The imsdata run contract").

ingest -> register -> reconcile -> suggest (decisions stored in the workspace) -> write
reconciliation.csv/.parquet, upload/, report.html (+ report.xlsx), review.xlsx into the output
folder. Each step is a library call; this module only wires them and reports progress.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from imsdata import decisions as dec
from imsdata import outdir, upload_log
from imsdata import reconcile as rec
from imsdata import rules as rl
from imsdata.engines import Engine
from imsdata.errors import GuardError, InputError
from imsdata.fileio import write_frame
from imsdata.options import RunOptions
from imsdata.portal import read as portal_read
from imsdata.portal import returns
from imsdata.register import RegisterResult, read_register
from imsdata.review import DEFAULT_REVIEW_LIMIT, ReviewScope, write_review
from imsdata.schemas import MONEY, Action, MatchStatus, itc_sign, total_tax
from imsdata.steps import Step, no_progress, previous_ims, reconcile_and_suggest, write_report
from imsdata.workspace import Workspace

#: Columns of reconciliation.csv/.parquet, in order (IMS side, books side, outcome, decision).
RECONCILIATION_COLUMNS: dict[str, pl.DataType] = {
    "section": pl.String(),
    "doc_type": pl.String(),
    "supplier_gstin": pl.String(),
    "supplier_name": pl.String(),
    "doc_number": pl.String(),
    "doc_date": pl.Date(),
    "taxable_value": MONEY,
    "total_tax": MONEY,
    "portal_action": pl.String(),
    "register_id": pl.String(),
    "register_supplier_gstin": pl.String(),
    "register_doc_number": pl.String(),
    "register_doc_date": pl.Date(),
    "register_taxable_value": MONEY,
    "register_total_tax": MONEY,
    "match_status": pl.String(),
    "match_score": pl.Int32(),
    "reasons": pl.String(),
    "suggested_action": pl.String(),
    "rule_id": pl.String(),
    "suggestion_reason": pl.String(),
    "current_action": pl.String(),
    "decision_source": pl.String(),
    "doc_key": pl.String(),
    "portal_conflict": pl.String(),  # a rule's other action, withheld: the portal holds A/R/P
}

#: Register-only rows have nothing to act on in IMS: these rule ids say so.
BOOKS_ONLY_RULE = "books_only"
OUT_OF_SCOPE_RULE = "out_of_scope"


@dataclass
class RunResult:
    """What a run did: frames for notebooks, files written, counts and problems for the CLI."""

    out_dir: Path
    ims: pl.DataFrame
    register: pl.DataFrame
    matches: pl.DataFrame
    suggestions: pl.DataFrame
    decisions: pl.DataFrame
    reconciliation: pl.DataFrame
    rejects: pl.DataFrame
    warnings: pl.DataFrame = field(default_factory=pl.DataFrame)  # both readers' warnings
    source: str = "ims"  # ims / gstr2b / gstr2a: a return is reconciled, never uploaded
    files: list[Path] = field(default_factory=list)
    recipient_gstin: str | None = None
    period: str | None = None
    upload_message: str = ""
    problems: list[str] = field(default_factory=list)
    review: ReviewScope | None = None
    #: rule suggestions withheld: the portal holds a person's other action (decisions.conflicts)
    conflicts: pl.DataFrame = field(default_factory=lambda: pl.DataFrame())
    #: sanity warnings about the inputs, shown in the summary (no exit code of their own)
    upload_warnings: list[str] = field(default_factory=list)
    #: the report's headline figures (documents, ITC by action, ITC at risk): batch summaries
    headline: dict[str, object] = field(default_factory=dict)


def reconciliation_frame(
    ims: pl.DataFrame,
    register: pl.DataFrame,
    matches: pl.DataFrame,
    suggestions: pl.DataFrame,
    decisions: pl.DataFrame,
) -> pl.DataFrame:
    """One row per IMS document and per unmatched register row: both sides, outcome, decision."""
    docs = ims.select(
        "doc_key", "section", "doc_type", "supplier_gstin", "supplier_name", "doc_number",
        "doc_date", "taxable_value", total_tax().alias("total_tax"), "portal_action",
    )  # fmt: skip
    books = register.select(
        "register_id",
        pl.col("supplier_gstin").alias("register_supplier_gstin"),
        pl.col("doc_number").alias("register_doc_number"),
        pl.col("doc_date").alias("register_doc_date"),
        pl.col("taxable_value").alias("register_taxable_value"),
        total_tax().alias("register_total_tax"),
        pl.col("doc_type").alias("register_doc_type"),
    )
    sugg = suggestions.select(
        "doc_key",
        pl.col("action").alias("suggested_action"),
        "rule_id",
        pl.col("reason").alias("suggestion_reason"),
        (
            pl.col("conflict") if "conflict" in suggestions.columns else pl.lit(None, pl.String)
        ).alias("portal_conflict"),
    )
    current = decisions.select(
        "doc_key",
        pl.col("action").alias("current_action"),
        pl.col("source").alias("decision_source"),
    )
    # Out-of-scope register rows (no supplier GSTIN, reverse charge) never reach IMS; they are
    # listed as books-only so every register row is in the output.
    out_of_scope = register.filter(~pl.col("in_scope")).select(
        pl.lit(None, pl.String).alias("doc_key"),
        "register_id",
        pl.lit(MatchStatus.MISSING_IN_IMS).alias("match_status"),
        pl.lit(0, pl.Int32).alias("match_score"),
        pl.concat_str(pl.lit("out of IMS scope: "), pl.col("scope_reason")).alias("reasons"),
        pl.lit(True).alias("_out_of_scope"),
    )
    outcome = pl.concat(
        [
            matches.select("doc_key", "register_id", "match_status", "match_score", "reasons")
            .cast({"match_score": pl.Int32})
            .with_columns(_out_of_scope=pl.lit(False)),
            out_of_scope,
        ]
    )
    books_only = pl.col("doc_key").is_null()
    frame = (
        outcome.join(docs, on="doc_key", how="left", nulls_equal=False)
        .join(books, on="register_id", how="left", nulls_equal=False)
        .join(sugg, on="doc_key", how="left", nulls_equal=False)
        .join(current, on="doc_key", how="left", nulls_equal=False)
        .with_columns(
            doc_type=pl.coalesce("doc_type", "register_doc_type"),
            suggested_action=pl.when(books_only)
            .then(pl.lit(Action.NO_ACTION))
            .otherwise("suggested_action"),
            rule_id=pl.when(pl.col("_out_of_scope"))
            .then(pl.lit(OUT_OF_SCOPE_RULE))
            .when(books_only)
            .then(pl.lit(BOOKS_ONLY_RULE))
            .otherwise("rule_id"),
            suggestion_reason=pl.when(pl.col("_out_of_scope"))
            .then(pl.lit("not an IMS document: nothing to act on in IMS"))
            .when(books_only)
            .then(
                pl.lit("in the books only: nothing to act on in IMS; ask the supplier to report it")
            )
            .otherwise("suggestion_reason"),
        )
    )
    return frame.select(pl.col(n).cast(t) for n, t in RECONCILIATION_COLUMNS.items()).sort(
        pl.col("doc_key").is_null(),
        pl.coalesce("supplier_gstin", "register_supplier_gstin"),
        pl.coalesce("doc_date", "register_doc_date"),
        pl.coalesce("doc_number", "register_doc_number"),
        "register_id",
        nulls_last=True,
        maintain_order=True,
    )


def _rejects(
    ims_result: portal_read.IngestResult, reg_result, kind: str = "rejects"
) -> pl.DataFrame:
    """Both readers' rejects (or `kind`: warnings) in one frame: file, record, field, value,
    reason."""
    ims_part = getattr(ims_result, kind).select(
        pl.lit("ims").alias("input"),
        pl.col("file"),
        pl.concat_str(
            pl.col("section"), pl.lit("["), pl.col("index").cast(pl.String), pl.lit("]")
        ).alias("record"),
        pl.col("key").alias("field"),
        pl.col("value").cast(pl.String),
        pl.col("reason"),
    )
    reg_part = getattr(reg_result, kind).select(
        pl.lit("register").alias("input"),
        pl.col("source_file").alias("file"),
        pl.concat_str(pl.lit("row "), pl.col("source_row").cast(pl.String)).alias("record"),
        pl.coalesce("column", "field").alias("field"),
        pl.col("value").cast(pl.String),
        pl.col("reason"),
    )
    return pl.concat([ims_part, reg_part], how="vertical_relaxed")


def run(
    ims_paths: Sequence[str | Path],
    register_path: str | Path,
    options: RunOptions | None = None,
    *,
    step: Step = no_progress,
    engine: Engine | None = None,
    **changes: Any,
) -> RunResult:
    """The whole month: read, reconcile, suggest, and write every file of the run contract.

    `options` (`RunOptions`; keywords of the same names override its fields, a misspelt one is a
    TypeError). review.xlsx holds the documents needing attention (`review_all`: every one),
    biggest ITC first up to `review_limit` rows (None: no limit); `RunResult.review` says what
    was left out. The upload goes through `imsdata.decisions` (the same path as `imsdata
    export`): only what differs from the portal's last known state. A register with no in-scope
    rows writes no upload (a problem: exit 1) unless `allow_empty_register`. `engine` (e.g. a
    Spark engine, `imsdata.engines`) runs the reconciliation and the rules; default a DuckDB one
    each.
    """
    opts = dataclasses.replace(options or RunOptions(), **changes)
    out = Path(opts.out_dir)
    output = outdir.begin(out)  # checked before any state is written; never the user's files
    workspace = opts.workspace
    rule_set = rl.load_rules(opts.rules)
    tol = rec.Tolerances.from_toml(opts.tolerances) if opts.tolerances else rec.Tolerances()

    def books() -> RegisterResult:
        with step("register"):
            return read_register(
                register_path, mapping=opts.mapping, preset=opts.preset, id_column=opts.register_id
            )

    # The two inputs are read side by side (polars, Arrow and DuckDB release the GIL): ~0.5 s
    # of a 200k month's wall. A refused register still stops the run with its own line.
    with ThreadPoolExecutor(max_workers=1) as pool:
        with step("ingest"):
            reading = pool.submit(books) if opts.side_by_side else None
            ims_result = portal_read.read(list(ims_paths))
        reg_result = reading.result() if reading else books()
    ims, register = ims_result.documents, reg_result.documents
    if ims.is_empty():
        raise InputError(f"{', '.join(map(str, ims_paths))}: no IMS document could be loaded")
    source = str(ims["source"][0]) if "source" in ims.columns else "ims"
    if source != "ims":  # a GSTR-2B/2A: reconciled against the books, nothing kept or uploaded
        workspace = ":memory:"
    recipient = dec.recipient_gstin(opts.gstin, ims, register)
    # A bare download names no recipient: the documents are the recipient's own.
    ims = dec.with_recipient(ims, recipient)
    with Workspace(workspace) as ws:
        done = reconcile_and_suggest(
            ws,
            ims,
            register,
            ims_paths=ims_paths,
            register_path=register_path,
            rules=rule_set,
            tolerances=tol,
            period=opts.period,
            step=step,
            engine=engine,
        )
    ims, matches, suggestions = done.ims, done.matches, done.suggestions
    decisions, resolved = done.decisions, done.period
    # The workspace is closed before writing: its buffer pool (up to the engine's memory limit)
    # is freed for the export, report and review.
    with output.writing() as staging:
        result = RunResult(
            out_dir=out,
            ims=ims,
            register=register,
            matches=matches,
            suggestions=suggestions,
            decisions=decisions,
            reconciliation=pl.DataFrame(),  # built by _write_outputs, after the upload's peak
            rejects=_rejects(ims_result, reg_result),
            warnings=_rejects(ims_result, reg_result, "warnings"),
            source=source,
            recipient_gstin=recipient,
            period=resolved,
        )
        del ims_result, reg_result  # the readers' frames live on in `result` only
        result.conflicts = dec.conflicts(ims, suggestions)
        result.upload_warnings = dec.register_warnings(register, ims, resolved)
        _write_outputs(
            result,
            rule_set,
            review_limit=opts.review_limit,
            review_all=opts.review_all,
            allow_empty_register=opts.allow_empty_register,
            workspace=workspace,
            generated_at=opts.generated_at,
            into=staging,
            step=step,
            side_by_side=opts.side_by_side,
        )
    if any(p.parent.name == "upload" for p in result.files) and source == "ims":
        with Workspace(workspace) as ws:  # the upload files are in place: confirm their rows
            upload_log.reconcile(ws)
    return result


#: Up to this many IMS documents the report is written beside the review workbook and the tables
#: (200k: 1-2 s less wall on 2 cores, peak +~0.2 GB); above it one after the other (at 1M the
#: month's memory peak, ~4 GB, is close to these steps' own).
SIDE_BY_SIDE_DOCUMENTS = 400_000


def _write_outputs(
    result: RunResult,
    rule_set,
    *,
    review_limit: int | None = DEFAULT_REVIEW_LIMIT,
    review_all: bool = False,
    allow_empty_register: bool = False,
    workspace: str | Path,
    generated_at: dt.datetime | None = None,
    into: Path | None = None,
    step: Step = no_progress,
    side_by_side: bool = True,
) -> None:
    """Write the contract's files into `into` (the output folder's staging copy; default the
    output folder itself), each atomically; one `step` each: upload, report, review, tables.

    The upload (guards on every outgoing record: the memory peak) goes first. Then the report
    beside the review workbook and the reconciliation frame's files (`side_by_side`), for months
    up to SIDE_BY_SIDE_DOCUMENTS; bigger ones write them one after the other, as side by side
    they would raise the month's memory peak. Fills `result.reconciliation` and `files` (listed in
    the contract's order).
    """
    out = into or result.out_dir
    out.mkdir(parents=True, exist_ok=True)
    if result.rejects.height:
        first = result.rejects.row(0, named=True)
        result.problems.append(
            f"{result.rejects.height} input record(s) rejected, see "
            f"{result.out_dir / 'rejects.csv'}; first: "
            f"{first['file']} {first['record']} {first['field'] or ''}: {first['reason']}"
        )
    upload_dir = out / "upload"
    shutil.rmtree(upload_dir, ignore_errors=True)  # stale files from an earlier run would mislead
    rtin = result.recipient_gstin or ""
    upload_files: list[Path] = []
    month = dec.Month(
        ims=result.ims,
        matches=result.matches,
        decisions=result.decisions,
        rtin=rtin,
        period=result.period,
    )
    if result.source != "ims":
        result.upload_message = "upload not written"
        result.problems.append(
            f"upload not written: the download is a {returns.TITLES[result.source]}, not the IMS "
            "download: IMS actions are uploaded against the IMS download (this run only reconciles)"
        )
    elif not allow_empty_register and not dec.has_in_scope_rows(result.register):
        result.upload_message = "upload not written"
        result.problems.append(
            "upload not written: the register has no in-scope rows, so every document would be "
            "judged 'missing in register'; check the file, or pass --allow-empty-register"
        )
    else:
        with step("upload"):
            try:
                # recorded in the workspace (so that `imsdata errors` can answer it) under the
                # files' final place; confirmed once the output folder is swapped in (`run`)
                with Workspace(workspace) as ws:
                    export = dec.export(
                        month,
                        upload_dir,
                        rules=rule_set,
                        ws=ws,
                        recorded_dir=result.out_dir / "upload",
                    )
                upload_files = export.paths
                result.upload_message = (
                    f"{len(export.paths)} upload file(s) in {result.out_dir / 'upload'}"
                    if export.paths
                    else "no upload needed: no decision differs from the portal"
                )
                del export
            except GuardError as exc:
                result.upload_message = "upload not written"
                result.problems.append(f"upload not written: {exc}")
    upload_dir.mkdir(parents=True, exist_ok=True)

    def tables() -> list[Path]:
        result.reconciliation = reconciliation_frame(
            result.ims, result.register, result.matches, result.suggestions, result.decisions
        )
        paths = [
            write_frame(result.reconciliation, out / "reconciliation.csv"),
            write_frame(result.reconciliation, out / "reconciliation.parquet"),
        ]
        if result.rejects.height:
            paths.append(write_frame(result.rejects, out / "rejects.csv"))
        paths.append(write_frame(result.warnings, out / "warnings.csv"))
        return paths

    def report() -> list[Path]:
        # the previous download is read only now, not held through the upload (1M: ~1 GB)
        with Workspace(workspace) as ws:
            previous = previous_ims(ws)
        written = write_report(  # the same step as `imsdata report`
            out,
            result.ims,
            result.matches,
            result.decisions,
            gstin=rtin,
            period=result.period or "",
            previous=previous,
            register=result.register,
            generated_at=generated_at,
        )
        result.headline = dict(written.report.headline)
        return written.paths

    def review() -> ReviewScope:
        return write_review(
            out / "review.xlsx",
            result.ims,
            result.matches,
            result.suggestions,
            result.decisions,
            rtin=rtin,
            period=result.period or "",
            limit=review_limit,
            all_documents=review_all,
            created=generated_at,
        )

    def review_then_tables() -> tuple[ReviewScope, list[Path]]:
        with step("review"):
            scope = review()
        with step("tables"):
            return scope, tables()

    if side_by_side and result.ims.height <= SIDE_BY_SIDE_DOCUMENTS:
        # the report beside the review and the tables (polars, zlib and DuckDB release the GIL)
        with ThreadPoolExecutor(max_workers=1) as pool:
            with step("report"):
                rest = pool.submit(review_then_tables)
                report_files = report()
            scope, table_files = rest.result()
    else:
        # one after the other, the reconciliation frame last: the report's and review's peaks
        # come without it
        with step("report"):
            report_files = report()
        scope, table_files = review_then_tables()
    written = [*table_files, *upload_files, *report_files, scope.path]
    result.files.extend(result.out_dir / p.relative_to(out) for p in written)
    result.review = dataclasses.replace(scope, path=result.files[-1])


def summary_tables(result: RunResult) -> dict[str, pl.DataFrame]:
    """The final summary: documents by status and action, ITC by action, files written."""
    rec_frame = result.reconciliation
    by_status = (
        rec_frame.group_by("match_status", "suggested_action")
        .len("documents")
        .sort("match_status", "suggested_action")
    )
    itc = (
        result.ims.join(result.decisions.select("doc_key", "action"), on="doc_key", how="left")
        .with_columns(pl.col("action").fill_null(Action.NO_ACTION))
        .group_by("action")
        .agg(
            pl.len().alias("documents"),
            # credit notes reduce ITC: they count negative
            (itc_sign() * total_tax()).sum().alias("itc"),
        )
        .sort("action")
    )
    files = pl.DataFrame(
        {
            "file in " + str(result.out_dir): [
                str(p.relative_to(result.out_dir)) for p in result.files
            ]
        }
    )
    return {"by_status": by_status, "itc_by_action": itc, "files": files}
