"""`imsdata run`: the routine month in one call (DESIGN.md, "The imsdata run contract").

ingest -> register -> reconcile -> suggest (decisions stored in the workspace) -> write
reconciliation.csv/.parquet, upload/, report.html (+ report.xlsx), review.xlsx into the output
folder. Each step is a library call; this module only wires them and reports progress.
"""

from __future__ import annotations

import contextlib
import dataclasses
import shutil
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from imsdata import decisions as dec
from imsdata import outdir, upload_log
from imsdata import reconcile as rec
from imsdata import report as rpt
from imsdata import rules as rl
from imsdata.engines import Engine
from imsdata.errors import GuardError, InputError
from imsdata.fileio import write_frame
from imsdata.portal import read as portal_read
from imsdata.portal import returns
from imsdata.register import read_register
from imsdata.review import DEFAULT_REVIEW_LIMIT, ReviewScope, write_review
from imsdata.workspace import Workspace, file_hash

#: Columns of reconciliation.csv/.parquet, in order (IMS side, books side, outcome, decision).
RECONCILIATION_COLUMNS: dict[str, pl.DataType] = {
    "section": pl.String(),
    "doc_type": pl.String(),
    "supplier_gstin": pl.String(),
    "supplier_name": pl.String(),
    "doc_number": pl.String(),
    "doc_date": pl.Date(),
    "taxable_value": pl.Decimal(18, 2),
    "total_tax": pl.Decimal(18, 2),
    "portal_action": pl.String(),
    "register_id": pl.String(),
    "register_supplier_gstin": pl.String(),
    "register_doc_number": pl.String(),
    "register_doc_date": pl.Date(),
    "register_taxable_value": pl.Decimal(18, 2),
    "register_total_tax": pl.Decimal(18, 2),
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


def _total_tax(prefix: str = "") -> pl.Expr:
    return pl.sum_horizontal(pl.col(f"{prefix}{h}") for h in ("igst", "cgst", "sgst", "cess"))


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
        "doc_date", "taxable_value", _total_tax().alias("total_tax"), "portal_action",
    )  # fmt: skip
    books = register.select(
        "register_id",
        pl.col("supplier_gstin").alias("register_supplier_gstin"),
        pl.col("doc_number").alias("register_doc_number"),
        pl.col("doc_date").alias("register_doc_date"),
        pl.col("taxable_value").alias("register_taxable_value"),
        _total_tax().alias("register_total_tax"),
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
        pl.lit("missing_in_ims").alias("match_status"),
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
            .then(pl.lit("no_action"))
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


@contextlib.contextmanager
def _noop_step(name: str) -> Iterator[None]:
    yield


def run(
    ims_paths: Sequence[str | Path],
    register_path: str | Path,
    *,
    gstin: str | None = None,
    rules: str | Path | None = None,
    register_id: str | None = None,
    out_dir: str | Path = "imsdata-out",
    workspace: str | Path = "imsdata.duckdb",
    period: str | None = None,
    tolerances: str | Path | None = None,
    mapping: str | Path | None = None,
    preset: str | None = None,
    review_limit: int | None = DEFAULT_REVIEW_LIMIT,
    review_all: bool = False,
    allow_empty_register: bool = False,
    step: Callable[[str], contextlib.AbstractContextManager] = _noop_step,
    engine: Engine | None = None,
) -> RunResult:
    """The whole month: read, reconcile, suggest, and write every file of the run contract.

    review.xlsx holds the documents needing attention (`review_all`: every one), biggest ITC
    first up to `review_limit` rows (None: no limit); `RunResult.review` says what was left out.
    The upload goes through `imsdata.decisions` (the same path as `imsdata export`): only what
    differs from the portal's last known state. A register with no in-scope rows writes no
    upload (a problem: exit 1) unless `allow_empty_register`. `engine` (e.g. a Spark engine,
    `imsdata.engines`) runs the reconciliation and the rules; default a DuckDB one each.
    """
    out = Path(out_dir)
    output = outdir.begin(out)  # checked before any state is written; never the user's files
    rule_set = rl.load_rules(rules)
    tol = rec.Tolerances.from_toml(tolerances) if tolerances else rec.Tolerances()
    with step("ingest"):
        ims_result = portal_read.read(list(ims_paths))
    with step("register"):
        reg_result = read_register(
            register_path, mapping=mapping, preset=preset, id_column=register_id
        )
    ims, register = ims_result.documents, reg_result.documents
    if ims.is_empty():
        raise InputError(f"{', '.join(map(str, ims_paths))}: no IMS document could be loaded")
    source = str(ims["source"][0]) if "source" in ims.columns else "ims"
    if source != "ims":  # a GSTR-2B/2A: reconciled against the books, nothing kept or uploaded
        workspace = ":memory:"
    recipient = dec.recipient_gstin(gstin, ims, register)
    # A bare download names no recipient: the documents are the recipient's own.
    ims = dec.with_recipient(ims, recipient)
    with Workspace(workspace) as ws:
        with step("reconcile"):
            # Books of every month imported before (issue 14): read before the imports start.
            book_period = rl.resolve_period(ims, period)
            books, claimed = _books_of_every_period(ws, register, book_period)
            # The workspace imports (DuckDB, the workspace file) run beside the reconciliation
            # (its own in-memory engine, closed when done: its temp tables are throw-away).
            with ThreadPoolExecutor(max_workers=1) as pool:
                imported = pool.submit(
                    _import_inputs, ws, ims, register, ims_paths, register_path, book_period
                )
                matches = rec.reconcile(
                    ims, books, tolerances=tol, period=book_period, claimed=claimed, engine=engine
                )
                ims_import = imported.result()
            ws.save_matches(matches)
        with step("suggest"):
            resolved = rl.resolve_period(ims, period)
            # the portal's last known state: the download plus the uploads it has processed
            ims = dec.portal_state(ims, ws.decision_log(), import_id=ims_import)
            suggestions = rl.suggest(ims, matches, rules=rule_set, period=resolved, engine=engine)
            ws.store_suggestions(suggestions)
            decisions = ws.current_decisions()
            previous = _previous_ims(ws)
    # The workspace is closed before writing: its buffer pool (up to the engine's memory limit)
    # is freed for the export, report and review.
    with step("write"), output.writing() as staging:
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
            previous=previous,
            review_limit=review_limit,
            review_all=review_all,
            allow_empty_register=allow_empty_register,
            workspace=workspace,
            into=staging,
        )
    if any(p.parent.name == "upload" for p in result.files) and source == "ims":
        with Workspace(workspace) as ws:  # the upload files are in place: confirm their rows
            upload_log.reconcile(ws)
    return result


