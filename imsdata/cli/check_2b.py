"""`imsdata check-2b`: does the generated GSTR-2B show what was decided in IMS? (issue 13)"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from imsdata.cli._common import err, frame_table, out
from imsdata.errors import InputError
from imsdata.workspace import DEFAULT_WORKSPACE


def check_2b_command(
    gstr2b: Annotated[Path, typer.Argument(help="The GSTR-2B JSON (portal or API provider).")],
    workspace: Annotated[
        Path,
        typer.Option(
            "--workspace", "-w", help="Workspace holding the IMS download and the decisions."
        ),
    ] = Path(DEFAULT_WORKSPACE),
    out_path: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Write the differences here (.csv or .parquet)."),
    ] = None,
) -> None:
    """Compare a GSTR-2B with the workspace's IMS decisions and list every difference.

    Accepted and deemed-accepted (no action) documents of the 2B's period should be in 2B with
    ITC available, rejected and pending ones should not, declared ITC reductions should be
    applied. Each difference names the document and what to do (recompute 2B, upload again).
    Exit 0 when 2B agrees, 1 when differences are listed (or an input cannot be read).

    Example: `imsdata check-2b GSTR2B_032025.json --workspace imsdata.duckdb`
    """
    from imsdata.check2b import check_2b, decisions_of
    from imsdata.fileio import write_frame
    from imsdata.portal import returns
    from imsdata.workspace import Workspace

    if not workspace.exists():
        raise InputError(f"{workspace}: no such workspace (run imsdata run or suggest first)")
    if not gstr2b.is_file():
        raise InputError(f"{gstr2b}: no such file")
    data = gstr2b.read_bytes()
    if returns.sniff(str(gstr2b), data) != "gstr2b":
        raise InputError(f"{gstr2b}: not a GSTR-2B (give the GSTR-2B JSON from the portal)")
    got = returns.read_return(str(gstr2b), data, "gstr2b")
    docs, period = got.documents, got.period
    with Workspace(workspace) as ws:
        ims = ws.latest_ims()
        decisions = decisions_of(ws.current_decisions())
    found = check_2b(docs, ims, decisions, period=period)
    if out_path is not None:
        write_frame(found, out_path)
    out.print(
        f"GSTR-2B {period or '?'}: {docs.height} documents; IMS: {ims.height} documents; "
        f"differences: {found.height}",
        soft_wrap=True,
    )
    if found.is_empty():
        out.print("GSTR-2B agrees with the IMS decisions.")
        return
    counts = found.group_by("difference", "to_do").len("documents").sort("difference")
    out.print(frame_table(counts, "Differences by kind, and what to do"))
    shown = found.select("difference", "supplier_gstin", "doc_number", "doc_date", "ims_action",
                         "detail").head(50)  # fmt: skip
    out.print(frame_table(shown, "Documents (first 50)" if found.height > 50 else "Documents"))
    if out_path is not None:
        out.print(f"wrote {out_path}")
    err.print(f"[yellow]{found.height} difference(s) between GSTR-2B and IMS[/yellow]")
    raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add `imsdata check-2b` to the app."""
    app.command("check-2b")(check_2b_command)
