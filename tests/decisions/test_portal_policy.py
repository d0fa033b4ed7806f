"""Issue 11: the portal's action is a person's decision; only a person resets; remarks are true.

Every case runs on a download whose documents carry portal actions A, R, P and N, through the
rule engine, the decision path (`imsdata.decisions`) and the upload writer.
"""

from __future__ import annotations

import polars as pl
import pytest
from decision_helpers import case as _case

from imsdata import decisions as dec
from imsdata.errors import InputError
from imsdata.portal.write import build_payloads
from imsdata.rules import load_rules, parse_rules, suggest
from imsdata.rules.engine import DEFAULT_RULES_PATH
from imsdata.schemas import DECISION_COLUMNS
from imsdata.testing import RECIPIENT, complete, make_gstin

OTHER_OURS = make_gstin("29", RECIPIENT[2:12])  # another registration of our PAN


def _as_rule_decisions(suggestions: pl.DataFrame) -> pl.DataFrame:
    return complete(suggestions.with_columns(source=pl.lit("rule")), DECISION_COLUMNS)


def _by_number(ims: pl.DataFrame, frame: pl.DataFrame, column: str) -> dict[str, object]:
    joined = ims.select("doc_key", "doc_number").join(frame, on="doc_key")
    return dict(joined.select("doc_number", column).iter_rows())


@pytest.fixture
def month() -> tuple[pl.DataFrame, pl.DataFrame]:
    """Portal actions A, R, P and N over the cases the issue names."""
    return _case(
        [
            # D1 rejected on the portal, books differ, Pending blocked: r_review_blocked
            {"portal_action": "R", "pending_blocked": True, "match": "mismatch",
             "match_diff_taxable_value": "10.00"},
            # D2 rejected on the portal, the books now match exactly: a rule would accept
            {"portal_action": "R", "match": "exact"},
            # D3 accepted on the portal but not in our books: a rule would put it on pending
            {"portal_action": "A"},
            # D4 pending on the portal, now matches: accept
            {"portal_action": "P", "match": "exact"},
            # D5 pending on the portal, still differs: stays pending, nothing sent
            {"portal_action": "P", "match": "mismatch", "match_diff_taxable_value": "7.00"},
            # D6 no action yet, matches: accept
            {"portal_action": "N", "match": "exact"},
            # D7 no action yet, not in the books: pending with the rule's remark
            {"portal_action": "N"},
            # D8 rejected original replaced by an amendment: r_superseded (no_action)
            {"portal_action": "R", "match": "exact", "match_superseded_by": "x"},
        ]
    )  # fmt: skip


def test_rule_no_action_never_becomes_a_reset(month):
    ims, matches = month
    sugg = suggest(ims, matches)
    rule_ids = _by_number(ims, sugg, "rule_id")
    assert rule_ids["D1"] == "r_review_blocked"
    assert rule_ids["D8"] == "r_superseded"
    actions = _by_number(ims, sugg, "action")
    assert actions["D1"] == "reject"
    assert actions["D8"] == "reject"
    payloads = build_payloads(ims, _as_rule_decisions(sugg), rtin=RECIPIENT, matches=matches)
    assert payloads.reset.is_empty()


def test_stored_rule_no_action_on_a_rejected_document_is_not_reset(month):
    """A rule decision of no_action already in a log (older versions stored it) is no reset."""
    ims, matches = month
    key = ims.filter(pl.col("doc_number") == "D1")["doc_key"][0]
    stale = complete(
        pl.DataFrame({"doc_key": [key], "action": ["no_action"], "source": ["rule"]}),
        DECISION_COLUMNS,
    )
    assert build_payloads(ims, stale, rtin=RECIPIENT, matches=matches).is_empty


def test_only_a_person_resets_a_document_the_portal_holds(month):
    ims, matches = month
    key = ims.filter(pl.col("doc_number") == "D1")["doc_key"][0]
    manual = complete(
        pl.DataFrame(
            {"doc_key": [key], "action": ["no_action"], "source": ["manual"], "reason": ["x"]}
        ),
        DECISION_COLUMNS,
    )
    payloads = build_payloads(ims, manual, rtin=RECIPIENT, matches=matches)
    assert payloads.reset["doc_key"].to_list() == [key]
    assert payloads.reset["prev_status"].to_list() == ["R"]


def test_rules_never_flip_a_portal_accept_or_reject(month):
    ims, matches = month
    sugg = suggest(ims, matches)
    actions = _by_number(ims, sugg, "action")
    assert (actions["D2"], actions["D3"]) == ("reject", "accept")
    payloads = build_payloads(ims, _as_rule_decisions(sugg), rtin=RECIPIENT, matches=matches)
    sent = _by_number(ims, payloads.documents(), "action")
    assert "D2" not in sent
    assert "D3" not in sent


