"""The workspace: one DuckDB file holding imports, matches, the decision log, uploads and errors.

Every import is stored by content hash (importing the same content again changes nothing),
decisions are an append-only log whose latest row per document is the current decision, and a
fresh download of the same period carries decisions over to documents the supplier did not change
(same record_hash) while flagging the ones it changed. Nothing in the log is ever deleted.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import getpass
import hashlib
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
from polars.datatypes import DataTypeClass

from imsdata.errors import GuardError, InputError, UsageError
from imsdata.rules import RuleSet, blocking, check
from imsdata.schemas import (
    ACTIONS,
    DECISION_COLUMNS,
    DECISION_DEFAULTS,
    DECISION_SOURCES,
    IMS_COLUMNS,
    MATCH_COLUMNS,
    MATCH_DEFAULTS,
    REGISTER_COLUMNS,
    Action,
    DecisionSource,
    DecisionStatus,
    conform,
    empty,
)
from imsdata.schemas.ims import DATE_COLUMNS, MONEY_COLUMNS
from imsdata.workspace_file import open_workspace

DEFAULT_WORKSPACE = "imsdata.duckdb"
SCHEMA_VERSION = "1"

#: Extra columns of the decision log (besides DECISION_COLUMNS) and of the current-decision frame.
LOG_COLUMNS: dict[str, pl.DataType] = {
    "decision_id": pl.Int64(),
    "import_id": pl.String(),  # the IMS import the decision was made against
    "record_hash": pl.String(),  # the document's record_hash when decided (carry-over key)
    **DECISION_COLUMNS,
}
CURRENT_COLUMNS: dict[str, pl.DataType] = {
    **LOG_COLUMNS,
    # valid: document unchanged since decided; review: supplier changed it; gone: not in IMS now
    "status": pl.String(),
}
CHANGE_COLUMNS: dict[str, pl.DataType] = {
    "doc_key": pl.String(),
    "change": pl.String(),  # added / changed / removed / unchanged
    "previous_record_hash": pl.String(),
    "record_hash": pl.String(),
    "decision_action": pl.String(),  # the current decision, if any
    "decision_source": pl.String(),
    "needs_review": pl.Boolean(),  # changed or removed while a decision exists
}
UPLOAD_COLUMNS: dict[str, pl.DataType] = {
    "upload_id": pl.String(),
    "file": pl.String(),
    "created": pl.Datetime("us"),
    "doc_keys": pl.List(pl.String()),
}
PORTAL_ERROR_COLUMNS: dict[str, pl.DataType] = {
    "doc_key": pl.String(),
    "error_cd": pl.String(),
    "error_msg": pl.String(),
    "upload_id": pl.String(),
    "received": pl.Datetime("us"),
}


def _sql_type(dtype: pl.DataType | DataTypeClass) -> str:
    """The DuckDB column type for a contract dtype."""
    if isinstance(dtype, pl.Decimal):
        return f"DECIMAL({dtype.precision}, {dtype.scale})"
    if isinstance(dtype, pl.List):
        return f"{_sql_type(dtype.inner)}[]"
    simple: dict[DataTypeClass, str] = {
        pl.String: "VARCHAR",
        pl.Boolean: "BOOLEAN",
        pl.Date: "DATE",
        pl.Datetime: "TIMESTAMP",
        pl.Int64: "BIGINT",
        pl.Int32: "INTEGER",
    }
    return simple[dtype.base_type()]


#: What a person decided on: a document whose amounts, dates or numbers differ from the snapshot
#: it was decided against is flagged for review even when the portal kept its `hash` (issue 15).
_DECIDED_CONTENT: tuple[str, ...] = (*MONEY_COLUMNS, *DATE_COLUMNS, "doc_number", "orig_doc_number")


#: The current decision per document (the latest decision_id wins): the one definition, behind
#: the `current_decisions` view and the temp table of `Workspace._current`. A grouped max and a
#: semi join, not a window: at a million decisions it stays within the engine's memory limit.
_CURRENT_OF = (
    "SELECT x.* FROM decisions x SEMI JOIN (SELECT max(decision_id) AS decision_id "
    "FROM decisions {where}GROUP BY doc_key) m ON m.decision_id = x.decision_id"
)
_CURRENT = _CURRENT_OF.format(where="")
#: The temp table `Workspace._current` fills (dropped after each use).
_CURRENT_TABLE = "_ws_current"


def _content_changed(old: str, new: str) -> str:
    """SQL: the two aliases' rows (both present) differ in a decided-on column."""
    differs = " OR ".join(f'{old}."{c}" IS DISTINCT FROM {new}."{c}"' for c in _DECIDED_CONTENT)
    return f"({old}.doc_key IS NOT NULL AND {new}.doc_key IS NOT NULL AND ({differs}))"


