"""The month's steps, shared by `imsdata run` (`imsdata.pipeline`) and `imsdata suggest`.

`reconcile_and_suggest` is the one place that stores both inputs in the workspace (by content
hash, folders included: `imsdata.workspace.files_hash`), reconciles, saves the matches, takes the
portal's last known state and logs the rule suggestions. Each command parses its options, loads
its inputs and makes this one call; what it prints or writes afterwards is its own.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import polars as pl

from imsdata import decisions as dec
from imsdata import reconcile as rec
from imsdata import rules as rl
from imsdata.engines import Engine
from imsdata.workspace import ImportInfo, Workspace, files_hash

#: A progress hook: a context manager per named step (the CLI shows a bar; the library none).
Step = Callable[[str], contextlib.AbstractContextManager[None]]


@contextlib.contextmanager
def no_progress(name: str) -> Iterator[None]:
    """The default step hook: nothing shown."""
    yield


@dataclass(frozen=True)
class Suggested:
    """What `reconcile_and_suggest` did: the frames, the period and both imports."""

    ims: pl.DataFrame  # the portal's last known state (the download plus processed uploads)
    matches: pl.DataFrame
    suggestions: pl.DataFrame
    decisions: pl.DataFrame  # the current decision per document after the suggestions
    period: str | None
    stored: dict[str, int]  # appended / kept_human / unchanged (Workspace.store_suggestions)
    ims_import: ImportInfo
    register_import: ImportInfo


def reconcile_and_suggest(
    ws: Workspace,
    ims: pl.DataFrame,
    register: pl.DataFrame,
    *,
    ims_paths: Sequence[str | os.PathLike[str]],
    register_path: str | os.PathLike[str],
    rules: rl.RuleSet,
    tolerances: rec.Tolerances | None = None,
    period: str | None = None,
    labels: tuple[str, str] = ("ims", "register"),
    step: Step = no_progress,
    engine: Engine | None = None,
) -> Suggested:
    """Import both inputs into `ws`, reconcile, save the matches, suggest and log the suggestions.

    `ims` carries our GSTIN already (`decisions.with_recipient`). The imports run beside the
    reconciliation (its own in-memory engine, or `engine`, which also runs the rules). The matches
    are always saved: the same files reconciled with other tolerances give other matches.
    """
    resolved = rl.resolve_period(ims, period)
    with step("reconcile"):
        # Books of every month imported before (issue 14): read before the imports start.
        books, claimed = _books_of_every_period(ws, register, resolved)
        with ThreadPoolExecutor(max_workers=1) as pool:
            imported = pool.submit(
                _import_inputs, ws, ims, register, ims_paths, register_path, labels, resolved
            )
            matches = rec.reconcile(
                ims,
                books,
                tolerances=tolerances or rec.Tolerances(),
                period=resolved,
                claimed=claimed,
                engine=engine,
            )
            ims_import, register_import = imported.result()
        ws.save_matches(matches)
    with step("suggest"):
        state = dec.portal_state(ims, ws.decision_log(), import_id=ims_import.import_id)
        suggestions = rl.suggest(state, matches, rules=rules, period=resolved, engine=engine)
        stored = ws.store_suggestions(suggestions)
        decisions = ws.current_decisions()
    return Suggested(
        ims=state,
        matches=matches,
        suggestions=suggestions,
        decisions=decisions,
        period=resolved,
        stored=stored,
        ims_import=ims_import,
        register_import=register_import,
    )


def _import_inputs(
    ws: Workspace,
    ims: pl.DataFrame,
    register: pl.DataFrame,
    ims_paths: Sequence[str | os.PathLike[str]],
    register_path: str | os.PathLike[str],
    labels: tuple[str, str],
    book_period: str | None,
) -> tuple[ImportInfo, ImportInfo]:
    """Store both snapshots (by content hash: the same files again are no-ops); the register
    as the books of `book_period`."""
    ims_info = ws.import_ims(ims, source_hash=files_hash(list(ims_paths)), label=labels[0])
    reg_info = ws.import_register(
        register, source_hash=files_hash([register_path]), label=labels[1], period=book_period
    )
    return ims_info, reg_info


def _books_of_every_period(
    ws: Workspace, register: pl.DataFrame, period: str | None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(this month's register plus the other months' books in the workspace, the bookings
    already claimed in other months): what `reconcile` needs to look across months."""
    earlier = ws.books_of_other_periods(period)
    if earlier.is_empty():
        return register, ws.claimed_bookings(period)
    books = rec.periods.combine_books(rec.periods.with_book_period(register, period), earlier)
    return books, ws.claimed_bookings(period)
