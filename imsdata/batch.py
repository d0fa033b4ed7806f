"""Many clients, many months in one job: `imsdata batch MANIFEST`.

A manifest (CSV or TOML) lists one run per row: client GSTIN, period, IMS file(s), register and
optional rule file. Every row runs `imsdata.pipeline.run` (the same outputs as `imsdata run`)
into its own folder `OUT/<gstin>_<period>/`, then one summary across clients is written as
`summary.parquet` and a self-contained `summary.html`. A client that fails is listed with its
one-line error; the others carry on.

Engines: DuckDB runs rows in parallel worker processes, each with its share of the memory budget
(`IMSDATA_DUCKDB_MEMORY` in each worker = the budget divided by the workers); Spark runs every
row in one Spark application, each client in its own session (`imsdata.spark_engine`). Rule files
are validated against the engine they run on before any client starts.
"""

from __future__ import annotations

import csv
import html
import multiprocessing
import os
import re
import time
import tomllib
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from imsdata.engines import ENGINE_NAMES
from imsdata.errors import ImsdataError, InputError, UsageError
from imsdata.fileio import atomic_open, write_frame
from imsdata.schemas import MONEY, Action, MatchStatus

#: Manifest columns (CSV header / TOML keys); `ims` may list several files separated by ';'.
MANIFEST_FIELDS: tuple[str, ...] = ("gstin", "period", "ims", "register", "rules")
REQUIRED_FIELDS: tuple[str, ...] = ("gstin", "period", "ims", "register")
#: The whole DuckDB memory budget of a batch on this machine, split across the workers.
DEFAULT_BATCH_MEMORY = "4GB"
#: Actions whose ITC the summary shows, in this order.
SUMMARY_ACTIONS: tuple[str, ...] = tuple(Action)
#: Match statuses that count as matched in the summary's matched % (found in the books).
MATCHED: tuple[str, ...] = (
    MatchStatus.EXACT,
    MatchStatus.WITHIN_TOLERANCE,
    MatchStatus.PROBABLE,
    MatchStatus.PAN_MATCH,
)

SUMMARY_COLUMNS: dict[str, pl.DataType] = {
    "gstin": pl.String(),
    "period": pl.String(),
    "status": pl.String(),  # ok / failed
    "error": pl.String(),
    "documents": pl.Int64(),
    "matched_pct": pl.Float64(),
    **{f"itc_{a}": MONEY for a in SUMMARY_ACTIONS},
    "itc_at_risk": MONEY,
    "seconds": pl.Float64(),
    "out_dir": pl.String(),
}


@dataclass(frozen=True)
class BatchItem:
    """One manifest row: a client's month."""

    gstin: str
    period: str
    ims: tuple[Path, ...]
    register: Path
    rules: Path | None = None

    @property
    def folder(self) -> str:
        """The client's output folder name (`<gstin>_<period>`)."""
        return f"{self.gstin}_{self.period}"


def _item(row: dict[str, Any], base: Path, where: str) -> BatchItem:
    unknown = sorted(set(row) - set(MANIFEST_FIELDS))
    if unknown:
        raise InputError(f"{where}: unknown field(s) {unknown}; known: {list(MANIFEST_FIELDS)}")
    missing = [f for f in REQUIRED_FIELDS if not row.get(f)]
    if missing:
        raise InputError(f"{where}: missing {', '.join(missing)}")
    ims = row["ims"]
    names = ims if isinstance(ims, list) else [p for p in str(ims).split(";") if p.strip()]
    gstin, period = str(row["gstin"]).strip().upper(), str(row["period"]).strip()
    if not re.fullmatch(r"[0-9A-Z]{15}", gstin):
        raise InputError(f"{where}: gstin {row['gstin']!r} is not a 15-character GSTIN")
    if not re.fullmatch(r"(0[1-9]|1[0-2])[0-9]{4}", period):
        raise InputError(f"{where}: period {row['period']!r} must be MMYYYY")
    rules = row.get("rules") or None
    return BatchItem(
        gstin=gstin,
        period=period,
        ims=tuple(base / str(n).strip() for n in names),
        register=base / str(row["register"]).strip(),
        rules=base / str(rules).strip() if rules else None,
    )