def _cols(columns: dict[str, pl.DataType]) -> str:
    return ", ".join(f'"{name}" {_sql_type(dtype)}' for name, dtype in columns.items())


def _names(columns: Iterable[str], alias: str = "") -> str:
    prefix = f"{alias}." if alias else ""
    return ", ".join(f'{prefix}"{name}"' for name in columns)


#: The workspace's tables, in one place (teammates add theirs here through the lead).
DDL: tuple[str, ...] = (
    "CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)",
    """CREATE TABLE IF NOT EXISTS imports (
        import_id VARCHAR PRIMARY KEY, kind VARCHAR NOT NULL, seq INTEGER NOT NULL,
        source_hash VARCHAR NOT NULL, label VARCHAR, rows BIGINT NOT NULL,
        imported_at TIMESTAMP NOT NULL, UNIQUE (kind, source_hash))""",
    f"CREATE TABLE IF NOT EXISTS ims_documents (import_id VARCHAR NOT NULL, {_cols(IMS_COLUMNS)})",
    "CREATE TABLE IF NOT EXISTS register_documents "
    f"(import_id VARCHAR NOT NULL, {_cols(REGISTER_COLUMNS)})",
    # issue 13: register columns added later reach workspaces made before them
    *(
        f'ALTER TABLE register_documents ADD COLUMN IF NOT EXISTS "{name}" {_sql_type(dtype)}'
        for name, dtype in REGISTER_COLUMNS.items()
    ),
    """CREATE TABLE IF NOT EXISTS match_runs (
        run_id VARCHAR PRIMARY KEY, seq INTEGER NOT NULL, ims_import_id VARCHAR,
        register_import_id VARCHAR, rows BIGINT NOT NULL, created TIMESTAMP NOT NULL)""",
    f"CREATE TABLE IF NOT EXISTS matches (run_id VARCHAR NOT NULL, {_cols(MATCH_COLUMNS)})",
    f"CREATE TABLE IF NOT EXISTS decisions ({_cols(LOG_COLUMNS)}, PRIMARY KEY (decision_id))",
    f"CREATE OR REPLACE VIEW current_decisions AS {_CURRENT}",
    f"CREATE TABLE IF NOT EXISTS uploads ({_cols(UPLOAD_COLUMNS)}, PRIMARY KEY (upload_id))",
    f"CREATE TABLE IF NOT EXISTS portal_errors ({_cols(PORTAL_ERROR_COLUMNS)})",
    # issue 14: each register import keeps its period; match columns added later
    """CREATE TABLE IF NOT EXISTS register_periods (
        import_id VARCHAR PRIMARY KEY, period VARCHAR NOT NULL)""",
    "ALTER TABLE matches ADD COLUMN IF NOT EXISTS booked_period VARCHAR",
    "ALTER TABLE matches ADD COLUMN IF NOT EXISTS already_claimed BOOLEAN",
    # an upload file's row is "written" before the file, "confirmed" after (imsdata.upload_log)
    """CREATE TABLE IF NOT EXISTS upload_states (
        upload_id VARCHAR PRIMARY KEY, sha256 VARCHAR NOT NULL, state VARCHAR NOT NULL)""",
)


_TABLES = (
    "meta", "imports", "ims_documents", "register_documents", "match_runs", "matches",
    "decisions", "uploads", "portal_errors", "register_periods", "upload_states",
)  # fmt: skip
_TABLE_RE = re.compile(r"\b(FROM|INTO|JOIN)\s+(" + "|".join(_TABLES) + r")\b")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


