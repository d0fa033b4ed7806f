"""Atomic file writes (temp file + rename) and frame writers chosen by file suffix."""

from __future__ import annotations

import contextlib
import csv
import json
import os
import re
import tempfile
import tomllib
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any
from zlib import error as zlib_error

import polars as pl

from imsdata.errors import InputError, UsageError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside `path`; rename it over `path` only if the block succeeds."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    os.chmod(tmp_path, 0o666 & ~_umask())  # mkstemp makes 0600; outputs get the usual mode
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    finally:
        tmp_path.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike[str], mode: str = "w") -> Iterator[IO[Any]]:
    """Open a temporary file for writing; it replaces `path` when the block succeeds."""
    encoding = None if "b" in mode else "utf-8"
    with atomic_path(path) as tmp, open(tmp, mode, encoding=encoding, newline="") as fh:
        yield fh


def write_json(obj: Any, path: str | os.PathLike[str]) -> Path:
    """Write a JSON document atomically, keys in the order given, UTF-8, indented."""
    with atomic_open(path) as fh:
        json.dump(obj, fh, ensure_ascii=False, indent=2)
        fh.write("\n")
    return Path(path)


#: A spreadsheet reads a cell starting with one of these as a formula (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FORMULA_START_RE = r"^[=+\-@\t\r]"


def safe_text(value: str | None) -> str | None:
    """A text cell bound for a spreadsheet, formula-safe: a value starting with = + - @, tab or
    CR gets a leading apostrophe (the OWASP rule), so it is shown, never run. Only for text:
    numbers (a negative amount) are written as numbers and never pass through here."""
    if value and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def formula_start_expr(expr: pl.Expr) -> pl.Expr:
    """True where a String expression's text would be read as a formula (`safe_text` changes it)."""
    return expr.str.contains(FORMULA_START_RE)


def safe_text_expr(expr: pl.Expr) -> pl.Expr:
    """`safe_text` on a polars String expression (the same rule, vectorised)."""
    return pl.when(formula_start_expr(expr)).then(pl.lit("'") + expr).otherwise(expr)


def safe_text_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """Every String column of `frame` formula-safe; other columns (money, dates) untouched."""
    text = [name for name, dtype in frame.schema.items() if dtype == pl.String()]
    return frame.with_columns(safe_text_expr(pl.col(name)).alias(name) for name in text)


def write_frame(
    frame: pl.DataFrame, path: str | os.PathLike[str], *, formula_safe: bool = True
) -> Path:
    """Write a frame as .parquet or .csv (by suffix), atomically; CSV dates are ISO and CSV
    text is formula-safe (`safe_text`); Parquet keeps the values as they are.

    `formula_safe=False` only for files that imitate another program's export (the synthetic
    register: an ERP writes its text as it is, and the reader must see that)."""
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in {".parquet", ".csv"}:
        raise UsageError(f"{target}: output must end in .parquet or .csv")
    with atomic_path(target) as tmp:
        if suffix == ".parquet":
            frame.write_parquet(tmp)
        else:
            (safe_text_frame(frame) if formula_safe else frame).write_csv(
                tmp, date_format="%Y-%m-%d"
            )
    return target


def read_text(path: str | os.PathLike[str], what: str, *, encoding: str = "utf-8") -> str:
    """A small text input (rules, mapping, tolerances, a report); one-line InputError if not."""
    p = Path(path)
    try:
        return p.read_text(encoding=encoding)
    except FileNotFoundError:
        raise InputError(f"{p}: {what} not found") from None
    except IsADirectoryError:
        raise InputError(f"{p}: {what} expected, found a folder") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{p}: {what} is not UTF-8 text ({exc.reason})") from None


def read_toml(path: str | os.PathLike[str], what: str) -> dict[str, Any]:
    """A TOML file as a dict; one-line InputError naming the file when missing or invalid."""
    try:
        return tomllib.loads(read_text(path, what))
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: {what} is not valid TOML ({exc})") from None
    except RecursionError:
        raise InputError(f"{path}: {what} is nested too deeply") from None


def read_json(path: str | os.PathLike[str], what: str) -> Any:
    """A (small) JSON file; one-line InputError naming the file when missing or invalid."""
    try:
        return json.loads(read_text(path, what, encoding="utf-8-sig"))
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: {what} is not valid JSON ({exc})") from None
    except RecursionError:
        raise InputError(f"{path}: {what} is nested too deeply") from None


# --- bounded inputs ------------------------------------------------------------------------------

#: Most bytes an archive may inflate to: IMS download zips and .xlsx workbooks alike.
MAX_INFLATED_BYTES = 2 * 1024**3
#: Most columns and cells a workbook sheet may declare (a register has tens of columns; a sheet
#: claiming a cell at XFD1048576 would make the Excel engine allocate ~512 GiB).
MAX_SHEET_COLUMNS = 1_024
MAX_SHEET_CELLS = 40_000_000
#: Longest text run in a workbook part (bytes between two tags); Excel's own cell limit is
#: 32,767 characters, so 256 KiB covers it in any encoding with room to spare.
MAX_TEXT_RUN = 256 * 1024
#: The csv module's field limit (its default is 131,072 characters).
CSV_FIELD_LIMIT = 16 * 1024 * 1024
csv.field_size_limit(max(csv.field_size_limit(), CSV_FIELD_LIMIT))

