"""`imsdata ingest`: writes the frame, rejects and warnings beside it, prints a summary."""

import polars as pl
import pytest
from portal_helpers import SAMPLE, wire, write_json
from typer.testing import CliRunner

from imsdata.cli import app
from imsdata.errors import UsageError
from imsdata.schemas import IMS_COLUMNS

runner = CliRunner()


def test_ingest_sample_to_parquet_with_summary(tmp_path):
    out = tmp_path / "out" / "ims.parquet"
    result = runner.invoke(app, ["ingest", str(SAMPLE), "--out", str(out)])
    assert result.exit_code == 0, result.output
    docs = pl.read_parquet(out)
    assert docs.height == 6
    assert docs.schema == pl.Schema(IMS_COLUMNS)
    assert "b2bdna" in result.output
    assert "documents: 6" in result.output
    assert "rejected records: 0" in result.output
    assert "warnings: 18" in result.output
    warnings = pl.read_csv(tmp_path / "out" / "ims.warnings.csv")
    assert warnings.height == 18
    assert pl.read_csv(tmp_path / "out" / "ims.rejects.csv").height == 0


def test_rejects_do_not_fail_the_command_but_are_written_and_noted(tmp_path):
    records = [wire(number="OK"), wire(number="BAD", idt="31-02-2025")]
    src = write_json(tmp_path / "in.json", {"b2b": records})
    out = tmp_path / "ims.csv"
    result = runner.invoke(app, ["ingest", str(src), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert pl.read_csv(out)["doc_number"].to_list() == ["OK"]
    rejects = pl.read_csv(tmp_path / "ims.rejects.csv", schema_overrides={"value": pl.String})
    assert rejects.select("index", "key", "value").rows() == [(1, "idt", "31-02-2025")]
    assert "rejected records: 1" in result.output
    assert "were not loaded" in result.output


def test_duplicates_are_counted_and_listed(tmp_path):
    a = write_json(tmp_path / "a.json", {"b2b": [wire()]})
    b = write_json(tmp_path / "b.json", {"b2b": [wire()]})
    result = runner.invoke(app, ["ingest", str(a), str(b), "--out", str(tmp_path / "x.parquet")])
    assert result.exit_code == 0, result.output
    assert "duplicates (exact copies, kept once): 1" in result.output
    assert pl.read_csv(tmp_path / "x.duplicates.csv")["file"].to_list() == [str(b)]


def test_wrong_output_suffix_is_a_usage_error(tmp_path):
    result = runner.invoke(app, ["ingest", str(SAMPLE), "--out", str(tmp_path / "x.xlsx")])
    assert isinstance(result.exception, UsageError)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("args", [["ingest", "--help"]])
def test_help_has_an_example(args):
    result = runner.invoke(app, args)
    assert result.exit_code == 0
    assert "Example: imsdata ingest" in result.output
