"""Import bills of entry (IMPG / IMPGSEZ and amendments; ims-spec R9, ADV-BoE): read when
present, shown, reported in 4(A)(1), Accept or Pending only, never uploaded with guessed keys."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import polars as pl
import pytest
from portal_helpers import wire, write_json

from imsdata.portal.read import read
from imsdata.portal.sections import SECTIONS
from imsdata.portal.write import HELD_REASON, build_payloads, guard_violations
from imsdata.report import build_report
from imsdata.rules import suggest
from imsdata.schemas import MATCH_COLUMNS
from imsdata.testing import RECIPIENT, complete

SEZ = "24AABCR6898M1ZN"
IMPG = {"refdt": "05-11-2025", "portcode": "INNSA1", "boenum": "7654321", "boedt": "03-11-2025",
        "isamd": "N", "txval": 100000, "igst": 18000, "cess": 0, "action": "N"}  # fmt: skip
IMPGSEZ = {"ctin": SEZ, "portcode": "INMUN1", "boenum": "SEZ/123", "boedt": "04-11-2025",
           "txval": 50000, "iamt": 9000, "csamt": 100, "action": "P"}  # fmt: skip


@pytest.fixture
def boe(tmp_path, parser):
    path = write_json(tmp_path / "ims.json", {"gstin": RECIPIENT, "b2b": [wire()],
                                               "impg": [IMPG], "impgsez": [IMPGSEZ]})  # fmt: skip
    return read([path])


def test_bills_of_entry_are_registered_with_reject_not_allowed() -> None:
    for key in ("impg", "impga", "impgsez", "impgseza"):
        sec = SECTIONS[key]
        assert (sec.doc_type, sec.reject_allowed, sec.itc_reduction) == ("BOE", False, False)


def test_bills_of_entry_are_read_with_unknown_keys_kept(boe) -> None:
    assert boe.rejects.is_empty(), boe.rejects
    docs = boe.documents.filter(pl.col("doc_type") == "BOE").sort("section")
    assert docs["section"].to_list() == ["impg", "impgsez"]
    impg, sez = docs.rows(named=True)
    assert (impg["doc_number"], impg["doc_date"]) == ("7654321", dt.date(2025, 11, 3))
    assert (impg["igst"], impg["cess"]) == (Decimal("18000.00"), Decimal("0.00"))
    assert impg["doc_key"] == "impg||7654321|2025-11-03"  # own imports: no supplier
    assert json.loads(impg["extra_json"])["portcode"] == "INNSA1"
    assert (sez["supplier_gstin"], sez["igst"], sez["cess"]) == (
        SEZ, Decimal("9000.00"), Decimal("100.00"),
    )  # fmt: skip
    assert sez["portal_action"] == "P"


def test_bills_of_entry_are_accepted_or_kept_pending_never_rejected(boe) -> None:
    ims = boe.documents
    matches = complete(pl.DataFrame({"doc_key": ims["doc_key"]}), MATCH_COLUMNS).with_columns(
        match_status=pl.lit("missing_in_register")
    )
    out = suggest(ims, matches).join(ims.select("doc_key", "section"), on="doc_key")
    boe_actions = out.filter(pl.col("section").str.starts_with("impg"))["action"].to_list()
    assert "reject" not in boe_actions
    decisions = pl.DataFrame({"doc_key": ims["doc_key"], "action": ["reject"] * ims.height})
    refused = guard_violations(ims, decisions, matches=matches)
    assert sorted(refused.filter(pl.col("guard_id") == "no_reject_import")["doc_key"]) == sorted(
        ims.filter(pl.col("doc_type") == "BOE")["doc_key"]
    )


def test_bill_of_entry_decisions_are_held_back_from_the_upload(boe) -> None:
    ims = boe.documents
    decisions = pl.DataFrame({"doc_key": ims["doc_key"], "action": ["pending"] * ims.height})
    payloads = build_payloads(ims, decisions, rtin=RECIPIENT)
    assert set(payloads.save["section"]) == {"b2b"}
    held = payloads.skipped.filter(pl.col("reason") == HELD_REASON)
    assert held.height == 2  # the IMPGSEZ already pending is held back all the same


def test_bills_of_entry_go_to_table_4a1(boe) -> None:
    ims = boe.documents
    matches = complete(pl.DataFrame({"doc_key": ims["doc_key"]}), MATCH_COLUMNS)
    rep = build_report(ims, matches, None, gstin=RECIPIENT, period="112025",
                       as_of=dt.date(2025, 12, 1))  # fmt: skip
    t4 = rep.table("gstr3b_table4")
    line = t4.filter(pl.col("line").str.starts_with("4(A)(1)")).row(0, named=True)
    # the IMPG is deemed accepted (no action); the IMPGSEZ is pending, carried forward
    assert (line["igst"], line["cess"]) == (Decimal("18000.00"), Decimal("0.00"))
    sections = rep.table("by_section_action")["section"].to_list()
    assert "impg" in sections
    assert "impgsez" in sections
