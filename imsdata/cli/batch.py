"""`imsdata batch MANIFEST`: many clients × many months in one job (`imsdata.batch`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from imsdata.cli._common import err, frame_table, out


def batch_command(
    manifest: Annotated[Path, typer.Argument(help="CSV or TOML: gstin, period, ims, register.")],
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path(
        "imsdata-batch"
    ),
    engine: Annotated[str, typer.Option(help="duckdb (local processes) or spark.")] = "duckdb",
    workers: Annotated[int | None, typer.Option(min=1, help="Clients at a time.")] = None,
    memory: Annotated[str, typer.Option(help="DuckDB memory, split across workers.")] = "4GB",
    master: Annotated[str | None, typer.Option(help="Spark master (default local[2]).")] = None,
) -> None:
    """Run every client-month of a manifest like `imsdata run`, then one summary across clients.

    Each row's outputs go to OUT/GSTIN_PERIOD/; OUT/summary.parquet and OUT/summary.html
    list documents, matched %, ITC by action and ITC at risk per client. A client that fails is
    listed with its error and does not stop the others (exit code 1 if any failed).

    Example: `imsdata batch clients.csv --out batch-2025-10 --workers 4 --memory 8GB`
    """
    from imsdata.batch import read_manifest, run_batch

    items = read_manifest(manifest)

    def progress(row: dict) -> None:
        state = "ok" if row["status"] == "ok" else f"FAILED: {row['error']}"
        err.print(f"{row['gstin']} {row['period']}: {state} ({row['seconds']} s)", soft_wrap=True)

    summary = run_batch(
        items, out_dir, engine=engine, workers=workers, memory=memory, master=master,
        progress=progress,
    )  # fmt: skip
    shown = summary.select("gstin", "period", "status", "documents", "matched_pct", "itc_at_risk")
    out.print(frame_table(shown, f"Batch summary ({out_dir / 'summary.html'})"))
    failed = summary.filter(summary["status"] != "ok").height
    if failed:
        err.print(f"{failed} of {summary.height} client-months failed (see the summary)")
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add `imsdata batch` to the app."""
    app.command("batch")(batch_command)