def _import_inputs(
    ws: Workspace,
    ims: pl.DataFrame,
    register: pl.DataFrame,
    ims_paths: Sequence[str | Path],
    register_path: str | Path,
    book_period: str | None = None,
) -> str:
    """Store both snapshots in the workspace (by content hash: the same files again are no-ops);
    returns the IMS import's id."""
    info = ws.import_ims(ims, source_hash=dec.files_hash(list(ims_paths)), label="ims")
    ws.import_register(
        register, source_hash=file_hash(register_path), label="register", period=book_period
    )
    return info.import_id


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


def _previous_ims(ws: Workspace) -> pl.DataFrame | None:
    """The IMS snapshot imported before the latest one (for "changes since the previous")."""
    ids = ws.imports().filter(pl.col("kind") == "ims")["import_id"].to_list()
    return ws.ims(ids[-2]) if len(ids) > 1 else None


def _write_outputs(
    result: RunResult,
    rule_set,
    *,
    previous: pl.DataFrame | None,
    review_limit: int | None = DEFAULT_REVIEW_LIMIT,
    review_all: bool = False,
    allow_empty_register: bool = False,
    workspace: str | Path | None = None,
    into: Path | None = None,
) -> None:
    """Write the contract's files into `into` (the output folder's staging copy; default the
    output folder itself), each atomically.

    The upload (guards on every outgoing record: the memory peak) goes first, then the report,
    the review workbook and last the reconciliation frame's files, one after the other (side by
    side they gained ~1 s on 2 cores and raised the peak). Fills `result.reconciliation` and
    `files` (listed in the contract's order).
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
        built = rpt.build_report(
            result.ims,
            result.matches,
            result.decisions,
            previous=previous,
            gstin=rtin,
            period=result.period or "",
            register=result.register,
        )
        result.headline = dict(built.headline)
        return [
            rpt.write_html(built, out / "report.html"),
            rpt.write_excel(built, out / "report.xlsx"),
        ]

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
        )

    # the reconciliation frame is built last: the report's and review's peaks come without it
    report_files = report()
    result.review = review()
    table_files = tables()
    written = [*table_files, *upload_files, *report_files, result.review.path]
    result.files.extend(result.out_dir / p.relative_to(out) for p in written)
    result.review = dataclasses.replace(result.review, path=result.files[-1])


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
        .with_columns(pl.col("action").fill_null("no_action"))
        .group_by("action")
        .agg(
            pl.len().alias("documents"),
            # credit notes reduce ITC: they count negative
            pl.when(pl.col("doc_type") == "CN")
            .then(-_total_tax())
            .otherwise(_total_tax())
            .sum()
            .alias("itc"),
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