def read_manifest(path: str | Path) -> list[BatchItem]:
    """Read a CSV or TOML (`[[client]]` tables) manifest; relative paths are taken from the
    manifest's folder. InputError naming the row for a bad or duplicate entry."""
    source = Path(path)
    base = source.parent
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{source}: cannot read manifest: {exc.strerror}") from None
    if source.suffix.lower() == ".toml":
        try:
            rows = tomllib.loads(text).get("client", [])
        except tomllib.TOMLDecodeError as exc:
            raise InputError(f"{source}: TOML syntax error: {exc}") from None
        where = [f"{source}: client {i + 1}" for i in range(len(rows))]
    elif source.suffix.lower() == ".csv":
        rows = [
            {k.strip(): (v or "").strip() for k, v in r.items() if k}
            for r in csv.DictReader(text.splitlines())
        ]
        where = [f"{source}: row {i + 2}" for i in range(len(rows))]
    else:
        raise UsageError(f"{source}: a manifest is a .csv or .toml file")
    items = [_item(row, base, w) for row, w in zip(rows, where, strict=True)]
    if not items:
        raise InputError(f"{source}: the manifest lists no client")
    seen: dict[str, str] = {}
    for item, w in zip(items, where, strict=True):
        if item.folder in seen:
            raise InputError(
                f"{w}: {item.gstin} {item.period} already listed ({seen[item.folder]})"
            )
        seen[item.folder] = w
    return items


# --------------------------------------------------------------------------- one client


def _summary_row(item: BatchItem, out_dir: Path, result: Any, seconds: float) -> dict[str, Any]:
    from imsdata.pipeline import summary_tables

    itc = summary_tables(result)["itc_by_action"]
    by_action = dict(zip(itc["action"].to_list(), itc["itc"].to_list(), strict=True))
    docs = result.ims.height
    matched = result.matches.filter(
        pl.col("doc_key").is_not_null() & pl.col("match_status").is_in(MATCHED)
    ).height
    return {
        "gstin": item.gstin,
        "period": item.period,
        "status": "ok",
        "error": None,
        "documents": docs,
        "matched_pct": round(100.0 * matched / docs, 2) if docs else 0.0,
        **{f"itc_{a}": by_action.get(a, 0) for a in SUMMARY_ACTIONS},
        "itc_at_risk": result.headline.get("itc_at_risk"),
        "seconds": round(seconds, 2),
        "out_dir": str(out_dir),
    }


def _failed_row(item: BatchItem, out_dir: Path, error: str, seconds: float) -> dict[str, Any]:
    first = (error.strip().splitlines() or ["failed"])[0]
    return {"gstin": item.gstin, "period": item.period, "status": "failed", "error": first,
            "seconds": round(seconds, 2), "out_dir": str(out_dir)}  # fmt: skip


def run_client(item: BatchItem, out_root: Path, engine: Any = None) -> dict[str, Any]:
    """Run one manifest row through `imsdata.pipeline.run`; its summary row (never raises for a
    client's own problem: the error becomes the row's one line)."""
    from imsdata.pipeline import run

    out_dir = out_root / item.folder
    start = time.perf_counter()
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        result = run(
            list(item.ims),
            item.register,
            gstin=item.gstin,
            period=item.period,
            rules=item.rules,
            out_dir=out_dir,
            workspace=out_dir / "imsdata.duckdb",
            engine=engine,
            side_by_side=False,  # a client per core already: no second thread per client
        )
    except ImsdataError as exc:
        return _failed_row(item, out_dir, str(exc), time.perf_counter() - start)
    except Exception as exc:  # one client's crash must not stop the others: name it, go on
        return _failed_row(
            item, out_dir, f"{type(exc).__name__}: {exc}", time.perf_counter() - start
        )
    return _summary_row(item, out_dir, result, time.perf_counter() - start)


def _worker_init(memory_limit: str) -> None:
    """A batch worker process (ours alone) opens its engines with its share of the budget."""
    os.environ["IMSDATA_DUCKDB_MEMORY"] = memory_limit


def split_memory(budget: str, workers: int) -> str:
    """A DuckDB memory budget ('4GB', '512MB') divided across workers, in MB."""
    match = re.fullmatch(r"\s*([0-9.]+)\s*([KMGT]?i?B)\s*", budget, flags=re.IGNORECASE)
    if not match:
        raise UsageError(f"memory budget {budget!r} must look like 4GB or 512MB")
    unit = match.group(2).upper().replace("I", "")
    scale = {"B": 1 / 2**20, "KB": 1 / 1024, "MB": 1, "GB": 1024, "TB": 1024**2}[unit]
    per = int(float(match.group(1)) * scale / max(workers, 1))
    if per < 64:
        raise UsageError(f"memory budget {budget} over {workers} workers is under 64MB each")
    return f"{per}MB"


# --------------------------------------------------------------------------- the batch


