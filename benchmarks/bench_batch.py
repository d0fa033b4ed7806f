"""Batch throughput (issue 16): clients per minute for N synth clients of D documents each.

Generates a manifest of N client-months (`imsdata.synth`, one seed and GSTIN per client; kept in
--workdir and reused by the next run), runs `imsdata.batch.run_batch` on DuckDB (worker
processes) on all N, and Spark local mode on the first K rows of the same manifest; the Spark
figure for N clients is extrapolated from the K measured and labelled so. Also measured: one
client's steps in process, the same for a tiny client (the fixed cost every client pays whatever
its size) and the cold import of a worker. Writes benchmarks/batch.md and batch.json.

    .venv/bin/python benchmarks/bench_batch.py                     # 200 x 5k, Spark on 20
    .venv/bin/python benchmarks/bench_batch.py --clients 10 --spark-clients 2   # a check
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import importlib.util
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: The steps of `imsdata run` (its progress bars), in order.
STEPS = ("ingest", "register", "reconcile", "suggest", "upload", "report", "review", "tables")
#: The size of the tiny client whose run is the fixed cost per client.
TINY_DOCS = 50


def _client(root: Path, i: int, docs: int) -> tuple[str, Path]:
    from imsdata.synth import generate, make_gstin, write

    pan = f"AAB{'CFHPT'[i % 5]}{'ABCDEFGHJK'[(i // 5) % 10]}{1000 + i:04d}K"[:10]
    gstin = make_gstin("27", pan)
    folder = root / f"{docs}" / gstin
    if not (folder / "purchase_register.csv").exists():  # generated once, reused
        write(generate(docs, seed=100 + i, recipient_gstin=gstin), folder)
    return gstin, folder


def make_manifest(root: Path, clients: int, docs: int, name: str = "manifest.csv") -> Path:
    """N synth clients (distinct recipient GSTINs and seeds) and their CSV manifest."""
    lines = ["gstin,period,ims,register"]
    for i in range(clients):
        gstin, folder = _client(root, i, docs)
        rel = folder.relative_to(root)
        lines.append(f"{gstin},102025,{rel}/ims_download.json,{rel}/purchase_register.csv")
    manifest = root / name
    manifest.write_text("\n".join(lines) + "\n")
    return manifest


def step_costs(manifest: Path, out: Path) -> dict[str, float]:
    """Seconds per pipeline step (`STEPS`) of the manifest's
    first client, run in process (imports already paid by an earlier run)."""
    from imsdata.batch import read_manifest
    from imsdata.pipeline import run

    item = read_manifest(manifest)[0]
    costs: dict[str, float] = {}

    @contextlib.contextmanager
    def step(name: str) -> Iterator[None]:
        start = time.perf_counter()
        yield
        costs[name] = round(time.perf_counter() - start, 2)

    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    start = time.perf_counter()
    run(list(item.ims), item.register, gstin=item.gstin, period=item.period, out_dir=out,
        workspace=out / "imsdata.duckdb", step=step)  # fmt: skip
    costs["total"] = round(time.perf_counter() - start, 2)
    return costs


def cold_import_seconds() -> float:
    """What a fresh worker process pays before its first client: Python and imsdata's imports."""
    code = "import imsdata.batch, imsdata.pipeline, imsdata.report, imsdata.review"
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return round(time.perf_counter() - start, 2)


def measure(manifest: Path, out: Path, **options: object) -> dict[str, object]:
    """Run the whole manifest once; wall time and clients/minute."""
    from imsdata.batch import read_manifest, run_batch

    items = read_manifest(manifest)
    shutil.rmtree(out, ignore_errors=True)
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


def spark_missing() -> str | None:
    """Why Spark cannot run here (None when it can)."""
    if shutil.which("java") is None:
        return "no java on PATH"
    if importlib.util.find_spec("pyspark") is None:
        return "the spark extra is not installed"
    return None


def measure_spark(manifest: Path, out: Path, clients: int, workers: int) -> dict[str, object]:
    """Spark local mode on the manifest's first `clients` rows: the JVM start measured apart, so
    the extrapolation to more clients does not multiply it."""
    from imsdata.spark_engine import SparkEngine

    subset = manifest.with_name(f"manifest-spark-{clients}.csv")
    lines = manifest.read_text().splitlines()[: clients + 1]
    subset.write_text("\n".join(lines) + "\n")
    start = time.perf_counter()
    with SparkEngine(master=f"local[{workers}]") as root:
        startup = time.perf_counter() - start
        result = measure(subset, out, engine="spark", workers=workers, session=root.root)
    result["startup_seconds"] = round(startup, 1)
    return result


def extrapolate(spark: dict, clients: int) -> dict[str, float]:
    """The Spark wall time for `clients`, from the measured subset at the same clients/minute
    (the session's start counted once)."""
    seconds = float(spark["startup_seconds"]) + float(spark["seconds"]) * clients / int(
        spark["ok"] or 1
    )
    rate = spark["clients_per_minute"]
    return {"clients": clients, "seconds": round(seconds), "clients_per_minute": rate}


def _row(label: str, r: dict) -> str:
    return (
        f"| {label} | {r['clients']} | {r['ok']} | {r['documents']:,} | {r['seconds']} "
        f"| {r['clients_per_minute']} | {r['mean_client_seconds']} |"
    )


#: Clients and Spark clients of `make bench`'s batch run (the Makefile's BATCH_ARGS).
MAKE_BENCH = (200, 20)


