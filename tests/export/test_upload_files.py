"""Upload files on disk: golden text, splitting by records and bytes, no file when unchanged."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from imsdata.errors import UsageError
from imsdata.portal.write import build_payloads, write_upload
from imsdata.testing import RECIPIENT, ims_frame

GOLDEN = Path(__file__).with_name("golden")
#: Set IMSDATA_UPDATE_GOLDEN=1 to rewrite the golden files on purpose (then review the diff).
UPDATE = os.environ.get("IMSDATA_UPDATE_GOLDEN") == "1"


@pytest.mark.parametrize("name", ["save_001.json", "reset_001.json"])
def test_golden_text(tmp_path, sample_ims, sample_decisions, no_guards, name):
    p = build_payloads(sample_ims, sample_decisions, rtin=RECIPIENT, rules=no_guards)
    written = write_upload(p, tmp_path / "upload")
    assert [w.name for w in written] == ["save_001.json", "reset_001.json"]
    text = (tmp_path / "upload" / name).read_text(encoding="utf-8")
    if UPDATE:
        (GOLDEN / name).write_text(text, encoding="utf-8")
    assert text == (GOLDEN / name).read_text(encoding="utf-8")


def test_api_channel_golden(tmp_path, sample_ims, sample_decisions, no_guards):
    p = build_payloads(sample_ims, sample_decisions, rtin=RECIPIENT, rules=no_guards)
    write_upload(p, tmp_path, api=True)
    text = (tmp_path / "reset_001.json").read_text(encoding="utf-8")
    if UPDATE:
        (GOLDEN / "api_reset_001.json").write_text(text, encoding="utf-8")
    assert text == (GOLDEN / "api_reset_001.json").read_text(encoding="utf-8")


def test_nothing_changed_writes_no_file(tmp_path, make_decisions, no_guards):
    ims = ims_frame([{"portal_action": "A"}])
    p = build_payloads(
        ims,
        make_decisions([{"doc_key": ims["doc_key"][0], "action": "accept"}]),
        rtin=RECIPIENT,
        rules=no_guards,
    )
    assert p.is_empty
    assert write_upload(p, tmp_path / "upload") == []
    assert not (tmp_path / "upload").exists()


def _many(n: int, make_decisions):
    ims = ims_frame([{"doc_number": f"INV-{i:04d}"} for i in range(n)])
    log = make_decisions([{"doc_key": k, "action": "accept"} for k in ims["doc_key"]])
    return ims, log


def test_split_by_record_limit_keeps_every_record_once_in_order(
    tmp_path, make_decisions, no_guards
):
    ims, log = _many(7, make_decisions)
    p = build_payloads(ims, log, rtin=RECIPIENT, rules=no_guards)
    paths = write_upload(p, tmp_path, max_records=3)
    assert [x.name for x in paths] == ["save_001.json", "save_002.json", "save_003.json"]
    numbers = [r["inum"] for x in paths for r in json.loads(x.read_text())["invdata"]["b2b"]]
    assert numbers == [f"INV-{i:04d}" for i in range(7)]


def test_split_by_byte_limit_keeps_each_file_under_it(tmp_path, make_decisions, no_guards):
    ims, log = _many(20, make_decisions)
    p = build_payloads(ims, log, rtin=RECIPIENT, rules=no_guards)
    paths = write_upload(p, tmp_path, max_bytes=1500)
    assert len(paths) > 2
    assert all(x.stat().st_size <= 1500 for x in paths)
    total = sum(len(json.loads(x.read_text())["invdata"]["b2b"]) for x in paths)
    assert total == 20


def test_byte_limit_below_one_record_is_a_usage_error(tmp_path, make_decisions, no_guards):
    ims, log = _many(1, make_decisions)
    p = build_payloads(ims, log, rtin=RECIPIENT, rules=no_guards)
    with pytest.raises(UsageError, match="byte limit"):
        write_upload(p, tmp_path, max_bytes=100)
    assert list(tmp_path.iterdir()) == []


def test_a_smaller_export_removes_stale_numbered_files(tmp_path, make_decisions, no_guards):
    ims, log = _many(4, make_decisions)
    write_upload(build_payloads(ims, log, rtin=RECIPIENT, rules=no_guards), tmp_path, max_records=1)
    assert len(list(tmp_path.glob("save_*.json"))) == 4
    (tmp_path / "notes.txt").write_text("mine")
    write_upload(build_payloads(ims, log, rtin=RECIPIENT, rules=no_guards), tmp_path)
    assert sorted(x.name for x in tmp_path.iterdir()) == ["notes.txt", "save_001.json"]
