"""Register-reader test helpers: ERP-style rows (header -> cell) and their CSV bytes."""

from __future__ import annotations

import csv
import io
from typing import Any

from imsdata.testing import RECIPIENT, SUPPLIER

#: An ERP-style purchase register row (the synthetic register's headers), inter-state, clean.
BASE_ROW: dict[str, str] = {
    "Voucher No": "PV-1",
    "Voucher Date": "06-11-2025",
    "Supplier Name": "Acme Traders",
    "Supplier GSTIN": SUPPLIER,
    "Recipient GSTIN": RECIPIENT,
    "Voucher Type": "Purchase",
    "Bill No": "INV-1",
    "Bill Date": "05-11-2025",
    "Taxable Value": "10000.00",
    "IGST": "1800.00",
    "CGST": "0",
    "SGST": "0",
    "Cess": "0",
    "Invoice Value": "11800.00",
    "Place of Supply": "24-Gujarat",
    "Reverse Charge": "N",
}


def make_rows(*overrides: dict[str, Any]) -> list[dict[str, str]]:
    """One row per override, each BASE_ROW with distinct ids and the override applied."""
    rows = []
    for i, change in enumerate(overrides, start=1):
        row = {**BASE_ROW, "Voucher No": f"PV-{i}", "Bill No": f"INV-{i}"}
        row.update(change)
        rows.append({k: v for k, v in row.items() if v is not ...})  # ... drops a column
    return rows


def csv_bytes(
    rows: list[dict[str, str]],
    *,
    delimiter: str = ",",
    encoding: str = "utf-8",
    bom: bool = False,
    title: list[str] = (),
) -> bytes:
    """The rows as delimited text, with optional title lines above the header."""
    buf = io.StringIO()
    for line in title:
        buf.write(line + "\r\n")
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]), delimiter=delimiter)
    writer.writeheader()
    writer.writerows(rows)
    data = buf.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data
