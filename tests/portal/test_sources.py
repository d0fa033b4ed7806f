"""Sources: a .json, a .zip of parts, a folder, several at once; copies across parts kept once."""

import zipfile

import polars as pl
from portal_helpers import SAMPLE, wire, write_json

from imsdata.portal.read import read


def _parts(tmp_path):
    one = write_json(tmp_path / "src" / "part1.json", {"b2b": [wire(number="A"), wire(number="B")]})
    second = {"b2b": [wire(number="B"), wire(number="C")], "b2bcn": [wire("b2bcn", number="CN")]}
    two = write_json(tmp_path / "src" / "part2.json", second)
    return one, two


def test_parts_are_merged_and_an_exact_copy_is_kept_once(tmp_path, parser):
    one, two = _parts(tmp_path)
    result = read([one, two])
    assert result.documents["doc_number"].to_list() == ["A", "B", "C", "CN"]
    kept = result.documents.filter(pl.col("doc_number") == "B").row(0, named=True)
    assert (kept["source_file"], kept["source_index"]) == (str(one), 1)
    dup = result.duplicates.row(0, named=True)
    assert (dup["file"], dup["section"], dup["index"]) == (str(two), "b2b", 0)
    assert dup["reason"] == f"same record as {one} b2b #1: kept that copy"
    assert result.warnings.is_empty()


def test_zip_of_parts_reads_members_in_name_order_without_extracting(tmp_path, parser):
    one, two = _parts(tmp_path)
    archive = tmp_path / "download.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(two, "parts/part2.json")
        zf.write(one, "parts/part1.json")
        zf.writestr("parts/readme.txt", "not read")
    before = sorted(tmp_path.rglob("*"))
    result = read([archive])
    assert sorted(tmp_path.rglob("*")) == before
    assert result.documents.height == 4
    assert set(result.documents["source_file"]) == {
        f"{archive}::parts/part1.json", f"{archive}::parts/part2.json",
    }  # fmt: skip
    assert result.duplicates["file"].to_list() == [f"{archive}::parts/part2.json"]


def test_folder_reads_its_json_and_zip_files_sorted(tmp_path, parser):
    _parts(tmp_path)
    (tmp_path / "src" / "notes.txt").write_text("ignored")
    with zipfile.ZipFile(tmp_path / "src" / "z.zip", "w") as zf:
        zf.writestr("sample.json", SAMPLE.read_bytes())
    result = read([tmp_path / "src"])
    files = result.documents["source_file"].unique().sort().to_list()
    assert [f.rsplit("/", 1)[-1] for f in files] == ["part1.json", "part2.json",
                                                     "z.zip::sample.json"]  # fmt: skip
    assert result.documents.height == 4 + 6


def test_single_path_string_is_accepted(parser):
    assert read(str(SAMPLE)).documents.height == 6


def test_parts_given_out_of_name_order_read_as_if_in_order(tmp_path, parser):
    one, two = _parts(tmp_path)
    forward, backward = read([one, two]), read([two, one])
    # the copy kept is still the one of the first file by name, and the order is the same
    for name in ("documents", "rejects", "warnings", "duplicates"):
        assert getattr(backward, name).equals(getattr(forward, name)), name
    assert backward.duplicates["file"].to_list() == [str(two)]
