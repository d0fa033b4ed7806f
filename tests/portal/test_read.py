"""The reader: every envelope and section, exact money, flags, lineage, fast path == exact path."""

import datetime as dt
import json
from decimal import Decimal

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from portal_helpers import ENVELOPES, SAMPLE, wire, without, write_json

import imsdata.portal.read as reader
from imsdata.portal.read import read, read_payload
from imsdata.portal.sections import SECTIONS
from imsdata.schemas import IMS_COLUMNS, MONEY
from imsdata.testing import RECIPIENT

MONEY_WIRE = {"val": "doc_value", "txval": "taxable_value", "iamt": "igst", "camt": "cgst",
              "samt": "sgst", "cess": "cess"}  # fmt: skip
AWKWARD = ["0.1", "0.2", "10000000", "1e7", "99999.99", "0.01", "1234567.89", "0"]


def test_public_sample_loads_six_documents_with_its_two_known_warnings(parser):
    result = read([SAMPLE])
    assert result.documents.height == 6
    assert sorted(result.documents["section"]) == sorted(
        ["b2b", "b2ba", "b2bdn", "b2bdna", "b2bcn", "b2bcna"]
    )
    assert result.rejects.is_empty()
    reasons = set(result.warnings["reason"])
    assert any("check character" in r for r in reasons)
    assert "IGST charged together with CGST/SGST" in reasons
    dn = result.documents.filter(pl.col("section") == "b2bdn").row(0, named=True)
    assert dn["doc_value"] == Decimal("1000.10")
    assert dn["orig_doc_number"] is None
    cna = result.documents.filter(pl.col("section") == "b2bcna").row(0, named=True)
    assert (cna["orig_doc_number"], cna["orig_doc_date"]) == ("cn2", dt.date(2023, 2, 24))


def _awkward_map() -> tuple[dict, dict[str, dict[str, Decimal]]]:
    """Every section with awkward amounts (0.1, 0.2, 1e7...) as @text@ markers, and exact sums."""
    sections, sums = {}, {}
    for s_i, key in enumerate(SECTIONS):
        records, total = [], dict.fromkeys(MONEY_WIRE, Decimal(0))
        for i in range(len(AWKWARD)):
            amounts = {k: AWKWARD[(i + j + s_i) % len(AWKWARD)] for j, k in enumerate(MONEY_WIRE)}
            amounts["iamt"] = "0"  # intra-state: no IGST with CGST/SGST
            records.append(wire(key, number=f"N{i}", **{k: f"@{v}@" for k, v in amounts.items()}))
            for k, v in amounts.items():
                total[k] += Decimal(v)
        sections[key] = records
        sums[key] = total
    return sections, sums


def _render(obj: object) -> str:
    """Compact JSON with the @text@ markers turned into bare JSON numbers, exactly as written."""
    text = json.dumps(obj, separators=(",", ":"))
    for v in AWKWARD:
        text = text.replace(f'"@{v}@"', v)
    return text


@pytest.mark.parametrize("envelope", list(ENVELOPES))
def test_every_section_and_envelope_round_trips_with_exact_decimal_sums(tmp_path, parser, envelope):
    sections, sums = _awkward_map()
    wrap, recipient = ENVELOPES[envelope]
    path = tmp_path / "ims.json"
    path.write_text(_render(wrap(sections)), encoding="utf-8")
    assert "1e7" in path.read_text()
    if parser == "fast":  # the fast path must prove this file, not fall back
        assert reader._fast(str(path), path.read_bytes()) is not None

    result = read([path])
    assert result.rejects.is_empty()
    docs = result.documents
    assert docs.height == len(SECTIONS) * len(AWKWARD)
    for key, total in sums.items():
        part = docs.filter(pl.col("section") == key)
        assert part.height == len(AWKWARD)
        for wire_key, column in MONEY_WIRE.items():
            assert part.schema[column] == MONEY
            assert part[column].sum() == total[wire_key], (key, wire_key)
    assert docs["recipient_gstin"].unique().to_list() == [recipient]


