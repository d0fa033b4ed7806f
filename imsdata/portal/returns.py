"""GSTR-2B and GSTR-2A JSON -> the canonical document frame, and naming every other JSON.

The portal's GSTR-2B (`data.docdata.b2b[].inv[].items[]`, `cdnr[].nt[]`), the flat list API
providers return (`docdata: [{ctin, inum, invoice_type, txval, igst...}]`), the portal's GSTR-2A
(`b2b[].inv[].itms[].itm_det`, `cdn[].nt[]`) and the providers' 2A `list` all become rows of
`IMS_COLUMNS` plus `source` ("gstr2b" / "gstr2a"), so reconciliation treats them like IMS.
Keys with no canonical column (2B's `itcavl`, `rsn`, `rev`...) are kept in `extra_json`.
ISD and import sections are not supplier documents of the register: they go to rejects with
the reason. `sniff` tells a return (or a GSTR-1, or a register file) from an IMS download by
its first bytes, so `imsdata.portal.read` can dispatch before its IMS parsing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import polars as pl

from imsdata import gstin as gst
from imsdata.errors import InputError
from imsdata.portal.sections import SECTIONS
from imsdata.schemas import IMS_COLUMNS, MONEY, doc_key_expr
from imsdata.schemas.ims import ISSUE_COLUMNS, sort_issues

#: The `source` column: which download a document row came from.
SOURCES = ("ims", "gstr2b", "gstr2a")
RETURN_COLUMNS: dict[str, pl.DataType] = {**IMS_COLUMNS, "source": pl.String()}
TITLES = {"gstr2b": "GSTR-2B", "gstr2a": "GSTR-2A"}

_SNIFF_BYTES = 1 << 18
_HEAD_KEYS = re.compile(rb'"([A-Za-z0-9_]+)"\s*:')
_2B_KEYS = {b"docdata", b"itcsumm", b"cpsumm", b"gendt"}
_2A_KEYS = {b"cfs", b"cfs3b", b"fldtr1", b"flprdr1"}
_GSTR1_KEYS = {b"b2cs", b"b2cl", b"hsn", b"doc_issue", b"nil", b"exp", b"cur_gt", b"b2csa"}

#: Return section -> (IMS section for an invoice / credit note / debit note).
_INVOICES = {"b2b": "b2b", "b2ba": "b2ba", "ecom": "ecom", "ecoma": "ecoma"}
_NOTES = {"cdnr": False, "cdn": False, "cdnra": True, "cdna": True}
#: Sections of a return that hold no supplier invoice or note of the register.
_NOT_DOCUMENTS = {
    "isd": "ISD distributions", "isda": "amended ISD distributions",
    "impg": "imports of goods (bills of entry)", "impga": "amended bills of entry",
    "impgsez": "imports from SEZ (bills of entry)", "impgseza": "amended SEZ bills of entry",
    "tds": "TDS credits", "tcs": "TCS credits",
}  # fmt: skip
_META = {"gstin", "fp", "rtnprd", "version", "gendt", "chksum", "itcsumm", "cpsumm", "status_cd"}


@dataclass(frozen=True)
class ReturnRead:
    """One GSTR-2B/2A file read: documents (RETURN_COLUMNS), rejects, warnings, its header."""

    documents: pl.DataFrame
    rejects: pl.DataFrame
    warnings: pl.DataFrame
    kind: str  # gstr2b / gstr2a
    recipient_gstin: str | None
    period: str | None  # MMYYYY


def sniff(name: str, data: bytes) -> str | None:
    """'gstr2b' / 'gstr2a' for a return; raise a one-line InputError for a file that is not a
    download at all (GSTR-1, an Excel or CSV register); None for anything else (IMS).
    """
    head = data[:_SNIFF_BYTES].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        raise InputError(
            f"{name}: this is an Excel workbook, not a JSON download; a purchase register is "
            "read with `imsdata register FILE` (or `run --register FILE`), the download with "
            "`ingest`"
        )
    if head[:1] not in (b"{", b"["):
        lines = head.split(b"\n", 5)[:5]
        if any(line.count(b",") + line.count(b";") + line.count(b"\t") >= 2 for line in lines):
            raise InputError(
                f"{name}: this is a CSV table (a purchase register?), not a JSON download; a "
                "register is read with `imsdata register FILE` (or `run --register FILE`)"
            )
        return None
    keys = set(_HEAD_KEYS.findall(head))
    if keys & _2B_KEYS:
        return "gstr2b"
    if keys & _2A_KEYS:
        return "gstr2a"
    if keys & _GSTR1_KEYS or (b"ctin" in keys and b"stin" not in keys):
        raise InputError(
            f"{name}: this is a GSTR-1 (a supplier's outward return), not a download of "
            "inward documents; give the IMS download (or a GSTR-2B / GSTR-2A)"
        )
    return None


def combine(
    reads: list[ReturnRead], *, with_ims: bool
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(documents, rejects, warnings, duplicates) of several return files of one kind.

    A GSTR-2B and an IMS download (or a 2A) list the same documents: read together they would
    pair every invoice twice, so mixing them is refused.
    """
    kinds = sorted({r.kind for r in reads})
    if with_ims or len(kinds) > 1:
        names = [TITLES[k] for k in kinds] + (["an IMS download"] if with_ims else [])
        raise InputError(
            f"{' and '.join(names)} given together: read one kind of download at a time "
            "(they list the same documents)"
        )
    documents = pl.concat([r.documents for r in reads])
    copies = documents.filter(pl.col("doc_key").is_duplicated())
    first = copies.group_by("doc_key", maintain_order=True).agg(
        pl.col("source_file").first(), pl.col("source_index").first()
    )
    later = copies.join(first, on=["doc_key", "source_file", "source_index"], how="anti")
    duplicates = later.select(
        file="source_file", section="section", index="source_index",
        key=pl.lit("doc_key"), value="doc_key",
        reason=pl.lit("the same document again: kept its first copy"),
    ).cast(pl.Schema(ISSUE_COLUMNS))  # fmt: skip
    documents = documents.join(later, on=["source_file", "source_index", "section"], how="anti")
    return (
        documents.sort("section", "supplier_gstin", "doc_date", "doc_number", "source_file"),
        sort_issues(pl.concat([r.rejects for r in reads])),
        sort_issues(pl.concat([r.warnings for r in reads])),
        sort_issues(duplicates),
    )


