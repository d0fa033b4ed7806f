"""The Spark engine: the same named SQL steps on Spark SQL, translated by sqlglot.

Needs the `imsdata[spark]` extra (pyspark, sqlglot) and Java 17; nothing here is imported until a
`SparkEngine` is opened. Each engine works in its own `SparkSession.newSession()` (own temp views,
UDFs and SQL settings, one shared SparkContext), so many clients can run side by side in one Spark
application without their `rec_*` relations meeting. SQL arrives in DuckDB's dialect with the
engine-specific parts already in Spark's (`imsdata.dialects.SparkDialect`) and is written out by
sqlglot's `databricks` dialect, which keeps QUALIFY (Spark 4 runs it natively; sqlglot's `spark`
writer rewrites it into a subquery that loses a column's scope).
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import polars as pl
import pyarrow as pa
from polars.datatypes import DataTypeClass

from imsdata.dialects import SPARK, SPARK_SIMILARITY_UDF, Dialect
from imsdata.errors import SQLError, UsageError

if TYPE_CHECKING:
    from imsdata.engines import MappedRelations, RowFunction

#: Settings for a session this engine starts itself (static: fixed when the JVM starts).
STATIC_CONF: dict[str, str] = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.driver.host": "127.0.0.1",  # loopback: no network needed in local mode
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
}
#: Settings of every engine's session (runtime SQL settings, also on a borrowed session's child).
SESSION_CONF: dict[str, str] = {
    # Without this the optimiser did not finish planning the scoring step at 5k documents in
    # 280 s (issue 16); splink's test setup turns it off too.
    "spark.sql.constraintPropagation.enabled": "false",
    "spark.sql.session.timeZone": "UTC",
    # Spark SQL reads a file named as a table (SELECT * FROM text.`/etc/passwd`); a rule file's
    # SQL must only see the decision view (issue 15; DuckDB's connection is sealed likewise)
    "spark.sql.runSQLOnFiles": "false",
}
#: Shuffle partitions for a session this engine starts in local mode (the default 200 is for
#: clusters; a month of one client is small).
LOCAL_SHUFFLE_PARTITIONS = "4"


def _require() -> None:
    try:
        import pyspark  # noqa: F401
        import sqlglot  # noqa: F401
    except ImportError as exc:
        raise UsageError(
            f"the Spark engine needs the spark extra ({exc.name} is missing): "
            "pip install 'imsdata[spark]' (and Java 17)"
        ) from None


@functools.lru_cache(maxsize=512)
def to_spark_sql(sql: str, write: str = "databricks") -> str:
    """DuckDB-dialect SQL as Spark SQL (sqlglot; cached: the assignment rounds repeat it)."""
    import sqlglot

    return sqlglot.transpile(sql, read="duckdb", write=write)[0]


def _jaro_winkler(a: pa.Array, b: pa.Array) -> pa.Array:
    """Jaro-Winkler of two Arrow string arrays (the Spark similarity UDF's body; rapidfuzz, the
    same measure as DuckDB's jaro_winkler_similarity). Arrow, not pandas: no pandas needed."""
    from rapidfuzz.distance import JaroWinkler

    sim = JaroWinkler.normalized_similarity
    values = [
        sim(x, y) if x is not None and y is not None else None
        for x, y in zip(a.to_pylist(), b.to_pylist(), strict=True)
    ]
    return pa.array(values, type=pa.float64())


def register_similarity(spark: Any) -> None:
    """Register the Arrow UDF that stands in for DuckDB's jaro_winkler_similarity."""
    from pyspark.sql.functions import arrow_udf

    # pyspark's stubs (present only with the spark extra) have no overload for a DDL return type
    udf = arrow_udf(_jaro_winkler, "double")  # type: ignore[call-overload, unused-ignore]
    spark.udf.register(SPARK_SIMILARITY_UDF, udf)


def _arrow_ready(frame: pl.DataFrame) -> pl.DataFrame:
    """Types Spark reads from Arrow: unsigned integers widened to signed (Spark has none)."""
    unsigned: dict[DataTypeClass, DataTypeClass] = {
        pl.UInt8: pl.Int16,
        pl.UInt16: pl.Int32,
        pl.UInt32: pl.Int64,
        pl.UInt64: pl.Int64,
    }
    casts = {
        name: unsigned[dtype.base_type()]
        for name, dtype in frame.schema.items()
        if dtype.base_type() in unsigned
    }
    return frame.cast(pl.Schema(casts)) if casts else frame


def _arrow_schema(frame: pl.DataFrame) -> pa.Schema:
    """The Arrow schema the engine gives Spark for a polars frame (`register`'s conversion)."""
    return _arrow_ready(frame).to_arrow(compat_level=pl.CompatLevel.oldest()).schema


def _per_batch(fn: RowFunction, schema: pa.Schema) -> Callable[[Iterator[Any]], Iterator[Any]]:
    """The `mapInArrow` body: `fn` on each Arrow batch as a polars frame, cast to `schema` (runs
    in Spark's Python workers; `fn` must be importable there, as imsdata's functions are)."""

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            frame = pl.from_arrow(batch)
            assert isinstance(frame, pl.DataFrame)
            out = _arrow_ready(fn(frame)).to_arrow(compat_level=pl.CompatLevel.oldest())
            yield from out.cast(schema).to_batches()

    return run


class SparkEngine:
    """Spark SQL behind the engine protocol (`imsdata.engines.Engine`)."""

    dialect: Dialect = SPARK
    maps_in_process: bool = False  # register_mapped runs the polars functions on executors

    def __init__(
        self,
        session: Any = None,
        *,
        master: str | None = None,
        app_name: str = "imsdata",
        conf: dict[str, str] | None = None,
    ) -> None:
        _require()
        from pyspark.sql import SparkSession

        self.owned = session is None
        if session is None:
            # the Python workers (the similarity UDF) must be this interpreter, with rapidfuzz
            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
            builder = SparkSession.builder.master(master or "local[2]").appName(app_name)
            settings = {**STATIC_CONF, **SESSION_CONF}
            if (master or "local").startswith("local"):
                settings["spark.sql.shuffle.partitions"] = LOCAL_SHUFFLE_PARTITIONS
            for key, value in {**settings, **(conf or {})}.items():
                builder = builder.config(key, value)
            self.root = builder.getOrCreate()
        else:
            self.root = session
        self.spark = self.root.newSession()
        for key, value in SESSION_CONF.items():
            self.spark.conf.set(key, value)
        register_similarity(self.spark)
        self._frames: dict[str, Any] = {}

    # ------------------------------------------------------------------ protocol

    def sql(self, sql: str, *, step: str) -> Any:
        """A Spark DataFrame for DuckDB-dialect SQL (lazy); errors name the step and the SQL."""
        from pyspark.errors import PySparkException

        try:
            text = to_spark_sql(sql, self.dialect.sqlglot_write or "spark")
        except Exception as exc:  # sqlglot's ParseError/UnsupportedError: the SQL is ours
            raise SQLError(step, sql, exc) from exc
        try:
            return self.spark.sql(text)
        except PySparkException as exc:
            raise SQLError(step, text, exc) from exc

    def _run(self, step: str, text: str, action: Any) -> Any:
        from pyspark.errors import PySparkException

        try:
            return action()
        except PySparkException as exc:
            raise SQLError(step, text, exc) from exc

    def register(self, name: str, frame: pl.DataFrame) -> None:
        """Expose a polars frame as a temp view (through Arrow)."""
        arrow = _arrow_ready(frame).to_arrow(compat_level=pl.CompatLevel.oldest())
        df = self.spark.createDataFrame(arrow)
        self._replace(name, df)

    def register_mapped(self, relations: MappedRelations) -> None:
        """Each `fn(source)` computed per partition on the executors (`mapInArrow` with the
        polars function), then checkpointed: the driver only sends the rows and the function.
        The output schema is `fn` of an empty frame of the source's schema."""
        from pyspark.sql.pandas.types import from_arrow_schema, to_arrow_schema

        for name, (source, fn) in relations.items():
            if isinstance(source, str):
                df = self._frames[source]
                arrow = to_arrow_schema(df.schema, prefers_large_types=True)
                empty = pl.from_arrow(arrow.empty_table())
            else:
                df = self.spark.createDataFrame(
                    _arrow_ready(source).to_arrow(compat_level=pl.CompatLevel.oldest())
                )
                empty = source.clear()
            assert isinstance(empty, pl.DataFrame)
            schema = _arrow_schema(fn(empty))
            with warnings.catch_warnings():
                # mapInArrow goes through pandas_udf, which warns about pandas 3; no pandas
                # runs here (Arrow batches in and out)
                warnings.filterwarnings(
                    "ignore", "PySpark does not yet fully support pandas", FutureWarning
                )
                mapped = df.mapInArrow(_per_batch(fn, schema), from_arrow_schema(schema))
            self._replace(name, self._run(name, name, lambda m=mapped: m.localCheckpoint(True)))

    def query(self, sql: str, *, step: str = "query") -> pl.DataFrame:
        """Run a SELECT and return a polars frame."""
        df = self.sql(sql, step=step)
        table = self._run(step, sql, df.toArrow)
        out = pl.from_arrow(table)
        assert isinstance(out, pl.DataFrame)
        return out

    def scalar(self, sql: str, *, step: str = "scalar") -> Any:
        """The first value of the first row (None when there is none)."""
        row = self._run(step, sql, self.sql(sql, step=step).first)
        return None if row is None else row[0]

    def materialise(self, name: str, sql: str) -> None:
        """Compute the step once (local checkpoint: lineage broken, plans stay small)."""
        df = self.sql(sql, step=name)
        self._replace(name, self._run(name, sql, lambda: df.localCheckpoint(eager=True)))

    def append(self, name: str, sql: str) -> None:
        """Spark cannot INSERT INTO a temp view: union the rows in and checkpoint again."""
        new = self.sql(sql, step=name)
        combined = self._frames[name].union(new)
        self._replace(name, self._run(name, sql, lambda: combined.localCheckpoint(eager=True)))

    def view(self, name: str, sql: str) -> None:
        """A temp view over the query, computed where it is read."""
        self._replace(name, self.sql(sql, step=name), keep=False)

    def run_steps(self, steps: Sequence[tuple[str, str]]) -> pl.DataFrame:
        """Materialise each (name, sql) step in order and return the last one as a frame."""
        from imsdata.engines import run_steps

        return run_steps(self, steps)

    @contextlib.contextmanager
    def unordered(self) -> Iterator[None]:
        """Spark keeps no insertion order anyway: nothing to change."""
        yield

    def close(self) -> None:
        """Drop this engine's views and cached steps; stop Spark only if this engine started it."""
        for name, df in self._frames.items():
            with contextlib.suppress(Exception):
                df.unpersist()
            with contextlib.suppress(Exception):
                self.spark.catalog.dropTempView(name)
        self._frames.clear()
        if self.owned:
            self.root.stop()

    def __enter__(self) -> SparkEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ helpers

    def _replace(self, name: str, df: Any, *, keep: bool = True) -> None:
        old = self._frames.pop(name, None)
        df.createOrReplaceTempView(name)
        self._frames[name] = df
        if old is not None and old is not df and keep:
            with contextlib.suppress(Exception):
                old.unpersist()
