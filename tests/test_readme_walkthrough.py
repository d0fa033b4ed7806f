"""The README's "A month in five minutes" runs as written on data/sample/ (issue 15)."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _commands() -> list[list[str]]:
    """The walkthrough's imsdata command lines (setup lines `make`, `.` left to the Makefile)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## A month in five minutes", 1)[1]
    block = section.split("```bash", 1)[1].split("```", 1)[0]
    lines = [shlex.split(line, comments=True) for line in block.splitlines()]
    return [words for words in lines if words and words[0] == "imsdata"]


def _status_json(cwd: Path) -> None:
    """What the portal answers for save_001.json: one document failed (as README says where
    status.json comes from)."""
    save = json.loads((cwd / "upload" / "save_001.json").read_text(encoding="utf-8"))
    first = save["invdata"]["b2b"][0]
    entry = {"stin": first["stin"], "error_cd": "IMSSAV0010", "error_msg": "stale",
             "inv": [{"inum": first["inum"], "rtnprd": first.get("rtnprd", "")}]}  # fmt: skip
    report = {"data": {"status_cd": "PE", "error_report": {"b2b": [entry]}}}
    (cwd / "status.json").write_text(json.dumps(report), encoding="utf-8")


def test_month_in_five_minutes_runs_as_written_on_the_sample(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "sample").symlink_to(ROOT / "data" / "sample")
    commands = _commands()
    assert [c[1] for c in commands] == [
        "run", "explain", "decide", "review", "export", "errors", "export"
    ]  # fmt: skip
    env = {**os.environ, "COLUMNS": "200"}
    for words in commands:
        if words[1] == "errors":
            _status_json(tmp_path)
        done = subprocess.run(
            [sys.executable, "-m", "imsdata", *words[1:]],
            cwd=tmp_path, env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert done.returncode == 0, f"{shlex.join(words)}:\n{done.stderr}"
        assert "Traceback" not in done.stderr
    assert (tmp_path / "2025-10" / "report.html").exists()
    retry = json.loads((tmp_path / "upload-retry" / "save_001.json").read_text(encoding="utf-8"))
    assert len(retry["invdata"]["b2b"]) == 1  # only the failed document is sent again