def read_return(name: str, data: bytes, kind: str) -> ReturnRead:
    """Read one GSTR-2B/2A file (any of the shapes above) into a ReturnRead."""
    try:
        obj = json.loads(data.lstrip(b"\xef\xbb\xbf").decode("utf-8"), parse_float=Decimal)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise InputError(f"{name}: not valid JSON ({str(exc).splitlines()[0]})") from None
    node = obj
    while isinstance(node, dict) and isinstance(node.get("data"), dict):
        node = node["data"]  # the portal's and providers' envelopes
    if not isinstance(node, dict):
        raise InputError(f"{name}: a {TITLES[kind]} must be a JSON object")
    recipient = _text(node.get("gstin"))
    period = _text(node.get("rtnprd") or node.get("fp"))
    rows: list[dict[str, Any]] = []
    issues: list[dict[str, Any]] = []
    sections = node.get("docdata", node) if kind == "gstr2b" else node
    if isinstance(sections, list):  # a provider's flat list: one object per document
        sections = {"docdata": sections}
    if kind == "gstr2a" and isinstance(node.get("list"), list):
        sections = {"list": node["list"]}
    for key, value in sections.items():
        low = key.lower()
        if low in _META or not isinstance(value, list):
            continue
        for i, doc in _documents(low, value):
            where = {"file": name, "section": low, "index": i}
            section = _section(low, doc)
            if section is None:
                what = _NOT_DOCUMENTS.get(low, f"section '{low}'")
                issues.append({**where, "key": low, "value": None,
                               "reason": f"{what}: not a supplier document of the purchase "
                               "register, not reconciled"})  # fmt: skip
                continue
            row, problem = _row(doc, section, kind)
            if problem:
                issues.append({**where, **problem})
                continue
            row["supplier_period"] = row["supplier_period"] or period  # the return's, else
            rows.append({**row, "source_file": name, "source_index": i,
                         "recipient_gstin": recipient})  # fmt: skip
    documents = _frame(rows, kind)
    rejects = sort_issues(pl.DataFrame(issues, schema=ISSUE_COLUMNS))
    warnings = pl.DataFrame(schema=ISSUE_COLUMNS)
    untaxed = documents.filter(pl.col("taxable_value").is_null())
    if untaxed.height:
        warnings = pl.DataFrame(
            {"file": [name], "section": [None], "index": [None], "key": ["txval"],
             "value": [f"{untaxed.height} documents"],
             "reason": [f"this {TITLES[kind]} lists invoice headers only (no taxable value or "
                        "tax): amounts are not compared, only numbers, dates and values"]},
            schema=ISSUE_COLUMNS,
        )  # fmt: skip
    return ReturnRead(documents, rejects, warnings, kind, recipient, period)


