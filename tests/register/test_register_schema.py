"""`imsdata.schemas.register`: the canonical register contract other modules can validate with."""

from __future__ import annotations

import polars as pl
import pytest
from register_helpers import make_rows

from imsdata.register import read_register
from imsdata.schemas.register import REJECT_COLUMNS, WARNING_COLUMNS, validate_register
from imsdata.testing import register_frame


def test_a_clean_canonical_frame_passes_whole():
    frame = register_frame([{}, {"doc_type": "CN"}, {"doc_type": "DN"}])
    good, rejects, warnings = validate_register(frame)
    assert good.equals(frame)
    assert (rejects.height, warnings.height) == (0, 0)
    assert rejects.columns == list(REJECT_COLUMNS)
    assert warnings.columns == list(WARNING_COLUMNS)


@pytest.mark.parametrize(
    ("row", "field", "reason"),
    [
        ({"doc_type": "BILL"}, "doc_type", "not an allowed value"),
        ({"taxable_value": "-1"}, "taxable_value", "negative amount"),
        ({"pos": "99"}, "pos", "not an allowed value"),
        ({"supplier_gstin": "NOT-A-GSTIN"}, "supplier_gstin", "bad GSTIN format"),
        ({"doc_number": ""}, "doc_number", "blank value"),
        ({"supplier_gstin": None, "in_scope": True}, "supplier_gstin",
         "no supplier GSTIN but in IMS scope"),
        ({"in_scope": False}, "scope_reason", "out of scope without a reason"),
    ],
)  # fmt: skip
def test_contract_violations_reject_the_row(row, field, reason):
    frame = register_frame([{}, row])
    good, rejects, _ = validate_register(frame)
    assert good["source_row"].to_list() == [1]
    assert rejects.select("source_row", "field", "reason").rows() == [(2, field, reason)]


def test_reader_output_always_meets_the_contract(write_csv):
    rows = make_rows({}, {"Taxable Value": "(5)", "IGST": "-0.90", "Invoice Value": "-5.90"},
                     {"Supplier GSTIN": "URP"}, {"Reverse Charge": "Yes"})  # fmt: skip
    documents = read_register(write_csv(rows)).documents
    good, rejects, _ = validate_register(documents)
    assert rejects.height == 0
    assert good.equals(documents)
    assert documents.filter(pl.col("doc_type") == "CN")["taxable_value"].to_list()[0] > 0
