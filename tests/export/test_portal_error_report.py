"""The portal's error report: every shape read, each error matched or listed, advice, outcome."""

from __future__ import annotations

import json

import polars as pl
import pytest

from imsdata.errors import InputError
from imsdata.portal.errors import (
    match_errors,
    parse_error_report,
    portal_decisions,
    read_error_report,
    to_fix,
)
from imsdata.portal.write import build_payloads
from imsdata.testing import RECIPIENT, SUPPLIER

API_REPORT = {
    "status_cd": "1",
    "data": {
        "status_cd": "PE",
        "transTypCd": "SAV",
        "proc_cnt": 6,
        "err_cnt": 3,
        "error_report": {
            "b2b": [
                {
                    "stin": SUPPLIER,
                    "error_cd": "IMSSAV0010",
                    "error_msg": "Either previous action is incorrect / invoice might have edited",
                    "inv": [{"inum": "INV/25/0043", "rtnprd": "112025"}],
                }
            ],
            # notes are reported with inum (IC's assumption) ...
            "b2bcn": [
                {
                    "stin": SUPPLIER,
                    "error_cd": "IMSSAV005",
                    "error_msg": "schema",
                    "inv": [{"inum": "CN-17", "rtnprd": "112025"}],
                }
            ],
            # ... or with nt_num; and an error for a document we never uploaded
            "b2bcna": [
                {
                    "stin": SUPPLIER,
                    "error_cd": "XYZ999",
                    "error_msg": "Something odd",
                    "inv": [
                        {"nt_num": "CN-18A", "rtnprd": "112025"},
                        {"nt_num": "CN-404", "rtnprd": "112025"},
                    ],
                }
            ],
        },
    },
}


def _uploaded(sample_ims, sample_decisions, no_guards) -> pl.DataFrame:
    p = build_payloads(sample_ims, sample_decisions, rtin=RECIPIENT, rules=no_guards)
    return p.documents().join(
        sample_ims.select("doc_key", "supplier_gstin", "doc_number"), on="doc_key"
    )


def test_api_report_is_read_one_row_per_document(tmp_path):
    path = tmp_path / "status.json"
    path.write_text(json.dumps(API_REPORT))
    errors = read_error_report(path)
    assert errors["status"].unique().to_list() == ["PE"]
    assert errors.select("section", "doc_number", "error_code").rows() == [
        ("b2b", "INV/25/0043", "IMSSAV0010"),
        ("b2bcn", "CN-17", "IMSSAV005"),
        ("b2bcna", "CN-18A", "XYZ999"),
        ("b2bcna", "CN-404", "XYZ999"),
    ]
    assert errors["source_file"].unique().to_list() == [str(path)]


def test_errors_are_matched_unmatched_kept_and_advised(sample_ims, sample_decisions, no_guards):
    uploaded = _uploaded(sample_ims, sample_decisions, no_guards)
    matched = match_errors(parse_error_report(API_REPORT), uploaded)
    fix = to_fix(matched)
    assert fix.height == 4  # nothing dropped
    assert fix.filter(~pl.col("matched_document"))["doc_number"].to_list() == ["CN-404"]
    advice = dict(zip(fix["error_code"], fix["advice"], strict=False))
    assert "Download IMS again" in advice["IMSSAV0010"]
    assert "schema validation" in advice["IMSSAV005"]
    assert advice["XYZ999"] == "The portal says: Something odd"


def test_every_other_uploaded_document_becomes_a_portal_decision(
    sample_ims, sample_decisions, no_guards
):
    uploaded = _uploaded(sample_ims, sample_decisions, no_guards)
    matched = match_errors(parse_error_report(API_REPORT), uploaded)
    accepted = portal_decisions(uploaded, matched)
    failed = {"INV/25/0043", "CN-17", "CN-18A"}
    expected = uploaded.filter(~pl.col("doc_number").is_in(failed))
    assert sorted(accepted["doc_key"]) == sorted(expected["doc_key"])
    assert set(accepted["source"]) == {"portal"}
    by_key = dict(zip(accepted["doc_key"], accepted["action"], strict=True))
    resets = uploaded.filter(pl.col("kind") == "reset")["doc_key"]
    assert {by_key[k] for k in resets} == {"no_action"}
    first = uploaded.filter(pl.col("doc_number") == "00123")["doc_key"][0]
    assert by_key[first] == "accept"


def test_request_level_error_accepts_nothing(sample_ims, sample_decisions, no_guards):
    uploaded = _uploaded(sample_ims, sample_decisions, no_guards)
    report = {"data": {"status_cd": "ER", "err_cd": "GEN5001", "err_msg": "Mandatory missing"}}
    matched = match_errors(parse_error_report(report), uploaded)
    assert portal_decisions(uploaded, matched).is_empty()
    assert "Mandatory parameters" in to_fix(matched)["advice"][0]


def test_processed_without_errors_accepts_every_uploaded_document(
    sample_ims, sample_decisions, no_guards
):
    uploaded = _uploaded(sample_ims, sample_decisions, no_guards)
    matched = match_errors(parse_error_report({"status_cd": "P", "proc_cnt": 8}), uploaded)
    assert portal_decisions(uploaded, matched).height == uploaded.height


