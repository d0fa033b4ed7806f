"""Issue 15: upload files and their workspace rows are committed together; a kill between them
never leaves a file `imsdata errors` cannot place."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from imsdata.testing import SUPPLIER, decided_workspace
from imsdata.workspace import Workspace

from .conftest import cli


@pytest.fixture
def ws_path(tmp_path: Path) -> Path:
    """Three documents decided by hand: reject, pending (save_001.json), back to No action
    (reset_001.json)."""
    return decided_workspace(tmp_path / "ws.duckdb")


def _report(tmp_path: Path) -> Path:
    report = tmp_path / "status.json"
    entry = {"stin": SUPPLIER, "error_cd": "IMSSAV0010", "error_msg": "stale",
             "inv": [{"inum": "A3", "rtnprd": "112025"}]}  # fmt: skip
    report.write_text(json.dumps({"data": {"status_cd": "PE", "error_report": {"b2b": [entry]}}}))
    return report


def _uploads(path: Path) -> list[str]:
    with Workspace(path) as ws:
        return sorted(Path(f).name for f in ws.uploads()["file"])


def test_kill_after_the_files_are_written_keeps_every_file_findable(tmp_path, ws_path):
    killed = cli(
        "export", "-w", ws_path, "--out", "upload", cwd=tmp_path,
        env={"IMSDATA_TEST_KILL_AT": "upload-written"},
    )  # fmt: skip
    assert killed.code == -9
    assert sorted(p.name for p in (tmp_path / "upload").iterdir()) == [
        "reset_001.json", "save_001.json"
    ]  # fmt: skip
    ran = cli("errors", _report(tmp_path), "-w", ws_path, "--upload", "reset_001.json",
              cwd=tmp_path)  # fmt: skip
    assert ran.code == 0, ran.stderr
    assert "reset_001.json" in ran.stdout
    assert _uploads(ws_path) == ["reset_001.json", "save_001.json"]


def test_kill_before_the_files_land_leaves_no_row_naming_them(tmp_path, ws_path):
    killed = cli(
        "export", "-w", ws_path, "--out", "upload", cwd=tmp_path,
        env={"IMSDATA_TEST_KILL_AT": "upload-recorded"},
    )  # fmt: skip
    assert killed.code == -9
    assert not (tmp_path / "upload").exists() or not any((tmp_path / "upload").iterdir())
    ran = cli("errors", _report(tmp_path), "-w", ws_path, cwd=tmp_path)
    assert "no upload recorded yet" in ran.stderr
    assert _uploads(ws_path) == []
    again = cli("export", "-w", ws_path, "--out", "upload", cwd=tmp_path)
    assert again.code == 0, again.stderr
    assert _uploads(ws_path) == ["reset_001.json", "save_001.json"]


def test_errors_picks_the_file_the_report_names_without_being_told(tmp_path, ws_path):
    assert cli("export", "-w", ws_path, "--out", "upload", cwd=tmp_path).code == 0
    ran = cli("errors", _report(tmp_path), "-w", ws_path, cwd=tmp_path)
    assert ran.code == 0, ran.stderr
    assert "(reset_001.json)" in ran.stdout
