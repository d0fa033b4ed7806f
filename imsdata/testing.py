"""Tiny canonical frames for tests and notebooks: give the fields you care about, get the rest.

`ims_frame([{"doc_number": "INV-1", "taxable_value": "100"}])` returns a frame with every IMS
column, sensible defaults filled in and dtypes cast, so a test reads as the case it checks.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl

from imsdata import gstin as gst
from imsdata.portal.sections import SECTIONS
from imsdata.schemas import (
    AMOUNT_HEADS,
    DECLARED_COLUMNS,
    IMS_COLUMNS,
    MATCH_COLUMNS,
    REGISTER_COLUMNS,
    MatchStatus,
    conform,
    doc_key_expr,
    empty,
)

SUPPLIER = "27AAPFU0939F1ZV"  # valid check character
RECIPIENT = "24AAQCA8719H1ZC"


def make_gstin(state: str, pan: str, entity: str = "1") -> str:
    """A GSTIN with a correct check character from state code, PAN and entity number."""
    first14 = f"{state}{pan}{entity}Z"
    return first14 + gst.check_char(first14)


def _money(v: Any) -> Any:
    return None if v is None else Decimal(str(v))


_AMOUNTS = AMOUNT_HEADS


def _with_money(r: dict[str, Any]) -> dict[str, Any]:
    """Amounts as Decimal; doc_value defaults to taxable value plus taxes."""
    for k in _AMOUNTS:
        r[k] = _money(r[k])
    r["doc_value"] = _money(r["doc_value"] if "doc_value" in r else sum(r[k] for k in _AMOUNTS))
    return r


IMS_DEFAULTS: dict[str, Any] = {
    "section": "b2b",
    "supplier_gstin": SUPPLIER,
    "doc_date": dt.date(2025, 11, 5),
    "supply_type": "R",
    "source_form": "R1",
    "supplier_period": "112025",
    "supplier_filing_status": "Filed",
    "supplier_filed": True,
    "taxable_value": "10000.00",
    "igst": "0",
    "cgst": "900.00",
    "sgst": "900.00",
    "cess": "0",
    "pos": "27",
    "portal_action": "N",
    "pending_blocked": False,
    "itc_reduction_blocked": False,
    "remarks_blocked": False,
    "recipient_gstin": RECIPIENT,
    "source_file": "test.json",
}


def ims_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """Canonical IMS frame from partial rows (defaults above; doc_value = taxable + taxes)."""
    full = []
    for i, row in enumerate(rows):
        r = {**IMS_DEFAULTS, "doc_number": f"INV-{i + 1}", "source_index": i, **row}
        sec = SECTIONS[r["section"]]
        r.setdefault("doc_type", sec.doc_type)
        r.setdefault("is_amendment", sec.is_amendment)
        _with_money(r)
        for k in DECLARED_COLUMNS:
            r[k] = _money(r.get(k))
        r.setdefault("supplier_pan", gst.pan(r["supplier_gstin"]))
        r.setdefault("hash", f"h{i}")
        r.setdefault("record_hash", r["hash"])
        full.append(r)
    if not full:
        return empty(IMS_COLUMNS)
    # a test row gives only the fields it is about: the rest are null on purpose
    frame = conform(
        pl.DataFrame(full, infer_schema_length=None),
        IMS_COLUMNS,
        defaults=dict.fromkeys(IMS_COLUMNS),
    )
    return frame.with_columns(doc_key=pl.coalesce(pl.col("doc_key"), doc_key_expr()))


REGISTER_DEFAULTS: dict[str, Any] = {
    "supplier_gstin": SUPPLIER,
    "doc_type": "INV",
    "doc_date": dt.date(2025, 11, 5),
    "taxable_value": "10000.00",
    "igst": "0",
    "cgst": "900.00",
    "sgst": "900.00",
    "cess": "0",
    "pos": "27",
    "reverse_charge": False,
    "in_scope": True,
    "recipient_gstin": None,
    "source_file": "register.csv",
}


def register_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """Canonical register frame from partial rows (defaults above)."""
    full = []
    for i, row in enumerate(rows):
        r = {**REGISTER_DEFAULTS, "doc_number": f"INV-{i + 1}", "source_row": i + 1, **row}
        r.setdefault("register_id", str(r["source_row"]))
        _with_money(r)
        if r["supplier_gstin"]:
            r.setdefault("supplier_pan", gst.pan(r["supplier_gstin"]))
        full.append(r)
    if not full:
        return empty(REGISTER_COLUMNS)
    return conform(
        pl.DataFrame(full, infer_schema_length=None),
        REGISTER_COLUMNS,
        defaults=dict.fromkeys(REGISTER_COLUMNS),
    )


def complete(frame: pl.DataFrame, columns: dict[str, pl.DataType]) -> pl.DataFrame:
    """A frame a test builds by hand, completed to a contract: the columns it leaves out are
    null (on purpose: `schemas.conform` itself refuses a missing column)."""
    return conform(frame, columns, defaults=dict.fromkeys(columns))


def ims_with_matches(
    docs: list[dict[str, Any]], *, numbered: str | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """IMS frame and its matches from rows: a row's `match` (status, default
    missing_in_register) and `match_*` keys (reasons, diff_*, superseded_by...) make its match
    row; `numbered`: a prefix giving each document a number of its own (prefix1, prefix2...)."""
    ims_rows, match_rows = [], []
    for i, doc in enumerate(docs):
        doc = dict(doc)
        status = doc.pop("match", MatchStatus.MISSING_IN_REGISTER)
        extra = {k[6:]: doc.pop(k) for k in list(doc) if k.startswith("match_")}
        ims_rows.append({"doc_number": f"{numbered}{i + 1}", **doc} if numbered else doc)
        booked = status != "missing_in_register"
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


def rule_file(folder: Path, when: str, name: str = "rules.toml") -> Path:
    """A rule file of one suggest rule (id 'peek', accept) whose `when` is the given SQL."""
    path = folder / name
    escaped = when.replace("\\", "\\\\").replace('"', '\\"')
    path.write_text(
        f'[[suggest]]\nid = "peek"\nwhen = "{escaped}"\naction = "accept"\nreason = "r"\n',
        encoding="utf-8",
    )
    return path


def decided_workspace(path: Path) -> Path:
    """A workspace of one download of three documents with manual decisions: A1 reject, A2
    pending (a save file), A3 back to no action from the portal's accept (a reset file)."""
    from imsdata.workspace import Workspace  # here: `imsdata.synth` imports this module

    ims = ims_frame(
        [{"doc_number": "A1"}, {"doc_number": "A2"}, {"doc_number": "A3", "portal_action": "A"}]
    )
    with Workspace(path) as ws:
        ws.import_ims(ims)
        ws.append_decisions(
            pl.DataFrame(
                {
                    "doc_key": ims["doc_key"],
                    "action": ["reject", "pending", "no_action"],
                    "reason": ["checked"] * 3,
                }
            ),
            source="manual",
        )
    return path
