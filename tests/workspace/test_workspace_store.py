"""The workspace file: imports by content hash, the append-only decision log, carry-over across
fresh downloads, and the uploads / portal-error tables other steps write."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from imsdata.errors import GuardError, InputError, UsageError
from imsdata.rules import suggest
from imsdata.schemas import MATCH_COLUMNS
from imsdata.testing import complete, ims_frame, register_frame
from imsdata.workspace import Workspace, file_hash, files_hash, frame_hash


def _matched(ims: pl.DataFrame, *statuses: str) -> pl.DataFrame:
    """Matches giving each document, in order, a status (missing_in_register: no register row)."""
    rows = [
        {
            "doc_key": key,
            "register_id": None if status == "missing_in_register" else f"R{i}",
            "match_status": status,
        }
        for i, (key, status) in enumerate(zip(ims["doc_key"], statuses, strict=True))
    ]
    return complete(pl.DataFrame(rows), MATCH_COLUMNS)


@pytest.fixture
def ws(tmp_path):
    with Workspace(tmp_path / "ws.duckdb") as workspace:
        yield workspace


def test_same_content_imported_twice_changes_nothing_and_says_so(ws):
    ims = ims_frame([{}, {}])
    first = ws.import_ims(ims, label="nov.json")
    again = ws.import_ims(ims.clone(), label="nov-copy.json")
    assert first.new
    assert not again.new
    assert again.import_id == first.import_id == "ims-0001"
    assert "nothing changed" in again.message
    assert ws.imports().height == 1
    assert ws.latest_ims().equals(ims.sort("doc_key"))


def test_import_by_file_hash_and_register_snapshots(ws, tmp_path):
    path = tmp_path / "ims.json"
    path.write_bytes(b'{"b2b": []}')
    ims = ims_frame([{}])
    info = ws.import_ims(ims, source_hash=file_hash(path))
    other = ws.import_ims(ims_frame([{}, {}]), source_hash=file_hash(path))
    assert not other.new
    assert ws.latest_ims().height == 1
    assert info.source_hash == files_hash([path])
    reg = register_frame([{}, {}])
    assert ws.import_register(reg).new
    assert not ws.import_register(reg).new
    assert ws.latest_register().height == 2
    assert frame_hash(reg) != frame_hash(reg.head(1))


def test_ims_import_needs_doc_keys(ws):
    with pytest.raises(InputError, match="doc_key"):
        ws.import_ims(ims_frame([{}]).with_columns(doc_key=pl.lit(None, pl.String())))


def test_empty_workspace_reports_it_plainly(ws):
    with pytest.raises(InputError, match="no IMS download imported yet"):
        ws.latest_ims()
    assert ws.latest_matches().height == 0
    assert ws.current_decisions().height == 0


def test_matches_are_stored_per_run_and_latest_wins(ws):
    ims = ims_frame([{}])
    ws.import_ims(ims)
    assert ws.save_matches(_matched(ims, "mismatch")) == "run-0001"
    assert ws.save_matches(_matched(ims, "exact")) == "run-0002"
    assert ws.latest_matches()["match_status"].to_list() == ["exact"]
    with pytest.raises(UsageError, match="already exists"):
        ws.save_matches(_matched(ims, "exact"), run_id="run-0001")


def test_decision_log_is_append_only_and_current_is_the_latest(ws):
    ims = ims_frame([{}, {}])
    ws.import_ims(ims)
    ws.save_matches(_matched(ims, "exact", "mismatch"))
    key = ims["doc_key"][1]
    ws.decide(key, "pending", user="asha")
    ws.decide(key, "reject", reason="goods returned", user="ravi")
    log = ws.decision_log()
    assert log["action"].to_list() == ["pending", "reject"]
    assert log["decision_id"].to_list() == [1, 2]
    assert log["import_id"].to_list() == ["ims-0001", "ims-0001"]
    current = ws.current_decisions()
    assert current.select("doc_key", "action", "user", "status").rows() == [
        (key, "reject", "ravi", "valid")
    ]
    view = ws.engine.query("SELECT doc_key, action FROM current_decisions")
    assert view.rows() == [(key, "reject")]


def test_decide_with_a_frame_is_all_or_nothing(ws):
    ims = ims_frame([{}, {"pending_blocked": True}])
    ws.import_ims(ims)
    ws.save_matches(_matched(ims, "exact", "mismatch"))
    frame = pl.DataFrame({"doc_key": ims["doc_key"], "action": ["accept", "pending"]})
    with pytest.raises(GuardError, match=r"INV-2.*ispendactblocked.*\[pending_blocked\]"):
        ws.decide(frame, user="asha")
    assert ws.decision_log().height == 0
    violations = ws.check_decisions(frame)
    assert violations["guard_id"].to_list() == ["pending_blocked"]
    done = ws.decide(frame.with_columns(action=pl.lit("accept")), source="excel", user="asha")
    assert done["source"].to_list() == ["excel", "excel"]


def test_append_decisions_refuses_unknown_actions_and_sources(ws):
    ws.import_ims(ims_frame([{}]))
    with pytest.raises(InputError, match="approve"):
        ws.append_decisions(pl.DataFrame({"doc_key": ["k"], "action": ["approve"]}), source="rule")
    with pytest.raises(UsageError, match="source"):
        ws.append_decisions(pl.DataFrame({"doc_key": ["k"], "action": ["accept"]}), source="bot")


def test_fresh_download_carries_decisions_over_and_flags_changes(ws):
    first = ims_frame([{"hash": "a"}, {"hash": "b"}, {"hash": "c"}])
    ws.import_ims(first)
    ws.save_matches(_matched(first, "exact", "mismatch", "mismatch"))
    ws.store_suggestions(suggest(first, ws.latest_matches()))
    keys = first["doc_key"].to_list()
    ws.decide(keys[0], "accept", user="asha")  # unchanged later: carries over
    ws.decide(keys[1], "reject", reason="wrong rate", user="asha")  # supplier edits it later

    # a new download of the same period: INV-2 edited, INV-3 gone, INV-4 new
    second = ims_frame([{"hash": "a"}, {"hash": "b2"}, {"hash": "d", "doc_number": "INV-4"}])
    assert ws.import_ims(second).import_id == "ims-0002"
    changes = ws.changes_since_previous()
    assert changes.select("doc_key", "change", "needs_review").rows() == [
        (keys[0], "unchanged", False),
        (keys[1], "changed", True),
        (keys[2], "removed", True),
        (second["doc_key"][2], "added", False),
    ]
    status = dict(ws.current_decisions().select("doc_key", "status").iter_rows())
    assert status == {keys[0]: "valid", keys[1]: "review", keys[2]: "gone"}

    ws.save_matches(_matched(second, "exact", "mismatch", "missing_in_register"))
    counts = ws.store_suggestions(suggest(second, ws.latest_matches()))
    # the person's accept on the unchanged document stays; the edited one gets a fresh proposal
    assert counts == {"appended": 2, "unchanged": 0, "kept_human": 1}
    current = ws.current_decisions().select("doc_key", "action", "source", "status")
    assert current.rows() == [
        (keys[0], "accept", "manual", "valid"),
        (keys[1], "pending", "rule", "valid"),
        (keys[2], "pending", "rule", "gone"),
        (second["doc_key"][2], "pending", "rule", "valid"),
    ]
    # nothing in the log was deleted: the manual reject on the edited document is still there
    log = ws.decision_log()
    assert log.filter(pl.col("action") == "reject")["reason"].to_list() == ["wrong rate"]
    assert log.height == 3 + 2 + 2


def test_rerunning_suggestions_is_a_no_op(ws):
    ims = ims_frame([{}, {}])
    ws.import_ims(ims)
    ws.save_matches(_matched(ims, "exact", "mismatch"))
    proposals = suggest(ims, ws.latest_matches())
    assert ws.store_suggestions(proposals)["appended"] == 2
    assert ws.store_suggestions(proposals) == {"appended": 0, "unchanged": 2, "kept_human": 0}
    assert ws.decision_log().height == 2


def test_uploads_and_portal_errors_are_logged(ws):
    up = ws.record_upload("out/upload_1.json", ["k2", "k1"])
    again = ws.record_upload("out/upload_2.json", ["k3"], created=dt.datetime(2025, 12, 1, 9))
    assert (up, again) == ("upload-0001", "upload-0002")
    assert ws.uploads().filter(pl.col("upload_id") == up)["doc_keys"].to_list() == [["k1", "k2"]]
    errors = pl.DataFrame(
        {"doc_key": ["k1"], "error_cd": ["IMSSAV0010"], "error_msg": ["previous action wrong"]}
    )
    assert ws.record_portal_errors(errors, upload_id=up) == 1
    assert ws.portal_errors().select("doc_key", "error_cd", "upload_id").rows() == [
        ("k1", "IMSSAV0010", "upload-0001")
    ]


def test_workspace_survives_reopening(tmp_path):
    path = tmp_path / "ws.duckdb"
    ims = ims_frame([{}])
    with Workspace(path) as ws:
        ws.import_ims(ims)
        ws.save_matches(_matched(ims, "exact"))
        ws.decide(ims["doc_key"][0], "accept", user="asha")
    with Workspace(path) as ws:
        assert not ws.import_ims(ims).new
        assert ws.current_decisions()["action"].to_list() == ["accept"]


def test_frames_registered_on_the_connection_do_not_shadow_workspace_tables(ws):
    ims = ims_frame([{}])
    ws.import_ims(ims)
    ws.save_matches(_matched(ims, "exact"))
    ws.engine.register("matches", pl.DataFrame({"x": [1, 2, 3]}))
    ws.engine.register("decisions", pl.DataFrame({"x": [1]}))
    assert ws.latest_matches()["match_status"].to_list() == ["exact"]
    ws.decide(ims["doc_key"][0], "accept")
    assert ws.current_decisions()["action"].to_list() == ["accept"]
