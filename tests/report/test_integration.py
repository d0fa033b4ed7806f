"""The report over the real producers: synthetic month -> reader -> reconcile -> rules."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from imsdata.report import build_report, write_excel, write_html

synth = pytest.importorskip("imsdata.synth")
read = pytest.importorskip("imsdata.portal.read")


@pytest.fixture(scope="module")
def month() -> dict:
    """A 300-document synthetic month through the real pipeline."""
    from imsdata.reconcile import reconcile
    from imsdata.rules import suggest

    data = synth.generate(300, seed=11, period="102025")
    ims = read.read_payload(data.download, "synth.json").documents
    matches = reconcile(ims, data.register)
    decisions = suggest(ims, matches, period=data.period)
    return {"data": data, "ims": ims, "matches": matches, "decisions": decisions}


def test_every_document_is_counted_once(month: dict) -> None:
    data, ims = month["data"], month["ims"]
    rep = build_report(
        ims, month["matches"], month["decisions"], gstin=data.recipient_gstin,
        period=data.period, register=data.register,
    )  # fmt: skip
    assert rep.table("by_section_action")["documents"].sum() == ims.height
    itc = rep.table("itc_summary")
    by_action = itc.filter(~pl.col("category").str.starts_with("ITC available"))
    assert by_action["documents"].sum() == ims.height
    # the ITC by action adds up to the signed tax of every document
    signed = ims.select(
        (
            pl.when(pl.col("doc_type") == "CN").then(-1).otherwise(1)
            * pl.sum_horizontal("igst", "cgst", "sgst", "cess")
        ).sum()
    ).item()
    assert by_action["itc"].sum() == Decimal(str(signed)).quantize(Decimal("0.01"))
    rec = rep.table("reconciliation")
    ims_side = rec.filter(pl.col("match_status") != "missing_in_ims")["documents"].sum()
    assert ims_side == ims.height
    books = rec.filter(pl.col("match_status") == "missing_in_ims").row(0, named=True)
    assert (
        books["documents"]
        == month["matches"].filter(pl.col("match_status") == "missing_in_ims").height
    )
    assert books["doc_value"] is not None


def test_changes_against_a_previous_download(month: dict) -> None:
    data, ims = month["data"], month["ims"]
    previous = ims.sample(fraction=0.8, seed=1).with_columns(
        record_hash=pl.when(pl.int_range(pl.len()) < 5)
        .then(pl.lit("older"))
        .otherwise(pl.col("record_hash"))
    )
    rep = build_report(
        ims, month["matches"], month["decisions"], previous=previous,
        gstin=data.recipient_gstin, period=data.period,
    )  # fmt: skip
    changes = dict(rep.table("changes").select("change", "documents").rows())
    assert changes == {"added": ims.height - previous.height, "changed": 5, "removed": 0}


def test_files_are_written(month: dict, tmp_path: Path) -> None:
    data = month["data"]
    rep = build_report(
        month["ims"], month["matches"], month["decisions"], gstin=data.recipient_gstin,
        period=data.period,
    )  # fmt: skip
    html = write_html(rep, tmp_path / "report.html")
    xlsx = write_excel(rep, tmp_path / "report.xlsx")
    assert data.recipient_gstin in html.read_text(encoding="utf-8")
    assert set(pl.read_excel(xlsx, sheet_id=0)) >= {"itc_summary", "gstr3b_table4"}
