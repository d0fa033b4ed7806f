"""Read IMS downloads (JSON, zip of JSON, folders) into one validated canonical frame.

Every envelope of ims-spec.md §2 and §6.1 is unwrapped; every section of the registry is read.
Each record ends in `documents`, in `rejects` (with file, section, index, key, value, reason) or,
when it is an exact copy of a record already read, in `duplicates`.

Files from 1 MB take a fast path, whatever their layout (one line as the portal sends it, one
record per line, pretty-printed, CRLF): the section arrays are located in the raw bytes (IMS
records are flat, so no record is parsed to find them), cut at record separators into pieces of
a few MB, and each piece is turned into one record per line and parsed by Arrow's JSON reader,
the pieces concurrently (one per core: Arrow releases the GIL), amounts straight from their text
into Decimal(18,2). A piece is kept only when Arrow proves it read it exactly (valid UTF-8, the
skeleton around the arrays is valid JSON, Arrow refused nothing: no unknown key, no third
decimal, no type surprise, no line break inside a string, no negative amount, one row per
record). A refused piece is retried in spans of a few hundred records; the spans Arrow still
refuses are read by `json.loads` and decided record by record by the exact path (the bad
records and their neighbours only). A file the fast path cannot read at all is read whole with
`json.loads`, which names the problem. All sections are then staged in one lazy polars query;
validation and the document sort run side by side.
"""

from __future__ import annotations

import codecs
import io
import itertools
import json
import os
import re
import struct
import zipfile
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from decimal import Decimal
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.json as pj

from imsdata import gstin as gst
from imsdata.engine import DuckDBEngine
from imsdata.errors import InputError
from imsdata.portal import returns
from imsdata.portal.sections import (
    SECTIONS,
    Section,
    section_fields,
    wire_keys,
)
from imsdata.schemas import IMS_COLUMNS, MONEY, conform, doc_key_expr
from imsdata.schemas.ims import (
    DECLARED_COLUMNS,
    FILING_STATUS,
    FLAG_COLUMNS,
    FLAG_VALUES,
    ISSUE_COLUMNS,
    MONEY_COLUMNS,
    RAW,
    shape,
    sort_issues,
    staged_columns,
    validate_rows,
)

#: Files at least this big try the fast path first (smaller ones are parsed with json.loads).
FAST_PATH_MIN_BYTES = 1024 * 1024
#: Bytes read per streaming step from a zip member.
_CHUNK = 1024 * 1024
KEY = "__key"


_MONEY_COLUMNS = MONEY_COLUMNS + DECLARED_COLUMNS
#: Keys of an envelope that are not sections and carry nothing to read (ims-spec.md §2).
_ENVELOPE_META = frozenset(
    {"gstin", "rtin", "rtnprd", "fp", "ret_period", "reqtyp", "action", "status_cd", "chksum"}
)
_WRAPPERS = ("data", "imsdetails", "invdata")


@dataclass(frozen=True)
class IngestResult:
    """What a read produced: documents, and every record not loaded with the reason why."""

    documents: pl.DataFrame  # exactly IMS_COLUMNS, sorted
    rejects: pl.DataFrame  # ISSUE_COLUMNS: records not loaded, one row per problem
    warnings: pl.DataFrame  # ISSUE_COLUMNS: loaded, but worth a look
    duplicates: pl.DataFrame  # ISSUE_COLUMNS: exact copies of a loaded record, not loaded again


# ----------------------------------------------------------------------------------- sources


def _unsafe_member(name: str) -> bool:
    posix, win = PurePosixPath(name), PureWindowsPath(name)
    return (
        posix.is_absolute()
        or win.is_absolute()
        or bool(win.drive)
        or ".." in posix.parts
        or ".." in win.parts
    )


def _zip_members(path: Path, cap: int) -> Iterator[tuple[str, bytes]]:
    """The .json members of a zip, read in memory with at most `cap` inflated bytes in total."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(f"{path}: not a readable zip archive ({exc})") from None
    with archive:
        infos = [i for i in archive.infolist() if not i.is_dir()]
        for info in infos:
            if _unsafe_member(info.filename):
                raise InputError(
                    f"{path}: member '{info.filename}' has an unsafe path (absolute or '..'); "
                    "archive refused"
                )
        members = sorted(
            (i for i in infos if i.filename.lower().endswith(".json")), key=lambda i: i.filename
        )
        if not members:
            raise InputError(f"{path}: the archive holds no .json file")
        declared = sum(i.file_size for i in members)
        if declared > cap:
            raise InputError(
                f"{path}: inflates to {declared:,} bytes, above the {cap:,}-byte limit "
                "(zip bomb?); archive refused"
            )
        total = 0
        for info in members:
            buf = io.BytesIO()
            try:
                with archive.open(info) as fh:
                    while chunk := fh.read(_CHUNK):
                        total += len(chunk)
                        if total > cap:
                            raise InputError(
                                f"{path}: inflates beyond the {cap:,}-byte limit "
                                "(zip bomb?); archive refused"
                            )
                        buf.write(chunk)
            except (zipfile.BadZipFile, OSError, EOFError) as exc:
                raise InputError(f"{path}: member '{info.filename}' is corrupt ({exc})") from None
            yield f"{path}::{info.filename}", buf.getvalue()


def _sources(paths: Sequence[str | Path] | str | Path, cap: int) -> Iterator[tuple[str, bytes]]:
    """(name, bytes) of every JSON document behind the given files, archives and folders."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            inside = sorted(
                p for p in path.iterdir() if p.is_file() and p.suffix.lower() in {".json", ".zip"}
            )
            if not inside:
                raise InputError(f"{path}: the folder holds no .json or .zip file")
            yield from _sources(inside, cap)
        elif not path.exists():
            raise InputError(f"{path}: no such file or folder")
        elif path.suffix.lower() == ".zip":
            yield from _zip_members(path, cap)
        else:
            try:
                yield str(path), path.read_bytes()
            except OSError as exc:
                raise InputError(f"{path}: cannot be read ({exc.strerror})") from None


