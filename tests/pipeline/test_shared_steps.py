"""`imsdata run` and `imsdata suggest` make the same steps (imsdata.steps): the same imports,
the same saved matches, folder inputs hashed alike."""

from __future__ import annotations

import polars as pl
from typer.testing import CliRunner

from imsdata.cli import app
from imsdata.synth import generate, write
from imsdata.workspace import Workspace

runner = CliRunner()


def _invoke(*args: object):
    return runner.invoke(app, [str(a) for a in args])


def _sorted_matches(frame: pl.DataFrame) -> pl.DataFrame:
    cols = ["doc_key", "register_id", "match_status", "match_score"]
    return frame.select(cols).sort(cols, nulls_last=True)


def test_suggest_after_a_run_with_other_tolerances_saves_the_matches_it_suggested_from(tmp_path):
    """suggest saved its matches only when an import was new: after a run with loose tolerances
    on the same files, the workspace kept the run's matches beside suggest's suggestions."""
    paths = write(generate(300, seed=11), tmp_path / "month")
    loose = tmp_path / "loose.toml"
    loose.write_text("[tolerances]\namount_abs = 500\ntotal_abs = 500\ndate_days = 60\n")
    ws = tmp_path / "ws.duckdb"
    ran = _invoke("run", paths["ims"], "--register", paths["register"], "--out", tmp_path / "o",
                  "--workspace", ws, "--tolerances", loose)  # fmt: skip
    assert ran.exit_code in (0, 1), ran.output
    with Workspace(ws) as w:
        loose_matches = _sorted_matches(w.latest_matches())
    said = _invoke("suggest", "--ims", paths["ims"], "--register", paths["register"], "-w", ws)
    assert said.exit_code == 0, said.output
    with Workspace(ws) as w:
        saved = _sorted_matches(w.latest_matches())
        imports = w.imports()
    default = _invoke("reconcile", paths["ims"], "--register", paths["register"],
                      "--out", tmp_path / "m.parquet")  # fmt: skip
    assert default.exit_code == 0, default.output
    assert not saved.equals(loose_matches)  # the loose tolerances pair more: a real difference
    assert saved.equals(_sorted_matches(pl.read_parquet(tmp_path / "m.parquet")))
    # the same files are one import each, whichever command read them
    assert imports.group_by("kind").len().sort("kind")["len"].to_list() == [1, 1]


def _sheets(path) -> dict[str, list[tuple]]:
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True)
    return {ws.title: list(ws.iter_rows(values_only=True)) for ws in wb.worksheets}


def _amount_formats(path, sheet: str | None = None) -> set[str]:
    """Number formats of the cells holding amounts with paise (not counts) in a workbook."""
    from openpyxl import load_workbook

    wb = load_workbook(path)
    formats = set()
    for ws in [wb[sheet]] if sheet else wb.worksheets:
        for row in ws.iter_rows(max_row=60):
            formats |= {c.number_format for c in row if isinstance(c.value, float | int)}
    return {f for f in formats if "0.00" in f}


def test_report_over_the_runs_workspace_writes_the_runs_report_and_one_money_format(tmp_path):
    """`imsdata report` and `imsdata run` write report.xlsx through one step (steps.write_report):
    the report of the run's workspace has the run's sheets, cell for cell; and money looks the
    same in the report and in the review workbook (one INR format)."""
    paths = write(generate(300, seed=5), tmp_path / "month")
    ws = tmp_path / "ws.duckdb"
    ran = _invoke("run", paths["ims"], "--register", paths["register"], "--out", tmp_path / "run",
                  "--workspace", ws)  # fmt: skip
    assert ran.exit_code in (0, 1), ran.output
    said = _invoke("report", "--workspace", ws, "--out", tmp_path / "rep")
    assert said.exit_code == 0, said.output
    run_sheets = _sheets(tmp_path / "run" / "report.xlsx")
    rep_sheets = _sheets(tmp_path / "rep" / "report.xlsx")
    assert len(run_sheets) > 3
    assert rep_sheets == run_sheets
    review = _amount_formats(tmp_path / "run" / "review.xlsx")
    report = _amount_formats(tmp_path / "run" / "report.xlsx", "itc_summary")
    assert len(review) == 1, review
    assert review == report
