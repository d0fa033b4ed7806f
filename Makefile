# make demo: the whole pipeline on the bundled sample.  make test: lint, tests, notebooks.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEVSTAMP := $(VENV)/.installed-dev
# The Spark extra lives in its own environment: pyspark[sql] brings pandas, and with pandas present
# `import pandera` imports its pandas API (about 1 s on every command), which users without the
# extra never pay and the benchmarks must not measure.
SPARKVENV := .venv-spark
SPARKSTAMP := $(SPARKVENV)/.installed-spark

.PHONY: demo lab test test-spark bench lint format clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(DEVSTAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@ $(STAMP)

demo: $(STAMP)
	$(BIN)/imsdata demo --out demo-out

LABSTAMP := $(VENV)/.installed-lab

$(LABSTAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[notebooks]"
	touch $@ $(STAMP)

# JupyterLab on the notebooks: the .py sources get their paired .ipynb (jupytext) first.
lab: $(LABSTAMP)
	$(BIN)/jupytext --sync notebooks/[0-9]*.py
	$(BIN)/jupyter lab notebooks/

lint: $(DEVSTAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(DEVSTAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: lint
	$(BIN)/python scripts/run_notebooks.py
	$(BIN)/python -m pytest
	$(MAKE) test-spark

# The Spark engine's tests (issue 16): pyspark in local mode, Java 17; skipped without java.
$(SPARKSTAMP): pyproject.toml
	$(PY) -m venv $(SPARKVENV)
	$(SPARKVENV)/bin/python -m pip install --quiet --upgrade pip
	$(SPARKVENV)/bin/python -m pip install --quiet -e ".[dev,spark]"
	touch $@

test-spark: $(SPARKSTAMP)
	$(SPARKVENV)/bin/python -m pytest tests/engines -m spark

# make bench: every stage at 10k/100k/1M, then imsdata run end to end per layout vs the greedy
# baseline at 200k. BENCH_QUICK=1 make bench: 10k and 100k, end to end at 50k (a few minutes).
# Then the batch: 200 synth clients of 5k on DuckDB, Spark local mode on 20 of them (its
# 200-client figure extrapolated; about 35-40 min idle, benchmarks/batch.md); quick: 20 and 4.
BATCH_ARGS := $(if $(BENCH_QUICK),--clients 20 --spark-clients 4,--clients 200 --spark-clients 20)
# The stages run without the spark extra (as users without it run them); the batch in .venv-spark.
bench: $(DEVSTAMP) $(SPARKSTAMP)
	$(BIN)/python benchmarks/run.py
	$(BIN)/python scripts/update_readme.py
	$(SPARKVENV)/bin/python benchmarks/bench_batch.py --docs 5000 $(BATCH_ARGS)

clean:
	rm -rf $(VENV) $(SPARKVENV) demo-out imsdata-out .pytest_cache .ruff_cache
