"""Each default guard refuses both a rule's suggestion (it falls through to the next rule,
recorded in stopped_by) and a manual decision (check reports it, the workspace refuses it)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
import pytest
from conftest import case

from imsdata.errors import GuardError
from imsdata.portal.sections import SECTIONS, Section
from imsdata.rules import blocking, check, load_rules, parse_rules, suggest, try_decisions
from imsdata.workspace import Workspace

MATCHED = {"match": "exact"}
CN = {"section": "b2bcn", **MATCHED}  # a credit note in the books: may carry a declaration


def _rules_with(proposal: dict[str, str]):
    """A rule proposing `proposal` then a plain fallback, under the bundled guards."""
    fields = "".join(f'{k} = """{v}"""\n' for k, v in proposal.items())
    text = (
        f'[[suggest]]\nid = "r_bad"\nwhen = "true"\nreason = "bad"\n{fields}'
        '\n[[suggest]]\nid = "r_next"\nwhen = "true"\naction = "no_action"\nreason = "next"\n'
    )
    return type(load_rules())(
        suggest=parse_rules(text).suggest, guards=load_rules().guards, source="test"
    )


# guard id -> (document, rule proposal, manual decision)
CASES: dict[str, tuple[dict[str, Any], dict[str, str], dict[str, Any]]] = {
    "pending_blocked": (
        {"pending_blocked": True, "match": "mismatch"},
        {"action": "pending"},
        {"action": "pending"},
    ),
    "cn_pending_before_oct2025": (
        {"section": "b2bcn", "doc_date": dt.date(2025, 8, 5), "supplier_period": "082025"},
        {"action": "pending"},
        {"action": "pending"},
    ),
    "no_reject_import": ({"section": "impg"}, {"action": "reject"}, {"action": "reject"}),
    "no_accept_not_in_books": ({}, {"action": "accept"}, {"action": "accept"}),
    "itc_reduction_only_accept": (
        CN,
        {"action": "pending", "itc_reduction": "N"},
        {"action": "pending", "itc_reduction": "N"},
    ),
    "itc_reduction_section": (
        MATCHED,
        {"action": "accept", "itc_reduction": "N"},
        {"action": "accept", "itc_reduction": "N"},
    ),
    "itc_reduction_blocked": (
        {**CN, "itc_reduction_blocked": True},
        {"action": "accept", "itc_reduction": "N"},
        {"action": "accept", "itc_reduction": "N"},
    ),
    "declared_without_y": (
        CN,
        {"action": "accept", "itc_reduction": "N", "declared_cgst": "10", "declared_sgst": "10"},
        {"action": "accept", "itc_reduction": "N", "declared_cgst": "10", "declared_sgst": "10"},
    ),
    "declared_range": (
        CN,
        {"action": "accept", "itc_reduction": "Y", "declared_cgst": "cgst + 1",
         "declared_sgst": "sgst + 1"},
        {"action": "accept", "itc_reduction": "Y", "declared_cgst": "900.01",
         "declared_sgst": "900.01"},
    ),
    "declared_cgst_equals_sgst": (
        CN,
        {"action": "accept", "itc_reduction": "Y", "declared_cgst": "10", "declared_sgst": "20"},
        {"action": "accept", "itc_reduction": "Y", "declared_cgst": "10", "declared_sgst": "20"},
    ),
    "remarks_blocked": (
        {"remarks_blocked": True, "match": "mismatch"},
        {"action": "pending", "remarks": "please fix"},
        {"action": "pending", "remarks": "please fix"},
    ),
    "remarks_length": (
        {"match": "mismatch"},
        {"action": "pending", "remarks": "x" * 251},
        {"action": "pending", "remarks": "x" * 251},
    ),
    "remarks_need_action": (
        MATCHED,
        {"action": "no_action", "remarks": "see mail"},
        {"action": "no_action", "remarks": "see mail"},
    ),
}  # fmt: skip


@pytest.fixture(autouse=True)
def _import_section(monkeypatch):
    """The registry gains an import bill-of-entry section (Reject not allowed, R9)."""
    boe = Section("impg", "IMPG", "Import of goods", "INV", False, "inum", "idt", None, None,
                  False, reject_allowed=False)  # fmt: skip
    monkeypatch.setitem(SECTIONS, "impg", boe)


def test_every_default_guard_has_a_case():
    assert set(CASES) | {"itc_reduction_value"} == {g.id for g in load_rules().guards}


@pytest.mark.parametrize("guard_id", sorted(CASES))
def test_suggestion_a_guard_forbids_falls_through(guard_id):
    doc, proposal, _ = CASES[guard_id]
    ims, matches = case([doc])
    out = suggest(ims, matches, rules=_rules_with(proposal)).row(0, named=True)
    if "remarks" in proposal:
        # only the remarks are forbidden: the same rule wins without them
        assert (out["rule_id"], out["remarks"]) == ("r_bad", None)
        assert out["stopped_by"] == f"{guard_id} stopped r_bad with remarks"
    else:
        assert (out["rule_id"], out["action"]) == ("r_next", "no_action")
        assert out["stopped_by"].startswith(f"{guard_id}")
        assert "stopped r_bad" in out["stopped_by"]
        assert guard_id in out["stopped_by"].split(" stopped ")[0].split(", ")


@pytest.mark.parametrize("guard_id", sorted(CASES))
def test_manual_decision_a_guard_forbids_is_refused(guard_id, tmp_path):
    doc, _, decision = CASES[guard_id]
    ims, matches = case([doc])
    frame = pl.DataFrame([{"doc_key": ims["doc_key"][0], **decision}])
    violations = blocking(try_decisions(ims, matches, frame))
    assert guard_id in violations["guard_id"].to_list()
    message = next(g.message for g in load_rules().guards if g.id == guard_id)
    with Workspace(tmp_path / "ws.duckdb") as ws:
        ws.import_ims(ims)
        ws.save_matches(matches)
        with pytest.raises(GuardError, match=guard_id):
            ws.decide(frame)
        with pytest.raises(GuardError) as info:
            ws.decide(frame)
        assert message in str(info.value)
        assert ws.decision_log().height == 0


def test_itc_reduction_value_refuses_a_manual_value_and_a_rule_file():
    ims, matches = case([CN])
    frame = pl.DataFrame({"doc_key": ims["doc_key"], "action": ["accept"], "itc_reduction": ["X"]})
    assert "itc_reduction_value" in check(ims, matches, frame)["guard_id"].to_list()
    with pytest.raises(Exception, match="itc_reduction must be"):
        _rules_with({"action": "accept", "itc_reduction": "X"})


def test_overridable_guard_passes_only_with_a_reason(tmp_path):
    ims, matches = case([{}])
    key = ims["doc_key"][0]
    with Workspace(tmp_path / "ws.duckdb") as ws:
        ws.import_ims(ims)
        ws.save_matches(matches)
        with pytest.raises(GuardError, match="give a reason to override"):
            ws.decide(key, "accept")
        with pytest.raises(GuardError):
            ws.decide(key, "accept", reason="   ")
        row = ws.decide(key, "accept", reason="booked in December").row(0, named=True)
        assert (row["action"], row["source"], row["reason"]) == (
            "accept",
            "manual",
            "booked in December",
        )
    # a rule can never override it, even with a reason
    rule = check(ims, matches, pl.DataFrame({"doc_key": [key], "action": ["accept"],
                                             "source": ["rule"], "reason": ["r_x"]}))  # fmt: skip
    assert blocking(rule)["guard_id"].to_list() == ["no_accept_not_in_books"]


def test_non_overridable_guard_ignores_a_reason():
    ims, matches = case([{"pending_blocked": True}])
    frame = pl.DataFrame(
        {"doc_key": ims["doc_key"], "action": ["pending"], "source": ["manual"], "reason": ["pls"]}
    )
    assert blocking(check(ims, matches, frame))["guard_id"].to_list() == ["pending_blocked"]


def test_check_reports_unknown_documents_and_actions():
    ims, matches = case([MATCHED])
    frame = pl.DataFrame(
        {"doc_key": [ims["doc_key"][0], "b2b|X|1|2025-01-01"], "action": ["approve", "accept"]}
    )
    out = check(ims, matches, frame)
    assert out.select("doc_key", "guard_id").rows() == [
        (ims["doc_key"][0], "unknown_action"),
        ("b2b|X|1|2025-01-01", "unknown_document"),
    ]


def test_allowed_decisions_give_no_violations():
    ims, matches = case([CN, {"match": "mismatch"}])
    frame = pl.DataFrame(
        {
            "doc_key": ims["doc_key"],
            "action": ["accept", "pending"],
            "itc_reduction": ["Y", None],
            "declared_cgst": ["900.00", None],
            "declared_sgst": ["900.00", None],
            "remarks": [None, "amount differs"],
        }
    )
    assert try_decisions(ims, matches, frame).height == 0
