"""The `imsdata` command: a thin typer layer over plain functions, one module per verb.

Each module in this package defines `register(app)`, which adds its commands. Errors a user can
cause (`ImsdataError`) become one line on stderr and the exit code of DESIGN.md, never a
traceback; `--debug` shows the traceback.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys

import typer
from typer.core import TyperOption

from imsdata.errors import ImsdataError

# A run frees big frames stage after stage. Polars sets its allocator (jemalloc) to purge freed
# pages lazily (muzzy_decay_ms:1000), and lazily purged pages still count as the process's
# memory: a 1M-document run's peak grew by their sum. Returned at once instead, at the same speed
# (measured at 200k). Read only when polars loads (the commands below load it); polars appends
# this to its own defaults, and a user's own setting wins.
if "polars" not in sys.modules:
    os.environ.setdefault("_RJEM_MALLOC_CONF", "muzzy_decay_ms:0")

app = typer.Typer(
    name="imsdata",
    help="Reconcile the GST IMS download against your purchase register, decide, upload.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
    pretty_exceptions_enable=False,
    add_completion=False,
)
_state = {"debug": False}


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks on errors."),
) -> None:
    """imsdata: the whole IMS month, locally and fast."""
    _state["debug"] = _state["debug"] or debug


#: Verbs in the order of a month's work (help lists them so); other modules follow by name.
_ORDER = ("run", "ingest", "register", "reconcile", "suggest", "export", "report", "synth")


def _register_commands() -> None:
    names = [m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")]
    for name in sorted(names, key=lambda n: (_ORDER.index(n) if n in _ORDER else len(_ORDER), n)):
        module = importlib.import_module(f"{__name__}.{name}")
        if hasattr(module, "register"):
            module.register(app)


_register_commands()

_display_type_rich = TyperOption.display_type_rich


def _no_type_for_flags(self: TyperOption, ctx: typer.Context) -> str | None:
    """Help shows no `<bool>` after a flag that takes no value (typer 0.29 shows one)."""
    return None if self.is_flag else _display_type_rich(self, ctx)


TyperOption.display_type_rich = _no_type_for_flags  # type: ignore[method-assign, assignment]


def _debug_anywhere(args: list[str]) -> list[str]:
    """`--debug` may come before or after the command (`imsdata run ... --debug`): it is taken
    out of the arguments here and turned on for the whole run."""
    if "--debug" in args:
        _state["debug"] = True
        return [a for a in args if a != "--debug"]
    return args


def main() -> None:
    """Console entry point: run the app, turning our errors into one line and an exit code."""
    try:
        app(args=_debug_anywhere(sys.argv[1:]))
    except ImsdataError as exc:
        if _state["debug"]:
            raise
        typer.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