def file_hash(path: str | os.PathLike[str]) -> str:
    """sha256 of a file's bytes (the identity of an import)."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from None
    return digest.hexdigest()


def files_hash(paths: Sequence[str | os.PathLike[str]]) -> str:
    """One hash for several inputs (order-independent): sha256 of their files' sorted hashes; a
    folder counts as every file under it (`imsdata run FOLDER`, `suggest --ims FOLDER`)."""
    hashes: list[str] = []
    for path in map(Path, paths):
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        hashes += [file_hash(f) for f in files]
    hashes.sort()
    return hashes[0] if len(hashes) == 1 else hashlib.sha256("".join(hashes).encode()).hexdigest()


def frame_hash(frame: pl.DataFrame) -> str:
    """sha256 of a frame's schema and values (CSV text), for in-memory imports."""
    digest = hashlib.sha256(repr(list(frame.schema.items())).encode())
    digest.update(frame.write_csv(date_format="%Y-%m-%d").encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class ImportInfo:
    """One stored import: its id, content hash, size and whether this call added it."""

    import_id: str
    kind: str
    source_hash: str
    label: str | None
    rows: int
    imported_at: dt.datetime
    new: bool

    @property
    def message(self) -> str:
        """One line for the user."""
        if self.new:
            return f"imported {self.rows} {self.kind} rows as {self.import_id}"
        return f"already imported as {self.import_id} (same content): nothing changed"


class Workspace:
    """A DuckDB workspace file (created if missing); `.engine` is its `DuckDBEngine`."""

    def __init__(self, path: str | os.PathLike[str] = DEFAULT_WORKSPACE) -> None:
        self.path = Path(path)
        # verified: an imsdata workspace (or a new file), migrated to SCHEMA_VERSION, DDL run
        self.engine = open_workspace(self.path, DDL, SCHEMA_VERSION)
        name = self.engine.execute("SELECT current_database()").fetchall()[0][0]
        self._catalog = '"' + str(name).replace('"', '""') + '"'
        self._rows("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", [SCHEMA_VERSION])
        #: (log and imports it was computed on, the current decisions): see `current_decisions`
        self._known: tuple[tuple, pl.DataFrame] | None = None

    # ------------------------------------------------------------------ plumbing

    def close(self) -> None:
        """Close the file."""
        self._known = None
        self.engine.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _rows(
        self, sql: str, params: Sequence[object] | None = None, *, step: str = "workspace"
    ) -> list[tuple]:
        """Run a statement and fetch everything (DuckDB 2.0 keeps unfetched results open)."""
        return self.engine.execute(self._qualify(sql), params, step=step).fetchall()

    def _qualify(self, sql: str) -> str:
        """Name our tables with their catalog, so a frame another module registered under the
        same name (e.g. `matches`) on this connection can never shadow them."""
        return _TABLE_RE.sub(lambda m: f"{m.group(1)} {self._catalog}.main.{m.group(2)}", sql)

    def _query(self, sql: str, step: str = "workspace") -> pl.DataFrame:
        return self.engine.query(self._qualify(sql), step=step)

    def _scalar(self, sql: str, params: Sequence[object] | None = None) -> Any:
        rows = self._rows(sql, params)
        return rows[0][0] if rows else None

    def _transaction(self, statements: Sequence[tuple[str, Sequence[object] | None]]) -> None:
        """Run the statements atomically. Row order inside a table is free (every reader sorts),
        so bulk INSERTs need not keep insertion order: less memory at 1M rows."""
        with self.engine.unordered():
            self._rows("BEGIN TRANSACTION")
            try:
                for sql, params in statements:
                    self._rows(sql, params, step="workspace_write")
            except BaseException:
                self._rows("ROLLBACK")
                raise
            self._rows("COMMIT")

    @contextlib.contextmanager
    def _current(self, since: int | None = None) -> Iterator[str]:
        """The current decisions (`_CURRENT`) as a temp table for one query; its name. `since`:
        only the documents decided from that decision id on (their latest decision is there)."""
        where = "" if since is None else f"WHERE decision_id >= {int(since)} "
        current = _CURRENT_OF.format(where=where)
        self._rows(f"CREATE OR REPLACE TEMP TABLE {_CURRENT_TABLE} AS {current}", step="current")
        try:
            yield _CURRENT_TABLE
        finally:
            self._rows(f"DROP TABLE IF EXISTS {_CURRENT_TABLE}", step="current")

    def _next_id(self, table: str, prefix: str, where: str = "") -> tuple[str, int]:
        seq = int(self._scalar(f"SELECT coalesce(max(seq), 0) + 1 FROM {table} {where}"))
        return f"{prefix}-{seq:04d}", seq

    # ------------------------------------------------------------------ imports

    def _import(
        self,
        kind: str,
        table: str,
        frame: pl.DataFrame,
        columns: dict[str, pl.DataType],
        source_hash: str | None,
        label: str | None,
    ) -> ImportInfo:
        frame = conform(frame, columns)
        source_hash = source_hash or frame_hash(frame)
        existing = self._rows(
            "SELECT import_id, label, rows, imported_at FROM imports "
            "WHERE kind = ? AND source_hash = ?",
            [kind, source_hash],
        )
        if existing:
            iid, old_label, rows, at = existing[0]
            return ImportInfo(iid, kind, source_hash, old_label, rows, at, new=False)
        import_id, seq = self._next_id("imports", kind, f"WHERE kind = '{kind}'")
        at = _now()
        self.engine.register("_ws_frame", frame)
        self._transaction(
            [
                (
                    "INSERT INTO imports VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [import_id, kind, seq, source_hash, label, frame.height, at],
                ),
                (
                    f"INSERT INTO {table} SELECT ? AS import_id, {_names(columns)} FROM _ws_frame",
                    [import_id],
                ),
            ]
        )
        return ImportInfo(import_id, kind, source_hash, label, frame.height, at, new=True)

    def import_ims(
        self, frame: pl.DataFrame, *, source_hash: str | None = None, label: str | None = None
    ) -> ImportInfo:
        """Store an IMS snapshot (canonical frame); the same content again is a no-op."""
        if "doc_key" not in frame.columns or frame["doc_key"].null_count():
            raise InputError(f"{label or 'IMS frame'}: every document needs a doc_key")
        return self._import("ims", "ims_documents", frame, IMS_COLUMNS, source_hash, label)

    def import_register(
        self,
        frame: pl.DataFrame,
        *,
        source_hash: str | None = None,
        label: str | None = None,
        period: str | None = None,
    ) -> ImportInfo:
        """Store a purchase-register snapshot (canonical frame); the same content is a no-op.
        `period` (MMYYYY) is the month whose books these are (the latest import of a month wins)."""
        info = self._import(
            "register", "register_documents", frame, REGISTER_COLUMNS, source_hash, label
        )
        if period:
            self._rows(
                "INSERT OR REPLACE INTO register_periods VALUES (?, ?)", [info.import_id, period]
            )
        return info

    def books_of_other_periods(self, period: str | None) -> pl.DataFrame:
        """The register rows of every month but `period` (the latest import of each month), with
        their `book_period`: the books a document of this download may have been booked in."""
        rows = self._query(
            f"""SELECT {_names(REGISTER_COLUMNS, "d")}, p.period AS book_period
            FROM register_documents d
            JOIN register_periods p ON p.import_id = d.import_id
            JOIN imports i ON i.import_id = d.import_id
            WHERE p.period IS DISTINCT FROM {_str_or_null(period)}
            QUALIFY dense_rank() OVER (PARTITION BY p.period ORDER BY i.seq DESC) = 1
            ORDER BY p.period, d.register_id""",
            step="books_of_other_periods",
        )
        return conform(rows, {**REGISTER_COLUMNS, "book_period": pl.String()})

    def claimed_bookings(self, period: str | None) -> pl.DataFrame:
        """Bookings paired in a run of another month with a document whose current decision is
        accept: (register_id, doc_key, period). Reconciling again on them is a double claim."""
        return self._query(
            f"""SELECT DISTINCT m.register_id, m.doc_key, p.period
            FROM matches m
            JOIN match_runs r ON r.run_id = m.run_id
            JOIN register_periods p ON p.import_id = r.register_import_id
            JOIN ({_CURRENT}) c ON c.doc_key = m.doc_key
            WHERE m.doc_key IS NOT NULL AND m.register_id IS NOT NULL
              AND c.action = '{Action.ACCEPT}'
              AND p.period IS DISTINCT FROM {_str_or_null(period)}
            ORDER BY p.period, m.register_id, m.doc_key""",
            step="claimed_bookings",
        )

    def imports(self) -> pl.DataFrame:
        """Every import, oldest first."""
        return self._query("SELECT * FROM imports ORDER BY kind, seq", step="imports")

    def _import_ids(self, kind: str) -> list[str]:
        rows = self._rows("SELECT import_id FROM imports WHERE kind = ? ORDER BY seq", [kind])
        return [r[0] for r in rows]

    def ims(self, import_id: str) -> pl.DataFrame:
        """The documents of one IMS import, sorted by doc_key."""
        frame = self._query(
            f"SELECT {_names(IMS_COLUMNS)} FROM ims_documents "
            f"WHERE import_id = '{_quote(import_id)}' ORDER BY doc_key",
            step="ims_snapshot",
        )
        return conform(frame, IMS_COLUMNS)

    def latest_ims(self) -> pl.DataFrame:
        """The documents of the latest IMS import; InputError if there is none yet."""
        ids = self._import_ids("ims")
        if not ids:
            raise InputError(f"{self.path}: no IMS download imported yet (run imsdata suggest)")
        return self.ims(ids[-1])

    def latest_register(self) -> pl.DataFrame:
        """The rows of the latest register import (empty frame if none)."""
        ids = self._import_ids("register")
        if not ids:
            return empty(REGISTER_COLUMNS)
        frame = self._query(
            f"SELECT {_names(REGISTER_COLUMNS)} FROM register_documents "
            f"WHERE import_id = '{_quote(ids[-1])}' ORDER BY register_id",
            step="register_snapshot",
        )
        return conform(frame, REGISTER_COLUMNS)

    # ------------------------------------------------------------------ matches

    def save_matches(self, frame: pl.DataFrame, run_id: str | None = None) -> str:
        """Store a reconciliation run (MATCH_COLUMNS) against the latest imports; returns its id."""
        frame = conform(frame, MATCH_COLUMNS, defaults=MATCH_DEFAULTS)
        generated, seq = self._next_id("match_runs", "run")
        run_id = run_id or generated
        if self._scalar("SELECT count(*) FROM match_runs WHERE run_id = ?", [run_id]):
            raise UsageError(f"{self.path}: match run '{run_id}' already exists")
        ims_ids, reg_ids = self._import_ids("ims"), self._import_ids("register")
        self.engine.register("_ws_frame", frame)
        self._transaction(
            [
                (
                    "INSERT INTO match_runs VALUES (?, ?, ?, ?, ?, ?)",
                    [
                        run_id,
                        seq,
                        ims_ids[-1] if ims_ids else None,
                        reg_ids[-1] if reg_ids else None,
                        frame.height,
                        _now(),
                    ],
                ),
                (
                    f"INSERT INTO matches SELECT ? AS run_id, {_names(MATCH_COLUMNS)} "
                    "FROM _ws_frame",
                    [run_id],
                ),
            ]
        )
        return run_id

    def latest_matches(self) -> pl.DataFrame:
        """The rows of the latest reconciliation run (empty frame if none)."""
        run = self._scalar("SELECT run_id FROM match_runs ORDER BY seq DESC LIMIT 1")
        if run is None:
            return empty(MATCH_COLUMNS)
        frame = self._query(
            f"SELECT {_names(MATCH_COLUMNS)} FROM matches WHERE run_id = '{_quote(str(run))}' "
            "ORDER BY doc_key NULLS LAST, register_id NULLS LAST",
            step="latest_matches",
        )
        return conform(frame, MATCH_COLUMNS)

    # ------------------------------------------------------------------ decisions

    def append_decisions(
        self, frame: pl.DataFrame, *, source: str, user: str | None = None
    ) -> pl.DataFrame:
        """Append decisions to the log as they are (no guard check: see `decide`); returns the
        appended rows with their decision ids. Each row is tied to the latest IMS import."""
        start = self._append(frame, source=source, user=user)
        return self._query(
            f"SELECT * FROM decisions WHERE decision_id >= {start} ORDER BY decision_id",
            step="appended",
        ).select(pl.col(n).cast(t) for n, t in LOG_COLUMNS.items())

    def _append(self, frame: pl.DataFrame, *, source: str, user: str | None = None) -> int:
        """Append decisions to the log; returns the first decision id given (read nothing back)."""
        if source not in DECISION_SOURCES:
            raise UsageError(f"source '{source}' must be one of {', '.join(DECISION_SOURCES)}")
        frame = conform(frame, DECISION_COLUMNS, defaults=DECISION_DEFAULTS)
        bad = frame.filter(pl.col("doc_key").is_null() | ~pl.col("action").is_in(ACTIONS))
        if bad.height:
            row = bad.row(0, named=True)
            raise InputError(
                f"decision for '{row['doc_key']}': action '{row['action']}' must be one of "
                f"{', '.join(ACTIONS)} and doc_key is required"
            )
        who = user or _current_user()
        frame = frame.with_columns(
            source=pl.lit(source),
            user=pl.coalesce(pl.lit(user, pl.String()), pl.col("user"), pl.lit(who)),
            decided_at=pl.coalesce(pl.col("decided_at"), pl.lit(_now())),
        )
        ims_ids = self._import_ids("ims")
        import_id = ims_ids[-1] if ims_ids else None
        start = int(self._scalar("SELECT coalesce(max(decision_id), 0) + 1 FROM decisions"))
        self.engine.register("_ws_frame", frame.with_row_index("_i"))
        # one record_hash per document of the import (a download's doc_keys are unique; were
        # one repeated, the smallest): a grouped join, not a window over every decision
        self._transaction(
            [
                (
                    f"""INSERT INTO decisions
                    SELECT ? + f._i AS decision_id, ? AS import_id, d.record_hash,
                           {_names(DECISION_COLUMNS, "f")}
                    FROM _ws_frame f
                    LEFT JOIN (SELECT doc_key, min(record_hash) AS record_hash
                               FROM ims_documents WHERE import_id = ? GROUP BY doc_key) d
                      ON d.doc_key = f.doc_key""",
                    [start, import_id, import_id],
                )
            ]
        )
        return start

    def decision_log(
        self, *, source: str | None = None, import_id: str | None = None
    ) -> pl.DataFrame:
        """The append-only log, oldest first: whole, or only the rows of one `source` and/or
        made against one `import_id` (e.g. the portal's, for `decisions.portal_state`: at a
        million decisions the whole log is a frame of its own)."""
        where = " AND ".join(
            f"{col} = '{_quote(val)}'"
            for col, val in (("source", source), ("import_id", import_id))
            if val is not None
        )
        frame = self._query(
            f"SELECT * FROM decisions {f'WHERE {where} ' if where else ''}ORDER BY decision_id",
            step="log",
        )
        return frame.select(pl.col(n).cast(t) for n, t in LOG_COLUMNS.items())

    def current_decisions(self) -> pl.DataFrame:
        """The current decision per document (latest wins) with its carry-over status against
        the latest IMS import: valid (unchanged), review (supplier changed it), gone.

        The latest decisions are a temp table first (one statement with both joins ran out of
        the engine's memory limit at a million decisions); content is compared only for
        decisions taken on an earlier import (one taken on the latest has its content). The
        frame is kept while the log and the IMS imports stay as they are (both only grow).
        """
        state = self._log_state()
        if self._known is not None and self._known[0] == state:
            return self._known[1]
        frame = self._current_status()
        self._known = (state, frame)
        return frame

    def _log_state(self) -> tuple:
        """What the current decisions are computed on: the log's size and last id (the log is
        append-only) and the IMS imports (each immutable)."""
        count, last = self._rows("SELECT count(*), max(decision_id) FROM decisions")[0]
        return count, last, tuple(self._import_ids("ims"))

    def _current_status(self, since: int | None = None) -> pl.DataFrame:
        """`current_decisions` computed (`since`: of the documents decided from that id on)."""
        ids = self._import_ids("ims")
        latest = _quote(ids[-1]) if ids else ""
        content = _names(("doc_key", "record_hash", *_DECIDED_CONTENT))
        gone, review, valid = DecisionStatus.GONE, DecisionStatus.REVIEW, DecisionStatus.VALID
        with self._current(since) as current:
            frame = self._query(
                f"""SELECT c.*, CASE
                      WHEN d.doc_key IS NULL THEN '{gone}'
                      WHEN c.record_hash IS DISTINCT FROM d.record_hash THEN '{review}'
                      WHEN {_content_changed("p", "d")} THEN '{review}'
                      ELSE '{valid}' END AS status
                FROM {current} c
                LEFT JOIN (SELECT {content} FROM ims_documents WHERE import_id = '{latest}') d
                  ON d.doc_key = c.doc_key
                LEFT JOIN (SELECT import_id, {content} FROM ims_documents
                           WHERE import_id <> '{latest}' AND import_id IN
                             (SELECT import_id FROM {current})) p
                  ON p.import_id = c.import_id AND p.doc_key = c.doc_key""",
                step="current_decisions",
            )
        # one row per doc_key: sorted here, where it is cheaper than DuckDB's ORDER BY on strings
        return frame.select(pl.col(n).cast(t) for n, t in CURRENT_COLUMNS.items()).sort("doc_key")

    def changes_since_previous(self, import_id: str | None = None) -> pl.DataFrame:
        """Documents added, changed (new record_hash), removed or unchanged between an IMS import
        (default the latest) and the one before it, with the current decision of each."""
        ids = self._import_ids("ims")
        if not ids:
            return empty(CHANGE_COLUMNS)
        new = import_id or ids[-1]
        if new not in ids:
            raise UsageError(f"{self.path}: no IMS import '{new}'")
        pos = ids.index(new)
        old = ids[pos - 1] if pos else ""
        with self._current() as current:
            frame = self._query(
                f"""WITH o AS (SELECT doc_key, record_hash, {_names(_DECIDED_CONTENT)}
                               FROM ims_documents WHERE import_id = '{_quote(old)}'),
                     n AS (SELECT doc_key, record_hash, {_names(_DECIDED_CONTENT)}
                           FROM ims_documents WHERE import_id = '{_quote(new)}'),
                     j AS (
                       SELECT coalesce(n.doc_key, o.doc_key) AS doc_key,
                         CASE WHEN o.doc_key IS NULL THEN 'added'
                              WHEN n.doc_key IS NULL THEN 'removed'
                              WHEN o.record_hash IS DISTINCT FROM n.record_hash THEN 'changed'
                              WHEN {_content_changed("o", "n")} THEN 'changed'
                              ELSE 'unchanged' END AS change,
                         o.record_hash AS previous_record_hash, n.record_hash
                       FROM o FULL OUTER JOIN n ON o.doc_key = n.doc_key)
                SELECT j.*, c.action AS decision_action, c.source AS decision_source,
                       c.doc_key IS NOT NULL AND j.change IN ('changed', 'removed') AS needs_review
                FROM j LEFT JOIN {current} c ON c.doc_key = j.doc_key
                ORDER BY j.doc_key""",
                step="changes_since_previous",
            )
        return frame.select(pl.col(n).cast(t) for n, t in CHANGE_COLUMNS.items())

    def store_suggestions(self, suggestions: pl.DataFrame, *, user: str | None = None) -> dict:
        """Log rule suggestions without overriding people: a suggestion is appended when the
        document has no decision, its current decision is an older different rule decision, or
        the supplier changed the document since it was decided. Returns counts."""
        compare = ["action", "rule_id", "reason", "remarks", "itc_reduction"]
        before = self.current_decisions()
        cur = before.select(
            "doc_key",
            pl.col("source").alias("cur_source"),
            pl.col("status").alias("cur_status"),
            *(pl.col(c).alias(f"cur_{c}") for c in compare),
        )
        joined = (
            conform(suggestions, DECISION_COLUMNS, defaults=DECISION_DEFAULTS)
            .drop("source")
            .join(cur, on="doc_key", how="left")
        )
        no_decision = pl.col("cur_source").is_null()
        supplier_changed = (pl.col("cur_status") != "valid").fill_null(False)
        same_rule = (pl.col("cur_source") == DecisionSource.RULE).fill_null(
            False
        ) & pl.all_horizontal(pl.col(c).eq_missing(pl.col(f"cur_{c}")) for c in compare)
        human = (pl.col("cur_source").is_in(HUMAN_KEEP) & ~supplier_changed).fill_null(False)
        joined = joined.with_columns(
            _append=no_decision | supplier_changed | (~human & ~same_rule),
            _same=same_rule,
            _human=human,
        )
        to_add = joined.filter("_append").select(c for c in DECISION_COLUMNS if c != "source")
        counts = {
            "appended": to_add.height,
            "unchanged": joined.filter(~pl.col("_append") & pl.col("_same")).height,
            "kept_human": joined.filter(~pl.col("_append") & pl.col("_human")).height,
        }
        if to_add.height:
            start = self._append(to_add, source=DecisionSource.RULE, user=user or "imsdata")
            # only the documents just decided have a new current decision: theirs are computed
            # (the same query, on the log's tail) and the others' kept as they were
            tail = self._current_status(since=start)
            kept = before.filter(~pl.col("doc_key").is_in(tail["doc_key"].implode()))
            after = kept.merge_sorted(tail, key="doc_key") if kept.height else tail  # both sorted
            self._known = (self._log_state(), after)
        return counts

    def check_decisions(
        self, decisions: pl.DataFrame, *, rules: RuleSet | str | Path | None = None
    ) -> pl.DataFrame:
        """The guards' violations for decisions against the latest IMS import and matches."""
        return check(self.latest_ims(), self.latest_matches(), decisions, rules=rules)

    def decide(
        self,
        decisions: pl.DataFrame | str,
        action: str | None = None,
        *,
        reason: str | None = None,
        remarks: str | None = None,
        itc_reduction: str | None = None,
        declared: dict[str, object] | None = None,
        user: str | None = None,
        source: str = DecisionSource.MANUAL,
        rules: RuleSet | str | Path | None = None,
    ) -> pl.DataFrame:
        """Record manual decisions (a frame, or one doc_key with `action`) after the guards
        allow them; GuardError with the guard's message otherwise. Returns the appended rows."""
        if isinstance(decisions, str):
            if action is None:
                raise UsageError("decide: give an action for the document")
            row = {
                "doc_key": decisions,
                "action": action,
                "reason": reason,
                "remarks": remarks,
                "itc_reduction": itc_reduction,
                **{f"declared_{k}": val for k, val in (declared or {}).items()},
            }
            frame = conform(pl.DataFrame([row]), DECISION_COLUMNS, defaults=DECISION_DEFAULTS)
        else:
            frame = decisions
        frame = frame.with_columns(source=pl.lit(source))
        refused = blocking(self.check_decisions(frame, rules=rules))
        if refused.height:
            from imsdata.decisions import refusal

            raise GuardError(refusal(refused, "refused"))
        return self.append_decisions(frame, source=source, user=user)

    # ------------------------------------------------------------------ uploads, portal errors

    def record_upload(
        self,
        file: str | os.PathLike[str],
        doc_keys: Sequence[str],
        *,
        upload_id: str | None = None,
        created: dt.datetime | None = None,
    ) -> str:
        """Log a generated upload file and the documents it carries; returns the upload id."""
        count = int(self._scalar("SELECT count(*) FROM uploads")) + 1
        upload_id = upload_id or f"upload-{count:04d}"
        self._rows(
            "INSERT INTO uploads VALUES (?, ?, ?, ?)",
            [upload_id, str(file), created or _now(), sorted(doc_keys)],
            step="record_upload",
        )
        return upload_id

    def record_portal_errors(
        self, frame: pl.DataFrame, *, upload_id: str | None, received: dt.datetime | None = None
    ) -> int:
        """Log the portal's per-document errors (doc_key, error_cd, error_msg); returns rows."""
        frame = conform(
            frame.with_columns(
                upload_id=pl.lit(upload_id, pl.String()),
                received=pl.lit(received or _now(), pl.Datetime("us")),
            ),
            PORTAL_ERROR_COLUMNS,
        )
        self.engine.register("_ws_frame", frame)
        self._rows(
            f"INSERT INTO portal_errors SELECT {_names(PORTAL_ERROR_COLUMNS)} FROM _ws_frame",
            step="record_portal_errors",
        )
        return frame.height

    def uploads(self) -> pl.DataFrame:
        """Every logged upload, oldest first."""
        frame = self._query("SELECT * FROM uploads ORDER BY created, upload_id")
        return frame.select(pl.col(n).cast(t) for n, t in UPLOAD_COLUMNS.items())

    def portal_errors(self) -> pl.DataFrame:
        """Every logged portal error, sorted."""
        frame = self._query("SELECT * FROM portal_errors ORDER BY received, doc_key")
        return frame.select(pl.col(n).cast(t) for n, t in PORTAL_ERROR_COLUMNS.items())


#: Decision sources a rule suggestion never overrides while the document is unchanged.
HUMAN_KEEP: tuple[str, ...] = tuple(s for s in DECISION_SOURCES if s != DecisionSource.RULE)


def _str_or_null(text: str | None) -> str:
    return "NULL" if text is None else f"'{_quote(text)}'"


def _quote(text: str) -> str:
    return text.replace("'", "''")


def _current_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
