"""Issue 15: `imsdata run` (a real subprocess) over hostile inputs: exit 1, one line naming the
file and the problem, no traceback, nothing written outside the out folder, bounded memory."""

from __future__ import annotations

import zipfile
from pathlib import Path

import polars as pl
import pytest

from imsdata.errors import InputError
from imsdata.fileio import MAX_INFLATED_BYTES, MAX_TEXT_RUN, check_workbook

from .conftest import PEAK_MIB, cli

_CT = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
    'package/2006/content-types"><Default Extension="rels" ContentType="application/'
    'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType='
    '"application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName='
    '"/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.'
    'spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType='
    '"application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>'
)
_RELS = (
    '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
    'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
    'officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_WB = (
    '<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/'
    'main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WB_RELS = (
    '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
    'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
    'officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>'
)
_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


def _xlsx(path: Path, sheet: str, strings: list[bytes] | None = None) -> Path:
    """A minimal .xlsx written with a zip writer: one sheet, optional shared strings."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", _CT)
        zf.writestr("_rels/.rels", _RELS)
        zf.writestr("xl/workbook.xml", _WB)
        zf.writestr("xl/_rels/workbook.xml.rels", _WB_RELS)
        zf.writestr(
            "xl/worksheets/sheet1.xml",
            f"<worksheet {_NS}><sheetData>{sheet}</sheetData></worksheet>",
        )
        with zf.open("xl/sharedStrings.xml", "w", force_zip64=True) as fh:
            fh.write(f'<sst {_NS} count="1" uniqueCount="1"><si><t>'.encode())
            for piece in strings or [b"Voucher No"]:
                fh.write(piece)
            fh.write(b"</t></si></sst>")
    return path


def _far_cell(tmp: Path) -> Path:
    sheet = (
        '<row r="1"><c r="A1" t="s"><v>0</v></c></row>'
        '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'
    )
    return _xlsx(tmp / "far_cell.xlsx", sheet)


def _long_string(tmp: Path) -> Path:
    chunk = b"A" * (1 << 20)
    return _xlsx(
        tmp / "long_string.xlsx", '<row r="1"><c r="A1" t="s"><v>0</v></c></row>', [chunk] * 40
    )


def _inflating(tmp: Path) -> Path:
    """A workbook whose central directory declares a part inflating past the archive cap."""
    path = tmp / "inflating.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", _CT)
        zf.writestr("xl/worksheets/sheet1.xml", bytes(1 << 20))
        zf.filelist[-1].file_size = MAX_INFLATED_BYTES + 1  # what the directory will declare
    return path


def _lying(tmp: Path) -> Path:
    """A part that inflates to more than its header declares (a forged size)."""
    path = tmp / "lying.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/worksheets/sheet1.xml", bytes(8 << 20))
        zf.filelist[-1].file_size = 1024
    return path


def _deep_toml(tmp: Path) -> Path:
    path = tmp / "deep.toml"
    path.write_text("a = " + "[" * 100_000 + "]" * 100_000 + "\n")
    return path


def _deep_json(tmp: Path) -> Path:
    path = tmp / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    return path


def _reading_rule(tmp: Path) -> Path:
    path = tmp / "rules.toml"
    path.write_text(
        '[[suggest]]\nid = "peek"\n'
        "when = \"(SELECT count(*) FROM read_text('/etc/passwd')) > 0\"\n"
        'action = "accept"\nreason = "r"\n'
    )
    return path


def _not_a_workspace(tmp: Path) -> Path:
    path = tmp / "notes.csv"
    path.write_text("a,b\n1,2\n")
    return path


# (case, build, which option takes the file, expected problem in the error line)
CASES = [
    ("register-far-cell", _far_cell, "register", "reaches row 1,048,576, column 16,384"),
    ("register-long-string", _long_string, "register", f"holds a text over {MAX_TEXT_RUN:,} bytes"),
    ("register-inflating", _inflating, "register", "inflates to"),
    ("ims-deep-json", _deep_json, "ims", "recursion depth"),
    ("rules-deep-toml", _deep_toml, "--rules", "nested too deeply"),
    ("tolerances-deep-toml", _deep_toml, "--tolerances", "nested too deeply"),
    ("rules-read-file", _reading_rule, "--rules", "rules may not read files"),
    ("workspace-not-duckdb", _not_a_workspace, "--workspace", "not an imsdata workspace"),
]


def _tree(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*")}


@pytest.mark.parametrize(("case", "build", "where", "problem"), CASES, ids=[c[0] for c in CASES])
def test_hostile_input_is_one_line_exit_1_bounded_and_contained(
    tmp_path, sample, case, build, where, problem
):
    hostile = build(tmp_path)
    ims, register = sample["ims"], sample["register"]
    options: list[str | Path] = ["--workspace", "out/ws.duckdb"]
    if where == "ims":
        ims = hostile
    elif where == "register":
        register = hostile
    elif where == "--workspace":
        options = ["--workspace", hostile]
    else:
        options += [where, hostile]
    before = _tree(tmp_path)
    ran = cli("run", ims, "--register", register, "--out", "out", *options, cwd=tmp_path)
    assert ran.code == 1, ran.stderr
    assert "Traceback" not in ran.stderr
    assert len(ran.errors) == 1, ran.stderr
    assert ran.errors[0].startswith(f"error: {hostile}") or str(hostile) in ran.errors[0]
    assert problem in ran.errors[0]
    added = _tree(tmp_path) - before
    assert all(p == "out" or p.startswith("out/") for p in added), added
    assert ran.peak_mib < PEAK_MIB


def test_errors_on_a_deeply_nested_report_is_one_line(tmp_path):
    deep = _deep_json(tmp_path)
    ran = cli("errors", deep, "--workspace", "ws.duckdb", cwd=tmp_path)
    assert ran.code == 1
    assert "Traceback" not in ran.stderr
    assert ran.lines == [f"error: {deep}: error report is nested too deeply"]


def test_a_long_csv_field_is_read_not_a_traceback(tmp_path, sample):
    frame = pl.read_csv(sample["register"], infer_schema=False)
    long_name = "N" * 300_000
    register = tmp_path / "long_field.csv"
    frame.with_columns(pl.lit(long_name).alias("Supplier Name")).write_csv(register)
    ran = cli(
        "run", sample["ims"], "--register", register, "--out", "out",
        "--workspace", "out/ws.duckdb", cwd=tmp_path,
    )  # fmt: skip
    assert "Traceback" not in ran.stderr
    assert ran.code in (0, 1)


def test_an_ordinary_workbook_passes_the_bounds(tmp_path, sample):
    xlsx = tmp_path / "register.xlsx"
    pl.read_csv(sample["register"], infer_schema=False).write_excel(xlsx)
    check_workbook(xlsx)
    ran = cli(
        "run", sample["ims"], "--register", xlsx, "--out", "out",
        "--workspace", "out/ws.duckdb", cwd=tmp_path,
    )  # fmt: skip
    assert ran.code == 0, ran.stderr


def test_a_forged_part_size_is_one_line(tmp_path):
    with pytest.raises(InputError, match=r"lying\.xlsx: workbook part xl/worksheets/sheet1\.xml"):
        check_workbook(_lying(tmp_path))


def test_review_import_checks_the_workbook_bounds_first(tmp_path):
    from imsdata.review import read_review

    with pytest.raises(InputError, match="reaches row 1,048,576"):
        read_review(_far_cell(tmp_path), pl.DataFrame(), rtin="x", period="x")


def test_a_column_past_the_limit_is_refused_and_a_wide_legal_one_is_not(tmp_path):
    ok = '<row r="1"><c r="AMJ1"><v>1</v></c></row>'  # column 1,024: the limit
    check_workbook(_xlsx(tmp_path / "ok.xlsx", ok))
    far = '<row r="1"><c r="AMK1"><v>1</v></c></row>'  # column 1,025
    with pytest.raises(InputError, match="column 1,025"):
        check_workbook(_xlsx(tmp_path / "far.xlsx", far))


def test_a_long_text_across_read_chunks_is_found(tmp_path):
    tags = b"<x/>" * (230_000)  # ~0.9 MiB of tags, then a text crossing the 1 MiB boundary
    text = b"A" * (MAX_TEXT_RUN + 10)
    path = _xlsx(tmp_path / "across.xlsx", "", [b"</t></si><si><t>", tags, text])
    with pytest.raises(InputError, match="holds a text over"):
        check_workbook(path)
    short = _xlsx(tmp_path / "short.xlsx", "", [tags, b"A" * (MAX_TEXT_RUN - 10)])
    check_workbook(short)
