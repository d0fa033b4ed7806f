"""Every portal guard of the default rule file stops an export, naming the document; no file."""

from __future__ import annotations

import datetime as dt

import pytest

from imsdata.errors import GuardError
from imsdata.portal.write import export_upload
from imsdata.rules import load_rules
from imsdata.testing import RECIPIENT, ims_frame

CN = {"section": "b2bcn", "doc_number": "CN-1"}
#: guard id -> (IMS document, decision) that breaks it. A rule-sourced decision cannot override.
CASES: dict[str, tuple[dict, dict]] = {
    "pending_blocked": ({"pending_blocked": True}, {"action": "pending"}),
    "cn_pending_before_oct2025": (
        {**CN, "supplier_period": "092025", "doc_date": dt.date(2025, 9, 5)},
        {"action": "pending"},
    ),
    "no_accept_not_in_books": ({}, {"action": "accept", "source": "rule"}),
    "itc_reduction_value": (CN, {"action": "accept", "itc_reduction": "X"}),
    "itc_reduction_only_accept": (CN, {"action": "reject", "itc_reduction": "Y"}),
    "itc_reduction_section": ({}, {"action": "accept", "itc_reduction": "Y"}),
    "itc_reduction_blocked": (
        {**CN, "itc_reduction_blocked": True},
        {"action": "accept", "itc_reduction": "Y"},
    ),
    "declared_without_y": (
        CN,
        {"action": "accept", "declared_cgst": "10", "declared_sgst": "10"},
    ),
    "declared_range": (
        CN,
        {"action": "accept", "itc_reduction": "Y", "declared_cgst": "901", "declared_sgst": "901"},
    ),
    "declared_cgst_equals_sgst": (
        CN,
        {"action": "accept", "itc_reduction": "Y", "declared_cgst": "10", "declared_sgst": "20"},
    ),
    "remarks_blocked": ({"remarks_blocked": True}, {"action": "reject", "remarks": "wrong"}),
    "remarks_length": ({}, {"action": "reject", "remarks": "x" * 251}),
    "remarks_need_action": ({"portal_action": "A"}, {"action": "no_action", "remarks": "undo"}),
}
#: Guards no real document can break yet, and why.
UNREACHABLE = {
    "no_reject_import": "no registry section forbids Reject until the import sections are known",
}


def test_every_default_guard_has_a_case():
    ids = {g.id for g in load_rules().guards}
    assert ids == set(CASES) | set(UNREACHABLE)


@pytest.mark.parametrize("guard_id", sorted(CASES))
def test_guard_stops_the_export_and_nothing_is_written(tmp_path, make_decisions, guard_id):
    doc, decision = CASES[guard_id]
    period = doc.get("supplier_period", "112025")  # the period worked on: the latest one
    ims = ims_frame([doc, {"doc_number": "OK-1", "supplier_period": period}])
    bad, good = ims["doc_key"].to_list()
    log = make_decisions(
        [{"doc_key": bad, **decision}, {"doc_key": good, "action": "reject", "remarks": "no"}]
    )
    out = tmp_path / "upload"
    with pytest.raises(GuardError) as info:
        export_upload(ims, log, out, rtin=RECIPIENT)
    assert bad in str(info.value)
    assert f"[{guard_id}]" in str(info.value)
    assert good not in str(info.value)
    assert not out.exists()


def test_the_same_documents_without_the_breach_export(tmp_path, make_decisions):
    ims = ims_frame([{**CN, "pending_blocked": False}])
    log = make_decisions([{"doc_key": ims["doc_key"][0], "action": "pending"}])
    result = export_upload(ims, log, tmp_path, rtin=RECIPIENT)
    assert [p.name for p in result.paths] == ["save_001.json"]


def test_a_human_override_with_a_reason_passes_an_overridable_guard(tmp_path, make_decisions):
    ims = ims_frame([{}])
    log = make_decisions(
        [
            {
                "doc_key": ims["doc_key"][0],
                "action": "accept",
                "source": "manual",
                "reason": "booked late, voucher 77",
            }
        ]
    )
    assert export_upload(ims, log, tmp_path, rtin=RECIPIENT).paths


def test_every_offending_document_is_listed(tmp_path, make_decisions):
    ims = ims_frame([{"pending_blocked": True}, {"pending_blocked": True}])
    log = make_decisions([{"doc_key": k, "action": "pending"} for k in ims["doc_key"]])
    with pytest.raises(GuardError, match="2 guard violation") as info:
        export_upload(ims, log, tmp_path, rtin=RECIPIENT)
    assert all(k in str(info.value) for k in ims["doc_key"])


def test_a_record_missing_a_mandatory_key_stops_the_export(tmp_path, make_decisions):
    ims = ims_frame(
        [
            {"section": "b2ba", "doc_number": "A-1", "supply_type": None},  # no oinum/oidt
            {"doc_number": "OK-1"},
        ]
    )
    log = make_decisions([{"doc_key": k, "action": "reject"} for k in ims["doc_key"]])
    with pytest.raises(GuardError, match="mandatory_keys") as info:
        export_upload(ims, log, tmp_path / "up", rtin=RECIPIENT)
    assert "oinum, oidt, inv_typ" in str(info.value)
    assert ims["doc_key"][1] not in str(info.value)
    assert not (tmp_path / "up").exists()


def test_an_invalid_recipient_gstin_stops_the_export(tmp_path, make_decisions):
    ims = ims_frame([{}])
    log = make_decisions([{"doc_key": ims["doc_key"][0], "action": "reject"}])
    with pytest.raises(GuardError, match="recipient_gstin") as info:
        export_upload(ims, log, tmp_path / "up", rtin="")
    assert info.value.violations.height == 1
    assert not (tmp_path / "up").exists()


def test_a_breach_on_a_document_that_is_not_sent_does_not_stop_the_export(tmp_path, make_decisions):
    # pending on a record the portal already holds as pending: no change, nothing goes out
    ims = ims_frame([{"pending_blocked": True, "portal_action": "P"}, {"doc_number": "OK-1"}])
    held, sent = ims["doc_key"].to_list()
    log = make_decisions(
        [{"doc_key": held, "action": "pending"}, {"doc_key": sent, "action": "reject"}]
    )
    result = export_upload(ims, log, tmp_path, rtin=RECIPIENT)
    text = result.paths[0].read_text()
    assert [p.name for p in result.paths] == ["save_001.json"]
    assert '"OK-1"' in text
    assert f'"{held.split("|")[2]}"' not in text  # its doc_number
