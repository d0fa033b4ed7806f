"""GSTR-3B Table 4 preview from the IMS documents, traceable to each document.

Each accepted or deemed-accepted document (not superseded) gets one Table 4 treatment and its
per-head contribution; the lines are sums of those contributions, so every figure can be traced
to its documents (the `table4_documents` table, one row per document):

- *supplier not filed* (R17) and *later supplier period* documents are not in this GSTR-2B;
- import bills of entry go to 4(A)(1);
- invoices and debit notes add their tax; credit notes subtract it, or the declared amounts
  when accepted with an ITC-reduction declaration (`N`: nothing to reduce; R5-R7);
- amendments count as the difference from their original: the original's amounts come from
  the previous download when it is there (an original still in this download, or rejected, was
  never claimed: the amendment counts in full); an amendment whose original is in neither
  download is listed and not counted (its difference is unknown: claim it by hand);
- per head, a positive net goes to 4(A)(5), a negative one to 4(B)(2).

Reconciling lines lead from "ITC available" (ITC by action) to the net of 4(A)(1) + 4(A)(5) -
4(B)(2), one line per treatment.
"""

from __future__ import annotations

from decimal import Decimal

import polars as pl

from imsdata.portal.sections import SECTIONS
from imsdata.schemas import ITC_TAKEN, MONEY, TAX_HEADS, DocType, itc_sign

ZERO = Decimal("0.00")

#: Treatments (a document's Table 4 line), in display order, with their reconciling labels.
COUNTED = "counted"
NOT_FILED = "supplier_not_filed"
LATER = "later_period"
IMPORT = "import"
NO_ORIGINAL = "amendment_original_unknown"
TREATMENTS: dict[str, str] = {
    COUNTED: "Counted in 4(A)(5) / 4(B)(2)",
    IMPORT: "Import of goods, 4(A)(1)",
    NOT_FILED: "Not in this GSTR-2B: supplier has not filed (R17)",
    LATER: "Not in this GSTR-2B: a later supplier return period",
    NO_ORIGINAL: "Amendment whose original is in no download: difference unknown, not counted",
}
#: Cap on the per-document list (an Excel sheet holds 1,048,576 rows).
MAX_DOCUMENT_ROWS = 1_000_000


def _money(frame: pl.DataFrame) -> dict[str, Decimal]:
    row = frame.select(pl.col(h).sum().fill_null(0).cast(MONEY) for h in TAX_HEADS).row(
        0, named=True
    )
    return {h: row[h] if row[h] is not None else ZERO for h in TAX_HEADS}


def _original_amounts(
    work: pl.LazyFrame, docs: pl.DataFrame, previous: pl.DataFrame | None
) -> pl.LazyFrame:
    """Per amendment of `work`: the original's claimed amounts (`orig_<head>`), `orig_found`.

    An original still in this download (`docs`, superseded ones included) was never claimed:
    a filed GSTR-3B takes accepted and rejected records out of IMS (R12)."""
    # an amended section's key is its original's plus "a" (b2ba -> b2b, impga -> impg)
    original_section = {
        k: k[:-1] for k, s in SECTIONS.items() if s.is_amendment and k[:-1] in SECTIONS
    }
    amended = work.filter(pl.col("is_amendment").fill_null(False)).select(
        "doc_key",
        pl.col("section")
        .replace_strict(original_section, default=None, return_dtype=pl.String)
        .alias("_osec"),
        "supplier_gstin",
        "orig_doc_number",
        "orig_doc_date",
    )
    keys = ["section", "supplier_gstin", "doc_number", "doc_date"]
    here = docs.lazy().select(*keys, _here=pl.lit(True)).unique(keys)
    found = amended.join(
        here,
        left_on=["_osec", "supplier_gstin", "orig_doc_number", "orig_doc_date"],
        right_on=keys,
        how="left",
    )
    if previous is not None and previous.height:
        prev = (
            previous.lazy()
            .select(
                *keys,
                pl.col("portal_action").alias("_prev_action"),
                *[pl.col(h).fill_null(0).alias(f"_p_{h}") for h in TAX_HEADS],
            )
            .unique(keys, keep="first")
        )
        found = found.join(
            prev,
            left_on=["_osec", "supplier_gstin", "orig_doc_number", "orig_doc_date"],
            right_on=keys,
            how="left",
        )
    else:
        found = found.with_columns(
            _prev_action=pl.lit(None, pl.String),
            **{f"_p_{h}": pl.lit(None, MONEY) for h in TAX_HEADS},
        )
    in_prev = pl.col("_p_igst").is_not_null()
    unclaimed = pl.col("_here").fill_null(False) | (in_prev & (pl.col("_prev_action") == "R"))
    return found.select(
        "doc_key",
        orig_found=unclaimed | in_prev,
        **{
            f"orig_{h}": pl.when(unclaimed).then(pl.lit(0)).otherwise(pl.col(f"_p_{h}")).cast(MONEY)
            for h in TAX_HEADS
        },
    )


