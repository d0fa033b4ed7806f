"""explain(): the nearest register rows of a document and the tests each failed, in words."""

import datetime as dt

import pytest

from imsdata.errors import InputError
from imsdata.reconcile import explain
from imsdata.testing import SUPPLIER, ims_frame, register_frame

D = dt.date(2025, 11, 5)


@pytest.fixture
def data():
    ims = ims_frame([{"doc_number": "QKI/055190"}, {"doc_number": "A-1"}])
    reg = register_frame(
        [
            {"doc_number": "QKI/053612", "register_id": "near"},
            {"doc_number": "QKI/055190", "doc_type": "CN", "register_id": "cn"},
            {
                "doc_number": "QKI-55190",
                "doc_date": D + dt.timedelta(days=45),
                "register_id": "late",
            },
            {"doc_number": "A-1", "register_id": "a1"},
        ]
    )
    return ims, reg


def test_explain_lists_candidates_with_failed_tests(data):
    ims, reg = data
    out = explain("QKI/055190", ims, reg)
    rows = {r["register_id"]: r for r in out.to_dicts()}
    assert out["rank"].to_list() == list(range(1, out.height + 1))
    assert rows["late"]["rank"] == 1  # the actual pair is shown first
    assert rows["late"]["verdict"] == "paired: mismatch"
    assert rows["late"]["failed_tests"] == "date 45 days apart (window 10)"
    assert rows["near"]["verdict"] == "rejected"
    assert rows["near"]["failed_tests"] == "numeric cores differ (55190 vs 53612)"
    assert rows["cn"]["failed_tests"] == "document class differs (IMS INV, books CN)"
    assert rows["a1"]["verdict"].startswith("taken by b2b|")


def test_explain_accepts_a_doc_key_or_gstin_and_number_and_limits(data):
    ims, reg = data
    key = ims["doc_key"][0]
    assert explain(key, ims, reg)["doc_key"].unique().to_list() == [key]
    out = explain(f"{SUPPLIER}:qki-55190", ims, reg, limit=2)
    assert out.height == 2
    assert out["doc_key"].unique().to_list() == [key]


def test_explain_of_an_unknown_document_is_an_input_error(data):
    ims, reg = data
    with pytest.raises(InputError, match="no IMS document matches 'ZZZ-1'"):
        explain("ZZZ-1", ims, reg)


def test_explain_with_no_candidate_says_so():
    ims = ims_frame([{"doc_number": "LONE-1"}])
    reg = register_frame([{"doc_number": "X", "supplier_gstin": "24AAQCA8719H1ZC"}])
    out = explain("LONE-1", ims, reg)
    assert out.height == 1
    assert out["verdict"][0].startswith("no register row")


def test_explain_reuses_a_given_reconciliation(data):
    from imsdata.reconcile import reconcile

    ims, reg = data
    assert explain("A-1", ims, reg, matches=reconcile(ims, reg)).equals(explain("A-1", ims, reg))
