"""The bundled sample end to end: rule suggestions pass the guards and export; read back intact."""

from __future__ import annotations

import polars as pl

from imsdata.portal.read import read
from imsdata.portal.sections import ACTION_WORDS
from imsdata.portal.write import export_upload, read_upload
from imsdata.reconcile import reconcile
from imsdata.register import read_register
from imsdata.rules import suggest
from imsdata.sample import sample_paths

RTIN = "27AAECV4821K1Z3"  # the sample's recipient (data/sample/README.md)
PERIOD = "102025"


def test_sample_suggestions_export_and_read_back(tmp_path):
    paths = sample_paths()
    ims = read([paths["ims"]]).documents
    register = read_register(paths["register"], id_column="Voucher No").documents
    matches = reconcile(ims, register)
    decisions = suggest(ims, matches, period=PERIOD).with_columns(source=pl.lit("rule"))
    result = export_upload(ims, decisions, tmp_path, rtin=RTIN, matches=matches, period=PERIOD)
    assert result.paths
    sent = pl.concat([read_upload(p) for p in result.paths])
    # exactly the documents whose suggested action differs from the portal's
    wanted = (
        ims.join(decisions.select("doc_key", "action"), on="doc_key")
        .filter(pl.col("action").replace_strict(ACTION_WORDS) != pl.col("portal_action"))
        .filter((pl.col("action") != "no_action") | (pl.col("portal_action") != "N"))
    )
    assert sorted(sent["doc_key"]) == sorted(wanted["doc_key"])
    back = read(result.paths)
    assert back.rejects.is_empty()
    cols = ["doc_key", "doc_value", "taxable_value", "igst", "cgst", "sgst", "cess", "pos"]
    expected = ims.filter(pl.col("doc_key").is_in(sent["doc_key"])).select(cols).sort("doc_key")
    assert back.documents.select(cols).sort("doc_key").equals(expected)