def _documents(section: str, value: list[Any]) -> list[tuple[int, dict[str, Any]]]:
    """(index, document with its supplier's keys) for a section: nested or already flat."""
    out: list[tuple[int, dict[str, Any]]] = []
    for supplier in value:
        if not isinstance(supplier, dict):
            out.append((len(out), {"__bad__": supplier}))
            continue
        inner = next((k for k in _NESTED if _holds_documents(supplier.get(k))), None)
        if inner is None:
            out.append((len(out), supplier))
            continue
        outer = {k: v for k, v in supplier.items() if k != inner}
        out.extend((len(out) + j, {**outer, **doc}) for j, doc in enumerate(supplier[inner]))
    return out


_NESTED = ("inv", "nt", "items", "doclist", "boe")  # a supplier's documents, by section


def _holds_documents(value: Any) -> bool:
    """A list of documents (not of a document's item lines, which carry `num`)."""
    return (
        bool(value)
        and isinstance(value, list)
        and isinstance(value[0], dict)
        and ("num" not in value[0])
    )


def _section(section: str, doc: dict[str, Any]) -> str | None:
    """The IMS section of a return document (notes by their C/D type), None if not one."""
    if "__bad__" in doc:
        return "b2b"
    kind = str(doc.get("invoice_type") or section).lower()
    if kind in ("docdata", "list"):
        kind = "b2b"
    if kind in _INVOICES:
        return _INVOICES[kind]
    if kind in _NOTES:
        note = str(doc.get("typ") or doc.get("ntty") or "C").upper()[:1]
        base = "b2bdn" if note == "D" else "b2bcn"
        return base + ("a" if _NOTES[kind] else "")
    return None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _money(doc: dict[str, Any], *keys: str) -> tuple[Decimal | None, str | None]:
    """Sum of the first present key over the document or its items; (value, bad text)."""
    items = [doc]
    for k in ("items", "itms"):
        if isinstance(doc.get(k), list) and doc[k]:
            items = [i.get("itm_det", i) if isinstance(i, dict) else {} for i in doc[k]]
    total: Decimal | None = None
    for item in items:
        raw = next((item[k] for k in keys if k in item and item[k] is not None), None)
        if raw is None:
            continue
        try:
            value = Decimal(str(raw))
        except InvalidOperation:
            return None, str(raw)
        if not value.is_finite() or value != value.quantize(Decimal("0.01")):
            return None, str(raw)
        total = value if total is None else total + value
    return total, None


def _date(value: Any) -> dt.date | None:
    text = _text(value)
    for fmt in ("%d-%m-%Y", "%d/%m/%Y", "%Y-%m-%d", "%d-%b-%y"):
        try:
            return dt.datetime.strptime(text or "", fmt).date()
        except ValueError:
            continue
    return None


_NUMBER_KEYS = ("inum", "ntnum", "nt_num", "docnum")
_DATE_KEYS = ("dt", "idt", "nt_dt", "docdt")
_USED = {
    *_NUMBER_KEYS, *_DATE_KEYS, "ctin", "trdnm", "oinum", "oidt", "ontnum", "ont_num", "ontdt",
    "ont_dt", "typ", "inv_typ", "suptyp", "supprd", "val", "pos", "items", "itms", "txval",
    "igst", "iamt", "cgst", "camt", "sgst", "samt", "cess", "csamt", "invoice_type",
}  # fmt: skip


