"""The IMS upload JSON (ims-spec.md §2.2-2.3): SAVE and RESET payloads from the current decisions.

Only changed records are sent, every record first passes the rule engine's portal guards, records
are rendered to JSON text in polars (money as exact decimal text, never float) and written
atomically, split into several files when a record or byte limit is exceeded.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl

from imsdata import gstin as gst
from imsdata.decisions import HUMAN_SOURCES, latest, portal_state, refusal
from imsdata.errors import GuardError, InputError, UsageError
from imsdata.fileio import atomic_open, read_json
from imsdata.portal.sections import (
    ACTION_CODES,
    ACTION_WORDS,
    COMMON_FIELDS,
    DECLARED_KEYS,
    MONEY_KEYS,
    SECTIONS,
    VALUE_KEYS,
    Section,
    section_fields,
)
from imsdata.schemas import (
    ACTIONS,
    DECISION_COLUMNS,
    DECISION_DEFAULTS,
    MATCH_COLUMNS,
    MONEY,
    Action,
    conform,
    doc_key_expr,
    empty,
)

#: Limits per upload file. The portal's own limits are not published (ims-spec.md §6); these are
#: conservative defaults, overridable on every call and on the CLI.
DEFAULT_MAX_RECORDS = 10_000
DEFAULT_MAX_BYTES = 5 * 1024 * 1024


def wire_columns(sec: Section) -> dict[str, str]:
    """Wire key -> canonical column for a section, from the reader's own mapping (one source)."""
    return {keys[0]: col for col, keys in section_fields(sec).items()}


#: Declaration keys -> decision columns (declIgst -> declared_igst ...), from the same mapping.
DECLARED_COLUMNS: dict[str, str] = {
    keys[0]: col for col, keys in COMMON_FIELDS.items() if keys[0] in DECLARED_KEYS
}
#: Keys written only when the decision carries them (dropped when null).
OPTIONAL_KEYS: tuple[str, ...] = ("remarks", "itcRedReq", *DECLARED_KEYS)
# Download-only keys are never sent: hash, srcfilstatus, the blocked flags, tradenm (§2.2). The
# unknown keys kept from the download (`extra_json`) are not sent either: §2.2 lists every key an
# upload record carries, so none of them belongs in the API channel's SAVE/RESET records.

_WIRE_MONEY = frozenset((*MONEY_KEYS, *DECLARED_KEYS))


@dataclass(frozen=True)
class Payloads:
    """The records to upload: one row per record (doc_key, section, prev_status, action, json).

    `save` and `reset` are sorted in upload order (sections in registry order, then supplier,
    date, number); `skipped` lists decisions whose document is not in the IMS snapshot.
    """

    rtin: str
    save: pl.DataFrame
    reset: pl.DataFrame
    skipped: pl.DataFrame

    @property
    def is_empty(self) -> bool:
        """True when nothing changed: no file should be written."""
        return self.save.is_empty() and self.reset.is_empty()

    def documents(self) -> pl.DataFrame:
        """Every record to upload: doc_key, kind (save/reset), section, prev_status, action."""
        cols = ["doc_key", "kind", "section", "prev_status", "action"]
        return pl.concat([self.save.select(cols), self.reset.select(cols)])

    def text(self, kind: str = "save", *, api: bool = False) -> str:
        """The whole payload of one kind as JSON text (unsplit), e.g. for display or tests."""
        return render_payload(self.rtin, kind, _frame(self, kind), api=api)

    def to_dict(self, kind: str = "save", *, api: bool = False) -> dict[str, Any]:
        """The whole payload of one kind as a dict; money as Decimal, parsed from the exact text."""
        return json.loads(self.text(kind, api=api), parse_float=Decimal)


def _frame(payloads: Payloads, kind: str) -> pl.DataFrame:
    if kind not in ("save", "reset"):
        raise UsageError(f"unknown payload kind {kind!r}: use save or reset")
    return payloads.save if kind == "save" else payloads.reset


def current_decisions(decisions: pl.DataFrame) -> pl.DataFrame:
    """The latest decision per doc_key, as DECISION_COLUMNS (`imsdata.decisions.latest`)."""
    return conform(latest(decisions), DECISION_COLUMNS, defaults=DECISION_DEFAULTS)


#: Why a decision on a bill of entry is not in the upload file (ims-spec.md §6.11).
HELD_REASON = (
    "bill of entry: its IMS upload keys are not published, so it is not uploaded; record the"
    " action (Accept or Pending) on the portal"
)


