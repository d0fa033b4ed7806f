"""Speed of the later stages (suggest, export, report, review workbook) on a synthetic month.

    .venv/bin/python benchmarks/bench_stages.py --n 100000 --workdir /tmp/bench-stages

Setup (not timed): `imsdata synth` files, read through the readers and reconciled. Then each
stage is timed in this process; prints one JSON line per stage:
{"stage", "n", "seconds", "peak_rss_mb"} (peak RSS of the whole process, setup included).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from _measure import peak_rss_mb


def main() -> None:
    """Generate (once), set up, then time suggest, export, report and review."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/imsdata-bench-stages"))
    args = parser.parse_args()

    from imsdata import reconcile, report, rules
    from imsdata.portal import read as portal_read
    from imsdata.portal import write as portal_write
    from imsdata.register import read_register
    from imsdata.review import write_review
    from imsdata.synth import generate, write

    data_dir = args.workdir / "data"
    if not (data_dir / "truth.csv").exists():
        write(generate(args.n, seed=7), data_dir)
    ims = portal_read.read([data_dir / "ims_download.json"]).documents
    register = read_register(data_dir / "purchase_register.csv").documents
    matches = reconcile.reconcile(ims, register)
    rtin = ims["recipient_gstin"].drop_nulls().first() or register["recipient_gstin"].first()
    period = rules.resolve_period(ims, None)
    out = args.workdir / "out"

    def timed(stage: str, fn):
        start = time.perf_counter()
        value = fn()
        row = {"stage": stage, "n": args.n, "seconds": round(time.perf_counter() - start, 3),
               "peak_rss_mb": round(peak_rss_mb(), 1)}  # fmt: skip
        print(json.dumps(row), flush=True)
        return value

    suggestions = timed("suggest", lambda: rules.suggest(ims, matches, period=period))
    decisions = suggestions.with_columns(source=__import__("polars").lit("rule"))
    timed(
        "export",
        lambda: portal_write.export_upload(
            ims, decisions, out / "upload", rtin=rtin, matches=matches, period=period
        ),
    )

    def make_report() -> None:
        built = report.build_report(ims, matches, decisions, gstin=rtin, period=period)
        report.write_html(built, out / "report.html")
        report.write_excel(built, out / "report.xlsx")

    timed("report", make_report)
    timed(
        "review",
        lambda: write_review(
            out / "review.xlsx", ims, matches, suggestions, decisions, rtin=rtin, period=period
        ),
    )


if __name__ == "__main__":
    main()
