"""Issue 15: every spreadsheet-bound text cell is formula-safe (report.xlsx, review.xlsx, CSVs)."""

from __future__ import annotations

import csv
import json
import zipfile
from decimal import Decimal, InvalidOperation
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from imsdata.fileio import FORMULA_STARTS, safe_text, safe_text_frame, write_frame
from imsdata.pipeline import run
from imsdata.sample import sample_paths

HOSTILE = [
    '=HYPERLINK("http://x","y")',
    "=cmd|'/C calc'!A0",
    "+1+1",
    "-2+3",
    "@SUM(A1:A2)",
    "\t=1+1",
    "\r=1+1",
]


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory) -> Path:
    """The sample month with hostile supplier names and document numbers, run end to end."""
    tmp = tmp_path_factory.mktemp("hostile")
    paths = sample_paths()
    data = json.loads(paths["ims"].read_text(encoding="utf-8"))
    for i, doc in enumerate(data["b2b"]):
        doc["tradenm"] = HOSTILE[i % len(HOSTILE)]
        if i % 3 == 0:
            doc["inum"] = HOSTILE[i % len(HOSTILE)][:16]
    ims = tmp / "ims.json"
    ims.write_text(json.dumps(data), encoding="utf-8")
    # one register row with a formula for an amount: its hostile value lands in rejects.csv
    text = paths["register"].read_text(encoding="utf-8").rstrip("\n")
    row = text.splitlines()[-1].split(",")
    row[0], row[2], row[8] = "PV/HOSTILE/1", "@SUM(A1)", "-2+3"
    register = tmp / "register.csv"
    register.write_text(text + "\n" + ",".join(row) + "\n", encoding="utf-8")
    run([ims], register, out_dir=tmp / "out", workspace=tmp / "ws.duckdb")
    return tmp / "out"


def _unsafe(value: str) -> bool:
    return value.startswith(FORMULA_STARTS)


def _is_number(value: str) -> bool:
    try:
        Decimal(value)
    except InvalidOperation:
        return False
    return True


@pytest.mark.parametrize("name", ["report.xlsx", "review.xlsx"])
def test_workbook_text_never_starts_a_formula(hostile_run, name):
    path = hostile_run / name
    with zipfile.ZipFile(path) as zf:
        for part in zf.namelist():
            if part.startswith("xl/worksheets/"):
                assert "<f>" not in zf.read(part).decode(), f"{name} {part} holds a formula"
    wb = openpyxl.load_workbook(path)
    texts = [
        cell.value
        for ws in wb.worksheets
        for row in ws.iter_rows()
        for cell in row
        if isinstance(cell.value, str)
    ]
    assert not [t for t in texts if _unsafe(t)]
    assert any(t.startswith("'=HYPERLINK") for t in texts)  # shown as text, kept whole


@pytest.mark.parametrize("name", ["reconciliation.csv", "rejects.csv"])
def test_csv_text_never_starts_a_formula_and_numbers_stay_numbers(hostile_run, name):
    path = hostile_run / name
    if not path.exists():
        pytest.skip(f"no {name} in this run")
    with path.open(encoding="utf-8", newline="") as fh:
        cells = [v for row in csv.reader(fh) for v in row]
    bad = [v for v in cells if _unsafe(v) and not _is_number(v)]
    assert bad == []
    assert any(v.startswith("'") and v[1:] in HOSTILE for v in cells)


def test_supplier_names_starting_with_equals_are_counted(hostile_run):
    frame = pl.read_csv(hostile_run / "reconciliation.csv", infer_schema=False)
    names = frame["supplier_name"].drop_nulls()
    assert names.str.starts_with("'=HYPERLINK").sum() > 0
    assert not names.str.contains(r"^[=+\-@\t\r]").any()


def test_negative_amounts_stay_numbers_and_text_gets_the_prefix(tmp_path):
    frame = pl.DataFrame(
        {"doc_number": ["-500", "INV-1", None], "amount": ["-500.00", "12.50", None]}
    ).with_columns(pl.col("amount").cast(pl.Decimal(18, 2)))
    out = write_frame(frame, tmp_path / "x.csv").read_text(encoding="utf-8").splitlines()
    assert out == ["doc_number,amount", "'-500,-500.00", "INV-1,12.50", ","]
    safe = safe_text_frame(frame)
    assert safe.schema == frame.schema
    # parquet is not bound for a spreadsheet: the values stay as they are
    pq = pl.read_parquet(write_frame(frame, tmp_path / "x.parquet"))
    assert pq["doc_number"][0] == "-500"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("=1", "'=1"), ("+1", "'+1"), ("-1", "'-1"), ("@a", "'@a"), ("\tx", "'\tx"),
     ("\rx", "'\rx"), ("a=1", "a=1"), ("", ""), (None, None)],
)  # fmt: skip
def test_safe_text_follows_the_owasp_rule(value, expected):
    assert safe_text(value) == expected
