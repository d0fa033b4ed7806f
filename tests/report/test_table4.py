"""GSTR-3B Table 4 preview: what an accountant files, each figure traced to its documents."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest

from imsdata.report import build_report
from imsdata.schemas import MATCH_COLUMNS, MONEY
from imsdata.testing import RECIPIENT, complete, ims_frame

D = Decimal
NET = "Net ITC of this GSTR-2B: 4(A)(5) less 4(B)(2)"
A5 = "4(A)(5) All other ITC (net, where positive)"
B2 = "4(B)(2) Others (net negative, reported as reversal)"
AVAILABLE = "Reconciliation: ITC available (accepted + deemed)"


def _line(t4: pl.DataFrame, line: str) -> Decimal:
    rows = t4.filter(pl.col("line") == line)
    assert rows.height == 1, line
    return rows["total"][0]


def _report(rows: list[dict], actions: list[str | None], previous: list[dict] | None = None,
            declarations: list[tuple] | None = None):  # fmt: skip
    ims = ims_frame(rows)
    # an original in the same download is superseded by its amendment (as reconcile marks it)
    amended = ims.filter(pl.col("is_amendment")).select(
        pl.col("section").str.strip_suffix("a").alias("section"),
        "supplier_gstin",
        pl.col("orig_doc_number").alias("doc_number"),
        pl.col("orig_doc_date").alias("doc_date"),
        pl.col("doc_key").alias("superseded_by"),
    )
    matches = complete(
        ims.join(amended, on=["section", "supplier_gstin", "doc_number", "doc_date"], how="left")
        .select("doc_key", "superseded_by")
        .with_columns(match_status=pl.lit("exact")),
        MATCH_COLUMNS,
    )
    decl = declarations or [(None, None)] * ims.height
    decisions = pl.DataFrame(
        {
            "doc_key": ims["doc_key"],
            "action": actions,
            "itc_reduction": [d[0] for d in decl],
            "declared_cgst": [d[1] for d in decl],
            "declared_sgst": [d[1] for d in decl],
        },
        schema_overrides={"action": pl.String, "itc_reduction": pl.String},
    ).with_columns(pl.col("declared_cgst", "declared_sgst").cast(MONEY))
    decisions = decisions.filter(pl.col("action").is_not_null())
    prev = ims_frame(previous) if previous else None
    return build_report(
        ims, matches, decisions, previous=prev, gstin=RECIPIENT, period="112025",
        as_of=dt.date(2025, 12, 1),
    )  # fmt: skip


INV = {"doc_number": "I-1", "cgst": "900", "sgst": "900"}  # 1800 of ITC
CN = {"section": "b2bcn", "doc_number": "CN-1", "cgst": "100", "sgst": "100"}  # 200
ORIG = {"doc_number": "O-1", "cgst": "900", "sgst": "900", "doc_date": dt.date(2025, 9, 5),
        "supplier_period": "092025"}  # fmt: skip


def _amendment(cgst: str) -> dict:
    return {"section": "b2ba", "doc_number": "O-1", "orig_doc_number": "O-1",
            "orig_doc_date": dt.date(2025, 9, 5), "doc_date": dt.date(2025, 9, 5),
            "cgst": cgst, "sgst": cgst}  # fmt: skip


# case, documents, actions, previous download, declarations, expected 4(A)(5), 4(B)(2) totals
CASES = [
    ("filed invoice counts", [INV], ["accept"], None, None, D("1800"), D("0")),
    ("deemed accepted counts too", [INV], [None], None, None, D("1800"), D("0")),
    ("unfiled supplier: not in this 2B (R17)",
     [{**INV, "supplier_filed": False, "supplier_filing_status": "Not Filed"}], ["accept"],
     None, None, D("0"), D("0")),
    ("a later supplier period: a later 2B",
     [{**INV, "supplier_period": "122025", "doc_date": dt.date(2025, 12, 2)}], ["accept"],
     None, None, D("0"), D("0")),
    ("pending and rejected are left out", [INV, {**INV, "doc_number": "I-2"}],
     ["pending", "reject"], None, None, D("0"), D("0")),
    ("credit note reduces in full without a declaration", [INV, CN], ["accept", "accept"],
     None, None, D("1600"), D("0")),
    ("credit note declared N: nothing to reduce", [INV, CN], ["accept", "accept"], None,
     [(None, None), ("N", None)], D("1800"), D("0")),
    ("credit note declared Y partly", [INV, CN], ["accept", "accept"], None,
     [(None, None), ("Y", "40")], D("1720"), D("0")),
    ("credit note declared Y without amounts: in full", [INV, CN], ["accept", "accept"], None,
     [(None, None), ("Y", None)], D("1600"), D("0")),
    ("deemed-accepted credit note reduces in full", [INV, CN], ["accept", None], None, None,
     D("1600"), D("0")),
    ("credit note alone goes to 4(B)(2)", [CN], ["accept"], None, None, D("0"), D("200")),
    ("upward amendment adds only the difference", [_amendment("1200")], ["accept"], [ORIG],
     None, D("600"), D("0")),
    ("downward amendment subtracts the difference", [INV, _amendment("450")],
     ["accept", "accept"], [ORIG], None, D("900"), D("0")),
    ("downward amendment declared N: nothing to reduce", [INV, _amendment("450")],
     ["accept", "accept"], [ORIG], [(None, None), ("N", None)], D("1800"), D("0")),
    ("downward amendment alone is a reversal", [_amendment("450")], ["accept"], [ORIG], None,
     D("0"), D("900")),
    ("amendment of a rejected original counts in full", [_amendment("450")], ["accept"],
     [{**ORIG, "portal_action": "R"}], None, D("900"), D("0")),
    ("amendment whose original is in no download is not counted", [INV, _amendment("450")],
     ["accept", "accept"], None, None, D("1800"), D("0")),
    ("amendment of an original still in IMS counts in full (the original is superseded)",
     [{**ORIG, "supplier_period": "112025"}, _amendment("450")], [None, "accept"], None, None,
     D("900"), D("0")),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "rows", "actions", "previous", "decl", "a5", "b2"), CASES, ids=[c[0] for c in CASES]
)
def test_table4_lines(case, rows, actions, previous, decl, a5, b2) -> None:
    rep = _report(rows, actions, previous, decl)
    t4 = rep.table("gstr3b_table4")
    assert (_line(t4, A5), _line(t4, B2)) == (a5, b2)


@pytest.mark.parametrize(
    ("case", "rows", "actions", "previous", "decl", "a5", "b2"), CASES, ids=[c[0] for c in CASES]
)
def test_reconciliation_leads_from_itc_available_to_the_net(
    case, rows, actions, previous, decl, a5, b2
) -> None:
    """Every reconciling line sums, per head, from ITC available to 4(A)(5) less 4(B)(2); and
    ITC available is the figure of 'ITC by action'."""
    rep = _report(rows, actions, previous, decl)
    t4 = rep.table("gstr3b_table4")
    lines = t4["line"].to_list()
    start = lines.index(AVAILABLE)
    steps = t4.slice(start, lines.index(NET) - start)
    for head in ("igst", "cgst", "sgst", "cess", "total"):
        assert steps[head].sum() == t4.filter(pl.col("line") == NET)[head][0], head
    assert _line(t4, NET) == a5 - b2
    itc = rep.table("itc_summary")
    assert (
        _line(t4, AVAILABLE)
        == itc.filter(pl.col("category") == "ITC available (accepted + deemed)")["itc"][0]
    )


def test_each_table4_figure_is_traced_to_its_documents() -> None:
    rep = _report(
        [INV, CN, {**INV, "doc_number": "I-9", "supplier_filed": False}],
        ["accept", "accept", "accept"],
        declarations=[(None, None), ("Y", "40"), (None, None)],
    )
    listed = rep.table("table4_documents")
    assert sorted(listed["doc_number"]) == ["CN-1", "I-1", "I-9"]
    row = listed.filter(pl.col("doc_number") == "CN-1").row(0, named=True)
    assert (row["itc_cgst"], row["undeclared_cgst"], row["cgst"]) == (
        D("-100.00"), D("-100.00"), D("-40.00"),
    )  # fmt: skip
    assert row["itc_reduction"] == "Y"
    unfiled = listed.filter(pl.col("doc_number") == "I-9").row(0, named=True)
    assert unfiled["table4_line"].startswith("Not in this GSTR-2B: supplier has not filed")
    assert unfiled["cgst"] == 0
    t4 = rep.table("gstr3b_table4")
    counted = listed.filter(pl.col("table4_line") == "Counted in 4(A)(5) / 4(B)(2)")
    assert counted["cgst"].sum() + counted["sgst"].sum() == _line(t4, NET)
