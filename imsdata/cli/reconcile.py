"""`imsdata reconcile` and `imsdata explain`: thin commands over `imsdata.reconcile`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import polars as pl
import typer

from imsdata import decisions as dec
from imsdata.cli._common import err, frame_table, out
from imsdata.errors import InputError, UsageError
from imsdata.fileio import write_frame
from imsdata.schemas import IMS_COLUMNS, MATCH_STATUSES, REGISTER_COLUMNS, conform


def _canonical_parquet(path: Path, columns: dict[str, pl.DataType], what: str) -> pl.DataFrame:
    try:
        frame = pl.read_parquet(path)
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise InputError(f"{path}: cannot read {what} parquet ({exc})") from None
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(f"{path}: not a canonical {what} frame, lacks {missing[:5]}")
    return conform(frame, columns)


def load_ims(paths: list[Path], recipient: str | None = None) -> pl.DataFrame:
    """IMS documents from portal downloads (the IMS reader) or canonical .parquet frames;
    `recipient` fills the recipient GSTIN where the download did not carry one."""
    frames = [_canonical_parquet(p, IMS_COLUMNS, "IMS") for p in paths if p.suffix == ".parquet"]
    downloads = [p for p in paths if p.suffix != ".parquet"]
    if downloads:
        from imsdata.portal.read import read

        result = read(downloads)
        if result.rejects.height:
            records = result.rejects.select("file", "section", "index").unique().height
            err.print(f"[yellow]{records} IMS record(s) rejected by the reader[/]")
        frames.append(conform(result.documents, IMS_COLUMNS))
    ims = pl.concat(frames) if frames else pl.DataFrame(schema=IMS_COLUMNS)
    if recipient:
        ims = dec.with_recipient(ims, dec.recipient_gstin(recipient, ims))
    return ims


def load_month(
    paths: list[Path],
    register: Path,
    gstin: str | None,
    *,
    preset: str | None = None,
    id_column: str | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The IMS documents and register rows, with our GSTIN worked out as every command does
    (`imsdata.decisions.recipient_gstin`: --gstin, the download, the register)."""
    ims = load_ims(paths)
    reg = load_register(register, preset=preset, id_column=id_column)
    return dec.with_recipient(ims, dec.recipient_gstin(gstin, ims, reg)), reg


def load_register(
    path: Path, *, preset: str | None = None, id_column: str | None = None
) -> pl.DataFrame:
    """Register rows from a canonical .parquet frame or through the register reader."""
    if path.suffix == ".parquet" and not preset and not id_column:
        head = pl.read_parquet_schema(path) if path.exists() else {}
        if all(c in head for c in REGISTER_COLUMNS):
            return _canonical_parquet(path, REGISTER_COLUMNS, "register")
    from imsdata.register import read_register

    result = read_register(path, preset=preset, id_column=id_column)
    if result.rejects.height:
        rows = result.rejects["source_row"].n_unique()
        err.print(f"[yellow]{rows} register row(s) rejected by the reader[/]")
    return conform(result.documents, REGISTER_COLUMNS)


def _tolerances(path: Path | None):
    from imsdata.reconcile import Tolerances

    return Tolerances.from_toml(path) if path else Tolerances()


def reconcile_command(
    ims_paths: Annotated[
        list[Path], typer.Argument(help="IMS download(s): JSON, zip, folder, or .parquet.")
    ],
    register: Annotated[Path, typer.Option("--register", "-r", help="Purchase register.")],
    out_path: Annotated[Path, typer.Option("--out", "-o", help="Output .csv or .parquet.")],
    tolerances: Annotated[Path | None, typer.Option(help="Tolerance TOML file.")] = None,
    preset: Annotated[str | None, typer.Option(help="Register column preset.")] = None,
    register_id: Annotated[str | None, typer.Option(help="Register id column.")] = None,
    gstin: Annotated[
        str | None,
        typer.Option(help="Your GSTIN; default: from the download, else the register."),
    ] = None,
) -> None:
    """Pair IMS documents with purchase-register rows and write one row per outcome.

    Example: `imsdata reconcile ims.json --register purchases.csv --out matches.csv`
    """
    from imsdata.reconcile import reconcile

    if out_path.suffix.lower() not in {".csv", ".parquet"}:
        raise UsageError(f"{out_path}: --out must end in .csv or .parquet")
    tol = _tolerances(tolerances)
    ims, reg = load_month(ims_paths, register, gstin, preset=preset, id_column=register_id)
    matches = reconcile(ims, reg, tolerances=tol)
    write_frame(matches, out_path)
    counts = matches.group_by("match_status").len()
    summary = (
        pl.DataFrame({"match_status": list(MATCH_STATUSES)})
        .join(counts, on="match_status", how="left")
        .with_columns(pl.col("len").fill_null(0).alias("rows"))
        .select("match_status", "rows")
    )
    out.print(frame_table(summary, title=f"Reconciliation: {matches.height} rows"))
    err.print(f"wrote {out_path}")


def explain_command(
    doc: Annotated[str, typer.Argument(help="doc_key, document number, or GSTIN:NUMBER.")],
    ims_paths: Annotated[list[Path], typer.Option("--ims", help="IMS download(s).")],
    register: Annotated[Path, typer.Option("--register", "-r", help="Purchase register.")],
    tolerances: Annotated[Path | None, typer.Option(help="Tolerance TOML file.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="Candidates per document.")] = 5,
    preset: Annotated[str | None, typer.Option(help="Register column preset.")] = None,
    register_id: Annotated[str | None, typer.Option(help="Register id column.")] = None,
    gstin: Annotated[
        str | None,
        typer.Option(help="Your GSTIN; default: from the download, else the register."),
    ] = None,
) -> None:
    """Show the nearest register rows of a document and which test each one failed.

    Example: `imsdata explain 27AAPFU0939F1ZV:INV-42 --ims ims.json --register purchases.csv`
    """
    from imsdata.reconcile import explain

    tol = _tolerances(tolerances)
    ims, reg = load_month(ims_paths, register, gstin, preset=preset, id_column=register_id)
    table = explain(doc, ims, reg, tolerances=tol, limit=limit)
    for key in table["doc_key"].unique(maintain_order=True).to_list():
        out.print(f"[bold]{key}[/]", highlight=False)
        for row in table.filter(pl.col("doc_key") == key).iter_rows(named=True):
            if row["register_id"] is None:
                out.print(f"  {row['verdict']}", highlight=False)
                continue
            out.print(
                f"  {row['rank']}. register row {row['register_id']} ({row['doc_number']}, "
                f"{row['doc_date']}, taxable {row['taxable_value']}), closeness "
                f"{row['closeness']}: {row['verdict']}",
                highlight=False,
                soft_wrap=True,
            )
            out.print(
                f"     failed: {row['failed_tests'] or 'none'}", highlight=False, soft_wrap=True
            )
            out.print(f"     differences: {row['differences']}", highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add `reconcile` and `explain` to the app."""
    app.command("reconcile")(reconcile_command)
    app.command("explain")(explain_command)
