"""The engine protocol: what reconcile, explain and the rule engine need from a SQL engine.

Two implementations: `imsdata.engine.DuckDBEngine` (the default, and the workspace's) and
`imsdata.spark_engine.SparkEngine` (the `imsdata[spark]` extra; pyspark is imported only when a
Spark engine is opened). SQL is written in DuckDB's dialect; each engine's `dialect`
(`imsdata.dialects`) supplies the expressions that differ, and the Spark engine translates the
rest with sqlglot. An engine owns its connection (opened by it, closed by `close`) or borrows one
(a caller's DuckDB connection or SparkSession, left open).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

import polars as pl

from imsdata.dialects import Dialect
from imsdata.errors import UsageError

#: Engine names the CLI and the batch manifest accept.
ENGINE_NAMES: tuple[str, ...] = ("duckdb", "spark")

#: A row-local polars function (each output row depends on one input row only, as the number
#: keys of `imsdata.reconcile.numbers`), so an engine may apply it to any split of the rows.
RowFunction = Callable[[pl.DataFrame], pl.DataFrame]
#: Relations made by `Engine.register_mapped`: name -> (a polars frame, or the name of a relation
#: made by an earlier `register_mapped`; the function applied to it).
MappedRelations = Mapping[str, tuple["pl.DataFrame | str", RowFunction]]


@runtime_checkable
class Engine(Protocol):
    """A SQL engine holding named relations for one run (see the module docstring)."""

    dialect: Dialect
    #: True when `register_mapped` runs its functions in this process (DuckDB), where work the
    #: functions share can be done once beforehand; False when they run elsewhere (Spark's
    #: executors), where only the rows and the functions travel.
    maps_in_process: bool

    def register(self, name: str, frame: pl.DataFrame) -> None:
        """Expose a polars frame as the relation `name` (replacing any earlier one)."""

    def register_mapped(self, relations: MappedRelations) -> None:
        """Expose each `fn(source)` as a relation: DuckDB runs the polars functions on the
        driver (independent ones at once), Spark applies them per partition on its executors
        (`mapInArrow`), so one polars implementation serves both."""

    def query(self, sql: str, *, step: str = "query") -> pl.DataFrame:
        """Run a SELECT; a polars frame back; errors are `SQLError` naming the step."""

    def scalar(self, sql: str, *, step: str = "scalar") -> Any:
        """The first value of a query's first row (None when it has no rows)."""

    def materialise(self, name: str, sql: str) -> None:
        """Compute a named step once into the relation `name` (breaks lineage on Spark)."""

    def append(self, name: str, sql: str) -> None:
        """Add a query's rows to a relation made by `materialise`."""

    def view(self, name: str, sql: str) -> None:
        """A named query, not computed until read."""

    def run_steps(self, steps: Sequence[tuple[str, str]]) -> pl.DataFrame:
        """Materialise each (name, sql) step in order; the last one as a frame."""

    def unordered(self) -> contextlib.AbstractContextManager[None]:
        """A block in which the engine may reorder rows of bulk writes."""

    def close(self) -> None:
        """Release what the engine owns (a borrowed connection stays open)."""

    def __enter__(self) -> Engine: ...

    def __exit__(self, *exc: object) -> None: ...


def run_steps(engine: Engine, steps: Sequence[tuple[str, str]]) -> pl.DataFrame:
    """Materialise each (name, sql) step in order on `engine` and return the last one as a frame
    (every engine's `run_steps`)."""
    for name, sql in steps:
        engine.materialise(name, sql)
    last = steps[-1][0]
    return engine.query(f"SELECT * FROM {last}", step=last)


@contextlib.contextmanager
def engine_scope(engine: Engine | None = None) -> Iterator[Engine]:
    """The caller's engine, borrowed; or a fresh in-memory DuckDB engine, closed afterwards."""
    if engine is not None:
        yield engine
        return
    from imsdata.engine import DuckDBEngine

    with DuckDBEngine() as own:
        yield own


def open_engine(
    name: str = "duckdb",
    *,
    master: str | None = None,
    session: Any = None,
    memory_limit: str | None = None,
    threads: int | None = None,
) -> Engine:
    """Open an engine by name: 'duckdb' (in memory) or 'spark' (`master`, e.g. 'local[2]', or a
    caller's SparkSession, borrowed)."""
    if name == "duckdb":
        from imsdata.engine import DuckDBEngine

        return DuckDBEngine(memory_limit=memory_limit, threads=threads)
    if name == "spark":
        from imsdata.spark_engine import SparkEngine

        return SparkEngine(session=session, master=master)
    raise UsageError(f"unknown engine {name!r} (use one of {', '.join(ENGINE_NAMES)})")
