"""Options of a run as one typed object (beside `imsdata.reconcile.Tolerances`).

`imsdata run` parses its flags into a `RunOptions` and hands it to `imsdata.pipeline.run`;
a notebook builds one (or passes the same names as keywords to `run`). Frozen: a run never
changes its options, and no process-wide setting stands in for one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from imsdata.review import DEFAULT_REVIEW_LIMIT


@dataclass(frozen=True)
class RunOptions:
    """Everything `imsdata run` can be told besides its inputs; the defaults are the CLI's."""

    #: Our GSTIN; None: the one the download names, else the register's (decisions.py).
    gstin: str | None = None
    #: Rule file (TOML); None: the bundled rules.
    rules: str | Path | None = None
    #: Register column holding the user's own id (voucher number).
    register_id: str | None = None
    out_dir: str | Path = "imsdata-out"
    workspace: str | Path = "imsdata.duckdb"
    #: IMS period MMYYYY; None: the most common supplier period.
    period: str | None = None
    #: Tolerances file (TOML); None: `Tolerances()`.
    tolerances: str | Path | None = None
    #: Register column mapping (TOML) and preset (e.g. tally).
    mapping: str | Path | None = None
    preset: str | None = None
    #: Most documents in review.xlsx, biggest ITC first; None: no limit.
    review_limit: int | None = DEFAULT_REVIEW_LIMIT
    #: review.xlsx holds every document, not only those needing attention.
    review_all: bool = False
    #: Write the upload even when the register has no in-scope rows.
    allow_empty_register: bool = False
    #: The time written into report.html and the workbooks' properties; None: now. A fixed
    #: time gives the same bytes for the same inputs (the golden-output test).
    generated_at: dt.datetime | None = None
    #: Read the two inputs, and write the report beside the review and tables, in two threads
    #: (one run using both cores). `imsdata batch` turns it off: it already runs a client per
    #: core, where a second thread per client only competes with the other clients.
    side_by_side: bool = True
