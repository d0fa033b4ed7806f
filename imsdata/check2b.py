"""Close the loop after GSTR-2B: does the generated 2B show what was decided in IMS?

GSTR-2B is built from the IMS actions saved on the portal when it is (re)computed (ims-spec R1,
R4, R11): accepted and deemed-accepted ("no action") documents are in it, rejected and pending
ones are not, and an accepted specified record carries the ITC reduction that was declared.
`check_2b` compares a 2B (read by `imsdata.portal.returns`) with the IMS documents and the
current decisions and lists every difference with the document and what to do about it.

Only the documents of the 2B's period are expected (supplier period = the 2B's return period,
when both are known): an IMS download also holds pending documents of other periods.
"""

from __future__ import annotations

import polars as pl

from imsdata.portal.sections import ACTION_CODES
from imsdata.schemas import ITC_TAKEN, MONEY, TAX_HEADS, Action

#: One row per difference found.
DIFFERENCE_COLUMNS: dict[str, pl.DataType] = {
    "difference": pl.String(),  # one of DIFFERENCES
    "doc_key": pl.String(),
    "section": pl.String(),
    "supplier_gstin": pl.String(),
    "doc_number": pl.String(),
    "doc_date": pl.Date(),
    "ims_action": pl.String(),  # accept / reject / pending / no_action (the current decision)
    "in_2b": pl.Boolean(),
    "itc_available": pl.String(),  # 2B's itcavl: Y / N
    "detail": pl.String(),
    "to_do": pl.String(),
}

_RECOMPUTE = "recompute GSTR-2B on the portal (IMS > Recompute)"
_REUPLOAD = "upload the action again (imsdata export), check it was saved, then " + _RECOMPUTE
#: Difference -> what to do about it.
DIFFERENCES: dict[str, str] = {
    "accepted_not_in_2b": f"{_RECOMPUTE}; if still missing, {_REUPLOAD}",
    "itc_not_available": "2B shows it with ITC not available (reason in detail): check place "
    "of supply and time limit with the supplier; the IMS action cannot change this",
    "rejected_in_2b": _REUPLOAD,
    "pending_in_2b": _REUPLOAD,
    "itc_reduction_not_applied": _REUPLOAD,
    "not_in_ims": "in 2B but not in the IMS download the decisions were made on: download IMS "
    "again and decide it (nothing to do for reverse-charge documents)",
}


