"""Our upload read back: the IMS reader sees the same documents; actions survive on the wire."""

from __future__ import annotations

import polars as pl

from imsdata.portal.read import read
from imsdata.portal.sections import ACTION_WORDS
from imsdata.portal.write import export_upload, read_upload
from imsdata.testing import RECIPIENT

#: Columns an upload record carries (identity, values, the portal's state as prev_status).
SENT = [
    "doc_key",
    "section",
    "supplier_gstin",
    "doc_number",
    "doc_date",
    "orig_doc_number",
    "orig_doc_date",
    "supply_type",
    "source_form",
    "supplier_period",
    "doc_value",
    "taxable_value",
    "igst",
    "cgst",
    "sgst",
    "cess",
    "pos",
    "portal_action",
    "recipient_gstin",
]


def test_reader_reads_our_upload_as_the_same_documents(tmp_path, sample_ims, sample_decisions):
    result = export_upload(sample_ims, sample_decisions, tmp_path, rtin=RECIPIENT)
    back = read(result.paths)
    assert back.rejects.is_empty()
    uploaded = result.payloads.documents()["doc_key"]
    expected = sample_ims.filter(pl.col("doc_key").is_in(uploaded)).select(SENT).sort("doc_key")
    got = back.documents.select(SENT).sort("doc_key")
    assert got.equals(expected)
    assert got.height == 8  # 6 saved + 2 reset; the unchanged accept is not sent


def test_actions_and_prev_status_survive_the_round_trip(tmp_path, sample_ims, sample_decisions):
    result = export_upload(sample_ims, sample_decisions, tmp_path, rtin=RECIPIENT)
    back = pl.concat([read_upload(p) for p in result.paths]).sort("doc_key")
    decided = sample_decisions.select(
        "doc_key",
        pl.when(pl.col("action") != "no_action")
        .then(pl.col("action").replace_strict(ACTION_WORDS, return_dtype=pl.String))
        .alias("action"),
    )
    want = back.select("doc_key").join(decided, on="doc_key", how="left")
    assert back["action"].to_list() == want["action"].to_list()
    portal = sample_ims.select("doc_key", "portal_action")
    assert back.join(portal, on="doc_key")["prev_status"].to_list() == (
        back.join(portal, on="doc_key")["portal_action"].to_list()
    )
