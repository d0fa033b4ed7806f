"""Issue 11: one decision path. run, suggest, export, review and the notebook path give the same
decisions and byte-identical uploads for the same inputs; run honours what the portal processed;
an empty or wrong-month register is caught before an upload."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from imsdata import decisions as dec
from imsdata.cli import app
from imsdata.errors import UsageError
from imsdata.pipeline import run
from imsdata.synth import generate, write
from imsdata.testing import RECIPIENT, ims_frame
from imsdata.workspace import Workspace

runner = CliRunner()


def _invoke(*args: object):
    return runner.invoke(app, [str(a) for a in args])


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.json"))}


def _current(ws_path: Path) -> dict[str, str]:
    with Workspace(ws_path) as ws:
        return dict(ws.current_decisions().select("doc_key", "action").iter_rows())


@pytest.fixture(scope="module", params=[3, 8])
def synth_month(request, tmp_path_factory) -> tuple[dict[str, Path], str]:
    """A small synthetic month (portal actions N/A/R/P, a few bookings under our other GSTIN);
    the download names no GSTIN, as the synth's bare section map."""
    data = generate(250, seed=request.param)
    return write(data, tmp_path_factory.mktemp(f"synth{request.param}")), data.recipient_gstin


@pytest.mark.parametrize("give_gstin", [True, False])
def test_run_suggest_export_review_and_notebook_give_identical_uploads(
    synth_month, give_gstin, tmp_path
):
    paths, recipient = synth_month
    gstin = ["--gstin", recipient] if give_gstin else []
    # run
    ws_run, out_run = tmp_path / "run.duckdb", tmp_path / "run-out"
    result = run(
        [paths["ims"]],
        paths["register"],
        gstin=recipient if give_gstin else None,
        out_dir=out_run,
        workspace=ws_run,
    )
    assert result.recipient_gstin == recipient
    by_run = _files(out_run / "upload")
    assert by_run, "the synth month has documents to upload"
    # suggest, then export
    ws_cli = tmp_path / "cli.duckdb"
    said = _invoke("suggest", "--ims", paths["ims"], "--register", paths["register"], "-w",
                   ws_cli, *gstin)  # fmt: skip
    assert said.exit_code == 0, said.output
    assert _current(ws_cli) == _current(ws_run)
    assert _invoke("export", "-w", ws_cli, "--out", tmp_path / "exp", *gstin).exit_code == 0
    assert _files(tmp_path / "exp") == by_run
    # export from the run's own workspace
    assert _invoke("export", "-w", ws_run, "--out", tmp_path / "exp-run").exit_code == 0
    assert _files(tmp_path / "exp-run") == by_run
    # the notebook path
    with Workspace(ws_cli) as ws:
        dec.export(dec.from_workspace(ws), tmp_path / "nb")
    assert _files(tmp_path / "nb") == by_run
    # a review workbook written and imported unchanged decides nothing new
    book = tmp_path / "review.xlsx"
    assert _invoke("review", "--out", book, "-w", ws_cli).exit_code == 0
    imported = _invoke("review", "--import", book, "-w", ws_cli)
    assert imported.exit_code == 0
    assert "nothing imported" in imported.output
    assert _invoke("export", "-w", ws_cli, "--out", tmp_path / "exp2").exit_code == 0
    assert _files(tmp_path / "exp2") == by_run
    # running suggest again changes nothing (no flip-flopping decisions)
    with Workspace(ws_cli) as ws:
        logged = ws.decision_log().height
    assert _invoke("suggest", "--ims", paths["ims"], "--register", paths["register"], "-w",
                   ws_cli, *gstin).exit_code == 0  # fmt: skip
    with Workspace(ws_cli) as ws:
        assert ws.decision_log().height == logged


def test_commands_disagree_no_more_on_bookings_under_our_other_gstin(synth_month, tmp_path):
    """The finding: run said mismatch -> pending, suggest said exact -> accept, for documents
    booked under the buyer's other GSTIN; both now work out our GSTIN the same way."""
    paths, _ = synth_month
    out = tmp_path / "m.csv"
    said = _invoke("reconcile", paths["ims"], "--register", paths["register"], "--out", out)
    assert said.exit_code == 0, said.output
    frame = pl.read_csv(out)
    booked_elsewhere = frame.filter(pl.col("reasons").str.contains("booked under recipient GSTIN"))
    assert booked_elsewhere.height > 0
    assert set(booked_elsewhere["match_status"]) == {"mismatch"}


