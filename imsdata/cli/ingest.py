"""`imsdata ingest`: IMS downloads -> one validated frame, with rejects and warnings beside it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import polars as pl
import typer

from imsdata.cli._common import frame_table, out
from imsdata.errors import InputError, UsageError

OUTPUT_SUFFIXES = (".parquet", ".csv")


def companion(out_path: Path, kind: str) -> Path:
    """The file written beside the output: `<stem>.<kind>.csv` (rejects, warnings, duplicates)."""
    return out_path.with_name(f"{out_path.stem}.{kind}.csv")


def ingest_command(
    paths: Annotated[
        list[Path],
        typer.Argument(help="IMS download(s): .json files, .zip archives of them, or folders."),
    ],
    out_path: Annotated[
        Path, typer.Option("--out", "-o", help="Where to write the documents: .parquet or .csv.")
    ],
    max_archive_mb: Annotated[
        int, typer.Option(min=1, help="Refuse a zip archive that inflates beyond this (MB).")
    ] = 2048,
) -> None:
    """Read IMS downloads (every section and envelope) into one validated document frame.

    Writes the documents to --out; the records that could not be loaded go to
    `<stem>.rejects.csv`, warnings to `<stem>.warnings.csv` and exact copies of a record already
    read (a download in overlapping parts) to `<stem>.duplicates.csv`. Rejected records do not
    stop the command (exit 0); a file that cannot be read at all does (exit 1).

    Example: `imsdata ingest downloads/ --out ims.parquet`
    """
    from imsdata.fileio import write_frame
    from imsdata.portal.read import read

    if out_path.suffix.lower() not in OUTPUT_SUFFIXES:
        raise UsageError(f"{out_path}: --out must end in .parquet or .csv")
    result = read(paths, max_archive_bytes=max_archive_mb * 1024 * 1024)
    write_frame(result.documents, out_path)
    written = {"documents": out_path}
    for kind in ("rejects", "warnings", "duplicates"):
        written[kind] = write_frame(getattr(result, kind), companion(out_path, kind))

    by = ["source", "section"] if "source" in result.documents.columns else ["section"]
    per_section = (
        result.documents.group_by(by)
        .len("documents")
        .sort(by)
        .with_columns(pl.col("documents").cast(pl.Int64))
    )
    out.print(frame_table(per_section, title="Documents read"))
    rejected = result.rejects.filter(pl.col("index").is_not_null())
    n_rejected = rejected.select("file", "section", "index").n_unique() if rejected.height else 0
    out.print(f"documents: {result.documents.height} -> {out_path}", soft_wrap=True)
    out.print(
        f"rejected records: {n_rejected} ({result.rejects.height} problems) "
        f"-> {written['rejects']}",
        soft_wrap=True,
    )
    out.print(f"warnings: {result.warnings.height} -> {written['warnings']}", soft_wrap=True)
    out.print(
        f"duplicates (exact copies, kept once): {result.duplicates.height} "
        f"-> {written['duplicates']}",
        soft_wrap=True,
    )
    if result.documents.is_empty():
        first = ""
        if rejected.height:
            r = rejected.row(0, named=True)
            first = (
                f"; first: {r['section']}[{r['index']}] {r['key']} {r['value']!r}: {r['reason']}"
            )
        raise InputError(
            f"{', '.join(map(str, paths))}: no document could be loaded ({n_rejected} record(s) "
            f"rejected, see {written['rejects']}){first}"
        )
    if n_rejected:
        out.print(
            f"note: {n_rejected} record(s) were not loaded; each is listed with its file, "
            "section, index, key, value and reason in the rejects file.",
            soft_wrap=True,
        )


def register(app: typer.Typer) -> None:
    """Add `imsdata ingest` to the app."""
    app.command("ingest")(ingest_command)
