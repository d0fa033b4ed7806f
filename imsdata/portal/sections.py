"""The section registry: the single source of truth for IMS sections (ims-spec.md §1.1).

Reader, writer, reconciliation, rules and reports all ask this module; no other list of sections
exists in the code base.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from imsdata.schemas.vocab import Action, DocType

INV, DN, CN = DocType.INV, DocType.DN, DocType.CN


@dataclass(frozen=True)
class Section:
    """One IMS section: its JSON key, document type and the keys that identify a record."""

    key: str  # lowercase JSON key, e.g. "b2bcn"
    api_param: str  # GET section= parameter, e.g. "CN"
    title: str
    doc_type: DocType
    is_amendment: bool
    number_key: str  # inum / nt_num
    date_key: str  # idt / nt_dt
    orig_number_key: str | None  # oinum / ont_num for amended sections
    orig_date_key: str | None
    itc_reduction: bool  # may carry the ITC-reduction declaration (ims-spec.md R5)
    reject_allowed: bool = True  # False for import bills of entry (R9)
    #: Canonical columns every record of the section must carry; None: all of the common ones
    #: (`imsdata.schemas.ims.REQUIRED_COLUMNS`). Bills of entry carry no supplier return data.
    required: tuple[str, ...] | None = None
    #: Further (column, wire key) spellings the reader accepts for this section.
    aliases: tuple[tuple[str, str], ...] = ()
    #: False when the upload keys of the section are not documented: its decisions are kept
    #: and reported but held back from the upload file (act on them on the portal).
    uploadable: bool = True

    @property
    def identity_keys(self) -> tuple[str, ...]:
        """Keys that identify a record on the wire: supplier, number, date, original document."""
        keys: tuple[str, ...] = ("stin", self.number_key, self.date_key)
        if self.orig_number_key and self.orig_date_key:
            keys += (self.orig_number_key, self.orig_date_key)
        return keys


#: Value keys every section carries besides the identity keys (ims-spec.md §1.2, §2.2).
VALUE_KEYS: tuple[str, ...] = (
    "inv_typ", "srcform", "rtnprd", "val", "pos", "txval", "iamt", "camt", "samt", "cess",
)  # fmt: skip
MONEY_KEYS: tuple[str, ...] = ("val", "txval", "iamt", "camt", "samt", "cess")
DECLARED_KEYS: tuple[str, ...] = ("declIgst", "declCgst", "declSgst", "declCess")

#: Import bills of entry (ims-spec.md §1.1, R9; ADV-BoE: in IMS from the October 2025 period).
#: Their IMS keys are not published: we read the GSTR-2B/2A spelling of the same records
#: (boenum, boedt, portcode, refdt, txval, igst/iamt, cess/csamt; ctin for an SEZ supplier).
#: Keys we do not know stay in extra_json. Amendments are read as documents of their own (the
#: original's keys are unknown). Accept or Pending only; never uploaded until the keys are
#: confirmed.
BOE = DocType.BOE
_BOE_REQUIRED = ("doc_number", "doc_date", "taxable_value", "igst")
_BOE_ALIASES = (("igst", "igst"), ("cess", "csamt"), ("supplier_gstin", "ctin"))

SECTIONS: dict[str, Section] = {
    s.key: s
    for s in (
        Section("b2b", "B2B", "Invoices", INV, False, "inum", "idt", None, None, False),
        Section("b2ba", "B2BA", "Amended invoices", INV, True, "inum", "idt", "oinum", "oidt",
                True),
        Section("b2bdn", "DN", "Debit notes", DN, False, "nt_num", "nt_dt", None, None, False),
        Section("b2bdna", "DNA", "Amended debit notes", DN, True, "nt_num", "nt_dt", "ont_num",
                "ont_dt", True),
        Section("b2bcn", "CN", "Credit notes", CN, False, "nt_num", "nt_dt", None, None, True),
        Section("b2bcna", "CNA", "Amended credit notes", CN, True, "nt_num", "nt_dt", "ont_num",
                "ont_dt", True),
        Section("ecom", "ECOM", "E-commerce operator documents", INV, False, "inum", "idt", None,
                None, False),
        Section("ecoma", "ECOMA", "Amended e-commerce operator documents", INV, True, "inum",
                "idt", "oinum", "oidt", True),
        *(
            Section(key, key.upper(), title, BOE, False, "boenum", "boedt", None, None, False,
                    reject_allowed=False, required=_BOE_REQUIRED, aliases=_BOE_ALIASES,
                    uploadable=False)
            for key, title in (
                ("impg", "Import of goods (bills of entry)"),
                ("impga", "Amended bills of entry"),
                ("impgsez", "Import of goods from SEZ (bills of entry)"),
                ("impgseza", "Amended bills of entry from SEZ"),
            )
        ),
    )
}  # fmt: skip

#: Action codes on the wire and their words (ims-spec.md §4).
ACTION_CODES: dict[str, str] = {
    "N": Action.NO_ACTION.value,
    "A": Action.ACCEPT.value,
    "R": Action.REJECT.value,
    "P": Action.PENDING.value,
}
ACTION_WORDS: dict[str, str] = {v: k for k, v in ACTION_CODES.items()}


def section(key: str) -> Section:
    """The registry entry for a section key (case-insensitive); KeyError if unknown."""
    return SECTIONS[key.lower()]


# Wire keys <-> canonical columns (one map for the reader and the writer).


def _snake(key: str) -> str:
    """camelCase wire key -> its snake_case spelling (ims-spec.md §6.2: declIgst -> decl_igst)."""
    return re.sub(r"(?<!^)([A-Z])", r"_\1", key).lower()


#: Canonical column -> wire keys in priority order (ims-spec.md §1.2, §2.2, §6.2, §6.3). Identity
#: keys (number, date, original document) come from the section registry.
_VALUE_COLUMNS = dict(
    zip(VALUE_KEYS, ("supply_type", "source_form", "supplier_period", "doc_value", "pos",
                     "taxable_value", "igst", "cgst", "sgst", "cess"), strict=True)
)  # fmt: skip
_DECLARED_COLUMNS = dict(
    zip(DECLARED_KEYS, ("declared_igst", "declared_cgst", "declared_sgst", "declared_cess"),
        strict=True)
)  # fmt: skip
COMMON_FIELDS: dict[str, tuple[str, ...]] = {
    "supplier_gstin": ("stin",),
    **{col: (key,) for key, col in _VALUE_COLUMNS.items()},
    "supplier_filing_status": ("srcfilstatus",),
    "supplier_name": ("tradenm",),
    # an upload record carries prev_status (the portal's state) and action (the wish)
    "portal_action": ("prev_status", "action"),
    "pending_blocked": ("ispendactblocked", "ispendactnallwd"),  # the second is the inverse flag
    "itc_reduction_blocked": ("isItcRedReqBlocked", "itcRedReqBlocked", "is_itc_red_req_blocked"),
    "remarks_blocked": ("isRemarksBlocked", "is_remarks_blocked"),
    "itc_reduction": ("itcRedReq", _snake("itcRedReq")),
    **{col: (key, _snake(key)) for key, col in _DECLARED_COLUMNS.items()},
    "remarks": ("remarks",),
    "hash": ("hash",),
}


def section_fields(sec: Section) -> dict[str, tuple[str, ...]]:
    """Canonical column -> wire keys for one section (identity keys from the registry)."""
    fields: dict[str, tuple[str, ...]] = {
        "doc_number": (sec.number_key,),
        "doc_date": (sec.date_key,),
    }
    if sec.orig_number_key and sec.orig_date_key:
        fields["orig_doc_number"] = (sec.orig_number_key,)
        fields["orig_doc_date"] = (sec.orig_date_key,)
    fields = {**fields, **COMMON_FIELDS}
    for column, key in sec.aliases:
        fields[column] = (*fields.get(column, ()), key)
    return fields


def wire_keys(sec: Section) -> tuple[str, ...]:
    """Every record key the reader knows for a section; others go to `extra_json`."""
    return tuple(k for keys in section_fields(sec).values() for k in keys)
