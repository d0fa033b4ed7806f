"""Read an ERP export (CSV, Excel, Parquet) into an all-string frame with its real header row.

Everything is read as text so nothing is mis-inferred (a GSTIN is never a number, an amount never
a float). The header row is the row with the most recognised header spellings, which skips the
title rows ERPs print above it; CSV delimiter and encoding are detected the same way.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from imsdata.errors import InputError
from imsdata.fileio import check_workbook

ROW = "__source_row__"  # 1-based data row, added beside the file's own columns
DELIMITERS = (",", ";", "\t", "|")
_SCAN_ROWS = 50  # rows searched for the header


@dataclass
class RawTable:
    """The file's data rows as text under its own headers, plus what we noticed while reading."""

    frame: pl.DataFrame
    notes: list[str] = field(default_factory=list)


def load(path: Path, *, sheet: str | None, is_header: Callable[[str], bool]) -> RawTable:
    """Read `path` by content (xlsx/xls, Parquet, else delimited text) into a RawTable."""
    try:
        with open(path, "rb") as fh:
            magic = fh.read(8)
    except FileNotFoundError:
        raise InputError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a folder, not a register file") from None
    if magic.startswith(b"PK\x03\x04") or magic.startswith(b"\xd0\xcf\x11\xe0"):
        table = _excel(path, sheet, is_header)
    elif magic.startswith(b"PAR1"):
        table = _parquet(path)
    elif magic.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"{", b"["):
        raise InputError(
            f"{path}: this is a JSON file (an IMS download or a GSTR-2B/2A?), not a purchase "
            "register; give it as the download (`imsdata ingest FILE`, or the first argument "
            "of `run`) and the register as CSV or Excel"
        )
    else:
        if sheet is not None:
            raise InputError(f"{path}: --sheet applies to Excel files, but this is a text file")
        table = _csv(path, is_header)
    return _drop_blank_rows(table)


# --- CSV -----------------------------------------------------------------------------------------


