"""build_report: the figures a finance team reads, from tiny hand-written months."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest

from imsdata.errors import InputError, UsageError
from imsdata.report import Report, build_report, period_end
from imsdata.schemas import MATCH_COLUMNS, MONEY
from imsdata.testing import RECIPIENT, complete, ims_frame
from tests.report.conftest import ALPHA, KAVERI, RATHI, key

D = Decimal


def _row(frame: pl.DataFrame, column: str, value: str) -> dict:
    rows = frame.filter(pl.col(column) == value)
    assert rows.height == 1, f"{value} not exactly once in {frame}"
    return rows.row(0, named=True)


def _matches(ims: pl.DataFrame, statuses: list[str]) -> pl.DataFrame:
    return complete(
        pl.DataFrame({"doc_key": ims["doc_key"], "match_status": statuses}), MATCH_COLUMNS
    )


# ----------------------------------------------------------------------------- ITC by action


def test_itc_by_action_uses_decision_else_downloaded_action(report: Report) -> None:
    itc = report.table("itc_summary")
    assert _row(itc, "category", "Accepted")["itc"] == D("468000.00")
    assert _row(itc, "category", "Accepted")["documents"] == 2
    # CN-1 has no decision and was downloaded as N: deemed accepted, and a CN reduces ITC
    assert _row(itc, "category", "Deemed accepted (no action)")["itc"] == D("-180.00")
    assert _row(itc, "category", "ITC available (accepted + deemed)")["itc"] == D("467820.00")
    assert _row(itc, "category", "Pending")["itc"] == D("900.00")
    # A-9 was downloaded as R with no new decision
    assert _row(itc, "category", "Rejected")["itc"] == D("126.00")
    assert all(isinstance(dtype, pl.Decimal) for dtype in itc.select(pl.exclude(
        "category", "documents")).dtypes)  # fmt: skip


def test_headline_matches_tables(report: Report) -> None:
    assert report.headline["documents"] == 5
    assert report.headline["itc_available"] == D("467820.00")
    assert report.headline["itc_at_risk"] == D("451080.00")


def test_latest_decision_wins(month: dict[str, pl.DataFrame]) -> None:
    ims = month["ims"]
    k = key(ims, "A-1")
    log = pl.DataFrame(
        {
            "doc_key": [k, k],
            "action": ["reject", "accept"],
            "decided_at": [dt.datetime(2025, 12, 2), dt.datetime(2025, 12, 1)],
        }
    )
    rep = build_report(ims, month["matches"], log, gstin=RECIPIENT, period="112025")
    # the later decided_at (reject) wins even though it is the first row
    assert _row(rep.table("itc_summary"), "category", "Rejected")["itc"] == D("18126.00")
    assert any("superseded by a later one" in n for n in rep.notes)


def test_unknown_action_is_an_input_error(month: dict[str, pl.DataFrame]) -> None:
    bad = pl.DataFrame({"doc_key": [key(month["ims"], "A-1")], "action": ["approve"]})
    with pytest.raises(InputError, match="approve"):
        build_report(month["ims"], month["matches"], bad, gstin=RECIPIENT, period="112025")


def test_decisions_for_other_documents_are_noted_not_counted(month) -> None:
    extra = pl.concat(
        [month["decisions"], pl.DataFrame({"doc_key": ["b2b|X|Y|2025-11-01"], "action":
                                            ["reject"]})],
        how="diagonal",
    )  # fmt: skip
    rep = build_report(month["ims"], month["matches"], extra, gstin=RECIPIENT, period="112025")
    assert _row(rep.table("itc_summary"), "category", "Rejected")["documents"] == 1
    assert any("not in this download" in n for n in rep.notes)


def test_superseded_original_is_excluded_from_itc() -> None:
    ims = ims_frame([{"doc_number": "O-1"}, {"section": "b2ba", "doc_number": "O-1",
                     "orig_doc_number": "O-1", "cgst": "1000", "sgst": "1000"}])  # fmt: skip
    matches = _matches(ims, ["exact", "exact"]).with_columns(
        superseded_by=pl.when(pl.col("doc_key") == ims["doc_key"][0]).then(
            pl.lit(ims["doc_key"][1])
        )
    )
    rep = build_report(ims, matches, None, gstin=RECIPIENT, period="112025")
    itc = rep.table("itc_summary")
    assert _row(itc, "category", "Deemed accepted (no action)")["itc"] == D("2000.00")
    assert _row(itc, "category", "Superseded by an amendment (excluded)")["documents"] == 1


# ----------------------------------------------------------------------------- at risk


def test_itc_at_risk_by_reason(report: Report) -> None:
    risk = report.table("itc_at_risk")
    assert risk["amount"].to_list() == [
        D("450000.00"),  # R-7 accepted, mismatch
        D("180.00"),  # CN-1 deemed accepted, missing in register
        D("900.00"),  # K-3 pending, FY 2024-25 invoice lapses 30-11-2025
        D("0.00"),
        D("451080.00"),
    ]
    assert risk["documents"].to_list() == [1, 1, 1, 0, 3]
    detail = report.table("at_risk_documents")
    assert detail["doc_number"].to_list() == ["R-7", "K-3", "CN-1"]  # by amount
    k3 = _row(detail, "doc_number", "K-3")
    assert (k3["deadline"], k3["days_left"]) == (dt.date(2025, 11, 30), -5)
    assert k3["deadline_kind"] == "ITC time limit, sec. 16(4)"
    # an accepted document keeps its action until the GSTR-3B due date of its own 2B period
    r7 = _row(detail, "doc_number", "R-7")
    assert (r7["deadline"], r7["days_left"]) == (dt.date(2025, 12, 20), 15)


def test_exactly_matched_accepts_are_not_at_risk(report: Report) -> None:
    assert "A-1" not in report.table("at_risk_documents")["doc_number"].to_list()


def test_pending_credit_note_near_its_window_end_is_at_risk() -> None:
    ims = ims_frame([{"section": "b2bcn", "doc_number": "CN-5"}, {"doc_number": "I-5"}])
    decisions = pl.DataFrame({"doc_key": ims["doc_key"], "action": ["pending", "pending"]})
    matches = _matches(ims, ["exact", "exact"])
    # November 2025: a CN may stay pending to the GSTR-3B due date of December, 20-01-2026
    early = build_report(
        ims, matches, decisions, gstin=RECIPIENT, period="112025", as_of=dt.date(2025, 11, 30)
    )
    assert early.table("at_risk_documents").height == 0
    late = build_report(
        ims, matches, decisions, gstin=RECIPIENT, period="112025", as_of=dt.date(2026, 1, 5)
    )
    detail = late.table("at_risk_documents")
    assert detail["doc_number"].to_list() == ["CN-5"]
    assert detail["deadline"][0] == dt.date(2026, 1, 20)
    assert detail["days_left"][0] == 15
    assert detail["deadline_kind"][0] == "pending window (R3)"
    assert "specified record" in detail["reason"][0]


def test_credit_note_of_october_worked_in_november_is_due_20_december() -> None:
    """The issue's finding: the deadline comes from the record's own 2B period, not the period
    worked on; a quarterly filer in Maharashtra (category 1) has to 22-04-2026."""
    ims = ims_frame([{"section": "b2bcn", "doc_number": "CN-10", "supplier_period": "102025",
                      "doc_date": dt.date(2025, 10, 20)}])  # fmt: skip
    decisions = pl.DataFrame({"doc_key": ims["doc_key"], "action": ["pending"]})
    matches = _matches(ims, ["exact"])
    as_of = dt.date(2025, 12, 1)
    monthly = build_report(
        ims, matches, decisions, gstin=RECIPIENT, period="112025", as_of=as_of
    ).table("at_risk_documents")
    assert monthly["deadline"].to_list() == [dt.date(2025, 12, 20)]
    assert monthly["days_left"].to_list() == [19]
    assert monthly["amount"].to_list() == [D("1800.00")]  # at risk, not 0
    quarterly = build_report(
        ims, matches, decisions, gstin=RECIPIENT, period="112025", as_of=as_of,
        frequency="quarterly",
    ).table("at_risk_documents")  # fmt: skip
    assert quarterly.height == 0  # 22-04-2026 is more than 30 days away
    late = build_report(
        ims, matches, decisions, gstin=RECIPIENT, period="112025",
        as_of=dt.date(2026, 4, 1), frequency="quarterly",
    ).table("at_risk_documents")  # fmt: skip
    assert late["deadline"].to_list() == [dt.date(2026, 4, 22)]


def test_each_document_gets_the_deadline_of_its_own_2b_period_in_a_mixed_month() -> None:
    """Deadlines are worked out once per distinct 2B period and mapped back to each document:
    credit notes of October and November in one download keep their own windows, and one
    without a readable period falls back to the sec. 16(4) limit."""
    ims = ims_frame([
        {"section": "b2bcn", "doc_number": "CN-OCT", "supplier_period": "102025"},
        {"section": "b2bcn", "doc_number": "CN-NOV", "supplier_period": "112025"},
        {"section": "b2bcn", "doc_number": "CN-OCT2", "supplier_period": "102025"},
        {"section": "b2bcn", "doc_number": "CN-NONE", "supplier_period": None,
         "doc_date": dt.date(2024, 6, 1)},
    ])  # fmt: skip
    decisions = pl.DataFrame({"doc_key": ims["doc_key"], "action": ["pending"] * 4})
    rep = build_report(
        ims, _matches(ims, ["exact"] * 4), decisions, gstin=RECIPIENT, period="112025",
        as_of=dt.date(2025, 11, 1), near_deadline_days=400,
    )  # fmt: skip
    detail = rep.table("at_risk_documents")
    deadline = dict(zip(detail["doc_number"], detail["deadline"], strict=True))
    assert deadline == {
        "CN-OCT": dt.date(2025, 12, 20),
        "CN-OCT2": dt.date(2025, 12, 20),
        "CN-NOV": dt.date(2026, 1, 20),
        "CN-NONE": dt.date(2025, 11, 30),  # sec. 16(4): 30-11 after FY 2024-25
    }
    kind = dict(zip(detail["doc_number"], detail["deadline_kind"], strict=True))
    assert kind["CN-NONE"] == "ITC time limit, sec. 16(4)"
    assert kind["CN-NOV"] == "pending window (R3)"


def test_as_of_defaults_to_today(month) -> None:
    rep = build_report(month["ims"], month["matches"], None, gstin=RECIPIENT, period="112025")
    assert rep.as_of == dt.date.today()


def test_deadline_window_is_configurable() -> None:
    ims = ims_frame([{"section": "b2bcn", "doc_number": "CN-5"}])
    decisions = pl.DataFrame({"doc_key": ims["doc_key"], "action": ["pending"]})
    rep = build_report(
        ims, _matches(ims, ["exact"]), decisions, gstin=RECIPIENT, period="112025",
        near_deadline_days=60, as_of=dt.date(2025, 11, 30),
    )  # fmt: skip
    assert rep.table("at_risk_documents").height == 1


# ----------------------------------------------------------------------------- GSTR-3B table 4


def test_table4_nets_credit_notes_and_leaves_out_pending(report: Report) -> None:
    t4 = report.table("gstr3b_table4")
    net = _row(t4, "line", "4(A)(5) All other ITC (net, where positive)")
    assert (net["igst"], net["cgst"], net["sgst"], net["cess"]) == (
        D("450000.00"), D("8910.00"), D("8910.00"), D("0.00"),
    )  # fmt: skip
    assert net["total"] == D("467820.00")
    assert _row(t4, "line", "Not in Table 4: pending (carried forward)")["igst"] == D("900.00")
    assert _row(t4, "line", "Not in Table 4: rejected")["cgst"] == D("63.00")
    assert _row(t4, "line", "4(B)(2) Others (net negative, reported as reversal)")["total"] == 0


def test_table4_uses_the_itc_reduction_declaration_of_accepted_credit_notes() -> None:
    ims = ims_frame(
        [
            {"doc_number": "I-1", "cgst": "500", "sgst": "500"},
            {"section": "b2bcn", "doc_number": "CN-Y", "cgst": "300", "sgst": "300"},
            {"section": "b2bcn", "doc_number": "CN-N", "cgst": "200", "sgst": "200"},
        ]
    )
    decisions = pl.DataFrame(
        {
            "doc_key": ims["doc_key"],
            "action": ["accept", "accept", "accept"],
            "itc_reduction": [None, "Y", "N"],
            "declared_cgst": [None, "100", None],
            "declared_sgst": [None, "100", None],
        }
    ).with_columns(pl.col("declared_cgst", "declared_sgst").cast(MONEY))
    rep = build_report(
        ims, _matches(ims, ["exact"] * 3), decisions, gstin=RECIPIENT, period="112025"
    )
    t4 = rep.table("gstr3b_table4")
    less = _row(t4, "line", "Less: credit notes and downward amendments, as declared")
    assert less["cgst"] == D("-100.00")  # declared 100; CN-N declared nothing to reduce
    assert _row(t4, "line", "4(A)(5) All other ITC (net, where positive)")["cgst"] == D("400.00")


def test_table4_negative_net_goes_to_4b2() -> None:
    ims = ims_frame(
        [
            {"doc_number": "I-1", "igst": "100", "cgst": "0", "sgst": "0"},
            {"section": "b2bcn", "doc_number": "CN-1", "igst": "300", "cgst": "0", "sgst": "0"},
        ]
    )
    rep = build_report(ims, _matches(ims, ["exact"] * 2), None, gstin=RECIPIENT, period="112025")
    t4 = rep.table("gstr3b_table4")
    assert _row(t4, "line", "4(A)(5) All other ITC (net, where positive)")["igst"] == 0
    assert _row(t4, "line", "4(B)(2) Others (net negative, reported as reversal)")["igst"] == D(
        "200.00"
    )


# ----------------------------------------------------------------------------- other tables


def test_documents_by_section_and_action_follow_registry_order(report: Report) -> None:
    t = report.table("by_section_action")
    assert t.select("section", "action").rows() == [
        ("b2b", "accept"), ("b2b", "reject"), ("b2b", "pending"), ("b2bcn", "no_action"),
    ]  # fmt: skip
    assert _row(t, "section", "b2bcn")["section_title"] == "Credit notes"
    assert t["documents"].sum() == 5


def test_reconciliation_breakdown_lists_every_status(report: Report, month) -> None:
    rec = report.table("reconciliation")
    assert rec["match_status"].to_list()[:7] == [
        "exact", "within_tolerance", "probable", "mismatch", "pan_match",
        "missing_in_register", "missing_in_ims",
    ]  # fmt: skip
    assert _row(rec, "match_status", "exact")["documents"] == 3
    assert _row(rec, "match_status", "mismatch")["doc_value"] == D("2950000.00")
    books = _row(rec, "match_status", "missing_in_ims")
    assert books["documents"] == 1
    assert books["doc_value"] is None  # no register given


def test_missing_in_ims_is_valued_from_the_register(month) -> None:
    from imsdata.testing import register_frame

    register = register_frame([{"register_id": "9", "taxable_value": "1000", "cgst": "90",
                                "sgst": "90"}])  # fmt: skip
    rep = build_report(
        month["ims"], month["matches"], month["decisions"], gstin=RECIPIENT, period="112025",
        register=register,
    )  # fmt: skip
    books = _row(rep.table("reconciliation"), "match_status", "missing_in_ims")
    assert (books["doc_value"], books["itc"]) == (D("1180.00"), D("180.00"))


def test_documents_without_a_match_row_are_not_reconciled(month) -> None:
    rep = build_report(
        month["ims"], month["matches"].head(2), None, gstin=RECIPIENT, period="112025"
    )
    assert _row(rep.table("reconciliation"), "match_status", "not_reconciled")["documents"] == 3


def test_top_suppliers_by_mismatch_and_pending(report: Report) -> None:
    top = report.table("top_mismatch")
    assert top["supplier_gstin"].to_list() == [RATHI, ALPHA]
    assert top["mismatch_value"].to_list() == [D("1000.00"), D("180.00")]
    assert top["supplier_name"].to_list() == ["Rathi Steel", "Alpha Traders"]
    pend = report.table("top_pending")
    assert pend["supplier_gstin"].to_list() == [KAVERI]
    assert pend["itc"].to_list() == [D("900.00")]


def test_top_is_limited() -> None:
    from imsdata.testing import make_gstin

    ims = ims_frame([{"supplier_gstin": make_gstin("27", f"AAAPA{i:04d}A"), "doc_number": "X",
                      "cgst": str(100 + i), "sgst": "0"} for i in range(12)])  # fmt: skip
    rep = build_report(
        ims, _matches(ims, ["missing_in_register"] * 12), None, gstin=RECIPIENT,
        period="112025", top=3,
    )  # fmt: skip
    assert rep.table("top_mismatch")["mismatch_value"].to_list() == [
        D("111.00"), D("110.00"), D("109.00"),
    ]  # fmt: skip


def test_pending_ageing_buckets_edges() -> None:
    as_of = dt.date(2025, 11, 30)
    ages = [0, 30, 31, 60, 61, 90, 91, 400]
    ims = ims_frame([{"doc_number": f"P-{a}", "doc_date": as_of - dt.timedelta(days=a)}
                     for a in ages])  # fmt: skip
    decisions = pl.DataFrame({"doc_key": ims["doc_key"], "action": ["pending"] * len(ages)})
    rep = build_report(ims, _matches(ims, ["exact"] * 8), decisions, gstin=RECIPIENT,
                       period="112025", as_of=as_of)  # fmt: skip
    age = rep.table("pending_ageing")
    assert age["bucket"].to_list() == ["0-30 days", "31-60 days", "61-90 days", "90+ days"]
    assert age["documents"].to_list() == [2, 2, 2, 2]
    assert age["itc"].to_list() == [D("3600.00")] * 4


def test_changes_since_previous_download(report: Report) -> None:
    ch = report.table("changes")
    assert ch.rows() == [
        ("added", 1, D("126.00")),
        ("changed", 1, D("0.00")),
        ("removed", 1, D("-36.00")),
    ]
    detail = report.table("changes_detail")
    assert detail.select("change", "doc_number").rows() == [
        ("added", "A-9"), ("changed", "A-1"), ("removed", "GONE-1"),
    ]  # fmt: skip


def test_without_previous_there_is_no_changes_table(month) -> None:
    rep = build_report(month["ims"], month["matches"], None, gstin=RECIPIENT, period="112025")
    assert "changes" not in [t.key for t in rep.tables]
    assert any("No previous download" in n for n in rep.notes)


def test_empty_month_gives_zero_tables() -> None:
    ims = ims_frame([])
    rep = build_report(ims, complete(pl.DataFrame(), MATCH_COLUMNS), None, gstin=RECIPIENT,
                       period="112025")  # fmt: skip
    assert rep.headline["itc_available"] == 0
    assert rep.table("pending_ageing")["documents"].sum() == 0


# ----------------------------------------------------------------------------- bad input


def test_bad_period_and_gstin_are_usage_errors(month) -> None:
    with pytest.raises(UsageError, match="MMYYYY"):
        build_report(month["ims"], month["matches"], None, gstin=RECIPIENT, period="2025-11")
    with pytest.raises(UsageError, match="GSTIN"):
        build_report(month["ims"], month["matches"], None, gstin="24AAQCA", period="112025")


def test_duplicate_documents_and_missing_columns_are_input_errors(month) -> None:
    twice = pl.concat([month["ims"], month["ims"].head(1)])
    with pytest.raises(InputError, match="more than once"):
        build_report(twice, month["matches"], None, gstin=RECIPIENT, period="112025")
    with pytest.raises(InputError, match="match_status"):
        build_report(month["ims"], month["matches"].drop("match_status"), None,
                     gstin=RECIPIENT, period="112025")  # fmt: skip


def test_period_end() -> None:
    assert period_end("022024") == dt.date(2024, 2, 29)
    assert period_end("122025") == dt.date(2025, 12, 31)
