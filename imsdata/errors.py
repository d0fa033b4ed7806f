"""The exceptions users see: one plain line each, mapped to the CLI's exit codes."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl


class ImsdataError(Exception):
    """Base for every error a user may see; the message is one line naming file, record, reason."""

    exit_code = 1


class InputError(ImsdataError):
    """Input rejected (bad file, bad record, bad rule file): exit code 1."""

    exit_code = 1


class NotFoundError(InputError):
    """A named document or upload is not there (decide, explain, errors --upload): exit code 1,
    the same in every command."""

    exit_code = 1


class UsageError(ImsdataError):
    """The command was called wrongly (missing option, unknown preset...): exit code 2."""

    exit_code = 2


class GuardError(ImsdataError):
    """A decision or export was refused by a portal guard of the rule engine."""

    exit_code = 1
    #: every refusal (guard, document, message) when the caller has them all
    violations: pl.DataFrame | None = None


class SQLError(ImsdataError):
    """A SQL step failed; carries the step name and the SQL for debugging."""

    def __init__(self, step: str, sql: str, cause: Exception) -> None:
        first = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
        super().__init__(f"SQL step '{step}' failed: {first}")
        self.step = step
        self.sql = sql