def _minutes(results: dict, args: argparse.Namespace, clients: int, spark_clients: int) -> int:
    """This run's rates applied to another size: generating, the DuckDB batch, the Spark subset."""
    duck, spark = results["duckdb"], results.get("spark")
    seconds = float(results["setup_seconds"]) / args.clients * clients
    seconds += float(duck["seconds"]) / args.clients * clients + 3 * float(
        results["steps"]["total"]
    )
    if isinstance(spark, dict):
        per = float(spark["seconds"]) / max(int(spark["clients"]), 1)
        seconds += float(spark["startup_seconds"]) + per * spark_clients
    return max(1, round(seconds / 60))


def page(results: dict, args: argparse.Namespace) -> str:
    """benchmarks/batch.md from the results."""
    duck, spark, steps, tiny = (results.get(k) for k in ("duckdb", "spark", "steps", "tiny"))
    lines = [
        "# Batch throughput (benchmarks/bench_batch.py)",
        "",
        f"Measured {results['date']} on {results['machine']}. Synth clients of {args.docs} cases "
        "each (a 5k client is about 4,700 IMS documents and 4,800 register rows), one month each, "
        "full `imsdata run` outputs per client (reconciliation, upload, report.html/.xlsx, "
        "review.xlsx). **Measured** rows ran here; **extrapolated** rows are arithmetic on them.",
        "",
        "| engine | clients | ok | IMS documents | wall s | clients/min | mean s per client |",
        "|---|---|---|---|---|---|---|",
        _row(f"duckdb, {args.workers} worker processes, {args.memory} split (measured)", duck),
    ]
    if isinstance(spark, dict):
        label = (
            f"spark local[{args.workers}], {args.workers} clients at a time (measured; session "
            f"start {spark['startup_seconds']} s not in the wall time)"
        )
        lines.append(_row(label, spark))
        ext = results["spark_extrapolated"]
        lines.append(
            f"| spark, **extrapolated** to {ext['clients']} clients from the {spark['ok']} "
            f"measured | {ext['clients']} | - | - | {ext['seconds']} "
            f"| {ext['clients_per_minute']} | - |"
        )
    else:
        lines.append(f"| spark | not run: {results.get('spark_skipped')} | | | | | |")
    lines += [
        "",
        "Where a client's time goes (one process, imports already paid; seconds):",
        "",
        f"| client | {' | '.join(STEPS)} | total |",
        f"|---|{'---|' * len(STEPS)}---|",
    ]
    for label, c in ((f"{args.docs} cases", steps), (f"{TINY_DOCS} cases (fixed cost)", tiny)):
        lines.append(f"| {label} | {' | '.join(str(c.get(s)) for s in STEPS)} | {c.get('total')} |")
    share = 100 * tiny["total"] / steps["total"] if steps["total"] else 0
    lines += [
        "",
        f"A worker process first pays {results['cold_import_seconds']} s of Python and imsdata "
        f"imports (once per worker, not per client). A {TINY_DOCS}-case client takes "
        f"{tiny['total']} s, {share:.0f} % of a {args.docs}-case one: that is the fixed cost "
        "every client pays whatever its size (workspace and engine opens, rule load, the "
        "workbook and report writers' set-up).",
        "",
        f"`make bench` runs `benchmarks/bench_batch.py --docs 5000 --clients {MAKE_BENCH[0]} "
        f"--spark-clients {MAKE_BENCH[1]}` after the stage benchmarks; at this run's rates that "
        f"takes about {_minutes(results, args, *MAKE_BENCH)} minutes on this machine (generating "
        "the synth clients the first time included; they are kept in bench-batch/ for the next "
        "run). `BENCH_QUICK=1 make bench` runs 20 clients and Spark on 4: about "
        f"{_minutes(results, args, 20, 4)} minutes.",
        "",
        "Command of this page:",
        "",
        "```",
        results["command"],
        "```",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--docs", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--memory", default="4GB")
    parser.add_argument("--spark-clients", type=int, default=20, help="0: no Spark run")
    parser.add_argument("--workdir", type=Path, default=Path("bench-batch"))
    parser.add_argument("--out", type=Path, default=HERE / "batch.md")
    args = parser.parse_args()
    root = args.workdir.resolve()
    data = root / "data"
    data.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    manifest = make_manifest(data, args.clients, args.docs)
    tiny_manifest = make_manifest(data, 1, TINY_DOCS, name="manifest-tiny.csv")
    results: dict[str, object] = {
        "date": dt.date.today().isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.1f} at the start",
        "command": " ".join(["python", "benchmarks/bench_batch.py", *sys.argv[1:]]),
        "setup_seconds": round(time.perf_counter() - start, 1),
        "docs_per_client": args.docs,
        "cold_import_seconds": cold_import_seconds(),
    }
    step_costs(tiny_manifest, root / "warm-up")  # pays the imports before the figures
    results["steps"] = step_costs(manifest, root / "steps")
    results["tiny"] = step_costs(tiny_manifest, root / "steps-tiny")
    results["duckdb"] = measure(
        manifest, root / "out-duckdb", workers=args.workers, memory=args.memory
    )
    missing = spark_missing() if args.spark_clients else "--spark-clients 0"
    if missing is None:
        k = min(args.spark_clients, args.clients)
        spark = measure_spark(manifest, root / "out-spark", k, args.workers)
        results["spark"] = spark
        results["spark_extrapolated"] = extrapolate(spark, args.clients)
    else:
        results["spark_skipped"] = missing
    args.out.with_suffix(".json").write_text(json.dumps(results, indent=2) + "\n")
    text = page(results, args)
    args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