def _changed(ims: pl.DataFrame, current: pl.DataFrame) -> pl.LazyFrame:
    """IMS rows joined to their current decision (one per document, `current_decisions`), with
    `kind` save/reset/null and `target` code; lazy, so that the caller's filter runs before any
    whole-month copy is made (1M documents: ~0.6 GB less at the upload's peak).

    save: the decided action (A/R/P) differs from the downloaded one, or the decision carries
    remarks or an ITC declaration that differ from the download; reset: a person (manual, Excel,
    notebook) decided No action on a record the portal holds as A/R/P (ims-spec.md §2.3, §5.2).
    A rule's no_action means "leave it as it is": never a reset. A rule's remarks never go with
    Accept (only a person's do).
    """
    bad = current.filter(~pl.col("action").is_in(ACTIONS) | pl.col("action").is_null())
    if not bad.is_empty():
        first = bad.row(0, named=True)
        raise InputError(
            f"decisions: {bad.height} decision(s) with an unknown action, e.g. "
            f"{first['doc_key']!r}: {first['action']!r} (allowed: {', '.join(ACTIONS)})"
        )
    dec = current.rename({c: f"d_{c}" for c in current.columns if c != "doc_key"})
    human = pl.col("d_source").is_in(HUMAN_SOURCES).fill_null(False)
    joined = (
        ims.lazy()
        .join(dec.lazy(), on="doc_key", how="inner")
        .with_columns(
            d_remarks=pl.when(human | (pl.col("d_action") != Action.ACCEPT)).then(
                pl.col("d_remarks")
            )
        )
    )
    target = pl.col("d_action").replace_strict(ACTION_WORDS, return_dtype=pl.String)
    remarks_changed = pl.col("d_remarks").is_not_null() & pl.col("d_remarks").ne_missing(
        pl.col("remarks")
    )
    decl_changed = pl.col("d_itc_reduction").is_not_null() & pl.col("d_itc_reduction").ne_missing(
        pl.col("itc_reduction")
    )
    for col in DECLARED_COLUMNS.values():
        decl_changed = decl_changed | (
            pl.col(f"d_{col}").is_not_null() & pl.col(f"d_{col}").ne_missing(pl.col(col))
        )
    held = [code for code in ACTION_CODES if code != ACTION_WORDS[Action.NO_ACTION]]
    return joined.with_columns(target=target).with_columns(
        kind=pl.when(
            pl.col("target").is_in(held)
            & (
                pl.col("target").ne_missing(pl.col("portal_action"))
                | remarks_changed
                | decl_changed
            )
        )
        .then(pl.lit("save"))
        .when(
            (pl.col("target") == ACTION_WORDS[Action.NO_ACTION])
            & pl.col("portal_action").is_in(held)
            & human
        )
        .then(pl.lit("reset"))
        .otherwise(pl.lit(None, pl.String))
    )


def _partial() -> pl.Expr:
    """A Y declaration with amounts (a partial reduction) rather than a full one."""
    cols = [pl.col(f"d_{c}") for c in DECLARED_COLUMNS.values()]
    return (pl.col("d_itc_reduction") == "Y") & pl.any_horizontal(c.is_not_null() for c in cols)


def _itc_red_req() -> pl.Expr:
    """itcRedReq as R7 encodes it: Y (full without amounts, partial with all four), N; a Y
    whose amounts are all zero is N (nothing reduced)."""
    cols = [pl.col(f"d_{c}").fill_null(0) for c in DECLARED_COLUMNS.values()]
    all_zero = pl.all_horizontal(c == 0 for c in cols)
    return pl.when(_partial() & all_zero).then(pl.lit("N")).otherwise(pl.col("d_itc_reduction"))


def _declared_amount(col: str) -> pl.Expr:
    """A declared amount: all four with a partial Y (missing heads 0), none otherwise (R7)."""
    cols = [pl.col(f"d_{c}").fill_null(0) for c in DECLARED_COLUMNS.values()]
    all_zero = pl.all_horizontal(c == 0 for c in cols)
    return pl.when(_partial() & ~all_zero).then(pl.col(f"d_{col}").fill_null(0).cast(MONEY))


