"""The bundled rules on the cases an analyst meets every month, and the decision view."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from conftest import case

from imsdata.engine import DuckDBEngine
from imsdata.errors import UsageError
from imsdata.rules import (
    FALLBACK_RULE_ID,
    SUGGESTION_COLUMNS,
    VIEW_COLUMNS,
    decision_view,
    load_rules,
    parse_rules,
    resolve_period,
    rules_document,
    suggest,
)
from imsdata.testing import ims_frame

DOCS = Path(__file__).resolve().parents[2] / "docs" / "rules.md"
AFTER = dt.date(2025, 12, 3)  # the default period is the most common supplier_period, 112025
DOWN = {"cgst": "450", "sgst": "450"}  # below the default 900 each: a downward amendment


@pytest.mark.parametrize(
    ("doc", "action", "rule_id"),
    [
        ({"match": "exact"}, "accept", "r_exact"),
        ({"match": "within_tolerance"}, "accept", "r_within_tolerance"),
        ({"match": "probable"}, "pending", "r_probable"),
        ({"match": "mismatch"}, "pending", "r_mismatch"),
        ({"match": "pan_match"}, "pending", "r_pan_match"),
        ({}, "pending", "r_not_in_books"),
        ({"section": "b2bcn"}, "pending", "r_cn_not_in_books"),
        ({"section": "b2bcn", "match": "exact"}, "accept", "r_declare_full"),
        ({"match": "exact", "doc_date": AFTER}, "accept", "r_exact"),  # its own period: 112025
        ({"match": "exact", "match_superseded_by": "b2ba|X|1|2025-11-20"}, "no_action",
         "r_superseded"),
        ({"portal_action": "R"}, "reject", "r_keep_rejected"),
        ({"portal_action": "A", "match": "mismatch"}, "accept", "r_keep_accepted"),
        ({"portal_action": "P", "match": "probable"}, "pending", "r_keep_pending"),
        ({"portal_action": "P", "match": "exact"}, "accept", "r_exact"),
    ],
)  # fmt: skip
def test_default_rules_on_representative_cases(doc, action, rule_id):
    ims, matches = case([doc])
    out = suggest(ims, matches).row(0, named=True)
    assert (out["action"], out["rule_id"], out["stopped_by"]) == (action, rule_id, None)


def test_mismatch_remarks_tell_the_supplier_what_differs():
    diffs = {"match_diff_taxable_value": "10.00", "match_diff_cgst": "0.90",
             "match_diff_sgst": "0.90", "match_diff_days": 0}  # fmt: skip
    ims, matches = case([{"match": "mismatch", **diffs}])
    out = suggest(ims, matches).row(0, named=True)
    assert out["remarks"] == (
        "Differs from our books: taxable value 10.00 more than in our books; "
        "tax 1.80 more than in our books"
    )


def test_not_in_books_never_accepted_and_left_alone_when_pending_is_blocked():
    ims, matches = case([{"pending_blocked": True}, {"pending_blocked": True, "match": "mismatch"}])
    out = suggest(ims, matches)
    assert out["action"].to_list() == ["no_action", "no_action"]
    assert out["rule_id"].to_list() == ["r_review_blocked", "r_review_blocked"]
    assert "deemed accepted" in out["reason"][0]
    assert out["stopped_by"][0] == "pending_blocked stopped r_not_in_books"
    assert out["stopped_by"][1] == "pending_blocked stopped r_mismatch"


def test_credit_note_missing_from_books_is_never_accepted_nor_rejected():
    blocked = suggest(*case([{"section": "b2bcn", "pending_blocked": True}]))
    # before the October 2025 period Pending on credit notes did not exist (R3)
    august = {"section": "b2bcn", "doc_date": dt.date(2025, 8, 5), "supplier_period": "082025"}
    out = pl.concat([blocked, suggest(*case([august]))])
    assert out["action"].to_list() == ["no_action", "no_action"]
    assert out["rule_id"].to_list() == ["r_cn_not_in_books_blocked"] * 2
    assert out["stopped_by"][0] == "pending_blocked stopped r_cn_not_in_books"
    assert out["stopped_by"][1].startswith("cn_pending_before_oct2025 stopped r_cn_not_in_books")
    assert "ITC is reduced" in out["reason"][0]


def test_supplier_not_filed_keeps_the_match_action_and_says_so():
    ims, matches = case([{"match": "exact", "supplier_filed": False}])
    out = suggest(ims, matches).row(0, named=True)
    assert (out["action"], out["rule_id"]) == ("accept", "r_matched_not_filed")
    assert "not filed" in out["reason"]


def test_default_period_is_the_main_one_not_next_month():
    # two documents of November and one the supplier already filed for December
    docs = [{"match": "exact"}, {"match": "exact"}]
    docs.append({"match": "exact", "doc_date": AFTER, "supplier_period": "122025"})
    ims, matches = case(docs)
    assert resolve_period(ims, None) == "112025"
    assert suggest(ims, matches)["rule_id"].to_list() == ["r_exact", "r_exact", "r_after_period"]
    tie = ims_frame([{"supplier_period": "102025"}, {"supplier_period": "112025"}])
    assert resolve_period(tie, None) == "112025"


def test_period_decides_what_is_after_it():
    ims, matches = case([{"match": "exact", "doc_date": AFTER, "supplier_period": "122025"}])
    assert suggest(ims, matches, period="112025")["rule_id"][0] == "r_after_period"
    assert suggest(ims, matches, period="122025")["rule_id"][0] == "r_exact"
    with pytest.raises(UsageError, match="MMYYYY"):
        suggest(ims, matches, period="2025-12")


def test_every_document_gets_one_action_even_when_no_rule_applies():
    rules = parse_rules(
        '[[suggest]]\nid = "r_only"\nwhen = "false"\naction = "accept"\nreason = "x"'
    )
    ims, matches = case([{}, {"match": "exact"}, {"section": "b2bdn"}])
    out = suggest(ims, matches, rules=rules)
    assert out.schema == pl.Schema(SUGGESTION_COLUMNS)
    assert out["doc_key"].to_list() == sorted(ims["doc_key"].to_list())
    assert set(out["action"]) == {"no_action"}
    assert set(out["rule_id"]) == {FALLBACK_RULE_ID}


def test_guard_stopping_every_rule_leaves_the_fallback_with_the_story():
    text = (
        '[[suggest]]\nid = "r_a"\nwhen = "true"\naction = "pending"\nreason = "a"\n'
        '[[guard]]\nid = "g_no_pending"\nforbid = "action = \'pending\'"\nmessage = "no"\n'
    )
    ims, matches = case([{}])
    out = suggest(ims, matches, rules=parse_rules(text)).row(0, named=True)
    assert (out["action"], out["rule_id"]) == ("no_action", FALLBACK_RULE_ID)
    assert out["stopped_by"] == "g_no_pending stopped r_a"


def test_suggest_is_deterministic_and_runs_in_a_given_engine():
    ims, matches = case([{"match": s} for s in ("exact", "mismatch", "probable")] + [{}])
    first = suggest(ims, matches)
    with DuckDBEngine() as engine:
        again = suggest(ims.reverse(), matches, engine=engine)
    assert first.equals(again)


def test_decision_view_columns_are_the_documented_ones():
    ims, matches = case([{"match": "exact"}, {"section": "b2bcn"}])
    view = decision_view(ims, matches)
    assert view.columns == list(VIEW_COLUMNS)
    rows = view.select("section", "has_register", "itc_reduction_allowed", "reject_allowed")
    assert rows.rows() == [("b2bcn", False, True, True), ("b2b", True, False, True)]
    assert view["period"].to_list() == ["112025", "112025"]
    assert view["period_end"][0] == dt.date(2025, 11, 30)
    assert view["portal_action_word"][0] == "no_action"


def test_a_document_matched_twice_is_judged_on_its_best_match_only():
    """Matches from elsewhere (a notebook, an older run) may hold two rows for one document:
    the view keeps one row per document, the higher score's, not two."""
    ims, matches = case([{"match": "exact"}])
    worse = matches.with_columns(
        register_id=pl.lit("R-9"), match_status=pl.lit("mismatch"), match_score=pl.lit(40.0)
    )
    twice = pl.concat([worse, matches], how="vertical_relaxed")
    view = decision_view(ims, twice)
    assert view.select("match_status", "register_id").rows() == [
        ("exact", matches["register_id"][0])
    ]
    assert suggest(ims, twice)["action"].to_list() == suggest(ims, matches)["action"].to_list()


