"""`make bench` keeps working: every benchmark script runs at a tiny size and fills its table.

Speed is not asserted here (benchmarks/ measures it); a benchmark that no longer runs would
leave the README's speed table silently stale.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_make_bench_runs_every_stage_and_writes_its_table(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, ROOT / "benchmarks" / "run.py", "--sizes", "400", "--e2e-n", "400",
         "--workdir", tmp_path / "work", "--results", tmp_path],
        capture_output=True, text=True, cwd=ROOT, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    table = (tmp_path / "results.md").read_text()
    stages = {line.split("|")[1].strip() for line in table.splitlines() if line.startswith("| ")}
    expected = {
        "ingest", "ingest_per_line", "ingest_pretty", "ingest_floor", "register", "reconcile",
        "reconcile_floor", "suggest", "export", "report", "review", "run", "greedy_baseline",
        "greedy_matching", "run_one_line", "run_per_line", "run_pretty", "run:imports",
        "run:ingest", "run:reconcile", "run:upload", "run:report", "run:review", "run:tables",
    }  # fmt: skip
    assert expected <= stages, f"missing rows: {sorted(expected - stages)}"
    assert not (ROOT / "benchmarks" / "work" / "n400").exists()  # nothing written in the repo
