"""Issue 15: only an imsdata workspace is opened; every path problem is one line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from imsdata import workspace_file
from imsdata.errors import InputError
from imsdata.workspace import SCHEMA_VERSION, Workspace

from .conftest import cli


def _refused(path: Path, match: str) -> str:
    with pytest.raises(InputError, match=match) as info:
        Workspace(path)
    assert "\n" not in str(info.value)
    return str(info.value)


def test_a_csv_given_as_workspace_is_refused_and_left_as_it_was(tmp_path):
    notes = tmp_path / "notes.csv"
    notes.write_text("a,b\n1,2\n")
    _refused(notes, r"notes\.csv: not an imsdata workspace \(not a DuckDB file\)")
    assert notes.read_text() == "a,b\n1,2\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.csv"]


def test_run_with_a_csv_workspace_exits_1_and_keeps_nothing_half_done(tmp_path, sample):
    notes = tmp_path / "notes.csv"
    notes.write_text("mine\n")
    ran = cli(
        "run", sample["ims"], "-r", sample["register"], "--out", "month",
        "--workspace", "notes.csv", cwd=tmp_path,
    )  # fmt: skip
    assert ran.code == 1
    assert ran.lines == [
        "error: notes.csv: not an imsdata workspace (not a DuckDB file); choose another --workspace"
    ]
    assert notes.read_text() == "mine\n"


def test_another_duckdb_database_is_not_taken_for_a_workspace(tmp_path):
    other = tmp_path / "other.duckdb"
    con = duckdb.connect(str(other))
    con.execute("CREATE TABLE sales AS SELECT 1 AS x")
    con.close()
    _refused(other, "a DuckDB file but not an imsdata workspace")
    con = duckdb.connect(str(other))
    assert [r[0] for r in con.execute("SHOW TABLES").fetchall()] == ["sales"]
    con.close()


def test_schema_version_is_stored_and_a_newer_one_is_refused(tmp_path):
    path = tmp_path / "ws.duckdb"
    with Workspace(path) as ws:
        assert ws._scalar("SELECT value FROM meta WHERE key = 'schema_version'") == SCHEMA_VERSION
        ws._rows("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    _refused(path, "workspace schema 99 is newer than this imsdata's .*upgrade imsdata")


def test_an_older_schema_is_migrated_or_told_how(tmp_path, monkeypatch):
    path = tmp_path / "ws.duckdb"
    with Workspace(path) as ws:
        ws._rows("UPDATE meta SET value = '0' WHERE key = 'schema_version'")
    _refused(path, "schema 0 cannot be migrated to 1; start a new workspace")
    monkeypatch.setitem(
        workspace_file.MIGRATIONS, 0, ("CREATE TABLE migrated_from_0 AS SELECT 1 AS x",)
    )
    with Workspace(path) as ws:
        assert ws._scalar("SELECT value FROM meta WHERE key = 'schema_version'") == "1"
        assert ws._scalar("SELECT x FROM migrated_from_0") == 1


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda p: p.mkdir(), "workspace file expected, found a folder"),
        (lambda p: None, "workspace folder .* does not exist"),
        (lambda p: p.write_bytes(b""), "empty file, not an imsdata workspace"),
    ],
    ids=["folder", "missing-folder", "empty-file"],
)
def test_workspace_path_problems_are_one_line(tmp_path, make, match):
    path = (
        tmp_path / "ws.duckdb"
        if match != "workspace folder .* does not exist"
        else (tmp_path / "no" / "such" / "ws.duckdb")
    )
    make(path)
    _refused(path, match)


def test_a_workspace_in_use_is_one_line(tmp_path):
    path = tmp_path / "ws.duckdb"
    Workspace(path).close()
    holder = subprocess.Popen(
        [sys.executable, "-c",
         f"import duckdb, sys, time; c = duckdb.connect({str(path)!r}); print('up', flush=True); "
         "sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "up"
        _refused(path, "workspace is in use by another imsdata process")
    finally:
        holder.communicate("")


@pytest.mark.skipif(not Path("/proc/self").exists(), reason="needs Linux /proc")
def test_a_workspace_in_a_read_only_folder_is_one_line():
    _refused(Path("/proc/imsdata-i15.duckdb"), "workspace cannot be opened")
