"""The current decisions `store_suggestions` leaves behind (only the documents it decided are
computed again) are the ones computed afresh from the file, month after month: people's
decisions kept, carried over, flagged for review when the supplier changed the document, gone."""

from __future__ import annotations

import polars as pl
from polars.testing import assert_frame_equal

from imsdata.rules import suggest
from imsdata.schemas import MATCH_COLUMNS
from imsdata.testing import complete, ims_frame
from imsdata.workspace import Workspace


def _matched(ims: pl.DataFrame) -> pl.DataFrame:
    """Every document a mismatch with its own register row (the rules propose pending)."""
    rows = [
        {"doc_key": key, "register_id": f"R{i}", "match_status": "mismatch"}
        for i, key in enumerate(ims["doc_key"])
    ]
    return complete(pl.DataFrame(rows), MATCH_COLUMNS)


def _suggest(ws: Workspace, ims: pl.DataFrame) -> pl.DataFrame:
    """Log the rules' suggestions for `ims`; the current decisions this workspace now holds."""
    ws.save_matches(_matched(ims))
    ws.store_suggestions(suggest(ims, ws.latest_matches()))
    return ws.current_decisions()


def _afresh(path) -> pl.DataFrame:
    """The current decisions as another opening of the file computes them."""
    with Workspace(path) as other:
        return other.current_decisions()


def test_current_decisions_after_suggestions_are_the_ones_computed_afresh(tmp_path):
    path = tmp_path / "ws.duckdb"
    first = ims_frame([{"hash": "a"}, {"hash": "b"}, {"hash": "c"}, {"hash": "e"}])
    keys = first["doc_key"].to_list()
    ws = Workspace(path)
    ws.import_ims(first)
    kept = _suggest(ws, first)  # no decision yet: every document gets the rule's
    ws.close()
    assert_frame_equal(kept, _afresh(path))
    assert kept["source"].to_list() == ["rule"] * 4

    ws = Workspace(path)
    ws.decide(keys[0], "accept", user="asha")  # unchanged later: kept
    ws.decide(keys[1], "reject", reason="wrong rate", user="asha")  # supplier edits it later
    ws.decide(keys[3], "accept", user="asha")  # amounts edited later under the same hash
    # the next download: INV-2 edited (new hash), INV-3 gone, INV-4 amounts changed with the
    # portal's hash kept (issue 15), INV-5 new
    second = ims_frame(
        [
            {"hash": "a"},
            {"hash": "b2"},
            {"hash": "e", "doc_number": "INV-4", "taxable_value": "999.00"},
            {"hash": "d", "doc_number": "INV-5"},
        ]
    )
    ws.import_ims(second)
    kept = _suggest(ws, second)
    ws.close()
    assert_frame_equal(kept, _afresh(path))
    by_key = {r["doc_key"]: r for r in kept.iter_rows(named=True)}
    assert (by_key[keys[0]]["source"], by_key[keys[0]]["status"]) == ("manual", "valid")
    assert (by_key[keys[1]]["source"], by_key[keys[1]]["status"]) == ("rule", "valid")
    assert (by_key[keys[2]]["source"], by_key[keys[2]]["status"]) == ("rule", "gone")
    assert by_key[keys[3]]["source"] == "rule"  # changed under a person's accept: proposed again

    ws = Workspace(path)
    kept = _suggest(ws, second)  # the same suggestions again: nothing appended
    ws.close()
    assert_frame_equal(kept, _afresh(path))

    ws = Workspace(path)
    ws.import_ims(first)  # the older download again (already stored): the latest stays second
    kept = _suggest(ws, first)
    ws.close()
    assert_frame_equal(kept, _afresh(path))


def test_current_decisions_follow_every_later_decision_and_import(tmp_path):
    path = tmp_path / "ws.duckdb"
    first = ims_frame([{"hash": "a"}, {"hash": "b"}])
    with Workspace(path) as ws:
        ws.import_ims(first)
        _suggest(ws, first)
        ws.decide(first["doc_key"][0], "reject", reason="not ours", user="asha")
        assert ws.current_decisions()["action"].to_list() == ["reject", "pending"]
        ws.import_ims(ims_frame([{"hash": "a2"}]))  # INV-1 changed, INV-2 gone
        assert ws.current_decisions()["status"].to_list() == ["review", "gone"]
        assert_frame_equal(ws.current_decisions(), _afresh(path))


def test_decision_log_of_one_source_and_import_is_that_part_of_the_whole_log(tmp_path):
    first = ims_frame([{"hash": "a"}, {"hash": "b"}])
    with Workspace(tmp_path / "ws.duckdb") as ws:
        ws.import_ims(first)
        _suggest(ws, first)
        ws.append_decisions(
            pl.DataFrame({"doc_key": first["doc_key"], "action": ["accept", "reject"]}),
            source="portal",
        )
        second = ws.import_ims(ims_frame([{"hash": "a"}, {"hash": "b"}, {"hash": "c"}]))
        ws.append_decisions(
            pl.DataFrame({"doc_key": first["doc_key"][:1], "action": ["pending"]}),
            source="portal",
        )
        log = ws.decision_log()
        for source, import_id in [("portal", "ims-0001"), ("portal", second.import_id)]:
            part = ws.decision_log(source=source, import_id=import_id)
            expected = log.filter((pl.col("source") == source) & (pl.col("import_id") == import_id))
            assert_frame_equal(part, expected)
            assert part.height
        assert_frame_equal(ws.decision_log(source="rule"), log.filter(pl.col("source") == "rule"))