def _money_text(expr: pl.Expr) -> pl.Expr:
    """Positive money as exact decimal text with at most 2 decimals: 0.30 -> 0.3, 100.00 -> 100."""
    # MONEY text always has two decimals: drop ".00" or a last "0" (one pass).
    return expr.cast(MONEY).abs().cast(pl.String).str.replace(r"\.?0{1,2}$", "")


def _json_text(expr: pl.Expr) -> pl.Expr:
    """Text as a JSON value: a quoted, escaped string, or null (the encoder of polars does the
    escaping; only its one-key wrapper is cut off)."""
    return (
        pl.struct(expr.alias("v"))
        .struct.json_encode()
        .str.strip_prefix('{"v":')
        .str.strip_suffix("}")
    )


def _section_records(rows: pl.DataFrame | pl.LazyFrame, sec: Section, kind: str) -> pl.DataFrame:
    """Render one section's rows to compact JSON text, keys in spec order (§2.2): money as bare
    numbers with at most 2 decimals, optional keys left out when null."""
    fields: list[tuple[str, pl.Expr]] = []
    columns = wire_columns(sec)
    schema = rows.collect_schema()
    for key in (*sec.identity_keys, *VALUE_KEYS):
        col = pl.col(columns[key])
        if key in _WIRE_MONEY:
            col = _money_text(col)
        elif schema[columns[key]] == pl.Date():
            col = col.dt.strftime("%d-%m-%Y")
        fields.append((key, col))
    fields.append(("prev_status", pl.col("portal_action")))
    if kind == "save":
        fields.append(("action", pl.col("target")))
        fields.append(("remarks", pl.col("d_remarks")))
        fields.append(("itcRedReq", _itc_red_req()))
        fields.extend((k, _money_text(_declared_amount(c))) for k, c in DECLARED_COLUMNS.items())
    pieces: list[pl.Expr] = [pl.lit("{")]
    for i, (key, value) in enumerate(fields):
        text = value.fill_null("null") if key in _WIRE_MONEY else _json_text(value)
        piece = pl.concat_str(pl.lit(("," if i else "") + json.dumps(key) + ":"), text)
        if key in OPTIONAL_KEYS:
            piece = pl.when(value.is_null()).then(pl.lit("")).otherwise(piece)
        pieces.append(piece)
    pieces.append(pl.lit("}"))
    out = rows.select(
        "doc_key",
        pl.lit(kind).alias("kind"),
        pl.lit(sec.key).alias("section"),
        pl.col("portal_action").alias("prev_status"),
        (pl.col("target") if kind == "save" else pl.lit(None, pl.String)).alias("action"),
        pl.concat_str(pieces).alias("json"),
    )
    return out.collect() if isinstance(out, pl.LazyFrame) else out


def _records(changed: pl.DataFrame, kind: str) -> pl.DataFrame:
    """All records of one kind, sorted: sections in registry order, supplier, date, number."""
    of_kind = pl.col("kind") == kind
    unknown = changed.filter(of_kind & ~pl.col("section").is_in(list(SECTIONS)))
    if not unknown.is_empty():
        raise InputError(
            f"IMS frame: unknown section {unknown['section'][0]!r} for {unknown['doc_key'][0]!r}"
        )
    order = ["supplier_gstin", "doc_date", "doc_number", "orig_doc_number", "orig_doc_date"]
    # One section at a time, lazily: the sort carries only the columns its JSON reads (memory).
    return pl.concat(
        [
            _section_records(
                changed.lazy()
                .filter(of_kind & (pl.col("section") == sec.key))
                .sort([*order, "doc_key"], nulls_last=True),
                sec,
                kind,
            )
            for sec in SECTIONS.values()
        ]
    )


def missing_keys(changed: pl.DataFrame) -> pl.DataFrame:
    """Records that would go out without a mandatory key (identity, value keys, prev_status),
    as violations (doc_key, guard_id, message): the portal refuses them (GEN5001 / IMSSAV005)."""
    parts = [pl.DataFrame(schema={"doc_key": pl.String(), "keys": pl.String()})]
    for sec in SECTIONS.values():
        rows = changed.filter(pl.col("section") == sec.key)
        if rows.is_empty():
            continue
        cols = {**wire_columns(sec), "prev_status": "portal_action"}
        flags = [
            pl.when(pl.col(cols[k]).is_null()).then(pl.lit(k))
            for k in (*sec.identity_keys, *VALUE_KEYS, "prev_status")
        ]
        found = pl.concat_str(flags, separator=", ", ignore_nulls=True)
        parts.append(rows.select("doc_key", found.alias("keys")).filter(pl.col("keys") != ""))
    return pl.concat(parts).select(
        "doc_key",
        guard_id=pl.lit("mandatory_keys"),
        message=pl.format("the download lacks mandatory key(s) {}: download again", "keys"),
    )


