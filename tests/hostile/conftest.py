"""Hostile-input helpers: the real `imsdata` CLI in a subprocess, its exit, output and peak RSS."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from imsdata.sample import sample_paths

#: Peak resident memory allowed for one `imsdata` process on a hostile input (MiB). A normal
#: run on the sample stays well under it; the issue's bombs went to 3-9 GB or aborted.
PEAK_MIB = 900


@dataclass
class Ran:
    """One CLI process: exit code, output, and its own peak RSS in MiB."""

    code: int
    stdout: str
    stderr: str
    peak_mib: float

    @property
    def lines(self) -> list[str]:
        """The non-blank stderr lines."""
        return [line for line in self.stderr.splitlines() if line.strip()]

    @property
    def errors(self) -> list[str]:
        """The stderr lines that say something is wrong (progress bars left out)."""
        return [line for line in self.lines if line.startswith(("error:", "warning:"))]


def cli(*args: str | os.PathLike[str], cwd: Path, env: dict[str, str] | None = None) -> Ran:
    """Run `python -m imsdata ARGS` in `cwd`; `os.wait4` gives this child's own peak memory."""
    full_env = {**os.environ, "COLUMNS": "200", **(env or {})}
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "imsdata", *map(str, args)],
            cwd=cwd,
            env=full_env,
            stdout=out,
            stderr=err,
            text=True,
        )
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here: tell Popen
        out.seek(0)
        err.seek(0)
        return Ran(proc.returncode, out.read(), err.read(), usage.ru_maxrss / 1024)


@pytest.fixture
def sample(tmp_path: Path) -> dict[str, Path]:
    """Copies of the bundled sample's IMS download and register in a folder of the test."""
    src = sample_paths()
    folder = tmp_path / "inputs"
    folder.mkdir()
    return {k: Path(shutil.copy(src[k], folder / src[k].name)) for k in ("ims", "register")}
