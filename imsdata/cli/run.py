"""`imsdata run` (the month in one command, DESIGN.md contract) and `imsdata demo`."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from imsdata.cli._common import err, frame_table, out
from imsdata.errors import InputError
from imsdata.options import RunOptions
from imsdata.review import DEFAULT_REVIEW_LIMIT, row_limit

STEP_LABELS = {
    "ingest": "Reading the IMS download",
    "register": "Reading the purchase register",
    "reconcile": "Reconciling (DuckDB)",
    "suggest": "Suggesting actions (rule engine)",
    "upload": "Writing the upload (every guard checked)",
    "report": "Writing the report (HTML and Excel)",
    "review": "Writing the review workbook",
    "tables": "Writing reconciliation.csv / .parquet",
}


@contextlib.contextmanager
def _progress() -> Iterator:
    """A rich progress display on stderr; yields a context-manager factory, one per step."""
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=False,
        redirect_stdout=False,  # the summary goes to stdout after the bars; no proxying
        redirect_stderr=False,
    ) as progress:

        @contextlib.contextmanager
        def step(name: str) -> Iterator[None]:
            task = progress.add_task(STEP_LABELS.get(name, name), total=1)
            yield
            progress.update(task, completed=1)

        yield step


def _run(ims_paths: list[Path], register: Path, options: RunOptions) -> None:
    """Run the pipeline with progress bars, print the summary; exit 1 on rejects or refusals."""
    from imsdata.outdir import begin
    from imsdata.pipeline import run, summary_tables
    from imsdata.workspace_file import check_path

    # a refused --out or --workspace is one line, before any progress or state
    begin(options.out_dir)
    check_path(Path(options.workspace))
    with _progress() as step:
        result = run(ims_paths, register, options, step=step)
    tables = summary_tables(result)
    out.print(
        f"[bold]imsdata run[/bold]: {result.ims.height} IMS documents, "
        f"{result.register.height} register rows, GSTIN {result.recipient_gstin or '?'}, "
        f"period {result.period or '?'}"
    )
    out.print(frame_table(tables["by_status"], "Documents by match status and suggested action"))
    out.print(frame_table(tables["itc_by_action"], "ITC by current action (credit notes negative)"))
    out.print(frame_table(tables["files"], "Files written"))
    for kind in ("rejects", "warnings"):  # nothing hidden: every reason counted (issue 13)
        frame = getattr(result, kind)
        if frame.height:
            counts = frame.group_by("input", "reason").len("rows")
            counts = counts.sort(["rows", "input", "reason"], descending=[True, False, False])
            out.print(frame_table(counts, f"{kind.capitalize()} by reason ({kind}.csv)"))
    out.print(result.upload_message)
    if result.conflicts.height:
        shown = result.conflicts.select(
            "supplier_gstin", "doc_number", "portal_action", "suggested", "rule_id"
        )
        out.print(
            frame_table(
                shown.head(20),
                f"{result.conflicts.height} conflict(s) with the portal: a rule disagrees with an "
                "action a person took on the portal; not sent (review.xlsx column "
                "'Conflict with portal')",
            )
        )
    for warning in result.upload_warnings:
        err.print(f"[yellow]warning:[/yellow] {warning}", soft_wrap=True)
    if result.review is not None:
        out.print(f"review.xlsx: {result.review.message()}", soft_wrap=True)
    for problem in result.problems:
        err.print(f"[yellow]warning:[/yellow] {problem}", soft_wrap=True)
    if result.problems:
        # Outputs are written for every good record; exit 1 tells automation to look.
        raise typer.Exit(1)


def run_command(
    ims: Annotated[list[Path], typer.Argument(help="IMS download(s): .json, .zip or folders.")],
    register: Annotated[Path, typer.Option("--register", "-r", help="Purchase register file.")],
    gstin: Annotated[
        str | None, typer.Option(help="Recipient GSTIN (default: from the download).")
    ] = None,
    rules: Annotated[
        Path | None, typer.Option(help="Rule file (TOML); default: bundled rules.")
    ] = None,
    register_id: Annotated[
        str | None, typer.Option("--register-id", help="Register column holding your id.")
    ] = None,
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path(
        "imsdata-out"
    ),
    workspace: Annotated[Path, typer.Option("--workspace", "-w", help="Workspace file.")] = Path(
        "imsdata.duckdb"
    ),
    period: Annotated[
        str | None, typer.Option(help="IMS period MMYYYY (default: most common supplier period).")
    ] = None,
    tolerances: Annotated[Path | None, typer.Option(help="Tolerances file (TOML).")] = None,
    mapping: Annotated[Path | None, typer.Option(help="Register column mapping (TOML).")] = None,
    preset: Annotated[str | None, typer.Option(help="Register preset, e.g. tally.")] = None,
    review_limit: Annotated[
        int | None,
        typer.Option(
            "--review-limit",
            help="Most documents in review.xlsx, biggest ITC first "
            f"(default {DEFAULT_REVIEW_LIMIT:,}; "
            "0 = no limit).",
        ),
    ] = None,
    review_all: Annotated[
        bool,
        typer.Option(
            "--review-all",
            help="review.xlsx holds every document, not only those needing attention.",
        ),
    ] = False,
    allow_empty_register: Annotated[
        bool,
        typer.Option(
            "--allow-empty-register",
            help="Write the upload even when the register has no in-scope rows.",
        ),
    ] = False,
    generated_at: Annotated[
        dt.datetime | None,
        typer.Option(
            "--generated-at",
            hidden=True,
            help="Time (UTC) written into the report and workbooks; fixed: reproducible bytes.",
        ),
    ] = None,
) -> None:
    """The month in one command: ingest, register, reconcile, suggest, and write
    reconciliation.csv/.parquet, upload/, report.html and review.xlsx into --out.

    Exit 0 when done; 1 when an input was rejected (rejects.csv names file, record and reason;
    every good record is still processed), the upload was refused by a guard, or the register has
    no in-scope rows (no upload is written unless --allow-empty-register); 2 on usage errors.

    Example: `imsdata run ims_download.json --register purchase_register.csv --out 2025-10`
    """
    missing = [p for p in [*ims, register] if not p.exists()]
    if missing:
        raise InputError(f"{missing[0]}: no such file or folder")
    options = RunOptions(
        gstin=gstin,
        rules=rules,
        register_id=register_id,
        out_dir=out_dir,
        workspace=workspace,
        period=period,
        tolerances=tolerances,
        mapping=mapping,
        preset=preset,
        review_limit=row_limit(review_limit),
        review_all=review_all,
        allow_empty_register=allow_empty_register,
        generated_at=generated_at.replace(tzinfo=dt.UTC) if generated_at else None,
    )
    _run(ims, register, options)


def demo_command(
    out_dir: Annotated[
        Path, typer.Option("--out", "-o", help="Folder for the demo's output.")
    ] = Path("demo-out"),
) -> None:
    """Run the whole pipeline on the bundled sample into a new (or its own earlier) folder, then
    say what to open.

    Example: `imsdata demo --out demo-out`
    """
    from imsdata.sample import sample_paths

    paths = sample_paths()
    # the out folder is checked and swapped by the pipeline (imsdata.outdir): the user's files
    # in it, and the demo's own workspace, are kept
    ws = out_dir / "imsdata.duckdb"
    _run([paths["ims"]], paths["register"], RunOptions(out_dir=out_dir, workspace=ws))
    out.print(
        "\n[bold]Next:[/bold]\n"
        f"  open {out_dir / 'report.html'} in a browser (the period-end report)\n"
        f"  open {out_dir / 'review.xlsx'} in Excel: change actions, then "
        f"`imsdata review --import {out_dir / 'review.xlsx'} --workspace {ws}`\n"
        f"  look at {out_dir / 'reconciliation.csv'} and the JSON in {out_dir / 'upload'}\n"
        "  or explore it in JupyterLab: `make lab` (installs the notebooks extra, opens "
        "notebooks/)",
        soft_wrap=True,
    )


def register(app: typer.Typer) -> None:
    """Add `imsdata run` and `imsdata demo` to the app."""
    app.command("run")(run_command)
    app.command("demo")(demo_command)
