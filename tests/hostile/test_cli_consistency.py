"""Issue 15: the same options everywhere, `--debug` anywhere, clean flags, one code per kind."""

from __future__ import annotations

import collections

import pytest
import typer.main
from typer.testing import CliRunner

from imsdata.cli import app

from .conftest import cli

runner = CliRunner()
COMMAND = typer.main.get_command(app)


def test_every_long_option_has_the_same_short_option_in_every_command():
    shorts: dict[str, set[tuple[str, ...]]] = collections.defaultdict(set)
    for sub in COMMAND.commands.values():
        for param in sub.params:
            short = tuple(sorted(o for o in param.opts if not o.startswith("--")))
            for long in (o for o in param.opts if o.startswith("--")):
                shorts[long].add(short)
    assert {k: v for k, v in shorts.items() if len(v) > 1} == {}
    assert shorts["--workspace"] == {("-w",)}
    assert shorts["--out"] == {("-o",)}


@pytest.mark.parametrize("name", sorted(COMMAND.commands))
def test_help_shows_no_type_after_a_flag(name):
    result = runner.invoke(app, [name, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "<bool>" not in result.output


def test_debug_after_the_command_shows_the_traceback(tmp_path):
    missing = tmp_path / "nope.json"
    plain = cli("errors", missing, "-w", "ws.duckdb", cwd=tmp_path)
    assert plain.code == 1
    assert "Traceback" not in plain.stderr
    debug = cli("errors", missing, "-w", "ws.duckdb", "--debug", cwd=tmp_path)
    assert "Traceback" in debug.stderr
    before = cli("--debug", "errors", missing, "-w", "ws.duckdb", cwd=tmp_path)
    assert "Traceback" in before.stderr


def test_an_unknown_document_is_the_same_exit_code_in_decide_and_explain(tmp_path, sample):
    ran = cli("run", sample["ims"], "-r", sample["register"], "-o", "out", "-w", "ws.duckdb",
              cwd=tmp_path)  # fmt: skip
    assert ran.code == 0, ran.stderr
    decide = cli("decide", "NOPE-1", "--action", "pending", "-w", "ws.duckdb", cwd=tmp_path)
    explain = cli("explain", "NOPE-1", "--ims", sample["ims"], "--register", sample["register"],
                  cwd=tmp_path)  # fmt: skip
    assert decide.code == explain.code == 1
    assert "Traceback" not in decide.stderr + explain.stderr
