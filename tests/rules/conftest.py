"""Helpers for rule-engine tests: IMS documents plus the reconciliation outcome of each."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

from imsdata.schemas import MATCH_COLUMNS
from imsdata.testing import complete, ims_frame


def case(docs: list[dict[str, Any]]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """IMS frame and matches from rows; a row's `match` (status, default missing) and `match_*`
    keys (reasons, diff_*, superseded_by...) become its match row."""
    ims_rows, match_rows = [], []
    for i, doc in enumerate(docs):
        doc = dict(doc)
        status = doc.pop("match", "missing_in_register")
        extra = {k[6:]: doc.pop(k) for k in list(doc) if k.startswith("match_")}
        ims_rows.append(doc)
        booked = status not in ("missing_in_register",)
        match_rows.append(
            {
                "_i": i,
                "register_id": f"R{i + 1}" if booked else None,
                "match_status": status,
                "match_score": 100 if booked else 0,
                **extra,
            }
        )
    ims = ims_frame(ims_rows)
    keys = ims.select("doc_key").with_row_index("_i").with_columns(pl.col("_i").cast(pl.Int64))
    matches = keys.join(pl.DataFrame(match_rows, infer_schema_length=None), on="_i").drop("_i")
    return ims, complete(matches, MATCH_COLUMNS)


@pytest.fixture
def make_case():
    """The `case` helper as a fixture."""
    return case
