"""A thin SQL engine object (splink style): register frames by name, run named SQL steps.

Reconciliation and the rule engine talk only to this surface, so the same SQL can later run on
another engine (Spark via sqlglot) by adding a sibling class.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import tempfile
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import polars as pl

from imsdata.dialects import DUCKDB, Dialect
from imsdata.errors import SQLError, UsageError
from imsdata.sql_reach import external_reference

if TYPE_CHECKING:
    from imsdata.engines import MappedRelations

#: The rule-SQL screen lives in `imsdata.sql_reach` (both engines); kept importable from here.
__all__ = ["DuckDBEngine", "external_reference"]

#: DuckDB's buffer pool per engine. Its default (80% of RAM) lets one run hold most of the
#: machine; bounded, a bigger join spills to the temp directory instead. IMSDATA_DUCKDB_MEMORY
#: overrides it (e.g. "8GB").
DEFAULT_MEMORY_LIMIT = "1GB"
#: Where DuckDB spills (its default, ".tmp" in the current folder, would litter the user's folder).
TEMP_DIRECTORY = Path(tempfile.gettempdir()) / "imsdata-duckdb"
#: Every connection is sealed (issue 15): no file, URL or extension is reachable from SQL (a rule
#: file's `when` is SQL), and the configuration is locked so no statement can undo it. The
#: database file given to `connect` and the spill folder stay usable.
#: DuckDB settings: the value types `duckdb.connect(config=...)` takes.
ConfigValue = str | bool | int | float | list[str]

SEALED_CONFIG: dict[str, ConfigValue] = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
}


#: The memory limit of the engines opened inside `memory_budget` (this thread's context only).
_BUDGET: contextvars.ContextVar[str | None] = contextvars.ContextVar("duckdb_budget", default=None)


@contextlib.contextmanager
def memory_budget(limit: str) -> Iterator[None]:
    """Open every DuckDB engine of the block with this memory limit (e.g. one client's share
    of a batch), without changing the environment or any other thread's engines."""
    token = _BUDGET.set(limit)
    try:
        yield
    finally:
        _BUDGET.reset(token)


class DuckDBEngine:
    """DuckDB in-process: an in-memory database, or the workspace file when a path is given.

    It always owns (and seals) its connection; a caller's engine is borrowed at the engine level
    (`imsdata.engines.engine_scope`), never a raw connection that could be unsealed.
    """

    dialect: Dialect = DUCKDB
    maps_in_process: bool = True  # register_mapped runs the polars functions here

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        threads: int | None = None,
        memory_limit: str | None = None,
        insertion_order: bool = True,
    ) -> None:
        limit = (
            memory_limit
            or _BUDGET.get()
            or os.environ.get("IMSDATA_DUCKDB_MEMORY")
            or DEFAULT_MEMORY_LIMIT
        )
        # DuckDB applies these in order: sealed first (a spill folder set before
        # enable_external_access=false is refused), the lock last.
        config: dict[str, ConfigValue] = {
            **SEALED_CONFIG,
            "memory_limit": limit,
            "temp_directory": str(TEMP_DIRECTORY),
            # set at connect: the configuration is locked afterwards (see `unordered`)
            "preserve_insertion_order": insertion_order,
        }
        if threads:
            config["threads"] = int(threads)
        config["lock_configuration"] = True
        self.insertion_order = insertion_order
        #: the frames `register_mapped` made, by relation name (sources of later ones)
        self._mapped: dict[str, pl.DataFrame] = {}
        try:
            self.con = duckdb.connect(str(path) if path else ":memory:", config=config)
        except (duckdb.InvalidInputException, duckdb.ParserException) as exc:
            first = str(exc).strip().splitlines()[0]
            raise UsageError(
                f"DuckDB memory limit {limit!r} (IMSDATA_DUCKDB_MEMORY) not accepted: {first}"
            ) from None

    def register(self, name: str, frame: pl.DataFrame) -> None:
        """Expose a polars frame as a view called `name` (replacing any earlier one).

        Handed over as Arrow with polars' own string views, which DuckDB reads as they are: a
        plain `register` of the frame converted every text column to Arrow's older string layout
        first, a copy of the frame (1M IMS documents: 1.0 s and 0.44 GB, now 0.1 s)."""
        self._mapped.pop(name, None)
        self.con.register(name, frame.to_arrow(compat_level=pl.CompatLevel.newest()))

    def register_mapped(self, relations: MappedRelations) -> None:
        """Each `fn(source)` computed in polars and registered; several at once in threads
        (polars releases the GIL: each side's number keys are a chain of regexes on one core)."""
        jobs = []
        for name, (source, fn) in relations.items():
            if isinstance(source, str):
                made = self._mapped.get(source)
                source = made if made is not None else self.query(f"SELECT * FROM {source}")
            jobs.append((name, source, fn))
        if len(jobs) == 1:
            frames = [jobs[0][2](jobs[0][1])]
        else:
            with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
                frames = list(pool.map(lambda job: job[2](job[1]), jobs))
        for (name, _, _), frame in zip(jobs, frames, strict=True):
            self.register(name, frame)
            self._mapped[name] = frame

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
        self._mapped.pop(name, None)
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
        from imsdata.engines import run_steps

        return run_steps(self, steps)

    @contextlib.contextmanager
    def unordered(self) -> Iterator[None]:
        """Mark a block whose bulk INSERTs need no insertion order (their readers ORDER BY).

        The sealed configuration cannot change once open, so an engine opened with
        `insertion_order=False` (the workspace: every reader sorts) already runs such blocks
        unordered, with less memory and work; on other engines the block keeps the order."""
        yield

    def close(self) -> None:
        """Close the connection."""
        self._mapped.clear()
        self.con.close()

    def __enter__(self) -> DuckDBEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