def _validate_rules(items: Sequence[BatchItem], engine: Any) -> dict[Path | None, str]:
    """Each distinct rule file loaded and bound on `engine`; {path: error} for those that fail."""
    from imsdata.rules import engine as rl

    errors: dict[Path | None, str] = {}
    for path in sorted({i.rules for i in items}, key=str):
        try:
            ruleset = rl.load_rules(path)
            if engine is not None:
                rl.validate_rules(ruleset, engine)
        except ImsdataError as exc:
            errors[path] = str(exc).splitlines()[0]
    return errors


def run_batch(
    items: Sequence[BatchItem],
    out_dir: str | Path,
    *,
    engine: str = "duckdb",
    workers: int | None = None,
    memory: str = DEFAULT_BATCH_MEMORY,
    master: str | None = None,
    session: Any = None,
    progress: Callable[[dict[str, Any]], None] | None = None,
) -> pl.DataFrame:
    """Run every client; write `summary.parquet` and `summary.html` into `out_dir` and return
    the summary (SUMMARY_COLUMNS, in manifest order)."""
    if engine not in ENGINE_NAMES:
        raise UsageError(f"unknown engine {engine!r} (use one of {', '.join(ENGINE_NAMES)})")
    out_root = Path(out_dir)
    out_root.mkdir(parents=True, exist_ok=True)
    n = max(1, min(workers or (os.cpu_count() or 1), len(items)))
    rows: dict[int, dict[str, Any]] = {}

    def done(index: int, row: dict[str, Any]) -> None:
        rows[index] = row
        if progress:
            progress(row)

    if engine == "duckdb":
        bad = _validate_rules(items, None)
        todo = [(i, it) for i, it in enumerate(items) if it.rules not in bad]
        for i, it in enumerate(items):
            if it.rules in bad:
                done(i, _failed_row(it, out_root / it.folder, bad[it.rules], 0.0))
        per_worker = split_memory(memory, n)
        if n == 1:  # in process, with the same budget as one worker
            from imsdata.engine import memory_budget

            with memory_budget(per_worker):
                for i, it in todo:
                    done(i, run_client(it, out_root))
        else:
            context = multiprocessing.get_context("spawn")  # no fork: polars/duckdb threads
            with ProcessPoolExecutor(n, mp_context=context, initializer=_worker_init,
                                     initargs=(per_worker,)) as pool:  # fmt: skip
                futures = {pool.submit(run_client, it, out_root): i for i, it in todo}
                for future, i in futures.items():
                    done(i, future.result())
    else:
        from imsdata.spark_engine import SparkEngine

        with SparkEngine(session=session, master=master) as root:
            bad = _validate_rules(items, root)
            for i, it in enumerate(items):
                if it.rules in bad:
                    done(i, _failed_row(it, out_root / it.folder, bad[it.rules], 0.0))

            def one(item: BatchItem) -> dict[str, Any]:
                with SparkEngine(session=root.root) as eng:  # own views, shared application
                    return run_client(item, out_root, engine=eng)

            todo = [(i, it) for i, it in enumerate(items) if it.rules not in bad]
            with ThreadPoolExecutor(n) as threads:  # Spark schedules the clients' jobs together
                futures = {threads.submit(one, it): i for i, it in todo}
                for future, i in futures.items():
                    done(i, future.result())
    summary = pl.DataFrame(
        [rows[i] for i in range(len(items))], schema=SUMMARY_COLUMNS, strict=False
    )
    write_frame(summary, out_root / "summary.parquet")
    with atomic_open(out_root / "summary.html") as fh:
        fh.write(summary_html(summary, engine=engine))
    return summary


def summary_html(summary: pl.DataFrame, *, engine: str = "duckdb") -> str:
    """A self-contained HTML page of the summary (no scripts, no external files)."""
    ok = summary.filter(pl.col("status") == "ok")
    failed = summary.height - ok.height
    head = "".join(f"<th>{html.escape(c)}</th>" for c in summary.columns if c != "out_dir")
    body = []
    for row in summary.iter_rows(named=True):
        cells = []
        for name, value in row.items():
            if name == "out_dir":
                continue
            text = "" if value is None else f"{value:,.2f}" if name.startswith("itc_") else value
            cls = ' class="bad"' if name == "status" and value == "failed" else ""
            cells.append(f"<td{cls}>{html.escape(str(text))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    total_docs = int(ok["documents"].sum() or 0)
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<title>imsdata batch summary</title><style>"
        "body{font-family:system-ui,sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}"
        "td:nth-child(-n+4),th{text-align:left}.bad{color:#b00020;font-weight:bold}"
        "</style></head><body><h1>imsdata batch summary</h1>"
        f"<p>{summary.height} client-months on {html.escape(engine)}: {ok.height} ok, "
        f"{failed} failed; {total_docs:,} IMS documents.</p>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
        "</body></html>\n"
    )
