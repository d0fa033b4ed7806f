"""What users see: `imsdata run` end to end, in every download layout, against the greedy
first-pair baseline's matching alone, on the same synthetic month.

    .venv/bin/python benchmarks/bench_e2e.py --n 200000 --workdir /tmp/bench-e2e

Writes (once per N) the month with `imsdata.synth` (seed 7) and the download in the three
layouts of benchmarks/_layouts.py, the same records as NDJSON for the floor. Then, each in a
fresh process, one after the other (same conditions): `greedy_matching` (the baseline of
benchmarks/accuracy.py; its frames are built before the clock starts, so only its matching is
timed), `ingest_floor` (`pl.read_ndjson` of the records, explicit schema) and `run_one_line`,
`run_per_line`, `run_pretty`: `python -m imsdata run` on that layout, timed from process start
to exit (imports, every output file, the workspace). Prints one JSON line per stage:
{"stage", "n", "seconds", "cpu_seconds", "peak_rss_mb"}. Target (issue 17): every run <= 5 s
at 200k, i.e. >= 3x faster than the baseline's matching alone. Last, `run:<step>` rows: the
one-line run again in one process, timed per step (imports, ingest, register, reconcile,
suggest, upload, report, review, tables): where the time goes. The register is read beside the
download, and the review and tables are written beside the report (up to 400k documents): those
steps overlap in time, and their CPU-seconds are the whole process's over the step.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from _layouts import KEYS, LAYOUTS, read_floor, write_layouts, write_ndjson
from _measure import json_lines, measure_child, peak_rss_mb

HERE = Path(__file__).resolve().parent
SEED = 7
RUNS = {f"run_{layout}": layout for layout in LAYOUTS}
STAGES = ("greedy_matching", "ingest_floor", *RUNS)


def _generate(n: int, workdir: Path) -> None:
    """The month's files, every layout and the NDJSON records (skipped when present)."""
    marker = workdir / f".generated-{n}"
    if marker.exists() and (workdir / KEYS).exists():
        return
    from imsdata import synth

    data = synth.generate(n, seed=SEED)
    synth.write(data, workdir, pretty=False)
    write_layouts(data.download, workdir)
    write_ndjson(data.download, workdir)
    marker.write_text("ok")


def _greedy(n: int) -> dict[str, object]:
    """The baseline's matching alone, in this (fresh) process."""
    from accuracy import greedy_baseline, ims_frame_from_download

    from imsdata.synth import generate

    data = generate(n, seed=SEED)  # the same month as the files `imsdata run` reads
    ims, register = ims_frame_from_download(data), data.register
    del data
    start, cpu = time.perf_counter(), time.process_time()
    greedy_baseline(ims, register)
    return {"stage": "greedy_matching", "n": n, "seconds": round(time.perf_counter() - start, 3),
            "cpu_seconds": round(time.process_time() - cpu, 3),
            "peak_rss_mb": round(peak_rss_mb())}  # fmt: skip


def _floor(n: int, workdir: Path) -> dict[str, object]:
    """`pl.read_ndjson` of the same records, every key typed (money as Float64)."""
    import polars  # noqa: F401  (imported before the clock starts)

    start, cpu = time.perf_counter(), time.process_time()
    rows = read_floor(workdir)
    return {"stage": "ingest_floor", "n": n, "seconds": round(time.perf_counter() - start, 3),
            "cpu_seconds": round(time.process_time() - cpu, 3),
            "peak_rss_mb": round(peak_rss_mb()), "rows": rows}  # fmt: skip


def _run(stage: str, n: int, workdir: Path) -> dict[str, object]:
    """`imsdata run` on one layout in a fresh process, timed from start to exit."""
    out, workspace = workdir / f"out-{stage}", workdir / f"{stage}.duckdb"
    shutil.rmtree(out, ignore_errors=True)
    workspace.unlink(missing_ok=True)
    download = workdir / LAYOUTS[RUNS[stage]]
    res = measure_child(
        [sys.executable, "-m", "imsdata", "run", download, "--register",
         workdir / "purchase_register.csv", "--out", out, "--workspace", workspace],
    )  # fmt: skip
    workspace.unlink(missing_ok=True)
    return {"stage": stage, "n": n, "seconds": round(res["seconds"], 3),
            "cpu_seconds": round(res["cpu_seconds"], 3), "peak_rss_mb": round(res["peak_rss_mb"]),
            "file_mb": round(download.stat().st_size / 2**20, 1)}  # fmt: skip


def _steps(n: int, workdir: Path) -> list[dict[str, object]]:
    """Where `imsdata run` spends its time: the same run (one-line layout) in this process, one
    row per step of the CLI's progress bars ("run:<step>"), imports first."""
    start, cpu = time.perf_counter(), time.process_time()
    from imsdata.pipeline import run

    rows = [{"stage": "run:imports", "n": n, "seconds": round(time.perf_counter() - start, 3),
             "cpu_seconds": round(time.process_time() - cpu, 3)}]  # fmt: skip

    @contextlib.contextmanager
    def step(name: str) -> Iterator[None]:
        start, cpu = time.perf_counter(), time.process_time()
        yield
        rows.append({"stage": f"run:{name}", "n": n,
                     "seconds": round(time.perf_counter() - start, 3),
                     "cpu_seconds": round(time.process_time() - cpu, 3),
                     "peak_rss_mb": round(peak_rss_mb())})  # fmt: skip

    out, workspace = workdir / "out-steps", workdir / "steps.duckdb"
    shutil.rmtree(out, ignore_errors=True)
    workspace.unlink(missing_ok=True)
    run([workdir / LAYOUTS["one_line"]], workdir / "purchase_register.csv", out_dir=out,
        workspace=workspace, step=step)  # fmt: skip
    workspace.unlink(missing_ok=True)
    return rows


def main() -> None:
    """Generate once, then measure every stage in its own process, one after the other."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/imsdata-bench-e2e"))
    parser.add_argument(
        "--stage", choices=["generate", "greedy_matching", "ingest_floor", "run_steps"]
    )
    args = parser.parse_args()
    sys.path.insert(0, str(HERE))
    if args.stage == "generate":
        _generate(args.n, args.workdir)
        return
    if args.stage == "greedy_matching":
        print(json.dumps(_greedy(args.n)), flush=True)
        return
    if args.stage == "ingest_floor":
        print(json.dumps(_floor(args.n, args.workdir)), flush=True)
        return
    if args.stage == "run_steps":
        for row in _steps(args.n, args.workdir):
            print(json.dumps(row), flush=True)
        return
    me = [sys.executable, __file__, "--n", str(args.n), "--workdir", str(args.workdir)]
    measure_child([*me, "--stage", "generate"])
    rows = {}
    for stage in STAGES:
        if stage in RUNS:
            row = _run(stage, args.n, args.workdir)
        else:
            res = measure_child([*me, "--stage", stage])
            row = json.loads(res["stdout"].strip().splitlines()[-1])
            row["peak_rss_mb"] = round(res["peak_rss_mb"])
        rows[stage] = row
        print(json.dumps(row), flush=True)
    for row in json_lines(measure_child([*me, "--stage", "run_steps"])["stdout"]):
        print(json.dumps(row), flush=True)
    greedy = rows["greedy_matching"]["seconds"]
    print(json.dumps({"n": args.n, **{f"greedy/{s}": round(greedy / rows[s]["seconds"], 2)
                                      for s in RUNS}, "target": 3.0}), flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
