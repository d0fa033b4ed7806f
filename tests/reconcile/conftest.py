"""Helpers for reconciliation tests: index the output by IMS number or register id."""

import polars as pl
import pytest


@pytest.fixture
def by_number():
    """Map IMS doc_number (from the doc_key) to its output row as a dict."""

    def index(result: pl.DataFrame) -> dict[str, dict]:
        rows = result.filter(pl.col("doc_key").is_not_null()).to_dicts()
        return {r["doc_key"].split("|")[2]: r for r in rows}

    return index


@pytest.fixture
def books_only():
    """Map register_id to its missing_in_ims row."""

    def index(result: pl.DataFrame) -> dict[str, dict]:
        rows = result.filter(pl.col("doc_key").is_null()).to_dicts()
        return {r["register_id"]: r for r in rows}

    return index
