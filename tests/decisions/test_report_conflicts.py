"""Issue 11: conflicts with the portal are listed in the period-end report."""

from __future__ import annotations

import polars as pl
from decision_helpers import case

from imsdata.report import build_report
from imsdata.rules import suggest
from imsdata.testing import RECIPIENT


def test_report_lists_the_conflicts_with_the_portal():
    ims, matches = case([{"portal_action": "R", "match": "exact"}, {"match": "exact"}])
    decisions = suggest(ims, matches).with_columns(source=pl.lit("rule"))
    report = build_report(ims, matches, decisions, gstin=RECIPIENT, period="112025")
    table = report.table("portal_conflicts")
    assert table.select("doc_number", "portal_action", "suggested").rows() == [
        ("D1", "R", "accept")
    ]
    # the report counts the document as the portal holds it: rejected, not accepted
    itc = report.table("itc_summary")
    assert itc.filter(pl.col("category").str.contains("(?i)reject"))["documents"].sum() == 1
