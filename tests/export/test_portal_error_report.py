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


def test_supplier_level_entry_applies_to_all_its_documents(sample_ims, sample_decisions, no_guards):
    uploaded = _uploaded(sample_ims, sample_decisions, no_guards)
    report = {"error_report": {"b2b": [{"stin": SUPPLIER, "error_cd": "E1", "error_msg": "m"}]}}
    matched = match_errors(parse_error_report(report), uploaded)
    expected = uploaded.filter(
        (pl.col("section") == "b2b") & (pl.col("supplier_gstin") == SUPPLIER)
    )
    assert sorted(matched["doc_key"]) == sorted(expected["doc_key"])


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
