"""`imsdata export`, `imsdata errors` and `imsdata review` over a real workspace file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from typer.testing import CliRunner

from imsdata.cli import app
from imsdata.errors import GuardError, UsageError
from imsdata.testing import SUPPLIER, decided_workspace, ims_frame
from imsdata.workspace import Workspace

runner = CliRunner()


@pytest.fixture
def ws_path(tmp_path: Path) -> Path:
    """Three documents decided by hand: reject, pending (save_001.json), back to No action
    (reset_001.json)."""
    return decided_workspace(tmp_path / "ws.duckdb")


def _invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def _said(result) -> str:
    """The command's output with rich's line wrapping undone."""
    return " ".join(result.output.split())


def _current(path) -> dict[str, tuple[str, str]]:
    with Workspace(path) as ws:
        cur = ws.current_decisions()
    return {k.split("|")[2]: (a, s) for k, a, s in cur.select("doc_key", "action", "source").rows()}


def test_export_writes_save_and_reset_and_records_the_upload(tmp_path, ws_path):
    out = tmp_path / "upload"
    result = _invoke("export", "-w", ws_path, "--out", out)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["reset_001.json", "save_001.json"]
    save = json.loads((out / "save_001.json").read_text())
    assert [(r["inum"], r["action"]) for r in save["invdata"]["b2b"]] == [("A1", "R"), ("A2", "P")]
    with Workspace(ws_path) as ws:
        assert ws.uploads().height == 2


def test_export_with_nothing_changed_says_so_and_writes_nothing(tmp_path):
    path = tmp_path / "ws.duckdb"
    ims = ims_frame([{"portal_action": "A"}])
    with Workspace(path) as ws:
        ws.import_ims(ims)
        ws.append_decisions(
            pl.DataFrame({"doc_key": ims["doc_key"], "action": ["accept"]}), source="manual"
        )
    result = _invoke("export", "-w", path, "--out", tmp_path / "upload")
    assert result.exit_code == 0
    assert "no changes to upload" in _said(result)
    assert not (tmp_path / "upload").exists()


def test_export_refused_by_a_guard_writes_nothing(tmp_path):
    path = tmp_path / "ws.duckdb"
    ims = ims_frame([{"pending_blocked": True}])
    with Workspace(path) as ws:
        ws.import_ims(ims)
        ws.append_decisions(
            pl.DataFrame({"doc_key": ims["doc_key"], "action": ["pending"]}), source="manual"
        )
    result = _invoke("export", "-w", path, "--out", tmp_path / "upload")
    assert result.exit_code == 1
    assert isinstance(result.exception, GuardError)
    assert "pending_blocked" in str(result.exception)
    assert "Export refused: 1 guard violation" in " ".join(result.stderr.split())
    assert not (tmp_path / "upload").exists()


def test_error_report_round_trip_then_only_failed(tmp_path, ws_path):
    out = tmp_path / "upload"
    assert _invoke("export", "-w", ws_path, "--out", out).exit_code == 0
    report = tmp_path / "status.json"
    report.write_text(
        json.dumps(
            {
                "data": {
                    "status_cd": "PE",
                    "error_report": {
                        "b2b": [
                            {
                                "stin": SUPPLIER,
                                "error_cd": "IMSSAV0010",
                                "error_msg": "stale",
                                "inv": [{"inum": "A1", "rtnprd": "112025"}],
                            }
                        ]
                    },
                }
            }
        )
    )

    # two files (save, reset): the report names A1, which only save_001.json carries
    result = _invoke("errors", report, "-w", ws_path)
    assert result.exit_code == 0, result.output
    assert "IMSSAV0010" in _said(result)
    assert "1 error(s) to fix" in _said(result)
    current = _current(ws_path)
    assert current["A2"] == ("pending", "portal")  # processed: the portal now holds P
    assert current["A1"] == ("reject", "manual")  # failed: still ours to fix
    # reading the same report again records nothing twice
    assert _invoke("errors", report, "-w", ws_path, "--upload", "save_001.json").exit_code == 0
    with Workspace(ws_path) as ws:
        errors = ws.portal_errors()
        portal = ws.decision_log().filter(pl.col("source") == "portal")
    assert errors.select("error_cd").to_series().to_list() == ["IMSSAV0010"]
    assert portal.height == 1

    again = tmp_path / "again"
    result = _invoke("export", "-w", ws_path, "--out", again, "--only-failed")
    assert result.exit_code == 0, result.output
    assert [p.name for p in again.iterdir()] == ["save_001.json"]
    records = json.loads((again / "save_001.json").read_text())["invdata"]["b2b"]
    assert [r["inum"] for r in records] == ["A1"]

    # A2 is not sent again by a full export either: the portal already holds Pending
    full = tmp_path / "full"
    assert _invoke("export", "-w", ws_path, "--out", full).exit_code == 0
    records = json.loads((full / "save_001.json").read_text())["invdata"]["b2b"]
    assert [r["inum"] for r in records] == ["A1"]


def test_review_out_edit_and_import(tmp_path, ws_path):
    book = tmp_path / "review.xlsx"
    result = _invoke("review", "-w", ws_path, "--out", book)
    assert result.exit_code == 0, result.output
    wb = openpyxl.load_workbook(book)
    ws = wb["B2B"]
    heads = [c.value for c in ws[1]]
    for r in range(2, ws.max_row + 1):
        if ws.cell(r, heads.index("Number") + 1).value == "A3":
            ws.cell(r, heads.index("Action") + 1).value = "Reject"
            ws.cell(r, heads.index("Remarks") + 1).value = "duplicate bill"
    wb.save(book)
    result = _invoke("review", "-w", ws_path, "--import", book, "--user", "asha")
    assert result.exit_code == 0, result.output
    assert _current(ws_path)["A3"] == ("reject", "excel")
    again = _invoke("review", "-w", ws_path, "--import", book)  # the same file twice: no-op
    assert again.exit_code == 0
    assert "no changed actions" in _said(again)
    with Workspace(ws_path) as ws:
        assert ws.decision_log().filter(pl.col("source") == "excel").height == 1


def test_review_needs_exactly_one_of_out_or_import(ws_path):
    result = _invoke("review", "-w", ws_path)
    assert isinstance(result.exception, UsageError)


def test_missing_workspace_is_a_usage_error(tmp_path):
    result = _invoke("export", "-w", tmp_path / "none.duckdb")
    assert isinstance(result.exception, UsageError)


@pytest.mark.parametrize("command", ["export", "errors", "review"])
def test_help_has_an_example(command):
    result = _invoke(command, "--help")
    assert result.exit_code == 0
    assert "Example" in result.output


def test_entry_point_prints_one_line_and_exit_code(tmp_path):
    bad = tmp_path / "report.json"
    bad.write_text("{not json")
    proc = subprocess.run(
        [sys.executable, "-m", "imsdata", "errors", str(bad), "-w", str(tmp_path / "w.duckdb")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1
    assert proc.stderr.startswith("error: ")
    assert "not valid JSON" in proc.stderr
    assert "Traceback" not in proc.stderr
