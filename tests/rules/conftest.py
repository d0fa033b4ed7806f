"""Helpers for rule-engine tests: IMS documents plus the reconciliation outcome of each."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

from imsdata.testing import ims_with_matches


def case(docs: list[dict[str, Any]]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """IMS frame and matches from rows; a row's `match` (status, default missing) and `match_*`
    keys (reasons, diff_*, superseded_by...) become its match row."""
    return ims_with_matches(docs)


@pytest.fixture
def make_case():
    """The `case` helper as a fixture."""
    return case