def test_decision_view_shows_the_latest_decision_as_the_proposal():
    ims, matches = case([{"match": "exact"}])
    key = ims["doc_key"][0]
    decisions = pl.DataFrame({"doc_key": [key, key], "action": ["pending", "accept"]})
    view = decision_view(ims, matches, decisions)
    assert view["action"].to_list() == ["accept"]


def test_docs_rules_md_is_generated_from_the_rule_file():
    text = DOCS.read_text(encoding="utf-8")
    assert text == rules_document(load_rules()), "run: python -m imsdata.rules docs/rules.md"
    for column in VIEW_COLUMNS:
        assert f"`{column}`" in text


@pytest.mark.parametrize(
    ("doc", "action", "rule_id"),
    [
        # the supplier's return period decides, not the document date
        ({"supplier_period": "122025", "doc_date": dt.date(2025, 11, 28)}, "no_action",
         "r_after_period"),
        ({"supplier_period": "112025", "doc_date": dt.date(2025, 11, 28)}, "accept", "r_exact"),
        # a November-period document dated in December (a supplier's slip) stays in November
        ({"supplier_period": "112025", "doc_date": AFTER}, "accept", "r_exact"),
        # already pending on the portal: kept pending, never reset
        ({"supplier_period": "122025", "portal_action": "P"}, "pending",
         "r_after_period_pending"),
        # a later-period credit note is left as it is too
        ({"section": "b2bcn", "supplier_period": "122025"}, "no_action", "r_after_period"),
    ],
)  # fmt: skip
def test_a_document_of_a_later_2b_period_is_left_as_it_is_not_parked_on_pending(
    doc, action, rule_id
):
    ims, matches = case([{"match": "exact", **doc}])
    out = suggest(ims, matches, period="112025").row(0, named=True)
    assert (out["action"], out["rule_id"]) == (action, rule_id)


