"""The foundation: GSTIN check characters, the section registry, atomic writes, the engine."""

import polars as pl
import pytest

from imsdata import gstin
from imsdata.engine import DuckDBEngine
from imsdata.errors import SQLError
from imsdata.fileio import atomic_open, write_frame
from imsdata.portal.sections import SECTIONS, section
from imsdata.testing import ims_frame, make_gstin


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("27AAPFU0939F1ZV", True),
        ("24AAQCA8719H1ZC", True),
        ("24AABCR6898M1ZN", True),
        ("24MAYAS0100J1JD", False),  # the public fixture's GSTIN fails the check
        ("27AAPFU0939F1ZW", False),
    ],
)
def test_gstin_check_character_scalar_and_column_agree(value, ok):
    assert gstin.has_valid_check(value) is ok
    column = pl.DataFrame({"g": [value]}).select(gstin.check_expr(pl.col("g"))).item()
    assert column is ok


def test_make_gstin_builds_valid_gstin():
    made = make_gstin("29", "AABCT1332L", "2")
    assert gstin.has_valid_check(made)
    assert gstin.is_valid_format(made)
    assert gstin.pan(made) == "AABCT1332L"


def test_registry_has_every_section_with_its_keys():
    assert list(SECTIONS) == [
        "b2b", "b2ba", "b2bdn", "b2bdna", "b2bcn", "b2bcna", "ecom", "ecoma",
        "impg", "impga", "impgsez", "impgseza",
    ]  # fmt: skip
    assert section("B2BCNA").identity_keys == ("stin", "nt_num", "nt_dt", "ont_num", "ont_dt")
    assert {s.key for s in SECTIONS.values() if s.doc_type == "CN"} == {"b2bcn", "b2bcna"}


def test_atomic_open_leaves_old_file_when_writer_fails(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")

    def write_then_fail():
        with atomic_open(target) as fh:
            fh.write("new")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        write_then_fail()
    assert target.read_text() == "old"
    assert list(tmp_path.iterdir()) == [target]


def test_write_frame_csv_dates_iso(tmp_path):
    path = write_frame(ims_frame([{}]).select("doc_number", "doc_date"), tmp_path / "x.csv")
    assert path.read_text().splitlines() == ["doc_number,doc_date", "INV-1,2025-11-05"]


def test_engine_keeps_decimal_and_names_failing_step():
    with DuckDBEngine() as engine:
        engine.register("ims", ims_frame([{"taxable_value": "0.10"}, {"taxable_value": "0.20"}]))
        total = engine.query("SELECT sum(taxable_value) AS t FROM ims").item()
        assert str(total) == "0.30"
        with pytest.raises(SQLError, match="step 'broken'"):
            engine.query("SELECT nope FROM ims", step="broken")


def test_atomic_write_gives_normal_file_mode(tmp_path):
    path = write_frame(ims_frame([{}]).select("doc_number"), tmp_path / "x.parquet")
    assert path.stat().st_mode & 0o777 == 0o666 & ~_current_umask()


def _current_umask() -> int:
    import os

    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_factories_give_empty_frames_with_the_contract():
    from imsdata.schemas import IMS_COLUMNS, REGISTER_COLUMNS
    from imsdata.testing import register_frame

    assert ims_frame([]).schema == pl.Schema(IMS_COLUMNS)
    assert ims_frame([]).height == 0
    assert register_frame([]).height == 0
    assert register_frame([]).schema == pl.Schema(REGISTER_COLUMNS)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "rule file not found"),
        (b"\xff\xfe\x00bad", "rule file is not UTF-8 text"),
        (b"[suggest\n", "rule file is not valid TOML"),
    ],
)
def test_read_toml_errors_name_file_and_problem(tmp_path, content, message):
    from imsdata.errors import InputError
    from imsdata.fileio import read_toml

    path = tmp_path / "rules.toml"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(InputError, match=message) as info:
        read_toml(path, "rule file")
    assert str(path) in str(info.value)
    assert "\n" not in str(info.value)


def test_read_json_accepts_bom_and_names_bad_json(tmp_path):
    from imsdata.errors import InputError
    from imsdata.fileio import read_json

    good = tmp_path / "ok.json"
    good.write_bytes(b'\xef\xbb\xbf{"a": 1}')
    assert read_json(good, "report") == {"a": 1}
    bad = tmp_path / "bad.json"
    bad.write_text('{"a": ')
    with pytest.raises(InputError, match="report is not valid JSON"):
        read_json(bad, "report")