def test_fast_path_reads_big_compact_file_and_agrees_with_exact_path(tmp_path, monkeypatch):
    records = [wire("b2b", number=f"INV-{i}", tradenm=f"Trader, {i}", remarks="a},{b]") for i in
               range(300)]  # fmt: skip
    records += [wire("b2bcn", number=f"CN-{i}", itcRedReq="Y", declCgst=1.5, declSgst=1.5) for i in
                range(50)]  # fmt: skip
    path = write_json(tmp_path / "big.json", {"b2b": records[:300], "b2bcn": records[300:]})
    data = path.read_bytes()
    monkeypatch.setattr(reader, "FAST_PATH_MIN_BYTES", 10**15)
    exact = read([path])
    monkeypatch.setattr(reader, "FAST_PATH_MIN_BYTES", 0)
    fast = read([path])
    assert exact.documents.height == 350
    for name in ("documents", "rejects", "warnings", "duplicates"):
        assert_frame_equal(getattr(fast, name), getattr(exact, name))
    # the bracket inside the remarks defeats the byte scan: the fast path must decline, not guess
    assert reader._fast("big.json", data) is None
    clean = write_json(tmp_path / "clean.json", {"b2b": [wire(number=f"I{i}") for i in range(5)]})
    assert reader._fast("clean.json", clean.read_bytes()) is not None


@pytest.mark.parametrize(
    "change",
    [
        {"txval": "@10000.005@"},  # a third decimal
        {"newKey": 1},  # an unknown key
        {"ispendactblocked": True},  # a boolean where the portal sends Y/N
        {"val": "@123456789012345678.5@"},  # beyond Decimal(18,2)
    ],
)
def test_records_arrow_refuses_are_decided_by_the_exact_path_alone(tmp_path, monkeypatch, change):
    rec = wire(number="X", **change)
    text = json.dumps({"b2b": [wire(number="A"), rec]}, separators=(",", ":"))
    text = text.replace('"@', "").replace('@"', "")
    path = tmp_path / "x.json"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setattr(reader, "FAST_PATH_MIN_BYTES", 10**15)
    exact = read([path])
    monkeypatch.setattr(reader, "FAST_PATH_MIN_BYTES", 0)
    fast = read([path])
    for name in ("documents", "rejects", "warnings", "duplicates"):
        assert_frame_equal(getattr(fast, name), getattr(exact, name))
    assert fast.documents.height + fast.rejects["index"].n_unique() == 2  # nothing lost
    assert reader._fast("x.json", text.encode()) is not None  # read, not declined


def test_record_fields_map_to_canonical_columns(parser, tmp_path):
    cn = wire(
        "b2bcn", number="CN-9", srcfilstatus="SAVED", isItcRedReqBlocked="N", itc_red_req="Y",
        decl_igst=0, decl_cgst=45.5, decl_sgst=45.5, decl_cess=0, remarks="partly availed",
        isRemarksBlocked="Y", tradenm="Shree Traders", prev_status="A", action="R",
        ispendactblocked=None, ispendactnallwd="N", oddKey={"x": [1, 2.50]},
    )  # fmt: skip
    path = write_json(tmp_path / "cn.json", {"b2bcn": [cn]})
    path.write_text(path.read_text().replace("2.5]", "2.50]"), encoding="utf-8")
    row = read([path]).documents.row(0, named=True)
    assert row["doc_type"] == "CN"
    assert row["supplier_filing_status"] == "SAVED"
    assert row["supplier_filed"] is False
    assert row["itc_reduction"] == "Y"
    assert row["declared_cgst"] == Decimal("45.50")
    assert row["remarks_blocked"] is True
    assert row["itc_reduction_blocked"] is False
    assert row["pending_blocked"] is True  # ispendactnallwd=N: pending NOT allowed
    assert row["portal_action"] == "A"  # prev_status is the portal's state, action the wish
    assert row["supplier_name"] == "Shree Traders"
    assert row["supplier_pan"] == "AAPFU0939F"
    assert row["doc_key"] == "b2bcn|27AAPFU0939F1ZV|CN-9|2025-11-05"
    assert json.loads(row["extra_json"]) == {"action": "R", "oddKey": {"x": [1, 2.5]}}
    assert row["extra_json"] == '{"action":"R","oddKey":{"x":[1,2.50]}}'
    assert row["record_hash"] == "hash-b2bcn-CN-9"
    assert (row["source_file"], row["source_index"]) == (str(path), 0)