@pytest.mark.parametrize(
    ("docs", "expected"),
    [
        # a matched credit note: its original is in our books, full reduction
        ([{"section": "b2bcn", "match": "exact"}], ("Y", "r_declare_full")),
        # the portal blocks the declaration: accepted without one
        ([{"section": "b2bcn", "match": "exact", "itc_reduction_blocked": True}],
         (None, "r_exact")),
        # an amendment whose original (in this download) was rejected: nothing was claimed
        ([{"doc_number": "O-1", "portal_action": "R", "match": "exact"},
          {"section": "b2ba", "doc_number": "O-2", "orig_doc_number": "O-1", **DOWN,
           "orig_doc_date": dt.date(2025, 11, 5), "match": "exact"}], ("N", "r_declare_none")),
        # an amendment whose original was accepted and is in our books: full reduction
        ([{"doc_number": "O-1", "portal_action": "A", "match": "exact"},
          {"section": "b2ba", "doc_number": "O-2", "orig_doc_number": "O-1", **DOWN,
           "orig_doc_date": dt.date(2025, 11, 5), "match": "exact"}], ("Y", "r_declare_full")),
        # an upward invoice amendment is not a specified record: no declaration (R5)
        ([{"doc_number": "O-1", "portal_action": "A", "match": "exact"},
          {"section": "b2ba", "doc_number": "O-2", "orig_doc_number": "O-1", "cgst": "1200",
           "sgst": "1200", "orig_doc_date": dt.date(2025, 11, 5), "match": "exact"}],
         (None, "r_exact")),
        # an amendment whose original is not in the download: direction unknown, no declaration
        ([{"section": "b2ba", "doc_number": "O-2", "orig_doc_number": "O-1", **DOWN,
           "orig_doc_date": dt.date(2025, 10, 5), "match": "exact"}], (None, "r_exact")),
    ],
)  # fmt: skip
def test_the_default_rule_proposes_the_itc_reduction_declaration_from_the_books(docs, expected):
    ims, matches = case(docs)
    out = suggest(ims, matches).filter(pl.col("doc_key") == ims["doc_key"][-1]).row(0, named=True)
    assert (out["itc_reduction"], out["rule_id"]) == expected
    assert out["action"] == "accept"


@pytest.mark.parametrize(
    ("supplier_period", "period", "allowed"),
    [
        ("092025", "112025", False),  # the note's own period is before October 2025
        ("102025", "112025", True),
        ("102025", "092025", True),  # worked in September, the note belongs to October
        ("092025", "092025", False),
    ],
)
def test_credit_note_pending_is_judged_on_the_notes_own_period(supplier_period, period, allowed):
    doc = {"section": "b2bcn", "supplier_period": supplier_period,
           "doc_date": dt.date(int(supplier_period[2:]), int(supplier_period[:2]), 5)}  # fmt: skip
    out = suggest(*case([doc]), period=period).row(0, named=True)
    if allowed:
        assert (out["action"], out["rule_id"]) in {
            ("pending", "r_cn_not_in_books"),
            ("no_action", "r_after_period"),
        }
    else:
        assert out["rule_id"] == "r_cn_not_in_books_blocked"
        assert out["stopped_by"].startswith("cn_pending_before_oct2025")
