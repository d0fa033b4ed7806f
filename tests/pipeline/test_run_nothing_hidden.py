"""Nothing hidden (issue 13): `run` writes warnings.csv and counts every reason on the terminal,
the GST limit on document numbers is enforced, a GSTR-2B is reconciled but never uploaded."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from imsdata.cli import app
from imsdata.errors import InputError
from imsdata.portal.read import read
from imsdata.synth import generate, write

runner = CliRunner()


@pytest.fixture(scope="module")
def month(tmp_path_factory) -> dict[str, Path]:
    """A small synthetic month written as the portal and an ERP would give them."""
    return write(generate(120, seed=5), tmp_path_factory.mktemp("month"))


def _run(ims: Path, register: Path, tmp_path: Path):
    return runner.invoke(
        app,
        ["run", str(ims), "--register", str(register), "--out", str(tmp_path / "o"),
         "--workspace", str(tmp_path / "w.duckdb")],
    )  # fmt: skip


def test_unknown_place_of_supply_is_in_warnings_csv_and_counted(month, tmp_path):
    download = json.loads(month["ims"].read_text())
    download["b2b"][0]["pos"] = "99"
    planted = tmp_path / "ims.json"
    planted.write_text(json.dumps(download))
    res = _run(planted, month["register"], tmp_path)
    warnings = pl.read_csv(tmp_path / "o" / "warnings.csv", infer_schema=False)
    assert warnings.filter((pl.col("field") == "pos") & (pl.col("value") == "99")).height == 1
    assert "Warnings by reason (warnings.csv)" in res.output


def test_a_document_number_beyond_16_characters_is_rejected_from_ims(month, tmp_path):
    download = json.loads(month["ims"].read_text())
    download["b2b"][0]["inum"] = "9" * 5_000_000
    download["b2b"][1]["inum"] = "INV 12"  # a space: not an allowed character
    planted = tmp_path / "ims.json"
    planted.write_text(json.dumps(download))
    result = read(planted)
    rule = result.rejects.filter(pl.col("reason").str.contains("at most 16 characters"))
    assert rule["value"].to_list() == ["9" * 40, "INV 12"]  # the value is cut, the file stays small
    assert result.documents.height == len(download["b2b"]) - 2 + sum(
        len(v) for k, v in download.items() if k != "b2b"
    )


def test_ingest_of_nothing_loadable_exits_1(tmp_path):
    empty = tmp_path / "ims.json"
    empty.write_text('{"b2b": []}')
    res = runner.invoke(app, ["ingest", str(empty), "--out", str(tmp_path / "x.parquet")])
    assert isinstance(res.exception, InputError)
    assert "no document could be loaded" in str(res.exception)


def test_a_gstr2b_is_reconciled_never_uploaded_nor_kept(month, tmp_path):
    download = json.loads(month["ims"].read_text())
    flat = [
        {"ctin": r["stin"], "inum": r["inum"], "dt": r["idt"], "val": r["val"], "pos": r["pos"],
         "txval": r["txval"], "igst": r["iamt"], "cgst": r["camt"], "sgst": r["samt"],
         "cess": r["cess"], "itcavl": "Y", "invoice_type": "b2b"}
        for r in download["b2b"]
    ]  # fmt: skip
    gstr2b = tmp_path / "2b.json"
    gstr2b.write_text(json.dumps({"rtnprd": "102025", "docdata": flat}))
    res = _run(gstr2b, month["register"], tmp_path)
    out = tmp_path / "o"
    assert res.exit_code == 1  # told, not silently skipped
    assert "not the IMS download" in res.output
    assert not list((out / "upload").iterdir())
    assert not (tmp_path / "w.duckdb").exists()
    recon = pl.read_parquet(out / "reconciliation.parquet")
    assert recon.filter(pl.col("doc_key").is_not_null()).height == len(flat)
    assert recon["match_status"].is_in(["exact", "within_tolerance", "probable"]).sum() > 0


def test_ims_and_gstr2b_together_are_refused(month, tmp_path):
    gstr2b = tmp_path / "2b.json"
    gstr2b.write_text(json.dumps({"docdata": {"b2b": []}, "rtnprd": "102025"}))
    with pytest.raises(InputError, match="one kind of download at a time"):
        read([month["ims"], gstr2b])


def test_a_gstr1_is_named_and_what_is_expected_said(tmp_path):
    gstr1 = tmp_path / "gstr1.json"
    gstr1.write_text(json.dumps({"gstin": "x", "fp": "102025", "b2b": [{"ctin": "y", "inv": []}],
                                 "b2cs": [], "hsn": {}}))  # fmt: skip
    with pytest.raises(InputError, match="GSTR-1") as caught:
        read(gstr1)
    assert "give the IMS download" in str(caught.value)
