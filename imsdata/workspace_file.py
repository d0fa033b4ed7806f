"""Opening the workspace file safely: only an imsdata workspace, one line for every path problem.

An existing file is opened only when it is a DuckDB file (its header) holding the `meta` table
with a `schema_version`; a file of another kind (a CSV given to --workspace by mistake) is
refused before DuckDB touches it. Older schema versions are migrated in place (MIGRATIONS); a
newer one is refused with what to do. A locked file, a missing or read-only folder, a folder
where the file should be: one line each, never a traceback.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import duckdb

from imsdata.engine import DuckDBEngine
from imsdata.errors import InputError

#: DuckDB's storage header carries these bytes at offset 8.
_DUCKDB_MAGIC = b"DUCK"
#: Statements that bring a workspace from schema version N (the key) to N + 1.
MIGRATIONS: dict[int, tuple[str, ...]] = {}


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def check_path(path: Path) -> bool:
    """Refuse a path that cannot be (or is not) a workspace; True when the file exists."""
    if path.is_dir():
        raise InputError(f"{path}: workspace file expected, found a folder")
    if not path.exists():
        folder = path.parent
        if not folder.is_dir():
            raise InputError(f"{path}: workspace folder {folder} does not exist")
        return False
    try:
        with open(path, "rb") as fh:
            head = fh.read(16)
    except OSError as exc:
        raise InputError(f"{path}: workspace cannot be read: {exc.strerror}") from None
    if not head:
        raise InputError(
            f"{path}: empty file, not an imsdata workspace (remove it or choose another)"
        )
    if head[8:12] != _DUCKDB_MAGIC:
        raise InputError(
            f"{path}: not an imsdata workspace (not a DuckDB file); choose another --workspace"
        )
    return True


def _connect(path: Path) -> DuckDBEngine:
    try:
        return DuckDBEngine(path, insertion_order=False)
    except duckdb.IOException as exc:
        text = str(exc)
        if "lock" in text.lower():
            raise InputError(
                f"{path}: workspace is in use by another imsdata process; wait for it to finish"
            ) from None
        raise InputError(f"{path}: workspace cannot be opened: {_first_line(exc)}") from None
    except duckdb.Error as exc:
        raise InputError(f"{path}: workspace cannot be opened: {_first_line(exc)}") from None


def _version(engine: DuckDBEngine, path: Path) -> int:
    """The stored schema version; InputError when the file is not an imsdata workspace."""
    tables = engine.con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'main' AND table_name = 'meta'"
    ).fetchall()[0][0]
    rows = (
        engine.con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall()
        if tables
        else []
    )
    if not rows:
        raise InputError(
            f"{path}: a DuckDB file but not an imsdata workspace (no schema version); "
            "choose another --workspace"
        )
    try:
        return int(rows[0][0])
    except (TypeError, ValueError):
        raise InputError(f"{path}: workspace schema version {rows[0][0]!r} unknown") from None


def open_workspace(path: Path, ddl: Sequence[str], version: str) -> DuckDBEngine:
    """Open (or create) the workspace file at `path`, verified and at schema `version`."""
    existed = check_path(path)
    engine = _connect(path)
    try:
        if existed:
            found, wanted = _version(engine, path), int(version)
            if found > wanted:
                raise InputError(
                    f"{path}: workspace schema {found} is newer than this imsdata's ({wanted}); "
                    "upgrade imsdata"
                )
            for step in range(found, wanted):
                if step not in MIGRATIONS:
                    raise InputError(
                        f"{path}: workspace schema {found} cannot be migrated to {wanted}; "
                        "start a new workspace (--workspace) and import the month again"
                    )
                for statement in MIGRATIONS[step]:
                    engine.con.execute(statement).fetchall()
                engine.con.execute(
                    "UPDATE meta SET value = ? WHERE key = 'schema_version'", [str(step + 1)]
                ).fetchall()
        for statement in ddl:
            engine.execute(statement, step="workspace_ddl").fetchall()
    except BaseException:
        engine.close()
        raise
    return engine
