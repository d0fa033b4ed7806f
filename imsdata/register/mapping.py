"""Which file header feeds which canonical field: built-in spellings, presets and mapping files.

Resolution order for each field: the user's mapping file, then the preset, then the spellings
recognised out of the box (`spellings.toml`, the one list of header spellings). Presets are data:
one TOML file per ERP in `imsdata/register/presets/`.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources
from typing import Any, TypeVar

from imsdata.errors import InputError, UsageError
from imsdata.fileio import read_toml
from imsdata.register._parse import key, spellings
from imsdata.schemas import AMOUNT_HEADS, REGISTER_DOC_TYPES, SPLIT_HEADS

#: Source fields a register file can provide, in the order the summary shows them.
FIELDS: tuple[str, ...] = (
    "register_id", "supplier_gstin", "supplier_name", "doc_type", "doc_number", "doc_date",
    "voucher_date", "taxable_value", "igst", "cgst", "sgst", "cess", "doc_value", "pos",
    "reverse_charge", "recipient_gstin", "total_tax",
)  # fmt: skip
MONEY_FIELDS: tuple[str, ...] = (
    "taxable_value", "igst", "cgst", "sgst", "cess", "doc_value", "total_tax",
)  # fmt: skip
#: Amount fields whose columns are summed when a file splits them by rate or a mapping file
#: lists several ("Input CGST 9%" + "Input CGST 2.5%"); other fields take one column.
SUMMED_FIELDS: tuple[str, ...] = AMOUNT_HEADS
#: Fields that must be found; a date may come from doc_date or, failing that, voucher_date.
REQUIRED: tuple[str, ...] = ("supplier_gstin", "doc_number", "doc_date", "taxable_value")
SIGN_CONVENTIONS: dict[str, str] = {
    "negative_is_credit_note": "a row booked with negative amounts is a credit note: its amounts "
    "become positive and its type CN (a negative debit note is rejected as ambiguous)",
    "absolute": "signs are ignored (amounts taken as absolute values); the type column decides",
}
_OPTIONS = {
    "date_format", "date_formats", "sign_convention", "default_doc_type", "decimal_comma",
    "line_items",
}  # fmt: skip


_T = TypeVar("_T")


def _pick(mine: _T, base: _T) -> _T:
    """An option layered over its base: this one unless unset (None or empty)."""
    return mine if mine not in (None, ()) else base


@dataclass(frozen=True)
class Mapping:
    """Explicit column choices and reading options (from a preset and/or a mapping file).

    `columns` maps a field to candidate headers, first present wins; an empty tuple means the
    field is deliberately not read. `strict` fields come from the user: a missing header is an
    error rather than a fallback to the built-in spellings. Options left None take the default
    (see the properties) unless a layer below sets them.
    """

    columns: dict[str, tuple[str, ...]] = field(default_factory=dict)
    strict: frozenset[str] = frozenset()
    date_formats: tuple[str, ...] = ()
    sign_convention: str | None = None
    default_doc_type: str | None = None
    decimal_comma: bool | None = None
    line_items: bool | None = None  # None: detected (an item column and a document on 2+ rows)
    name: str = "built-in spellings"

    @property
    def sign(self) -> str:
        """The sign convention in force (default: negative_is_credit_note)."""
        return self.sign_convention or "negative_is_credit_note"

    @property
    def doc_type_default(self) -> str:
        """The document type of a row whose type cell is blank (default INV)."""
        return self.default_doc_type or "INV"

    def over(self, base: Mapping) -> Mapping:
        """This mapping layered over `base`: this one wins field by field and option by option."""

        return replace(
            base,
            columns={**base.columns, **self.columns},
            strict=base.strict | self.strict,
            date_formats=_pick(self.date_formats, base.date_formats),
            sign_convention=_pick(self.sign_convention, base.sign_convention),
            default_doc_type=_pick(self.default_doc_type, base.default_doc_type),
            decimal_comma=_pick(self.decimal_comma, base.decimal_comma),
            line_items=_pick(self.line_items, base.line_items),
            name=f"{self.name} over {base.name}",
        )


def _from_toml(data: dict[str, Any], origin: str, *, strict: bool) -> Mapping:
    """Build a Mapping from parsed TOML, naming `origin` in every error."""
    unknown = set(data) - {"columns", "options", "description", "preset"}
    if unknown:
        raise InputError(
            f"{origin}: unknown section(s) {sorted(unknown)}; use [columns], [options]"
        )
    columns: dict[str, tuple[str, ...]] = {}
    for name, value in data.get("columns", {}).items():
        if name not in FIELDS:
            raise InputError(
                f"{origin}: unknown field '{name}' in [columns]; known: {list(FIELDS)}"
            )
        values = [value] if isinstance(value, str) else value
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise InputError(f"{origin}: [columns] {name} must be a header or a list of headers")
        columns[name] = tuple(v for v in values if v.strip())
    options = data.get("options", {})
    bad = set(options) - _OPTIONS
    if bad:
        raise InputError(f"{origin}: unknown option(s) {sorted(bad)}; known: {sorted(_OPTIONS)}")
    formats = options.get("date_formats", [])
    if "date_format" in options:
        formats = [options["date_format"], *formats]
    if isinstance(formats, str) or not all(isinstance(f, str) and "%" in f for f in formats):
        raise InputError(f"{origin}: date formats must be strftime patterns such as '%d/%m/%Y'")
    sign = options.get("sign_convention")
    if sign is not None and sign not in SIGN_CONVENTIONS:
        raise InputError(f"{origin}: sign_convention must be one of {list(SIGN_CONVENTIONS)}")
    default_type = options.get("default_doc_type")
    if default_type is not None and str(default_type).upper() not in REGISTER_DOC_TYPES:
        raise InputError(f"{origin}: default_doc_type must be INV, DN or CN")
    comma = options.get("decimal_comma")
    if comma is not None and not isinstance(comma, bool):
        raise InputError(f"{origin}: decimal_comma must be true or false")
    items = options.get("line_items")
    if items is not None and not isinstance(items, bool):
        raise InputError(f"{origin}: line_items must be true or false")
    return Mapping(
        columns=columns,
        strict=frozenset(columns) if strict else frozenset(),
        date_formats=tuple(formats),
        sign_convention=sign,
        default_doc_type=str(default_type).upper() if default_type is not None else None,
        decimal_comma=comma,
        line_items=items,
        name=origin,
    )


@cache
def presets() -> dict[str, str]:
    """Named presets shipped with imsdata: name -> one-line description."""
    folder = resources.files("imsdata.register").joinpath("presets")
    out = {}
    for item in sorted(folder.iterdir(), key=lambda p: p.name):
        if item.name.endswith(".toml"):
            data = tomllib.loads(item.read_text("utf-8"))
            out[item.name.removesuffix(".toml")] = data.get("description", "")
    return out


def load_preset(name: str) -> Mapping:
    """The named preset (see `presets()`); an unknown name is a usage error listing the names."""
    if name not in presets():
        raise UsageError(f"unknown preset '{name}'; available: {', '.join(presets())}")
    text = resources.files("imsdata.register").joinpath("presets", f"{name}.toml")
    return _from_toml(tomllib.loads(text.read_text("utf-8")), f"preset {name}", strict=False)


def load_mapping(path: str | os.PathLike[str]) -> Mapping:
    """A user mapping file (TOML: `[columns] doc_number = "Ref No"`, `[options] date_format`...).

    A mapping file may name a base `preset = "tally"`; its own columns win over the preset's.
    """
    data = read_toml(path, "mapping file")
    mapping = _from_toml(data, str(path), strict=True)
    if "preset" in data:
        mapping = mapping.over(load_preset(str(data["preset"])))
    return mapping


def _header_keys(header: str) -> tuple[str, ...]:
    """Comparison keys of a header: as written, and without a trailing '(Rs.)'-style unit."""
    bare = re.sub(r"\s*[(\[][^()\[\]]*[)\]]\s*$", "", header)
    return tuple(dict.fromkeys(k for k in (key(header), key(bare)) if k))


@cache
def spelling_table() -> dict[str, tuple[str, int]]:
    """Spelling key -> (field, priority) for every built-in header spelling."""
    table: dict[str, tuple[str, int]] = {}
    for name, words in spellings()["headers"].items():
        for rank, word in enumerate(words):
            table.setdefault(key(word), (name, rank))
    return table


def recognised(header: str, extra: Iterable[str] = ()) -> bool:
    """True when a cell looks like a register header (used to find the header row)."""
    extra_keys = {key(h) for h in extra}
    return any(k in spelling_table() or k in extra_keys for k in _header_keys(header))


def _find(headers: Sequence[str], wanted: str) -> str | None:
    """The header equal to `wanted`, exactly or by comparison key."""
    if wanted in headers:
        return wanted
    want = key(wanted)
    return next((h for h in headers if want in _header_keys(h)), None)


@dataclass(frozen=True)
class Resolved:
    """Which header(s) feed each field: `used` the first (for messages), `parts` every column."""

    used: dict[str, str]
    parts: dict[str, tuple[str, ...]]  # fields read from several columns, summed
    total_only: bool = False  # only a total GST column: reconciled on total tax

    def shown(self) -> dict[str, str]:
        """Field -> header as a user reads it ('Input CGST 9% + Input CGST 2.5%')."""
        return {f: " + ".join(self.parts.get(f, (h,))) for f, h in self.used.items()}


@cache
def _rate_pattern() -> re.Pattern[str]:
    return re.compile(spellings()["rate_split"]["pattern"])


def rate_split_field(header: str) -> str | None:
    """The amount field a rate column belongs to: 'Input CGST 9%' -> 'cgst', else None."""
    pattern = _rate_pattern()
    if not pattern.search(header):
        return None
    bare = pattern.sub(" ", header).strip()
    hits = [spelling_table()[k] for k in _header_keys(bare) if k in spelling_table()]
    field_name = hits[0][0] if hits else None
    return field_name if field_name in SUMMED_FIELDS else None


def resolve(
    headers: Sequence[str], mapping: Mapping, *, id_column: str | None, origin: str
) -> Resolved:
    """Field -> header(s) for this file. Raises InputError naming the columns it could not find.

    Amount columns of one head split by rate ('Input CGST 9%', 'CGST @ 2.5%') are all read and
    summed, unless the file also has the head's plain column (then that total is read alone);
    a user's mapping file listing several present columns for an amount field sums them.
    """
    used: dict[str, str] = {}
    parts: dict[str, tuple[str, ...]] = {}
    taken: set[str] = set()
    if id_column is not None:
        found = _find(headers, id_column)
        if found is None:
            raise InputError(
                f"{origin}: id column '{id_column}' not found; headers seen: {_list(headers)}"
            )
        used["register_id"] = found  # not taken: the id may also be, say, the bill number
    for name, candidates in mapping.columns.items():
        if name in used:
            continue
        hits = [h for c in candidates if (h := _find(headers, c)) and h not in taken]
        hits = list(dict.fromkeys(hits))
        if hits and name in SUMMED_FIELDS and name in mapping.strict and len(hits) > 1:
            used[name], parts[name] = hits[0], tuple(hits)
            taken.update(hits)
        elif hits:
            used[name] = hits[0]
            taken.add(hits[0])
        elif not candidates:
            used[name] = ""  # deliberately not read
        elif name in mapping.strict:
            raise InputError(
                f"{origin}: the mapping names {_list(candidates)} for {name}, but the file has "
                f"no such column; headers seen: {_list(headers)}"
            )
    best: dict[str, tuple[int, int, str]] = {}
    by_rate: dict[str, list[str]] = {}
    for position, header in enumerate(headers):
        if header in taken:
            continue
        known = [spelling_table()[k] for k in _header_keys(header) if k in spelling_table()]
        for name, rank in known[:1]:
            if name not in used and (name not in best or (rank, position) < best[name][:2]):
                best[name] = (rank, position, header)
        if not known and (split := rate_split_field(header)) is not None:
            by_rate.setdefault(split, []).append(header)
    for name, (_, _, header) in best.items():
        used[name] = header
    for name, columns in by_rate.items():
        if name not in used:  # a plain column of the head, when present, is its total
            used[name], parts[name] = columns[0], tuple(columns)
    total_only = not any(used.get(h) for h in SPLIT_HEADS) and bool(used.get("total_tax"))
    missing = [f for f in REQUIRED if not used.get(f)]
    if "doc_date" in missing and used.get("voucher_date"):
        missing.remove("doc_date")
    if not any(used.get(h) for h in SPLIT_HEADS) and not total_only:
        missing.append("igst/cgst/sgst (at least one) or a total GST column")
    if missing:
        raise InputError(_missing_message(origin, headers, missing, mapping))
    if not total_only:
        used.pop("total_tax", None)
    keep = {f: used[f] for f in FIELDS if used.get(f)}
    return Resolved(keep, {f: p for f, p in parts.items() if f in keep}, total_only)


#: Headers of Tally's own Purchase Register; with these and no GSTIN or supplier invoice number,
#: the export lacks the columns Tally shows only when asked.
_TALLY_MARKS = frozenset({"VOUCHERNO", "VOUCHERTYPE", "PARTICULARS", "GROSSTOTAL"})


def _missing_message(origin: str, headers: Sequence[str], missing: list[str], m: Mapping) -> str:
    """One line: what is missing, examples, and how to get it (Tally: which columns to enable)."""
    keys = {k for h in headers for k in _header_keys(h)}
    if len(_TALLY_MARKS & keys) >= 3 and {"supplier_gstin", "doc_number"} & set(missing):
        wanted = [
            label
            for name, label in (
                ("supplier_gstin", "'GSTIN/UIN'"),
                ("doc_number", "'Supplier Invoice No.' and 'Supplier Invoice Date'"),
            )
            if name in missing
        ]
        return (
            f"{origin}: this is Tally's Purchase Register without {' and '.join(wanted)}, "
            "which IMS matching needs; in Tally open the Purchase Register, press F12 "
            f"(Configure), switch on {' and '.join(wanted)}, and export again "
            f"(missing: {', '.join(missing)})"
        )
    examples = {f: spellings()["headers"][f][:2] for f in missing if f in spellings()["headers"]}
    hint = "; ".join(f"{f} (e.g. {_list(e)})" for f, e in examples.items())
    advice = 'map them with --mapping FILE ([columns] doc_number = "Your Header")'
    if "preset" not in m.name:
        advice += f" or choose a --preset ({', '.join(presets())})"
    return (
        f"{origin}: required column(s) not found: {', '.join(missing)}"
        + (f" [{hint}]" if hint else "")
        + f"; headers seen: {_list(headers)}; {advice}"
    )


def _list(items: Iterable[str]) -> str:
    return ", ".join(f"'{i}'" for i in items)
