"""`imsdata report`: the period-end report (HTML + Excel) from the workspace or from files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import polars as pl
import typer

from imsdata.cli._common import err, out
from imsdata.errors import UsageError

if TYPE_CHECKING:
    from imsdata.report import Report


def _from_workspace(path: Path, gstin: str | None = None) -> dict[str, pl.DataFrame | None]:
    """Latest snapshot (as the portal holds it now), its matches, current decisions, register
    and the previous snapshot, through `imsdata.decisions` like every command."""
    from imsdata.decisions import from_workspace
    from imsdata.steps import previous_ims
    from imsdata.workspace import Workspace

    if not path.exists():
        raise UsageError(f"workspace {path} does not exist (run imsdata suggest or imsdata run)")
    with Workspace(path) as ws:
        month = from_workspace(ws, gstin=gstin)
        previous = previous_ims(ws)
        return {
            "ims": month.ims,
            "matches": month.matches,
            "decisions": month.decisions,
            "register": ws.latest_register(),
            "previous": previous,
        }


def _from_files(
    ims_paths: list[Path],
    register: Path,
    previous: list[Path] | None,
    period: str | None,
    gstin: str | None = None,
) -> dict[str, pl.DataFrame | None]:
    """Read, reconcile and suggest through the library (no workspace involved)."""
    from imsdata.cli.reconcile import load_ims, load_month
    from imsdata.reconcile import reconcile
    from imsdata.rules import suggest

    ims, reg = load_month(ims_paths, register, gstin)
    matches = reconcile(ims, reg)
    return {
        "ims": ims,
        "matches": matches,
        "decisions": suggest(ims, matches, period=period).with_columns(source=pl.lit("rule")),
        "register": reg,
        "previous": load_ims(previous) if previous else None,
    }


def _recipient(ims: pl.DataFrame, gstin: str | None, register: pl.DataFrame | None) -> str:
    from imsdata.decisions import recipient_gstin

    return recipient_gstin(gstin, ims, register)


def report_command(
    workspace: Annotated[
        Path,
        typer.Option("--workspace", "-w", help="Workspace DuckDB file to report on."),
    ] = Path("imsdata.duckdb"),
    out_dir: Annotated[
        Path, typer.Option("--out", "-o", help="Folder for report.html and report.xlsx.")
    ] = Path("imsdata-out"),
    ims_paths: Annotated[
        list[Path] | None,
        typer.Option("--ims", help="Report on these IMS downloads instead of the workspace."),
    ] = None,
    register: Annotated[
        Path | None, typer.Option("--register", "-r", help="Purchase register (with --ims).")
    ] = None,
    previous: Annotated[
        list[Path] | None,
        typer.Option("--previous", help="The previous IMS download (with --ims), for changes."),
    ] = None,
    gstin: Annotated[
        str | None, typer.Option("--gstin", help="Recipient GSTIN; default: from the download.")
    ] = None,
    period: Annotated[
        str | None, typer.Option("--period", help="Return period MMYYYY; default: latest.")
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Date for ageing and deadlines, YYYY-MM-DD; default: today."),
    ] = None,
    filing: Annotated[
        str,
        typer.Option(
            "--filing",
            help="Your GSTR-3B filing frequency: monthly, or quarterly (QRMP; due the 22nd or"
            " 24th by your GSTIN's state). Sets the deadlines.",
        ),
    ] = "monthly",
) -> None:
    """Write the period-end report: report.html (opens offline) and report.xlsx.

    Reads the latest IMS download, its reconciliation and the current decisions from the
    workspace; or, with --ims and --register, reconciles and suggests from the files.

    Example: `imsdata report --workspace imsdata.duckdb --out month-end`

    Example: `imsdata report --ims ims.json --register purchases.csv --period 112025`
    """
    from imsdata.deadlines import check_frequency
    from imsdata.rules import resolve_period
    from imsdata.steps import write_report

    filing = check_frequency(filing)

    if ims_paths and register is None:
        raise UsageError("--ims needs --register (or leave both out to use the workspace)")
    if register is not None and not ims_paths:
        raise UsageError("--register needs --ims (or leave both out to use the workspace)")
    if previous and not ims_paths:
        raise UsageError("--previous goes with --ims; the workspace keeps its own history")
    when = None
    if as_of:
        try:
            when = dt.date.fromisoformat(as_of)
        except ValueError:
            raise UsageError(f"--as-of '{as_of}' is not a date YYYY-MM-DD") from None
    if ims_paths and register is not None:
        data = _from_files(ims_paths, register, previous, period, gstin)
    else:
        data = _from_workspace(workspace, gstin)
    ims, matches = data["ims"], data["matches"]
    if ims is None or matches is None:  # both readers always return frames
        raise UsageError("nothing to report on")
    used_period = resolve_period(ims, period)
    if used_period is None:
        raise UsageError("cannot tell the return period from the download: give --period")
    written = write_report(  # the same step as `imsdata run`
        out_dir,
        ims,
        matches,
        data["decisions"],
        gstin=_recipient(ims, gstin, data["register"]),
        period=used_period,
        previous=data["previous"],
        register=data["register"],
        as_of=when,
        frequency=filing,
    )
    _summary(written.report)
    for note in written.report.notes:
        err.print(f"note: {note}")
    for path in written.paths:
        out.print(f"wrote {path}")


def _summary(report: Report) -> None:
    from decimal import Decimal

    from rich.table import Table

    from imsdata.report.inr import format_count, format_inr

    h = report.headline
    table = Table(title=f"{report.gstin} · {report.period_label}")
    table.add_column("figure")
    table.add_column("₹ / count", justify="right")
    documents = h["documents"]  # headline values are Decimal money and int counts
    table.add_row("documents", format_count(documents if isinstance(documents, int) else None))
    for key, label in [
        ("itc_available", "ITC available (accepted + deemed)"),
        ("itc_accepted", "accepted"),
        ("itc_deemed", "deemed accepted (no action)"),
        ("itc_pending", "pending"),
        ("itc_rejected", "rejected"),
        ("itc_at_risk", "at risk"),
    ]:
        value = h[key]
        table.add_row(label, format_inr(value if isinstance(value, Decimal | int) else None))
    out.print(table)


def register(app: typer.Typer) -> None:
    """Add `report` to the app."""
    app.command("report")(report_command)