# ---------------------------------------------------------------------------- envelopes


@dataclass
class _Envelope:
    sections: list[tuple[str, Any]]  # (registry key, records)
    recipient: str | None
    issues: list[dict[str, Any]]


def _unwrap(obj: dict[str, Any], name: str) -> _Envelope:
    """Find the section map inside any known envelope (ims-spec.md §2.1, §2.2, §6.1)."""
    recipient: str | None = None
    node = obj
    issues: list[dict[str, Any]] = []
    while True:
        for key in ("gstin", "rtin"):
            value = next((v for k, v in node.items() if k.lower() == key), None)
            if isinstance(value, str) and value.strip():
                recipient = value.strip().upper()
        if any(k.lower() in SECTIONS for k in node):
            break
        wrappers = [k for k in node if k.lower() in _WRAPPERS and isinstance(node[k], dict)]
        if len(wrappers) != 1:
            break
        issues += _unknown_keys(node, name, skip={wrappers[0]})
        node = node[wrappers[0]]
    sections = [(k.lower(), v) for k, v in node.items() if k.lower() in SECTIONS]
    unknown = _unknown_keys(node, name, skip=set())
    if not sections and unknown:
        keys = ", ".join(sorted(node))
        raise InputError(f"{name}: no IMS section found (keys: {keys})")
    for key, value in sections:
        if value is not None and not isinstance(value, list):
            raise InputError(
                f"{name}: section '{key}' holds a {_type_name(value)}, expected a list of records"
            )
    return _Envelope([(k, v or []) for k, v in sections], recipient, issues + unknown)


def _unknown_keys(node: dict[str, Any], name: str, skip: set[str]) -> list[dict[str, Any]]:
    out = []
    for key, value in node.items():
        low = key.lower()
        if key in skip or low in SECTIONS or low in _ENVELOPE_META:
            continue
        size = f"{len(value)} records" if isinstance(value, list) else _type_name(value)
        out.append(
            {"file": name, "section": None, "index": None, "key": key, "value": size,
             "reason": "unknown top-level key, not read"}
        )  # fmt: skip
    return out


def _type_name(value: Any) -> str:
    return {dict: "object", list: "list", str: "string", bool: "boolean", type(None): "null"}.get(
        type(value), "number"
    )


# ------------------------------------------------------------------------- slow path


