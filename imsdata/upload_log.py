"""Upload files and their workspace rows, committed together (issue 15).

`imsdata errors` finds the upload a portal report answers by the file's row in the workspace, so
a file on disk without its row (a kill between writing and recording) loses that link. Here the
rows are recorded first, in one transaction, as "written" with each file's sha256; the files are
then written (each atomically) and the rows confirmed. `reconcile` (run before every export and
`errors`) settles an interrupted export: a row whose file is on disk with the recorded content is
confirmed, a row whose file never landed is removed. So every file an export put on disk has its
row, and no row names a file that is not what it recorded.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import polars as pl

from imsdata.errors import InputError
from imsdata.outdir import checkpoint
from imsdata.portal.write import UploadFile, write_files
from imsdata.workspace import UPLOAD_COLUMNS, Workspace, _names, file_hash

WRITTEN, CONFIRMED = "written", "confirmed"


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _file_sha(path: Path) -> str | None:
    """The file's sha256 as every input is hashed (`workspace.file_hash`); None when unreadable."""
    try:
        return file_hash(path)
    except InputError:
        return None


def reconcile(ws: Workspace) -> None:
    """Confirm or drop the rows an interrupted export left as "written"."""
    pending = ws._rows(
        "SELECT s.upload_id, s.sha256, u.file FROM upload_states s "
        "JOIN uploads u USING (upload_id) WHERE s.state = ?",
        [WRITTEN],
    )
    if not pending:
        return
    landed = [uid for uid, sha, file in pending if _file_sha(Path(file)) == sha]
    lost = [uid for uid, _, _ in pending if uid not in landed]
    statements: list[tuple[str, list[object] | None]] = []
    if landed:
        statements.append(
            (
                "UPDATE upload_states SET state = ? WHERE upload_id IN "
                f"({', '.join('?' * len(landed))})",
                [CONFIRMED, *landed],
            )
        )
    for uid in lost:
        statements.append(("DELETE FROM upload_states WHERE upload_id = ?", [uid]))
        statements.append(("DELETE FROM uploads WHERE upload_id = ?", [uid]))
    ws._transaction(statements)


def write_recorded(
    ws: Workspace, plan: list[UploadFile], *, recorded_dir: Path | None = None
) -> list[str]:
    """Record the planned files as "written", write them, confirm them; returns upload ids.

    `recorded_dir`: the folder the files will finally live in when they are written into a
    staging copy (`imsdata run`); their rows stay "written" until the caller moves them there
    and calls `reconcile` (a kill before that leaves rows that `reconcile` drops).
    """
    reconcile(ws)
    if not plan:
        return []
    created = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)  # one batch
    taken = {r[0] for r in ws._rows("SELECT upload_id FROM uploads")}
    ids: list[str] = []
    n = len(taken)
    while len(ids) < len(plan):
        n += 1
        if f"upload-{n:04d}" not in taken:
            ids.append(f"upload-{n:04d}")
    # one INSERT per table from a frame: the doc_keys (every uploaded document) bound as
    # parameters row by row cost more than the rest of the export's bookkeeping
    rows = pl.DataFrame(
        {
            "upload_id": ids,
            "file": [str(_final(item.path, recorded_dir)) for item in plan],
            "created": [created] * len(plan),
            "doc_keys": [sorted(item.doc_keys) for item in plan],
            "sha256": [_sha(item.text) for item in plan],
        },
        schema={**UPLOAD_COLUMNS, "sha256": pl.String()},
    )
    ws.engine.register("_ws_uploads", rows)
    ws._transaction(
        [
            (f"INSERT INTO uploads SELECT {_names(UPLOAD_COLUMNS)} FROM _ws_uploads", None),
            ("INSERT INTO upload_states SELECT upload_id, sha256, ? FROM _ws_uploads", [WRITTEN]),
        ]
    )
    checkpoint("upload-recorded")
    write_files(plan)
    checkpoint("upload-written")
    if recorded_dir is None:
        reconcile(ws)
    return ids


def _final(path: Path, recorded_dir: Path | None) -> Path:
    """Where an upload file will live: its own path, or the same name in `recorded_dir`."""
    return (path if recorded_dir is None else Path(recorded_dir) / path.name).resolve()