def guard_violations(
    ims: pl.DataFrame,
    decisions: pl.DataFrame,
    *,
    matches: pl.DataFrame | None = None,
    rules: Any = None,
    period: str | None = None,
) -> pl.DataFrame:
    """The rule engine's blocking guard violations (doc_key, guard_id, message) for decisions.

    Violations of an overridable guard that a human decision overrode with a reason do not
    block; every other violation does.
    """
    from imsdata.rules import engine as rule_engine

    if matches is None:
        matches = empty(MATCH_COLUMNS)
    found = rule_engine.check(ims, matches, decisions, rules=rules, period=period)
    return rule_engine.blocking(found)


def build_payloads(
    ims: pl.DataFrame,
    decisions: pl.DataFrame,
    *,
    rtin: str,
    matches: pl.DataFrame | None = None,
    rules: Any = None,
    period: str | None = None,
    only: Iterable[str] | None = None,
) -> Payloads:
    """SAVE and RESET records for the changed documents, after the portal guards pass.

    `only` restricts the upload to these doc_keys (e.g. the failures of the last upload). A guard
    violation raises GuardError listing each offending document and message; nothing is built.
    """
    current = current_decisions(decisions)
    if only is not None:
        current = current.filter(pl.col("doc_key").is_in(list(only)))
    skipped = (
        current.join(ims.select("doc_key"), on="doc_key", how="anti")
        .select("doc_key", "action")
        .with_columns(reason=pl.lit("document not in the IMS snapshot"))
    )
    # sections whose upload keys are not documented (bills of entry): decided, not uploaded
    unsent = [k for k, sec in SECTIONS.items() if not sec.uploadable]
    held = ims.filter(pl.col("section").is_in(unsent)).select("doc_key")
    if held.height:
        on_hold = current.join(held, on="doc_key", how="semi")
        skipped = pl.concat(
            [
                skipped,
                on_hold.select("doc_key", "action").with_columns(reason=pl.lit(HELD_REASON)),
            ]
        )
        current = current.join(held, on="doc_key", how="anti")
    # the upload reads only these IMS columns: the joins carry no others (memory at 1M)
    wanted = {
        "doc_key", "section", "supplier_gstin", "doc_date", "doc_number", "orig_doc_number",
        "orig_doc_date", "portal_action", "remarks", "itc_reduction", *DECLARED_COLUMNS.values(),
        *(c for sec in SECTIONS.values() for c in wire_columns(sec).values()),
    }  # fmt: skip
    slim = ims.select(c for c in ims.columns if c in wanted)
    changed = _changed(slim, current).filter(pl.col("kind").is_not_null()).collect()
    if not changed.is_empty():
        # Guards are row-level expressions over the decision view (docs/rules.md): every current
        # decision is judged, and only the outgoing documents' violations count. The frames go to
        # DuckDB as they are (no filtered copies on the polars side: ~0.9 GB at 1M); the period
        # comes from the whole download, as in suggest.
        unread = ("hash", "extra_json", "source_file", "source_index")  # not in the view
        found = guard_violations(
            ims.drop(unread, strict=False), current, matches=matches, rules=rules, period=period
        ).filter(pl.col("doc_key").is_in(changed["doc_key"].implode()))
        violations = pl.concat(
            [missing_keys(changed), found.select("doc_key", "guard_id", "message")]
        )
        if not gst.is_valid_format(rtin):
            violations = pl.concat(
                [
                    violations,
                    pl.DataFrame(
                        {
                            "doc_key": ["(upload)"],
                            "guard_id": ["recipient_gstin"],
                            "message": [f"recipient GSTIN (rtin) {rtin!r} is not a valid GSTIN"],
                        }
                    ),
                ]
            )
        if violations.height:
            error = GuardError(refusal_message(violations))
            error.violations = violations  # the full list, for callers that show or save it
            raise error
    return Payloads(
        rtin=rtin,
        save=_records(changed, "save"),
        reset=_records(changed, "reset"),
        skipped=skipped,
    )


def refusal_message(violations: pl.DataFrame, what: str = "export refused", limit: int = 20) -> str:
    """One line naming every offending document (up to `limit`) and the guard's message
    (`imsdata.decisions.refusal`, the one refusal message)."""
    return refusal(violations, what, limit=limit)


