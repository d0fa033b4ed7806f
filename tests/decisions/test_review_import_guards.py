"""Issue 11: an Excel import enforces every guard like `decide` (sheet, row and the guard's
message), and a remark goes only with the action it was written for."""

from __future__ import annotations

import openpyxl
import polars as pl
import pytest
from decision_helpers import case

from imsdata.errors import GuardError
from imsdata.review import ACTION, CONFLICT, REASON, REMARKS, read_review, write_review
from imsdata.rules import suggest
from imsdata.testing import RECIPIENT

PERIOD = "112025"


@pytest.fixture
def month(tmp_path):
    """D1 not in our books (pending), D2 differs from the books (pending with a remark), D3
    rejected on the portal although the books now match (a conflict with the portal)."""
    ims, matches = case(
        [
            {},
            {"match": "mismatch", "match_diff_taxable_value": "25.00"},
            {"portal_action": "R", "match": "exact"},
        ]
    )
    path = tmp_path / "review.xlsx"
    suggestions = suggest(ims, matches)
    write_review(path, ims, matches, suggestions, rtin=RECIPIENT, period=PERIOD, all_documents=True)
    return ims, matches, path


def _edit(path, out, edits: dict[tuple[str, str], object]):
    wb = openpyxl.load_workbook(path)
    ws = wb["B2B"]
    headers = [c.value for c in ws[1]]
    number = headers.index("Number") + 1
    for (doc, header), value in edits.items():
        row = next(r for r in range(2, ws.max_row + 1) if ws.cell(r, number).value == doc)
        ws.cell(row, headers.index(header) + 1).value = value
    wb.save(out)
    return out


def _row(path, doc: str) -> int:
    ws = openpyxl.load_workbook(path)["B2B"]
    number = [c.value for c in ws[1]].index("Number") + 1
    return next(r for r in range(2, ws.max_row + 1) if ws.cell(r, number).value == doc)


def test_excel_accept_without_reason_is_refused_with_sheet_row_and_guard_message(month, tmp_path):
    ims, matches, path = month
    edited = _edit(path, tmp_path / "e.xlsx", {("D1", ACTION): "Accept"})
    with pytest.raises(GuardError) as refused:
        read_review(edited, ims, rtin=RECIPIENT, period=PERIOD, matches=matches)
    text = str(refused.value)
    assert f"sheet B2B row {_row(edited, 'D1')}" in text
    assert "Not in our books: accepting claims ITC the books do not support" in text
    assert "no_accept_not_in_books" in text
    assert "Reason column" in text


def test_excel_accept_with_a_reason_overrides_the_guard_like_decide(month, tmp_path):
    ims, matches, path = month
    edited = _edit(
        path, tmp_path / "e.xlsx", {("D1", ACTION): "Accept", ("D1", REASON): "invoice in hand"}
    )
    out = read_review(edited, ims, rtin=RECIPIENT, period=PERIOD, matches=matches)
    row = out.row(0, named=True)
    assert row["action"] == "accept"
    assert row["reason"].startswith("invoice in hand")


def test_changing_the_action_in_excel_drops_the_rules_remark(month, tmp_path):
    ims, matches, path = month
    edited = _edit(path, tmp_path / "e.xlsx", {("D2", ACTION): "Accept"})
    out = read_review(edited, ims, rtin=RECIPIENT, period=PERIOD, matches=matches)
    assert out.select("action", "remarks").rows() == [("accept", None)]


def test_a_remark_the_person_edits_goes_with_the_new_action(month, tmp_path):
    ims, matches, path = month
    edited = _edit(
        path,
        tmp_path / "e.xlsx",
        {("D2", ACTION): "Reject", ("D2", REMARKS): "Rate charged is wrong; issue a credit note"},
    )
    out = read_review(edited, ims, rtin=RECIPIENT, period=PERIOD, matches=matches)
    assert out.select("action", "remarks").rows() == [
        ("reject", "Rate charged is wrong; issue a credit note")
    ]


def test_review_workbook_has_a_conflict_column_with_a_filter(month):
    _, _, path = month
    wb = openpyxl.load_workbook(path)
    ws = wb["B2B"]
    headers = [c.value for c in ws[1]]
    col = headers.index(CONFLICT) + 1
    values = {ws.cell(r, headers.index("Number") + 1).value: ws.cell(r, col).value
              for r in range(2, ws.max_row + 1)}  # fmt: skip
    assert values == {"D1": None, "D2": None, "D3": "rule suggests Accept"}
    assert ws.auto_filter.ref is not None
    last = openpyxl.utils.get_column_letter(len(headers))
    assert ws.auto_filter.ref.endswith(f"{last}{ws.max_row}")
    home = [c.value for row in wb["Home"].iter_rows() for c in row if c.value]
    assert any("1 document(s)" in str(v) for v in home)


def test_conflicting_document_keeps_the_portal_action_in_the_workbook(month):
    ims, matches, path = month
    ws = openpyxl.load_workbook(path)["B2B"]
    headers = [c.value for c in ws[1]]
    row = _row(path, "D3")
    assert ws.cell(row, headers.index(ACTION) + 1).value == "Reject"  # the portal's, kept
    sugg = suggest(ims, matches)
    d3 = sugg.join(ims.select("doc_key", "doc_number"), on="doc_key").filter(
        pl.col("doc_number") == "D3"
    )
    assert d3.select("action", "conflict").rows() == [("reject", "accept")]
