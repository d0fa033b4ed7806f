"""The greedy first-pair baseline (ordered passes, first pair wins, as most analysts write it)
timed on the same synthetic month as `imsdata.reconcile`.

    .venv/bin/python benchmarks/bench_greedy.py --n 100000 --workdir /tmp/bench-greedy

Prints JSON lines {"stage": "greedy_baseline" | "reconcile_same_data", "n", "seconds",
"peak_rss_mb"}; the baseline's accuracy is in benchmarks/accuracy.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import polars as pl
from _measure import peak_rss_mb


def main() -> None:
    """Build the frames once (not timed), then time the baseline and ours on them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/imsdata-bench-greedy"))
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from accuracy import greedy_baseline, ims_frame_from_download

    from imsdata.reconcile import reconcile
    from imsdata.synth import generate

    data = generate(args.n, seed=7)
    ims = ims_frame_from_download(data)
    register: pl.DataFrame = data.register
    for stage, fn in (
        ("greedy_baseline", lambda: greedy_baseline(ims, register)),
        ("reconcile_same_data", lambda: reconcile(ims, register)),
    ):
        start = time.perf_counter()
        fn()
        seconds = time.perf_counter() - start
        row = {"stage": stage, "n": args.n, "seconds": round(seconds, 3),
               "peak_rss_mb": round(peak_rss_mb(), 1)}  # fmt: skip
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
