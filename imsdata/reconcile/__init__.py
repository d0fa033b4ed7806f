"""Reconcile the IMS download against the purchase register (issue 4).

`reconcile(ims, register)` returns one row per IMS document and one per register row left
unpaired (`imsdata.schemas.MATCH_COLUMNS`); `explain(doc, ims, register)` lists the nearest
candidates of one document and the tests each failed; `Tolerances` is the configuration;
`periods` reconciles against the books of several months (issue 14).
"""

from imsdata.reconcile import periods
from imsdata.reconcile.explain import explain
from imsdata.reconcile.match import reconcile
from imsdata.reconcile.numbers import normalise_number_expr, numeric_core_expr
from imsdata.reconcile.tolerances import Tolerances

__all__ = [
    "Tolerances", "explain", "normalise_number_expr", "numeric_core_expr", "periods", "reconcile",
]  # fmt: skip