def _request_type(kind: str) -> tuple[str, str]:
    """(reqtyp, API action) of a payload kind (ims-spec.md §2.2-2.3)."""
    return ("SAVE", "SAVE") if kind == "save" else ("RESET", "RESETIMS")


def render_payload(rtin: str, kind: str, records: pl.DataFrame, *, api: bool = False) -> str:
    """The payload text: one record per line, sections in registry order, empty ones omitted.

    Offline-tool shape `{"rtin","reqtyp","invdata"}` by default; `api=True` wraps it for the
    API channel as `{"action": "SAVE"|"RESETIMS", "data": {...}}`.
    """
    reqtyp, api_action = _request_type(kind)
    pad = "  " if api else ""
    lines = [
        f'{pad}  "rtin": {json.dumps(rtin)},',
        f'{pad}  "reqtyp": "{reqtyp}",',
        f'{pad}  "invdata": {{',
    ]
    blocks = []
    for key, group in records.group_by("section", maintain_order=True):
        body = f",\n{pad}      ".join(group["json"].to_list())
        blocks.append(f'{pad}    "{key[0]}": [\n{pad}      {body}\n{pad}    ]')
    lines.append(",\n".join(blocks))
    lines.append(f"{pad}  }}")
    inner = "\n".join(line for line in lines if line)
    if api:
        return f'{{\n  "action": "{api_action}",\n  "data": {{\n{inner}\n  }}\n}}\n'
    return f"{{\n{inner}\n}}\n"


def split_records(
    records: pl.DataFrame, *, max_records: int, max_bytes: int, rtin: str, api: bool = False
) -> list[pl.DataFrame]:
    """Cut the sorted records into consecutive chunks that each fit the record and byte limits."""
    if max_records < 1 or max_bytes < 1:
        raise UsageError("upload limits must be positive (--max-records, max bytes)")
    if records.is_empty():
        return []
    # Fixed cost of a file: the envelope plus a header for every section it may hold; each
    # record costs its UTF-8 length plus the separator and indent written before it.
    sections = records["section"].n_unique()
    overhead = len(render_payload(rtin, "reset", records.head(0), api=api).encode()) + 64 * sections
    per_record = records["json"].str.len_bytes().cast(pl.Int64) + 12
    budget = max_bytes - overhead
    too_big = per_record > budget
    if too_big.any():
        doc = records.filter(too_big)["doc_key"][0]
        raise UsageError(f"upload byte limit {max_bytes} is smaller than the record of {doc}")
    cum = per_record.cum_sum()
    chunks, start, n = [], 0, records.height
    while start < n:
        before = cum[start - 1] if start else 0
        end = min(cum.search_sorted(before + budget, side="right"), start + max_records)
        chunks.append(records.slice(start, end - start))
        start = end
    return chunks


@dataclass(frozen=True)
class UploadFile:
    """One upload file: where it goes, its kind (save/reset), its text and its documents."""

    path: Path
    kind: str
    text: str
    doc_keys: list[str]


def plan_upload(
    payloads: Payloads,
    out_dir: str | Path,
    *,
    max_records: int = DEFAULT_MAX_RECORDS,
    max_bytes: int = DEFAULT_MAX_BYTES,
    api: bool = False,
) -> list[UploadFile]:
    """The files an upload needs (save_001.json..., reset_001.json...), rendered, not written."""
    out = Path(out_dir)
    plan: list[UploadFile] = []
    for kind in ("save", "reset"):
        chunks = split_records(
            _frame(payloads, kind),
            max_records=max_records,
            max_bytes=max_bytes,
            rtin=payloads.rtin,
            api=api,
        )
        for i, chunk in enumerate(chunks, start=1):
            text = render_payload(payloads.rtin, kind, chunk, api=api)
            plan.append(
                UploadFile(out / f"{kind}_{i:03d}.json", kind, text, chunk["doc_key"].to_list())
            )
    return plan


def write_files(plan: list[UploadFile]) -> list[Path]:
    """Write planned upload files atomically; stale numbered files of an older, larger export in
    the same folders are removed so each folder holds exactly this upload."""
    for item in plan:
        with atomic_open(item.path) as fh:
            fh.write(item.text)
    written = {item.path for item in plan}
    for folder in sorted({item.path.parent for item in plan}):
        for pattern in ("save_[0-9][0-9][0-9].json", "reset_[0-9][0-9][0-9].json"):
            for stale in sorted(folder.glob(pattern)):
                if stale not in written:
                    stale.unlink()
    return [item.path for item in plan]