def check_2b(
    gstr2b: pl.DataFrame, ims: pl.DataFrame, decisions: pl.DataFrame, *, period: str | None
) -> pl.DataFrame:
    """Every difference between a GSTR-2B and the IMS decisions (`DIFFERENCE_COLUMNS`), sorted.

    `gstr2b`: documents from `imsdata.portal.returns` (itcavl, rsn, rev in `extra_json`);
    `ims`: the IMS documents the decisions were made on; `decisions`: the current decision per
    doc_key (action words; itc_reduction and declared amounts for accepted specified records).
    A document without a decision keeps its portal action ("N" is deemed accepted at 2B time).
    """
    extra = pl.col("extra_json").fill_null("{}")
    b2b = gstr2b.select(
        "doc_key", *TAX_HEADS,
        itc_available=extra.str.json_path_match("$.itcavl").str.to_uppercase(),
        itc_reason=extra.str.json_path_match("$.rsn"),
        reverse=extra.str.json_path_match("$.rev").str.to_uppercase() == "Y",
        in_2b=pl.lit(True),
    ).rename({h: f"b_{h}" for h in TAX_HEADS})  # fmt: skip
    chosen = decisions.select(
        "doc_key",
        pl.col("action").alias("decided"),
        pl.col("itc_reduction").alias("decided_reduction"),
        *(pl.col(f"declared_{h}").alias(f"d_{h}") for h in TAX_HEADS),
    )
    docs = ims
    if period and "supplier_period" in ims.columns:
        docs = ims.filter(
            pl.col("supplier_period").is_null() | (pl.col("supplier_period") == period)
        )
    docs = docs.join(chosen, on="doc_key", how="left").with_columns(
        ims_action=pl.coalesce(
            "decided",
            pl.col("portal_action").replace_strict(ACTION_CODES, default=Action.NO_ACTION.value),
        ),
        reduction=pl.coalesce("decided_reduction", "itc_reduction"),
    )
    both = docs.join(b2b, on="doc_key", how="left").with_columns(pl.col("in_2b").fill_null(False))
    action, in_2b = pl.col("ims_action"), pl.col("in_2b")
    expected = action.is_in(ITC_TAKEN)
    declared = [pl.coalesce(f"d_{h}", f"declared_{h}") for h in TAX_HEADS]
    pairs = list(zip(declared, TAX_HEADS, strict=True))
    reduction_off = pl.any_horizontal((d.is_not_null() & (pl.col(f"b_{h}") != d)) for d, h in pairs)
    shown = pl.concat_str(
        *(pl.format(f"{h.upper()} {{}}", pl.col(f"b_{h}")) for h in TAX_HEADS), separator=", "
    )
    want = pl.concat_str(
        *(pl.format(f"{h.upper()} {{}}", d.fill_null(0)) for d, h in pairs), separator=", "
    )
    difference = (
        pl.when(expected & ~in_2b)
        .then(pl.lit("accepted_not_in_2b"))
        .when((action == Action.REJECT) & in_2b)
        .then(pl.lit("rejected_in_2b"))
        .when((action == Action.PENDING) & in_2b)
        .then(pl.lit("pending_in_2b"))
        .when(expected & (pl.col("reduction") == "Y") & reduction_off)
        .then(pl.lit("itc_reduction_not_applied"))
        .when(expected & (pl.col("itc_available") == "N"))
        .then(pl.lit("itc_not_available"))
    )
    detail = (
        pl.when(difference == "accepted_not_in_2b")
        .then(pl.format("{} in IMS, not in this GSTR-2B", action))
        .when(difference.is_in(["rejected_in_2b", "pending_in_2b"]))
        .then(pl.format("{} in IMS, yet in this GSTR-2B", action))
        .when(difference == "itc_reduction_not_applied")
        .then(pl.format("ITC reduction declared ({}), 2B shows {}", want, shown))
        .when(difference == "itc_not_available")
        .then(pl.format("itcavl N, reason {}", pl.col("itc_reason").fill_null("not given")))
    )
    found = both.with_columns(difference=difference, detail=detail).filter(
        pl.col("difference").is_not_null()
    )
    unknown = b2b.join(ims.select("doc_key"), on="doc_key", how="anti").join(
        gstr2b.select("doc_key", "section", "supplier_gstin", "doc_number", "doc_date"),
        on="doc_key",
    )
    unknown = unknown.with_columns(
        difference=pl.lit("not_in_ims"),
        ims_action=pl.lit(None, pl.String),
        detail=pl.when(pl.col("reverse"))
        .then(pl.lit("reverse charge: such documents never enter IMS"))
        .otherwise(pl.lit("in this GSTR-2B only")),
    )
    columns = [c for c in DIFFERENCE_COLUMNS if c != "to_do"]
    out = pl.concat([found.select(columns), unknown.select(columns)], how="vertical_relaxed")
    return (
        out.with_columns(to_do=pl.col("difference").replace_strict(DIFFERENCES))
        .cast(pl.Schema(DIFFERENCE_COLUMNS))
        .sort("difference", "supplier_gstin", "doc_date", "doc_number", "doc_key")
    )


def decisions_of(current: pl.DataFrame) -> pl.DataFrame:
    """The columns `check_2b` reads from a workspace's current decisions (money as Decimal)."""
    return current.select(
        "doc_key", "action", "itc_reduction",
        *(pl.col(f"declared_{h}").cast(MONEY) for h in TAX_HEADS),
    )  # fmt: skip
