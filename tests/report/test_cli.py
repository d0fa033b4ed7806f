"""`imsdata report`: from the workspace or from files, exit codes, files written."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from imsdata.cli import app
from imsdata.errors import UsageError
from imsdata.testing import RECIPIENT, ims_frame, register_frame

runner = CliRunner()


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    """Canonical parquet inputs: three invoices, one missing in the books, one extra booking."""
    ims = ims_frame(
        [
            {"doc_number": "INV-1", "supplier_name": "Alpha Traders"},
            {"doc_number": "INV-2", "taxable_value": "250000", "cgst": "22500", "sgst": "22500"},
            {"doc_number": "INV-3", "cgst": "450", "sgst": "450"},
        ]
    )
    register = register_frame(
        [
            {"doc_number": "INV-1"},
            {"doc_number": "INV-2", "taxable_value": "250000", "cgst": "22500", "sgst": "22500"},
            {"doc_number": "BOOK-9", "taxable_value": "500", "cgst": "45", "sgst": "45"},
        ]
    )
    previous = ims.head(2).with_columns(record_hash=pl.lit("old"))
    paths = {"ims": tmp_path / "ims.parquet", "register": tmp_path / "reg.parquet",
             "previous": tmp_path / "prev.parquet"}  # fmt: skip
    ims.write_parquet(paths["ims"])
    register.write_parquet(paths["register"])
    previous.write_parquet(paths["previous"])
    return paths


def test_report_from_files_writes_html_and_excel(files, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(
        app,
        ["report", "--ims", str(files["ims"]), "--register", str(files["register"]),
         "--previous", str(files["previous"]), "--period", "112025", "--out", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    page = (out / "report.html").read_text(encoding="utf-8")
    assert RECIPIENT in page
    assert "November 2025" in page
    sheets = pl.read_excel(out / "report.xlsx", sheet_id=0)
    assert "changes" in sheets
    rec = sheets["reconciliation"]
    statuses = dict(zip(rec["Reconciliation status"], rec["Documents"], strict=True))
    assert statuses["missing_in_register"] == 1
    assert statuses["missing_in_ims"] == 1
    assert "ITC available" in result.stdout
    assert "wrote" in result.stdout


def test_report_from_the_workspace(files, tmp_path: Path) -> None:
    from imsdata.reconcile import reconcile
    from imsdata.workspace import Workspace

    ims = pl.read_parquet(files["ims"])
    reg = pl.read_parquet(files["register"])
    ws_path = tmp_path / "ws.duckdb"
    with Workspace(ws_path) as ws:
        ws.import_ims(pl.read_parquet(files["previous"]), label="october")
        ws.import_ims(ims, label="november")
        ws.import_register(reg)
        ws.save_matches(reconcile(ims, reg))
        decisions = pl.DataFrame({"doc_key": [ims["doc_key"][1]], "action": ["pending"]})
        ws.append_decisions(decisions, source="manual", user="cfo")
    out = tmp_path / "ws-out"
    result = runner.invoke(
        app, ["report", "--workspace", str(ws_path), "--out", str(out), "--period", "112025"]
    )
    assert result.exit_code == 0, result.output
    sheets = pl.read_excel(out / "report.xlsx", sheet_id=0)
    itc = sheets["itc_summary"]
    pending = itc.filter(pl.col("Category") == "Pending").row(0, named=True)
    assert pending["ITC (₹)"] == 45000.0  # the person's decision counts
    changes = dict(zip(sheets["changes"]["Change"], sheets["changes"]["Documents"], strict=True))
    assert changes == {"added": 1, "changed": 2, "removed": 0}


def test_missing_workspace_is_a_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["report", "--workspace", str(tmp_path / "nope.duckdb"), "--out", str(tmp_path)]
    )
    # CliRunner calls the app, not the entry point: the UsageError (exit 2 there) surfaces here
    assert isinstance(result.exception, UsageError)
    assert "does not exist" in str(result.exception)
    assert not (tmp_path / "nope.duckdb").exists()


def test_ims_without_register_is_a_usage_error(files, tmp_path: Path) -> None:
    result = runner.invoke(app, ["report", "--ims", str(files["ims"]), "--out", str(tmp_path)])
    assert isinstance(result.exception, UsageError)
    assert "--register" in str(result.exception)


def test_bad_as_of_is_a_usage_error(files, tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["report", "--ims", str(files["ims"]), "--register", str(files["register"]),
         "--as-of", "30-11-2025", "--out", str(tmp_path)],
    )  # fmt: skip
    assert isinstance(result.exception, UsageError)
    assert "YYYY-MM-DD" in str(result.exception)


def test_help_has_an_example() -> None:
    result = runner.invoke(app, ["report", "--help"])
    assert result.exit_code == 0
    assert "Example" in result.stdout


def test_subprocess_bad_period_is_one_line_exit_2(files, tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "imsdata", "report", "--ims", str(files["ims"]), "--register",
         str(files["register"]), "--period", "2025-11", "--out", str(tmp_path / "o")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().startswith("error:")
    assert len(proc.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()
