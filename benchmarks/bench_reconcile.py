"""Speed and memory of `imsdata.reconcile` at scale, beside a plain hash-join floor.

    .venv/bin/python benchmarks/bench_reconcile.py --n 100000 --workdir /tmp/bench
    .venv/bin/python benchmarks/bench_reconcile.py --n 1000000 --workdir /tmp/bench

Setup (not timed): `imsdata.synth.generate(n)` with its realistic noise (every discrepancy kind),
written as canonical IMS and register parquet files (reused when present). Then, in fresh child
processes that only load the parquet files: the reconciliation, and the floor (a plain DuckDB
hash join on supplier GSTIN + raw document number). Prints JSON lines
{"stage", "n", "ims_rows", "register_rows", "seconds", "cpu_seconds", "load_seconds",
"peak_rss_mb", "load_average"} (cpu_seconds counts every thread; the machine's load average is
printed because wall time on a shared 2-core machine depends on it).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import polars as pl

FLOOR_SQL = """
SELECT count(*) FROM ims i JOIN reg r
  ON r.supplier_gstin = i.supplier_gstin AND r.doc_number = i.doc_number
"""


def paths(workdir: Path, n: int) -> tuple[Path, Path]:
    """The parquet files of size n."""
    return workdir / f"ims_{n}.parquet", workdir / f"register_{n}.parquet"


def setup(workdir: Path, n: int, seed: int) -> None:
    """Generate and write the canonical frames once."""
    ims_path, reg_path = paths(workdir, n)
    if ims_path.exists() and reg_path.exists():
        return
    sys.path.insert(0, str(Path(__file__).parent))
    from accuracy import ims_frame_from_download

    from imsdata.fileio import write_frame
    from imsdata.synth import generate

    workdir.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    data = generate(n, seed=seed)
    ims = ims_frame_from_download(data)
    write_frame(ims, ims_path)
    write_frame(data.register, reg_path)
    print(json.dumps({"stage": "setup", "n": n, "seconds": round(time.perf_counter() - t, 2)}))


def _peak_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def child(stage: str, workdir: Path, n: int) -> None:
    """Run one timed stage in this (fresh) process and print its JSON line."""
    ims_path, reg_path = paths(workdir, n)
    t0 = time.perf_counter()
    ims = pl.read_parquet(ims_path)
    reg = pl.read_parquet(reg_path)
    t1, c1 = time.perf_counter(), time.process_time()
    if stage == "reconcile":
        from imsdata.reconcile import reconcile

        out = reconcile(ims, reg)
        extra = {"output_rows": out.height}
    else:
        from imsdata.engine import DuckDBEngine

        with DuckDBEngine() as eng:
            eng.register("ims", ims)
            eng.register("reg", reg)
            pairs = eng.execute(FLOOR_SQL, step="floor").fetchone()[0]
        extra = {"pairs": pairs}
    line = {
        "stage": stage,
        "n": n,
        "ims_rows": ims.height,
        "register_rows": reg.height,
        "seconds": round(time.perf_counter() - t1, 2),
        "cpu_seconds": round(time.process_time() - c1, 2),  # all threads; wall suffers from load
        "load_seconds": round(t1 - t0, 2),
        "peak_rss_mb": _peak_mb(),
        "load_average": round(os.getloadavg()[0], 1),
        **extra,
    }
    print(json.dumps(line), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/imsdata-bench"))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--stage", choices=["reconcile", "reconcile_floor"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stage:
        child(args.stage, args.workdir, args.n)
        return
    setup(args.workdir, args.n, args.seed)
    for stage in ("reconcile", "reconcile_floor"):
        cmd = [sys.executable, __file__, "--stage", stage, "--n", str(args.n)]
        subprocess.run([*cmd, "--workdir", str(args.workdir)], check=True)


if __name__ == "__main__":
    main()
