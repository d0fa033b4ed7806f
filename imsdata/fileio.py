"""Atomic file writes (temp file + rename) and frame writers chosen by file suffix."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

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
_FORMULA_START_RE = r"^[=+\-@\t\r]"


def safe_text(value: str | None) -> str | None:
    """A text cell bound for a spreadsheet, formula-safe: a value starting with = + - @, tab or
    CR gets a leading apostrophe (the OWASP rule), so it is shown, never run. Only for text:
    numbers (a negative amount) are written as numbers and never pass through here."""
    if value and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_text_expr(expr: pl.Expr) -> pl.Expr:
    """`safe_text` on a polars String expression (the same rule, vectorised)."""
    return pl.when(expr.str.contains(_FORMULA_START_RE)).then(pl.lit("'") + expr).otherwise(expr)


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