def _row(
    doc: dict[str, Any], section: str, kind: str
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The canonical row of one document, or the problem that keeps it out."""
    if "__bad__" in doc:
        return {}, {"key": None, "value": str(doc["__bad__"])[:200],
                    "reason": "record is not an object"}  # fmt: skip
    supplier = (_text(doc.get("ctin")) or "").upper()
    note = section not in _INVOICES.values()  # a note's own number, not the invoice it cites
    number_keys = _NUMBER_KEYS[1:] + _NUMBER_KEYS[:1] if note else _NUMBER_KEYS
    date_keys = ("nt_dt", "dt", "docdt", "idt") if note else _DATE_KEYS
    number = next((_text(doc[k]) for k in number_keys if _text(doc.get(k))), None)
    raw_date = next((doc[k] for k in date_keys if doc.get(k) is not None), None)
    date = _date(raw_date)
    if not gst.is_valid_format(supplier):
        return {}, {"key": "ctin", "value": supplier or None, "reason": "supplier GSTIN missing "
                    "or malformed"}  # fmt: skip
    if number is None:
        return {}, {"key": "inum", "value": None, "reason": "document number missing"}
    if date is None:
        return {}, {"key": "dt", "value": _text(raw_date), "reason": "not a real date (dd-mm-yyyy)"}
    amounts: dict[str, Decimal | None] = {}
    for column, keys in (
        ("doc_value", ("val",)), ("taxable_value", ("txval",)), ("igst", ("igst", "iamt")),
        ("cgst", ("cgst", "camt")), ("sgst", ("sgst", "samt")), ("cess", ("cess", "csamt")),
    ):  # fmt: skip
        value, bad = _money(doc if column != "doc_value" else {k: doc.get(k) for k in keys}, *keys)
        if bad is not None:
            return {}, {"key": keys[0], "value": bad, "reason": "bad amount (at most 2 decimals)"}
        amounts[column] = value
    if amounts["taxable_value"] is not None:  # a head the return leaves out is zero
        amounts = {k: (Decimal(0) if v is None else v) for k, v in amounts.items()}
    sec = SECTIONS[section]
    used = _USED - {"inum", "idt"} if note else _USED  # a note keeps the invoice it cites
    extra = {k: v for k, v in doc.items() if k not in used}
    orig_number = _text(doc.get("oinum") or doc.get("ontnum") or doc.get("ont_num"))
    orig_date = _date(doc.get("oidt") or doc.get("ontdt") or doc.get("ont_dt"))
    filed = str(doc.get("cfs") or "Y").upper() == "Y"
    return {
        "section": section,
        "doc_type": sec.doc_type,
        "is_amendment": sec.is_amendment,
        "supplier_gstin": supplier,
        "supplier_name": _text(doc.get("trdnm")),
        "doc_number": number,
        "doc_date": date,
        "orig_doc_number": orig_number if sec.is_amendment else None,
        "orig_doc_date": orig_date if sec.is_amendment else None,
        "supply_type": _text(doc.get("suptyp") or doc.get("inv_typ") or doc.get("typ")),
        "source_form": TITLES[kind],
        "supplier_period": _text(doc.get("supprd")),
        "supplier_filing_status": "Filed" if filed else "Not Filed",
        "supplier_filed": filed,
        **amounts,
        "pos": _text(doc.get("pos")),
        "extra_json": json.dumps(extra, sort_keys=True, default=str) if extra else None,
    }, None


def _frame(rows: list[dict[str, Any]], kind: str) -> pl.DataFrame:
    """RETURN_COLUMNS from the rows, with doc_key, PAN, a content hash and `source`."""
    schema = RETURN_COLUMNS
    if not rows:
        return pl.DataFrame(schema=schema)
    frame = pl.DataFrame(
        [{**r, **{m: None if r.get(m) is None else str(r[m]) for m in _MONEY}} for r in rows],
        infer_schema_length=None,
    )
    hashes = [
        hashlib.sha256(json.dumps(r, sort_keys=True, default=str).encode()).hexdigest()
        for r in rows
    ]
    frame = frame.with_columns(
        *(pl.col(m).cast(MONEY) for m in _MONEY),
        supplier_pan=gst.pan_expr(pl.col("supplier_gstin")),
        record_hash=pl.Series(hashes),
        source=pl.lit(kind),
    )
    frame = frame.select(
        (pl.col(c) if c in frame.columns else pl.lit(None)).cast(t).alias(c)
        for c, t in schema.items()
    ).with_columns(doc_key=doc_key_expr())
    return frame.sort("section", "supplier_gstin", "doc_date", "doc_number", "source_index")


_MONEY = ("doc_value", "taxable_value", "igst", "cgst", "sgst", "cess")
