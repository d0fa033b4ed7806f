"""Downloads as users have them: one line, one record per line, pretty-printed, CRLF.

Every layout takes the columnar (Arrow) path and reads exactly what the exact json.loads path
reads: the same documents, rejects, warnings and duplicates, with bad records planted in a
synthetic month; only the few records around a bad one go through the per-record exact path.
"""

import json
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import imsdata.portal.read as reader
from imsdata.portal.read import read
from imsdata.synth import generate

BAD = "@BAD@"  # marks where the planted bad records' raw JSON text goes


@pytest.fixture(scope="module")
def month() -> dict[str, list]:
    """A synthetic month (about 1,900 records) with bad records planted in its b2b section."""
    download = generate(2_000, seed=17).download
    b2b = download["b2b"]
    good = {k: v for k, v in b2b[10].items() if k not in ("inum", "hash")}
    planted = {
        20: {**good, "txval": "@10000.005@"},  # a third decimal: rejected, not rounded
        60: {**good, "val": "@0.125@"},  # a third decimal on the document value
        100: {**good, "newKey": 1},  # an unknown key: kept in extra_json
        140: {**good, "ispendactblocked": True, "inum": "BOOL-1"},  # JSON true for Y: loaded
        180: {**good, "inum": ["A", "B"]},  # a nested value
        220: "not a record",  # not an object
        260: {**good, "tradenm": "Traders },{ and ]"},  # separators inside text
        300: {**good, "val": "@12345678901234.56@", "inum": "BIG-1"},  # big but exact
        340: {**good, "txval": "@1e2@", "inum": "EXP-1"},  # an exponent: 100.00
        380: {**good, "camt": -5.0, "inum": "NEG-1"},  # a negative amount
        420: {k: v for k, v in good.items() if k != "idt"},  # a required key missing
        460: {**good, "val": "@123456789012345678.5@"},  # beyond Decimal(18,2)
        500: dict(b2b[499]),  # an exact copy of the record before it
    }
    for i, rec in planted.items():  # each its own document (not a copy of record 10)
        own = {"inum": f"P-{i}", "hash": f"h-{i}"} if i != 500 and isinstance(rec, dict) else {}
        b2b[i] = {**own, **rec} if own else rec
    return download


def _numbers(text: str) -> str:
    """`"@1.005@"` markers become bare JSON numbers, written exactly as in the marker."""
    return text.replace('"@', "").replace('@"', "")


def _layouts(download: dict[str, list]) -> dict[str, bytes]:
    """The same download in every layout users have."""
    one_line = _numbers(json.dumps(download, ensure_ascii=False, separators=(",", ":")))
    per_line = "{\n" + ",\n".join(
        json.dumps(key) + ": [\n" + ",\n".join(json.dumps(r, ensure_ascii=False) for r in recs)
        + "\n]"
        for key, recs in download.items()
    ) + "\n}\n"  # fmt: skip
    pretty = json.dumps(download, ensure_ascii=False, indent=2)
    texts = {"one_line": one_line, "per_line": _numbers(per_line), "pretty": _numbers(pretty)}
    texts["per_line_crlf"] = texts["per_line"].replace("\n", "\r\n")
    texts["pretty_crlf"] = texts["pretty"].replace("\n", "\r\n")
    texts["tabs"] = _numbers(json.dumps(download, ensure_ascii=False, indent="\t"))
    return {name: text.encode() for name, text in texts.items()}


def _read(path: Path, monkeypatch: pytest.MonkeyPatch, *, fast: bool) -> reader.IngestResult:
    monkeypatch.setattr(reader, "FAST_PATH_MIN_BYTES", 0 if fast else 10**15)
    return read([path])


def test_every_layout_reads_the_same_frames_and_rejects_as_the_exact_path(
    month, tmp_path, monkeypatch
):
    layouts = _layouts(month)
    path = tmp_path / "ims.json"
    path.write_bytes(layouts["one_line"])
    exact = _read(path, monkeypatch, fast=False)
    monkeypatch.setattr(reader, "_PIECE", 20_000)  # many pieces, some cut near a bad record
    monkeypatch.setattr(reader, "_SUB_PIECE", 2_000)
    for name, data in layouts.items():
        path.write_bytes(data)
        fast = _read(path, monkeypatch, fast=True)
        for part in ("documents", "rejects", "warnings", "duplicates"):
            try:
                assert_frame_equal(getattr(fast, part), getattr(exact, part))
            except AssertionError as exc:
                raise AssertionError(f"{name} layout, {part}: {exc}") from None
    records = sum(len(v) for v in month.values())
    docs = exact.documents
    assert docs.height + exact.rejects["index"].n_unique() + exact.duplicates.height == records
    rejected = set(exact.rejects.filter(pl.col("section") == "b2b")["index"].to_list())
    assert rejected == {20, 60, 180, 220, 380, 420, 460}
    assert exact.duplicates["index"].to_list() == [500]
    money = docs.filter(pl.col("doc_number").is_in(["BIG-1", "EXP-1"])).sort("doc_number")
    assert [str(v) for v in money["doc_value"]] == [
        "12345678901234.56",
        str(month["b2b"][340]["val"]),
    ]
    assert str(money["taxable_value"][1]) == "100.00"
    assert "Traders },{ and ]" in docs["supplier_name"].to_list()
    assert docs.filter(pl.col("extra_json").is_not_null())["extra_json"].to_list() == [
        '{"newKey":1}'
    ]
    assert docs.filter(pl.col("doc_number") == "BOOL-1")["pending_blocked"].to_list() == [True]
    reasons = set(exact.rejects["reason"])
    assert "amount has more than 2 decimals" in reasons


