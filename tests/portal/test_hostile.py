"""Hostile files: one clean line naming the file and the problem; through the CLI, exit 1 and no
traceback. Archives are read in memory: nothing is ever extracted to disk."""

import io
import subprocess
import sys
import zipfile

import pytest
from portal_helpers import wire, write_json

from imsdata.cli import main
from imsdata.errors import InputError
from imsdata.portal.read import read


def _zip(path, members: dict[str, bytes]):
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def _zip_bomb(path, inflated: int):
    """A small zip whose one member inflates to `inflated` bytes of zeros."""
    buf = io.BytesIO()
    with (
        zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf,
        zf.open("ims.json", "w", force_zip64=True) as fh,
    ):
        block = b"0" * (1 << 20)
        for _ in range(inflated // len(block)):
            fh.write(block)
    path.write_bytes(buf.getvalue())
    return path


HOSTILE = {
    "not_json": (lambda p: _bytes(p / "a.json", b"hello, world"), "not valid JSON"),
    "truncated": (
        lambda p: _bytes(p / "a.json", b'{"b2b":[{"stin":"27AAPFU0939F1ZV","inum":"IN'),
        "truncated JSON",
    ),
    "truncated_between_records": (
        lambda p: _bytes(p / "a.json", b'{"b2b":[{"stin":"27AAPFU0939F1ZV"},'),
        "truncated JSON",
    ),
    "records_without_comma_on_lines": (
        lambda p: _bytes(p / "a.json", b'{"b2b":[{"stin":"A"}\n{"stin":"B"}]}'),
        "not valid JSON",
    ),
    "records_without_comma": (
        lambda p: _bytes(p / "a.json", b'{"b2b":[{"stin":"A"}{"stin":"B"}]}'),
        "not valid JSON",
    ),
    "records_with_double_comma": (
        lambda p: _bytes(p / "a.json", b'{"b2b":[{"stin":"A"},,{"stin":"B"}]}'),
        "not valid JSON",
    ),
    "top_level_list": (lambda p: _bytes(p / "a.json", b"[1, 2]"), "the top level is a list"),
    "top_level_number": (lambda p: _bytes(p / "a.json", b"42"), "the top level is a number"),
    "non_utf8": (
        lambda p: _bytes(p / "a.json", b'{"b2b":[{"stin":"\xff\xfe"}]}'),
        "not UTF-8 text (invalid byte at offset 17)",
    ),
    "empty": (lambda p: _bytes(p / "a.json", b""), "empty file"),
    "blank": (lambda p: _bytes(p / "a.json", b"  \n "), "empty file"),
    "zip_slip": (
        lambda p: _zip(p / "a.zip", {"ok.json": b"{}", "../../x.json": b'{"b2b":[]}'}),
        "member '../../x.json' has an unsafe path",
    ),
    "zip_absolute": (
        lambda p: _zip(p / "a.zip", {"/etc/x.json": b"{}"}),
        "member '/etc/x.json' has an unsafe path",
    ),
    "zip_without_json": (
        lambda p: _zip(p / "a.zip", {"readme.txt": b"hello"}),
        "the archive holds no .json file",
    ),
    "not_a_zip": (lambda p: _bytes(p / "a.zip", b"PK\x03\x04 garbage"), "not a readable zip"),
    "section_not_a_list": (
        lambda p: _bytes(p / "a.json", b'{"b2b": {"stin": "x"}}'),
        "section 'b2b' holds a object, expected a list of records",
    ),
    "no_sections": (
        lambda p: _bytes(p / "a.json", b'{"foo": [1], "bar": 2}'),
        "no IMS section found (keys: bar, foo)",
    ),
    "missing": (lambda p: p / "nope.json", "no such file or folder"),
    "empty_folder": (lambda p: (p / "empty").mkdir() or p / "empty", "holds no .json or .zip"),
}


def _bytes(path, data: bytes):
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_file_gives_one_line_naming_file_and_problem(tmp_path, parser, case):
    make, message = HOSTILE[case]
    path = make(tmp_path)
    with pytest.raises(InputError) as err:
        read([path])
    text = str(err.value)
    assert text.startswith(str(path))
    assert message in text
    assert "\n" not in text


def test_zip_slip_writes_nothing_outside(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    path = _zip(work / "a.zip", {"../../evil.json": b'{"b2b":[]}'})
    before = sorted(tmp_path.rglob("*"))
    with pytest.raises(InputError):
        read([path])
    assert sorted(tmp_path.rglob("*")) == before


def test_zip_bomb_is_refused_before_inflating(tmp_path):
    bomb = _zip_bomb(tmp_path / "bomb.zip", 64 << 20)  # 64 MB of zeros in a ~64 KB zip
    assert bomb.stat().st_size < 1 << 20
    with pytest.raises(InputError, match=r"zip bomb\?\); archive refused"):
        read([bomb], max_archive_bytes=1 << 20)


def test_zip_whose_header_understates_its_size_is_refused(tmp_path):
    path = _zip(tmp_path / "liar.zip", {"ims.json": b"0" * (4 << 20)})
    data = bytearray(path.read_bytes())
    central = data.rfind(b"PK\x01\x02")
    assert int.from_bytes(data[central + 24 : central + 28], "little") == 4 << 20
    data[central + 24 : central + 28] = (1024).to_bytes(4, "little")  # claim 1 KB
    path.write_bytes(bytes(data))
    with pytest.raises(InputError, match=r"member 'ims\.json' is corrupt"):
        read([path], max_archive_bytes=1 << 20)


def test_zip_member_over_the_cap_midway_is_refused_by_the_streaming_read(tmp_path):
    big = write_json(tmp_path / "p.json", {"b2b": [wire(number=f"I{i}") for i in range(3000)]})
    path = _zip(tmp_path / "parts.zip", {"p1.json": big.read_bytes(), "p2.json": big.read_bytes()})
    size = big.stat().st_size
    with pytest.raises(InputError, match="limit"):
        read([path], max_archive_bytes=size + size // 2)
    assert read([path], max_archive_bytes=2 * size).documents.height == 3000


@pytest.mark.parametrize("case", ["not_json", "truncated", "non_utf8", "zip_slip", "empty"])
def test_cli_exits_1_with_one_line_and_no_traceback(tmp_path, monkeypatch, capsys, case):
    make, message = HOSTILE[case]
    path = make(tmp_path)
    monkeypatch.setattr(sys, "argv", ["imsdata", "ingest", str(path), "--out",
                                      str(tmp_path / "out.parquet")])  # fmt: skip
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 1
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"error: {path}")
    assert message in lines[0]
    assert not (tmp_path / "out.parquet").exists()


def test_cli_subprocess_bomb_exit_code(tmp_path):
    bomb = _zip_bomb(tmp_path / "bomb.zip", 8 << 20)
    proc = subprocess.run(
        [sys.executable, "-m", "imsdata", "ingest", str(bomb), "--out", str(tmp_path / "o.csv"),
         "--max-archive-mb", "1"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr + proc.stdout
    assert proc.stderr.strip() == (
        f"error: {bomb}: inflates to 8,388,608 bytes, above the 1,048,576-byte limit "
        "(zip bomb?); archive refused"
    )