#: Sheet XML scanned cheaply: row elements, multi-letter columns (beyond Z), rows past 99,999,
#: the declared dimension; a normal narrow register matches little beyond its row elements.
_ROW_REF = re.compile(rb'<row r="(\d+)"')
_ODD_REF = re.compile(rb' r="([A-Z]{2,3}\d+|[A-Z]{1,3}\d{6,})"')
_SPLIT_REF = re.compile(rb"([A-Z]+)(\d+)")
_DIMENSION = re.compile(rb'<dimension ref="(?:[A-Z]+\d+:)?([A-Z]{1,3})(\d+)"')


def _long_run(chunk: bytes) -> bool:
    """A run of more than MAX_TEXT_RUN bytes without a tag inside `chunk`. Such a run holds a
    whole aligned window of half that size: only tag-free windows are measured (cheap)."""
    half = MAX_TEXT_RUN // 2
    for k in range(0, len(chunk) - half + 1, half):
        if chunk.find(b"<", k, k + half) < 0:
            start = chunk.rfind(b"<", 0, k) + 1
            end = chunk.find(b"<", k + half)
            if (len(chunk) if end < 0 else end) - start > MAX_TEXT_RUN:
                return True
    return False


def _column_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


def check_workbook(path: str | os.PathLike[str], what: str = "workbook") -> None:
    """Refuse an .xlsx whose parts would blow up the reader, before any reading: inflated size
    above MAX_INFLATED_BYTES (declared and while streaming), a sheet reaching beyond
    MAX_SHEET_COLUMNS columns or MAX_SHEET_CELLS cells, a text run longer than MAX_TEXT_RUN.
    Streams each part in 1 MiB chunks: memory stays bounded whatever the file holds. Not a zip
    (an old .xls, a CSV): nothing to check here."""
    p = Path(path)
    try:
        archive = zipfile.ZipFile(p)
    except (zipfile.BadZipFile, OSError):
        return
    with archive:
        parts = [i for i in archive.infolist() if not i.is_dir()]
        declared = sum(i.file_size for i in parts)
        if declared > MAX_INFLATED_BYTES:
            raise InputError(
                f"{p}: {what} inflates to {declared:,} bytes, above the "
                f"{MAX_INFLATED_BYTES:,}-byte limit (zip bomb?); refused"
            )
        total = 0
        for info in parts:
            if not info.filename.endswith(".xml"):
                continue
            sheet = info.filename.startswith("xl/worksheets/")
            rows = cols = run = 0
            tail = b""
            try:
                with archive.open(info) as fh:
                    while chunk := fh.read(1 << 20):
                        total += len(chunk)
                        if total > MAX_INFLATED_BYTES:
                            raise InputError(
                                f"{p}: {what} inflates beyond the {MAX_INFLATED_BYTES:,}-byte "
                                "limit (zip bomb?); refused"
                            )
                        first, last = chunk.find(b"<"), chunk.rfind(b"<")
                        if first < 0:  # no tag in this chunk: the text run goes on
                            run += len(chunk)
                            too_long = run > MAX_TEXT_RUN
                        else:
                            too_long = run + first > MAX_TEXT_RUN or _long_run(chunk)
                            run = len(chunk) - last - 1
                        if too_long or run > MAX_TEXT_RUN:
                            raise InputError(
                                f"{p}: {what} part {info.filename} holds a text over "
                                f"{MAX_TEXT_RUN:,} bytes (Excel allows 32,767 characters); refused"
                            )
                        if sheet:
                            window = tail + chunk
                            found = [int(n) for n in _ROW_REF.findall(window)]
                            wide = []
                            odd = _ODD_REF.findall(window) + [
                                a + b for a, b in _DIMENSION.findall(window)
                            ]
                            for ref in odd:
                                split = _SPLIT_REF.fullmatch(ref)
                                if split is None:  # _ODD_REF and _DIMENSION find only refs
                                    continue
                                letters, number = split.groups()
                                wide.append(_column_number(letters))
                                found.append(int(number))
                            rows = max(rows, *found) if found else rows
                            # a sheet without columns past Z has at most 26
                            cols = max(cols, 26, *wide) if wide else max(cols, 26)
                            tail = window[-64:]
                        if cols > MAX_SHEET_COLUMNS or rows * cols > MAX_SHEET_CELLS:
                            raise InputError(
                                f"{p}: {what} sheet {info.filename} reaches row {rows:,}, "
                                f"column {cols:,}: above the {MAX_SHEET_CELLS:,}-cell / "
                                f"{MAX_SHEET_COLUMNS:,}-column limit; refused"
                            )
            except (zipfile.BadZipFile, OSError, EOFError, zlib_error) as exc:
                raise InputError(f"{p}: {what} part {info.filename} is corrupt ({exc})") from None
