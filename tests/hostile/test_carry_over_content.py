"""Issue 15: carry-over compares content, not only the portal's hash."""

from __future__ import annotations

import polars as pl
import pytest

from imsdata.testing import ims_frame
from imsdata.workspace import Workspace


@pytest.fixture
def ws(tmp_path):
    with Workspace(tmp_path / "ws.duckdb") as workspace:
        yield workspace


def test_amount_changed_with_the_hash_kept_is_flagged_for_review(ws):
    first = ims_frame([{"hash": "h1", "taxable_value": "10000.00"}, {"hash": "h2"}])
    ws.import_ims(first)
    keys = first["doc_key"].to_list()
    ws.decide(keys[0], "reject", reason="rate disputed", user="asha")
    ws.decide(keys[1], "reject", reason="checked", user="asha")
    # the supplier raised the amount by 500; the portal kept the hash
    second = ims_frame([{"hash": "h1", "taxable_value": "10500.00"}, {"hash": "h2"}])
    ws.import_ims(second)
    status = dict(ws.current_decisions().select("doc_key", "status").iter_rows())
    assert status == {keys[0]: "review", keys[1]: "valid"}
    changes = ws.changes_since_previous().select("doc_key", "change", "needs_review")
    assert changes.rows() == [(keys[0], "changed", True), (keys[1], "unchanged", False)]


def test_same_content_and_hash_carries_the_decision_over(ws):
    first = ims_frame([{"hash": "h1"}])
    ws.import_ims(first)
    key = first["doc_key"][0]
    ws.decide(key, "reject", reason="checked", user="asha")
    ws.import_ims(ims_frame([{"hash": "h1", "supplier_filing_status": "Not filed"}]))
    current = ws.current_decisions()
    assert current.select("action", "source", "status").row(0) == ("reject", "manual", "valid")
    assert current.filter(pl.col("doc_key") == key).height == 1
