"""Small helpers shared by the CLI verbs: consoles and summary tables (rich)."""

from __future__ import annotations

import polars as pl
from rich.console import Console
from rich.table import Table

#: Data and summaries go to stdout; progress and messages to stderr.
out = Console()
err = Console(stderr=True)


def frame_table(frame: pl.DataFrame, title: str | None = None) -> Table:
    """A rich table of a small frame: numbers right-aligned, money in Indian grouping."""
    from imsdata.report import format_inr

    table = Table(title=title)
    money = [isinstance(dtype, pl.Decimal) for dtype in frame.schema.values()]
    for name, dtype in frame.schema.items():
        table.add_column(name, justify="right" if dtype.is_numeric() else "left")
    for row in frame.iter_rows():
        table.add_row(
            *(
                "" if v is None else format_inr(v) if is_money else str(v)
                for v, is_money in zip(row, money, strict=True)
            )
        )
    return table
