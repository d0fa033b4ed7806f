"""`imsdata suggest` and `imsdata decide` from the command line."""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from imsdata.cli import app
from imsdata.errors import GuardError, InputError
from imsdata.testing import ims_frame, register_frame
from imsdata.workspace import Workspace

runner = CliRunner()


@pytest.fixture
def inputs(tmp_path):
    """A canonical IMS frame (one booked invoice, one unbooked, one unbooked credit note)."""
    ims = ims_frame([{}, {"doc_number": "X-9"}, {"section": "b2bcn", "doc_number": "CN-1"}])
    ims_path, reg_path = tmp_path / "ims.parquet", tmp_path / "register.parquet"
    ims.write_parquet(ims_path)
    register_frame([{}]).write_parquet(reg_path)
    return ims_path, reg_path, tmp_path / "ws.duckdb"


def _suggest(inputs, *extra: str):
    ims_path, reg_path, ws = inputs
    args = ["suggest", "--ims", str(ims_path), "--register", str(reg_path), "-w", str(ws)]
    return runner.invoke(app, [*args, *extra])


def test_suggest_prints_counts_and_logs_suggestions(inputs):
    result = _suggest(inputs)
    assert result.exit_code == 0, result.output
    assert "r_exact" in result.output
    assert "r_not_in_books" in result.output
    assert "r_cn_not_in_books" in result.output
    assert "logged 3 suggestion(s)" in result.output
    with Workspace(inputs[2]) as ws:
        current = ws.current_decisions()
    assert sorted(current["action"].to_list()) == ["accept", "pending", "pending"]
    assert set(current["source"]) == {"rule"}
    again = _suggest(inputs)
    assert again.exit_code == 0
    assert "logged 0 suggestion(s)" in again.output


def test_suggest_refuses_a_bad_rule_file(inputs, tmp_path):
    bad = tmp_path / "rules.toml"
    bad.write_text('[[suggest]]\nid = "r"\nwhen = "colour = 1"\naction = "accept"\nreason = "x"\n')
    result = _suggest(inputs, "--rules", str(bad))
    assert result.exit_code == 1
    assert isinstance(result.exception, InputError)
    assert "suggest rule 'r': when: unknown column 'colour'" in str(result.exception)


def test_decide_refused_by_a_guard_then_allowed_with_a_reason(inputs):
    assert _suggest(inputs).exit_code == 0
    ws = str(inputs[2])
    refused = runner.invoke(app, ["decide", "X-9", "--action", "accept", "-w", ws])
    assert refused.exit_code == 1
    assert isinstance(refused.exception, GuardError)
    assert "Not in our books" in str(refused.exception)
    ok = runner.invoke(
        app, ["decide", "X-9", "--action", "accept", "--reason", "booked late", "-w", ws,
              "--user", "asha"],
    )  # fmt: skip
    assert ok.exit_code == 0, ok.output
    assert "accept" in ok.output
    with Workspace(inputs[2]) as w:
        log = w.decision_log()
    assert log.select("action", "source", "user", "reason").rows()[-1] == (
        "accept",
        "manual",
        "asha",
        "booked late",
    )


def test_decide_rejects_unknown_actions_and_documents(inputs):
    assert _suggest(inputs).exit_code == 0
    ws = str(inputs[2])
    bad_action = runner.invoke(app, ["decide", "X-9", "--action", "approve", "-w", ws])
    assert bad_action.exit_code != 0
    unknown = runner.invoke(app, ["decide", "NOPE-1", "--action", "pending", "-w", ws])
    assert unknown.exit_code != 0
    assert "no document 'NOPE-1'" in str(unknown.exception)


def test_decide_help_has_an_example():
    result = runner.invoke(app, ["decide", "--help"])
    assert result.exit_code == 0
    assert "Example" in result.output
    assert "Example" in runner.invoke(app, ["suggest", "--help"]).output


def test_decide_refusal_is_one_line_and_exit_1_from_the_shell(inputs):
    assert _suggest(inputs).exit_code == 0
    proc = subprocess.run(
        [sys.executable, "-m", "imsdata", "decide", "CN-1", "--action", "reject",
         "--remarks", "x" * 260, "-w", str(inputs[2])],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 1
    assert proc.stderr.startswith("error: refused:")
    assert "[remarks_length]" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_decide_takes_an_itc_reduction_declaration(inputs):
    assert _suggest(inputs).exit_code == 0
    ws = str(inputs[2])
    base = ["decide", "CN-1", "--action", "accept", "--reason", "note booked", "-w", ws]
    too_much = runner.invoke(
        app, [*base, "--itc-reduction", "Y", "--declared-cgst", "5000", "--declared-sgst", "5000"]
    )
    assert too_much.exit_code == 1
    assert "declared_range" in str(too_much.exception)
    bad = runner.invoke(app, [*base, "--itc-reduction", "Y", "--declared-cgst", "1.234"])
    assert bad.exit_code != 0
    assert "at most 2 decimals" in str(bad.exception)
    ok = runner.invoke(
        app, [*base, "--itc-reduction", "y", "--declared-cgst", "50", "--declared-sgst", "50"]
    )
    assert ok.exit_code == 0, ok.output
    with Workspace(inputs[2]) as w:
        last = w.decision_log().row(-1, named=True)
    assert (last["itc_reduction"], str(last["declared_cgst"]), str(last["declared_sgst"])) == (
        "Y", "50.00", "50.00",
    )  # fmt: skip
