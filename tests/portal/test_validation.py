"""Validation: errors reject a whole record (with file, section, index, key, value, reason),
warnings never drop one, and every input record ends in documents, rejects or duplicates."""

from decimal import Decimal

import polars as pl
import pytest
from portal_helpers import wire, without, write_json

from imsdata.portal.read import read, read_payload
from imsdata.schemas import IMS_COLUMNS
from imsdata.schemas.ims import ISSUE_COLUMNS, validate_ims, validate_rows
from imsdata.testing import ims_frame, make_gstin


def _one_reject(result):
    assert result.documents.height == 1, "the good record must still load"
    assert result.rejects.height == 1, result.rejects
    return result.rejects.row(0, named=True)


def _payload_text(tmp_path, records, raw_values):
    """A b2b file whose @markers@ become raw JSON (bare numbers the json module cannot write)."""
    path = write_json(tmp_path / "in.json", {"b2b": records})
    text = path.read_text()
    for marker, raw in raw_values.items():
        text = text.replace(f'"@{marker}@"', raw)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("change", "key", "value", "reason"),
    [
        ({"idt": "31-02-2025"}, "idt", "31-02-2025", "not a real date (dd-mm-yyyy)"),
        ({"idt": "2025-11-05"}, "idt", "2025-11-05", "not a real date (dd-mm-yyyy)"),
        ({"action": "X"}, "action", "X", "action code must be one of N/A/R/P"),
        ({"pos": "7"}, "pos", "7", "place of supply must be a two-digit state code"),
        ({"stin": "27AAPFU0939F1Z"}, "stin", "27AAPFU0939F1Z", "supplier GSTIN is not a valid"),
        ({"itcRedReq": "maybe"}, "itcRedReq", "MAYBE", "ITC-reduction declaration must be Y or N"),
        ({"ispendactblocked": "perhaps"}, "ispendactblocked", "perhaps", "flag must be"),
        ({"txval": -100.0}, "txval", "-100", "amount is negative"),
        ({"camt": "abc"}, "camt", "abc", "amount is not a number"),
        ({"inum": None}, "inum", None, "required key missing"),
        ({"pos": None}, "pos", None, "required key missing"),
    ],
)
def test_record_with_an_error_is_rejected_whole_with_its_value(
    tmp_path, parser, change, key, value, reason
):
    records = [wire(number="GOOD"), wire(number="BAD", **change)]
    path = write_json(tmp_path / "in.json", {"b2b": records})
    row = _one_reject(read([path]))
    assert (row["file"], row["section"], row["index"], row["key"]) == (str(path), "b2b", 1, key)
    if key == "txval":  # the amount as read: "-100.0" (exact path) or "-100.00" (fast path)
        assert Decimal(row["value"]) == Decimal(value)
    else:
        assert row["value"] == value
    assert row["reason"].startswith(reason)


def test_more_than_two_decimals_is_an_error_but_trailing_zeros_are_not(tmp_path, parser):
    records = [wire(number="A", txval="@a@"), wire(number="B", txval="@b@", val="@c@")]
    path = _payload_text(tmp_path, records, {"a": "10000.005", "b": "10000.000", "c": "11800.10"})
    result = read([path])
    row = _one_reject(result)
    assert (row["index"], row["key"], row["value"]) == (0, "txval", "10000.005")
    assert row["reason"] == "amount has more than 2 decimals"
    assert result.documents["taxable_value"].to_list() == [Decimal("10000.00")]


def test_missing_original_document_rejects_an_amendment_only(parser, tmp_path):
    path = write_json(
        tmp_path / "in.json",
        {"b2b": [wire()], "b2ba": [without(wire("b2ba"), "oidt")]},
    )
    row = _one_reject(read([path]))
    assert (row["section"], row["key"], row["reason"]) == ("b2ba", "oidt", "required key missing")


def test_two_errors_give_two_reject_rows_for_one_record(tmp_path):
    path = write_json(tmp_path / "in.json", {"b2b": [wire(idt="30-02-2025", pos="ABC")]})
    result = read([path])
    assert result.documents.is_empty()
    assert result.rejects.select("key").to_series().to_list() == ["idt", "pos"]


def test_non_object_and_nested_records_are_rejected_not_dropped(tmp_path, parser):
    records = [wire(), ["not", "a", "record"], wire(number="N", pos={"code": "27"})]
    path = write_json(tmp_path / "in.json", {"b2b": records})
    result = read([path])
    assert result.documents.height == 1
    assert result.rejects.select("index", "key").rows() == [(1, None), (2, "pos")]
    assert result.rejects["reason"].to_list() == ["record is a list, expected an object",
                                                  "expected a single value"]  # fmt: skip


