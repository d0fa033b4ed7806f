"""Sheet rows as streamed OOXML: a workbook's big sheets are written by xlsxwriter with their
header row only, then their data rows are rendered in bulk by polars and spliced into the closed
workbook's zip (xlsxwriter costs ~4 us a cell: 3.6M cells is 15-30 s). Used by the review
workbook and the report workbook."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from xlsxwriter.utility import xl_col_to_name

from imsdata.fileio import FORMULA_START_RE, formula_start_expr, safe_text_expr


@dataclass(frozen=True)
class SheetColumn:
    """One column of a streamed sheet: its header, the frame column it shows, and its kind."""

    header: str
    source: str  # column of the sheet frame
    kind: str  # text / date / money / int / editable / hidden
    width: float = 14
    #: set by `fill_sheets`: `source` holds indexes into the workbook's shared-string table
    shared: bool = False


#: XML 1.0 forbids these control characters; Excel stores them escaped as _xHHHH_.
_CONTROL = [chr(i) for i in (*range(0, 9), 11, 12, *range(14, 32))]
_CONTROL_ESCAPES = [f"_x{ord(ch):04X}_" for ch in _CONTROL]
#: Rows per chunk when streaming sheet XML (bounded memory for big workbooks).
_CHUNK_ROWS = 20_000
_EXCEL_MAX_TEXT = 32_767
#: A text column goes through the workbook's shared-string table (as Excel itself stores text)
#: when at most this share of its cells are distinct (sections, statuses, GSTINs, names, reasons):
#: a short index per cell instead of the text, so less XML to render and to zip (the 200k-row
#: report sheet 152 -> 127 MB). Columns of mostly distinct values (numbers, keys) stay inline.
_SHARED_MAX_SHARE = 0.5


def excel_date(col: str) -> pl.Expr:
    """Dates as Excel serial numbers (days since 1899-12-30), what write_datetime stores."""
    return (pl.col(col) - pl.lit(dt.date(1899, 12, 30))).dt.total_days()


#: Text needing XML escapes: & < >, XML-forbidden control characters, a literal _xHHHH_.
_ESCAPE_RE = r"[&<>\x00-\x08\x0B\x0C\x0E-\x1F]|_x[0-9A-Fa-f]{4}_"
#: Text whose leading or trailing white space Excel keeps only with xml:space="preserve".
_SPACE_RE = r"^\s|\s$"


def xml_escaped(expr: pl.Expr) -> pl.Expr:
    """Text as an inline-string body: XML-escaped, control characters as _xHHHH_ (a literal
    _xHHHH_ in the data is protected first)."""
    return (
        expr.str.replace_all(r"_(x[0-9A-Fa-f]{4}_)", "_x005F_$1")
        .str.replace_all("&", "&amp;", literal=True)
        .str.replace_all("<", "&lt;", literal=True)
        .str.replace_all(">", "&gt;", literal=True)
        .str.replace_many(_CONTROL, _CONTROL_ESCAPES)
    )


_NUMBER_KINDS = ("money", "date", "int")


def _column_needs(rows: pl.DataFrame, cols: list[SheetColumn]) -> list[dict[str, bool]]:
    """Per column of this chunk, which of the per-cell steps can change a cell at all: a step
    no cell needs is left out of the chunk's expression. Text columns get one scan for any
    special text first, and the scans per step only when it finds some."""
    keys = ("blank", "escape", "space", "formula", "long")
    needs = [dict.fromkeys(keys, False) for _ in cols]
    first: dict[str, pl.Expr] = {}
    for i, col in enumerate(cols):
        value = pl.col(col.source)
        if col.kind in _NUMBER_KINDS or col.shared:
            first[f"blank{i}"] = value.null_count() > 0
            continue
        text = value.cast(pl.String)
        special = [_ESCAPE_RE, _SPACE_RE, *([FORMULA_START_RE] if col.kind == "text" else [])]
        first[f"blank{i}"] = (text.is_null() | (text == "")).any()
        first[f"special{i}"] = text.str.contains("|".join(special)).any()
        # bytes >= characters: a cheap bound first, the cut itself counts characters
        first[f"long{i}"] = (text.str.len_bytes().max() > _EXCEL_MAX_TEXT).fill_null(False)
    found = rows.select(**first).row(0, named=True) if first else {}
    second: dict[str, pl.Expr] = {}
    steps: dict[str, tuple[int, str]] = {}
    for i, col in enumerate(cols):
        needs[i]["blank"] = bool(found[f"blank{i}"])
        needs[i]["long"] = bool(found.get(f"long{i}", False))
        if found.get(f"special{i}"):
            text = pl.col(col.source).cast(pl.String)
            checks = {
                "escape": text.str.contains(_ESCAPE_RE),
                "space": text.str.contains(_SPACE_RE),
            }
            if col.kind == "text":
                checks["formula"] = formula_start_expr(text)
            for step, check in checks.items():
                second[f"{step}{i}"] = check.any()
                steps[f"{step}{i}"] = (i, step)
    if second:
        for name, flag in rows.select(**second).row(0, named=True).items():
            i, step = steps[name]
            needs[i][step] = bool(flag)
    return needs


def _joined(parts: list[str | pl.Expr]) -> pl.Expr:
    """concat_str of literal and column parts, adjacent literals merged (null if any is)."""
    merged: list[str | pl.Expr] = []
    for part in parts:
        if isinstance(part, str) and merged and isinstance(merged[-1], str):
            merged[-1] += part
        else:
            merged.append(part)
    return pl.concat_str(
        [pl.lit(p) if isinstance(p, str) else p for p in merged], ignore_nulls=False
    )


def _cell_parts(
    col: SheetColumn, letter: str, row: pl.Expr, style: int | None, needs: dict[str, bool]
) -> list[str | pl.Expr]:
    """One column's cells as XML parts: text is always an inline string (never a formula or
    URL), numbers and dates are values; an empty cell is written only when its format must
    show. Steps that no cell of the chunk needs (`needs`) are skipped: same bytes, less work."""
    s = f' s="{style}"' if style is not None else ""
    if col.shared:
        index = pl.col(col.source).cast(pl.String)
        parts: list[str | pl.Expr] = [f'<c r="{letter}', row, f'" t="s"{s}><v>', index, "</v></c>"]
    elif col.kind in _NUMBER_KINDS:
        if col.kind == "money":
            value = pl.col(col.source).cast(pl.String)
        elif col.kind == "date":
            value = excel_date(col.source).cast(pl.String)
        else:
            value = pl.col(col.source).cast(pl.Int64).cast(pl.String)
        parts = [f'<c r="{letter}', row, f'"{s}><v>', value, "</v></c>"]
    else:
        text = pl.col(col.source).cast(pl.String)
        if col.kind == "text" and needs["formula"]:  # shown, never read back: formula-safe
            text = safe_text_expr(text)
        if needs["long"]:  # Excel holds at most 32,767 characters (xlsxwriter cuts the same way)
            text = text.str.slice(0, _EXCEL_MAX_TEXT)
        if needs["blank"]:
            text = pl.when(text != "").then(text)  # empty text: a blank cell
        open_t: list[str | pl.Expr] = ["<is><t>"]
        if needs["space"] or needs["long"]:  # a cut may end in white space
            space = pl.when(text.str.contains(_SPACE_RE)).then(pl.lit(' xml:space="preserve"'))
            open_t = ["<is><t", space.otherwise(pl.lit("")), ">"]
        body = xml_escaped(text) if needs["escape"] else text
        parts = [f'<c r="{letter}', row, f'" t="inlineStr"{s}>', *open_t, body, "</t></is></c>"]
    if not needs["blank"]:
        return parts
    blank = _joined([f'<c r="{letter}', row, f'"{s}/>']) if style is not None else pl.lit("")
    return [_joined(parts).fill_null(blank)]


def rows_xml(
    rows: pl.DataFrame, cols: list[SheetColumn], styles: dict[str, int], offset: int = 0
) -> pl.Series:
    """Each row as one `<row>` of sheet XML; the first is Excel row 2 + `offset`. One flat
    concat_str per row (no intermediate string column per cell)."""
    needs = _column_needs(rows, cols)
    row = pl.col("__row__")
    parts: list[str | pl.Expr] = ['<row r="', row, '">']
    for c, col in enumerate(cols):
        parts += _cell_parts(col, xl_col_to_name(c), row, styles.get(col.kind), needs[c])
    parts.append("</row>")
    numbered = rows.with_columns(
        (pl.int_range(pl.len()) + 2 + offset).cast(pl.String).alias("__row__")
    )
    return numbered.select(_joined(parts).alias("xml"))["xml"]


Sheets = dict[str, tuple[list[SheetColumn], pl.DataFrame]]
_SHARED_PART = "xl/sharedStrings.xml"
_SST_COUNTS = re.compile(r'count="(\d+)" uniqueCount="(\d+)"')


def _shown_text(text: pl.Expr, kind: str) -> pl.Expr:
    """A text cell as Excel shows it (what the inline path writes): formula-safe for `text`
    columns, cut at Excel's limit, empty text a blank cell (null)."""
    if kind == "text":
        text = safe_text_expr(text)
    text = text.str.slice(0, _EXCEL_MAX_TEXT)
    return pl.when(text != "").then(text)


