"""Building the SAVE and RESET payloads: what is sent, what never is, exact money text."""

from __future__ import annotations

import json
from decimal import Decimal

import polars as pl
import pytest

from imsdata.errors import InputError
from imsdata.portal.write import build_payloads, current_decisions
from imsdata.testing import RECIPIENT, ims_frame


def _records(payload: dict) -> list[dict]:
    return [rec for recs in payload["invdata"].values() for rec in recs]


def test_only_changed_records_are_sent(sample_ims, sample_decisions, no_guards):
    p = build_payloads(sample_ims, sample_decisions, rtin=RECIPIENT, rules=no_guards)
    save = p.to_dict("save")
    numbers = [r.get("inum") or r.get("nt_num") for r in _records(save)]
    assert "INV/25/0042" not in numbers  # accepted on the portal and decided accept: unchanged
    assert sorted(numbers) == sorted(
        ["00123", "INV/25/0043", "INV/25/0040A", "CN-17", "CN-18A", "E-1"]
    )
    assert save["rtin"] == RECIPIENT
    assert save["reqtyp"] == "SAVE"


def test_save_record_has_spec_keys_and_never_download_only_keys(
    sample_ims, sample_decisions, no_guards
):
    save = build_payloads(sample_ims, sample_decisions, rtin=RECIPIENT, rules=no_guards).to_dict()
    b2b = save["invdata"]["b2b"][0]
    assert list(b2b) == [
        "stin",
        "inum",
        "idt",
        "inv_typ",
        "srcform",
        "rtnprd",
        "val",
        "pos",
        "txval",
        "iamt",
        "camt",
        "samt",
        "cess",
        "prev_status",
        "action",
    ]
    for rec in _records(save):
        for key in (
            "hash",
            "srcfilstatus",
            "ispendactblocked",
            "isItcRedReqBlocked",
            "isRemarksBlocked",
            "tradenm",
            "newkey",
        ):
            assert key not in rec
    amended = save["invdata"]["b2ba"][0]
    assert (amended["oinum"], amended["oidt"]) == ("INV/25/0040", "30-10-2025")
    assert save["invdata"]["b2bcna"][0]["ont_num"] == "CN-18"


def test_numbers_stay_strings_dates_are_dd_mm_yyyy_and_money_is_exact(
    sample_ims, sample_decisions, no_guards
):
    text = build_payloads(sample_ims, sample_decisions, rtin=RECIPIENT, rules=no_guards).text()
    assert '"inum":"00123","idt":"05-11-2025"' in text
    assert '"val":0.3,' in text  # 0.1 + 0.2 written 0.3, not 0.30000000000000004
    assert '"txval":0.1,' in text
    assert '"txval":10000.5,' not in text  # that document is unchanged
    assert "0000000" not in text


def test_amounts_are_positive_even_when_stored_negative(no_guards, make_decisions):
    ims = ims_frame(
        [
            {
                "section": "b2bcn",
                "doc_number": "CN-1",
                "taxable_value": "-100.25",
                "cgst": "-9",
                "sgst": "-9",
                "doc_value": "-118.25",
            }
        ]
    )
    p = build_payloads(
        ims,
        make_decisions([{"doc_key": ims["doc_key"][0], "action": "accept"}]),
        rtin=RECIPIENT,
        rules=no_guards,
    )
    rec = p.to_dict()["invdata"]["b2bcn"][0]
    assert (rec["txval"], rec["camt"], rec["val"]) == (Decimal("100.25"), 9, Decimal("118.25"))


def test_remarks_and_declaration_only_where_decided(sample_ims, sample_decisions, no_guards):
    save = build_payloads(sample_ims, sample_decisions, rtin=RECIPIENT, rules=no_guards).to_dict()
    by_num = {r.get("inum") or r.get("nt_num"): r for r in _records(save)}
    assert by_num["INV/25/0043"]["remarks"] == "not received"
    assert "remarks" not in by_num["00123"]
    cn = by_num["CN-17"]
    assert (cn["itcRedReq"], cn["declCgst"], cn["declSgst"], cn["declIgst"]) == ("Y", 50, 50, 0)
    full = by_num["CN-18A"]  # full reversal: Y without amounts (ims-spec.md R7)
    assert full["itcRedReq"] == "Y"
    assert not any(k.startswith("decl") for k in full)
    assert "itcRedReq" not in by_num["E-1"]


