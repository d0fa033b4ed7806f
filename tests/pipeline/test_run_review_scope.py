"""`imsdata run`: review.xlsx holds what needs a look, and the run says what it left out."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import polars as pl
import pytest
from typer.testing import CliRunner

from imsdata.cli import app
from imsdata.pipeline import run
from imsdata.synth import generate, write

runner = CliRunner()


@pytest.fixture(scope="module")
def month(tmp_path_factory) -> dict[str, Path]:
    return write(generate(300, seed=5), tmp_path_factory.mktemp("month"))


def _rows_in_book(path: Path) -> int:
    wb = openpyxl.load_workbook(path, read_only=True)
    return sum(ws.max_row - 1 for ws in wb.worksheets[1:])


def test_run_review_limit_and_scope(month, tmp_path):
    result = run(
        [month["ims"]],
        month["register"],
        out_dir=tmp_path / "o",
        workspace=tmp_path / "w.duckdb",
        review_limit=10,
    )
    scope = result.review
    assert scope.documents == result.ims.height
    assert scope.written == 10 == _rows_in_book(tmp_path / "o" / "review.xlsx")
    assert scope.needing_attention > 10
    assert scope.left_out == result.ims.height - 10
    # the biggest ITC needing attention come first: nothing left out is bigger than what is in
    tax = result.ims.select(
        "doc_key", itc=pl.sum_horizontal(pl.col(h) for h in ("igst", "cgst", "sgst", "cess"))
    )
    book = openpyxl.load_workbook(tmp_path / "o" / "review.xlsx", read_only=True)
    written = {
        r[0] for ws in book.worksheets[1:] for r in ws.iter_rows(min_row=2, values_only=True)
    }
    smallest_in = tax.filter(pl.col("doc_key").is_in(list(written)))["itc"].min()
    needing = result.reconciliation.filter(
        pl.col("match_status").is_in(["probable", "mismatch", "pan_match", "missing_in_register"])
        & pl.col("doc_key").is_not_null()
        & ~pl.col("doc_key").is_in(list(written))
    )
    left = tax.join(needing.select("doc_key"), on="doc_key")["itc"].max()
    assert left <= smallest_in


def test_cli_run_says_how_many_review_rows_were_left_out(month, tmp_path):
    res = runner.invoke(
        app,
        ["run", str(month["ims"]), "--register", str(month["register"]),
         "--out", str(tmp_path / "o"), "--workspace", str(tmp_path / "w.duckdb"),
         "--review-limit", "5"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    said = " ".join(res.output.split())
    assert "review.xlsx: 5 of " in said
    assert "beyond the 5-row limit" in said
    assert "imsdata review --out FILE --all --limit 0" in said
    assert _rows_in_book(tmp_path / "o" / "review.xlsx") == 5
