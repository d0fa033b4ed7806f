"""Speed of `imsdata.register.read_register` on a large ERP-style CSV export.

    .venv/bin/python benchmarks/bench_register.py --n 1000000 --workdir /tmp/bench-register

Writes an N-row purchase register with the synthetic register's ERP headers (a small
`imsdata.synth` register tiled to N rows with unique voucher and bill numbers, Indian thousands
separators on the amounts), then times `read_register` in a fresh process and prints one JSON
line: {"stage": "register", "n": N, "seconds": s, "peak_rss_mb": m}.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import polars as pl
from _measure import measure_child


def _indian(col: pl.Expr) -> pl.Expr:
    """'1234567.89' -> '12,34,567.89' (Indian grouping), as ERPs print amounts."""

    text = col.str.strip_prefix("-")
    whole = text.str.extract(r"^(\d+)", 1)
    frac = text.str.extract(r"(\.\d+)$", 1).fill_null("")
    last3 = whole.str.slice(-3)
    head = whole.str.slice(0, pl.max_horizontal(whole.str.len_chars().cast(pl.Int64) - 3, 0))
    # groups of two from the right: pad to even length, split, rejoin, strip the pad
    even = pl.when(head.str.len_chars() % 2 == 1).then(pl.concat_str(pl.lit("0"), head))
    even = even.otherwise(head)
    grouped = even.str.replace_all(r"(\d\d)", "${1},").str.strip_suffix(",").str.strip_prefix("0")
    body = pl.when(head == "").then(last3).otherwise(pl.concat_str(grouped, pl.lit(","), last3))
    sign = pl.when(col.str.starts_with("-")).then(pl.lit("-")).otherwise(pl.lit(""))
    return pl.concat_str(sign, body, frac)


def write_register(n: int, path: Path) -> None:
    """An N-row ERP export built by tiling a small synthetic register."""
    from imsdata import synth

    base = synth.generate(2000, seed=3).register_raw
    reps = -(-n // base.height)
    frame = pl.concat([base] * reps).head(n).with_row_index("i")
    amounts = ["Taxable Value", "IGST", "CGST", "SGST", "Cess", "Invoice Value"]
    frame = frame.with_columns(
        pl.format("PV/{}", pl.col("i")).alias("Voucher No"),
        pl.format("{}/{}", pl.col("Bill No"), pl.col("i")).alias("Bill No"),
        *(_indian(pl.col(c)).alias(c) for c in amounts),
    ).drop("i")
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.write_csv(path)


def child(path: Path) -> None:
    """Run in a fresh process: read the register and print counts and in-process figures."""
    from imsdata.register import read_register

    start = time.perf_counter()
    result = read_register(path)
    seconds = time.perf_counter() - start
    counts = {"rows": result.documents.height, "rejects": result.rejects.height,
              "warnings": result.warnings.height}  # fmt: skip
    print(json.dumps({**counts, "read_seconds": round(seconds, 2)}))


def main() -> None:
    """Parse arguments, write the CSV if needed, time the read in a child process."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/imsdata-bench-register"))
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    path = args.workdir / f"register_{args.n}.csv"
    if not path.exists():
        write_register(args.n, path)
    run = measure_child([sys.executable, __file__, "--child", path])
    detail = json.loads(run["stdout"].strip().splitlines()[-1])
    print(json.dumps({"stage": "register", "n": args.n, "seconds": round(run["seconds"], 2),
                      "peak_rss_mb": round(run["peak_rss_mb"], 1), **detail,
                      "csv_mb": round(path.stat().st_size / 2**20, 1)}))  # fmt: skip


if __name__ == "__main__":
    main()
