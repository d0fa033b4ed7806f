"""The project's closed vocabularies and tax heads, each written once.

Match statuses, actions, decision sources and document types are `StrEnum`s: a member is its
string (frames, SQL and files hold the plain word), and `sql_in` writes the `IN (...)` list a query
needs from the same members. The polars `Enum` dtypes beside them check a column's values
(`schemas.check_vocabulary`); frames keep `String` columns so the files a run writes do not change.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

import polars as pl


class MatchStatus(StrEnum):
    """A reconciliation outcome (reconcile/sql.py decides it; docs/rules.md explains each)."""

    EXACT = "exact"
    WITHIN_TOLERANCE = "within_tolerance"
    PROBABLE = "probable"
    MISMATCH = "mismatch"
    PAN_MATCH = "pan_match"
    MISSING_IN_REGISTER = "missing_in_register"
    MISSING_IN_IMS = "missing_in_ims"


class Action(StrEnum):
    """An action in words (the wire codes live in imsdata.portal.sections.ACTION_CODES)."""

    ACCEPT = "accept"
    REJECT = "reject"
    PENDING = "pending"
    NO_ACTION = "no_action"


class DecisionSource(StrEnum):
    """Who made a decision: a rule, a person (CLI, review workbook) or the portal's own state."""

    RULE = "rule"
    MANUAL = "manual"
    EXCEL = "excel"
    PORTAL = "portal"


class DecisionStatus(StrEnum):
    """A current decision against the latest IMS download (`Workspace.current_decisions`): the
    document is unchanged, changed by the supplier since it was decided, or gone from IMS."""

    VALID = "valid"
    REVIEW = "review"
    GONE = "gone"


class DocType(StrEnum):
    """A document's type: invoice, debit note, credit note (sections.py maps sections to them)."""

    INV = "INV"
    DN = "DN"
    CN = "CN"
    BOE = "BOE"  # bill of entry: imports of goods (the IMPG/IMPGSEZ sections)


#: The document types a purchase register books (a bill of entry comes only from the portal).
REGISTER_DOC_TYPES: tuple[DocType, ...] = (DocType.INV, DocType.DN, DocType.CN)
#: The routine outcome: the books agree with IMS (exactly or within the tolerances).
MATCHED: tuple[MatchStatus, ...] = (MatchStatus.EXACT, MatchStatus.WITHIN_TOLERANCE)
#: Actions under which a document's ITC is taken (no action by the deadline: deemed accepted).
ITC_TAKEN: tuple[Action, ...] = (Action.ACCEPT, Action.NO_ACTION)
#: Outcomes that leave the ITC of an accepted document unsupported by the books.
RISKY: tuple[MatchStatus, ...] = (
    MatchStatus.MISMATCH,
    MatchStatus.PAN_MATCH,
    MatchStatus.MISSING_IN_REGISTER,
)
#: Decisions people make (a rule's suggestion never replaces one on an unchanged document).

HUMAN_SOURCES: tuple[DecisionSource, ...] = (DecisionSource.MANUAL, DecisionSource.EXCEL)

#: polars dtypes of the vocabularies (value checks; see the module docstring).
MATCH_STATUS = pl.Enum([m.value for m in MatchStatus])
ACTION = pl.Enum([m.value for m in Action])
DECISION_SOURCE = pl.Enum([m.value for m in DecisionSource])
DOC_TYPE = pl.Enum([m.value for m in DocType])

#: The tax heads of a document, in the portal's order (iamt, camt, samt, csamt).
TAX_HEADS: tuple[str, ...] = ("igst", "cgst", "sgst", "cess")
#: The heads a register with only a total GST cannot tell apart (cess is booked on its own).
SPLIT_HEADS: tuple[str, ...] = ("igst", "cgst", "sgst")
#: The amounts compared per document (tolerances apply to each): taxable value and the tax heads.
AMOUNT_HEADS: tuple[str, ...] = ("taxable_value", *TAX_HEADS)
#: The ITC-reduction amounts a recipient declares, one per tax head (ims-spec.md).
DECLARED_COLUMNS: tuple[str, ...] = tuple(f"declared_{h}" for h in TAX_HEADS)


def total_tax(prefix: str = "") -> pl.Expr:
    """IGST + CGST + SGST + cess of a row (a missing head counts 0), from `<prefix><head>`."""
    return pl.sum_horizontal(pl.col(f"{prefix}{h}") for h in TAX_HEADS)


def itc_sign() -> pl.Expr:
    """-1 for a credit note (it reduces ITC), 1 for any other document (`doc_type`)."""
    return pl.when(pl.col("doc_type") == DocType.CN).then(-1).otherwise(1)


def total_tax_sql(alias: str, prefix: str = "") -> str:
    """The same sum in SQL over `<alias>.<prefix><head>` (a NULL head counts 0)."""
    return " + ".join(f"coalesce({alias}.{prefix}{h}, 0)" for h in TAX_HEADS)


def sql_in(values: Iterable[str]) -> str:
    """`('a', 'b')`: an SQL IN list of vocabulary words (quotes doubled)."""
    quoted = ", ".join("'" + str(v).replace("'", "''") + "'" for v in values)
    return f"({quoted})"
