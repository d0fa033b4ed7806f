"""What the review workbook holds: documents needing attention, biggest ITC first, up to a limit."""

from __future__ import annotations

import openpyxl
import polars as pl
import pytest
from typer.testing import CliRunner

from imsdata.cli import app
from imsdata.errors import UsageError
from imsdata.review import (
    ACTION,
    DEFAULT_REVIEW_LIMIT,
    read_review,
    row_limit,
    write_review,
)
from imsdata.schemas import DECISION_COLUMNS, MATCH_COLUMNS
from imsdata.testing import RECIPIENT, complete, ims_frame
from imsdata.workspace import Workspace

PERIOD = "112025"


@pytest.fixture
def ims() -> pl.DataFrame:
    # OK-1, OK-2: routine (exact / within tolerance, accepted automatically); the rest need a look
    return ims_frame(
        [
            {"doc_number": "OK-1"},
            {"doc_number": "OK-2"},
            {"doc_number": "OK-3", "portal_action": "R"},  # the portal holds a reject
            {"doc_number": "BIG", "cgst": "9000.00", "sgst": "9000.00"},
            {"doc_number": "MID", "cgst": "5000.00", "sgst": "5000.00"},
            {"doc_number": "SMALL", "cgst": "10.00", "sgst": "10.00"},
        ]
    )


def _key(ims: pl.DataFrame, number: str) -> str:
    return ims.filter(pl.col("doc_number") == number)["doc_key"][0]


@pytest.fixture
def matches(ims) -> pl.DataFrame:
    status = {"OK-1": "exact", "OK-2": "within_tolerance", "OK-3": "exact", "BIG": "mismatch"}
    rows = [
        {"doc_key": _key(ims, n), "register_id": f"R{i}", "match_status": s, "match_score": 90}
        for i, (n, s) in enumerate(status.items())
    ]
    rows += [
        {"doc_key": _key(ims, n), "register_id": None, "match_status": "missing_in_register"}
        for n in ("MID", "SMALL")
    ]
    return complete(pl.DataFrame(rows), MATCH_COLUMNS)


@pytest.fixture
def suggestions(ims) -> pl.DataFrame:
    action = {"OK-1": "accept", "OK-2": "accept", "OK-3": "accept", "BIG": "pending"}
    return pl.DataFrame(
        {
            "doc_key": ims["doc_key"],
            "action": [action.get(n, "pending") for n in ims["doc_number"]],
            "rule_id": "r",
            "reason": "because",
        }
    )


def _numbers(path) -> set[str]:
    wb = openpyxl.load_workbook(path)
    found = set()
    for ws in wb.worksheets[1:]:
        heads = [c.value for c in ws[1]]
        col = heads.index("Number") + 1
        found |= {ws.cell(r, col).value for r in range(2, ws.max_row + 1)}
    return found


def _home_scope(path) -> str:
    return openpyxl.load_workbook(path)["Home"]["B5"].value


def test_routine_accepts_are_left_out_and_the_home_sheet_says_how_to_get_them(
    tmp_path, ims, matches, suggestions
):
    path = tmp_path / "r.xlsx"
    scope = write_review(path, ims, matches, suggestions, rtin=RECIPIENT, period=PERIOD)
    assert _numbers(path) == {"OK-3", "BIG", "MID", "SMALL"}
    assert (scope.documents, scope.written, scope.routine_left_out) == (6, 4, 2)
    text = _home_scope(path)
    assert text.startswith("4 of 6 documents; 2 left out: 2 routine")
    assert "imsdata review --out FILE --all" in text
    assert "--limit" not in text  # all six fit the default limit


def test_all_documents_writes_every_document(tmp_path, ims, matches, suggestions):
    path = tmp_path / "r.xlsx"
    scope = write_review(
        path, ims, matches, suggestions, rtin=RECIPIENT, period=PERIOD, all_documents=True
    )
    assert len(_numbers(path)) == 6
    assert scope.left_out == 0
    assert _home_scope(path) == "6 of 6 documents (all)"


def test_limit_keeps_the_biggest_itc_first(tmp_path, ims, matches, suggestions):
    path = tmp_path / "r.xlsx"
    scope = write_review(path, ims, matches, suggestions, rtin=RECIPIENT, period=PERIOD, limit=2)
    assert _numbers(path) == {"BIG", "MID"}
    assert (scope.written, scope.over_limit, scope.routine_left_out) == (2, 2, 2)
    text = _home_scope(path)
    assert "2 beyond the 2-row limit (smallest ITC)" in text
    assert "--all --limit 0" in text


def test_people_and_changes_bring_a_routine_document_back(tmp_path, ims, matches, suggestions):
    decisions = complete(
        pl.DataFrame(
            {
                "doc_key": [_key(ims, "OK-1"), _key(ims, "OK-2")],
                "action": ["accept", "accept"],
                "source": ["manual", "rule"],
                "status": ["valid", "review"],  # OK-2: the supplier changed it since
            }
        ),
        {**DECISION_COLUMNS, "status": pl.String()},
    )
    path = tmp_path / "r.xlsx"
    write_review(path, ims, matches, suggestions, decisions, rtin=RECIPIENT, period=PERIOD)
    assert {"OK-1", "OK-2"} <= _numbers(path)


