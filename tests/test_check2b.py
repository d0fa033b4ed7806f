"""Closing the loop after GSTR-2B (issue 13): decisions -> a synthetic GSTR-2B built from them
with a few planted differences -> check-2b finds exactly the planted ones, and says what to do."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from imsdata import synth
from imsdata.check2b import DIFFERENCES, check_2b
from imsdata.cli import app
from imsdata.portal.read import read, read_payload
from imsdata.portal.returns import read_return
from imsdata.workspace import Workspace

#: IMS section -> (2B section, document list key, note type).
_2B = {
    "b2b": ("b2b", "inv", None), "b2ba": ("b2ba", "inv", None),
    "ecom": ("ecom", "inv", None), "ecoma": ("ecoma", "inv", None),
    "b2bcn": ("cdnr", "nt", "C"), "b2bdn": ("cdnr", "nt", "D"),
    "b2bcna": ("cdnra", "nt", "C"), "b2bdna": ("cdnra", "nt", "D"),
}  # fmt: skip


def _num(value: Decimal | None) -> float:
    return float(value or 0)


def gstr2b_json(docs: pl.DataFrame, *, gstin: str, period: str, itc_off: set[str] = frozenset(),
                amounts: dict[str, dict[str, Decimal]] | None = None) -> dict:  # fmt: skip
    """A portal-shaped GSTR-2B holding `docs` (itcavl N for `itc_off`; `amounts` overrides)."""
    amounts = amounts or {}
    sections: dict[str, dict[str, list]] = {}
    for d in docs.sort("doc_key").iter_rows(named=True):
        name, inner, note = _2B[d["section"]]
        heads = {h: d[h] for h in ("igst", "cgst", "sgst", "cess")} | amounts.get(d["doc_key"], {})
        doc = {
            "ntnum" if note else "inum": d["doc_number"],
            "dt": d["doc_date"].strftime("%d-%m-%Y"),
            "val": _num(d["doc_value"]), "pos": d["pos"], "rev": "N",
            "itcavl": "N" if d["doc_key"] in itc_off else "Y",
            "rsn": "P" if d["doc_key"] in itc_off else "",
            "items": [{"num": 1, "txval": _num(d["taxable_value"]),
                       **{h: _num(v) for h, v in heads.items()}}],
        }  # fmt: skip
        if note:
            doc["typ"] = note
        if d["is_amendment"]:
            doc["ontnum" if note else "oinum"] = d["orig_doc_number"]
            doc["ontdt" if note else "oidt"] = d["orig_doc_date"].strftime("%d-%m-%Y")
        suppliers = sections.setdefault(name, {})
        supplier = suppliers.setdefault(
            d["supplier_gstin"],
            {"ctin": d["supplier_gstin"], "trdnm": d["supplier_name"], "supprd": period, inner: []},
        )
        supplier[inner].append(doc)
    docdata = {k: list(v.values()) for k, v in sections.items()}
    return {"chksum": "x", "data": {"gstin": gstin, "rtnprd": period, "gendt": "14-11-2025",
                                    "itcsumm": {}, "docdata": docdata}}  # fmt: skip


@pytest.fixture(scope="module")
def month():
    """A synthetic month's IMS documents and decisions: accept, reject, pending, reductions."""
    data = synth.generate(240, seed=21)
    ims = read_payload(data.download).documents.with_columns(supplier_period=pl.lit(data.period))
    keys = ims["doc_key"].to_list()
    actions = ["accept", "no_action", "reject", "pending"]
    decisions = pl.DataFrame(
        {"doc_key": keys, "action": [actions[i % 4] for i in range(len(keys))]}
    )
    cn = ims.filter(pl.col("section") == "b2bcn")["doc_key"].head(2).to_list()
    decisions = decisions.with_columns(
        action=pl.when(pl.col("doc_key").is_in(cn)).then(pl.lit("accept")).otherwise("action"),
        itc_reduction=pl.when(pl.col("doc_key").is_in(cn)).then(pl.lit("Y")),
    )
    halves = ims.select(
        "doc_key", *(pl.col(h).cast(pl.Float64).truediv(2).round(2).cast(pl.Decimal(18, 2))
                     .alias(f"declared_{h}") for h in ("igst", "cgst", "sgst", "cess"))
    )  # fmt: skip
    decisions = decisions.join(halves, on="doc_key", how="left").with_columns(
        pl.when(pl.col("itc_reduction") == "Y").then(pl.col(f"declared_{h}"))
        for h in ("igst", "cgst", "sgst", "cess")
    )
    return data, ims, decisions, cn


