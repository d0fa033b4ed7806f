"""ITC-reduction declarations end to end (R5-R7): rule -> review workbook -> import -> upload."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import openpyxl
import polars as pl
import pytest

from imsdata.errors import GuardError, InputError
from imsdata.portal.write import build_payloads
from imsdata.review import ACTION, ITC_REDUCTION, read_review, write_review
from imsdata.rules import suggest
from imsdata.schemas import MATCH_COLUMNS
from imsdata.testing import RECIPIENT, complete, ims_frame

PERIOD = "112025"


@pytest.fixture
def month(tmp_path):
    """Two matched credit notes and an amendment whose original was rejected on the portal."""
    ims = ims_frame(
        [
            {"section": "b2bcn", "doc_number": "CN-1", "cgst": "90", "sgst": "90"},
            {"section": "b2bcn", "doc_number": "CN-2", "cgst": "180", "sgst": "180"},
            {"doc_number": "O-1", "portal_action": "R", "doc_date": dt.date(2025, 11, 1)},
            {"section": "b2ba", "doc_number": "O-1A", "orig_doc_number": "O-1",
             "orig_doc_date": dt.date(2025, 11, 1), "cgst": "450", "sgst": "450"},
        ]
    )  # fmt: skip
    matches = complete(
        pl.DataFrame(
            {
                "doc_key": ims["doc_key"],
                "register_id": ["1", "2", "3", "4"],
                "match_status": ["exact"] * 4,
                "match_score": [100] * 4,
            }
        ),
        MATCH_COLUMNS,
    )
    # the rule's suggestions are the current decisions (as the workspace stores them)
    suggestions = suggest(ims, matches, period=PERIOD).with_columns(source=pl.lit("rule"))
    path = tmp_path / "review.xlsx"
    write_review(path, ims, matches, suggestions, suggestions, rtin=RECIPIENT, period=PERIOD,
                 all_documents=True)  # fmt: skip
    return ims, matches, suggestions, path


def _sheet(path, name):
    return openpyxl.load_workbook(path)[name]


def _value(ws, number: str, header: str):
    heads = [c.value for c in ws[1]]
    col = heads.index(header) + 1
    num = heads.index("Number") + 1
    row = next(r for r in range(2, ws.max_row + 1) if ws.cell(r, num).value == number)
    return ws.cell(row, col)


def _by_number(ims: pl.DataFrame, frame: pl.DataFrame, number: str) -> dict:
    key = ims.filter(pl.col("doc_number") == number)["doc_key"][0]
    return frame.filter(pl.col("doc_key") == key).row(0, named=True)


def test_the_rule_proposes_the_declaration_and_the_workbook_shows_it(month):
    ims, _, suggestions, path = month
    assert _by_number(ims, suggestions, "CN-1")["itc_reduction"] == "Y"
    assert _by_number(ims, suggestions, "O-1A")["itc_reduction"] == "N"  # original rejected
    cn = _sheet(path, "CN")
    assert _value(cn, "CN-1", ITC_REDUCTION).value == "Y"
    assert _value(cn, "CN-1", "Declared CGST").value is None  # Y without amounts: full
    assert _value(_sheet(path, "B2BA"), "O-1A", ITC_REDUCTION).value == "N"
    heads = [c.value for c in _sheet(path, "B2B")[1]]
    assert ITC_REDUCTION not in heads  # invoices carry no declaration (R5)
    lists = [v.formula1 for v in cn.data_validations.dataValidation]
    assert '"Y,N"' in lists  # a Y/N dropdown


def test_declaration_round_trip_to_the_upload_json(month, tmp_path):
    ims, matches, suggestions, path = month
    wb = openpyxl.load_workbook(path)
    cn = wb["CN"]
    _value(cn, "CN-2", "Declared CGST").value = 50  # partial: typed as numbers in Excel
    _value(cn, "CN-2", "Declared SGST").value = 50
    _value(cn, "CN-1", ITC_REDUCTION).value = "N"  # never claimed
    wb.save(tmp_path / "edited.xlsx")
    decisions = read_review(
        tmp_path / "edited.xlsx",
        ims,
        rtin=RECIPIENT,
        period=PERIOD,
        decisions=suggestions,
        matches=matches,
    )
    cn1 = _by_number(ims, decisions, "CN-1")
    cn2 = _by_number(ims, decisions, "CN-2")
    assert (cn1["action"], cn1["itc_reduction"], cn1["declared_cgst"]) == ("accept", "N", None)
    assert (cn2["itc_reduction"], cn2["declared_cgst"], cn2["declared_sgst"]) == (
        "Y", Decimal("50.00"), Decimal("50.00"),
    )  # fmt: skip
    # the rule's decisions for the others, the workbook's for the two notes
    current = pl.concat(
        [suggestions.filter(~pl.col("doc_key").is_in(decisions["doc_key"])), decisions],
        how="diagonal_relaxed",
    )
    payload = build_payloads(ims, current, rtin=RECIPIENT, matches=matches).to_dict()
    notes = {r["nt_num"]: r for r in payload["invdata"]["b2bcn"]}
    assert notes["CN-1"]["itcRedReq"] == "N"
    assert not any(k.startswith("decl") for k in notes["CN-1"])
    # a partial reduction sends all four amounts (R7)
    assert notes["CN-2"]["itcRedReq"] == "Y"
    assert (notes["CN-2"]["declIgst"], notes["CN-2"]["declCgst"], notes["CN-2"]["declSgst"],
            notes["CN-2"]["declCess"]) == (0, 50, 50, 0)  # fmt: skip
    amended = payload["invdata"]["b2ba"][0]
    assert (amended["action"], amended["itcRedReq"]) == ("A", "N")
    assert not any(k.startswith("decl") for k in amended)


def test_full_reduction_is_y_without_amounts(month):
    ims, matches, suggestions, _ = month
    payload = build_payloads(ims, suggestions, rtin=RECIPIENT, matches=matches).to_dict()
    notes = {r["nt_num"]: r for r in payload["invdata"]["b2bcn"]}
    assert notes["CN-1"]["itcRedReq"] == "Y"
    assert not any(k.startswith("decl") for k in notes["CN-1"])


@pytest.mark.parametrize(
    ("edits", "error", "match"),
    [
        ({"Declared CGST": 500, "Declared SGST": 500}, GuardError, "declared_range"),
        ({"Declared CGST": 50, "Declared SGST": 40}, GuardError, "declared_cgst_equals_sgst"),
        ({ITC_REDUCTION: "N", "Declared CGST": 50, "Declared SGST": 50}, GuardError,
         "declared_without_y"),
        ({ACTION: "Pending", ITC_REDUCTION: "N"}, GuardError, "itc_reduction_only_accept"),
        ({ITC_REDUCTION: "maybe"}, InputError, "must be Y or N"),
        ({"Declared CGST": "fifty"}, InputError, "is not an amount"),
    ],
)  # fmt: skip
def test_declaration_edits_are_checked_by_the_guards_on_import(month, tmp_path, edits, error,
                                                                match):  # fmt: skip
    ims, matches, suggestions, path = month
    wb = openpyxl.load_workbook(path)
    for header, value in edits.items():
        _value(wb["CN"], "CN-1", header).value = value
    wb.save(tmp_path / "bad.xlsx")
    with pytest.raises(error, match=match):
        read_review(tmp_path / "bad.xlsx", ims, rtin=RECIPIENT, period=PERIOD,
                    decisions=suggestions, matches=matches)  # fmt: skip


def test_changing_the_action_away_from_accept_drops_an_unedited_declaration(month, tmp_path):
    ims, matches, suggestions, path = month
    wb = openpyxl.load_workbook(path)
    _value(wb["CN"], "CN-1", ACTION).value = "Pending"
    wb.save(tmp_path / "p.xlsx")
    out = read_review(tmp_path / "p.xlsx", ims, rtin=RECIPIENT, period=PERIOD,
                      decisions=suggestions, matches=matches)  # fmt: skip
    row = _by_number(ims, out, "CN-1")
    assert (row["action"], row["itc_reduction"]) == ("pending", None)
