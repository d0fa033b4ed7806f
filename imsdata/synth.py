"""Deterministic synthetic data: an IMS download, the purchase register that booked the same
documents with controlled discrepancies, and the ground truth of how each should reconcile.

Used by the demo, notebooks, tests and benchmarks. The same seed gives the same data (and
byte-identical files); nothing here touches the network or real taxpayer data.

Every case is one "story" (a kind, see `KINDS`): it yields zero to two IMS records and zero to two
register rows, and one or two truth rows. Randomness comes from one `random.Random` drawing whole
columns of uniforms; everything else is vectorised polars over integer paise, turned into
`Decimal(18,2)` at the end.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import json
import math
import random
import re
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import IO

import polars as pl
import pyarrow as pa

from imsdata import gstin as gst
from imsdata.errors import UsageError
from imsdata.fileio import atomic_open, write_frame, write_json
from imsdata.portal.sections import SECTIONS, Section
from imsdata.schemas import MATCH_STATUSES, MONEY, REGISTER_COLUMNS, MatchStatus, conform
from imsdata.testing import make_gstin

__all__ = [
    "ALL_KINDS",
    "DEFAULT_MIX",
    "KINDS",
    "REGISTER_RAW_COLUMNS",
    "SPELLING_KINDS",
    "SPELLING_MIX",
    "TRUTH_COLUMNS",
    "SynthData",
    "generate",
    "write",
]


@dataclass(frozen=True)
class Kind:
    """One discrepancy story: its default share and the expected reconciliation status."""

    weight: float
    status: str | None  # status of the IMS/register pair; None when both sides stay unmatched
    description: str


#: The discrepancy kinds, their default share of cases and their expected status.
KINDS: dict[str, Kind] = {
    "clean": Kind(0.55, MatchStatus.EXACT, "identical on both sides"),
    "rounding": Kind(
        0.05, MatchStatus.WITHIN_TOLERANCE, "one head or the total off by at most Rs 1"
    ),
    "number_format": Kind(
        0.08, MatchStatus.WITHIN_TOLERANCE, "number spelled differently, equal after normalisation"
    ),
    "date_shift": Kind(0.03, MatchStatus.WITHIN_TOLERANCE, "booked with a date 1-9 days off"),
    "number_fuzzy": Kind(
        0.02, MatchStatus.PROBABLE, "prefix typo or extra suffix, same numeric core"
    ),
    "amount_mismatch": Kind(
        0.04, MatchStatus.MISMATCH, "same number, taxable or tax off beyond tolerance"
    ),
    "wrong_recipient": Kind(
        0.01, MatchStatus.MISMATCH, "booked under another GSTIN of the recipient PAN"
    ),
    "other_branch": Kind(
        0.02, MatchStatus.PAN_MATCH, "booked under another GSTIN of the supplier PAN"
    ),
    "missing_in_register": Kind(0.05, MatchStatus.MISSING_IN_REGISTER, "in IMS only"),
    "missing_in_ims": Kind(0.05, MatchStatus.MISSING_IN_IMS, "in the register only"),
    "duplicate_booking": Kind(0.01, MatchStatus.EXACT, "booked twice; the later booking is extra"),
    "amendment": Kind(
        0.02,
        MatchStatus.WITHIN_TOLERANCE,
        "IMS has the amendment, the register the original number",
    ),
    "near_miss": Kind(0.03, None, "another document of the supplier with a confusable number"),
    "class_trap": Kind(0.01, None, "IMS credit note and register invoice with the same number"),
    "future_dated": Kind(0.02, MatchStatus.EXACT, "clean pair dated after the period end"),
    "out_of_scope": Kind(
        0.02, MatchStatus.MISSING_IN_IMS, "unregistered or reverse-charge purchase"
    ),
}
DEFAULT_MIX: dict[str, float] = {k: v.weight for k, v in KINDS.items()}

#: Issue 14: how the books respell a number (each alone and with a discrepancy, `class+noise`).
SPELLINGS: dict[str, str] = {
    "fy_glued": "FY token glued to the number, separators dropped (INV/25-26/1230 as INV25261230)",
    "fy_padded": "FY token with zero-padded parts (0182/25-26 as 0182/25-026)",
    "fy_added": "an FY the supplier's number lacks, appended or prepended (S0000523202526)",
    "prefix_dropped": "prefix dropped or zero-padded (INV/25-26/2339 as 25262339)",
}
_NOISES: dict[str, str] = {
    "": MatchStatus.WITHIN_TOLERANCE,
    "rounding": MatchStatus.WITHIN_TOLERANCE,
    "date_shift": MatchStatus.WITHIN_TOLERANCE,
    "amount_mismatch": MatchStatus.MISMATCH,
}
#: Kinds off by default (weight 0): the spelling classes and their combinations, and the
#: adversarial `uncorroborated` (equal only after normalisation, amounts and date far off).
SPELLING_KINDS: dict[str, Kind] = {
    **{
        (f"{sp}+{noise}" if noise else sp): Kind(
            0.0, status, text + (f", with {noise.replace('_', ' ')}" if noise else "")
        )
        for sp, text in SPELLINGS.items()
        for noise, status in _NOISES.items()
    },
    "uncorroborated": Kind(
        0.0, None, "another document whose number is equal only after normalisation, far off"
    ),
}
ALL_KINDS: dict[str, Kind] = {**KINDS, **SPELLING_KINDS}
#: The default mix plus every spelling class (1% each) and the uncorroborated near-miss (2%).
SPELLING_MIX: dict[str, float] = {
    **DEFAULT_MIX,
    **{k: 0.01 for k in SPELLING_KINDS},
    "uncorroborated": 0.02,
}

#: Headers of the ERP-style register export (what purchase_register.csv holds), in order.
REGISTER_RAW_COLUMNS: tuple[str, ...] = (
    "Voucher No", "Voucher Date", "Supplier Name", "Supplier GSTIN", "Recipient GSTIN",
    "Voucher Type", "Bill No", "Bill Date", "Taxable Value", "IGST", "CGST", "SGST", "Cess",
    "Invoice Value", "Place of Supply", "Reverse Charge",
)  # fmt: skip
TRUTH_COLUMNS: dict[str, pl.DataType] = {
    "doc_key": pl.String(),
    "register_id": pl.String(),
    "kind": pl.String(),
    "expected_status": pl.String(),
}
VOUCHER_TYPES: dict[str, str] = {"INV": "Purchase", "DN": "Debit Note", "CN": "Credit Note"}
DOC_TYPE_SHARE: dict[str, float] = {"INV": 0.87, "DN": 0.03, "CN": 0.10}
FILES: dict[str, str] = {
    "ims": "ims_download.json",
    "register": "purchase_register.csv",
    "truth": "truth.csv",
}
PRETTY_LIMIT = 5_000  # records; larger downloads are written compact
DEFAULT_RECIPIENT = make_gstin("27", "AAECV4821K")
_MONEY_HEADS = ("taxable", "igst", "cgst", "sgst", "cess", "val")

# ---------------------------------------------------------------------------------------------
# Suppliers
# ---------------------------------------------------------------------------------------------
_FIRST = ("Shree", "Sri", "Jai", "Om", "New", "Royal", "Bharat", "Laxmi", "Maruti", "Surya",
          "Kaveri", "Ganga", "Vijay", "Apex", "Sunrise", "National", "Modern", "United", "Global",
          "Sagar")  # fmt: skip
_MIDDLE = ("Ganesh", "Balaji", "Krishna", "Sai", "Durga", "Hanuman", "Ambika", "Mahalaxmi",
           "Shakti", "Venkatesh", "Tirupati", "Siddhi", "Vinayak", "Umiya", "Khodiyar",
           "Amba")  # fmt: skip
_TRADE = ("Traders", "Enterprises", "Industries", "Agencies", "Steels", "Polymers", "Logistics",
          "Electricals", "Textiles", "Pharma", "Foods", "Packaging", "Engineering Works",
          "Distributors", "Chemicals", "Hardware", "Auto Parts", "Paper Mills", "Plastics",
          "Infotech")  # fmt: skip
_PERSON = ("Ramesh", "Suresh", "Mahesh", "Anil", "Priya", "Kavita", "Rajesh", "Sunil", "Deepak",
           "Meena", "Arjun", "Farhan", "Harpreet", "Lakshmi")  # fmt: skip
_SURNAME = ("Patel", "Shah", "Kumar", "Sharma", "Reddy", "Iyer", "Nair", "Gupta", "Jain",
            "Mehta", "Agarwal", "Desai", "Singh", "Khan")  # fmt: skip
_STATES = ("27", "29", "33", "24", "07", "09", "06", "19", "36", "08", "32", "23", "03", "10",
           "21", "37", "30")  # fmt: skip
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_REMARKS = ("Goods not received", "Rate differs from PO", "Awaiting credit note",
            "Quantity short received", "Price difference under review")  # fmt: skip

# Number styles: (has prefix, FY form, separator, zero padding); see _fy_expr for FY forms.
_STYLES: tuple[tuple[bool, int, str, int], ...] = (
    (True, 1, "/", 4),  # 0 INV/2025-26/0042
    (True, 0, "-", 0),  # 1 GT-1187
    (False, 3, "/", 5),  # 2 2025/00042
    (True, 2, "-", 0),  # 3 SRV-25-26-118
    (False, 0, "", 0),  # 4 4412
    (True, 4, "-", 5),  # 5 BILL-25-00040
    (True, 0, "/", 6),  # 6 QKI/055190
)
_STYLE_PREFIXES = {0: ("INV", "TI"), 3: ("SRV", "SVC"), 5: ("BILL", "BL")}
_DASH, _PLAIN, _QKI = 1, 4, 6
_TWO_YEAR_FY = (1, 2, 5, 6, 7)  # FY forms naming both years of the FY
_MAX_LEN = 16  # GST rule for document numbers
_NEAR_C_SLOTS = 37  # near-miss "far" numbers live this many slots ahead


def _name(rng: random.Random, kind: str) -> str:
    trade = rng.choice(_TRADE)
    if kind == "P":
        return (
            f"{rng.choice(_SURNAME)} {trade}"
            if rng.random() < 0.6
            else (f"{rng.choice(_PERSON)} {rng.choice(_SURNAME)}")
        )
    middle = rng.choice(_MIDDLE)
    base = f"{rng.choice(_FIRST)} {middle} {trade}" if rng.random() < 0.7 else f"{middle} {trade}"
    if kind == "C":
        return f"{base} {rng.choice(('Pvt Ltd', 'Private Limited', 'Ltd'))}"
    if kind == "F":
        return base + rng.choice(("", " & Co", " LLP"))
    return f"{base} (HUF)" if kind == "H" else f"{base} Association"


def _suppliers(rng: random.Random, count: int, home: str) -> pl.DataFrame:
    """Suppliers with unique PANs, valid GSTINs (and a second branch), names and number styles."""
    rows: list[dict[str, object]] = []
    pans: set[str] = set()
    for i in range(count):
        kind = rng.choices("CFPHA", weights=(50, 25, 20, 3, 2))[0]
        name = _name(rng, kind)
        # The PAN's 5th character is the holder's initial: the surname for an individual.
        words = name.split()
        holder = (words[0] if name.endswith(_TRADE) else words[-1]) if kind == "P" else name
        pan = ""
        while not pan or pan in pans:
            pan = (
                "".join(rng.choice(_LETTERS) for _ in range(3))
                + kind
                + holder[0].upper()
                + f"{rng.randrange(1, 10_000):04d}"
                + rng.choice(_LETTERS)
            )
        pans.add(pan)
        state = home if rng.random() < 0.45 else rng.choice(_STATES)
        branch_state = rng.choice(_STATES)
        style = rng.choices(range(len(_STYLES)), weights=(25, 20, 12, 10, 13, 10, 10))[0]
        initials = "".join(w[0] for w in name.split() if w[0].isalpha())[:3].upper()
        initials = initials if len(initials) >= 2 else (name[:3].upper())
        generic = _STYLE_PREFIXES.get(style)
        prefix = rng.choice(generic) if generic and rng.random() < 0.5 else initials
        rows.append(
            {
                "sup": i,
                "sup_gstin": make_gstin(state, pan),
                "sup_state": state,
                "sup_name": name,
                "branch_gstin": make_gstin(branch_state, pan, "2"),
                "style": style,
                "prefix": prefix,
                "width": rng.randrange(4, 10),  # slot width: offset 0 real, 1-3 reserved
                "start": rng.randrange(1, 900),
                "not_filed": rng.random() < 0.1,
            }
        )
    return pl.DataFrame(rows, schema_overrides={"sup": pl.Int64, "style": pl.Int64})


# ---------------------------------------------------------------------------------------------
# Small expression helpers
# ---------------------------------------------------------------------------------------------
def _uniform(rng: random.Random, n: int) -> pl.Series:
    """n uniforms in [0, 1) from 53 random bits each, drawn in one call (fast and reproducible)."""
    raw = rng.getrandbits(64 * n).to_bytes(8 * n, "little") if n else b""
    bits = pa.Array.from_buffers(pa.uint64(), n, [None, pa.py_buffer(raw)])
    words = pl.Series(bits)
    return ((words // 2048).cast(pl.Float64) * 2.0**-53).rename("u")


def _pick(u: pl.Expr, choices: list[str], weights: list[float]) -> pl.Expr:
    """Categorical draw from a uniform column: the first choice whose cumulative weight > u."""
    total = sum(weights)
    cum = 0.0
    branches = []
    for choice, w in zip(choices, weights, strict=True):
        cum += w / total
        branches.append((cum, choice))
    expr = pl.lit(branches[-1][1])
    for cum_w, choice in reversed(branches[:-1]):
        expr = pl.when(u < cum_w).then(pl.lit(choice)).otherwise(expr)
    return expr


def _fy_start(date: pl.Expr) -> pl.Expr:
    return date.dt.year() - (date.dt.month() < 4).cast(pl.Int32)


def _fy_spellings(fy: int) -> dict[int, str]:
    y4, y2, n4, n2 = str(fy), f"{fy % 100:02d}", str(fy + 1), f"{(fy + 1) % 100:02d}"
    return {1: f"{y4}-{n2}", 2: f"{y2}-{n2}", 3: y4, 4: y2, 5: f"{y4}-{n4}", 6: y4 + n2, 7: y2 + n2}


#: (FY start year * 10 + form) -> FY token, for a lookup instead of per-row string building.
_FY_TOKENS: dict[int, str] = {
    fy * 10 + form: token for fy in range(1990, 2100) for form, token in _fy_spellings(fy).items()
}


def _fy_expr(form: pl.Expr, fy: pl.Expr) -> pl.Expr:
    """The FY token in one of its spellings: 1 2025-26, 2 25-26, 3 2025, 4 25, 5 2025-2026,
    6 202526, 7 2526, 0 none."""
    code = fy.cast(pl.Int64) * 10 + form.cast(pl.Int64)
    return code.replace_strict(_FY_TOKENS, default="", return_dtype=pl.String)


def _render(prefix: pl.Expr, fy_form: pl.Expr, fy: pl.Expr, sep: pl.Expr, pad: pl.Expr,
            seq: pl.Expr) -> pl.Expr:  # fmt: skip
    """A document number from its parts: prefix, FY token and zero-padded sequence, joined."""
    padded = seq.cast(pl.String).str.zfill(pad)
    token = _fy_expr(fy_form, fy)
    return pl.concat_str(
        prefix,
        pl.when(prefix != "").then(sep).otherwise(pl.lit("")),
        token,
        pl.when(token != "").then(sep).otherwise(pl.lit("")),
        padded,
    )


def _paise_to_money(col: pl.Expr) -> pl.Expr:
    return (col.cast(pl.Decimal(20, 0)) * pl.lit(Decimal("0.01"))).cast(MONEY)


def _paise_to_number(col: pl.Expr) -> pl.Expr:
    """Paise as the float a JSON parser gives for their 2-decimal text (never 0.30000000004)."""
    text = pl.format("{}.{}", col // 100, (col % 100).cast(pl.String).str.zfill(2))
    return text.cast(pl.Float64)


def _ddmmyyyy(col: pl.Expr) -> pl.Expr:
    return col.dt.strftime("%d-%m-%Y")


def _mmyyyy(col: pl.Expr) -> pl.Expr:
    return col.dt.strftime("%m%Y")


# ---------------------------------------------------------------------------------------------
# The public API
# ---------------------------------------------------------------------------------------------
@dataclass
class SynthData:
    """A synthetic month: IMS download, the register (canonical and raw) and the ground truth."""

    download: dict  # bare IMS section map {"b2b": [...], ...}; numbers as json.load gives them
    register: pl.DataFrame  # canonical register frame (imsdata.schemas.REGISTER_COLUMNS)
    register_raw: pl.DataFrame  # the same rows with ERP headers (REGISTER_RAW_COLUMNS), strings
    truth: pl.DataFrame  # one row per IMS record and per register row (pairs share a row)
    recipient_gstin: str
    period: str  # MMYYYY of the IMS (GSTR-2B) period


def _check_args(
    n_docs: int, period: str, recipient: str, mix: dict[str, float]
) -> tuple[dt.date, dt.date]:
    if not isinstance(n_docs, int) or n_docs < 1:
        raise UsageError(f"synth: --docs must be a positive whole number, got {n_docs!r}")
    m = re.fullmatch(r"(0[1-9]|1[0-2])(\d{4})", period or "")
    if not m:
        raise UsageError(f"synth: period must be MMYYYY (e.g. 102025), got {period!r}")
    if not (gst.is_valid_format(recipient) and gst.has_valid_check(recipient)):
        raise UsageError(f"synth: recipient GSTIN {recipient!r} is not a valid GSTIN")
    unknown = sorted(set(mix) - set(ALL_KINDS))
    if unknown:
        raise UsageError(f"synth: unknown kind(s) in mix: {', '.join(unknown)}")
    if any(w < 0 for w in mix.values()) or sum(mix.values()) <= 0:
        raise UsageError("synth: mix weights must be >= 0 and not all zero")
    month, year = int(m.group(1)), int(m.group(2))
    start = dt.date(year, month, 1)
    return start, dt.date(year, month, calendar.monthrange(year, month)[1])


def _quota(n: int, mix: dict[str, float]) -> list[str]:
    """Exact kind counts (largest remainder, every weighted kind at least once when n allows)."""
    kinds = [k for k in ALL_KINDS if mix.get(k, 0) > 0]
    total = sum(mix[k] for k in kinds)
    raw = {k: n * mix[k] / total for k in kinds}
    counts = {k: int(raw[k]) for k in kinds}
    if n >= len(kinds):
        for k in kinds:
            counts[k] = max(counts[k], 1)
    order = sorted(kinds, key=lambda k: (-(raw[k] - int(raw[k])), kinds.index(k)))
    i = 0
    while sum(counts.values()) < n:
        counts[order[i % len(order)]] += 1
        i += 1
    while sum(counts.values()) > n:  # the minimum of 1 may overshoot: take from the largest
        biggest = max(kinds, key=lambda k: (counts[k], -kinds.index(k)))
        counts[biggest] -= 1
    return [k for k in kinds for _ in range(counts[k])]


def _section_classes(amended: bool) -> tuple[list[str], list[float]]:
    """Sections of one family from the registry, weighted by document type; the first section of
    a document type (b2b before ecom) takes most of that type's share."""
    keys: list[str] = []
    weights: list[float] = []
    for doc_type, share in DOC_TYPE_SHARE.items():
        family = [
            s for s in SECTIONS.values() if s.doc_type == doc_type and s.is_amendment == amended
        ]
        for i, s in enumerate(family):
            keys.append(s.key)
            weights.append(
                share * (0.97 if i == 0 else 0.03 / max(1, len(family) - 1))
                if len(family) > 1
                else share
            )
    return keys, weights


