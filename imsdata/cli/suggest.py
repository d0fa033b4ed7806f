"""`imsdata suggest` and `imsdata decide`: thin commands over `imsdata.rules` and the workspace."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import polars as pl
import typer

from imsdata.cli._common import err, frame_table, out
from imsdata.errors import NotFoundError, UsageError
from imsdata.schemas import ACTIONS
from imsdata.workspace import DEFAULT_WORKSPACE, Workspace


def _counts(frame: pl.DataFrame, column: str) -> pl.DataFrame:
    return frame.group_by(column).len("documents").sort(column)


def suggest_command(
    ims_paths: Annotated[
        list[Path],
        typer.Option("--ims", help="IMS download(s): JSON, zip, folder or canonical .parquet."),
    ],
    register: Annotated[Path, typer.Option("--register", "-r", help="Purchase register file.")],
    rules: Annotated[
        Path | None, typer.Option("--rules", help="Rule file (TOML); default: bundled rules.")
    ] = None,
    period: Annotated[
        str | None, typer.Option("--period", help="Return period MMYYYY; default: latest.")
    ] = None,
    workspace: Annotated[
        Path, typer.Option("--workspace", "-w", help="Workspace DuckDB file.")
    ] = Path(DEFAULT_WORKSPACE),
    gstin: Annotated[
        str | None,
        typer.Option("--gstin", help="Your GSTIN; default: from the download, else the register."),
    ] = None,
) -> None:
    """Reconcile, then suggest an action for every IMS document and log it in the workspace.

    Rule suggestions never replace a person's decision on a document that did not change.

    Example: `imsdata suggest --ims ims.json --register purchases.csv --period 112025`
    """
    from imsdata import decisions as dec
    from imsdata.cli.reconcile import load_month
    from imsdata.rules import load_rules
    from imsdata.steps import reconcile_and_suggest

    ruleset = load_rules(rules)  # fail on a bad rule file before any work
    # the same recipient, imports, matches and portal state as `imsdata run` (imsdata.steps)
    ims, reg = load_month(ims_paths, register, gstin)
    with Workspace(workspace) as ws:
        labels = (", ".join(p.name for p in ims_paths), register.name)
        done = reconcile_and_suggest(
            ws, ims, reg, ims_paths=ims_paths, register_path=register, rules=ruleset,
            period=period, labels=labels,
        )  # fmt: skip
        changes = ws.changes_since_previous()
        has_previous = ws.imports().filter(pl.col("kind") == "ims").height > 1
    info, suggestions, used_period, stored = (
        done.ims_import, done.suggestions, done.period, done.stored
    )  # fmt: skip
    err.print(f"IMS: {info.message}")
    err.print(f"register: {done.register_import.message}")
    conflicts = dec.conflicts(done.ims, suggestions)
    title = f"Period {used_period or '?'}: {suggestions.height} documents"
    out.print(frame_table(_counts(suggestions, "action"), title=title))
    out.print(frame_table(_counts(suggestions, "rule_id"), title="By rule"))
    stopped = suggestions["stopped_by"].drop_nulls().len()
    if stopped:
        out.print(f"{stopped} document(s) fell through a rule a guard stopped (see stopped_by)")
    if conflicts.height:
        out.print(
            frame_table(
                conflicts.select(
                    "supplier_gstin", "doc_number", "portal_action", "suggested", "rule_id"
                ).head(20),
                title=f"{conflicts.height} conflict(s) with the portal: not sent, decide them",
            )
        )
    out.print(
        f"logged {stored['appended']} suggestion(s); kept {stored['kept_human']} decision(s) "
        f"made by people; {stored['unchanged']} unchanged"
    )
    if info.new and has_previous:
        out.print(frame_table(_counts(changes, "change"), title="Since the previous download"))
        flagged = changes["needs_review"].sum()
        if flagged:
            out.print(f"{flagged} decided document(s) changed or left IMS: review them")
    err.print(f"workspace: {workspace}")


def _resolve_doc(ws: Workspace, doc: str) -> str:
    """A doc_key from a doc_key, a document number, or GSTIN:NUMBER (must be unique)."""
    ims = ws.latest_ims()
    if doc in set(ims["doc_key"].to_list()):
        return doc
    if ":" in doc:
        gstin, number = doc.split(":", 1)
        hits = ims.filter(
            (pl.col("supplier_gstin") == gstin.strip().upper())
            & (pl.col("doc_number") == number.strip())
        )
    else:
        hits = ims.filter(pl.col("doc_number") == doc.strip())
    keys = sorted(hits["doc_key"].to_list())
    if len(keys) == 1:
        return keys[0]
    if not keys:
        raise NotFoundError(f"no document '{doc}' in the latest IMS download of {ws.path}")
    raise UsageError(f"'{doc}' matches {len(keys)} documents, give the doc_key: {keys[:3]}")


def _declaration(
    flag: str | None, amounts: dict[str, str | None]
) -> tuple[str | None, dict[str, object] | None]:
    """`decide`'s declaration options as Workspace.decide arguments; UsageError when malformed
    (the portal guards judge the values: Y/N, with accept, within the document's tax, R5-R7)."""
    from decimal import Decimal, InvalidOperation

    declared: dict[str, object] = {}
    for head, text in amounts.items():
        if text is None:
            continue
        try:
            value = Decimal(text.strip())
        except InvalidOperation:
            raise UsageError(f"--declared-{head} '{text}' is not an amount") from None
        if not value.is_finite() or value != value.quantize(Decimal("0.01")):
            raise UsageError(f"--declared-{head} '{text}' must have at most 2 decimals")
        declared[head] = value
    return (flag.strip().upper() if flag else None), (declared or None)


def decide_command(
    doc: Annotated[str, typer.Argument(help="doc_key, document number, or GSTIN:NUMBER.")],
    action: Annotated[str, typer.Option("--action", "-a", help="accept|reject|pending|no_action")],
    reason: Annotated[
        str | None, typer.Option("--reason", help="Why (needed to override our own guards).")
    ] = None,
    remarks: Annotated[
        str | None, typer.Option("--remarks", help="Remarks for the supplier.")
    ] = None,
    workspace: Annotated[
        Path, typer.Option("--workspace", "-w", help="Workspace DuckDB file.")
    ] = Path(DEFAULT_WORKSPACE),
    user: Annotated[str | None, typer.Option("--user", help="Who decides.")] = None,
    rules: Annotated[Path | None, typer.Option("--rules", help="Rule file (TOML).")] = None,
    itc_reduction: Annotated[
        str | None,
        typer.Option(
            "--itc-reduction",
            help="ITC-reduction declaration with accept (credit notes, downward amendments):"
            " Y reduce ITC (in full, or by the --declared-* amounts), N no ITC was claimed.",
        ),
    ] = None,
    declared_igst: Annotated[
        str | None, typer.Option("--declared-igst", help="IGST to reduce (with Y).")
    ] = None,
    declared_cgst: Annotated[
        str | None, typer.Option("--declared-cgst", help="CGST to reduce (with Y).")
    ] = None,
    declared_sgst: Annotated[
        str | None, typer.Option("--declared-sgst", help="SGST to reduce (with Y; = CGST).")
    ] = None,
    declared_cess: Annotated[
        str | None, typer.Option("--declared-cess", help="Cess to reduce (with Y).")
    ] = None,
) -> None:
    """Record a manual decision for one document, after the portal guards allow it.

    Example: `imsdata decide INV/25/0042 --action reject --reason "goods returned"`

    Example: `imsdata decide CN-17 --action accept --itc-reduction Y --declared-cgst 50
    --declared-sgst 50` (a partial ITC reduction on a credit note)
    """
    if action not in ACTIONS:
        raise UsageError(f"--action must be one of {', '.join(ACTIONS)}")
    itc_code, declared = _declaration(
        itc_reduction,
        {"igst": declared_igst, "cgst": declared_cgst, "sgst": declared_sgst,
         "cess": declared_cess},
    )  # fmt: skip
    if not workspace.exists():
        raise UsageError(f"{workspace}: no workspace yet (run imsdata suggest first)")
    with Workspace(workspace) as ws:
        key = _resolve_doc(ws, doc)
        row = ws.decide(
            key, action, reason=reason, remarks=remarks, user=user, rules=rules,
            itc_reduction=itc_code, declared=declared,
        )  # fmt: skip
    decided = row.row(0, named=True)
    out.print(f"{key}: {action} (decision {decided['decision_id']}, by {decided['user']})")


def register(app: typer.Typer) -> None:
    """Add `suggest` and `decide` to the app."""
    app.command("suggest")(suggest_command)
    app.command("decide")(decide_command)