def _declared_reduction(h: str, reduction: pl.Expr) -> pl.Expr:
    """The ITC reduction of an accepted specified record after its declaration (R5-R7):
    N -> nothing; Y with amounts -> the declared amount (at most the reduction); else all."""
    declared = pl.coalesce(pl.col("dec_itc_reduction"), pl.col("itc_reduction"))
    amounts = [pl.coalesce(f"dec_declared_{x}", f"declared_{x}") for x in TAX_HEADS]
    has_amounts = pl.any_horizontal([a.is_not_null() for a in amounts])
    amount = pl.coalesce(f"dec_declared_{h}", f"declared_{h}").fill_null(0)
    accepted = pl.col("action") == "accept"
    return (
        pl.when(accepted & (declared == "N"))
        .then(pl.lit(0))
        .when(accepted & (declared == "Y") & has_amounts)
        .then(pl.min_horizontal(amount, reduction))
        .otherwise(reduction)
    )


def table4_documents(
    docs: pl.DataFrame, period: str, previous: pl.DataFrame | None
) -> pl.DataFrame:
    """One row per accepted / deemed-accepted live document: its treatment, its full signed ITC
    per head (`itc_<head>`) and what it adds to Table 4 per head (`<head>`)."""
    # lazily: only the columns used of the wide document frame are filtered and joined
    work = docs.lazy().filter(pl.col("action").is_in(ITC_TAKEN) & ~pl.col("superseded"))
    origin = _original_amounts(work, docs, previous)
    work = work.join(origin, on="doc_key", how="left")
    yyyymm = period[2:] + period[:2]
    sup = pl.col("supplier_period")
    sup_yyyymm = pl.when(sup.str.contains(r"^\d{6}$")).then(
        sup.str.slice(2, 4) + sup.str.slice(0, 2)
    )
    imports = [k for k, s in SECTIONS.items() if s.doc_type == DocType.BOE]
    amended = pl.col("is_amendment").fill_null(False)
    treatment = (
        pl.when(~pl.col("supplier_filed").fill_null(True))
        .then(pl.lit(NOT_FILED))
        .when(sup_yyyymm.fill_null(yyyymm) > yyyymm)
        .then(pl.lit(LATER))
        .when(pl.col("section").is_in(imports))
        .then(pl.lit(IMPORT))
        .when(amended & ~pl.col("orig_found").fill_null(False))
        .then(pl.lit(NO_ORIGINAL))
        .otherwise(pl.lit(COUNTED))
    )
    sign = itc_sign()
    contributions = {}
    for h in TAX_HEADS:
        delta = pl.col(h).fill_null(0) - pl.when(amended).then(pl.col(f"orig_{h}")).otherwise(0)
        signed = sign * delta  # + adds ITC, - reduces it
        reduced = -_declared_reduction(h, -signed)
        counted = pl.col("treatment").is_in([COUNTED, IMPORT])
        contributions[f"undeclared_{h}"] = pl.when(counted).then(signed).otherwise(0).cast(MONEY)
        contributions[h] = (
            pl.when(counted)
            .then(pl.when(signed < 0).then(reduced).otherwise(signed))
            .otherwise(pl.lit(0))
            .cast(MONEY)
        )
    return (
        work.with_columns(treatment=treatment)
        .with_columns(
            **{f"itc_{h}": (sign * pl.col(h).fill_null(0)).cast(MONEY) for h in TAX_HEADS},
            **contributions,
        )
        .select(
            pl.col("treatment").replace_strict(TREATMENTS).alias("table4_line"),
            "treatment", "doc_key", "supplier_gstin", "supplier_name", "section", "doc_number",
            "doc_date", "orig_doc_number", "supplier_period", "action",
            pl.coalesce(pl.col("dec_itc_reduction"), pl.col("itc_reduction")).alias(
                "itc_reduction"
            ),
            *[f"itc_{h}" for h in TAX_HEADS], *[f"undeclared_{h}" for h in TAX_HEADS], *TAX_HEADS,
        )
        .sort("treatment", "doc_key")
        .collect()
    )  # fmt: skip


