"""SQL dialects: the few engine-specific expressions, one class per engine (splink style).

The SQL of reconcile, explain and the rule engine is written once, in DuckDB's dialect. What
DuckDB and Spark spell or compute differently comes from the engine's `Dialect`; everything else
is translated by sqlglot at the engine boundary (`imsdata.spark_engine`). Three differences a
plain transpile gets silently wrong or cannot do are here on purpose:

- `format('{:,.2f}', x)` becomes Spark's FORMAT_STRING, which prints the literal pattern;
- a cast of a fractional number to an integer rounds on DuckDB and truncates on Spark;
- Spark has no `jaro_winkler_similarity` and no `try_strptime`.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Name under which the Spark engine registers its Jaro-Winkler UDF (`imsdata.spark_engine`).
SPARK_SIMILARITY_UDF = "imsdata_jaro_winkler"

#: strftime directives the date parser understands, as Java DateTimeFormatter letters.
_JAVA_DATE = {"%d": "dd", "%m": "MM", "%Y": "yyyy", "%y": "yy", "%H": "HH", "%M": "mm", "%S": "ss"}


@dataclass(frozen=True)
class Dialect:
    """DuckDB, the reference dialect the SQL is written in."""

    name: str = "duckdb"
    #: sqlglot's name for the dialect SQL is written to (None: run as written).
    sqlglot_write: str | None = None

    def similarity(self, a: str, b: str) -> str:
        """String similarity 0..1 (Jaro-Winkler) of two SQL string expressions."""
        return f"jaro_winkler_similarity({a}, {b})"

    def money_text(self, expr: str) -> str:
        """A DECIMAL as text with thousands separators and 2 decimals ('10,012.40')."""
        return f"format('{{:,.2f}}', {expr})"

    def parse_date(self, text: str, fmt: str) -> str:
        """A DATE parsed from text with a strftime format; NULL when it does not parse."""
        return f"CAST(try_strptime({text}, '{fmt}') AS DATE)"

    def to_int(self, expr: str) -> str:
        """A number as INTEGER, rounded to the nearest (DuckDB's cast rounds)."""
        return f"CAST({expr} AS INTEGER)"


@dataclass(frozen=True)
class SparkDialect(Dialect):
    """Spark SQL (4.x): the expressions DuckDB's SQL needs there, written so sqlglot's
    `databricks` writer (which keeps QUALIFY, run natively by Spark 4) leaves them alone."""

    name: str = "spark"
    sqlglot_write: str | None = "databricks"

    def similarity(self, a: str, b: str) -> str:
        """The registered rapidfuzz Jaro-Winkler UDF (equal to DuckDB's to ~1e-12)."""
        return f"{SPARK_SIMILARITY_UDF}({a}, {b})"

    def money_text(self, expr: str) -> str:
        """Spark's format_number gives the same '#,##0.00' text for 2-decimal amounts."""
        return f"format_number({expr}, 2)"

    def parse_date(self, text: str, fmt: str) -> str:
        """try_to_timestamp with the Java pattern of the strftime format."""
        pattern = fmt
        for directive, java in _JAVA_DATE.items():
            pattern = pattern.replace(directive, java)
        if "%" in pattern:
            raise ValueError(f"date format {fmt!r} has a directive the Spark dialect lacks")
        return f"CAST(try_to_timestamp({text}, '{pattern}') AS DATE)"

    def to_int(self, expr: str) -> str:
        """Spark truncates a fractional cast: round first, as DuckDB's cast does."""
        return f"CAST(round({expr}) AS INTEGER)"


DUCKDB = Dialect()
SPARK = SparkDialect()
DIALECTS: dict[str, Dialect] = {"duckdb": DUCKDB, "spark": SPARK}


def dialect_of(engine: object | None) -> Dialect:
    """The dialect of an engine (DuckDB when none is given)."""
    found = getattr(engine, "dialect", None) if engine is not None else None
    return found if isinstance(found, Dialect) else DUCKDB
