"""`imsdata register`: read an ERP purchase register into the canonical frame (issue 3)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import polars as pl
import typer
from rich.table import Table

from imsdata.cli._common import err, out
from imsdata.errors import InputError, UsageError
from imsdata.fileio import write_frame
from imsdata.register import RegisterResult, presets, read_register
from imsdata.schemas import REGISTER_COLUMNS


def side_path(out_path: Path, kind: str) -> Path:
    """`<stem>.<kind>.csv` beside the output file (rejects, warnings)."""
    return out_path.with_name(f"{out_path.stem}.{kind}.csv")


def summary(result: RegisterResult) -> Table:
    """Counts a user checks first: read, in scope, out of scope by reason, rejects, warnings."""
    docs = result.documents
    rejected_rows = result.rejects["source_row"].n_unique()
    table = Table(title="register", show_header=False)
    table.add_column("what")
    table.add_column("count", justify="right")
    table.add_row("rows read", str(docs.height + rejected_rows))
    table.add_row("in IMS scope", str(docs["in_scope"].sum()))
    reasons = docs.filter(~pl.col("in_scope")).group_by("scope_reason").len().sort("scope_reason")
    for reason, count in reasons.iter_rows():
        table.add_row(f"out of scope: {reason}", str(count))
    for kind, count in docs.group_by("doc_type").len().sort("doc_type").iter_rows():
        table.add_row(f"document type {kind}", str(count))
    table.add_row("rows rejected", str(rejected_rows))
    table.add_row("warnings", str(result.warnings.height))
    return table


def mapping_table(result: RegisterResult) -> Table:
    """canonical field <- file header, for every field read."""
    table = Table(title="mapping used")
    table.add_column("field")
    table.add_column("header")
    for name, header in result.mapping_used.items():
        table.add_row(name, f"<- {header}")
    return table


def register(app: typer.Typer) -> None:
    """Add `imsdata register` to the app."""

    @app.command("register")
    def register_command(
        path: Annotated[Path, typer.Argument(help="Register export: .csv, .xlsx/.xls, .parquet.")],
        out_file: Annotated[
            Path, typer.Option("--out", "-o", help="Canonical frame to write (.parquet or .csv).")
        ],
        mapping: Annotated[
            Path | None, typer.Option("--mapping", help="TOML mapping file ([columns], [options]).")
        ] = None,
        preset: Annotated[
            str | None,
            typer.Option("--preset", help=f"Named ERP preset: {', '.join(presets())}."),
        ] = None,
        id_column: Annotated[
            str | None, typer.Option("--id-column", help="Your id column (e.g. 'Voucher No').")
        ] = None,
        sheet: Annotated[
            str | None, typer.Option("--sheet", help="Excel sheet (default: first with data).")
        ] = None,
    ) -> None:
        """Read a purchase register exported by any ERP and write the canonical frame.

        Headers are recognised from common spellings; `--preset` or `--mapping` override them.
        Rejected rows go to `<out stem>.rejects.csv` (row, column, value, reason), warnings to
        `<out stem>.warnings.csv`, both beside `--out` and always written (maybe empty).

        Example: `imsdata register purchases.xlsx --out register.parquet --preset tally`
        """
        targets = [out_file, side_path(out_file, "rejects"), side_path(out_file, "warnings")]
        if path.exists() and any(t.exists() and t.samefile(path) for t in targets):
            raise UsageError(f"{out_file}: --out would overwrite the input {path}; choose another")
        result = read_register(
            path, mapping=mapping, preset=preset, id_column=id_column, sheet=sheet
        )
        write_frame(result.documents.select(list(REGISTER_COLUMNS)), out_file)
        for note in result.notes:
            err.print(f"[dim]{note}[/]")
        out.print(summary(result))
        out.print(mapping_table(result))
        out.print(f"wrote {out_file}")
        for kind, frame in (("rejects", result.rejects), ("warnings", result.warnings)):
            target = side_path(out_file, kind)
            write_frame(frame, target)  # written even when empty: no stale file from a past run
            out.print(f"wrote {target} ({frame.height} line(s))")
        if result.documents.is_empty():
            rejected = result.rejects["source_row"].n_unique()
            first = ""
            if result.rejects.height:
                r = result.rejects.row(0, named=True)
                first = (
                    f"; first: row {r['source_row']} '{r['column']}' {r['value']!r}: {r['reason']}"
                )
            raise InputError(
                f"{path}: no register row could be read ({rejected} row(s) rejected, see "
                f"{side_path(out_file, 'rejects')}){first}"
            )
