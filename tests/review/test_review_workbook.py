"""The Excel review workbook: written like the portal tool, edited with openpyxl, read back."""

from __future__ import annotations

import datetime as dt
import zipfile

import openpyxl
import polars as pl
import pytest

from imsdata.errors import GuardError, InputError
from imsdata.review import ACTION, INR_FORMAT, REMARKS, read_review, write_review
from imsdata.rules import suggest
from imsdata.schemas import DECISION_COLUMNS, MATCH_COLUMNS, empty
from imsdata.testing import RECIPIENT, complete, ims_frame

PERIOD = "112025"


@pytest.fixture
def ims() -> pl.DataFrame:
    return ims_frame(
        [
            {"doc_number": "-5", "supplier_name": '=HYPERLINK("http://evil.example","x")'},
            {"doc_number": "INV-2", "taxable_value": "12345678.5", "supplier_name": "+cmd"},
            {"section": "b2bcn", "doc_number": "@CN-1", "pending_blocked": True},
            {
                "section": "b2ba",
                "doc_number": "INV-3A",
                "orig_doc_number": "INV-3",
                "orig_doc_date": dt.date(2025, 10, 1),
            },
        ]
    )


@pytest.fixture
def workbook(tmp_path, ims):
    matches = empty(MATCH_COLUMNS)
    path = tmp_path / "review.xlsx"
    write_review(path, ims, matches, suggest(ims, matches), rtin=RECIPIENT, period=PERIOD)
    return path


def _headers(ws) -> list[str]:
    return [c.value for c in ws[1]]


def _cell(ws, row: int, header: str):
    return ws.cell(row, _headers(ws).index(header) + 1)


def _row_of(ws, number: str) -> int:
    col = _headers(ws).index("Number") + 1
    return next(r for r in range(2, ws.max_row + 1) if ws.cell(r, col).value == number)


def test_sheets_home_then_sections_present_in_registry_order(workbook):
    wb = openpyxl.load_workbook(workbook)
    assert wb.sheetnames == ["Home", "B2B", "B2BA", "CN"]
    home = wb["Home"]
    assert (home["A3"].value, home["B3"].value) == ("GSTIN", RECIPIENT)
    assert (home["A4"].value, home["B4"].value) == ("Period", PERIOD)
    summary = {home.cell(r, 1).value for r in range(7, 12)}
    assert {"B2B", "B2BA", "CN"} <= summary


def test_section_sheet_layout_protection_dropdown_and_formats(workbook):
    ws = openpyxl.load_workbook(workbook)["B2B"]
    heads = _headers(ws)
    assert heads[0] == "doc_key"
    assert ws.column_dimensions["A"].hidden
    assert {"Match status", "Score", "Reasons", "Suggested action", "Rule", ACTION, REMARKS} <= set(
        heads
    )
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref
    assert ws.protection.sheet
    row = _row_of(ws, "INV-2")
    assert _cell(ws, row, ACTION).protection.locked is False
    assert _cell(ws, row, REMARKS).protection.locked is False
    assert _cell(ws, row, "Number").protection.locked is not False
    money = _cell(ws, row, "Taxable value")
    assert money.data_type == "n"
    assert money.value == 12345678.5
    assert money.number_format == INR_FORMAT
    (validation,) = ws.data_validations.dataValidation
    assert validation.type == "list"
    assert validation.formula1 == '"Accept,Reject,Pending,No action"'
    assert _headers(ws).index(ACTION) + 1 == openpyxl.utils.column_index_from_string(
        str(validation.sqref).split(":")[0].rstrip("0123456789")
    )


def test_amended_sheet_shows_the_original_document(workbook):
    ws = openpyxl.load_workbook(workbook)["B2BA"]
    assert _headers(ws)[1:3] == ["Original number", "Original date"]
    assert ws.cell(2, 2).value == "INV-3"


def test_download_values_that_look_like_formulas_are_text(workbook):
    # text, and formula-safe (issue 15: the OWASP apostrophe, as in every other output)
    ws = openpyxl.load_workbook(workbook)["B2B"]
    name = _cell(ws, _row_of(ws, "'-5"), "Supplier name")
    assert name.value == '\'=HYPERLINK("http://evil.example","x")'
    assert name.data_type == "s"
    number = _cell(ws, _row_of(ws, "'-5"), "Number")
    assert (number.value, number.data_type) == ("'-5", "s")
    plus = _cell(ws, _row_of(ws, "INV-2"), "Supplier name")
    assert (plus.value, plus.data_type) == ("'+cmd", "s")
    cn = openpyxl.load_workbook(workbook)["CN"]
    at = _cell(cn, 2, "Number")
    assert (at.value, at.data_type) == ("'@CN-1", "s")
    with zipfile.ZipFile(workbook) as z:
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
        assert sheets
        assert not any("<f>" in z.read(n).decode() for n in sheets)


def _edit(path, out, edits: dict[tuple[str, str, str], object]):
    """Edit cells with openpyxl: (sheet, document number, header) -> value; saves to `out`."""
    wb = openpyxl.load_workbook(path)
    for (sheet, number, header), value in edits.items():
        ws = wb[sheet]
        _cell(ws, _row_of(ws, number), header).value = value
    wb.save(out)
    return out