@pytest.mark.parametrize("layout", ["one_line", "per_line", "pretty", "pretty_crlf"])
def test_every_layout_takes_the_columnar_path_and_only_bad_spans_go_record_by_record(
    month, layout, monkeypatch
):
    data = _layouts(month)[layout]
    monkeypatch.setattr(reader, "_SUB_PIECE", 2_000)  # about five records a span
    parsed = reader._fast("ims.json", data)
    assert parsed is not None  # read by the fast path, not declined to the exact path
    _, frames = parsed
    rows = sum(f.height for _, f in frames)
    # frames from the exact path carry amounts as text; Arrow's carry exact decimals
    exact_rows = sum(f.height for _, f in frames if f.schema.get("txval") == pl.String)
    assert rows > 1_800
    assert 0 < exact_rows <= 13 * 10  # the planted records' spans only, never the file


def test_a_syntax_error_inside_a_pretty_file_still_names_the_file_and_line(tmp_path, monkeypatch):
    text = json.dumps({"b2b": [{"inum": str(i), "val": 1.0} for i in range(50)]}, indent=2)
    path = tmp_path / "broken.json"
    path.write_text(text.replace('"inum": "7",', '"inum": "7",,'), encoding="utf-8")
    monkeypatch.setattr(reader, "FAST_PATH_MIN_BYTES", 0)
    with pytest.raises(reader.InputError, match=r"broken\.json: not valid JSON .* line \d+"):
        read([path])


def test_a_new_key_in_every_record_is_kept_exactly_in_every_layout(month, tmp_path, monkeypatch):
    # Arrow refuses every record (unknown key): the pieces go to the exact path after a few tries
    download = {k: [{**r, "newKey": 1.10} if isinstance(r, dict) else r for r in v]
                for k, v in month.items()}  # fmt: skip
    layouts = _layouts(download)
    path = tmp_path / "ims.json"
    path.write_bytes(layouts["one_line"])
    exact = _read(path, monkeypatch, fast=False)
    monkeypatch.setattr(reader, "_PIECE", 20_000)
    monkeypatch.setattr(reader, "_SUB_PIECE", 2_000)
    for layout in ("one_line", "pretty_crlf"):
        path.write_bytes(layouts[layout])
        fast = _read(path, monkeypatch, fast=True)
        for part in ("documents", "rejects", "warnings", "duplicates"):
            assert_frame_equal(getattr(fast, part), getattr(exact, part))
    assert set(exact.documents["extra_json"]) == {'{"newKey":1.1}'}


def test_keys_first_seen_late_and_separators_written_differently_stay_on_the_columnar_path(
    tmp_path, monkeypatch
):
    # the first pieces carry none of these keys, later records do (a remark, the other spelling
    # of a flag, a key written with a null); the separators change within a piece
    download = generate(2_000, seed=23).download
    b2b = download["b2b"]
    for i in range(900, len(b2b), 97):
        b2b[i] = {**b2b[i], "remarks": f"late {i}", "itcRedReq": "y", "ispendactnallwd": None}
    text = _layouts(download)["per_line"].decode()
    records = text.split("},\n{")
    mixed = records[0] + "".join(
        ("},{", "} ,\r\n  {", "},\n{")[i % 3] + rec for i, rec in enumerate(records[1:])
    )
    path = tmp_path / "ims.json"
    path.write_text(mixed, encoding="utf-8")
    exact = _read(path, monkeypatch, fast=False)
    options = reader.ReaderOptions(fast_path_min_bytes=0, piece_bytes=40_000)
    fast = read([path], options=options)
    for part in ("documents", "rejects", "warnings", "duplicates"):
        assert_frame_equal(getattr(fast, part), getattr(exact, part))
    remarks = exact.documents.filter(pl.col("remarks").str.starts_with("late"))
    assert remarks.height == len(range(900, len(b2b), 97))
    assert remarks["itc_reduction"].unique().to_list() == ["Y"]
    parsed = reader._fast("ims.json", mixed.encode(), options)
    assert parsed is not None
    # every record proven by Arrow: none went through the per-record path
    assert all(f.schema.get("txval") != pl.String for _, f in parsed[1])
