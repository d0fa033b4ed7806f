"""The reader's tuning is an explicit `ReaderOptions` (issue 18): whatever its values, a
download reads to the same documents, rejects and warnings."""

from __future__ import annotations

from polars.testing import assert_frame_equal
from portal_helpers import wire, write_json

import imsdata.portal.read as reader
from imsdata.portal.read import ReaderOptions, read


def test_any_tuning_reads_the_same_documents_rejects_and_warnings(tmp_path):
    b2b = [wire("b2b", number=f"INV-{i}", tradenm=f"Trader {i % 7}") for i in range(150)]
    b2b[40]["txval"] = "12.345"  # refused by the exact rules: more than 2 decimals
    b2b[90]["idt"] = "31-02-2025"  # not a date
    cn = [wire("b2bcn", number=f"CN-{i}") for i in range(30)]
    path = write_json(tmp_path / "ims.json", {"b2b": b2b, "b2bcn": cn})
    exact = read(path, options=ReaderOptions(fast_path_min_bytes=10**15))
    tuned = read(
        path,
        options=ReaderOptions(
            fast_path_min_bytes=0, piece_bytes=300, sub_piece_bytes=300, stage_rows=7, workers=2
        ),
    )
    assert exact.documents.height == 178
    assert exact.rejects.height > 0
    for name in ("documents", "rejects", "warnings", "duplicates"):
        assert_frame_equal(getattr(tuned, name), getattr(exact, name))
    # the options are the call's own: the module's defaults are untouched
    assert ReaderOptions().piece_bytes == reader._PIECE


def test_a_read_leaves_the_programs_polars_engine_setting_alone_while_it_runs(tmp_path):
    """An embedding program's polars settings are process-wide: its other threads would run on
    whatever engine a read switched to. The read picks its engine per query instead."""
    import sys

    import polars as pl

    b2b = [wire("b2b", number=f"INV-{i}") for i in range(40)]
    path = write_json(tmp_path / "ims.json", {"b2b": b2b})
    seen: set[str | None] = set()

    def watch(frame, event, arg):  # every Python call of the read sees the process settings
        if event == "call":
            seen.add(pl.Config.state(env_only=True).get("POLARS_ENGINE_AFFINITY"))

    with pl.Config(engine_affinity="streaming"):  # the program's own choice
        before = pl.Config.state()
        sys.setprofile(watch)
        try:
            exact = read(path, options=ReaderOptions(fast_path_min_bytes=10**15))
            fast = read(path, options=ReaderOptions(fast_path_min_bytes=0))
        finally:
            sys.setprofile(None)
        assert pl.Config.state() == before
    assert seen == {"streaming"}  # never "in-memory", not even for a moment
    assert exact.documents.height == fast.documents.height == 40