def _dump(value: Any) -> str:
    """JSON text with sorted keys and numbers exactly as read (Decimal stays exact)."""
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{_dump(value[k])}" for k in sorted(value)) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_dump(v) for v in value) + "]"
    if isinstance(value, Decimal):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _parse_json(name: str, data: bytes) -> Any:
    """json.loads with exact decimals and a one-line error naming the file and the problem."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if not data.strip():
        raise InputError(f"{name}: empty file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{name}: not UTF-8 text (invalid byte at offset {exc.start})") from None
    try:
        return json.loads(text, parse_float=Decimal, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        if exc.msg.startswith("Unterminated string") or exc.pos >= len(text.rstrip()):
            raise InputError(
                f"{name}: truncated JSON (ends unexpectedly at line {exc.lineno})"
            ) from None
        raise InputError(
            f"{name}: not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from None
    except (ValueError, RecursionError) as exc:
        raise InputError(f"{name}: not valid JSON ({exc})") from None


def _raw_from_records(
    records: list[Any], sec: Section, name: str, start: int
) -> tuple[pl.DataFrame, list[dict[str, Any]]]:
    """Raw section frame (every known key as text) from parsed records; misfits are rejected."""
    known = wire_keys(sec)
    known_set = set(known)
    cols: dict[str, list[str | None]] = {k: [] for k in known}
    extra: list[str | None] = []
    index: list[int] = []
    issues: list[dict[str, Any]] = []
    for i, rec in enumerate(records, start):
        if not isinstance(rec, dict):
            issues.append(_issue(name, sec.key, i, None, _dump(rec)[:200],
                                 f"record is a {_type_name(rec)}, expected an object"))  # fmt: skip
            continue
        nested = [k for k in known if isinstance(rec.get(k), (dict, list))]
        if nested:
            issues += [
                _issue(name, sec.key, i, k, _dump(rec[k])[:200], "expected a single value")
                for k in nested
            ]
            continue
        for k in known:
            cols[k].append(_text(rec.get(k)))
        unknown = {k: v for k, v in rec.items() if k not in known_set}
        extra.append(_dump(unknown) if unknown else None)
        index.append(i)
    frame = pl.DataFrame(
        {**cols, "extra_json": extra, "source_index": index},
        schema={**dict.fromkeys(known, pl.String), "extra_json": pl.String,
                "source_index": pl.Int64},
    )  # fmt: skip
    return frame, issues


def _issue(file: str, section: str | None, index: int | None, key: str | None,
           value: str | None, reason: str) -> dict[str, Any]:  # fmt: skip
    return {"file": file, "section": section, "index": index, "key": key, "value": value,
            "reason": reason}  # fmt: skip


# ------------------------------------------------------------------------- fast path

_KEY_BEFORE = re.compile(rb'"([A-Za-z0-9_]+)"\s*:\s*$')
_PLACEHOLDER = "\x00imsdata-region-{}"
_ARROW_MONEY = pa.decimal128(MONEY.precision, MONEY.scale)  # MONEY, as Arrow reads it
#: Bytes of a section array parsed as one piece; pieces are parsed concurrently, one per core.
_PIECE = 8 << 20
#: Between two records: `},{` with any JSON whitespace around the comma (any layout).
_SEPARATOR = re.compile(rb"\}[ \t\r\n]*,[ \t\r\n]*\{")
#: Bytes of a span re-tried on its own when Arrow refuses its piece (a few hundred records):
#: only the spans Arrow still refuses go through the per-record exact path.
_SUB_PIECE = 64 << 10
#: After this many refused spans in a row, the rest of the piece goes to the exact path at once.
_GIVE_UP = 4
_WORKERS = max(1, min(os.cpu_count() or 1, 8))
#: Rows staged as one part: `_finish` runs the parts of a big section concurrently.
_STAGE_ROWS = 250_000


@dataclass(frozen=True)
class ReaderOptions:
    """The reader's tuning, passed down explicitly (the result is the same for any values; only
    the speed and memory change). The defaults are the module's constants as they are when the
    options are made."""

    #: files at least this big try the fast (Arrow) path first; smaller ones use json.loads
    fast_path_min_bytes: int = dataclass_field(default_factory=lambda: FAST_PATH_MIN_BYTES)
    #: bytes of a section array parsed as one piece (pieces are parsed concurrently)
    piece_bytes: int = dataclass_field(default_factory=lambda: _PIECE)
    #: bytes of a span re-tried on its own when Arrow refuses its piece
    sub_piece_bytes: int = dataclass_field(default_factory=lambda: _SUB_PIECE)
    #: rows staged as one part (the parts of a big section are finished concurrently)
    stage_rows: int = dataclass_field(default_factory=lambda: _STAGE_ROWS)
    #: threads parsing pieces
    workers: int = dataclass_field(default_factory=lambda: _WORKERS)


def _arrow_schema(sec: Section) -> pa.Schema:
    """Every known key of the section: amounts as exact decimals, everything else as text.

    Text is a large_string: polars converts it cheaply (string_view would import without a copy
    but parses no faster and keeps every piece's bytes alive, about 150 MB more at 1M records).
    """
    money = {k for col in _MONEY_COLUMNS for k in section_fields(sec)[col]}
    return pa.schema(
        [(k, _ARROW_MONEY if k in money else pa.large_string()) for k in wire_keys(sec)]
    )


def _section_regions(data: bytes) -> list[tuple[str, int, int]]:
    """(section key, start, end) of `"<section>": [ {...} ... ]` arrays, found without parsing.

    IMS records are flat, so a section's array starts at a `[` after a section key and ends at
    the next `]` that closes a record (`}]`, whitespace allowed): a bracket inside a name does
    not end it. Any mistake here (`}]` inside a string) is caught by the checks that follow.
    """
    regions = []
    pos = data.find(b"[")
    while pos != -1:
        head = _KEY_BEFORE.search(data, max(0, pos - 64), pos)
        if head and head.group(1).decode().lower() in SECTIONS:
            body = data[pos + 1 : pos + 65].lstrip()
            end = _array_end(data, pos) if body.startswith(b"{") else -1
            if end != -1:
                regions.append((head.group(1).decode().lower(), pos, end))
                pos = data.find(b"[", end)
                continue
        pos = data.find(b"[", pos + 1)
    return regions


def _array_end(data: bytes, pos: int) -> int:
    """Index of the first `]` from `pos` that follows a record's `}` (JSON whitespace between
    them allowed), or -1. A byte search for `]` (a regular expression would stop at every
    record's `}`)."""
    while (close := data.find(b"]", pos)) != -1:
        before = close - 1
        while before > pos and data[before] in _WHITESPACE:
            before -= 1
        if before > pos and data[before] == _CLOSE_BRACE:
            return close
        pos = close + 1
    return -1


_WHITESPACE = b" \t\r\n"
_CLOSE_BRACE = ord("}")


def _pieces(data: bytes, begin: int, end: int, size: int | None = None) -> list[tuple[int, int]]:
    """Cut `data[begin:end]` at record separators (`},{`, any JSON whitespace around the comma)
    into spans of about `size` bytes (default `_PIECE`); each span starts at a `{`."""
    size = _PIECE if size is None else size
    spans, start = [], begin
    while end - start > size:
        cut = _SEPARATOR.search(data, start + size, end)
        if cut is None:
            break
        spans.append((start, cut.start() + 1))
        start = cut.end() - 1
    spans.append((start, end))
    return spans


def _arrow_table(data: bytes, start: int, end: int, schema: pa.Schema) -> pa.Table | None:
    """Records `data[start:end]` as an Arrow table, or None if Arrow refuses anything (or reads
    a negative amount).

    Record separators become line breaks (on this span only: memory stays small), whatever the
    layout: one line, one record per line, pretty-printed, CRLF. Arrow parses numbers from their
    text straight into Decimal(18,2) and refuses unknown keys, a third decimal, a number where
    text belongs, a nested value, a raw line break inside a string (so a separator found inside
    a string is refused). It accepts `{..}{..}` with no comma, so the row count must equal the
    separator count + 1: otherwise not proven.
    """
    lines, separators = _as_lines(data, start, end)
    table = _parse_lines(lines, schema)
    del lines
    if table is None or table.num_rows != separators + 1:
        # the separators are not all written alike: replace each one, whatever its whitespace
        replaced, every = _SEPARATOR.subn(b"}\n{", data[start:end])
        if every == separators:
            return None  # the same text again: refused as it is
        table, separators = _parse_lines(pa.py_buffer(replaced), schema), every
        if table is None or table.num_rows != separators + 1:
            return None
    if _negative(table):
        return None
    return table


def _as_lines(data: bytes, start: int, end: int) -> tuple[pa.Buffer, int]:
    """`data[start:end]` with its record separators turned into line breaks, and their count.

    A file writes its separators alike (`},{` on one line, `},\n{` one record per line,
    `},\n  {` pretty), so the first one found is replaced throughout by Arrow's substring
    replace (no copy of the span first, no GIL held); a separator written otherwise stays, and
    Arrow refuses it (the caller then replaces each one). The replacement has another length
    than the separator, so the change in length counts them.
    """
    first = _SEPARATOR.search(data, start, end)
    if first is None:
        return pa.py_buffer(data[start:end]), 0
    separator = first.group()
    line_break = b"}\n{" if len(separator) != 3 else b"}\n\n{"
    span = pa.py_buffer(data).slice(start, end - start)
    offsets = pa.py_buffer(struct.pack("<qq", 0, end - start))
    text = pa.Array.from_buffers(pa.large_binary(), 1, [None, offsets, span])
    lines = _compute().replace_substring(text, separator, line_break, memory_pool=_pool())
    lines = lines[0].as_buffer()
    return lines, abs(lines.size - span.size) // abs(len(line_break) - len(separator))


def _pool() -> pa.MemoryPool:
    """Arrow's memory for the fast path: jemalloc where the wheel has it (it hands freed pages
    back to the system; the default mimalloc pool keeps them, about 85 MB more at the peak of
    a 200k-document read), else the system allocator. Only these calls use it: the process's
    default pool is left as it is."""
    try:
        return pa.jemalloc_memory_pool()
    except NotImplementedError:
        return pa.system_memory_pool()


def _compute() -> Any:
    """pyarrow.compute, imported when the fast path first needs it (~40 ms to import)."""
    import pyarrow.compute as pc

    return pc


def _parse_lines(lines: pa.Buffer, schema: pa.Schema) -> pa.Table | None:
    """One record per line -> an Arrow table of `schema`, or None when Arrow refuses any."""
    options = pj.ParseOptions(
        explicit_schema=schema, unexpected_field_behavior="error", newlines_in_values=True
    )
    try:
        return pj.read_json(
            pa.BufferReader(lines),
            read_options=pj.ReadOptions(use_threads=False, block_size=lines.size + 1),
            parse_options=options,
            memory_pool=_pool(),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None


def _negative(table: pa.Table) -> bool:
    """True when an amount is negative: that record is rejected quoting its wire text, which
    only the exact path keeps (so every layout gives the same reject)."""
    for column, field in zip(table.columns, table.schema, strict=True):
        if pa.types.is_decimal(field.type) and column.null_count < len(column):
            low = _compute().min(column).as_py()
            if low is not None and low < 0:
                return True
    return False


class _SectionSchema:
    """The Arrow schema a section's pieces are parsed with: every key the section knows, or,
    once a piece has been read, only the keys that piece carried (Arrow parses a record about
    a quarter faster without the absent keys of the other spellings). A piece holding another
    known key is refused under the narrow schema and parsed again with the full one, which the
    section then keeps: the result never depends on the guess, only the speed does."""

    def __init__(self, sec: Section) -> None:
        self.full = _arrow_schema(sec)
        self.narrow: pa.Schema | None = None
        self.missed = False

    def guess(self) -> pa.Schema:
        """The schema to try first."""
        return self.narrow if self.narrow is not None and not self.missed else self.full

    def learn(self, table: pa.Table) -> None:
        """Narrow to the keys `table` (read with the full schema) carries, once."""
        if self.narrow is None and table.num_rows:
            keep = [f for f, c in zip(table.schema, table.columns, strict=True)
                    if c.null_count < table.num_rows]  # fmt: skip
            self.narrow = pa.schema(keep) if keep else self.full


def _parse_piece(
    data: bytes, start: int, end: int, schema: _SectionSchema, sub_piece: int
) -> list[Any] | None:
    """The records of one piece, in order: frames of what Arrow proves, and lists of
    `json.loads` records for the small spans it refuses (only those go through the exact,
    per-record path). None when a refused span is not valid JSON on its own: the whole file is
    then read exactly, which names the problem.
    """
    tried = schema.guess()
    table = _arrow_table(data, start, end, tried)
    if table is None and tried is not schema.full:
        schema.missed = True  # a key the narrow schema lacks (or a bad record): back to full
        table = _arrow_table(data, start, end, schema.full)
    elif table is not None and tried is schema.full:
        schema.learn(table)
    if table is not None:
        return [_frame(table)]
    full = schema.full
    spans = _pieces(data, start, end, sub_piece)
    parts: list[Any] = []
    refused = 0
    for s, e in spans:
        giving_up = refused >= _GIVE_UP  # most records refused (a new key in each?)
        if giving_up:
            e = end  # the rest of the piece at once, without more Arrow tries
        table = None if giving_up or len(spans) == 1 else _arrow_table(data, s, e, full)
        if table is not None:
            parts.append(_frame(table))
            refused = 0
            continue
        refused += 1
        try:
            records = json.loads(
                b"[" + data[s:e] + b"]", parse_float=Decimal, parse_constant=_no_constant
            )
        except (ValueError, RecursionError):
            return None
        parts.append(records)
        if giving_up:
            break
    return parts


def _parse_regions(
    data: bytes, regions: list[tuple[str, int, int]], opts: ReaderOptions
) -> list[list[Any]] | None:
    """The parts of every region (see `_parse_piece`), its pieces parsed concurrently (Arrow
    releases the GIL); None when a piece cannot be read at all."""
    schemas = [_SectionSchema(SECTIONS[key]) for key, _, _ in regions]
    jobs = [
        (i, span, schemas[i])
        for i, (_, begin, end) in enumerate(regions)
        for span in _pieces(data, begin + 1, end, opts.piece_bytes)
    ]
    with ThreadPoolExecutor(opts.workers) as pool:
        results = list(
            pool.map(
                lambda job: _parse_piece(data, job[1][0], job[1][1], job[2], opts.sub_piece_bytes),
                jobs,
            )
        )
    read: list[list[Any]] = []
    for r in results:
        if r is None:
            return None
        read.append(r)
    return [
        [part for (j, _, _), parts in zip(jobs, read, strict=True) if j == i for part in parts]
        for i in range(len(regions))
    ]


def _region_frames(
    parts: list[Any], sec: Section, name: str, start: int
) -> tuple[list[pl.DataFrame], int, list[dict[str, Any]]]:
    """Raw frames of one region's parts (numbered from `start`), its record count and the issues
    of the records read by the exact path. Consecutive proven pieces make one frame. Empties
    `parts` as it goes."""
    frames: list[pl.DataFrame] = []
    issues: list[dict[str, Any]] = []
    count, tables = start, []
    parts.append(None)
    parts.reverse()
    while parts:
        part = parts.pop()
        if isinstance(part, pl.DataFrame):
            tables.append(part)
            continue
        if tables:
            # pieces read with the narrow or the full schema: the same keys, nulls where absent
            frame = pl.concat(tables, how="diagonal") if len(tables) > 1 else tables[0]
            frame = frame.with_columns(extra_json=pl.lit(None, pl.String))
            frame.insert_column(frame.width, _index(count, frame))
            frames.append(frame)
            count, tables = count + frame.height, []
        if part is not None:  # records Arrow refused: the exact path decides each one
            frame, found = _raw_from_records(part, sec, name, count)
            frames.append(frame)
            issues += found
            count += len(part)
    return frames, count - start, issues


def _index(start: int, frame: pl.DataFrame) -> pl.Series:
    """`source_index` of a frame's rows from `start`, in the frame's own chunks (a column
    chunked otherwise would make polars copy the whole frame into one chunk at every step)."""
    lengths = frame.to_series(0).chunk_lengths() if frame.width else [frame.height]
    ends = list(itertools.accumulate(lengths, initial=start))
    return pl.concat(
        [pl.int_range(a, b, dtype=pl.Int64, eager=True) for a, b in itertools.pairwise(ends)],
        rechunk=False,
    ).alias("source_index")


def _frame(table: pa.Table) -> pl.DataFrame:
    """A proven Arrow table as a polars frame, made in the worker that parsed it (beside the
    other worker's parse, not after all of them), without its all-null columns."""
    frame = pl.from_arrow(_without_empty(table), rechunk=False)
    assert isinstance(frame, pl.DataFrame)
    return frame


def _without_empty(table: pa.Table) -> pa.Table:
    """`table` without its all-null columns: a key no record carries (most alias keys of a
    section) costs nothing further; staging reads an absent key as null, the same values."""
    empty = [f.name for f, c in zip(table.schema, table.columns, strict=True)
             if c.null_count == table.num_rows]  # fmt: skip
    return table.drop_columns(empty) if empty and len(empty) < table.num_columns else table


def _is_utf8(data: bytes) -> bool:
    """True when the bytes are valid UTF-8 (checked in slices: memory stays small)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(data)
    try:
        for start in range(0, len(data), _CHUNK * 16):
            decoder.decode(view[start : start + _CHUNK * 16])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _fast(
    name: str, data: bytes, opts: ReaderOptions | None = None
) -> tuple[_Envelope, list[tuple[Section, pl.DataFrame]]] | None:
    """The fast read of one document in any layout, or None when it cannot read it at all.

    The section arrays are cut into pieces at record separators and each piece is parsed by
    Arrow, one record per line; a span Arrow refuses is read by `json.loads` and the per-record
    exact path, so a bad record costs the exact path for its few hundred neighbours only.
    """
    if not data.isascii() and not _is_utf8(data):  # Arrow does not check UTF-8: prove it here
        return None
    regions = _section_regions(data)
    if not regions:
        return None
    pieces, last = [], 0
    for i, (_, start, end) in enumerate(regions):
        pieces += [data[last:start], json.dumps([_PLACEHOLDER.format(i)]).encode()]
        last = end + 1
    pieces.append(data[last:])
    try:
        skeleton = json.loads(b"".join(pieces), parse_float=Decimal, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        return None
    if not isinstance(skeleton, dict):
        return None
    try:
        envelope = _unwrap(skeleton, name)
    except InputError:
        return None
    markers = [
        records[0]
        if len(records) == 1
        and isinstance(records[0], str)
        and records[0].startswith(_PLACEHOLDER.format(""))
        else None
        for _, records in envelope.sections
    ]
    used = sorted(int(m.rsplit("-", 1)[1]) for m in markers if m)
    if used != list(range(len(regions))):
        return None
    parsed = _parse_regions(data, regions, opts or ReaderOptions())
    if parsed is None:
        return None
    frames: list[tuple[Section, pl.DataFrame]] = []
    offsets: dict[str, int] = {}
    for (key, records), marker in zip(envelope.sections, markers, strict=True):
        sec = SECTIONS[key]
        start = offsets.get(key, 0)  # the section's key may come twice (b2b and B2B)
        if marker:
            parts, count, issues = _region_frames(
                parsed[int(marker.rsplit("-", 1)[1])], sec, name, start
            )
            frames += [(sec, part) for part in parts]
        else:
            part, issues = _raw_from_records(records, sec, name, start)
            frames.append((sec, part))
            count = len(records)
        envelope.issues += issues
        offsets[key] = start + count
    return envelope, frames


def _slow(name: str, data: bytes) -> tuple[_Envelope, list[tuple[Section, pl.DataFrame]]]:
    obj = _parse_json(name, data)
    if not isinstance(obj, dict):
        raise InputError(
            f"{name}: the top level is a {_type_name(obj)}, expected a JSON object of IMS sections"
        )
    envelope = _unwrap(obj, name)
    frames = []
    offsets: dict[str, int] = {}
    for key, records in envelope.sections:
        sec = SECTIONS[key]
        start = offsets.get(key, 0)
        frame, issues = _raw_from_records(records, sec, name, start)
        envelope.issues += issues
        frames.append((sec, frame))
        offsets[key] = start + len(records)
    return envelope, frames


# ---------------------------------------------------------------------------- staging


def _money(text: pl.Expr) -> pl.Expr:
    """Wire text -> Decimal(18,2), null unless a plain number with at most 2 decimals."""
    t = text.str.strip_chars()
    # at most two decimals, not counting trailing zeros ("1.500" is 1.50; "1.505" is refused)
    ok = t.str.contains(r"^-?\d{1,16}(\.\d{0,2}0*)?$")
    return pl.when(ok).then(t.cast(MONEY, strict=False))


def _lookup(text: pl.Expr, mapping: dict[str, bool]) -> pl.Expr:
    return (
        text.str.strip_chars()
        .str.to_uppercase()
        .replace_strict(mapping, default=None, return_dtype=pl.Boolean)
    )


def _keep_wish(raw: pl.DataFrame) -> pl.Expr:
    """extra_json, plus an upload record's `action` (the wish) when prev_status took its place."""
    if "prev_status" not in raw.columns or "action" not in raw.columns:
        return pl.col("extra_json")
    both = raw["prev_status"].is_not_null() & raw["action"].is_not_null()
    if not both.any():
        return pl.col("extra_json")
    merged = []
    for extra, action, hit in zip(raw["extra_json"], raw["action"], both, strict=True):
        if hit:  # only upload records carrying both keys, never a download's rows
            obj = json.loads(extra, parse_float=Decimal) if extra else {}
            extra = _dump({**obj, "action": action})
        merged.append(extra)
    return pl.lit(pl.Series(merged, dtype=pl.String))


def _stage(raw: pl.DataFrame, sec: Section, name: str, recipient: str | None) -> pl.LazyFrame:
    """Raw section frame -> canonical columns plus `<col>__raw` wire text and `<col>__key` (the
    spelling a record used, only when the frame has another than the first).

    Lazy: the sections are staged together in one parallel query by `_finish`.
    """
    present = set(raw.columns)

    def text(key: str) -> pl.Expr:
        return pl.col(key) if key in present else pl.lit(None, pl.String)

    exprs: list[pl.Expr] = []
    for col, keys in section_fields(sec).items():
        wire = pl.coalesce(*(text(k) for k in keys)) if len(keys) > 1 else text(keys[0])
        if any(k in present for k in keys[1:]):  # else the first spelling, as `_wire_names` reads
            chosen = pl.lit(keys[0])
            for k in reversed(keys[1:]):
                chosen = (
                    pl.when(text(k).is_not_null() & text(keys[0]).is_null())
                    .then(pl.lit(k))
                    .otherwise(chosen)
                )
            exprs.append(chosen.alias(col + KEY))
        if col in _MONEY_COLUMNS and all(raw.schema.get(k) != pl.String for k in keys):
            exprs.append(wire.cast(MONEY).alias(col))  # fast path: already exact Decimal(18,2)
        elif col in _MONEY_COLUMNS:
            exprs += [wire.alias(col + RAW), _money(wire).alias(col)]
        elif col in ("doc_date", "orig_doc_date"):
            exprs += [
                wire.alias(col + RAW),
                wire.str.strip_chars().str.to_date("%d-%m-%Y", strict=False).alias(col),
            ]
        elif col in FLAG_COLUMNS:
            flag = _lookup(wire, FLAG_VALUES)
            if col == "pending_blocked":  # ispendactnallwd says "pending allowed": the inverse
                flag = pl.when(text(keys[0]).is_null()).then(~flag).otherwise(flag)
            exprs += [wire.alias(col + RAW), flag.alias(col)]
        elif col == "supplier_gstin":
            exprs += [wire.alias(col + RAW), wire.str.strip_chars().str.to_uppercase().alias(col)]
        elif col in ("portal_action", "itc_reduction", "pos"):
            exprs.append(wire.str.strip_chars().str.to_uppercase().alias(col))
        else:
            exprs.append(wire.alias(col))
    staged = raw.lazy().select(*exprs, _keep_wish(raw).alias("extra_json"), "source_index")
    return staged.with_columns(
        section=pl.lit(sec.key),
        doc_type=pl.lit(sec.doc_type),
        is_amendment=pl.lit(sec.is_amendment),
        supplier_pan=gst.pan_expr(pl.col("supplier_gstin")),
        supplier_filed=_lookup(pl.col("supplier_filing_status"), FILING_STATUS),
        recipient_gstin=pl.lit(recipient, pl.String),
        source_file=pl.lit(name),
    ).with_columns(doc_key=doc_key_expr())


#: Columns describing a record's content, hashed when the portal gave no `hash`.
_CONTENT = sorted(
    c for c in IMS_COLUMNS
    if c not in {"doc_key", "hash", "record_hash", "recipient_gstin", "source_file",
                 "source_index", "supplier_pan", "doc_type", "is_amendment", "supplier_filed"}
)  # fmt: skip


def _record_hash(frame: pl.DataFrame) -> pl.DataFrame:
    """record_hash = the portal's hash, else sha256 of the record's canonical JSON (DuckDB).

    The caller sets record_hash from `hash` per section; only a missing one costs a digest.
    """
    if not frame["record_hash"].null_count():
        return frame
    payload = frame.select(
        pl.struct(*(pl.col(c).cast(pl.String) for c in _CONTENT)).struct.json_encode().alias("j")
    )
    with DuckDBEngine() as engine:
        engine.register("payload", payload)
        digests = engine.query("SELECT sha256(j) AS h FROM payload", step="record_hash")
    return frame.with_columns(record_hash=pl.coalesce(pl.col("hash"), digests["h"]))


# ------------------------------------------------------------------------------ public


def _read_one(
    name: str, data: bytes, opts: ReaderOptions
) -> tuple[_Envelope, list[tuple[Section, pl.DataFrame]]]:
    result = _fast(name, data, opts) if len(data) >= opts.fast_path_min_bytes else None
    return result if result is not None else _slow(name, data)


#: Document order: by document, then file and record index (so the first copy comes first).
_ORDER = ("section", "supplier_gstin", "doc_date", "doc_number", "source_file", "source_index")


def _sort_order(frame: pl.DataFrame) -> pl.Series:
    """Row indices of `frame` in document order (`_ORDER`, nulls last).

    The rows of each file and section come in index order, so when the files also come in name
    order a stable sort on the document alone is enough (and cheaper).
    """
    keys = _ORDER[:4] if frame["source_file"].is_sorted() else _ORDER
    return frame.select(pl.arg_sort_by(keys, nulls_last=True, maintain_order=True)).to_series()


def _finish(staged: list[pl.LazyFrame], issues: list[dict[str, Any]]) -> IngestResult:
    """Validate, set record_hash, separate exact copies, sort: the final IngestResult."""
    union: dict[str, pl.DataType] = {}
    for frame in staged:
        union.update(staged_columns(frame))
    union = {**IMS_COLUMNS, **{k: union[k] for k in sorted(union) if k not in IMS_COLUMNS}}
    parts = [shape(f.with_columns(record_hash=pl.col("hash")), union) for f in staged]
    staged.clear()  # the caller's list: let the per-section frames go
    # one query stages every section (in parallel) into one frame, on polars' in-memory engine
    # chosen for this query alone (never the process-wide affinity: an embedding program's other
    # threads keep theirs): the frames are in memory already, and the streaming engine re-splits
    # the many-chunk frames Arrow builds into morsels, which costs 5x more
    combined = (
        pl.concat(parts, how="vertical").collect(engine="in-memory") if parts else pl.DataFrame()
    )
    del parts
    # one chunk per column, a column at a time: the sections' chunks differ from column to
    # column (a constant spans several sections), and polars would otherwise copy the whole
    # frame into single chunks again in every eager operation that follows
    columns = combined.get_columns()
    del combined
    combined = _column_by_column(columns, pl.Series.rechunk)
    if combined.height:
        combined = _record_hash(combined)
        with ThreadPoolExecutor(1) as pool:  # the sort runs on the other core meanwhile
            ordering = pool.submit(_sort_order, combined)
            keep, rejects, warnings = validate_rows(combined)
            rejects = _wire_names(rejects, combined)
            warnings = _wire_names(warnings, combined)
            order = ordering.result()
        columns = shape(combined, IMS_COLUMNS).get_columns()
        del combined  # its wire-text companions are no longer needed: freed before the gather
        if not keep.all():
            order = order.filter(keep.gather(order))  # the good rows, in document order
        good = _column_by_column(columns, lambda column: column.gather(order))
    else:
        good = pl.DataFrame(schema=IMS_COLUMNS)
        rejects = warnings = pl.DataFrame(schema=ISSUE_COLUMNS)
    early = pl.DataFrame(issues, schema=ISSUE_COLUMNS) if issues else None
    record_rejects = early.filter(pl.col("index").is_not_null()) if early is not None else None
    envelope_warnings = early.filter(pl.col("index").is_null()) if early is not None else None
    if record_rejects is not None:
        rejects = pl.concat([rejects, record_rejects])
    if envelope_warnings is not None:
        warnings = pl.concat([warnings, envelope_warnings])

    first = pl.struct("source_file", "section", "source_index")
    # only rows sharing a document key can be copies: find them by a hash of the key first
    shared = good.filter(pl.col("doc_key").is_not_null() & pl.col("doc_key").hash().is_duplicated())
    copies = (
        shared.filter(pl.struct("doc_key", "record_hash").is_duplicated())
        .with_columns(kept=first.first().over(["doc_key", "record_hash"]))
        .filter(
            (pl.col("kept").struct.field("source_file") != pl.col("source_file"))
            | (pl.col("kept").struct.field("source_index") != pl.col("source_index"))
        )
    )
    duplicates = copies.select(
        pl.col("source_file").alias("file"),
        "section",
        pl.col("source_index").alias("index"),
        pl.lit("doc_key").alias("key"),
        pl.col("doc_key").alias("value"),
        pl.format(
            "same record as {} {} #{}: kept that copy",
            pl.col("kept").struct.field("source_file"),
            pl.col("kept").struct.field("section"),
            pl.col("kept").struct.field("source_index"),
        ).alias("reason"),
    )
    if copies.height:
        good = good.join(
            copies.select("source_file", "section", "source_index"),
            on=["source_file", "section", "source_index"],
            how="anti",
            maintain_order="left",
        )
    return IngestResult(
        documents=shape(good, IMS_COLUMNS),
        rejects=sort_issues(conform(rejects, ISSUE_COLUMNS)),
        warnings=sort_issues(conform(warnings, ISSUE_COLUMNS)),
        duplicates=sort_issues(conform(duplicates, ISSUE_COLUMNS)),
    )


def _column_by_column(
    columns: list[pl.Series], step: Callable[[pl.Series], pl.Series]
) -> pl.DataFrame:
    """A frame of `step` applied to each column in turn, each result replacing its column in
    `columns` (the caller holds no other reference): only one column's old and new copy are
    alive at once, where a whole-frame operation holds both copies of every column."""
    for i, column in enumerate(columns):
        columns[i] = step(column)
        del column
    return pl.DataFrame(columns)


def _wire_names(issues: pl.DataFrame, staged: pl.DataFrame) -> pl.DataFrame:
    """Issue keys: canonical column -> the JSON key of that record (alias actually used)."""
    if not issues.height:
        return issues
    alias_cols = [c for c in staged.columns if c.endswith(KEY)]
    lookup = staged.select(
        pl.col("source_file").alias("file"), pl.col("section"),
        pl.col("source_index").alias("index"), *alias_cols,
    )  # fmt: skip
    joined = issues.with_row_index("_i").join(
        lookup, on=["file", "section", "index"], how="left", maintain_order="left"
    )
    out = []
    for row in joined.iter_rows(named=True):  # issues only, never every document
        col = row["key"]
        key = row.get(col + KEY) if col else None
        if key is None and col and row["section"] in SECTIONS:
            keys = section_fields(SECTIONS[row["section"]]).get(col)
            key = keys[0] if keys else col
        out.append(key or col)
    return issues.with_columns(key=pl.Series(out, dtype=pl.String))


def read_payload(obj: Any, source_file: str = "<payload>") -> IngestResult:
    """Read an already-parsed IMS JSON object (any envelope) into an IngestResult."""
    return _read_payload(obj, source_file)


def _read_payload(obj: Any, source_file: str) -> IngestResult:
    if not isinstance(obj, dict):
        raise InputError(
            f"{source_file}: the top level is a {_type_name(obj)}, "
            "expected a JSON object of IMS sections"
        )
    envelope = _unwrap(obj, source_file)
    staged, issues = [], list(envelope.issues)
    offsets: dict[str, int] = {}
    for key, records in envelope.sections:
        sec = SECTIONS[key]
        start = offsets.get(key, 0)
        frame, found = _raw_from_records(records, sec, source_file, start)
        issues += found
        staged.append(_stage(frame, sec, source_file, envelope.recipient))
        offsets[key] = start + len(records)
    return _finish(staged, issues)


def read(
    paths: Sequence[str | Path] | str | Path,
    *,
    max_archive_bytes: int = 2 * 1024**3,
    options: ReaderOptions | None = None,
) -> IngestResult:
    """Read IMS downloads (.json, .zip of .json, folders of them) into one validated frame.

    Raises InputError, naming the file and the problem, when a file cannot be read at all.
    `options`: the reader's tuning (`ReaderOptions`); the result does not depend on it.
    """
    return _read(paths, max_archive_bytes, options or ReaderOptions())


def _read(
    paths: Sequence[str | Path] | str | Path, max_archive_bytes: int, opts: ReaderOptions
) -> IngestResult:
    staged: list[pl.LazyFrame] = []
    issues: list[dict[str, Any]] = []
    other: list[returns.ReturnRead] = []  # GSTR-2B / 2A files (issue 13)
    for name, data in _sources(paths, max_archive_bytes):
        kind = returns.sniff(name, data)  # a return, or one line naming a file that is no download
        if kind is not None:
            other.append(returns.read_return(name, data, kind))
            continue
        envelope, frames = _read_one(name, data, opts)
        del data
        issues += envelope.issues
        staged += _stage_file(frames, name, envelope.recipient, opts.stage_rows)
    if other:
        return IngestResult(*returns.combine(other, with_ims=bool(staged or issues)))
    # only the staged queries hold the raw frames now: `_finish` frees them once collected
    return _finish(staged, issues)


def _stage_file(
    frames: list[tuple[Section, pl.DataFrame]], name: str, recipient: str | None, rows: int
) -> list[pl.LazyFrame]:
    """The staged queries of one file's raw frames (a big section in slices, staged side by
    side); empties `frames`, so the caller holds no raw frame of its own."""
    staged = []
    while frames:
        sec, frame = frames.pop(0)
        for start in range(0, max(frame.height, 1), rows):
            staged.append(_stage(frame.slice(start, rows), sec, name, recipient))
    return staged
