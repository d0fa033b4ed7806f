"""Guard against silent divergence: every SQL statement reconcile, explain and the rule engine
send to an engine, written for Spark, must use only functions Spark has (sqlglot only, no JVM).

The statements are captured by running the real code on DuckDB with the Spark dialect (DuckDB
macros stand in for the three Spark-only functions), so a new step is covered without listing
it here. Each is translated as the Spark engine does and parsed back; a function sqlglot does
not know (an anonymous node) outside SPARK_FUNCTIONS_WE_USE, or one known not to exist in Spark,
fails the test with the step's name.
"""

from __future__ import annotations

import polars as pl
import pytest

sqlglot = pytest.importorskip("sqlglot")
from sqlglot import exp  # noqa: E402

from imsdata.dialects import DUCKDB, SPARK, SPARK_SIMILARITY_UDF, Dialect  # noqa: E402
from imsdata.engine import DuckDBEngine  # noqa: E402
from imsdata.reconcile.explain import explain  # noqa: E402
from imsdata.reconcile.match import reconcile  # noqa: E402
from imsdata.rules import engine as rl  # noqa: E402
from imsdata.rules.view import decision_view  # noqa: E402
from imsdata.spark_engine import to_spark_sql  # noqa: E402

#: Spark functions sqlglot parses as anonymous, each one we use on purpose.
SPARK_FUNCTIONS_WE_USE = {
    SPARK_SIMILARITY_UDF.upper(),  # our Arrow UDF, registered by the Spark engine
    "FORMAT_NUMBER",  # SparkDialect.money_text
    "TRY_TO_TIMESTAMP",  # SparkDialect.parse_date
}
#: Functions sqlglot knows that Spark does not run, or runs with another meaning.
NOT_IN_SPARK: dict[type, str] = {
    exp.JarowinklerSimilarity: "no jaro_winkler_similarity in Spark",
    exp.Format: "format() becomes FORMAT_STRING, which prints the pattern literally",
}
#: DuckDB stand-ins so the Spark dialect's SQL runs here and can be captured.
_MACROS = (
    f"CREATE MACRO {SPARK_SIMILARITY_UDF}(a, b) AS jaro_winkler_similarity(a, b)",
    "CREATE MACRO format_number(x, d) AS format('{:,.2f}', x)",
    "CREATE MACRO try_to_timestamp(t, f) AS try_strptime(t, '%d%m%Y')",
)


class RecordingEngine(DuckDBEngine):
    """A DuckDB engine that keeps every statement it is given, in the dialect it is told."""

    def __init__(self, dialect: Dialect, statements: list[tuple[str, str]]) -> None:
        super().__init__()
        self.dialect = dialect
        self.statements = statements
        for macro in _MACROS:
            self.con.execute(macro)

    def query(self, sql: str, *, step: str = "query") -> pl.DataFrame:
        self.statements.append((step, sql))
        return super().query(sql, step=step)

    def scalar(self, sql: str, *, step: str = "scalar") -> object:
        self.statements.append((step, sql))
        return super().scalar(sql, step=step)

    def materialise(self, name: str, sql: str) -> None:
        self.statements.append((name, sql))
        super().materialise(name, sql)

    def append(self, name: str, sql: str) -> None:
        self.statements.append((name, sql))
        super().append(name, sql)

    def view(self, name: str, sql: str) -> None:
        self.statements.append((name, sql))
        super().view(name, sql)


def _everything(dialect: Dialect, month) -> list[tuple[str, str]]:
    """Every statement of reconcile, explain, suggest, check, the decision view and rule
    validation (each on its own engine, as the pipeline runs them)."""
    ims, register = month
    statements: list[tuple[str, str]] = []
    with RecordingEngine(dialect, statements) as eng:
        matches = reconcile(ims, register, engine=eng)
    with RecordingEngine(dialect, statements) as eng:
        explain(ims["doc_key"][0], ims, register, matches=matches, engine=eng)
    with RecordingEngine(dialect, statements) as eng:
        suggestions = rl.suggest(ims, matches, engine=eng)
    decisions = suggestions.select("doc_key", "action").with_columns(source=pl.lit("manual"))
    with RecordingEngine(dialect, statements) as eng:
        rl.check(ims, matches, decisions, engine=eng)
    with RecordingEngine(dialect, statements) as eng:
        decision_view(ims, matches, decisions, engine=eng)
    with RecordingEngine(dialect, statements) as eng:
        rl.validate_rules(rl.load_rules(), eng)
    return statements


def _problems(statements: list[tuple[str, str]]) -> list[str]:
    found = []
    for step, sql in statements:
        spark_sql = to_spark_sql(sql)
        tree = sqlglot.parse_one(spark_sql, read="databricks")
        for node in tree.find_all(exp.Func):
            if isinstance(node, exp.Anonymous):
                if node.name.upper() not in SPARK_FUNCTIONS_WE_USE:
                    found.append(f"{step}: {node.name} (unknown to Spark's dialect)")
            elif type(node) in NOT_IN_SPARK:
                found.append(f"{step}: {node.sql('databricks')[:60]} ({NOT_IN_SPARK[type(node)]})")
    return sorted(set(found))


@pytest.fixture(scope="module")
def month():
    from tests.engines.engine_helpers import synth_month

    return synth_month(120, seed=5)


def test_every_sql_step_written_for_spark_uses_only_functions_spark_has(month):
    statements = _everything(SPARK, month)
    steps = {name for name, _ in statements}
    # the capture really saw the steps of all three parts
    assert {
        "rec_cand",
        "rec_scored",
        "rec_ranked",
        "rec_explain_cand",
        "rules_suggestions",
    } <= steps
    assert {"rules_judged", "decision_view"} <= steps
    assert _problems(statements) == []


def test_the_guard_catches_duckdb_only_functions(month):
    """DuckDB's dialect sent to Spark unchanged would fail or be wrong: the guard says so."""
    problems = "\n".join(_problems(_everything(DUCKDB, month)))
    assert "rec_cand: JAROWINKLER_SIMILARITY" in problems
    assert "TRY_STRPTIME" in problems.upper()  # the decision view's supplier period
    assert "FORMAT_STRING" in problems  # money text in the reasons