def _share_text(sheets: Sheets, first: int) -> tuple[Sheets, bytes, int]:
    """Route the repetitive text columns (`_SHARED_MAX_SHARE`) through the shared-string table,
    numbered from `first` (the entries xlsxwriter wrote: headers). Returns the sheets with those
    columns as indexes, the table's new `<si>` entries (first-seen order: the same bytes for the
    same rows) and how many cells refer to them."""
    planned: list[tuple[str, int, pl.DataFrame]] = []  # sheet, column, distinct raw -> shown
    for name, (cols, rows) in sheets.items():
        for i, col in enumerate(cols):
            if col.kind in _NUMBER_KINDS or not rows.height:
                continue
            raw = rows.get_column(col.source).cast(pl.String).unique(maintain_order=True)
            if raw.len() > _SHARED_MAX_SHARE * rows.height:
                continue
            pairs = raw.drop_nulls().to_frame("raw")
            planned.append(
                (name, i, pairs.with_columns(shown=_shown_text(pl.col("raw"), col.kind)))
            )
    if not planned:
        return sheets, b"", 0
    texts = (
        pl.concat([pairs.get_column("shown") for *_, pairs in planned])
        .drop_nulls()
        .unique(maintain_order=True)
    )
    index = texts.to_frame("shown").with_columns(
        index=pl.int_range(first, first + texts.len(), dtype=pl.UInt32)
    )
    out = dict(sheets)
    refs = 0
    for name, i, pairs in planned:
        cols, rows = out[name]
        mapped = pairs.join(index, on="shown", how="inner")
        col = cols[i]
        shared = f"__shared_{i}__"
        cells = (
            rows.get_column(col.source)
            .cast(pl.String)
            .replace_strict(mapped["raw"], mapped["index"], default=None, return_dtype=pl.UInt32)
        )
        refs += cells.len() - cells.null_count()
        cols = [*cols[:i], dataclasses.replace(col, source=shared, shared=True), *cols[i + 1 :]]
        out[name] = (cols, rows.with_columns(cells.alias(shared)))
    text = pl.col("shown")
    space = pl.when(text.str.contains(_SPACE_RE)).then(pl.lit(' xml:space="preserve"'))
    entries = index.select(
        pl.concat_str(
            pl.lit("<si><t"),
            space.otherwise(pl.lit("")),
            pl.lit(">"),
            xml_escaped(text),
            pl.lit("</t></si>"),
        )
    ).to_series()
    return out, "".join(entries.to_list()).encode("utf-8"), refs


