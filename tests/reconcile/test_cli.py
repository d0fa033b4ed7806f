"""The `reconcile` and `explain` commands, on canonical parquet inputs."""

import subprocess
import sys

import polars as pl
import pytest
from typer.testing import CliRunner

from imsdata.cli import app
from imsdata.schemas import MATCH_COLUMNS
from imsdata.testing import ims_frame, register_frame

runner = CliRunner()


@pytest.fixture
def inputs(tmp_path):
    ims = tmp_path / "ims.parquet"
    reg = tmp_path / "register.parquet"
    ims_frame([{"doc_number": "INV-1"}, {"doc_number": "QKI/055190"}]).write_parquet(ims)
    register_frame([{"doc_number": "INV-1"}, {"doc_number": "QKI/053612"}]).write_parquet(reg)
    return ims, reg


def test_reconcile_writes_the_match_file_and_prints_a_summary(inputs, tmp_path):
    ims, reg = inputs
    out = tmp_path / "matches.csv"
    result = runner.invoke(app, ["reconcile", str(ims), "--register", str(reg), "--out", str(out)])
    assert result.exit_code == 0, result.output
    frame = pl.read_csv(out)
    assert frame.columns == list(MATCH_COLUMNS)
    assert sorted(frame["match_status"]) == ["exact", "missing_in_ims", "missing_in_register"]
    assert "missing_in_register" in result.stdout


def test_reconcile_uses_the_tolerance_file(inputs, tmp_path):
    ims, reg = inputs
    tol = tmp_path / "tol.toml"
    tol.write_text("[tolerances]\ndate_days = 3\n")
    out = tmp_path / "m.parquet"
    args = ["reconcile", str(ims), "-r", str(reg), "-o", str(out), "--tolerances", str(tol)]
    assert runner.invoke(app, args).exit_code == 0
    assert pl.read_parquet(out).height == 3


def test_explain_prints_candidates_and_failed_tests(inputs):
    ims, reg = inputs
    result = runner.invoke(
        app, ["explain", "QKI/055190", "--ims", str(ims), "--register", str(reg)]
    )
    assert result.exit_code == 0, result.output
    assert "numeric cores differ" in result.stdout


def test_help_has_an_example():
    for command in ("reconcile", "explain"):
        result = runner.invoke(app, [command, "--help"])
        assert result.exit_code == 0
        assert "Example" in result.stdout


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "imsdata", *args], capture_output=True, text=True, check=False
    )


def test_user_errors_exit_with_one_line_and_no_traceback(inputs, tmp_path):
    ims, reg = inputs
    bad = tmp_path / "bad.toml"
    bad.write_text("date_days = -1\n")
    result = run("reconcile", str(ims), "-r", str(reg), "-o", str(tmp_path / "m.csv"),
                 "--tolerances", str(bad))  # fmt: skip
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "bad.toml" in result.stderr
    usage = run("reconcile", str(ims), "-r", str(reg), "-o", str(tmp_path / "m.txt"))
    assert usage.returncode == 2
    unknown = run("explain", "NOPE-9", "--ims", str(ims), "--register", str(reg))
    assert unknown.returncode == 1
    assert "no IMS document matches 'NOPE-9'" in unknown.stderr


def test_reconcile_through_the_readers_finds_every_synth_pair(tmp_path):
    from imsdata.synth import generate, write

    data = generate(300, seed=11)
    files = write(data, tmp_path / "synth")
    out = tmp_path / "m.parquet"
    args = ["reconcile", str(files["ims"]), "-r", str(files["register"]), "-o", str(out)]
    args += ["--gstin", data.recipient_gstin]  # the bare download does not name the recipient
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    truth = pl.read_csv(files["truth"], infer_schema=False)
    pairs = truth.filter(pl.col("doc_key").is_not_null() & pl.col("register_id").is_not_null())
    found = pl.read_parquet(out).join(pairs, on=["doc_key", "register_id"], how="inner")
    assert found.height == pairs.height
    assert (found["match_status"] == found["expected_status"]).all()