@pytest.mark.parametrize(
    ("change", "key", "reason"),
    [
        ({"stin": "27AAPFU0939F1ZW"}, "stin", "supplier GSTIN check character is wrong"),
        ({"pos": "99"}, "pos", "place of supply is not a known state code"),
        ({"iamt": 100.0}, "iamt", "IGST charged together with CGST/SGST"),
        ({"samt": 800.0, "val": 11700.0}, "camt", "CGST differs from SGST"),
        ({"val": 20000.0}, "val", "document value far from taxable value + taxes"),
        ({"srcfilstatus": "Pending"}, "srcfilstatus", "unknown supplier filing status"),
    ],
)
def test_warnings_keep_the_record_and_say_why(tmp_path, parser, change, key, reason):
    path = write_json(tmp_path / "in.json", {"b2b": [wire(**change)]})
    result = read([path])
    assert result.documents.height == 1
    assert result.rejects.is_empty()
    warning = result.warnings.filter(pl.col("key") == key)
    assert warning.height == 1, result.warnings
    assert warning["reason"][0].startswith(reason)


def test_small_rounding_gap_in_doc_value_is_not_a_warning(parser, tmp_path):
    path = write_json(tmp_path / "in.json", {"b2b": [wire(val=11800.9)]})
    assert read([path]).warnings.is_empty()


def test_same_doc_key_with_different_content_is_flagged_and_both_kept(tmp_path, parser):
    a = wire(number="INV-7", hash="h1")
    b = wire(number="INV-7", hash="h2", txval=9000.0, camt=810.0, samt=810.0, val=10620.0)
    path = write_json(tmp_path / "in.json", {"b2b": [a, b]})
    result = read([path])
    assert result.documents.height == 2
    dup = result.warnings.filter(pl.col("reason").str.contains("same document key"))
    assert dup["index"].to_list() == [0, 1]


def test_every_record_ends_in_documents_rejects_or_duplicates(tmp_path, parser):
    records = [wire(number=f"I{i}") for i in range(6)]
    records[1]["idt"] = "32-01-2025"
    records[3]["txval"] = -5.0
    records[4]["pos"] = "9"
    path = write_json(tmp_path / "in.json", {"b2b": records})
    copy = write_json(tmp_path / "part2.json", {"b2b": [records[0]]})
    result = read([path, copy])
    rejected = set(result.rejects.select("file", "index").iter_rows())
    loaded = set(result.documents.select("source_file", "source_index").iter_rows())
    copied = set(result.duplicates.select("file", "index").iter_rows())
    everything = {(str(path), i) for i in range(6)} | {(str(copy), 0)}
    assert rejected | loaded | copied == everything
    assert not rejected & loaded
    assert not loaded & copied
    assert rejected == {(str(path), 1), (str(path), 3), (str(path), 4)}


def test_validate_ims_on_a_canonical_frame():
    frame = ims_frame(
        [{}, {"taxable_value": "-1"}, {"pos": "7"}, {"supplier_gstin": "27AAPFU0939F1ZW"}]
    )
    good, rejects, warnings = validate_ims(frame)
    assert good.schema == pl.Schema(IMS_COLUMNS)
    assert good["doc_number"].to_list() == ["INV-1", "INV-4"]
    assert rejects.schema == pl.Schema(ISSUE_COLUMNS)
    assert rejects.select("key", "value").rows() == [("taxable_value", "-1.00"), ("pos", "7")]
    assert warnings.select("index", "key").rows() == [(3, "supplier_gstin")]
    keep, rejects_again, _ = validate_rows(frame)
    assert keep.to_list() == [True, False, False, True]  # the mask behind `good`
    assert rejects_again.equals(rejects)


def test_read_payload_takes_an_already_parsed_object():
    result = read_payload({"data": {"b2bdn": [wire("b2bdn", number="DN-1")]}}, "api-response")
    row = result.documents.row(0, named=True)
    assert (row["section"], row["doc_type"], row["doc_number"]) == ("b2bdn", "DN", "DN-1")
    assert row["source_file"] == "api-response"


def test_check_character_warning_names_exactly_the_bad_gstins(parser, tmp_path):
    good = [make_gstin("27", f"AABCP{n:04d}D") for n in range(3000)]
    bad = "27AAPFU0939F1ZW"
    records = [wire(number=f"I{i}", stin=g) for i, g in enumerate([*good, bad, *good])]
    result = read([write_json(tmp_path / "in.json", {"b2b": records})])
    assert result.warnings.select("index", "value").rows() == [(len(good), bad)]