def _planted_2b(month, tmp_path: Path) -> tuple[Path, set[tuple[str, str]]]:
    data, ims, decisions, cn = month
    joined = ims.join(decisions, on="doc_key")
    expected = joined.filter(pl.col("action").is_in(["accept", "no_action"]))
    accepted = expected.filter(pl.col("itc_reduction").is_null())["doc_key"].to_list()
    rejected = joined.filter(pl.col("action") == "reject")["doc_key"][0]
    pending = joined.filter(pl.col("action") == "pending")["doc_key"][0]
    missing, itc_off = accepted[0], accepted[1]
    in_2b = pl.concat(
        [
            expected.filter(pl.col("doc_key") != missing).select(ims.columns),
            ims.filter(pl.col("doc_key").is_in([rejected, pending])),
        ]
    )
    declared = {
        key: {h: row[f"declared_{h}"] for h in ("igst", "cgst", "sgst", "cess")}
        for key in cn
        for row in decisions.filter(pl.col("doc_key") == key).iter_rows(named=True)
    }
    declared[cn[1]] = {}  # planted: the second reduction not applied (2B shows full amounts)
    stranger = (
        ims.filter(pl.col("section") == "b2b")
        .head(1)
        .with_columns(doc_number=pl.lit("ZZ-9999"), doc_key=pl.lit("b2b|stranger"))
    )
    payload = gstr2b_json(
        pl.concat([in_2b, stranger]), gstin=data.recipient_gstin, period=data.period,
        itc_off={itc_off}, amounts=declared,
    )  # fmt: skip
    path = tmp_path / "GSTR2B.json"
    path.write_text(json.dumps(payload))
    stranger_key = f"b2b|{stranger['supplier_gstin'][0]}|ZZ-9999|" + str(stranger["doc_date"][0])
    planted = {
        ("accepted_not_in_2b", missing),
        ("itc_not_available", itc_off),
        ("rejected_in_2b", rejected),
        ("pending_in_2b", pending),
        ("itc_reduction_not_applied", cn[1]),
        ("not_in_ims", stranger_key),
    }
    return path, planted


def test_check_2b_finds_exactly_the_planted_differences(month, tmp_path):
    path, planted = _planted_2b(month, tmp_path)
    _, ims, decisions, _ = month
    got = read_return(str(path), path.read_bytes(), "gstr2b")
    found = check_2b(got.documents, ims, decisions, period=got.period)
    assert set(found.select("difference", "doc_key").rows()) == planted
    assert found["to_do"].to_list() == [DIFFERENCES[d] for d in found["difference"]]
    reduction = found.filter(pl.col("difference") == "itc_reduction_not_applied")
    assert reduction["detail"][0].startswith("ITC reduction declared (IGST")


def test_a_2b_matching_the_decisions_has_no_difference(month, tmp_path):
    data, ims, decisions, cn = month
    joined = ims.join(decisions, on="doc_key")
    expected = joined.filter(pl.col("action").is_in(["accept", "no_action"])).select(ims.columns)
    declared = {
        r["doc_key"]: {h: r[f"declared_{h}"] for h in ("igst", "cgst", "sgst", "cess")}
        for r in decisions.filter(pl.col("doc_key").is_in(cn)).iter_rows(named=True)
    }
    payload = gstr2b_json(expected, gstin=data.recipient_gstin, period=data.period,
                          amounts=declared)  # fmt: skip
    path = tmp_path / "ok.json"
    path.write_text(json.dumps(payload))
    assert set(read(path).documents["source"]) == {"gstr2b"}
    got = read_return(str(path), path.read_bytes(), "gstr2b")
    assert check_2b(got.documents, ims, decisions, period=got.period).is_empty()


def test_documents_of_another_period_are_not_expected_in_this_2b(month, tmp_path):
    data, ims, decisions, _ = month
    other = ims.with_columns(supplier_period=pl.lit("092025"))
    payload = gstr2b_json(ims.head(0), gstin=data.recipient_gstin, period=data.period)
    path = tmp_path / "empty.json"
    path.write_text(json.dumps(payload))
    got = read_return(str(path), path.read_bytes(), "gstr2b")
    assert check_2b(got.documents, other, decisions, period=got.period).is_empty()


def test_check_2b_command_lists_differences_from_the_workspace_and_exits_1(month, tmp_path):
    path, planted = _planted_2b(month, tmp_path)
    _, ims, decisions, _ = month
    ws_path = tmp_path / "ws.duckdb"
    with Workspace(ws_path) as ws:
        ws.import_ims(ims, source_hash="synth", label="ims")
        ws.append_decisions(decisions, source="manual")
    out = tmp_path / "diff.csv"
    result = CliRunner().invoke(
        app, ["check-2b", str(path), "--workspace", str(ws_path), "--out", str(out)]
    )
    assert result.exit_code == 1, result.output
    assert "differences: 6" in result.output
    written = pl.read_csv(out)
    assert set(written.select("difference", "doc_key").rows()) == planted
