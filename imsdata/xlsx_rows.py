"""Sheet rows as streamed OOXML: a workbook's big sheets are written by xlsxwriter with their
header row only, then their data rows are rendered in bulk by polars and spliced into the closed
workbook's zip (xlsxwriter costs ~4 us a cell: 3.6M cells is 15-30 s). Used by the review
workbook and the report workbook."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from xlsxwriter.utility import xl_col_to_name

from imsdata.fileio import safe_text_expr


@dataclass(frozen=True)
class SheetColumn:
    """One column of a streamed sheet: its header, the frame column it shows, and its kind."""

    header: str
    source: str  # column of the sheet frame
    kind: str  # text / date / money / int / editable / hidden
    width: float = 14


#: XML 1.0 forbids these control characters; Excel stores them escaped as _xHHHH_.
_CONTROL = [chr(i) for i in (*range(0, 9), 11, 12, *range(14, 32))]
_CONTROL_ESCAPES = [f"_x{ord(ch):04X}_" for ch in _CONTROL]
#: Rows per chunk when streaming sheet XML (bounded memory for big workbooks).
_CHUNK_ROWS = 20_000
_EXCEL_MAX_TEXT = 32_767


def excel_date(col: str) -> pl.Expr:
    """Dates as Excel serial numbers (days since 1899-12-30), what write_datetime stores."""
    return (pl.col(col) - pl.lit(dt.date(1899, 12, 30))).dt.total_days()


def xml_text(expr: pl.Expr) -> pl.Expr:
    """Text as an inline-string cell body: XML-escaped, control characters as _xHHHH_ (a
    literal _xHHHH_ in the data is protected first), spaces kept."""
    escaped = (
        expr.str.replace_all(r"_(x[0-9A-Fa-f]{4}_)", "_x005F_$1")
        .str.replace_all("&", "&amp;", literal=True)
        .str.replace_all("<", "&lt;", literal=True)
        .str.replace_all(">", "&gt;", literal=True)
        .str.replace_many(_CONTROL, _CONTROL_ESCAPES)
    )
    space = pl.when(expr.str.contains(r"^\s|\s$")).then(pl.lit(' xml:space="preserve"'))
    return pl.concat_str(
        pl.lit("<is><t"), space.otherwise(pl.lit("")), pl.lit(">"), escaped, pl.lit("</t></is>")
    )


def cell_xml(col: SheetColumn, letter: str, row: pl.Expr, style: int | None) -> pl.Expr:
    """One column's cells as XML: text is always an inline string (never a formula or URL),
    numbers and dates are values; an empty cell is written only when its format must show."""
    s = f' s="{style}"' if style is not None else ""
    ref = pl.concat_str(pl.lit(f'<c r="{letter}'), row, pl.lit('"'))
    if col.kind == "money":
        value = pl.col(col.source).cast(pl.String)
    elif col.kind == "date":
        value = excel_date(col.source).cast(pl.String)
    elif col.kind == "int":
        value = pl.col(col.source).cast(pl.Int64).cast(pl.String)
    else:
        # Excel holds at most 32,767 characters in a cell (xlsxwriter truncates the same way)
        text = pl.col(col.source).cast(pl.String)
        if col.kind == "text":  # shown, never read back: formula-safe like every output
            text = safe_text_expr(text)
        text = text.str.slice(0, _EXCEL_MAX_TEXT)
        cell = pl.concat_str(ref, pl.lit(f' t="inlineStr"{s}>'), xml_text(text), pl.lit("</c>"))
        blank = pl.concat_str(ref, pl.lit(f"{s}/>")) if style is not None else pl.lit("")
        return pl.when(text.is_null() | (text == "")).then(blank).otherwise(cell)
    cell = pl.concat_str(ref, pl.lit(f"{s}><v>"), value, pl.lit("</v></c>"))
    blank = pl.concat_str(ref, pl.lit(f"{s}/>")) if style is not None else pl.lit("")
    return pl.when(value.is_null()).then(blank).otherwise(cell)


def rows_xml(
    rows: pl.DataFrame, cols: list[SheetColumn], styles: dict[str, int], offset: int = 0
) -> pl.Series:
    """Each row as one `<row>` of sheet XML; the first is Excel row 2 + `offset`."""
    row = (pl.int_range(pl.len()) + 2 + offset).cast(pl.String)
    cells = [
        cell_xml(col, xl_col_to_name(c), row, styles.get(col.kind)) for c, col in enumerate(cols)
    ]
    xml = pl.concat_str(
        [pl.lit('<row r="'), row, pl.lit('">'), *cells, pl.lit("</row>")], ignore_nulls=False
    )
    return rows.select(xml.alias("xml"))["xml"]


def fill_sheets(
    book: bytes,
    target: Path,
    sheets: dict[str, tuple[list[SheetColumn], pl.DataFrame]],
    styles: dict[str, int],
) -> None:
    """Copy the closed workbook into `target`, streaming each sheet's data rows into its
    sheet XML (after the header row) and widening the sheet's dimension to match."""
    with (
        zipfile.ZipFile(io.BytesIO(book)) as src,
        # level 1: a third of the default's CPU for a file ~20% bigger (75 MB of XML at 200k)
        zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as dst,
    ):
        for info in src.infolist():
            data = src.read(info.filename)
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
                for start in range(0, rows.height, _CHUNK_ROWS):
                    body = rows_xml(rows.slice(start, _CHUNK_ROWS), cols, styles, offset=start)
                    out.write("".join(body.to_list()).encode("utf-8"))
                out.write(("</sheetData>" + tail).encode("utf-8"))
