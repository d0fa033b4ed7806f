"""`imsdata run` and `imsdata demo`: every file of the DESIGN.md contract, exit codes, rejects."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from imsdata.cli import app
from imsdata.pipeline import RECONCILIATION_COLUMNS, run
from imsdata.schemas import ACTIONS, MATCH_STATUSES
from imsdata.synth import generate, write

runner = CliRunner()


@pytest.fixture(scope="module")
def month(tmp_path_factory) -> dict[str, Path]:
    """A synthetic month of 400 documents written as the portal and an ERP would give them."""
    return write(generate(400, seed=11), tmp_path_factory.mktemp("month"))


@pytest.fixture(scope="module")
def done(month, tmp_path_factory):
    """The run's result and output folder."""
    out = tmp_path_factory.mktemp("out")
    result = run([month["ims"]], month["register"], out_dir=out, workspace=out / "ws.duckdb")
    return result, out


def test_run_writes_every_contract_file(done):
    _, out = done
    for name in ("reconciliation.csv", "reconciliation.parquet", "report.html", "review.xlsx"):
        assert (out / name).stat().st_size > 0, name
    payload = json.loads((out / "upload" / "save_001.json").read_text())
    assert payload["reqtyp"] == "SAVE"
    assert payload["invdata"]


def test_reconciliation_has_one_row_per_ims_document_and_unmatched_register_row(done):
    result, out = done
    frame = pl.read_parquet(out / "reconciliation.parquet")
    assert list(frame.columns) == list(RECONCILIATION_COLUMNS)
    ims_rows = frame.filter(pl.col("doc_key").is_not_null())
    assert sorted(ims_rows["doc_key"]) == sorted(result.ims["doc_key"])
    paired = set(ims_rows["register_id"].drop_nulls())
    books_only = frame.filter(pl.col("doc_key").is_null())
    # every register row is paired or reported as books-only (out-of-scope ones too)
    assert paired | set(books_only["register_id"]) == set(result.register["register_id"])
    out_of_scope = books_only.filter(pl.col("rule_id") == "out_of_scope")
    assert out_of_scope.height == result.register.filter(~pl.col("in_scope")).height > 0
    assert out_of_scope["reasons"].str.starts_with("out of IMS scope: ").all()
    assert set(frame["match_status"]) <= set(MATCH_STATUSES)
    assert set(frame["suggested_action"]) <= set(ACTIONS)
    assert frame["match_score"].is_between(0, 100).all()
    assert books_only["match_status"].unique().to_list() == ["missing_in_ims"]


def test_reconciliation_csv_matches_parquet_with_iso_dates(done):
    _, out = done
    csv = pl.read_csv(out / "reconciliation.csv", infer_schema=False)
    parquet = pl.read_parquet(out / "reconciliation.parquet")
    assert csv.height == parquet.height
    assert csv["doc_date"].drop_nulls().str.contains(r"^\d{4}-\d{2}-\d{2}$").all()


def test_register_id_is_the_voucher_column_and_row_number_when_absent(month, tmp_path):
    raw = pl.read_csv(month["register"], infer_schema=False)
    no_id = tmp_path / "no_id.csv"
    raw.drop("Voucher No").write_csv(no_id)
    result = run([month["ims"]], no_id, out_dir=tmp_path / "o", workspace=tmp_path / "w.duckdb")
    assert sorted(result.register["register_id"].cast(pl.Int64)) == list(range(1, raw.height + 1))
    named = run(
        [month["ims"]], month["register"], register_id="Voucher No",
        out_dir=tmp_path / "o2", workspace=tmp_path / "w2.duckdb",
    )  # fmt: skip
    assert set(named.register["register_id"]) == set(raw["Voucher No"])


def test_run_agrees_with_the_synthetic_ground_truth(month, done):
    result, _ = done
    truth = pl.read_csv(month["truth"], infer_schema=False)
    got = result.reconciliation.select(
        "doc_key", "register_id", pl.col("match_status").alias("got")
    )
    ims_side = truth.filter(pl.col("doc_key").is_not_null()).join(got, on="doc_key", how="left")
    books_side = truth.filter(pl.col("doc_key").is_null()).join(
        got.filter(pl.col("doc_key").is_null()).drop("doc_key"), on="register_id", how="left"
    )
    for side in (ims_side, books_side):
        wrong = side.filter(pl.col("got") != pl.col("expected_status"))
        assert wrong.is_empty(), wrong.select("kind", "expected_status", "got").head()


def test_rerun_is_deterministic(month, tmp_path):
    first = run(
        [month["ims"]], month["register"], out_dir=tmp_path / "a", workspace=tmp_path / "a.db"
    )
    again = run(
        [month["ims"]], month["register"], out_dir=tmp_path / "b", workspace=tmp_path / "b.db"
    )
    assert first.reconciliation.equals(again.reconciliation)
    assert (tmp_path / "a/reconciliation.csv").read_bytes() == (
        tmp_path / "b/reconciliation.csv"
    ).read_bytes()


def test_cli_run_exit_0_and_summary(month, tmp_path):
    res = runner.invoke(
        app,
        ["run", str(month["ims"]), "--register", str(month["register"]),
         "--out", str(tmp_path / "o"), "--workspace", str(tmp_path / "w.duckdb")],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "Documents by match status" in res.output
    assert "reconciliation.csv" in res.output


def test_cli_run_with_a_rejected_record_exits_1_and_writes_rejects(month, tmp_path):
    download = json.loads(month["ims"].read_text())
    download["b2b"][0]["idt"] = "31-02-2025"  # not a real date
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(download))
    out = tmp_path / "o"
    res = runner.invoke(
        app,
        ["run", str(bad), "--register", str(month["register"]), "--out", str(out),
         "--workspace", str(tmp_path / "w.duckdb")],
    )  # fmt: skip
    assert res.exit_code == 1
    rejects = pl.read_csv(out / "rejects.csv", infer_schema=False)
    assert rejects.filter(pl.col("value") == "31-02-2025").height == 1
    assert rejects["file"].str.ends_with("bad.json").all()
    # the other documents were still processed
    assert pl.read_parquet(out / "reconciliation.parquet").height > 300


def test_cli_bad_input_is_one_line_without_traceback(tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text('{"b2b": [')
    reg = tmp_path / "r.csv"
    reg.write_text("Supplier GSTIN,Bill No,Bill Date,Taxable Value\n")
    proc = subprocess.run(
        [sys.executable, "-m", "imsdata", "run", str(broken), "--register", str(reg),
         "--out", str(tmp_path / "o"), "--workspace", str(tmp_path / "w.duckdb")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert "broken.json" in proc.stderr


def test_cli_usage_error_exits_2(tmp_path):
    res = runner.invoke(app, ["run", str(tmp_path / "x.json")])  # no --register
    assert res.exit_code == 2


def test_demo_writes_contract_files_and_says_what_to_open(tmp_path):
    res = runner.invoke(app, ["demo", "--out", str(tmp_path / "demo")])
    assert res.exit_code == 0, res.output
    assert "report.html" in res.output
    assert (tmp_path / "demo" / "review.xlsx").exists()
    assert (tmp_path / "demo" / "reconciliation.csv").exists()
