"""Issue 15: `run`/`demo` never destroy what imsdata did not write; a kill leaves one whole run."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from imsdata import outdir
from imsdata.errors import InputError

from .conftest import cli

MARKER = outdir.MARKER


def _owned(out: Path) -> list[str]:
    return json.loads((out / MARKER).read_text())["files"]


def _on_disk(out: Path) -> set[str]:
    return {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}


def _bad_register(sample, tmp_path: Path) -> Path:
    """The sample register plus one row with an impossible date: the run writes rejects.csv."""
    text = sample["register"].read_text(encoding="utf-8")
    last = text.rstrip("\n").splitlines()[-1].split(",")
    last[0], last[1] = "PV/BAD/1", "31-02-2025"
    path = tmp_path / "inputs" / "register_bad.csv"
    path.write_text(text.rstrip("\n") + "\n" + ",".join(last) + "\n", encoding="utf-8")
    return path


def _run(tmp_path: Path, sample, register: Path, **env: str):
    return cli(
        "run", sample["ims"], "--register", register, "--out", "month",
        "--workspace", "ws.duckdb", cwd=tmp_path, env=env,
    )  # fmt: skip


def test_demo_refuses_a_folder_imsdata_did_not_write_and_keeps_it(tmp_path):
    month = tmp_path / "month"
    month.mkdir()
    (month / "notes.txt").write_text("mine")
    (month / "imsdata.duckdb").write_bytes(b"user data")
    ran = cli("demo", "--out", "month", cwd=tmp_path)
    assert ran.code == 1
    assert ran.lines == [
        f"error: {Path('month')}: folder is not empty and was not written by imsdata "
        f"(no {MARKER}); choose a new or empty --out folder"
    ]
    assert (month / "notes.txt").read_text() == "mine"
    assert (month / "imsdata.duckdb").read_bytes() == b"user data"


@pytest.mark.parametrize("out", [".", "..", "../.."])
def test_demo_never_takes_the_current_folder(tmp_path, out):
    here = tmp_path / "a" / "b"
    here.mkdir(parents=True)
    (here / "keep.txt").write_text("x")
    ran = cli("demo", "--out", out, cwd=here)
    assert ran.code == 1
    assert "must not be the current folder" in ran.stderr
    assert "Traceback" not in ran.stderr
    assert (here / "keep.txt").read_text() == "x"


def test_out_that_is_a_file_is_one_line(tmp_path):
    (tmp_path / "month").write_text("a file")
    ran = cli("demo", "--out", "month", cwd=tmp_path)
    assert ran.code == 1
    assert ran.lines == ["error: month: output folder expected, found a file"]


def test_rerun_keeps_user_files_and_drops_its_own_stale_ones(tmp_path, sample):
    first = _run(tmp_path, sample, _bad_register(sample, tmp_path))
    assert first.code == 1, first.stderr
    month = tmp_path / "month"
    assert "rejects.csv" in _owned(month)
    (month / "upload" / "ack.pdf").write_bytes(b"%PDF portal acknowledgement")
    (month / "upload" / "mine").mkdir()
    (month / "upload" / "mine" / "note.txt").write_text("kept")
    (month / "notes.txt").write_text("kept too")
    second = _run(tmp_path, sample, sample["register"])
    assert second.code == 0, second.stderr
    assert not (month / "rejects.csv").exists()  # stale: it named the other run's register
    assert (month / "upload" / "ack.pdf").read_bytes() == b"%PDF portal acknowledgement"
    assert (month / "upload" / "mine" / "note.txt").read_text() == "kept"
    assert (month / "notes.txt").read_text() == "kept too"
    user = {"upload/ack.pdf", "upload/mine/note.txt", "notes.txt", MARKER}
    assert _on_disk(month) - user == set(_owned(month))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["inputs", "month", "ws.duckdb"]


@pytest.mark.parametrize("point", ["staged", "old-aside", "swapped", "user-files-back"])
def test_kill_during_the_swap_leaves_one_whole_run_and_the_next_run_recovers(
    tmp_path, sample, point
):
    assert _run(tmp_path, sample, _bad_register(sample, tmp_path)).code == 1
    month = tmp_path / "month"
    (month / "upload" / "ack.pdf").write_bytes(b"pdf")
    old_files = set(_owned(month))
    killed = _run(tmp_path, sample, sample["register"], IMSDATA_TEST_KILL_AT=point)
    assert killed.code == -9
    outdir.begin(month)  # what the next run does first
    owned = set(_owned(month))
    assert owned == old_files or "rejects.csv" not in owned  # the old run or the new one
    assert _on_disk(month) == owned | {"upload/ack.pdf", MARKER}
    assert (month / "upload" / "ack.pdf").read_bytes() == b"pdf"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["inputs", "month", "ws.duckdb"]


def test_temp_files_left_by_a_kill_are_removed_on_the_next_run(tmp_path):
    out = tmp_path / "month"
    outdir.begin(out)
    (out / ".review.xlsx.k2j4h5g1.tmp").write_bytes(b"half a workbook")
    (out / ".imsdata-new-looking.txt").write_text("user file, not ours")
    staging = tmp_path / ".month.imsdata-new"
    staging.mkdir()
    (staging / "report.html").write_text("half")
    outdir.begin(out)
    assert sorted(p.name for p in out.iterdir()) == [".imsdata-new-looking.txt", MARKER]
    assert not staging.exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores folder permissions")
def test_read_only_out_is_refused_before_anything_is_written(tmp_path, sample):
    out = tmp_path / "month"
    out.mkdir()
    out.chmod(0o555)
    try:
        ran = _run(tmp_path, sample, sample["register"])
    finally:
        out.chmod(0o755)
    assert ran.code == 1
    assert "cannot be written" in ran.stderr
    assert not (tmp_path / "ws.duckdb").exists()  # no decision was committed


def test_begin_refuses_a_foreign_folder_in_the_library_too(tmp_path):
    (tmp_path / "x.txt").write_text("x")
    with pytest.raises(InputError, match="not written by imsdata"):
        outdir.begin(tmp_path)


READ_ONLY = Path("/proc/imsdata-i15")  # a folder no one may create, even root


@pytest.mark.skipif(not Path("/proc/self").exists(), reason="needs Linux /proc")
def test_out_on_a_read_only_place_is_one_line_before_any_decision(tmp_path, sample):
    ran = cli(
        "run", sample["ims"], "-r", sample["register"], "--out", READ_ONLY,
        "-w", "ws.duckdb", cwd=tmp_path,
    )  # fmt: skip
    assert ran.code == 1
    assert "Traceback" not in ran.stderr
    assert len(ran.lines) == 1
    assert ran.lines[0].startswith(f"error: {READ_ONLY}: output folder cannot be written: ")
    assert not (tmp_path / "ws.duckdb").exists()  # checked before the workspace was touched


def test_a_second_run_into_a_folder_being_written_is_refused(tmp_path, sample):
    out = tmp_path / "month"
    outdir.begin(out)
    with outdir._locked(out.resolve()):  # what a run holds while it swaps its files in
        ran = _run(tmp_path, sample, sample["register"])
    assert ran.code == 1
    assert ran.lines == [
        f"error: {Path('month')}: another imsdata run is writing this output folder; "
        "wait for it to finish"
    ]
    assert not (tmp_path / "ws.duckdb").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["inputs", "month"]
