"""The canonical frames' column contracts (DESIGN.md): names, dtypes and order.

Every module builds and consumes frames with exactly these columns; the Pandera models in
`imsdata.schemas.ims` and `imsdata.schemas.register` validate values on top of these contracts.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from imsdata.schemas.vocab import (
    ACTION,
    AMOUNT_HEADS,
    DECISION_SOURCE,
    DECLARED_COLUMNS,
    DOC_TYPE,
    HUMAN_SOURCES,
    ITC_TAKEN,
    MATCH_STATUS,
    MATCHED,
    REGISTER_DOC_TYPES,
    RISKY,
    SPLIT_HEADS,
    TAX_HEADS,
    Action,
    DecisionSource,
    DecisionStatus,
    DocType,
    MatchStatus,
    itc_sign,
    sql_in,
    total_tax,
    total_tax_sql,
)

#: Every money amount: Decimal, 18 digits, 2 decimals (paise). The one place this dtype is written.
MONEY = pl.Decimal(18, 2)
#: The same type in SQL (DuckDB; Spark reads it as written), for casts in the SQL builders.
MONEY_SQL = f"DECIMAL({MONEY.precision}, {MONEY.scale})"

#: One row per IMS document (DESIGN.md, "Canonical IMS document frame").
IMS_COLUMNS: dict[str, pl.DataType] = {
    "doc_key": pl.String(),  # section|supplier_gstin|doc_number|doc_date ISO: stable identity
    "section": pl.String(),  # registry key: b2b, b2ba, ...
    "doc_type": pl.String(),  # DocType: INV / DN / CN
    "is_amendment": pl.Boolean(),
    "supplier_gstin": pl.String(),
    "supplier_pan": pl.String(),
    "supplier_name": pl.String(),  # tradenm when present
    "doc_number": pl.String(),
    "doc_date": pl.Date(),
    "orig_doc_number": pl.String(),
    "orig_doc_date": pl.Date(),
    "supply_type": pl.String(),  # inv_typ, verbatim
    "source_form": pl.String(),  # srcform, verbatim
    "supplier_period": pl.String(),  # rtnprd, verbatim (MMYYYY)
    "supplier_filing_status": pl.String(),  # srcfilstatus, verbatim
    "supplier_filed": pl.Boolean(),
    "doc_value": MONEY,
    "taxable_value": MONEY,
    **dict.fromkeys(TAX_HEADS, MONEY),  # igst, cgst, sgst, cess
    "pos": pl.String(),
    "portal_action": pl.String(),  # N / A / R / P as downloaded
    "pending_blocked": pl.Boolean(),
    "itc_reduction_blocked": pl.Boolean(),
    "remarks_blocked": pl.Boolean(),
    "itc_reduction": pl.String(),  # Y / N / null
    **dict.fromkeys(DECLARED_COLUMNS, MONEY),
    "remarks": pl.String(),
    "hash": pl.String(),  # the portal's hash; never sent back
    "record_hash": pl.String(),  # hash if present, else sha256 of the record's canonical JSON
    "recipient_gstin": pl.String(),  # from the envelope (rtin / gstin) when present
    "extra_json": pl.String(),  # unknown keys of the record, as a JSON object, for round trip
    "source_file": pl.String(),
    "source_index": pl.Int64(),  # 0-based index of the record within its section in that file
}

#: One row per purchase-register document (issue 3).
REGISTER_COLUMNS: dict[str, pl.DataType] = {
    "register_id": pl.String(),  # the user's id column (voucher no), else the 1-based data row
    "recipient_gstin": pl.String(),
    "supplier_gstin": pl.String(),
    "supplier_pan": pl.String(),
    "supplier_name": pl.String(),
    "doc_type": pl.String(),  # INV / DN / CN
    "doc_number": pl.String(),
    "doc_date": pl.Date(),
    "taxable_value": MONEY,  # positive; a negative booking becomes a CN with positive amounts
    "igst": MONEY,
    "cgst": MONEY,
    "sgst": MONEY,
    "cess": MONEY,
    "doc_value": MONEY,
    "pos": pl.String(),
    "reverse_charge": pl.Boolean(),
    "in_scope": pl.Boolean(),  # False: not an IMS document (blank GSTIN, reverse charge)
    "scope_reason": pl.String(),
    "source_file": pl.String(),
    "source_row": pl.Int64(),  # 1-based data row in the file (header excluded)
    "source_rows": pl.String(),  # every data row of a document booked as line items: "4,5,6"
    # null (or "split"): IGST/CGST/SGST as booked; "total": the register gave only a total GST,
    # held in `igst` (CGST, SGST 0) and reconciled on total tax, heads not compared
    "tax_heads": pl.String(),
}

#: Reconciliation output: one row per IMS document and one per register row left unmatched.
MATCH_STATUSES: tuple[str, ...] = tuple(m.value for m in MatchStatus)
MATCH_COLUMNS: dict[str, pl.DataType] = {
    "doc_key": pl.String(),  # null for missing_in_ims
    "register_id": pl.String(),  # null for missing_in_register
    "match_status": pl.String(),
    "match_score": pl.Int32(),  # 0 to 100
    "match_pass": pl.String(),  # the named step that paired them (null when unpaired)
    "reasons": pl.String(),  # plain words, "; "-separated, each naming a field and by how much
    "diff_taxable_value": MONEY,  # IMS minus register
    "diff_igst": MONEY,
    "diff_cgst": MONEY,
    "diff_sgst": MONEY,
    "diff_cess": MONEY,
    "diff_doc_value": MONEY,
    "diff_days": pl.Int32(),  # IMS date minus register date
    "duplicate_of": pl.String(),  # register row: register_id of the booking that was paired
    "superseded_by": pl.String(),  # IMS original: doc_key of the amendment replacing it
    "booked_period": pl.String(),  # MMYYYY of the register the paired row was imported with
    "already_claimed": pl.Boolean(),  # the booking was paired and accepted in an earlier period
}

#: Actions in words (the wire codes live in imsdata.portal.sections.ACTION_CODES).
ACTIONS: tuple[str, ...] = tuple(m.value for m in Action)
DECISION_SOURCES: tuple[str, ...] = tuple(m.value for m in DecisionSource)

#: One row per decision in the append-only log; the current decision is the latest per doc_key.
DECISION_COLUMNS: dict[str, pl.DataType] = {
    "doc_key": pl.String(),
    "action": pl.String(),  # one of ACTIONS
    "source": pl.String(),  # one of DECISION_SOURCES
    "rule_id": pl.String(),
    "reason": pl.String(),
    "remarks": pl.String(),
    "itc_reduction": pl.String(),  # Y / N / null (only with accept, specified sections)
    **dict.fromkeys(DECLARED_COLUMNS, MONEY),
    "user": pl.String(),
    "decided_at": pl.Datetime("us"),
}


def empty(columns: dict[str, pl.DataType]) -> pl.DataFrame:
    """An empty frame with the given contract."""
    return pl.DataFrame(schema=columns)


class ContractError(ValueError):
    """A frame lacks a column its contract requires: a bug in the code that built it."""


#: A decision names its document and action; its other fields may be left out (null).
DECISION_DEFAULTS: dict[str, None] = dict.fromkeys(
    c for c in DECISION_COLUMNS if c not in ("doc_key", "action")
)
#: A match row names both sides, its status and score; the rest (diffs, pass, reasons) may be
#: left out (null) by frames built by hand (notebooks, tests).
MATCH_DEFAULTS: dict[str, None] = dict.fromkeys(
    c for c in MATCH_COLUMNS if c not in ("doc_key", "register_id", "match_status", "match_score")
)
#: Where an IMS document came from (file, record, the portal's hash, unknown keys): not needed
#: to judge it, absent from documents a notebook or test builds.
IMS_PROVENANCE_DEFAULTS: dict[str, None] = dict.fromkeys(
    ("hash", "extra_json", "source_file", "source_index")
)


def conform(
    frame: pl.DataFrame,
    columns: dict[str, pl.DataType],
    *,
    defaults: Mapping[str, object] | None = None,
) -> pl.DataFrame:
    """Select the contract's columns in order, casting dtypes.

    A missing column is a `ContractError` naming it, never a silent null column; `defaults`
    gives the value (None: null) of each column a frame may legitimately lack, where it is built.
    """
    given = defaults or {}
    missing = [c for c in columns if c not in frame.columns and c not in given]
    if missing:
        raise ContractError(f"frame lacks column(s) {missing} (has {frame.columns})")
    return frame.select(
        (pl.col(name) if name in frame.columns else pl.lit(given[name])).cast(dtype).alias(name)
        for name, dtype in columns.items()
    )


def doc_key_expr() -> pl.Expr:
    """The IMS document identity: section|supplier GSTIN|document number|ISO document date."""
    return pl.concat_str(
        pl.col("section"),
        pl.col("supplier_gstin").fill_null(""),  # none on a bill of entry of one's own imports
        pl.col("doc_number"),
        pl.col("doc_date").dt.strftime("%Y-%m-%d"),
        separator="|",
    )


__all__ = [
    "ACTION",
    "ACTIONS",
    "AMOUNT_HEADS",
    "DECISION_COLUMNS",
    "DECISION_DEFAULTS",
    "DECISION_SOURCE",
    "DECISION_SOURCES",
    "DECLARED_COLUMNS",
    "DOC_TYPE",
    "HUMAN_SOURCES",
    "IMS_COLUMNS",
    "IMS_PROVENANCE_DEFAULTS",
    "ITC_TAKEN",
    "MATCHED",
    "MATCH_COLUMNS",
    "MATCH_DEFAULTS",
    "MATCH_STATUS",
    "MATCH_STATUSES",
    "MONEY",
    "MONEY_SQL",
    "REGISTER_COLUMNS",
    "REGISTER_DOC_TYPES",
    "RISKY",
    "SPLIT_HEADS",
    "TAX_HEADS",
    "Action",
    "ContractError",
    "DecisionSource",
    "DecisionStatus",
    "DocType",
    "MatchStatus",
    "conform",
    "doc_key_expr",
    "empty",
    "itc_sign",
    "sql_in",
    "total_tax",
    "total_tax_sql",
]