def _original_section(amended: Section) -> Section:
    """The non-amended section an amended section replaces (b2ba -> b2b, ecoma -> ecom)."""
    candidates = [
        s for s in SECTIONS.values()
        if not s.is_amendment and s.doc_type == amended.doc_type and amended.key.startswith(s.key)
    ]  # fmt: skip
    return max(candidates, key=lambda s: len(s.key))


def generate(
    n_docs: int,
    *,
    seed: int = 7,
    recipient_gstin: str | None = None,
    period: str = "102025",
    mix: dict[str, float] | None = None,
    months: int = 1,
) -> SynthData:
    """Generate one IMS period of synthetic data from `n_docs` cases, deterministically.

    A case is one story of KINDS (a clean pair, a near miss...), so with the default mix the
    download holds about 0.94 * n_docs records and the register about 0.96 * n_docs rows.
    `mix` replaces DEFAULT_MIX (kinds left out get no cases): {**DEFAULT_MIX, "near_miss": .1}.
    `months` > 1 is the multi-month mode (issue 14): the register holds the books of that many
    months up to `period`, each row with its `book_period` (MMYYYY: the month of its voucher
    date, the earliest month for older vouchers, `period` for later ones), so documents of the
    download are booked in other months than the period and than their own date.
    Raises UsageError for a bad period (MMYYYY), recipient GSTIN, mix or months.
    """
    if not isinstance(months, int) or isinstance(months, bool) or not 1 <= months <= 12:
        raise UsageError(f"synth: months must be a whole number from 1 to 12, got {months!r}")
    recipient = (recipient_gstin or DEFAULT_RECIPIENT).upper()
    mix = dict(DEFAULT_MIX if mix is None else mix)
    period_start, period_end = _check_args(n_docs, period, recipient, mix)
    rng = random.Random(f"imsdata.synth:{seed}")
    home = recipient[:2]
    alt_state = next(s for s in _STATES if s != home)
    alt_recipient = make_gstin(alt_state, gst.pan(recipient))

    suppliers = _suppliers(rng, max(8, n_docs // 30), home)
    cases = _cases(rng, n_docs, mix, suppliers, period_start, period_end, home)
    ims = _ims_records(rng, cases, period, recipient)
    register = _register_rows(cases, recipient, alt_recipient)
    del cases  # the largest frame; free it before the download's Python objects are built
    truth = _truth(ims, register)
    register_raw = _register_raw(register)
    download = _download(ims, seed)
    # the synth books are one row per document, tax heads split: no source_rows, tax_heads
    books = conform(register, REGISTER_COLUMNS, defaults={"source_rows": None, "tax_heads": None})
    if months > 1:
        books = books.with_columns(_book_period(register, period_start, months))
    return SynthData(
        download=download,
        register=books,
        register_raw=register_raw,
        truth=truth,
        recipient_gstin=recipient,
        period=period,
    )


# ---------------------------------------------------------------------------------------------
# Cases: one row per story, with the IMS-side document and what the register does with it
# ---------------------------------------------------------------------------------------------
def _cases(
    rng: random.Random,
    n: int,
    mix: dict[str, float],
    suppliers: pl.DataFrame,
    period_start: dt.date,
    period_end: dt.date,
    home: str,
) -> pl.DataFrame:
    kinds = _quota(n, mix)
    rng.shuffle(kinds)
    n_sup = suppliers.height
    plain_keys, plain_w = _section_classes(amended=False)
    amend_keys, amend_w = _section_classes(amended=True)
    cn_section = next(s.key for s in SECTIONS.values() if s.doc_type == "CN" and not s.is_amendment)
    section_type = {s.key: s.doc_type for s in SECTIONS.values()}
    originals = {k: _original_section(SECTIONS[k]).key for k in amend_keys}

    fy_first = dt.date(period_start.year - (period_start.month < 4), 4, 1)
    early_days = (period_start - fy_first).days
    month_days = (period_end - period_start).days + 1

    u = {name: _uniform(rng, n) for name in (
        "sup", "sec", "date", "date2", "amt", "amt2", "rate", "u_cess", "v1", "v2", "v3", "v4",
        "v5", "orig", "lag", "dup",
    )}  # fmt: skip
    df = pl.DataFrame({"case": pl.int_range(n, eager=True), "kind": kinds, **u})
    df = df.with_columns(
        sup=(pl.col("sup").pow(1.6) * n_sup).floor().cast(pl.Int64).clip(0, n_sup - 1),
        kind_rank=pl.int_range(pl.len()).over("kind"),
    )
    # Sections: the first cases of each kind cycle through every section (so small samples cover
    # them all), the rest are drawn by weight.
    rr_plain = pl.lit(pl.Series(plain_keys)).gather(pl.col("kind_rank") % len(plain_keys))
    rr_amend = pl.lit(pl.Series(amend_keys)).gather(pl.col("kind_rank") % len(amend_keys))
    df = df.with_columns(
        section=pl.when(pl.col("kind") == "class_trap")
        .then(pl.lit(cn_section))
        .when(pl.col("kind") == "amendment")
        .then(
            pl.when(pl.col("kind_rank") < len(amend_keys))
            .then(rr_amend)
            .otherwise(_pick(pl.col("sec"), amend_keys, amend_w))
        )
        .when(pl.col("kind_rank") < len(plain_keys))
        .then(rr_plain)
        .otherwise(_pick(pl.col("sec"), plain_keys, plain_w))
    )
    df = df.with_columns(
        doc_type=pl.col("section").replace_strict(section_type, return_dtype=pl.String),
        orig_section=pl.col("section").replace_strict(
            originals, default=None, return_dtype=pl.String
        ),
        orig_present=(pl.col("orig") < 0.5) | (pl.col("kind_rank") == 0),
    ).join(suppliers, on="sup", how="left", maintain_order="left")

    # Dates (days from the period start): in the period, earlier in the FY, or after the period.
    in_period = (pl.col("date") * month_days).floor().cast(pl.Int32)
    earlier = -1 - (pl.col("date") * max(early_days, 1)).floor().cast(pl.Int32)
    early = (pl.col("date2") < 0.28) & pl.lit(early_days > 0)
    offset = (
        pl.when(pl.col("kind") == "future_dated")
        .then(month_days + (pl.col("date") * 20).floor().cast(pl.Int32))
        .when((pl.col("kind") == "amendment") & pl.lit(early_days > 0) & (pl.col("date2") < 0.8))
        .then(earlier)
        .when(early & (pl.col("kind") != "amendment"))
        .then(earlier)
        .otherwise(in_period)
    )
    start = pl.lit(period_start)
    df = df.with_columns(doc_date=start + pl.duration(days=offset))
    # The amended document: same date mostly, else a date in the period (never before the original).
    amend_offset = (pl.col("v1") * month_days).floor().cast(pl.Int32)
    df = df.with_columns(
        amend_date=pl.when(pl.col("v5") < 0.6)
        .then(pl.col("doc_date"))
        .otherwise(pl.max_horizontal(pl.col("doc_date"), start + pl.duration(days=amend_offset)))
    )

    # Number slots: per supplier, slot r starts at start + width * r; offset 0 is the document,
    # 1 a near-miss neighbour, 2 the amended number, 3 a far near-miss (slot r + 37).
    df = df.with_columns(
        slot=pl.int_range(pl.len()).over("sup"),
        sup_docs=pl.len().over("sup"),
    ).with_columns(seq=pl.col("start") + pl.col("width") * pl.col("slot"))
    # A class trap is a plain number on both sides; notes use their own prefix (CN-17).
    df = df.with_columns(
        style=pl.when(pl.col("kind") == "class_trap").then(pl.lit(_PLAIN)).otherwise("style"),
        prefix=pl.when(pl.col("doc_type") == "INV").then("prefix").otherwise(pl.col("doc_type")),
    )
    style_df = pl.DataFrame(
        {
            "style": list(range(len(_STYLES))),
            "has_prefix": [s[0] for s in _STYLES],
            "fy_form": [s[1] for s in _STYLES],
            "sep": [s[2] for s in _STYLES],
            "pad": [s[3] for s in _STYLES],
        },
        schema_overrides={"style": pl.Int64, "fy_form": pl.Int32, "pad": pl.Int32},
    )
    df = df.join(style_df, on="style", how="left", maintain_order="left")
    # Styles that would exceed 16 characters for this supplier's numbers fall back to PREFIX-SEQ.
    far_seq = pl.col("seq") + pl.col("width") * _NEAR_C_SLOTS + 3
    too_long = _render(
        pl.when("has_prefix").then("prefix").otherwise(pl.lit("")),
        pl.col("fy_form"), _fy_start(pl.col("doc_date")) + 1, pl.col("sep"), pl.col("pad"),
        far_seq,
    ).str.len_chars() > _MAX_LEN  # fmt: skip
    df = (
        df.with_columns(
            style=pl.when(too_long).then(pl.lit(_DASH, dtype=pl.Int64)).otherwise("style")
        )
        .drop("has_prefix", "fy_form", "sep", "pad")
        .join(style_df, on="style", how="left", maintain_order="left")
    )
    df = df.with_columns(prefix=pl.when("has_prefix").then("prefix").otherwise(pl.lit("")))

    def number(seq: pl.Expr, date: pl.Expr) -> pl.Expr:
        return _render(pl.col("prefix"), pl.col("fy_form"), _fy_start(date), pl.col("sep"),
                       pl.col("pad"), seq)  # fmt: skip

    df = df.with_columns(
        number=number(pl.col("seq"), pl.col("doc_date")),
        amend_number=number(pl.col("seq") + 2, pl.col("amend_date")),
    )
    # The discrepancy on the amounts / date ("rounding" of "fy_glued+rounding"), and the spelling.
    parts = pl.col("kind").str.split("+")
    df = df.with_columns(
        spelling=pl.when(parts.list.first().is_in(list(SPELLINGS)))
        .then(parts.list.first())
        .otherwise(pl.lit(None, dtype=pl.String)),
        noise=pl.when(pl.col("kind").is_in(list(SPELLING_KINDS)))
        .then(pl.when(parts.list.len() > 1).then(parts.list.last()).otherwise(pl.lit("")))
        .otherwise("kind"),
    )
    if set(kinds) & set(SPELLING_KINDS):
        df = df.with_columns(*_spelled_numbers())

    # Amounts in paise: taxable log-uniform (notes smaller), a GST rate, state-consistent heads.
    lo, hi = math.log(500.0), math.log(500_000.0)
    scale = pl.when(pl.col("doc_type") == "INV").then(1.0).otherwise(0.2)
    rupees = (lo + pl.col("amt") * (hi - lo)).exp() * scale
    taxable = (
        pl.when(pl.col("amt2") < 0.35)
        .then((rupees / 100).round(0) * 10_000)
        .otherwise((rupees * 100).round(0))
        .cast(pl.Int64)
        .clip(10_000)
    )
    rate = _pick(pl.col("rate"), ["5", "12", "18", "28"], [0.15, 0.15, 0.55, 0.15]).cast(pl.Int64)
    df = df.with_columns(taxable=taxable, rate=rate, intra=pl.col("sup_state") == home)
    df = df.with_columns(
        *_heads(pl.col("taxable"), pl.col("rate"), pl.col("intra"), pl.col("u_cess"))
    )
    return df.drop("sec", "date", "date2", "amt", "amt2", "orig", "kind_rank", "slot", "has_prefix")


def _spelled_numbers() -> list[pl.Expr]:
    """Issue-14 kinds: the IMS number (`number`) and the books' spelling of it (`spelled`).

    The supplier writes PREFIX/FY/SERIAL or PREFIX-SERIAL/FY (FY as 2025-26 or 25-26); the
    books glue, zero-pad, add or drop parts as the kind says. `uncorroborated` books another
    document whose number is equal to this one only after normalisation.
    """
    v1, v2, v3, v4 = (pl.col(c) for c in ("v1", "v2", "v3", "v4"))
    sp = pl.col("spelling")
    fy = _fy_start(pl.col("doc_date"))
    y4, y2 = fy.cast(pl.String), (fy % 100).cast(pl.String).str.zfill(2)
    n2 = ((fy + 1) % 100).cast(pl.String).str.zfill(2)
    long_fy = v2 < 0.5
    token = (
        pl.when(long_fy)
        .then(pl.concat_str(y4, pl.lit("-"), n2))
        .otherwise(pl.concat_str(y2, pl.lit("-"), n2))
    )
    glued = pl.when(v3 < 0.5).then(pl.concat_str(y4, n2)).otherwise(pl.concat_str(y2, n2))
    padded_token = (
        pl.when(long_fy)
        .then(pl.concat_str(y4, pl.lit("-"), n2.str.zfill(4)))
        .otherwise(pl.concat_str(y2, pl.lit("-"), n2.str.zfill(3 + 2 * (v3 < 0.5).cast(pl.Int32))))
    )
    generic = pl.when(v3 < 0.5).then(pl.lit("INV")).otherwise(pl.lit("TI"))
    prefix = (
        pl.when(sp == "prefix_dropped")
        .then(generic)
        .when(pl.col("prefix") == "")
        .then(pl.col("doc_type").replace({"INV": "S"}))
        .otherwise("prefix")
    )
    prefix = pl.when(v4 < 0.2).then(pl.lit("")).otherwise(prefix)  # some numbers have none
    prefix = pl.when(sp == "prefix_dropped").then(generic).otherwise(prefix)
    sep = pl.when(v4 < 0.6).then(pl.lit("/")).otherwise(pl.lit("-"))
    serial = pl.col("seq").cast(pl.String).str.zfill(4)
    lead = pl.when(prefix != "").then(pl.concat_str(prefix, sep)).otherwise(pl.lit(""))
    after = (v1 >= 0.5) & (sp != "prefix_dropped")  # the FY written after the serial

    def with_fy(tok: pl.Expr) -> pl.Expr:
        return (
            pl.when(after)
            .then(pl.concat_str(lead, serial, pl.lit("/"), tok))
            .otherwise(pl.concat_str(lead, tok, sep, serial))
        )

    # fy_added: the supplier's number has no FY (S0000523, CRN-00067)
    bare_serial = pl.col("seq").cast(pl.String).str.zfill(5 + 2 * (v3 < 0.3).cast(pl.Int32))
    no_fy = pl.concat_str(
        prefix, pl.when(v4 < 0.8).then(pl.lit("")).otherwise(pl.lit("-")), bare_serial
    )
    alnum = lambda e: e.str.replace_all(r"[^A-Za-z0-9]", "")  # noqa: E731
    ims_number = pl.when(sp == "fy_added").then(no_fy).otherwise(with_fy(token))
    books = (
        pl.when(sp == "fy_glued")
        .then(alnum(ims_number))
        .when(sp == "fy_padded")
        .then(with_fy(padded_token))
        .when((sp == "fy_added") & (v1 < 0.5))
        .then(pl.concat_str(alnum(no_fy), glued))
        .when(sp == "fy_added")
        .then(pl.concat_str(prefix, glued, bare_serial))
        .when(v2 < 0.5)  # prefix_dropped: no prefix, FY glued
        .then(pl.concat_str(glued, serial))
        .otherwise(pl.concat_str(prefix, pl.lit("000"), glued, serial))  # prefix zero-padded
    )
    # uncorroborated: 'INV/25-26/1229' ~ 'INV/1229', or '720' ~ '720/2025-26'
    plain = pl.col("seq").cast(pl.String)
    far_ims = pl.when(v1 < 0.5).then(pl.concat_str(lead, token, sep, serial)).otherwise(plain)
    far_books = (
        pl.when(v1 < 0.5)
        .then(pl.concat_str(lead, serial))
        .otherwise(pl.concat_str(plain, pl.lit("/"), y4, pl.lit("-"), n2))
    )
    kind = pl.col("kind")
    return [
        pl.when(sp.is_not_null())
        .then(ims_number)
        .when(kind == "uncorroborated")
        .then(far_ims)
        .otherwise("number")
        .alias("number"),
        pl.when(sp.is_not_null())
        .then(books)
        .when(kind == "uncorroborated")
        .then(far_books)
        .otherwise(pl.lit(None, dtype=pl.String))
        .alias("spelled"),
    ]


def _heads(taxable: pl.Expr, rate: pl.Expr, intra: pl.Expr, u_cess: pl.Expr) -> list[pl.Expr]:
    """Tax heads in paise, rounded half up: CGST = SGST within the state, else IGST only."""
    half = (taxable * rate + 100) // 200
    full = (taxable * rate + 50) // 100
    cess = pl.when((rate == 28) & (u_cess < 0.3)).then((taxable * 12 + 50) // 100).otherwise(0)
    igst = pl.when(intra).then(0).otherwise(full)
    cgst = pl.when(intra).then(half).otherwise(0)
    return [
        igst.alias("igst"),
        cgst.alias("cgst"),
        cgst.alias("sgst"),
        cess.alias("cess"),
        (taxable + igst + 2 * cgst + cess).alias("val"),
    ]


# ---------------------------------------------------------------------------------------------
# IMS side
# ---------------------------------------------------------------------------------------------
def _ims_records(
    rng: random.Random, cases: pl.DataFrame, period: str, recipient: str
) -> pl.DataFrame:
    """One row per IMS record (primary documents and superseded originals), wire-level values."""
    has_ims = ~pl.col("kind").is_in(["missing_in_ims", "out_of_scope"])
    base_cols = ["case", "kind", "sup", "sup_gstin", "sup_name", "sup_state", "not_filed", "intra",
                 *_MONEY_HEADS]  # fmt: skip
    primary = cases.filter(has_ims).select(
        *base_cols,
        role=pl.lit("ims"),
        section=pl.col("section"),
        number=pl.when(pl.col("kind") == "amendment").then("amend_number").otherwise("number"),
        date=pl.when(pl.col("kind") == "amendment").then("amend_date").otherwise("doc_date"),
        orig_number=pl.when(pl.col("kind") == "amendment").then("number"),
        orig_date=pl.when(pl.col("kind") == "amendment").then("doc_date"),
    )
    original = cases.filter((pl.col("kind") == "amendment") & pl.col("orig_present")).select(
        *base_cols,
        role=pl.lit("ims_original"),
        section=pl.col("orig_section"),
        number=pl.col("number"),
        date=pl.col("doc_date"),
        orig_number=pl.lit(None, dtype=pl.String),
        orig_date=pl.lit(None, dtype=pl.Date),
    )
    order = {key: i for i, key in enumerate(SECTIONS)}
    ims = (
        pl.concat([primary, original])
        .sort(pl.col("section").replace_strict(order, return_dtype=pl.Int32), "sup", "date", "case")
        .with_row_index("ims_order")
    )
    n = ims.height
    u = {
        name: _uniform(rng, n) for name in ("typ", "prd", "act", "blk", "itc", "rem", "decl", "nm")
    }
    ims = ims.with_columns(**u)
    month = pl.col("date").dt.strftime("%m%Y")
    future = pl.col("date") > pl.lit(_period_end(period))
    rtnprd = (
        pl.when(future | (pl.col("role") == "ims_original"))
        .then(month)
        .when((month != period) & (pl.col("prd") < 0.4))
        .then(month)
        .otherwise(pl.lit(period))
    )
    itc_sections = [s.key for s in SECTIONS.values() if s.itc_reduction]
    is_itc = pl.col("section").is_in(itc_sections)
    blocked = pl.col("blk") < 0.05
    action = _pick(pl.col("act"), ["N", "A", "R", "P"], [0.85, 0.07, 0.03, 0.05])
    ims = (
        ims.with_columns(
            inv_typ=pl.when(pl.col("intra") | (pl.col("typ") >= 0.045))
            .then(pl.lit("R"))
            .when(pl.col("typ") < 0.03)
            .then(pl.lit("SEZWP"))
            .otherwise(pl.lit("DE")),
            rtnprd=rtnprd,
            ispendactblocked=pl.when(blocked).then(pl.lit("Y")).otherwise(pl.lit("N")),
            action=pl.when(blocked & (action == "P")).then(pl.lit("N")).otherwise(action),
        )
        .with_columns(
            # A document of an earlier return period is still in IMS because it was kept pending.
            action=pl.when(
                (pl.col("role") == "ims") & (pl.col("rtnprd") != period) & ~future & ~blocked
            )
            .then(pl.lit("P"))
            .otherwise("action")
        )
        .with_columns(
            srcfilstatus=pl.when(((pl.col("rtnprd") == period) & pl.col("not_filed")) | future)
            .then(pl.lit("Not Filed"))
            .otherwise(pl.lit("Filed")),
            isItcRedReqBlocked=pl.when(is_itc).then(
                pl.when(pl.col("itc") < 0.2).then(pl.lit("Y")).otherwise(pl.lit("N"))
            ),
            isRemarksBlocked=pl.when(is_itc).then(
                pl.when(pl.col("rem") < 0.05).then(pl.lit("Y")).otherwise(pl.lit("N"))
            ),
        )
    )
    declare = is_itc & (pl.col("action") == "A") & (pl.col("isItcRedReqBlocked") == "N")
    full = declare & (pl.col("decl") < 0.7)
    ims = ims.with_columns(
        itcRedReq=pl.when(full).then(pl.lit("Y")).when(declare).then(pl.lit("N")),
        declIgst=pl.when(full).then("igst"),
        declCgst=pl.when(full).then("cgst"),
        declSgst=pl.when(full).then("sgst"),
        declCess=pl.when(full).then("cess"),
        remarks=pl.when(
            is_itc & pl.col("action").is_in(["R", "P"]) & (pl.col("isRemarksBlocked") == "N")
        ).then(pl.lit(pl.Series(_REMARKS)).gather((pl.col("decl") * len(_REMARKS)).cast(pl.Int64))),
        tradenm=pl.when(pl.col("nm") < 0.95).then("sup_name"),
        pos=pl.lit(recipient[:2]),
    )
    return ims.with_columns(
        doc_key=pl.concat_str(
            "section", "sup_gstin", "number", pl.col("date").dt.strftime("%Y-%m-%d"), separator="|"
        )
    )


def _book_period(register: pl.DataFrame, period_start: dt.date, months: int) -> pl.Series:
    """Multi-month mode: the month of each row's voucher, within the `months` months up to the
    period (older vouchers in the first month, later ones in the period)."""
    first = period_start
    for _ in range(months - 1):
        first = (first - dt.timedelta(days=1)).replace(day=1)
    month = register.get_column("voucher_date").dt.truncate("1mo")
    clamped = month.clip(first, period_start)
    return clamped.dt.strftime("%m%Y").alias("book_period")


def _period_end(period: str) -> dt.date:
    month, year = int(period[:2]), int(period[2:])
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def _download(ims: pl.DataFrame, seed: int) -> dict:
    """The bare IMS section map, records with the registry's keys; money as 2-decimal numbers."""
    out: dict[str, list[dict]] = {}
    for sec in SECTIONS.values():
        part = ims.filter(pl.col("section") == sec.key)
        if part.is_empty():
            continue
        cols: list[pl.Expr] = [
            pl.col("sup_gstin").alias("stin"),
            pl.col("number").alias(sec.number_key),
            _ddmmyyyy(pl.col("date")).alias(sec.date_key),
        ]
        if sec.orig_number_key and sec.orig_date_key:
            cols += [
                pl.col("orig_number").alias(sec.orig_number_key),
                _ddmmyyyy(pl.col("orig_date")).alias(sec.orig_date_key),
            ]
        money = lambda c, key: _paise_to_number(pl.col(c)).alias(key)  # noqa: E731
        cols += [
            pl.col("inv_typ"),
            pl.lit("R1").alias("srcform"),
            pl.col("rtnprd"),
            pl.col("srcfilstatus"),
            money("val", "val"),
            pl.col("pos"),
            money("taxable", "txval"),
            money("igst", "iamt"),
            money("cgst", "camt"),
            money("sgst", "samt"),
            money("cess", "cess"),
            pl.col("action"),
            pl.col("ispendactblocked"),
        ]
        if sec.itc_reduction:
            cols += [
                pl.col("isItcRedReqBlocked"),
                pl.col("itcRedReq"),
                money("declIgst", "declIgst"),
                money("declCgst", "declCgst"),
                money("declSgst", "declSgst"),
                money("declCess", "declCess"),
                pl.col("remarks"),
                pl.col("isRemarksBlocked"),
            ]
        cols += [pl.col("hash_src"), pl.col("tradenm")]
        frame = part.with_columns(
            hash_src=pl.concat_str(pl.lit(str(seed)), "doc_key", pl.col("val"), separator="|")
        ).select(cols)
        hashes = [
            hashlib.sha256(s.encode()).hexdigest() for s in frame.get_column("hash_src").to_list()
        ]
        frame = frame.with_columns(hash_src=pl.Series(hashes)).rename({"hash_src": "hash"})
        out[sec.key] = _records(frame)
    return out


def _records(frame: pl.DataFrame) -> list[dict]:
    """Rows as dicts without their null keys, built per null pattern with C-level dict(zip());
    repeated values (codes, dates, suppliers) share one Python object to keep memory down."""
    if frame.is_empty():
        return []
    nullable = [c for c in frame.columns if frame.get_column(c).null_count()]
    pattern = pl.sum_horizontal(
        [pl.col(c).is_not_null().cast(pl.Int64) * (1 << i) for i, c in enumerate(nullable)]
        or [pl.lit(0, dtype=pl.Int64)]
    )
    out: list[dict | None] = [None] * frame.height
    indexed = frame.with_row_index("_row").with_columns(_pattern=pattern)
    for part in indexed.partition_by("_pattern", maintain_order=True, include_key=False):
        keys = [
            c for c in frame.columns if c not in nullable or part.get_column(c).null_count() == 0
        ]
        columns = []
        for key in keys:
            values = part.get_column(key).to_list()
            if part.get_column(key).n_unique() * 4 < part.height:
                shared: dict = {}
                values = [shared.setdefault(v, v) for v in values]
            columns.append(values)
        for row, record in zip(
            part.get_column("_row").to_list(), zip(*columns, strict=True), strict=True
        ):
            out[row] = dict(zip(keys, record, strict=True))
    return out  # type: ignore[return-value]


# ---------------------------------------------------------------------------------------------
# Register side
# ---------------------------------------------------------------------------------------------
def _register_rows(cases: pl.DataFrame, recipient: str, alt_recipient: str) -> pl.DataFrame:
    """The purchaser's bookings with each kind's discrepancy, in canonical columns (paise)."""
    kind = pl.col("kind")
    df = cases.filter(kind != "missing_in_register")
    # Amendments are booked under the original number (the IMS record's orig_number).
    respell = _respellings()
    spelled = "spelled" in df.columns
    own = df.filter(~kind.is_in(list(respell)))
    df = pl.concat(
        [
            own.with_columns(
                reg_number=pl.coalesce("spelled", "number") if spelled else pl.col("number")
            ),
            *(df.filter(kind == k).with_columns(reg_number=e) for k, e in respell.items()),
        ],
        how="diagonal_relaxed" if spelled else "vertical",
    )
    df = df.with_columns(
        *_register_amounts(),
        _register_date(),
        *_register_parties(recipient, alt_recipient),
    )
    df = df.with_columns(
        reg_doc_type=pl.when(kind == "class_trap").then(pl.lit("INV")).otherwise("doc_type"),
        voucher_date=pl.col("reg_date")
        + pl.duration(days=(pl.col("lag") * 8).floor().cast(pl.Int32)),
        role=pl.lit("register"),
    )
    dup = df.filter(kind == "duplicate_booking").with_columns(
        voucher_date=pl.col("voucher_date")
        + pl.duration(days=1 + (pl.col("dup") * 20).floor().cast(pl.Int32)),
        role=pl.lit("register_duplicate"),
    )
    rows = pl.concat([df, dup]).sort("voucher_date", "case", "role")
    fy = _fy_start(pl.col("voucher_date"))
    rows = rows.with_columns(
        register_id=pl.format(
            "PV/{}-{}/{}",
            (fy % 100).cast(pl.String).str.zfill(2),
            ((fy + 1) % 100).cast(pl.String).str.zfill(2),
            pl.int_range(1, pl.len() + 1).cast(pl.String).str.zfill(6),
        ),
        source_row=pl.int_range(1, pl.len() + 1, dtype=pl.Int64),
        source_file=pl.lit(FILES["register"]),
    )
    money = {h: _paise_to_money(pl.col(f"reg_{h}")) for h in _MONEY_HEADS}
    return rows.select(
        "case",
        "kind",
        "role",
        "register_id",
        "voucher_date",
        recipient_gstin=pl.col("reg_recipient"),
        supplier_gstin=pl.col("reg_supplier"),
        supplier_pan=gst.pan_expr(pl.col("reg_supplier")),
        supplier_name=pl.col("reg_name"),
        doc_type=pl.col("reg_doc_type"),
        doc_number=pl.col("reg_number"),
        doc_date=pl.col("reg_date"),
        taxable_value=money["taxable"],
        igst=money["igst"],
        cgst=money["cgst"],
        sgst=money["sgst"],
        cess=money["cess"],
        doc_value=money["val"],
        pos=pl.col("reg_pos"),
        reverse_charge=pl.col("rcm"),
        in_scope=~(pl.col("rcm") | pl.col("reg_supplier").is_null()),
        scope_reason=pl.when(pl.col("reg_supplier").is_null())
        .then(pl.lit("blank supplier GSTIN"))
        .when(pl.col("rcm"))
        .then(pl.lit("reverse charge")),
        source_file="source_file",
        source_row="source_row",
    )


def _respellings() -> dict[str, pl.Expr]:
    """The bill number as booked, per kind that books it differently from the IMS number."""
    fy = _fy_start(pl.col("doc_date"))
    v1, v2, v3, v4 = (pl.col(c) for c in ("v1", "v2", "v3", "v4"))

    # number_format: same parts, spelled differently (case, separator, padding, FY token).
    fy_choices = pl.lit(pl.Series([0, 1, 2, 5, 6, 7], dtype=pl.Int32))
    new_fy = (
        pl.when(pl.col("fy_form").is_in(_TWO_YEAR_FY) & (v1 < 0.6))
        .then(fy_choices.gather((v2 * 6).floor().cast(pl.Int64)))
        .when((pl.col("fy_form") == 3) & (v1 < 0.6))
        .then(pl.lit(1, dtype=pl.Int32))  # 2025/00042 -> 2025-26/42
        .otherwise("fy_form")
    )
    has_fy = new_fy != 0
    sep_choice = _pick(v3, ["/", "-", ""], [1, 1, 1])
    new_sep = (
        pl.when(v4 < 0.5)
        .then(pl.when(has_fy & (sep_choice == "")).then(pl.lit("-")).otherwise(sep_choice))
        .otherwise(pl.when(pl.col("sep") == "").then(pl.lit("-")).otherwise("sep"))
    )
    new_pad = pl.when(v2 < 0.5).then((v3 * 7).floor().cast(pl.Int32)).otherwise("pad")
    lower = v4 < 0.3
    prefix = pl.when(lower).then(pl.col("prefix").str.to_lowercase()).otherwise("prefix")
    variant = _render(prefix, new_fy, fy, new_sep, new_pad, pl.col("seq"))
    digits = pl.col("seq").cast(pl.String).str.len_chars()
    pad_only = _render(
        pl.col("prefix"), pl.col("fy_form"), fy, pl.col("sep"),
        pl.when(pl.col("pad") > digits).then(pl.lit(0)).otherwise(digits + 1), pl.col("seq"),
    )  # fmt: skip
    swapped = pl.when(pl.col("sep") == "/").then(pl.lit("-")).otherwise(pl.lit("/"))
    sep_only = _render(
        pl.col("prefix"), pl.col("fy_form"), fy, swapped, pl.col("pad"), pl.col("seq")
    )
    formatted = (
        pl.when((variant != pl.col("number")) & (variant.str.len_chars() <= _MAX_LEN))
        .then(variant)
        .when(pad_only.str.len_chars() <= _MAX_LEN)
        .then(pad_only)
        .otherwise(sep_only)
    )

    # number_fuzzy: a prefix typo (SRV -> SRVC) or an extra letter at the end.
    letter = pl.lit(pl.Series(list("CSXRA"))).gather((v1 * 5).floor().cast(pl.Int64))
    typo_prefix = pl.concat_str(pl.col("prefix"), letter)
    typo = _render(typo_prefix, pl.col("fy_form"), fy, pl.col("sep"), pl.col("pad"), pl.col("seq"))
    suffixed = pl.concat_str(pl.col("number"), pl.lit("A"))
    fuzzy0 = pl.when((pl.col("prefix") != "") & (v2 < 0.6)).then(typo).otherwise(suffixed)
    shorter = _render(pl.col("prefix").str.slice(0, pl.col("prefix").str.len_chars() - 1),
                      pl.col("fy_form"), fy, pl.col("sep"), pl.col("pad"),
                      pl.col("seq"))  # fmt: skip
    fuzzy = pl.when(fuzzy0.str.len_chars() > _MAX_LEN).then(shorter).otherwise(fuzzy0)

    # near_miss: another document of the supplier: the neighbouring number, a digit put in front
    # (12 -> 312), or a far number with the same prefix (QKI/055190 vs QKI/053612).
    limit = pl.col("start") + pl.col("width") * (pl.col("sup_docs") + _NEAR_C_SLOTS + 1)
    d = 1 + (v3 * 9).floor().cast(pl.Int64)
    front = d * pl.lit(10, dtype=pl.Int64).pow(digits.cast(pl.Int64)) + pl.col("seq")
    near_seq = (
        pl.when((pl.col("style") == _PLAIN) & (front > limit))
        .then(front)
        .when((pl.col("style") == _QKI) | ((pl.col("style") != _PLAIN) & (v4 < 0.5)))
        .then(pl.col("seq") + pl.col("width") * _NEAR_C_SLOTS + 3)
        .otherwise(pl.col("seq") + 1)
    )
    near = _render(pl.col("prefix"), pl.col("fy_form"), fy, pl.col("sep"), pl.col("pad"), near_seq)

    return {"number_format": formatted, "number_fuzzy": fuzzy, "near_miss": near}


def _register_amounts() -> list[pl.Expr]:
    """Register amounts in paise: equal, off by at most Rs 1 (rounding) or beyond (mismatch);
    `uncorroborated` bookings are another document: two to five times the amounts."""
    kind = pl.col("noise")
    v1, v2, v3 = pl.col("v1"), pl.col("v2"), pl.col("v3")
    # rounding: 1..100 paise on one head (and so the total), or on the total only, where the ERP
    # rounded the invoice value to the rupee (Tally's round-off) when it had paise.
    delta = (1 + (v1 * 100).floor().cast(pl.Int64)) * pl.when(v2 < 0.5).then(1).otherwise(-1)
    paise = pl.col("val") % 100
    round_off = pl.when(paise >= 50).then(100 - paise).otherwise(-paise)
    on_head = (kind == "rounding") & (v3 < 0.5)
    on_total = (kind == "rounding") & (v3 >= 0.5)
    total_delta = pl.when(paise != 0).then(round_off).otherwise(delta)
    # amount_mismatch: taxable off by 3-25% (at least Rs 200), or the tax booked at another rate.
    pct = 0.03 + v1 * 0.22
    change = pl.max_horizontal((pl.col("taxable") * pct).round(0).cast(pl.Int64), pl.lit(20_000))
    wrong_rate = (kind == "amount_mismatch") & (v3 < 0.3)
    far = pl.col("kind") == "uncorroborated"
    new_taxable = (
        pl.when(far)
        .then((pl.col("taxable") * (2 + 3 * v1)).round(0).cast(pl.Int64))
        .when((kind == "amount_mismatch") & ~wrong_rate)
        .then(
            pl.col("taxable")
            + pl.when(v2 < 0.5).then(change).otherwise(-change).clip(-(pl.col("taxable") // 2))
        )
        .otherwise("taxable")
    )
    new_rate = (
        pl.when(wrong_rate)
        .then(pl.when(pl.col("rate") == 18).then(pl.lit(12, dtype=pl.Int64)).otherwise(18))
        .otherwise("rate")
    )
    heads = {
        e.meta.output_name(): e
        for e in _heads(new_taxable, new_rate, pl.col("intra"), pl.col("u_cess"))
    }
    igst = heads["igst"] + pl.when(on_head & ~pl.col("intra")).then(delta).otherwise(0)
    cgst = heads["cgst"] + pl.when(on_head & pl.col("intra")).then(delta).otherwise(0)
    recomputed = (kind == "amount_mismatch") | far
    return [
        new_taxable.alias("reg_taxable"),
        pl.when(recomputed)
        .then(igst)
        .otherwise(pl.col("igst") + (igst - heads["igst"]))
        .alias("reg_igst"),
        pl.when(recomputed)
        .then(cgst)
        .otherwise(pl.col("cgst") + (cgst - heads["cgst"]))
        .alias("reg_cgst"),
        pl.when(recomputed).then(heads["sgst"]).otherwise("sgst").alias("reg_sgst"),
        pl.when(recomputed).then(heads["cess"]).otherwise("cess").alias("reg_cess"),
        (
            pl.when(recomputed).then(heads["val"]).otherwise("val")
            + (igst - heads["igst"])
            + (cgst - heads["cgst"])
            + pl.when(on_total).then(total_delta).otherwise(0)
        ).alias("reg_val"),
    ]


def _register_date() -> pl.Expr:
    """date_shift: 1-9 days off, in the direction that keeps the document's financial year."""
    days = pl.duration(days=1 + (pl.col("v4") * 9).floor().cast(pl.Int32))
    later = pl.col("doc_date") + days
    earlier = pl.col("doc_date") - days
    same_fy = lambda d: _fy_start(d) == _fy_start(pl.col("doc_date"))  # noqa: E731
    shifted = (
        pl.when((pl.col("v5") < 0.5) & same_fy(later))
        .then(later)
        .when(same_fy(earlier))
        .then(earlier)
        .otherwise(later)
    )
    far_days = pl.duration(days=30 + (pl.col("v4") * 90).floor().cast(pl.Int32))
    far = (
        pl.when(same_fy(pl.col("doc_date") - far_days))
        .then(pl.col("doc_date") - far_days)
        .otherwise(pl.col("doc_date") + far_days)
    )
    return (
        pl.when(pl.col("noise") == "date_shift")
        .then(shifted)
        .when(pl.col("kind") == "uncorroborated")
        .then(far)
        .otherwise("doc_date")
        .alias("reg_date")
    )


def _register_parties(recipient: str, alt_recipient: str) -> list[pl.Expr]:
    kind = pl.col("kind")
    oos = kind == "out_of_scope"
    unregistered = oos & (pl.col("v1") < 0.5)
    return [
        pl.when(kind == "wrong_recipient")
        .then(pl.lit(alt_recipient))
        .otherwise(pl.lit(recipient))
        .alias("reg_recipient"),
        pl.when(kind == "other_branch")
        .then("branch_gstin")
        .when(unregistered)
        .then(pl.lit(None, dtype=pl.String))
        .otherwise("sup_gstin")
        .alias("reg_supplier"),
        pl.when(pl.col("v5") < 0.15)
        .then(pl.col("sup_name").str.to_uppercase())
        .otherwise("sup_name")
        .alias("reg_name"),
        (oos & ~unregistered).alias("rcm"),
        pl.lit(recipient[:2]).alias("reg_pos"),
    ]


def _register_raw(register: pl.DataFrame) -> pl.DataFrame:
    """The register as an ERP export: ERP headers, dd-mm-yyyy dates, credit notes negative."""
    sign = pl.when(pl.col("doc_type") == "CN").then(-1).otherwise(1)

    def amount(col: str) -> pl.Expr:
        value = pl.col(col)
        return pl.when(value == 0).then(value).otherwise(value * sign).cast(pl.String)

    return register.select(
        pl.col("register_id").alias("Voucher No"),
        _ddmmyyyy(pl.col("voucher_date")).alias("Voucher Date"),
        pl.col("supplier_name").alias("Supplier Name"),
        pl.col("supplier_gstin").alias("Supplier GSTIN"),
        pl.col("recipient_gstin").alias("Recipient GSTIN"),
        pl.col("doc_type")
        .replace_strict(VOUCHER_TYPES, return_dtype=pl.String)
        .alias("Voucher Type"),
        pl.col("doc_number").alias("Bill No"),
        _ddmmyyyy(pl.col("doc_date")).alias("Bill Date"),
        amount("taxable_value").alias("Taxable Value"),
        amount("igst").alias("IGST"),
        amount("cgst").alias("CGST"),
        amount("sgst").alias("SGST"),
        amount("cess").alias("Cess"),
        amount("doc_value").alias("Invoice Value"),
        pl.col("pos").alias("Place of Supply"),
        pl.when(pl.col("reverse_charge"))
        .then(pl.lit("Y"))
        .otherwise(pl.lit("N"))
        .alias("Reverse Charge"),
    )


# ---------------------------------------------------------------------------------------------
# Truth
# ---------------------------------------------------------------------------------------------
def _truth(ims: pl.DataFrame, register: pl.DataFrame) -> pl.DataFrame:
    """One row per IMS record and per register row; paired kinds share one row."""
    paired_kinds = [
        k
        for k, v in ALL_KINDS.items()
        if v.status not in (None, MatchStatus.MISSING_IN_REGISTER, MatchStatus.MISSING_IN_IMS)
    ]
    i = ims.select("case", "kind", "role", "doc_key", "ims_order")
    r = register.select("case", "kind", "role", "register_id", reg_order="source_row")
    i_pair = i.filter(pl.col("kind").is_in(paired_kinds) & (pl.col("role") == "ims"))
    r_pair = r.filter(pl.col("kind").is_in(paired_kinds) & (pl.col("role") == "register"))
    pairs = i_pair.join(r_pair.select("case", "register_id", "reg_order"), on="case").select(
        "doc_key", "register_id", "kind", "ims_order", "reg_order",
        expected_status=pl.col("kind").replace_strict(
            {k: v.status for k, v in ALL_KINDS.items() if v.status}
        ),
    )  # fmt: skip
    ims_only = i.join(pairs.select("doc_key"), on="doc_key", how="anti").select(
        "doc_key",
        register_id=pl.lit(None, dtype=pl.String),
        kind=pl.when(pl.col("role") == "ims_original")
        .then(pl.lit("amended_original"))
        .otherwise("kind"),
        expected_status=pl.lit(MatchStatus.MISSING_IN_REGISTER),
        ims_order="ims_order",
        reg_order=pl.lit(None, dtype=pl.Int64),
    )
    reg_only = r.join(pairs.select("register_id"), on="register_id", how="anti").select(
        doc_key=pl.lit(None, dtype=pl.String),
        register_id="register_id",
        kind="kind",
        expected_status=pl.lit(MatchStatus.MISSING_IN_IMS),
        ims_order=pl.lit(None, dtype=pl.UInt32),
        reg_order="reg_order",
    )
    # In download order, then the register-only rows in register order.
    truth = pl.concat([pairs, ims_only, reg_only], how="diagonal_relaxed").sort(
        "ims_order", "reg_order", nulls_last=True
    )
    assert set(truth.get_column("expected_status").unique().to_list()) <= set(MATCH_STATUSES)
    return conform(truth, TRUTH_COLUMNS)


# ---------------------------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------------------------
def write(data: SynthData, out_dir: Path, *, pretty: bool | None = None) -> dict[str, Path]:
    """Write ims_download.json, purchase_register.csv and truth.csv atomically into `out_dir`.

    The JSON is indented when `pretty` (default: only up to PRETTY_LIMIT records), else compact.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {key: out / name for key, name in FILES.items()}
    records = sum(len(v) for v in data.download.values())
    if pretty if pretty is not None else records <= PRETTY_LIMIT:
        write_json(data.download, paths["ims"])
    else:
        with atomic_open(paths["ims"]) as fh:
            _dump_compact(data.download, fh)
    write_frame(data.register_raw, paths["register"], formula_safe=False)  # as an ERP writes it
    write_frame(data.truth, paths["truth"], formula_safe=False)
    return paths


def _dump_compact(download: dict, fh: IO[str], chunk: int = 20_000) -> None:
    """The section map as compact JSON, encoded by the C encoder a chunk of records at a time
    (one json.dumps of a million records would hold the whole text in memory twice)."""
    dumps = partial(json.dumps, ensure_ascii=False, separators=(",", ":"))
    fh.write("{")
    for i, (key, records) in enumerate(download.items()):
        fh.write(("," if i else "") + dumps(key) + ":[")
        for start in range(0, len(records), chunk):
            fh.write(("," if start else "") + dumps(records[start : start + chunk])[1:-1])
        fh.write("]")
    fh.write("}\n")