def test_reset_for_documents_going_back_to_no_action(sample_ims, sample_decisions, no_guards):
    p = build_payloads(sample_ims, sample_decisions, rtin=RECIPIENT, rules=no_guards)
    reset = p.to_dict("reset")
    assert reset["reqtyp"] == "RESET"
    assert list(reset["invdata"]) == ["b2bdn", "b2bdna"]
    for rec in _records(reset):
        assert "action" not in rec
    assert [r["prev_status"] for r in _records(reset)] == ["A", "P"]


def test_no_action_on_a_no_action_record_is_not_a_change(no_guards, make_decisions):
    ims = ims_frame([{"portal_action": "N"}])
    p = build_payloads(
        ims,
        make_decisions([{"doc_key": ims["doc_key"][0], "action": "no_action"}]),
        rtin=RECIPIENT,
        rules=no_guards,
    )
    assert p.is_empty


def test_remarks_change_alone_is_sent(no_guards, make_decisions):
    ims = ims_frame([{"portal_action": "R", "remarks": "old"}])
    key = ims["doc_key"][0]
    same = build_payloads(
        ims,
        make_decisions([{"doc_key": key, "action": "reject", "remarks": "old"}]),
        rtin=RECIPIENT,
        rules=no_guards,
    )
    assert same.is_empty
    new = build_payloads(
        ims,
        make_decisions([{"doc_key": key, "action": "reject", "remarks": "new"}]),
        rtin=RECIPIENT,
        rules=no_guards,
    )
    rec = new.to_dict()["invdata"]["b2b"][0]
    assert (rec["prev_status"], rec["action"], rec["remarks"]) == ("R", "R", "new")


def test_latest_decision_wins(no_guards, make_decisions):
    ims = ims_frame([{}])
    key = ims["doc_key"][0]
    log = make_decisions(
        [{"doc_key": key, "action": "reject"}, {"doc_key": key, "action": "accept"}]
    )
    assert current_decisions(log)["action"].to_list() == ["accept"]
    rec = build_payloads(ims, log, rtin=RECIPIENT, rules=no_guards).to_dict()["invdata"]["b2b"][0]
    assert rec["action"] == "A"


def test_order_is_registry_sections_then_supplier_date_number(
    sample_ims, no_guards, make_decisions
):
    log = make_decisions([{"doc_key": k, "action": "pending"} for k in sample_ims["doc_key"]])
    text = build_payloads(sample_ims, log, rtin=RECIPIENT, rules=no_guards).text()
    data = json.loads(text)["invdata"]
    assert list(data) == ["b2b", "b2ba", "b2bdn", "b2bcn", "b2bcna", "ecom"]  # b2bdna: P already
    assert [(r["stin"][:2], r["inum"]) for r in data["b2b"]] == [
        ("24", "00123"),
        ("27", "INV/25/0042"),
        ("27", "INV/25/0043"),
    ]


def test_unknown_action_is_refused(no_guards, make_decisions):
    ims = ims_frame([{}])
    with pytest.raises(InputError, match="unknown action"):
        build_payloads(
            ims,
            make_decisions([{"doc_key": ims["doc_key"][0], "action": "approve"}]),
            rtin=RECIPIENT,
            rules=no_guards,
        )


def test_decision_for_a_document_not_in_the_snapshot_is_listed_not_lost(no_guards, make_decisions):
    ims = ims_frame([{}])
    log = make_decisions(
        [
            {"doc_key": "b2b|X|1|2025-01-01", "action": "accept"},
            {"doc_key": ims["doc_key"][0], "action": "accept"},
        ]
    )
    p = build_payloads(ims, log, rtin=RECIPIENT, rules=no_guards)
    assert p.skipped["doc_key"].to_list() == ["b2b|X|1|2025-01-01"]
    assert p.save.height == 1


def test_api_wrapper_option(sample_ims, sample_decisions, no_guards):
    p = build_payloads(sample_ims, sample_decisions, rtin=RECIPIENT, rules=no_guards)
    assert p.to_dict("save", api=True)["action"] == "SAVE"
    assert p.to_dict("save", api=True)["data"] == p.to_dict("save")
    assert p.to_dict("reset", api=True)["action"] == "RESETIMS"


def test_only_restricts_to_given_documents(sample_ims, sample_decisions, no_guards):
    key = sample_ims["doc_key"][2]
    p = build_payloads(sample_ims, sample_decisions, rtin=RECIPIENT, rules=no_guards, only=[key])
    assert p.documents()["doc_key"].to_list() == [key]
    assert p.documents().filter(pl.col("kind") == "reset").is_empty()
