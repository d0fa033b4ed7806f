"""The DuckDB engine: bounded memory, unordered bulk work, clear errors."""

from __future__ import annotations

import os

import polars as pl
import pytest

from imsdata.engine import DEFAULT_MEMORY_LIMIT, DuckDBEngine, external_reference, memory_budget
from imsdata.errors import SQLError, UsageError


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


def test_a_memory_budget_holds_for_engines_opened_inside_it_and_changes_no_environment(
    monkeypatch,
):
    # a batch's in-process client gets its share this way; nothing process-wide is switched
    monkeypatch.delenv("IMSDATA_DUCKDB_MEMORY", raising=False)
    environment = dict(os.environ)
    with DuckDBEngine() as eng:
        default = _limit(eng)
    with memory_budget("300MB"):
        assert dict(os.environ) == environment
        with DuckDBEngine() as eng:
            inside = _limit(eng)
    with DuckDBEngine() as eng:
        after = _limit(eng)
    assert inside != default
    assert inside.startswith("286")
    assert after == default
    assert dict(os.environ) == environment


def test_bad_memory_setting_is_a_usage_error(monkeypatch):
    monkeypatch.setenv("IMSDATA_DUCKDB_MEMORY", "lots")
    with pytest.raises(UsageError, match="IMSDATA_DUCKDB_MEMORY"):
        DuckDBEngine()


def test_insertion_order_is_fixed_at_open_and_unordered_blocks_still_work():
    # the sealed configuration is locked: the order setting is chosen when the engine opens
    with DuckDBEngine(insertion_order=False) as eng:
        eng.register("f", pl.DataFrame({"x": [3, 1, 2]}))
        with eng.unordered():
            eng.execute("CREATE TABLE t AS SELECT * FROM f")
        assert eng.query("SELECT current_setting('preserve_insertion_order') AS v")["v"][0] is False
        assert sorted(eng.query("SELECT x FROM t")["x"]) == [1, 2, 3]
    with DuckDBEngine() as eng:
        assert eng.query("SELECT current_setting('preserve_insertion_order') AS v")["v"][0]


SECRET = "imsdata-secret-line"


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM read_text('{path}')",
        "SELECT * FROM read_csv('{path}')",
        "SELECT * FROM read_text('http://127.0.0.1:9/x')",
        "ATTACH '{path}.db' AS other",
        "COPY (SELECT 1) TO '{path}.out.csv'",
        "INSTALL httpfs",
        "LOAD httpfs",
        "SET enable_external_access = true",
        "SET autoinstall_known_extensions = true",
    ],
)
def test_sealed_engine_reaches_no_file_url_or_extension(tmp_path, sql):
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET + "\n")
    for path in (None, tmp_path / "ws.duckdb"):  # in memory and the workspace's file
        with DuckDBEngine(path) as eng:
            with pytest.raises(SQLError) as info:
                eng.query(sql.format(path=secret))
            assert SECRET not in str(info.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["secret.txt", "ws.duckdb"]


def test_sealed_engine_still_opens_its_own_file_and_spills(tmp_path):
    ws = tmp_path / "ws.duckdb"
    with DuckDBEngine(ws) as eng:
        eng.execute("CREATE TABLE t AS SELECT 42 AS x")
    # one thread: the spill path is what is tested, not how many blocks threads pin at once
    with DuckDBEngine(ws, memory_limit="40MB", threads=1) as eng:
        assert eng.query("SELECT x FROM t")["x"].to_list() == [42]
        n = eng.query(
            "SELECT count(*) AS n FROM "
            "(SELECT md5(i::VARCHAR) m FROM range(1500000) r(i) ORDER BY m)"
        )
        assert n["n"][0] == 1_500_000


@pytest.mark.parametrize(
    ("sql", "named"),
    [
        ("(SELECT count(*) FROM read_text('/etc/passwd')) > 0", "'/etc/passwd'"),
        ("(SELECT count(*) FROM read_text(doc_number)) > 0", "read_text("),
        ("supplier_name <> 'http://127.0.0.1:8765/x'", "'http://127.0.0.1:8765/x'"),
        ("(SELECT count(*) FROM parquet_scan(supplier_name)) > 0", "parquet_scan("),
        ("true) IS NOT NULL; ATTACH 'x' AS y; SELECT (1", "ATTACH"),
        # Spark (issue 16): a rule run there could call Java or read files
        ("java_method('java.lang.System', 'getProperty', 'user.home') IS NOT NULL", "java_method("),
        ("reflect('java.lang.System', 'getenv', 'HOME') <> ''", "reflect("),
        ("(SELECT count(*) FROM read_files(doc_number)) > 0", "read_files("),
    ],
)
def test_external_reference_names_what_a_rule_would_reach(sql, named):
    assert external_reference(sql) == named


@pytest.mark.parametrize(
    "sql",
    [
        "doc_number LIKE '%/%'",
        "split_part(doc_number, '/', 1) = 'INV'",
        "match_status = 'exact' AND supplier_name ILIKE '%load%'",
    ],
)
def test_external_reference_leaves_ordinary_rules_alone(sql):
    assert external_reference(sql) is None


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
