"""`imsdata batch`: every client-month of a manifest, the outputs of `run`, one summary."""

from __future__ import annotations

import polars as pl
import pytest
from typer.testing import CliRunner

from imsdata.batch import read_manifest, run_batch, split_memory
from imsdata.cli import app
from imsdata.errors import InputError, UsageError
from imsdata.synth import generate, write

GSTINS = ("27AAPFU0939F1ZV", "29AAGCB1286Q1Z0")


@pytest.fixture(scope="module")
def clients(tmp_path_factory):
    """Two synth clients' files and a CSV manifest with a third row whose IMS file is missing."""
    root = tmp_path_factory.mktemp("batch")
    for i, gstin in enumerate(GSTINS):
        write(generate(60, seed=i + 1, recipient_gstin=gstin), root / gstin)
    lines = ["gstin,period,ims,register"]
    lines += [f"{g},102025,{g}/ims_download.json,{g}/purchase_register.csv" for g in GSTINS]
    lines.append(f"{GSTINS[0]},112025,nowhere.json,{GSTINS[0]}/purchase_register.csv")
    (root / "clients.csv").write_text("\n".join(lines) + "\n")
    return root


def test_every_client_gets_the_run_outputs_and_a_failure_does_not_stop_the_others(clients):
    out = clients / "out"
    result = CliRunner().invoke(app, ["batch", str(clients / "clients.csv"), "-o", str(out)])
    assert result.exit_code == 1, result.output  # one client failed
    summary = pl.read_parquet(out / "summary.parquet")
    assert summary["status"].to_list() == ["ok", "ok", "failed"]
    assert "nowhere.json" in summary["error"][2]
    assert "\n" not in summary["error"][2]
    for gstin in GSTINS:
        folder = out / f"{gstin}_102025"
        for name in ("reconciliation.parquet", "report.html", "review.xlsx", "upload"):
            assert (folder / name).exists(), name
    ok = summary.filter(pl.col("status") == "ok")
    assert (ok["documents"] > 40).all()
    assert ((ok["matched_pct"] > 50) & (ok["matched_pct"] <= 100)).all()
    assert ok["itc_at_risk"].is_not_null().all()
    page = (out / "summary.html").read_text()
    assert "3 client-months on duckdb: 2 ok, 1 failed" in page
    assert "<script" not in page
    assert "http" not in page  # self-contained


def test_a_client_in_the_batch_gets_what_run_gives_alone(clients, tmp_path):
    from imsdata.pipeline import run

    gstin = GSTINS[1]
    alone = run(
        [clients / gstin / "ims_download.json"],
        clients / gstin / "purchase_register.csv",
        gstin=gstin,
        period="102025",
        out_dir=tmp_path / "alone",
        workspace=tmp_path / "alone.duckdb",
    )
    items = [i for i in read_manifest(clients / "clients.csv") if i.gstin == gstin]
    summary = run_batch(items, tmp_path / "batch", workers=1)
    batch = pl.read_parquet(tmp_path / "batch" / f"{gstin}_102025" / "reconciliation.parquet")
    assert batch.equals(alone.reconciliation)
    assert summary["documents"][0] == alone.ims.height


def test_toml_manifest_and_bad_rows_are_named(clients):
    toml = clients / "m.toml"
    toml.write_text(
        f'[[client]]\ngstin = "{GSTINS[0]}"\nperiod = "102025"\n'
        f'ims = ["{GSTINS[0]}/ims_download.json"]\nregister = "{GSTINS[0]}/purchase_register.csv"\n'
    )
    (item,) = read_manifest(toml)
    assert item.ims == (clients / GSTINS[0] / "ims_download.json",)
    bad = clients / "bad.csv"
    bad.write_text("gstin,period,ims,register\nNOTAGSTIN,102025,a.json,b.csv\n")
    with pytest.raises(InputError, match=r"bad.csv: row 2: gstin 'NOTAGSTIN'"):
        read_manifest(bad)
    dup = clients / "dup.csv"
    row = f"{GSTINS[0]},102025,a.json,b.csv"
    dup.write_text(f"gstin,period,ims,register\n{row}\n{row}\n")
    with pytest.raises(InputError, match=r"row 3: .* already listed"):
        read_manifest(dup)


def test_a_bad_rule_file_fails_its_clients_before_they_run(clients, tmp_path):
    rules = clients / "bad_rules.toml"
    rules.write_text('[[suggest]]\nid = "x"\nwhen = "no_such_column > 1"\naction = "accept"\n'
                     'reason = "r"\n')  # fmt: skip
    manifest = clients / "rules.csv"
    g = GSTINS[0]
    manifest.write_text(
        "gstin,period,ims,register,rules\n"
        f"{g},102025,{g}/ims_download.json,{g}/purchase_register.csv,bad_rules.toml\n"
    )
    summary = run_batch(read_manifest(manifest), tmp_path / "out", workers=1)
    assert summary["status"][0] == "failed"
    assert "unknown column 'no_such_column'" in summary["error"][0]


def test_memory_budget_is_split_across_workers():
    assert split_memory("4GB", 4) == "1024MB"
    assert split_memory("512MB", 2) == "256MB"
    with pytest.raises(UsageError, match="under 64MB"):
        split_memory("100MB", 4)


@pytest.mark.spark
def test_the_spark_batch_writes_what_the_duckdb_batch_writes(clients, tmp_path, spark_session):
    items = [i for i in read_manifest(clients / "clients.csv") if i.period == "102025"][:1]
    duck = run_batch(items, tmp_path / "duck", workers=1)
    spark = run_batch(items, tmp_path / "spark", engine="spark", session=spark_session)
    assert spark["status"].to_list() == ["ok"]
    assert spark.drop("seconds", "out_dir").equals(duck.drop("seconds", "out_dir"))
    folder = items[0].folder
    left = pl.read_parquet(tmp_path / "duck" / folder / "reconciliation.parquet")
    right = pl.read_parquet(tmp_path / "spark" / folder / "reconciliation.parquet")
    assert left.equals(right)
    assert "on spark: 1 ok, 0 failed" in (tmp_path / "spark" / "summary.html").read_text()