def _decode(path: Path, data: bytes) -> tuple[bytes, str | None]:
    """UTF-8 bytes for polars, and a note when the file was not UTF-8."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :], None
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16").encode("utf-8"), f"{path.name}: decoded from UTF-16"
    if b"\x00" in data[:4096]:
        raise InputError(f"{path}: binary data, not a CSV, Excel or Parquet register")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as utf8_error:
        where = f"byte 0x{data[utf8_error.start]:02x} at offset {utf8_error.start}"
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            raise InputError(
                f"{path}: cannot decode the file: not UTF-8 ({where}) and not Windows-1252; "
                "save it again as 'CSV UTF-8'"
            ) from None
        note = f"{path.name}: not UTF-8 ({where}); read as Windows-1252 (cp1252)"
        return text.encode("utf-8"), note
    return data, None


def _header_line(lines: list[str], is_header: Callable[[str], bool]) -> tuple[str, int, int]:
    """(delimiter, line index, score) of the most header-like line over the candidates."""
    best = (0, 0, 0, DELIMITERS[0])  # score, -line, -delimiter rank, delimiter
    for rank, delim in enumerate(DELIMITERS):
        for i, line in enumerate(lines):
            cells = next(csv.reader([line], delimiter=delim), [])
            if len(cells) < 2:
                continue
            score = sum(is_header(c) for c in cells)
            best = max(best, (score, -i, -rank, delim))
    score, neg_index, _, delim = best
    if score == 0:  # nothing recognised: first non-empty line, most frequent delimiter
        index = next((i for i, text in enumerate(lines) if text.strip()), 0)
        first = lines[index] if lines else ""
        delim = max(DELIMITERS, key=first.count)
        return delim, index, 0
    return delim, -neg_index, score


def _csv(path: Path, is_header: Callable[[str], bool]) -> RawTable:
    data, note = _decode(path, path.read_bytes())
    if not data.strip():
        raise InputError(f"{path}: the file is empty")
    head = data[:262144].decode("utf-8", errors="replace")
    lines = [line.rstrip("\r") for line in head.split("\n")[:_SCAN_ROWS]]
    delim, line, _ = _header_line(lines, is_header)
    try:
        frame = pl.read_csv(
            io.BytesIO(data),
            separator=delim,
            skip_lines=line,
            has_header=True,
            infer_schema=False,
            raise_if_empty=False,
        )
    except pl.exceptions.PolarsError as exc:
        first = str(exc).strip().splitlines()[0]
        raise InputError(f"{path}: cannot read as CSV (delimiter {delim!r}): {first}") from None
    notes = [note] if note else []
    name = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}[delim]
    notes.append(f"{path.name}: {name}-delimited, header on line {line + 1}")
    return RawTable(_with_headers(frame, frame.columns), notes)


# --- Excel ---------------------------------------------------------------------------------------


def _excel(path: Path, sheet: str | None, is_header: Callable[[str], bool]) -> RawTable:
    check_workbook(path, "register workbook")  # bounded before the Excel engine reads it
    options: dict[str, Any] = {
        "has_header": False,
        "infer_schema_length": 0,  # every cell as text; real dates come as 'yyyy-mm-dd 00:00:00'
        "drop_empty_rows": False,
        "drop_empty_cols": False,
        "raise_if_empty": False,
    }
    try:
        sheets: dict[str, pl.DataFrame] = pl.read_excel(path, sheet_id=0, **options)
    except Exception as exc:  # the engine raises its own error types for broken workbooks
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{path}: cannot read as Excel: {first}") from None
    if sheet is not None:
        if sheet not in sheets:
            raise InputError(f"{path}: no sheet '{sheet}'; sheets: {', '.join(sheets)}")
        chosen = sheet
    else:
        with_data = [n for n, f in sheets.items() if f.height and _has_values(f)]
        if not with_data:
            raise InputError(f"{path}: no sheet has data; sheets: {', '.join(sheets)}")
        chosen = with_data[0]
    grid = sheets[chosen]
    scores = [
        sum(v is not None and is_header(str(v)) for v in row)
        for row in grid.head(_SCAN_ROWS).iter_rows()
    ]
    if not scores:
        raise InputError(f"{path}: sheet '{chosen}' is empty")
    best = max(scores)
    header_at = scores.index(best) if best else _first_non_empty(grid)
    headers = [
        str(v).strip() if v is not None else f"column_{j + 1}"
        for j, v in enumerate(grid.row(header_at))
    ]
    data = grid.slice(header_at + 1)
    notes = [f"{path.name}: sheet '{chosen}', header on row {header_at + 1} of the used range"]
    return RawTable(_with_headers(data, headers), notes)


def _has_values(frame: pl.DataFrame) -> bool:
    return bool(frame.select(pl.any_horizontal(pl.all().is_not_null()).any()).item())


def _first_non_empty(grid: pl.DataFrame) -> int:
    flags = grid.select(pl.any_horizontal(pl.all().is_not_null()))
    first = flags.to_series().arg_true().first()
    return int(first) if isinstance(first, int) else 0


# --- Parquet -------------------------------------------------------------------------------------


def _parquet(path: Path) -> RawTable:
    try:
        frame = pl.read_parquet(path)
        frame = frame.select(pl.all().cast(pl.String))
    except pl.exceptions.PolarsError as exc:
        first = str(exc).strip().splitlines()[0]
        raise InputError(f"{path}: cannot read as Parquet of plain columns: {first}") from None
    return RawTable(_with_headers(frame, frame.columns), [f"{path.name}: Parquet"])


# --- shared --------------------------------------------------------------------------------------


def _with_headers(frame: pl.DataFrame, headers: list[str]) -> pl.DataFrame:
    """Trimmed, de-duplicated headers ('Amount', 'Amount (2)') and the 1-based data row."""
    seen: dict[str, int] = {}
    names = []
    for j, raw in enumerate(headers):
        name = raw.strip() or f"column_{j + 1}"
        seen[name] = seen.get(name, 0) + 1
        names.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    frame = frame.rename(dict(zip(frame.columns, names, strict=True)))
    return frame.with_row_index(ROW, offset=1).with_columns(pl.col(ROW).cast(pl.Int64))


def _drop_blank_rows(table: RawTable) -> RawTable:
    """Drop rows with no value at all (spacer rows), keeping row numbers; note how many."""
    values = [c for c in table.frame.columns if c != ROW]
    if not values:
        return table
    filled = pl.any_horizontal(pl.col(values).is_not_null())  # empty cells are read as null
    kept = table.frame.filter(filled)
    dropped = table.frame.height - kept.height
    if dropped:
        table.notes.append(f"skipped {dropped} blank row(s)")
    return RawTable(kept, table.notes)
