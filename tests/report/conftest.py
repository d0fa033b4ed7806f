"""Tiny hand-written IMS month for the report tests: every action, status and section kind."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from imsdata.report import Report, build_report
from imsdata.schemas import MATCH_COLUMNS
from imsdata.testing import RECIPIENT, complete, ims_frame, make_gstin

ALPHA = make_gstin("27", "AAPFU0939F")
RATHI = make_gstin("24", "AABCR6898M")
KAVERI = make_gstin("29", "AAACK1234L")


def key(ims: pl.DataFrame, number: str) -> str:
    """The doc_key of the document with this number."""
    return ims.filter(pl.col("doc_number") == number)["doc_key"][0]


#: The report's "as of" date in these tests (the default is today).
AS_OF = dt.date(2025, 12, 5)


@pytest.fixture(scope="session")
def month() -> dict[str, pl.DataFrame]:
    """November 2025: accepted, deemed, pending, rejected, a credit note, a mismatch."""
    ims = ims_frame(
        [
            # accepted by decision, exact match
            {"doc_number": "A-1", "supplier_gstin": ALPHA, "supplier_name": "Alpha Traders",
             "taxable_value": "100000", "cgst": "9000", "sgst": "9000"},
            # accepted by decision, mismatch against the books (IGST)
            {"doc_number": "R-7", "supplier_gstin": RATHI, "supplier_name": "Rathi Steel",
             "taxable_value": "2500000", "igst": "450000", "cgst": "0", "sgst": "0",
             "pos": "24"},
            # no decision, downloaded as N: deemed accepted; credit note missing in the books
            {"doc_number": "CN-1", "section": "b2bcn", "supplier_gstin": ALPHA,
             "supplier_name": "Alpha Traders", "taxable_value": "1000", "cgst": "90",
             "sgst": "90"},
            # pending by decision, old invoice (FY 2024-25: sec. 16(4) lapses 30-11-2025)
            {"doc_number": "K-3", "supplier_gstin": KAVERI, "supplier_name": "Kaveri Foods",
             "doc_date": dt.date(2025, 3, 10), "taxable_value": "5000", "igst": "900",
             "cgst": "0", "sgst": "0", "pos": "29"},
            # downloaded as rejected, no new decision
            {"doc_number": "A-9", "supplier_gstin": ALPHA, "taxable_value": "700", "cgst": "63",
             "sgst": "63", "portal_action": "R"},
        ]
    )  # fmt: skip
    keys = ims["doc_key"].to_list()
    matches = complete(
        pl.DataFrame(
            {
                "doc_key": [*keys, None],
                "register_id": ["1", "2", None, "4", "5", "9"],
                "match_status": [
                    "exact", "mismatch", "missing_in_register", "exact", "exact",
                    "missing_in_ims",
                ],
                "diff_igst": ["0", "1000", None, "0", "0", None],
            }
        ),
        MATCH_COLUMNS,
    )  # fmt: skip
    decisions = pl.DataFrame(
        {
            "doc_key": [keys[0], keys[1], keys[3]],
            "action": ["accept", "accept", "pending"],
            "rule_id": ["exact", "review", "manual"],
            "reason": ["exact match", "IGST differs", "await credit"],
            "source": ["rule", "manual", "manual"],
        }
    )
    return {"ims": ims, "matches": matches, "decisions": decisions}


@pytest.fixture(scope="session")
def report(month: dict[str, pl.DataFrame]) -> Report:
    """The report of the tiny month, with a previous download where A-1 changed."""
    ims = month["ims"]
    previous = pl.concat(
        [
            ims.filter(pl.col("doc_number") != "A-9").with_columns(
                record_hash=pl.when(pl.col("doc_number") == "A-1")
                .then(pl.lit("old-hash"))
                .otherwise(pl.col("record_hash"))
            ),
            ims_frame([{"doc_number": "GONE-1", "taxable_value": "200", "cgst": "18",
                        "sgst": "18"}]),
        ]
    )  # fmt: skip
    return build_report(
        ims, month["matches"], month["decisions"], previous=previous, gstin=RECIPIENT,
        period="112025", as_of=AS_OF,
    )  # fmt: skip
