"""Wire records and envelopes for the reader tests, built from the section registry."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from imsdata.portal.sections import SECTIONS
from imsdata.testing import RECIPIENT, SUPPLIER

DATA = Path(__file__).parent / "data"
SAMPLE = DATA / "india-compliance-test_ims.json"


def wire(section: str = "b2b", number: str = "INV-1", **keys: Any) -> dict[str, Any]:
    """A valid download record of `section` (intra-state, 18%); `keys` override or add keys."""
    sec = SECTIONS[section]
    rec: dict[str, Any] = {"stin": SUPPLIER, sec.number_key: number, sec.date_key: "05-11-2025"}
    if sec.orig_number_key and sec.orig_date_key:
        rec[sec.orig_number_key] = f"{number}-OLD"
        rec[sec.orig_date_key] = "01-11-2025"
    rec.update(
        inv_typ="R", srcform="R1", rtnprd="112025", srcfilstatus="Filed", val=11800.0, pos="27",
        txval=10000.0, iamt=0, camt=900.0, samt=900.0, cess=0, action="N", ispendactblocked="N",
        hash=f"hash-{section}-{number}",
    )  # fmt: skip
    rec.update(keys)
    return {k: v for k, v in rec.items() if v is not None}


def without(rec: dict[str, Any], *keys: str) -> dict[str, Any]:
    """The record with some keys removed."""
    return {k: v for k, v in rec.items() if k not in keys}


#: Every envelope of ims-spec.md §2 and §6.1 around a section map; the recipient it carries.
ENVELOPES = {
    "bare": (lambda m: m, None),
    "data": (lambda m: {"data": m}, None),
    "imsDetails": (lambda m: {"imsDetails": m}, None),
    "invdata": (lambda m: {"invdata": m}, None),
    "save_api": (
        lambda m: {"action": "SAVE", "data": {"rtin": RECIPIENT, "reqtyp": "SAVE", "invdata": m}},
        RECIPIENT,
    ),
    "save_offline": (lambda m: {"rtin": RECIPIENT, "reqtyp": "SAVE", "invdata": m}, RECIPIENT),
    "bundle": (lambda m: {"gstin": RECIPIENT, "rtnprd": "112025", **m}, RECIPIENT),
    "uppercase_sections": (lambda m: {k.upper(): v for k, v in m.items()}, None),
}


def write_json(path: Path, obj: Any, *, compact: bool = True) -> Path:
    """Write a payload as JSON text (compact like the portal, or indented)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if compact:
        path.write_text(json.dumps(obj, separators=(",", ":")), encoding="utf-8")
    else:
        path.write_text(json.dumps(obj, indent=2), encoding="utf-8")
    return path
