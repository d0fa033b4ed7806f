"""Issue 16: on Spark the number keys are computed per partition by the Spark workers (the same
polars functions as on DuckDB, equal key for key), and the candidate ranking is partitioned."""

from __future__ import annotations

import datetime as dt
import os

import polars as pl
import pytest

from imsdata.reconcile import sql
from imsdata.reconcile.match import load, reconcile
from imsdata.testing import ims_frame, register_frame

pytestmark = pytest.mark.spark

#: Every spelling class of issues 4 and 14, both ways round, and numbers without digits.
NUMBERS = [
    "INV/25-26/1230", "INV25261230", "1949/25-26", "19492526", "TI-1253/2025-26",
    "TI1253202526", "ABC/2025-2026/77", "ABC2025202677", "0182/25-026", "0904/25-00026",
    "TI-1278/2025-0026", "S0000523", "S0000523202526", "CRN-00067", "CRN000672526", "S2526523",
    "00620", "006202526", "25262339", "INV00025261469", "2025/00026", "25-00026", "12526",
    "1002526", "S0000523202425", "FY24-25/118", "inv-42", "ABC", "--", "2017-18/9",
]  # fmt: skip
#: Dates in several FYs, so a batch holds other years than its neighbours.
DATES = [dt.date(2017, 5, 2), dt.date(2024, 11, 5), dt.date(2025, 3, 31), dt.date(2025, 11, 5)]


def _inputs() -> tuple[pl.DataFrame, pl.DataFrame]:
    ims_rows, reg_rows = [], []
    for i, number in enumerate(NUMBERS):
        for j, date in enumerate(DATES):
            ims_rows.append({"doc_number": number, "doc_date": date})
            reg_rows.append({"doc_number": NUMBERS[-1 - i], "doc_date": date})
            if j == 0:  # an amendment found by its original number too
                ims_rows.append(
                    {"section": "b2ba", "doc_number": f"A{i}", "doc_date": date,
                     "orig_doc_number": number, "orig_doc_date": DATES[-1]}
                )  # fmt: skip
    return ims_frame(ims_rows), register_frame(reg_rows)


KEY_TABLES = ("rec_ims_keys", "rec_reg_rows", "rec_reg_glued")


def _tables(engine, names) -> dict[str, pl.DataFrame]:
    out = {}
    for name in names:
        frame = engine.query(f"SELECT * FROM {name}")
        out[name] = frame.sort(frame.columns, nulls_last=True)
    return out


def test_number_keys_are_equal_key_for_key_on_duckdb_and_spark(spark_session):
    from imsdata.engine import DuckDBEngine
    from imsdata.spark_engine import SparkEngine

    ims, register = _inputs()
    with DuckDBEngine() as duck:
        load(duck, ims, register)
        expected = _tables(duck, KEY_TABLES)
    with SparkEngine(session=spark_session) as spark:
        # small Arrow batches: each worker call sees a few rows and only their FYs
        spark.spark.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", "7")
        load(spark, ims, register)
        got = _tables(spark, KEY_TABLES)
    assert expected["rec_reg_glued"].height > 10  # the glued readings are exercised
    assert expected["rec_ims_keys"].filter(pl.col("variant") == "original").height > 10
    for name in KEY_TABLES:
        assert got[name].schema == expected[name].schema, name
        assert got[name].equals(expected[name]), name


def test_number_keys_run_in_spark_workers_not_on_the_driver(spark_session):
    from imsdata.spark_engine import SparkEngine

    def where(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.with_columns(pid=pl.lit(os.getpid(), dtype=pl.Int64))

    with SparkEngine(session=spark_session) as spark:
        spark.register_mapped({"t": (pl.DataFrame({"x": list(range(50))}), where)})
        out = spark.query("SELECT x, pid FROM t ORDER BY x")
    assert out["x"].to_list() == list(range(50))
    assert os.getpid() not in out["pid"].to_list()


def test_candidate_ranking_is_partitioned_by_supplier_pan_and_equal_on_both_engines(
    spark_session,
):
    from imsdata.engine import DuckDBEngine
    from imsdata.spark_engine import SparkEngine
    from tests.engines.engine_helpers import synth_month

    ims, register = synth_month(600, seed=5)
    with DuckDBEngine() as duck:
        reconcile(ims, register, engine=duck)
        expected = _tables(duck, ["rec_ranked"])["rec_ranked"]
    with SparkEngine(session=spark_session) as spark:
        reconcile(ims, register, engine=spark)
        got = _tables(spark, ["rec_ranked"])["rec_ranked"]
        plan = spark.sql(sql.RANKED, step="rec_ranked")._jdf.queryExecution().executedPlan()
        plan = plan.toString()
    assert expected.height > 500
    assert got.schema == expected.schema
    assert got.equals(expected)
    # the window is computed per PAN in parallel, never gathered into one partition
    assert "hashpartitioning(ims_pan" in plan
    assert "SinglePartition" not in plan
