"""The DuckDB engine: bounded memory, unordered bulk work, clear errors."""

from __future__ import annotations

import polars as pl
import pytest

from imsdata.engine import DEFAULT_MEMORY_LIMIT, DuckDBEngine
from imsdata.errors import UsageError


def _limit(engine: DuckDBEngine) -> str:
    return engine.con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]


def test_memory_is_bounded_by_default_and_can_be_set(monkeypatch):
    monkeypatch.delenv("IMSDATA_DUCKDB_MEMORY", raising=False)
    with DuckDBEngine() as eng:
        default = _limit(eng)
    with DuckDBEngine(memory_limit="3GB") as eng:
        assert _limit(eng) != default
    monkeypatch.setenv("IMSDATA_DUCKDB_MEMORY", "3GB")
    with DuckDBEngine() as eng:
        assert _limit(eng) != default
    # DuckDB reports 1GB as "953.6 MiB": the default is ours, not DuckDB's 80% of RAM
    assert DEFAULT_MEMORY_LIMIT == "1GB"
    assert default.endswith("MiB")


def test_bad_memory_setting_is_a_usage_error(monkeypatch):
    monkeypatch.setenv("IMSDATA_DUCKDB_MEMORY", "lots")
    with pytest.raises(UsageError, match="IMSDATA_DUCKDB_MEMORY"):
        DuckDBEngine()


def test_unordered_is_scoped_to_the_block():
    with DuckDBEngine() as eng:
        eng.register("f", pl.DataFrame({"x": [3, 1, 2]}))
        with eng.unordered():
            eng.execute("CREATE TABLE t AS SELECT * FROM f")
            setting = eng.query("SELECT current_setting('preserve_insertion_order') AS v")
            assert setting["v"][0] is False
        assert eng.query("SELECT current_setting('preserve_insertion_order') AS v")["v"][0]
        assert sorted(eng.query("SELECT x FROM t")["x"]) == [1, 2, 3]