def table4(docs: pl.DataFrame, listed: pl.DataFrame) -> pl.DataFrame:
    """The Table 4 lines and the reconciling lines, per head, from `table4_documents`."""
    counted = listed.filter(pl.col("treatment") == COUNTED)
    imported = listed.filter(pl.col("treatment") == IMPORT)
    net = _money(counted)
    itc = {h: f"itc_{h}" for h in TAX_HEADS}

    def full(frame: pl.DataFrame) -> dict[str, Decimal]:
        return _money(frame.select(pl.col(c).alias(h) for h, c in itc.items()))

    def minus(values: dict[str, Decimal]) -> dict[str, Decimal]:
        return {h: -values[h] for h in TAX_HEADS}

    contribution = pl.sum_horizontal(pl.col(h) for h in TAX_HEADS)
    gross = counted.filter(contribution >= 0)
    notes = counted.filter(contribution < 0)
    live = ~pl.col("superseded")
    pend = docs.filter((pl.col("action") == "pending") & live)
    rej = docs.filter((pl.col("action") == "reject") & live)
    sign = itc_sign()

    def signed(frame: pl.DataFrame) -> dict[str, Decimal]:
        return _money(frame.select((sign * pl.col(h).fill_null(0)).alias(h) for h in TAX_HEADS))

    available = full(listed)
    counted_full = full(counted)
    rows: list[tuple[str, dict[str, Decimal]]] = [
        ("4(A)(1) Import of goods (bills of entry)", _money(imported)),
        ("Invoices, debit notes and upward amendments (this GSTR-2B)", _money(gross)),
        ("Less: credit notes and downward amendments, as declared", _money(notes)),
        ("4(A)(5) All other ITC (net, where positive)", {h: max(net[h], ZERO) for h in TAX_HEADS}),
        ("4(B)(2) Others (net negative, reported as reversal)",
         {h: max(-net[h], ZERO) for h in TAX_HEADS}),
        ("Not in Table 4: pending (carried forward)", signed(pend)),
        ("Not in Table 4: rejected", signed(rej)),
        ("Reconciliation: ITC available (accepted + deemed)", available),
    ]  # fmt: skip
    for key in (NOT_FILED, LATER, NO_ORIGINAL):
        rows.append(
            (f"Less: {TREATMENTS[key]}", minus(full(listed.filter(pl.col("treatment") == key))))
        )
    undeclared = _money(counted.select(pl.col(f"undeclared_{h}").alias(h) for h in TAX_HEADS))
    rows.append(
        (
            "Less: amendments' original amounts (claimed in an earlier GSTR-3B)",
            {h: undeclared[h] - counted_full[h] for h in TAX_HEADS},
        )
    )
    rows.append(
        (
            "Add: ITC not reduced under the ITC-reduction declarations (N or partial)",
            {h: net[h] - undeclared[h] for h in TAX_HEADS},
        )
    )
    rows.append(("Less: import bills of entry (in 4(A)(1))", minus(full(imported))))
    rows.append(("Net ITC of this GSTR-2B: 4(A)(5) less 4(B)(2)", net))
    return pl.DataFrame(
        {"line": [r[0] for r in rows], **{h: [r[1][h] for r in rows] for h in TAX_HEADS}},
        schema={"line": pl.String(), **dict.fromkeys(TAX_HEADS, MONEY)},
    ).with_columns(total=pl.sum_horizontal(pl.col(h) for h in TAX_HEADS).cast(MONEY))