def write_upload(
    payloads: Payloads,
    out_dir: str | Path,
    *,
    max_records: int = DEFAULT_MAX_RECORDS,
    max_bytes: int = DEFAULT_MAX_BYTES,
    api: bool = False,
) -> list[Path]:
    """Write save_001.json... and reset_001.json... atomically; returns the paths written.

    Nothing is written when nothing changed.
    """
    plan = plan_upload(payloads, out_dir, max_records=max_records, max_bytes=max_bytes, api=api)
    return write_files(plan)


@dataclass(frozen=True)
class ExportResult:
    """What an export did: the payloads built and the files written (none when unchanged)."""

    payloads: Payloads
    files: list[UploadFile]

    @property
    def paths(self) -> list[Path]:
        """The files written, in order."""
        return [f.path for f in self.files]


def export_upload(
    ims: pl.DataFrame,
    decisions: pl.DataFrame,
    out_dir: str | Path,
    *,
    rtin: str,
    matches: pl.DataFrame | None = None,
    rules: Any = None,
    period: str | None = None,
    only: Iterable[str] | None = None,
    max_records: int = DEFAULT_MAX_RECORDS,
    max_bytes: int = DEFAULT_MAX_BYTES,
    api: bool = False,
) -> ExportResult:
    """Build the payloads (guards first) and write them; a guard violation writes nothing."""
    payloads = build_payloads(
        ims, decisions, rtin=rtin, matches=matches, rules=rules, period=period, only=only
    )
    plan = plan_upload(payloads, out_dir, max_records=max_records, max_bytes=max_bytes, api=api)
    write_files(plan)
    return ExportResult(payloads, plan)


def read_upload(path: str | Path) -> pl.DataFrame:
    """The documents of one of our upload files: doc_key, kind, section, supplier_gstin,
    doc_number, prev_status, action (null for a reset), doc_date, supplier_period (rtnprd, for
    matching the portal's error report on the full key). InputError if it is not one."""
    p = Path(path)
    obj = read_json(p, "upload file")
    if isinstance(obj, dict) and isinstance(obj.get("data"), dict):
        obj = obj["data"]
    if not isinstance(obj, dict) or not isinstance(obj.get("invdata"), dict):
        raise InputError(f"{p}: not an IMS upload file (no invdata)")
    kind = "reset" if str(obj.get("reqtyp", "")).upper() == "RESET" else "save"
    frames = []
    for key, records in obj["invdata"].items():
        sec = SECTIONS.get(str(key).lower())
        if sec is None or not isinstance(records, list):
            raise InputError(f"{p}: unknown section {key!r} in invdata")
        keys = ("stin", sec.number_key, sec.date_key, "prev_status", "action", "rtnprd")
        rows = [{k: None if r.get(k) is None else str(r[k]) for k in keys} for r in records]
        frame = pl.DataFrame(rows, schema=dict.fromkeys(keys, pl.String()))
        frames.append(
            frame.select(
                section=pl.lit(sec.key),
                supplier_gstin=pl.col("stin"),
                doc_number=pl.col(sec.number_key),
                doc_date=pl.col(sec.date_key).str.to_date("%d-%m-%Y", strict=False),
                prev_status=pl.col("prev_status"),
                action=pl.col("action"),
                supplier_period=pl.col("rtnprd"),
            )
        )
    if not frames:
        raise InputError(f"{p}: upload file holds no records")
    docs = pl.concat(frames).with_columns(kind=pl.lit(kind))
    bad = docs.filter(pl.col("doc_date").is_null() | pl.col("doc_number").is_null())
    if bad.height:
        raise InputError(f"{p}: {bad.height} record(s) without a valid number or date")
    return docs.select(
        doc_key_expr().alias("doc_key"),
        "kind",
        "section",
        "supplier_gstin",
        "doc_number",
        "prev_status",
        "action",
        "doc_date",
        "supplier_period",
    )


def apply_portal_state(
    ims: pl.DataFrame, log: pl.DataFrame, *, import_id: str | None
) -> pl.DataFrame:
    """The IMS snapshot as the portal holds it now (`imsdata.decisions.portal_state`)."""
    return portal_state(ims, log, import_id=import_id)
