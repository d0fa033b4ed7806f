"""A thin SQL engine object (splink style): register frames by name, run named SQL steps.

Reconciliation and the rule engine talk only to this surface, so the same SQL can later run on
another engine (Spark via sqlglot) by adding a sibling class.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import duckdb
import polars as pl

from imsdata.dialects import DUCKDB, Dialect
from imsdata.errors import SQLError, UsageError

#: DuckDB's buffer pool per engine. Its default (80% of RAM) lets one run hold most of the
#: machine; bounded, a bigger join spills to the temp directory instead. IMSDATA_DUCKDB_MEMORY
#: overrides it (e.g. "8GB").
DEFAULT_MEMORY_LIMIT = "1GB"
#: Where DuckDB spills (its default, ".tmp" in the current folder, would litter the user's folder).
TEMP_DIRECTORY = Path(tempfile.gettempdir()) / "imsdata-duckdb"


class DuckDBEngine:
    """DuckDB in-process: an in-memory database, or the workspace file when a path is given.

    Pass `connection` to borrow an open DuckDB connection: `close` then leaves it open (the
    engine protocol of `imsdata.engines`: an engine owns or borrows its connection).
    """

    dialect: Dialect = DUCKDB

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        threads: int | None = None,
        memory_limit: str | None = None,
        connection: duckdb.DuckDBPyConnection | None = None,
    ) -> None:
        self.owned = connection is None
        if connection is not None:
            self.con = connection
            return
        limit = memory_limit or os.environ.get("IMSDATA_DUCKDB_MEMORY") or DEFAULT_MEMORY_LIMIT
        config = {"memory_limit": limit, "temp_directory": str(TEMP_DIRECTORY)}
        try:
            self.con = duckdb.connect(str(path) if path else ":memory:", config=config)
        except (duckdb.InvalidInputException, duckdb.ParserException) as exc:
            first = str(exc).strip().splitlines()[0]
            raise UsageError(
                f"DuckDB memory limit {limit!r} (IMSDATA_DUCKDB_MEMORY) not accepted: {first}"
            ) from None
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

    def scalar(self, sql: str, *, step: str = "scalar") -> object:
        """The first column of the first row of a query (None when it has no rows)."""
        row = self.execute(sql, step=step).fetchone()
        return None if row is None else row[0]

    def append(self, name: str, sql: str) -> None:
        """Add the rows of a query to the table `name` (made by `materialise`)."""
        self.execute(f"INSERT INTO {name} {sql}", step=name)

    def view(self, name: str, sql: str) -> None:
        """A named query, not stored: read where it is used (cheap when read once)."""
        self._replace("VIEW", "TABLE", name, sql)

    def materialise(self, name: str, sql: str) -> None:
        """Run a named step into a temp table called `name` (breaks lineage, reused cheaply)."""
        self._replace("TABLE", "VIEW", name, sql)

    def _replace(self, kind: str, other: str, name: str, sql: str) -> None:
        """CREATE OR REPLACE; a temp relation of the other kind with that name (one engine used
        by suggest, then check) is dropped first."""
        statement = f"CREATE OR REPLACE TEMP {kind} {name} AS {sql}"
        try:
            self.con.execute(statement)
        except duckdb.CatalogException as exc:
            if f"is of type {other.title()}" not in str(exc):
                raise SQLError(name, statement, exc) from exc
            self.execute(f"DROP {other} temp.main.{name}", step=name)
            self.execute(statement, step=name)
        except duckdb.Error as exc:
            raise SQLError(name, statement, exc) from exc

    def run_steps(self, steps: Sequence[tuple[str, str]]) -> pl.DataFrame:
        """Materialise each (name, sql) step in order and return the last one as a frame."""
        for name, sql in steps:
            self.materialise(name, sql)
        return self.query(f"SELECT * FROM {steps[-1][0]}", step=steps[-1][0])

    @contextlib.contextmanager
    def unordered(self) -> Iterator[None]:
        """Let DuckDB reorder rows inside the block (bulk INSERTs whose readers ORDER BY): less
        memory and work than keeping insertion order. Restored afterwards."""
        self.execute("SET preserve_insertion_order = false", step="unordered")
        try:
            yield
        finally:
            self.execute("SET preserve_insertion_order = true", step="unordered")

    def close(self) -> None:
        """Close the connection (a borrowed one stays open for its owner)."""
        if self.owned:
            self.con.close()

    def __enter__(self) -> DuckDBEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