def test_superseded_and_amended_documents_need_attention(tmp_path, ims, suggestions):
    amended = ims_frame(
        [{"section": "b2ba", "doc_number": "AM-1", "orig_doc_number": "AM-0"}]
    ).with_columns(orig_doc_date=pl.col("doc_date"))
    both = pl.concat([ims, amended])
    rows = [
        {"doc_key": k, "register_id": f"R{i}", "match_status": "exact", "match_score": 100}
        for i, k in enumerate(both["doc_key"])
    ]
    rows[0]["superseded_by"] = amended["doc_key"][0]
    matches = complete(pl.DataFrame(rows), MATCH_COLUMNS)
    sugg = pl.DataFrame({"doc_key": both["doc_key"], "action": "accept"})
    path = tmp_path / "r.xlsx"
    write_review(path, both, matches, sugg, rtin=RECIPIENT, period=PERIOD)
    numbers = _numbers(path)
    assert {"OK-1", "AM-1", "OK-3"} <= numbers  # superseded, amendment, portal holds a reject
    assert "OK-2" not in numbers


def test_a_workbook_with_some_documents_imports(tmp_path, ims, matches, suggestions):
    path = tmp_path / "r.xlsx"
    write_review(path, ims, matches, suggestions, rtin=RECIPIENT, period=PERIOD, limit=1)
    wb = openpyxl.load_workbook(path)
    ws = wb["B2B"]
    heads = [c.value for c in ws[1]]
    assert ws.max_row == 2
    assert ws.cell(2, heads.index("Number") + 1).value == "BIG"
    ws.cell(2, heads.index(ACTION) + 1).value = "Reject"
    ws.cell(2, heads.index("Remarks") + 1).value = "wrong amount"
    wb.save(path)
    got = read_review(path, ims, rtin=RECIPIENT, period=PERIOD, matches=matches)
    assert got.select("doc_key", "action").rows() == [(_key(ims, "BIG"), "reject")]


def test_a_workbook_with_nothing_to_review_imports_as_no_decisions(tmp_path, ims, matches):
    routine = ims.filter(pl.col("doc_number").is_in(["OK-1", "OK-2"]))
    sugg = pl.DataFrame({"doc_key": routine["doc_key"], "action": "accept"})
    path = tmp_path / "r.xlsx"
    scope = write_review(path, routine, matches, sugg, rtin=RECIPIENT, period=PERIOD)
    assert scope.written == 0
    assert openpyxl.load_workbook(path).sheetnames == ["Home"]
    assert read_review(path, routine, rtin=RECIPIENT, period=PERIOD).is_empty()


def test_row_limit_option():
    assert row_limit(None) == DEFAULT_REVIEW_LIMIT
    assert row_limit(0) is None
    assert row_limit(10) == 10
    with pytest.raises(UsageError, match="--limit -1"):
        row_limit(-1)


def test_review_cli_says_what_was_left_out(tmp_path, ims, matches, suggestions):
    ws_path = tmp_path / "ws.duckdb"
    with Workspace(ws_path) as ws:
        ws.import_ims(ims)
        ws.save_matches(matches)
    runner = CliRunner()
    book = tmp_path / "review.xlsx"
    args = ["review", "-w", str(ws_path), "--out", str(book), "--gstin", RECIPIENT]
    result = runner.invoke(app, [*args, "--period", PERIOD, "--limit", "1"])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "1 of 6 documents" in said
    assert "beyond the 1-row limit" in said
    assert len(_numbers(book)) == 1
    everything = runner.invoke(app, [*args, "--period", PERIOD, "--all", "--limit", "0"])
    assert everything.exit_code == 0, everything.output
    assert "6 of 6 documents (all)" in " ".join(everything.output.split())
    bad = runner.invoke(app, [*args, "--period", PERIOD, "--limit", "-5"])
    assert bad.exit_code == 2 or isinstance(bad.exception, UsageError)


def test_cells_keep_markup_spaces_and_unicode_and_long_text_is_cut_like_excel(tmp_path):
    names = ["a & b <c> 'q'", " leading space", "trailing ", "हिंदी ₹ नाम", "x" * 40_000]
    ims = ims_frame([{"doc_number": f"N{i}", "supplier_name": n} for i, n in enumerate(names)])
    sugg = pl.DataFrame({"doc_key": ims["doc_key"], "action": "pending"})
    path = tmp_path / "r.xlsx"
    write_review(path, ims, complete(pl.DataFrame(), MATCH_COLUMNS), sugg, rtin=RECIPIENT,
                 period=PERIOD)  # fmt: skip
    ws = openpyxl.load_workbook(path)["B2B"]
    heads = [c.value for c in ws[1]]
    got = {
        ws.cell(r, heads.index("Number") + 1).value: ws.cell(r, heads.index("Supplier name") + 1)
        for r in range(2, ws.max_row + 1)
    }
    for i, name in enumerate(names[:4]):
        assert got[f"N{i}"].value == name
        assert got[f"N{i}"].data_type == "s"
    assert got["N4"].value == "x" * 32_767
    date = ws.cell(2, heads.index("Date") + 1)
    assert date.is_date
    assert date.number_format == "dd-mm-yyyy"
