"""Shared helpers of the issue-11 tests (a module, not a conftest: test folders share names)."""

from __future__ import annotations

import polars as pl

from imsdata.testing import ims_with_matches


def case(docs: list[dict]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """IMS frame and matches: a row's `match` (default missing_in_register) and `match_*` keys;
    documents numbered D1, D2..."""
    return ims_with_matches(docs, numbered="D")