def _with_entries(sst: bytes, entries: bytes, count: int, unique: int) -> bytes:
    """xlsxwriter's shared-string table with `entries` appended and its counts set."""
    xml = _SST_COUNTS.sub(f'count="{count}" uniqueCount="{unique}"', sst.decode("utf-8"), count=1)
    head, tail = xml.rsplit("</sst>", 1)
    return head.encode("utf-8") + entries + ("</sst>" + tail).encode("utf-8")


def fill_sheets(book: bytes, target: Path, sheets: Sheets, styles: dict[str, int]) -> None:
    """Copy the closed workbook into `target`, streaming each sheet's data rows into its
    sheet XML (after the header row) and widening the sheet's dimension to match. Repetitive
    text goes into the workbook's shared-string table (`_share_text`)."""
    with (
        zipfile.ZipFile(io.BytesIO(book)) as src,
        # level 1: a third of the default's CPU for a file ~20% bigger (75 MB of XML at 200k)
        zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as dst,
    ):
        names = set(src.namelist())
        sst = src.read(_SHARED_PART) if _SHARED_PART in names else b""
        counts = _SST_COUNTS.search(sst.decode("utf-8"))
        entries = b""
        if counts is not None:  # xlsxwriter writes the table when any text is (the headers)
            sheets, entries, refs = _share_text(sheets, int(counts[2]))
            count, unique = int(counts[1]) + refs, int(counts[2]) + entries.count(b"<si>")
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == _SHARED_PART and entries:
                dst.writestr(info, _with_entries(data, entries, count, unique))
                continue
            if info.filename not in sheets:
                dst.writestr(info, data)
                continue
            cols, rows = sheets[info.filename]
            xml = data.decode("utf-8")
            head, tail = xml.split("</sheetData>", 1)
            last = f"{xl_col_to_name(len(cols) - 1)}{rows.height + 1}"
            head = re.sub(
                r'<dimension ref="[^"]*"/>', f'<dimension ref="A1:{last}"/>', head, count=1
            )
            with dst.open(info.filename, "w", force_zip64=True) as out:
                out.write(head.encode("utf-8"))
                for chunk in _rendered(rows, cols, styles):
                    out.write(chunk)
                out.write(("</sheetData>" + tail).encode("utf-8"))


def _chunk(
    rows: pl.DataFrame, cols: list[SheetColumn], styles: dict[str, int], start: int
) -> bytes:
    body = rows_xml(rows.slice(start, _CHUNK_ROWS), cols, styles, offset=start)
    return "".join(body.to_list()).encode("utf-8")


def _rendered(
    rows: pl.DataFrame, cols: list[SheetColumn], styles: dict[str, int]
) -> Iterator[bytes]:
    """The sheet's rows as XML, chunk by chunk, in order; the next chunk is rendered (polars,
    GIL released) while the caller compresses this one (zlib, GIL released): the two overlap
    on a second core. At most two chunks are held at once."""
    starts = range(0, rows.height, _CHUNK_ROWS)
    if len(starts) < 2:
        yield from (_chunk(rows, cols, styles, start) for start in starts)
        return
    with ThreadPoolExecutor(max_workers=1) as pool:
        ahead = pool.submit(_chunk, rows, cols, styles, starts[0])
        for start in starts[1:]:
            done = ahead.result()
            ahead = pool.submit(_chunk, rows, cols, styles, start)
            yield done
        yield ahead.result()
