"""Engines for tests: DuckDB always; Spark (local mode, one session for the run) when pyspark and
Java are installed, marked `spark` (run with `make test-spark`)."""

from __future__ import annotations

import importlib.util
import shutil

import pytest


def _spark_missing() -> str | None:
    if shutil.which("java") is None:
        return "no java on PATH (install openjdk-17-jre-headless)"
    if importlib.util.find_spec("pyspark") is None or importlib.util.find_spec("sqlglot") is None:
        return "the spark extra is not installed (pip install -e '.[spark]')"
    return None


@pytest.fixture(scope="session")
def spark_session():
    """One local Spark for the whole run (an owning engine's session, stopped at the end)."""
    reason = _spark_missing()
    if reason:
        pytest.skip(reason)
    from imsdata.spark_engine import SparkEngine

    owner = SparkEngine(master="local[2]")
    yield owner.root
    owner.close()


#: Parametrise a test over both engines: `def test_x(engine): ...`.
ENGINES = ["duckdb", pytest.param("spark", marks=pytest.mark.spark)]


@pytest.fixture(params=ENGINES)
def engine(request):
    """A fresh engine of each kind (Spark: its own session in the shared application)."""
    if request.param == "duckdb":
        from imsdata.engine import DuckDBEngine

        with DuckDBEngine() as eng:
            yield eng
    else:
        from imsdata.spark_engine import SparkEngine

        with SparkEngine(session=request.getfixturevalue("spark_session")) as eng:
            yield eng
