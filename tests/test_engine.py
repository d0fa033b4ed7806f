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


def test_a_borrowed_connection_stays_open_for_its_owner():
    import duckdb

    con = duckdb.connect()
    with DuckDBEngine(connection=con) as eng:
        eng.register("f", pl.DataFrame({"x": [1, 2]}))
        assert eng.scalar("SELECT sum(x) FROM f") == 3
    assert con.execute("SELECT 41 + 1").fetchone() == (42,)  # not closed by the engine
    con.close()


def test_append_adds_rows_and_scalar_reads_one_value():
    with DuckDBEngine() as eng:
        eng.materialise("t", "SELECT 1 AS x")
        eng.append("t", "SELECT 2 AS x")
        assert eng.scalar("SELECT count(*) FROM t") == 2
        assert eng.scalar("SELECT x FROM t WHERE x > 5") is None


def test_engine_scope_borrows_a_given_engine_and_closes_its_own():
    from imsdata.engines import Engine, engine_scope

    with DuckDBEngine() as mine:
        with engine_scope(mine) as eng:
            assert eng is mine
        assert mine.scalar("SELECT 1") == 1  # still open: borrowed
    with engine_scope() as own:
        assert isinstance(own, Engine)
    with pytest.raises(Exception, match="closed"):
        own.scalar("SELECT 1")