def test_run_after_portal_errors_does_not_resend_processed_records(tmp_path):
    paths = write(generate(200, seed=5), tmp_path / "month")
    ws, out = tmp_path / "ws.duckdb", tmp_path / "out"
    run([paths["ims"]], paths["register"], out_dir=out, workspace=ws)
    first = json.loads((out / "upload" / "save_001.json").read_text())
    section, records = next(iter(first["invdata"].items()))
    failed = records[0]
    number_key = "inum" if "inum" in failed else "ntnum"
    report = {
        "status_cd": "PE",
        "error_report": {
            section: [
                {"stin": failed["stin"], "error_cd": "E1", "error_msg": "m",
                 "inv": [{number_key: failed[number_key]}]}
            ]
        },
    }  # fmt: skip
    (tmp_path / "status.json").write_text(json.dumps(report))
    upload = out / "upload" / "save_001.json"
    said = _invoke("errors", tmp_path / "status.json", "-w", ws, "--upload", upload)
    assert said.exit_code == 0, said.output
    first_bytes = (out / "upload" / "save_001.json").read_bytes()
    # a second run on the same download sends only what the portal did not process
    result = run([paths["ims"]], paths["register"], out_dir=out, workspace=ws)
    again = json.loads((out / "upload" / "save_001.json").read_text())
    sent = [r for recs in again["invdata"].values() for r in recs]
    assert [r[number_key] for r in sent] == [failed[number_key]], result.upload_message
    assert (out / "upload" / "save_001.json").read_bytes() != first_bytes
    # and export agrees byte for byte
    assert _invoke("export", "-w", ws, "--out", tmp_path / "exp").exit_code == 0
    assert _files(tmp_path / "exp") == _files(out / "upload")


def test_run_reads_a_folder_download(tmp_path):
    """`imsdata run <folder>` failed on hashing a folder; inputs are hashed folder-aware."""
    paths = write(generate(60, seed=2), tmp_path / "month")
    folder = tmp_path / "downloads"
    folder.mkdir()
    (folder / "part1.json").write_bytes(paths["ims"].read_bytes())
    said = _invoke("run", folder, "--register", paths["register"], "--out", tmp_path / "o",
                   "--workspace", tmp_path / "ws.duckdb")  # fmt: skip
    assert said.exit_code == 0, said.output
    assert dec.files_hash([folder]) == dec.files_hash([folder / "part1.json"])


def test_empty_register_writes_no_upload_and_exits_1(tmp_path):
    paths = write(generate(60, seed=4), tmp_path / "month")
    header = paths["register"].read_text().splitlines()[0]
    empty = tmp_path / "empty.csv"
    empty.write_text(header + "\n")
    out = tmp_path / "out"
    said = _invoke("run", paths["ims"], "--register", empty, "--gstin",
                   generate(1, seed=4).recipient_gstin, "--out", out,
                   "--workspace", tmp_path / "ws.duckdb")  # fmt: skip
    assert said.exit_code == 1
    assert "no in-scope rows" in " ".join(said.output.split())
    assert not list((out / "upload").glob("*.json"))
    allowed = _invoke("run", paths["ims"], "--register", empty, "--gstin",
                      generate(1, seed=4).recipient_gstin, "--out", tmp_path / "out2",
                      "--workspace", tmp_path / "ws2.duckdb", "--allow-empty-register")  # fmt: skip
    assert list((tmp_path / "out2" / "upload").glob("*.json"))
    assert "no in-scope rows" in " ".join(allowed.output.split())  # still a warning


def test_register_of_another_month_is_a_warning_in_the_run_summary(tmp_path):
    nov = write(generate(80, seed=6, period="112025"), tmp_path / "nov")
    may = write(generate(80, seed=6, period="052025"), tmp_path / "may")
    result = run([nov["ims"]], may["register"], out_dir=tmp_path / "o",
                 workspace=tmp_path / "ws.duckdb")  # fmt: skip
    assert any("outside" in w and "another month" in w for w in result.upload_warnings)
    same = run([nov["ims"]], nov["register"], out_dir=tmp_path / "o2",
               workspace=tmp_path / "ws2.duckdb")  # fmt: skip
    assert same.upload_warnings == []


def test_recipient_gstin_from_flag_download_register_or_ask():
    bare = ims_frame([{"doc_number": "A"}]).with_columns(recipient_gstin=pl.lit(None, pl.String))
    books = pl.DataFrame({"recipient_gstin": [RECIPIENT, RECIPIENT, "27AAPFU0939F1ZV"]})
    assert dec.recipient_gstin(RECIPIENT.lower(), bare) == RECIPIENT
    assert dec.recipient_gstin(None, bare, books) == RECIPIENT
    named = bare.with_columns(recipient_gstin=pl.lit(RECIPIENT))
    assert dec.recipient_gstin(None, named) == RECIPIENT
    with pytest.raises(UsageError, match="give --gstin"):
        dec.recipient_gstin(None, bare)
    with pytest.raises(UsageError, match="differs from the download"):
        dec.recipient_gstin("27AAPFU0939F1ZV", named)
    with pytest.raises(UsageError, match="not a valid GSTIN"):
        dec.recipient_gstin("27AAPFU0939F1ZX", bare)
