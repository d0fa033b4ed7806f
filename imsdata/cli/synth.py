"""`imsdata synth`: write a deterministic synthetic IMS download, register and ground truth."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from imsdata.cli._common import out


def synth_command(
    docs: Annotated[int, typer.Option("--docs", "-n", min=1, help="Number of cases to generate.")],
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Folder to write the files into.")],
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same files.")] = 7,
    period: Annotated[str, typer.Option(help="IMS (GSTR-2B) period, MMYYYY.")] = "102025",
    gstin: Annotated[
        str | None, typer.Option("--gstin", help="Recipient GSTIN (default: a built-in one).")
    ] = None,
) -> None:
    """Generate a synthetic month: ims_download.json, purchase_register.csv and truth.csv.

    The register books the IMS documents with controlled discrepancies (rounding, number formats,
    amendments, near misses...); truth.csv says how each record should reconcile.

    Example: `imsdata synth --docs 10000 --seed 7 --out synth-10k`
    """
    from imsdata.synth import generate, write

    data = generate(docs, seed=seed, recipient_gstin=gstin, period=period)
    paths = write(data, out_dir)
    records = sum(len(v) for v in data.download.values())
    counts = {"ims": records, "register": data.register_raw.height, "truth": data.truth.height}
    what = {"ims": "IMS records", "register": "register rows", "truth": "truth rows"}
    out.print(f"synthetic data for {data.recipient_gstin}, period {data.period}, seed {seed}:")
    for key, path in paths.items():
        out.print(f"  wrote {path} ({counts[key]} {what[key]})", soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add `imsdata synth` to the app."""
    app.command("synth")(synth_command)
