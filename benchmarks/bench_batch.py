"""Batch throughput (issue 16): clients per minute for N synth clients of D documents each.

Generates a manifest of N client-months (`imsdata.synth`, one seed and GSTIN per client), runs
`imsdata.batch.run_batch` on DuckDB (worker processes) and, with `--spark`, on Spark local mode
on the same manifest, and writes benchmarks/batch.md (+ batch.json). Per-step costs come from
one extra client run in process with the pipeline's step timings.

    .venv/bin/python benchmarks/bench_batch.py --clients 200 --docs 5000 [--workers 2] [--spark]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import time
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent


def make_manifest(root: Path, clients: int, docs: int) -> Path:
    """N synth clients (distinct recipient GSTINs and seeds) and their CSV manifest."""
    from imsdata.synth import generate, make_gstin, write

    lines = ["gstin,period,ims,register"]
    for i in range(clients):
        pan = f"AAB{'CFHPT'[i % 5]}{'ABCDEFGHJK'[(i // 5) % 10]}{1000 + i:04d}K"[:10]
        gstin = make_gstin("27", pan)
        folder = root / gstin
        if not (folder / "purchase_register.csv").exists():
            write(generate(docs, seed=100 + i, recipient_gstin=gstin), folder)
        lines.append(f"{gstin},102025,{gstin}/ims_download.json,{gstin}/purchase_register.csv")
    manifest = root / "manifest.csv"
    manifest.write_text("\n".join(lines) + "\n")
    return manifest


def step_costs(manifest: Path, out: Path) -> dict[str, float]:
    """Seconds per pipeline step (ingest, register, reconcile, suggest, write) of one client."""
    from imsdata.batch import read_manifest
    from imsdata.pipeline import run

    item = read_manifest(manifest)[0]
    costs: dict[str, float] = {}

    @contextlib.contextmanager
    def step(name: str) -> Iterator[None]:
        start = time.perf_counter()
        yield
        costs[name] = round(time.perf_counter() - start, 2)

    out.mkdir(parents=True, exist_ok=True)
    run(list(item.ims), item.register, gstin=item.gstin, period=item.period, out_dir=out,
        workspace=out / "imsdata.duckdb", step=step)  # fmt: skip
    return costs


def measure(manifest: Path, out: Path, **options: object) -> dict[str, object]:
    """Run the whole manifest once; wall time and clients/minute."""
    from imsdata.batch import read_manifest, run_batch

    items = read_manifest(manifest)
    start = time.perf_counter()
    summary = run_batch(items, out, **options)  # type: ignore[arg-type]
    seconds = time.perf_counter() - start
    ok = int((summary["status"] == "ok").sum())
    return {
        "clients": len(items),
        "ok": ok,
        "documents": int(summary["documents"].sum() or 0),
        "seconds": round(seconds, 1),
        "clients_per_minute": round(60 * ok / seconds, 2),
        "mean_client_seconds": round(float(summary["seconds"].mean() or 0), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--docs", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--memory", default="4GB")
    parser.add_argument("--spark", action="store_true", help="also Spark local mode")
    parser.add_argument("--spark-clients", type=int, default=None, help="Spark on the first K")
    parser.add_argument("--workdir", type=Path, default=Path("bench-batch"))
    parser.add_argument("--out", type=Path, default=HERE / "batch.md")
    args = parser.parse_args()
    root = args.workdir
    root.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    manifest = make_manifest(root / "data", args.clients, args.docs)
    results: dict[str, object] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}",
        "setup_seconds": round(time.perf_counter() - start, 1),
        "docs_per_client": args.docs,
        "steps": step_costs(manifest, root / "steps"),
        "duckdb": measure(manifest, root / "out-duckdb", workers=args.workers, memory=args.memory),
    }
    if args.spark:
        spark_manifest = manifest
        if args.spark_clients:
            spark_manifest = root / "data" / "manifest-spark.csv"
            lines = manifest.read_text().splitlines()[: args.spark_clients + 1]
            spark_manifest.write_text("\n".join(lines) + "\n")
        results["spark"] = measure(
            spark_manifest, root / "out-spark", engine="spark", workers=args.workers,
            master=f"local[{args.workers}]",
        )  # fmt: skip
    args.out.with_suffix(".json").write_text(json.dumps(results, indent=2) + "\n")
    lines = [
        "# Batch throughput (benchmarks/bench_batch.py)",
        "",
        f"{results['machine']}; {args.docs} synth documents per client.",
        "",
        "| engine | clients | ok | documents | wall s | clients/min | mean s per client |",
        "|---|---|---|---|---|---|---|",
    ]
    for engine in ("duckdb", "spark"):
        r = results.get(engine)
        if isinstance(r, dict):
            lines.append(
                f"| {engine} | {r['clients']} | {r['ok']} | {r['documents']} | {r['seconds']} "
                f"| {r['clients_per_minute']} | {r['mean_client_seconds']} |"
            )
    lines += ["", "One client's steps on DuckDB (s): " + json.dumps(results["steps"]), ""]
    args.out.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