def test_edited_workbook_becomes_excel_decisions(tmp_path, workbook, ims):
    edited = _edit(
        workbook,
        tmp_path / "edited.xlsx",
        {
            ("B2B", "INV-2", ACTION): "Reject",
            ("B2B", "INV-2", REMARKS): "goods not received",
            ("B2BA", "INV-3A", ACTION): "Pending",
        },
    )
    decisions = read_review(edited, ims, rtin=RECIPIENT, period=PERIOD, user="asha")
    keys = dict(zip(ims["doc_number"], ims["doc_key"], strict=True))
    assert decisions.select("doc_key", "action", "remarks", "source", "user").rows() == sorted(
        [
            (keys["INV-2"], "reject", "goods not received", "excel", "asha"),
            (keys["INV-3A"], "pending", None, "excel", "asha"),
        ]
    )
    assert decisions["reason"].str.contains("row").all()


def test_unedited_workbook_gives_no_decisions(workbook, ims):
    assert read_review(workbook, ims, rtin=RECIPIENT, period=PERIOD).is_empty()


def test_workbook_for_another_gstin_or_period_is_refused(workbook, ims):
    with pytest.raises(InputError, match="GSTIN"):
        read_review(workbook, ims, rtin="27AAPFU0939F1ZV", period=PERIOD)
    with pytest.raises(InputError, match="period 112025, not 122025"):
        read_review(workbook, ims, rtin=RECIPIENT, period="122025")


def test_unknown_document_is_refused_naming_sheet_and_row(tmp_path, workbook, ims):
    edited = _edit(
        workbook, tmp_path / "e.xlsx", {("B2B", "INV-2", "doc_key"): "b2b|X|Y|2025-01-01"}
    )
    row = _row_of(openpyxl.load_workbook(edited)["B2B"], "INV-2")
    with pytest.raises(InputError, match=f"sheet B2B row {row}: unknown document"):
        read_review(edited, ims, rtin=RECIPIENT, period=PERIOD)


def test_bad_action_is_refused_naming_sheet_and_row(tmp_path, workbook, ims):
    edited = _edit(workbook, tmp_path / "e.xlsx", {("CN", "'@CN-1", ACTION): "Approve"})
    with pytest.raises(InputError, match="sheet CN row 2: action 'Approve' is not one of"):
        read_review(edited, ims, rtin=RECIPIENT, period=PERIOD)


def test_guard_refuses_an_edit_the_portal_would_reject(tmp_path, workbook, ims):
    edited = _edit(workbook, tmp_path / "e.xlsx", {("CN", "'@CN-1", ACTION): "Pending"})
    with pytest.raises(GuardError, match="pending_blocked"):
        read_review(edited, ims, rtin=RECIPIENT, period=PERIOD)


def test_not_a_workbook_is_an_input_error(tmp_path, ims):
    bad = tmp_path / "x.xlsx"
    bad.write_text("hello")
    with pytest.raises(InputError, match=r"x\.xlsx"):
        read_review(bad, ims, rtin=RECIPIENT, period=PERIOD)


def test_remarks_edit_keeps_the_itc_declaration_already_decided(tmp_path):
    cn = ims_frame([{"section": "b2bcn", "doc_number": "CN-9", "portal_action": "N"}])
    key = cn["doc_key"][0]
    current = complete(
        pl.DataFrame(
            {
                "doc_key": [key],
                "action": ["accept"],
                "source": ["manual"],
                "reason": ["ok"],
                "itc_reduction": ["Y"],
                "declared_cgst": ["50"],
                "declared_sgst": ["50"],
            }
        ),
        DECISION_COLUMNS,
    )
    matches = empty(MATCH_COLUMNS)
    path = tmp_path / "r.xlsx"
    write_review(path, cn, matches, suggest(cn, matches), current, rtin=RECIPIENT, period=PERIOD)
    edited = _edit(path, tmp_path / "e.xlsx", {("CN", "CN-9", REMARKS): "50% reversed"})
    (row,) = read_review(edited, cn, rtin=RECIPIENT, period=PERIOD, decisions=current).iter_rows(
        named=True
    )
    assert (row["action"], row["remarks"], row["itc_reduction"]) == ("accept", "50% reversed", "Y")
    assert str(row["declared_cgst"]) == "50.00"


def test_action_starts_at_the_current_decision_beside_the_suggestion(tmp_path, ims):
    matches = empty(MATCH_COLUMNS)
    key = ims.filter(pl.col("doc_number") == "INV-2")["doc_key"][0]
    current = complete(
        pl.DataFrame({"doc_key": [key], "action": ["reject"], "remarks": ["late"]}),
        DECISION_COLUMNS,
    )
    path = tmp_path / "r.xlsx"
    write_review(path, ims, matches, suggest(ims, matches), current, rtin=RECIPIENT, period=PERIOD)
    ws = openpyxl.load_workbook(path)["B2B"]
    row = _row_of(ws, "INV-2")
    assert _cell(ws, row, ACTION).value == "Reject"
    assert _cell(ws, row, REMARKS).value == "late"
    assert _cell(ws, row, "Suggested action").value == "Pending"  # not in the books
    assert _cell(ws, row, "Rule").value == "r_not_in_books"
    other = _row_of(ws, "'-5")
    assert _cell(ws, other, ACTION).value == "No action"  # no decision: the portal's action


def test_home_summary_counts_documents_per_sheet(workbook):
    home = openpyxl.load_workbook(workbook)["Home"]
    rows = {}
    for r in range(7, home.max_row + 1):
        sheet, count = home.cell(r, 1).value, home.cell(r, 4).value
        if isinstance(count, int | float) and sheet:
            rows[sheet] = rows.get(sheet, 0) + count
    assert rows == {"B2B": 2, "B2BA": 1, "CN": 1}
