"""A thin SQL engine object (splink style): register frames by name, run named SQL steps.

Reconciliation and the rule engine talk only to this surface, so the same SQL can later run on
another engine (Spark via sqlglot) by adding a sibling class.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import duckdb
import polars as pl

from imsdata.errors import SQLError


class DuckDBEngine:
    """DuckDB in-process: an in-memory database, or the workspace file when a path is given."""

    dialect = "duckdb"

    def __init__(self, path: str | Path | None = None, *, threads: int | None = None) -> None:
        self.con = duckdb.connect(str(path) if path else ":memory:")
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")

    def register(self, name: str, frame: pl.DataFrame) -> None:
        """Expose a polars frame as a view called `name` (replacing any earlier one)."""
        self.con.register(name, frame)

    def query(self, sql: str, *, step: str = "query") -> pl.DataFrame:
        """Run a SELECT and return a polars frame; errors name the step."""
        try:
            return self.con.sql(sql).pl()
        except duckdb.Error as exc:
            raise SQLError(step, sql, exc) from exc

    def execute(self, sql: str, params: Sequence[object] | None = None, *, step: str = "execute"):
        """Run a statement (DDL, INSERT, parameters); returns the DuckDB cursor."""
        try:
            return self.con.execute(sql, params or [])
        except duckdb.Error as exc:
            raise SQLError(step, sql, exc) from exc

    def materialise(self, name: str, sql: str) -> None:
        """Run a named step into a temp table called `name` (breaks lineage, reused cheaply)."""
        self.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {sql}", step=name)

    def run_steps(self, steps: Sequence[tuple[str, str]]) -> pl.DataFrame:
        """Materialise each (name, sql) step in order and return the last one as a frame."""
        for name, sql in steps:
            self.materialise(name, sql)
        return self.query(f"SELECT * FROM {steps[-1][0]}", step=steps[-1][0])

    def close(self) -> None:
        """Close the connection."""
        self.con.close()

    def __enter__(self) -> DuckDBEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
