"""Measure a child process: wall time and its own peak RSS (os.wait4), plus JSON-line parsing."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import tempfile
import time
from pathlib import Path


def measure_child(cmd: list[str], *, cwd: Path | None = None) -> dict:
    """Run `cmd`; return seconds, that child's CPU seconds (user + system, all threads) and peak
    RSS in MB, and its stdout; raise on failure."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as err:  # a file, not a pipe: a chatty child cannot block
        proc = subprocess.Popen([str(c) for c in cmd], cwd=cwd, stdout=subprocess.PIPE, stderr=err)
        stdout = proc.stdout.read().decode()
        _, status, usage = os.wait4(proc.pid, 0)
        err.seek(0)
        stderr = err.read().decode(errors="replace")
    proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(
            f"{' '.join(map(str, cmd))} failed ({proc.returncode}):\n{stderr[-3000:]}"
        )
    return {
        "seconds": seconds,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "peak_rss_mb": usage.ru_maxrss / 1024,
        "stdout": stdout,
    }


def json_lines(text: str) -> list[dict]:
    """The JSON objects a benchmark script printed, one per line."""
    return [json.loads(line) for line in text.splitlines() if line.strip().startswith("{")]


def peak_rss_mb() -> float:
    """Peak RSS of the current process in MB (Linux reports KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