def test_offline_tool_error_file(sample_ims, sample_decisions, no_guards):
    report = {
        "imsDetailsErr": {
            "b2bcn": [
                {
                    "stin": SUPPLIER,
                    "nt_num": "CN-17",
                    "nt_dt": "20-11-2025",
                    "error_cd": "IMSSAV005",
                    "error_msg": "bad decl",
                }
            ]
        }
    }
    errors = parse_error_report(report)
    assert errors.select("section", "doc_number", "error_message").rows() == [
        ("b2bcn", "CN-17", "bad decl")
    ]
    uploaded = _uploaded(sample_ims, sample_decisions, no_guards)
    matched = match_errors(errors, uploaded)
    assert matched["doc_key"][0].startswith("b2bcn|")


def test_supplier_level_entry_is_reported_as_such_and_marks_no_document(
    sample_ims, sample_decisions, no_guards
):
    uploaded = _uploaded(sample_ims, sample_decisions, no_guards)
    report = {"error_report": {"b2b": [{"stin": SUPPLIER, "error_cd": "E1", "error_msg": "m"}]}}
    matched = match_errors(parse_error_report(report), uploaded)
    expected = uploaded.filter(
        (pl.col("section") == "b2b") & (pl.col("supplier_gstin") == SUPPLIER)
    )
    assert matched.height == 1
    assert matched["doc_key"].to_list() == [None]
    assert matched["match"].to_list() == ["supplier"]
    assert sorted(matched["related"][0]) == sorted(expected["doc_key"])
    fix = to_fix(matched)
    assert fix["match"][0].startswith("supplier-level entry")
    # the portal's outcome for that supplier's documents is unknown: none is marked processed
    processed = portal_decisions(uploaded, matched)
    assert set(processed["doc_key"]).isdisjoint(expected["doc_key"])
    assert processed.height == uploaded.height - expected.height


def _two_years() -> pl.DataFrame:
    """The same supplier and number in two financial years (numbering restarts each April)."""
    return pl.DataFrame(
        {
            "doc_key": [
                f"b2b|{SUPPLIER}|INV-1|2024-11-05",
                f"b2b|{SUPPLIER}|INV-1|2025-11-05",
            ],
            "section": ["b2b", "b2b"],
            "supplier_gstin": [SUPPLIER, SUPPLIER],
            "doc_number": ["INV-1", "INV-1"],
            "supplier_period": ["112024", "112025"],
        }
    )


@pytest.mark.parametrize(
    ("item", "expected", "match"),
    [
        ({"inum": "INV-1", "rtnprd": "112025"}, "2025-11-05", "document"),
        ({"inum": "INV-1", "rtnprd": "112024"}, "2024-11-05", "document"),
        ({"inum": "INV-1", "idt": "05-11-2024"}, "2024-11-05", "document"),
        ({"inum": "INV-1", "idt": "06-11-2024"}, None, "none"),
        ({"inum": "INV-1"}, None, "ambiguous"),
        ({"inum": "INV-2", "rtnprd": "112025"}, None, "none"),
    ],
)
def test_error_is_matched_on_the_full_document_key(item, expected, match) -> None:
    report = {"error_report": {"b2b": [{"stin": SUPPLIER, "error_cd": "E", "inv": [item]}]}}
    matched = match_errors(parse_error_report(report), _two_years())
    assert matched["match"].to_list() == [match]
    got = matched["doc_key"][0]
    assert (got.rsplit("|", 1)[1] if got else None) == expected


def test_without_supplier_periods_the_return_period_picks_the_financial_year() -> None:
    docs = _two_years().drop("supplier_period")
    item = {"inum": "INV-1", "rtnprd": "042025"}
    report = {"error_report": {"b2b": [{"stin": SUPPLIER, "error_cd": "E", "inv": [item]}]}}
    matched = match_errors(parse_error_report(report), docs)
    # a November 2024 invoice may be reported in April 2025 (previous financial year); the
    # November 2025 one cannot be in a return for April 2025
    assert matched["doc_key"].to_list() == [f"b2b|{SUPPLIER}|INV-1|2024-11-05"]


def test_ambiguous_error_marks_neither_document_processed() -> None:
    docs = _two_years()
    report = {"error_report": {"b2b": [{"stin": SUPPLIER, "error_cd": "E",
                                        "inv": [{"inum": "INV-1"}]}]}}  # fmt: skip
    matched = match_errors(parse_error_report(report), docs)
    uploaded = docs.with_columns(action=pl.lit("A"))
    assert portal_decisions(uploaded, matched).height == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "not an IMS error report"),
        ('{"hello": 1}', "not an IMS error report"),
        ('{"data": {"status_cd": "IP"}}', "still processing"),
    ],
)
def test_bad_report_is_an_input_error_naming_the_file(tmp_path, content, message):
    path = tmp_path / "r.json"
    path.write_text(content)
    with pytest.raises(InputError, match=message) as info:
        read_error_report(path)
    assert "r.json" in str(info.value)
