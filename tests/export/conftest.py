"""Shared cases for the export tests: a small IMS snapshot covering every section, decisions."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest

from imsdata.rules.engine import parse_rules
from imsdata.schemas import DECISION_COLUMNS
from imsdata.testing import complete, ims_frame, make_gstin

SUPPLIER_A = make_gstin("27", "AAPFU0939F")
SUPPLIER_B = make_gstin("24", "AABCR6898M")


def decisions(rows: list[dict]) -> pl.DataFrame:
    """A decision log from partial rows (source manual unless given; money as text)."""
    full = []
    for r in rows:
        r = {"source": "manual", "reason": "reviewed", "user": "tester", **r}
        for k in ("declared_igst", "declared_cgst", "declared_sgst", "declared_cess"):
            r[k] = None if r.get(k) is None else Decimal(str(r[k]))
        full.append(r)
    return complete(pl.DataFrame(full, infer_schema_length=None), DECISION_COLUMNS)


@pytest.fixture
def make_decisions():
    """The `decisions` factory, for tests."""
    return decisions


@pytest.fixture
def no_guards():
    """A rule set without guards: the engine's built-in checks only."""
    return parse_rules("")


@pytest.fixture
def sample_ims() -> pl.DataFrame:
    """Nine documents over every section, two suppliers, with the traps the writer must handle."""
    return ims_frame(
        [
            # numeric-looking number, amounts that drift in float: 0.1 + 0.2
            {"supplier_gstin": SUPPLIER_B, "doc_number": "00123", "taxable_value": "0.10",
             "cgst": "0.20", "sgst": "0", "doc_value": "0.30", "pos": "24",
             "supplier_name": "=HYPERLINK(\"x\")", "extra_json": '{"newkey":"kept?"}'},
            {"doc_number": "INV/25/0042", "doc_date": dt.date(2025, 11, 1),
             "taxable_value": "10000.50", "portal_action": "A"},
            {"doc_number": "INV/25/0043", "doc_date": dt.date(2025, 11, 2)},
            {"section": "b2ba", "doc_number": "INV/25/0040A", "orig_doc_number": "INV/25/0040",
             "orig_doc_date": dt.date(2025, 10, 30), "pending_blocked": False},
            {"section": "b2bcn", "doc_number": "CN-17", "doc_date": dt.date(2025, 11, 20),
             "taxable_value": "1000", "cgst": "90", "sgst": "90", "portal_action": "N"},
            {"section": "b2bcna", "doc_number": "CN-18A", "orig_doc_number": "CN-18",
             "orig_doc_date": dt.date(2025, 10, 2), "portal_action": "N"},
            {"section": "b2bdn", "doc_number": "DN-1", "portal_action": "A"},
            {"section": "b2bdna", "doc_number": "DN-2A", "orig_doc_number": "DN-2",
             "orig_doc_date": dt.date(2025, 9, 1), "portal_action": "P"},
            {"section": "ecom", "doc_number": "E-1", "igst": "1800", "cgst": "0", "sgst": "0"},
        ]
    )  # fmt: skip


@pytest.fixture
def sample_decisions(sample_ims: pl.DataFrame) -> pl.DataFrame:
    """Decisions for the sample: accept, an unchanged accept, reject, pending, declarations,
    two resets (back to No action) and an ECO accept."""
    k = sample_ims["doc_key"].to_list()
    return decisions(
        [
            {"doc_key": k[0], "action": "accept"},
            {"doc_key": k[1], "action": "accept"},  # unchanged: not sent
            {"doc_key": k[2], "action": "reject", "remarks": "not received"},
            {"doc_key": k[3], "action": "pending"},
            {"doc_key": k[4], "action": "accept", "itc_reduction": "Y", "declared_igst": "0",
             "declared_cgst": "50", "declared_sgst": "50", "declared_cess": "0"},
            {"doc_key": k[5], "action": "accept", "itc_reduction": "Y"},
            {"doc_key": k[6], "action": "no_action"},
            {"doc_key": k[7], "action": "no_action"},
            {"doc_key": k[8], "action": "accept"},
        ]
    )  # fmt: skip
