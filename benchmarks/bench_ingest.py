"""Benchmark: ingest of an N-document IMS download against `pl.read_ndjson` of the same records.

    .venv/bin/python benchmarks/bench_ingest.py --n 1000000 --workdir /tmp/bench-ingest

Writes (once per N) a bare-section-map download with `imsdata.synth` (compact JSON, ~330 bytes a
record) and the same records as NDJSON, then measures each stage in a fresh subprocess so peak
RSS is per stage, printing one JSON line per measurement:
{"stage": ..., "n": N, "seconds": wall, "cpu_seconds": user+sys, "peak_rss_mb": m, "rows": r}
and a last line with the ratios of each ingest to each floor. Stages: `ingest_floor` is
`pl.read_ndjson` with an explicit schema of every key (money as Float64), `ingest_floor_plain`
the plain call (schema inferred, stack-notes.md §5), `ingest` is `imsdata.portal.read.read` of
the one-line download (as the portal sends it), `ingest_per_line` and `ingest_pretty` of the
same download written one record per line and `json.dumps(indent=2)` (benchmarks/_layouts.py).
Each ingest row carries `file_mb`. Targets (issue 17): every layout within 2.5x of the floor,
peak RSS under 3x the file size. The machine may be shared: `cpu_seconds` close to `seconds`
on a parallel stage means the other core was busy.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

from _layouts import LAYOUTS, NDJSON, read_floor, write_layouts, write_ndjson

DOWNLOAD = "ims_download.json"
#: Ingest stages by layout (benchmarks/_layouts.py); `ingest` is the one-line download.
INGESTS = {"ingest": "one_line", "ingest_per_line": "per_line", "ingest_pretty": "pretty"}
STAGES = ("ingest_floor", "ingest_floor_plain", *INGESTS)


def _generate(n: int, workdir: Path) -> None:
    """Write the download and the NDJSON floor file for `n` documents (skipped when present)."""
    marker = workdir / f".generated-{n}-layouts"
    if marker.exists():
        return
    from imsdata import synth

    workdir.mkdir(parents=True, exist_ok=True)
    data = synth.generate(n, seed=11)
    download = data.download
    with open(workdir / DOWNLOAD, "w", encoding="utf-8") as fh:
        json.dump(download, fh, ensure_ascii=False, separators=(",", ":"))
    write_ndjson(download, workdir)
    write_layouts(download, workdir)
    marker.write_text("ok")


def _stage(stage: str, n: int, workdir: Path) -> dict[str, object]:
    """Run one measured stage in this (fresh) process."""
    import polars as pl

    from imsdata.portal.read import read  # imported before the clock starts, like polars

    start, cpu = time.perf_counter(), _cpu()
    if stage == "ingest_floor_plain":
        frame = pl.read_ndjson(workdir / NDJSON)
        rows = frame.height
    elif stage == "ingest_floor":
        rows = read_floor(workdir)
    else:
        path = workdir / LAYOUTS[INGESTS[stage]]
        result = read([path])
        rows = (
            result.documents.height
            + result.rejects.select("file", "section", "index").n_unique()
            + result.duplicates.height
        )
    seconds, cpu = time.perf_counter() - start, _cpu() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    row = {"stage": stage, "n": n, "seconds": round(seconds, 3), "cpu_seconds": round(cpu, 3),
           "peak_rss_mb": round(peak), "rows": rows}  # fmt: skip
    if stage in INGESTS:
        row["file_mb"] = round(path.stat().st_size / 2**20, 1)
    return row


def _cpu() -> float:
    """User + system CPU seconds of this process so far (all threads)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    """Generate the data once, then measure the floor and the ingest, each in a subprocess."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/imsdata-bench-ingest"))
    parser.add_argument("--stage", choices=["generate", *STAGES])
    args = parser.parse_args()
    if args.stage == "generate":
        _generate(args.n, args.workdir)
        return
    if args.stage:
        print(json.dumps(_stage(args.stage, args.n, args.workdir)), flush=True)
        return
    me = [sys.executable, __file__, "--n", str(args.n), "--workdir", str(args.workdir)]
    subprocess.run([*me, "--stage", "generate"], check=True)
    seconds = {}
    for stage in STAGES:
        out = subprocess.run([*me, "--stage", stage], check=True, stdout=subprocess.PIPE, text=True)
        print(out.stdout, end="", flush=True)
        seconds[stage] = json.loads(out.stdout)["seconds"]
    ratios = {
        f"{stage}/{floor}": round(seconds[stage] / seconds[floor], 2)
        for stage in INGESTS
        for floor in ("ingest_floor", "ingest_floor_plain")
    }
    print(json.dumps({"n": args.n, **ratios, "target": 2.5}), flush=True)


if __name__ == "__main__":
    main()
