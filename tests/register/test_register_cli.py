"""`imsdata register`: writes the canonical frame, rejects and warnings; exit codes 0 / 1 / 2."""

from __future__ import annotations

import subprocess
import sys

import polars as pl
from register_helpers import make_rows
from typer.testing import CliRunner

from imsdata.cli import app
from imsdata.errors import InputError
from imsdata.schemas import REGISTER_COLUMNS

runner = CliRunner()


def test_register_writes_frame_rejects_and_summary(write_csv, tmp_path):
    path = write_csv(make_rows({}, {"IGST": "x"}, {"Supplier GSTIN": ""}, {"Reverse Charge": "Y"}))
    out = tmp_path / "out" / "register.parquet"
    result = runner.invoke(app, ["register", str(path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    frame = pl.read_parquet(out)
    assert frame.schema == pl.Schema(REGISTER_COLUMNS)
    assert frame["source_row"].to_list() == [1, 3, 4]
    rejects = pl.read_csv(tmp_path / "out" / "register.rejects.csv")
    assert rejects.select("source_row", "column", "value", "reason").rows() == [
        (2, "IGST", "x", "unparseable amount")
    ]
    assert (tmp_path / "out" / "register.warnings.csv").exists()
    text = " ".join(result.output.split())
    for line in ("rows read │ 4", "in IMS scope │ 1", "out of scope: blank supplier GSTIN │ 1",
                 "out of scope: reverse charge │ 1", "rows rejected │ 1",
                 "doc_date │ <- Bill Date", "voucher_date │ <- Voucher Date"):  # fmt: skip
        assert line in text, line


def test_register_to_csv_with_preset_and_id_column(write_csv, tmp_path):
    rows = make_rows({})
    rows[0]["Ledger Ref"] = "L-1"
    out = tmp_path / "canonical.csv"
    args = ["register", str(write_csv(rows)), "--out", str(out), "--preset", "tally",
            "--id-column", "Ledger Ref"]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert pl.read_csv(out, infer_schema=False)["register_id"].to_list() == ["L-1"]


def test_missing_columns_is_an_input_error(write_csv, tmp_path):
    path = write_csv(make_rows({"Bill No": ...}))
    result = runner.invoke(app, ["register", str(path), "--out", str(tmp_path / "o.parquet")])
    assert result.exit_code == 1
    assert isinstance(result.exception, InputError)
    assert not (tmp_path / "o.parquet").exists()


def test_help_has_an_example():
    result = runner.invoke(app, ["register", "--help"])
    assert result.exit_code == 0
    assert "Example: imsdata register" in " ".join(result.output.split())


def test_subprocess_exit_codes_and_one_line_errors(write_csv, tmp_path):
    path = write_csv(make_rows({"Taxable Value": ...}))
    out = str(tmp_path / "o.parquet")
    bad = subprocess.run([sys.executable, "-m", "imsdata", "register", str(path), "--out", out],
                         capture_output=True, text=True, check=False)  # fmt: skip
    assert bad.returncode == 1
    assert bad.stderr.startswith("error: ")
    assert "required column(s) not found: taxable_value" in bad.stderr
    assert "Traceback" not in bad.stderr
    usage = subprocess.run(
        [sys.executable, "-m", "imsdata", "register", str(path), "--out", out, "--preset", "sap"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert usage.returncode == 2
    assert "unknown preset 'sap'" in usage.stderr


def test_out_never_overwrites_the_input(write_csv):
    path = write_csv(make_rows({}), name="register.csv")
    before = path.read_bytes()
    result = runner.invoke(app, ["register", str(path), "--out", str(path)])
    assert result.exit_code != 0
    assert "would overwrite the input" in str(result.exception)
    assert path.read_bytes() == before