@pytest.mark.parametrize(
    ("flag", "expected"),
    [("Y", True), ("N", False), ("true", True), ("false", False), ("1", True), ("0", False),
     (True, True), (False, False), (1, True), (0, False)],
    ids=["Y", "N", "true", "false", "1", "0", "json-true", "json-false", "json-1", "json-0"],
)  # fmt: skip
def test_flags_in_every_spelling_become_booleans(flag, expected):
    result = read_payload({"b2b": [wire(isRemarksBlocked=flag, itcRedReqBlocked=flag)]})
    row = result.documents.row(0, named=True)
    assert (row["remarks_blocked"], row["itc_reduction_blocked"]) == (expected, expected)


@pytest.mark.parametrize(
    ("status", "filed"),
    [("Filed", True), ("F", True), ("FILED", True), ("Not Filed", False), ("SAVED", False)],
)
def test_supplier_filing_status_maps_to_boolean_and_keeps_raw(status, filed):
    row = read_payload({"b2b": [wire(srcfilstatus=status)]}).documents.row(0, named=True)
    assert (row["supplier_filed"], row["supplier_filing_status"]) == (filed, status)


def test_record_hash_without_portal_hash_is_sha256_of_content():
    a = read_payload({"b2b": [without(wire(), "hash")]}).documents
    b = read_payload({"b2b": [without(wire(), "hash")]}, "other.json").documents
    c = read_payload({"b2b": [without(wire(txval=10000.01, val=11800.01), "hash")]}).documents
    assert len(a["record_hash"][0]) == 64
    assert a["record_hash"][0] == b["record_hash"][0]  # same content, other file: same hash
    assert a["record_hash"][0] != c["record_hash"][0]
    assert a["hash"][0] is None


def test_documents_have_the_contract_and_are_sorted(tmp_path, parser):
    recs = [wire(number="B", stin="29AABCT1332L2ZD"), wire(number="A", idt="06-11-2025"),
            wire(number="C")]  # fmt: skip
    path = write_json(tmp_path / "x.json", {"b2bcn": [wire("b2bcn")], "b2b": recs})
    docs = read([path]).documents
    assert docs.schema == pl.Schema(IMS_COLUMNS)
    assert docs.select("section", "doc_number").rows() == [
        ("b2b", "C"), ("b2b", "A"), ("b2b", "B"), ("b2bcn", "INV-1"),
    ]  # fmt: skip


def test_unknown_top_level_section_is_a_warning_not_silently_dropped(tmp_path, parser):
    path = write_json(tmp_path / "x.json", {"b2b": [wire()], "isd": [{"docnum": 1}, {"docnum": 2}]})
    result = read([path])
    assert result.documents.height == 1
    warning = result.warnings.filter(pl.col("key") == "isd").row(0, named=True)
    assert warning["value"] == "2 records"
    assert "unknown top-level key" in warning["reason"]


def test_recipient_from_bundle_gstin(tmp_path, parser):
    path = write_json(tmp_path / "x.json", {"gstin": RECIPIENT, "rtnprd": "112025",
                                            "b2b": [wire()]})  # fmt: skip
    assert read([path]).documents["recipient_gstin"].to_list() == [RECIPIENT]


def test_empty_sections_and_null_section_read_as_no_documents(tmp_path, parser):
    path = write_json(tmp_path / "x.json", {"b2b": [], "b2bcn": None})
    result = read([path])
    assert result.documents.is_empty()
    assert result.documents.schema == pl.Schema(IMS_COLUMNS)
    assert result.rejects.is_empty()


def test_pretty_printed_file_reads_like_compact(tmp_path, parser):
    obj = {"b2b": [wire(number=f"I{i}") for i in range(4)], "ecom": [wire("ecom")]}
    compact = read([write_json(tmp_path / "a.json", obj)]).documents
    pretty = read([write_json(tmp_path / "b.json", obj, compact=False)]).documents
    assert_frame_equal(compact.drop("source_file"), pretty.drop("source_file"))