def test_conflicts_with_the_portal_are_listed(month):
    ims, matches = month
    sugg = suggest(ims, matches)
    found = dec.conflicts(ims, sugg)
    listed = dict(found.select("doc_number", "suggested").iter_rows())
    assert listed == {"D2": "accept", "D3": "pending"}
    assert set(found["portal_action"]) == {"R", "A"}
    reason = _by_number(ims, sugg, "reason")["D2"]
    assert reason.startswith(dec.CONFLICT_PREFIX)
    assert "Rejected" in reason
    # the same conflicts read back from a decision log (what export and report see)
    logged = dec.conflicts(ims, _as_rule_decisions(sugg))
    assert dict(logged.select("doc_number", "suggested").iter_rows()) == listed


def test_pending_document_accepted_when_it_now_matches(month):
    ims, matches = month
    sugg = suggest(ims, matches)
    assert _by_number(ims, sugg, "action")["D4"] == "accept"
    assert _by_number(ims, sugg, "action")["D5"] == "pending"
    assert _by_number(ims, sugg, "remarks")["D5"] is None  # nothing new sent to the supplier
    payloads = build_payloads(ims, _as_rule_decisions(sugg), rtin=RECIPIENT, matches=matches)
    sent = _by_number(ims, payloads.documents(), "action")
    assert sent == {"D4": "A", "D6": "A", "D7": "P"}


def test_policy_override_lets_rules_change_portal_actions_but_never_reset(month):
    ims, matches = month
    text = DEFAULT_RULES_PATH.read_text(encoding="utf-8").replace(
        "rules_override_portal = false", "rules_override_portal = true"
    )
    rules = parse_rules(text)
    assert rules.policy.rules_override_portal
    sugg = suggest(ims, matches, rules=rules)
    assert sugg["conflict"].null_count() == sugg.height
    payloads = build_payloads(
        ims, _as_rule_decisions(sugg), rtin=RECIPIENT, matches=matches, rules=rules
    )
    sent = _by_number(ims, payloads.documents(), "action")
    assert sent["D2"] == "A"
    assert sent["D3"] == "P"
    assert payloads.reset.is_empty()


def test_default_policy_is_explicit_in_the_rule_file():
    assert "[policy]" in DEFAULT_RULES_PATH.read_text(encoding="utf-8")
    assert load_rules().policy.rules_override_portal is False


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[policy]\nrules_overide_portal = true\n", "unknown setting 'rules_overide_portal'"),
        ('[policy]\nrules_override_portal = "yes"\n', "must be true or false"),
        ("policy = 1\n", "must be a table"),
    ],
)
def test_policy_is_validated_when_the_rule_file_loads(text, message):
    with pytest.raises(InputError, match=message):
        parse_rules(text)


def test_stale_rule_decision_that_flips_the_portal_is_not_sent(month):
    """A rule decision logged before the portal changed (or before the policy) is held back."""
    ims, _matches = month
    key = ims.filter(pl.col("doc_number") == "D2")["doc_key"][0]
    stale = complete(
        pl.DataFrame({"doc_key": [key], "action": ["accept"], "source": ["rule"]}),
        DECISION_COLUMNS,
    )
    assert dec.sendable(ims, stale).is_empty()
    person = stale.with_columns(source=pl.lit("manual"))
    assert dec.sendable(ims, person).height == 1  # a person's decision always goes


def test_wrong_recipient_booking_remark_names_the_gstin_we_booked_under():
    reasons = (
        f"booked under recipient GSTIN {OTHER_OURS}, IMS is for {RECIPIENT} "
        "(another registration of the buyer)"
    )
    ims, matches = _case(
        [{"match": "mismatch", "match_reasons": reasons, "match_diff_taxable_value": "0.00",
          "match_diff_days": 0}]
    )  # fmt: skip
    remark = suggest(ims, matches)["remarks"][0]
    assert OTHER_OURS in remark
    assert RECIPIENT in remark
    assert "0.00" not in remark
    assert "0 days" not in remark


def test_rule_remarks_never_go_with_accept():
    ims, matches = _case([{"match": "exact"}, {"match": "exact"}])
    rules = parse_rules(
        '[[suggest]]\nid = "r_loud_accept"\nwhen = "true"\naction = "accept"\n'
        'reason = "x"\nremarks = "Accepted {doc_number}"\n'
    )
    sugg = suggest(ims, matches, rules=rules)
    assert sugg["remarks"].null_count() == 2
    # a rule decision carrying remarks with Accept (e.g. logged earlier) sends none ...
    logged = _as_rule_decisions(sugg).with_columns(remarks=pl.lit("from a rule"))
    text = build_payloads(ims, logged, rtin=RECIPIENT, matches=matches).text()
    assert "from a rule" not in text
    # ... a person's remark with Accept goes
    person = logged.with_columns(source=pl.lit("manual"), remarks=pl.lit("checked by CA"))
    assert "checked by CA" in build_payloads(ims, person, rtin=RECIPIENT, matches=matches).text()
