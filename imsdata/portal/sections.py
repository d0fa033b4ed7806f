"""The section registry: the single source of truth for IMS sections (ims-spec.md §1.1).

Reader, writer, reconciliation, rules and reports all ask this module; no other list of sections
exists in the code base.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Section:
    """One IMS section: its JSON key, document type and the keys that identify a record."""

    key: str  # lowercase JSON key, e.g. "b2bcn"
    api_param: str  # GET section= parameter, e.g. "CN"
    title: str
    doc_type: str  # INV / DN / CN
    is_amendment: bool
    number_key: str  # inum / nt_num
    date_key: str  # idt / nt_dt
    orig_number_key: str | None  # oinum / ont_num for amended sections
    orig_date_key: str | None
    itc_reduction: bool  # may carry the ITC-reduction declaration (ims-spec.md R5)
    reject_allowed: bool = True  # False for import bills of entry (R9)

    @property
    def identity_keys(self) -> tuple[str, ...]:
        """Keys that identify a record on the wire: supplier, number, date, original document."""
        keys = ("stin", self.number_key, self.date_key)
        if self.orig_number_key and self.orig_date_key:
            keys += (self.orig_number_key, self.orig_date_key)
        return keys


#: Value keys every section carries besides the identity keys (ims-spec.md §1.2, §2.2).
VALUE_KEYS: tuple[str, ...] = (
    "inv_typ", "srcform", "rtnprd", "val", "pos", "txval", "iamt", "camt", "samt", "cess",
)  # fmt: skip
MONEY_KEYS: tuple[str, ...] = ("val", "txval", "iamt", "camt", "samt", "cess")
DECLARED_KEYS: tuple[str, ...] = ("declIgst", "declCgst", "declSgst", "declCess")

SECTIONS: dict[str, Section] = {
    s.key: s
    for s in (
        Section("b2b", "B2B", "Invoices", "INV", False, "inum", "idt", None, None, False),
        Section("b2ba", "B2BA", "Amended invoices", "INV", True, "inum", "idt", "oinum", "oidt",
                True),
        Section("b2bdn", "DN", "Debit notes", "DN", False, "nt_num", "nt_dt", None, None, False),
        Section("b2bdna", "DNA", "Amended debit notes", "DN", True, "nt_num", "nt_dt", "ont_num",
                "ont_dt", True),
        Section("b2bcn", "CN", "Credit notes", "CN", False, "nt_num", "nt_dt", None, None, True),
        Section("b2bcna", "CNA", "Amended credit notes", "CN", True, "nt_num", "nt_dt", "ont_num",
                "ont_dt", True),
        Section("ecom", "ECOM", "E-commerce operator documents", "INV", False, "inum", "idt", None,
                None, False),
        Section("ecoma", "ECOMA", "Amended e-commerce operator documents", "INV", True, "inum",
                "idt", "oinum", "oidt", True),
    )
}  # fmt: skip

#: Action codes on the wire and their words (ims-spec.md §4).
ACTION_CODES: dict[str, str] = {"N": "no_action", "A": "accept", "R": "reject", "P": "pending"}
ACTION_WORDS: dict[str, str] = {v: k for k, v in ACTION_CODES.items()}


def section(key: str) -> Section:
    """The registry entry for a section key (case-insensitive); KeyError if unknown."""
    return SECTIONS[key.lower()]