def test_non_ascii_names_take_the_fast_path_and_read_exactly(tmp_path, monkeypatch):
    records = [wire(number=f"I{i}", tradenm="श्री गणेश ट्रेडर्स", remarks="₹ 10 कम") for i in range(3)]
    path = tmp_path / "utf8.json"
    path.write_text(json.dumps({"b2b": records}, ensure_ascii=False, separators=(",", ":")),
                    encoding="utf-8")  # fmt: skip
    assert reader._fast(str(path), path.read_bytes()) is not None
    monkeypatch.setattr(reader, "FAST_PATH_MIN_BYTES", 0)
    fast = read([path]).documents
    monkeypatch.setattr(reader, "FAST_PATH_MIN_BYTES", 10**15)
    assert_frame_equal(fast, read([path]).documents)
    assert fast["supplier_name"].to_list() == ["श्री गणेश ट्रेडर्स"] * 3


def _many_records() -> dict[str, list[dict]]:
    b2b = [wire("b2b", number=f"INV-{i}", tradenm=f"Trader {i % 7}") for i in range(120)]
    b2b[40] = wire("b2b", number="INV-40", txval="@10000.005@")  # rejected by the exact path
    b2b[80] = dict(b2b[79])  # an exact copy inside one file
    notes = [wire("b2bcn", number=f"CN-{i}", itcRedReq="Y", declCgst=1.5) for i in range(30)]
    return {"b2b": b2b, "b2bcn": notes, "B2B": [wire("b2b", number="LATE")]}


def test_fast_path_cut_into_many_pieces_reads_what_one_piece_reads(tmp_path, monkeypatch):
    text = json.dumps(_many_records(), separators=(",", ":"))
    clean = text.replace('"@10000.005@"', "10000.00")
    path = tmp_path / "many.json"
    path.write_text(clean, encoding="utf-8")
    monkeypatch.setattr(reader, "FAST_PATH_MIN_BYTES", 0)
    whole = read([path])
    monkeypatch.setattr(reader, "_PIECE", 300)  # a piece is one or two records
    assert len(reader._pieces(clean.encode(), 0, len(clean))) > 60
    cut = read([path])
    assert reader._fast(str(path), path.read_bytes()) is not None
    for name in ("documents", "rejects", "warnings", "duplicates"):
        assert_frame_equal(getattr(cut, name), getattr(whole, name))
    assert cut.documents.height == 150
    assert cut.duplicates["index"].to_list() == [80]
    late = cut.documents.filter(pl.col("doc_number") == "LATE")
    assert late["source_index"].to_list() == [120]  # B2B continues b2b's numbering


def test_fast_path_with_many_pieces_reads_a_third_decimal_or_a_separator_inside_text_exactly(
    tmp_path, monkeypatch
):
    text = json.dumps(_many_records(), separators=(",", ":")).replace('"@', "").replace('@"', "")
    for variant in (
        text,
        text.replace("10000.005", "10000.00").replace("Trader 3", "Trader },{ 3"),
    ):
        path = tmp_path / "x.json"
        path.write_text(variant, encoding="utf-8")
        monkeypatch.setattr(reader, "FAST_PATH_MIN_BYTES", 10**15)
        exact = read([path])
        monkeypatch.setattr(reader, "FAST_PATH_MIN_BYTES", 0)
        monkeypatch.setattr(reader, "_PIECE", 300)
        monkeypatch.setattr(reader, "_SUB_PIECE", 300)
        fast = read([path])
        for name in ("documents", "rejects", "warnings", "duplicates"):
            assert_frame_equal(getattr(fast, name), getattr(exact, name))
        assert fast.documents.height + fast.rejects["index"].n_unique() == 150
    assert "Trader },{ 3" in fast.documents["supplier_name"].to_list()  # text kept verbatim


@pytest.mark.parametrize("clean", [True, False], ids=["clean", "with_reject"])
def test_sections_staged_in_slices_read_as_one_piece(tmp_path, monkeypatch, parser, clean):
    text = json.dumps(_many_records(), separators=(",", ":"))
    text = text.replace('"@10000.005@"', "10000.00" if clean else "10000.005")
    path = tmp_path / "many.json"
    path.write_text(text, encoding="utf-8")
    whole = read([path])
    monkeypatch.setattr(reader, "_STAGE_ROWS", 7)
    sliced = read([path])
    for name in ("documents", "rejects", "warnings", "duplicates"):
        assert_frame_equal(getattr(sliced, name), getattr(whole, name))
    assert sliced.rejects["index"].to_list() == ([] if clean else [40])
    assert sliced.duplicates["index"].to_list() == [80]
