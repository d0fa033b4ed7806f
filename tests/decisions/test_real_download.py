"""Issue 11 on a real IMS download (india-compliance's fixture: five documents Accepted and one
Rejected on the portal): with books that hold none of them, rules suggest pending everywhere,
yet nothing a person decided on the portal is changed or reset; each is a listed conflict."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from imsdata import decisions as dec
from imsdata.portal.read import read
from imsdata.portal.write import build_payloads
from imsdata.reconcile import reconcile
from imsdata.rules import suggest
from imsdata.schemas import DECISION_COLUMNS, REGISTER_COLUMNS, empty
from imsdata.testing import RECIPIENT, complete

REAL = Path(__file__).resolve().parents[2] / ".." / "shared" / "real-world" / "ic-ims"


@pytest.mark.skipif(not REAL.exists(), reason="real-world files not present")
def test_real_download_accepted_and_rejected_documents_are_left_as_they_are():
    ims = dec.with_recipient(read([REAL / "test_ims.json"]).documents, RECIPIENT)
    assert set(ims["portal_action"]) == {"A", "R"}
    matches = reconcile(ims, empty(REGISTER_COLUMNS))
    sugg = suggest(ims, matches)
    kept = ims.select("doc_key", "portal_action").join(sugg, on="doc_key")
    words = {"A": "accept", "R": "reject"}
    assert kept.select(pl.col("portal_action").replace_strict(words)).to_series().to_list() == (
        kept["action"].to_list()
    )
    rule_decisions = complete(sugg.with_columns(source=pl.lit("rule")), DECISION_COLUMNS)
    payloads = build_payloads(ims, rule_decisions, rtin=RECIPIENT, matches=matches)
    assert payloads.is_empty
    assert dec.conflicts(ims, sugg).height == kept.filter(pl.col("conflict").is_not_null()).height
    assert dec.conflicts(ims, sugg).height >= 1
