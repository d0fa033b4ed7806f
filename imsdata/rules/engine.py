"""The shared rule engine: load and validate a rule file, compile it to SQL, suggest and check.

A rule file (TOML) holds ordered `[[suggest]]` rules (first match wins) and `[[guard]]` entries
(the portal's rules and ours). Both are SQL boolean expressions over the decision view
(`imsdata.rules.view`). Everything runs as set-based SQL in an engine (`imsdata.engines`):
no Python loop over documents. Suggest, manual decisions, Excel imports and export all call it.
"""

from __future__ import annotations

import functools
import re
import string
import tomllib
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from imsdata.decisions import CONFLICT_PREFIX, PORTAL_LABELS
from imsdata.engines import Engine, engine_scope
from imsdata.errors import InputError, SQLError
from imsdata.rules import view as v
from imsdata.schemas import (
    ACTIONS,
    DECLARED_COLUMNS,
    HUMAN_SOURCES,
    IMS_COLUMNS,
    MATCH_COLUMNS,
    MATCHED,
    MONEY,
    MONEY_SQL,
    Action,
    DecisionSource,
    empty,
    sql_in,
)
from imsdata.sql_reach import external_reference, why

DEFAULT_RULES_PATH = Path(__file__).with_name("default_rules.toml")

#: Output of `suggest`: one row per IMS document, sorted by doc_key.
SUGGESTION_COLUMNS: dict[str, pl.DataType] = {
    "doc_key": pl.String(),
    "action": pl.String(),
    "rule_id": pl.String(),
    "reason": pl.String(),
    "remarks": pl.String(),
    "stopped_by": pl.String(),  # "guard stopped rule; ..." for earlier rules a guard refused
    "itc_reduction": pl.String(),  # only when a rule proposes a declaration
    "declared_igst": MONEY,
    "declared_cgst": MONEY,
    "declared_sgst": MONEY,
    "declared_cess": MONEY,
    # the rule's own action when the policy withheld it: the portal holds a person's other action
    "conflict": pl.String(),
}
#: Output of `check`: one row per (decision, guard) that forbids it.
VIOLATION_COLUMNS: dict[str, pl.DataType] = {
    "doc_key": pl.String(),
    "action": pl.String(),
    "guard_id": pl.String(),
    "message": pl.String(),
    "overridable": pl.Boolean(),
    "overridden": pl.Boolean(),  # overridable and a manual/Excel decision gave a reason
    "decision_row": pl.Int64(),  # 0-based row of the decisions frame
}

#: When no rule applies (or guards stopped them all) the document is left alone.
FALLBACK_RULE_ID = "_fallback"
FALLBACK_REASON = (
    "No rule applied (or guards stopped every rule): left for a human; "
    "no action means deemed accepted when GSTR-2B is generated (R1)"
)


_ID_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_COLUMN_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_DECLARED = DECLARED_COLUMNS
_SUGGEST_FIELDS: dict[str, type] = {
    "id": str,
    "when": str,
    "action": str,
    "reason": str,
    "remarks": str,
    "itc_reduction": str,
    **dict.fromkeys(_DECLARED, str),
    "why": str,
}
_SUGGEST_REQUIRED = ("id", "when", "action", "reason")
_GUARD_FIELDS = {"id": str, "forbid": str, "message": str, "overridable": bool, "why": str}
_GUARD_REQUIRED = ("id", "forbid", "message")


@dataclass(frozen=True)
class SuggestRule:
    """One ordered suggestion rule: when `when` holds, propose `action` with `reason`."""

    id: str
    when: str
    action: str
    reason: str
    remarks: str | None = None  # template with {column} placeholders over the decision view
    itc_reduction: str | None = None  # Y / N: propose an ITC-reduction declaration
    declared_igst: str | None = None  # SQL amount expressions for the declaration
    declared_cgst: str | None = None
    declared_sgst: str | None = None
    declared_cess: str | None = None
    why: str | None = None  # plain justification, for the documentation table


@dataclass(frozen=True)
class Guard:
    """A rule no proposal may break: `forbid` true means the proposal is refused."""

    id: str
    forbid: str
    message: str
    overridable: bool = False  # a manual decision with a reason may override it
    why: str | None = None


@dataclass(frozen=True)
class Policy:
    """The rule file's `[policy]`: how far rules may go on documents a person already acted on.

    `rules_override_portal = false` (the default): the portal's action is a person's decision.
    Rules act on documents the portal holds as No action, and on Pending ones only to accept them
    once they match the books; a suggestion that differs from the portal's Accepted, Rejected (or
    Pending) is not sent but listed as a conflict with the portal. `true`: rules may change them.
    Either way a rule's no_action means "leave it as it is" and never resets a document.
    """

    rules_override_portal: bool = False


_POLICY_FIELDS: dict[str, type] = {"rules_override_portal": bool}


@dataclass(frozen=True)
class RuleSet:
    """A validated rule file: ordered suggestion rules, guards and the decision policy."""

    suggest: tuple[SuggestRule, ...]
    guards: tuple[Guard, ...]
    source: str = "<rules>"
    policy: Policy = Policy()


# --------------------------------------------------------------------------- loading


def _lit(text: str | None) -> str:
    return "NULL::VARCHAR" if text is None else "'" + text.replace("'", "''") + "'"


def _check_fields(
    entry: object,
    kind: str,
    index: int,
    fields: dict[str, type],
    required: tuple[str, ...],
    where: str,
) -> dict:
    label = f"{where}: [[{kind}]] #{index + 1}"
    if not isinstance(entry, dict):
        raise InputError(f"{label}: must be a table")
    rid = entry.get("id")
    if isinstance(rid, str):
        label = f"{where}: {kind} rule '{rid}'"
    for name in required:
        if name not in entry:
            raise InputError(f"{label}: missing field '{name}'")
    for name, value in entry.items():
        if name not in fields:
            allowed = ", ".join(fields)
            raise InputError(f"{label}: unknown field '{name}' (allowed: {allowed})")
        if not isinstance(value, fields[name]):
            raise InputError(f"{label}: field '{name}' must be a {fields[name].__name__}")
        if isinstance(value, str) and name != "remarks" and not value.strip():
            raise InputError(f"{label}: field '{name}' is empty")
    if not _ID_RE.match(entry["id"]):
        raise InputError(f"{label}: id must be letters, digits and _, starting with a letter")
    return entry


def _template_parts(template: str) -> list[tuple[str, str | None]]:
    """Split a remarks template into (literal, column or None) parts; ValueError if malformed."""
    parts = []
    for literal, field, spec, conv in string.Formatter().parse(template):
        if field is not None and (spec or conv or not _COLUMN_RE.match(field)):
            raise ValueError(f"placeholder '{{{field}}}' must be a plain column name")
        parts.append((literal, field))
    return parts


def remarks_sql(template: str | None) -> str:
    """Compile a remarks template to a SQL string expression (null values render as '')."""
    if template is None:
        return "NULL::VARCHAR"
    pieces = []
    for literal, field in _template_parts(template):
        if literal:
            pieces.append(_lit(literal))
        if field is not None:
            pieces.append(f"coalesce(CAST({field} AS VARCHAR), '')")
    return f"concat({', '.join(pieces)})" if pieces else "''"


def _bind_error(where: str, label: str, field: str, exc: Exception) -> InputError:
    text = str(exc.__cause__ or exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    col = re.search(r'Referenced column "([^"]+)" not found', text)
    if col:
        return InputError(f"{where}: {label}: {field}: unknown column '{col.group(1)}'")
    if "Parser Error" in text or isinstance(exc.__cause__, duckdb.ParserException):
        return InputError(f"{where}: {label}: {field}: SQL syntax error: {first}")
    return InputError(f"{where}: {label}: {field}: SQL error: {first}")


def _bind(
    engine: Engine,
    relation: str,
    expr: str,
    where: str,
    label: str,
    field: str,
    *,
    numeric: bool = False,
    compiled: bool = False,
) -> None:
    """Bind `expr` against `relation` without running it; one clear InputError if it is wrong."""
    if ";" in expr and not compiled:
        raise InputError(f"{where}: {label}: {field}: must be one SQL expression (no ';')")
    reach = external_reference(expr)
    if reach:
        raise InputError(
            f"{where}: {label}: {field}: uses {reach} ({why(reach)}): rules may not read files, "
            "URLs or extensions, nor reach the environment, run code or draw random values"
        )
    try:
        result = engine.query(f"SELECT ({expr}) AS _x FROM {relation} LIMIT 0", step=label)
    except SQLError as exc:
        raise _bind_error(where, label, field, exc) from None
    if result.columns != ["_x"]:
        raise InputError(f"{where}: {label}: {field}: must be one SQL expression")
    kind = result.schema["_x"]
    if numeric:
        if not (kind.is_numeric() or kind == pl.Null()):
            raise InputError(f"{where}: {label}: {field}: must be an amount, not {kind}")
    elif kind not in (pl.Boolean(), pl.Null()):
        raise InputError(f"{where}: {label}: {field}: must be a boolean expression, not {kind}")


def parse_rules(text: str, *, source: str = "<rules>") -> RuleSet:
    """Parse and validate rule-file text; InputError naming the rule and the problem."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{source}: TOML syntax error: {exc}") from None
    except RecursionError:
        raise InputError(f"{source}: rule file is nested too deeply") from None
    unknown = sorted(set(data) - {"suggest", "guard", "policy"})
    if unknown:
        raise InputError(
            f"{source}: unknown section '{unknown[0]}' (use [policy], [[suggest]], [[guard]])"
        )
    policy = _parse_policy(data.get("policy", {}), source)
    for key in ("suggest", "guard"):
        if not isinstance(data.get(key, []), list):
            raise InputError(f"{source}: '{key}' must be an array of tables ([[{key}]])")
    raw_s = [
        _check_fields(e, "suggest", i, _SUGGEST_FIELDS, _SUGGEST_REQUIRED, source)
        for i, e in enumerate(data.get("suggest", []))
    ]
    raw_g = [
        _check_fields(e, "guard", i, _GUARD_FIELDS, _GUARD_REQUIRED, source)
        for i, e in enumerate(data.get("guard", []))
    ]
    seen: set[str] = set()
    for entry in raw_s + raw_g:
        if entry["id"] in seen:
            raise InputError(f"{source}: duplicate rule id '{entry['id']}'")
        seen.add(entry["id"])
    rules = tuple(SuggestRule(**e) for e in raw_s)
    guards = tuple(Guard(**e) for e in raw_g)
    for r in rules:
        if r.action not in ACTIONS:
            raise InputError(
                f"{source}: suggest rule '{r.id}': unknown action '{r.action}' "
                f"(use one of {', '.join(ACTIONS)})"
            )
        if r.itc_reduction not in (None, "Y", "N"):
            raise InputError(f'{source}: suggest rule \'{r.id}\': itc_reduction must be "Y" or "N"')
    _bind_all(rules, guards, source)
    return RuleSet(rules, guards, source, policy)


def _parse_policy(entry: object, source: str) -> Policy:
    """The `[policy]` table, validated: known keys with the right types only."""
    if not isinstance(entry, dict):
        raise InputError(f"{source}: 'policy' must be a table ([policy])")
    for name, value in entry.items():
        if name not in _POLICY_FIELDS:
            raise InputError(
                f"{source}: [policy]: unknown setting '{name}' "
                f"(allowed: {', '.join(_POLICY_FIELDS)})"
            )
        if not isinstance(value, _POLICY_FIELDS[name]):
            raise InputError(f"{source}: [policy]: '{name}' must be true or false, not {value!r}")
    return Policy(**entry)


def _bind_all(
    rules: tuple[SuggestRule, ...],
    guards: tuple[Guard, ...],
    source: str,
    engine: Engine | None = None,
) -> None:
    """Bind every expression and template against an empty decision view (in `engine`, or a
    throw-away DuckDB one)."""
    with engine_scope(engine) as eng:
        v.register_views(eng, empty(IMS_COLUMNS), empty(MATCH_COLUMNS))
        for r in rules:
            label = f"suggest rule '{r.id}'"
            _bind(eng, v.BASE_VIEW, r.when, source, label, "when")
            if r.remarks is not None:
                try:
                    _template_parts(r.remarks)
                except ValueError as exc:
                    raise InputError(f"{source}: {label}: remarks: {exc}") from None
                expr = f"{remarks_sql(r.remarks)} IS NULL"
                _bind(eng, v.BASE_VIEW, expr, source, label, "remarks", compiled=True)
            for name in _DECLARED:
                expr = getattr(r, name)
                if expr is not None:
                    _bind(eng, v.BASE_VIEW, expr, source, label, name, numeric=True)
        for g in guards:
            _bind(eng, v.FULL_VIEW, g.forbid, source, f"guard '{g.id}'", "forbid")


def validate_rules(rules: RuleSet, engine: Engine) -> None:
    """Bind a rule set's expressions on the engine it will run on (e.g. Spark): a function or
    type that engine lacks is one InputError naming the rule, before any client's data runs."""
    _bind_all(rules.suggest, rules.guards, rules.source, engine)


def load_rules(path: str | Path | None = None) -> RuleSet:
    """Load and validate a rule file (default: the bundled default_rules.toml)."""
    if path is None:
        return _default_rules()
    target = Path(path)
    try:
        text = target.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{target}: cannot read rule file: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise InputError(f"{target}: rule file is not UTF-8 text") from None
    return parse_rules(text, source=str(target))


@functools.cache
def _default_rules() -> RuleSet:
    return parse_rules(DEFAULT_RULES_PATH.read_text(encoding="utf-8"), source="default_rules.toml")


def _as_ruleset(rules: RuleSet | str | Path | None) -> RuleSet:
    return rules if isinstance(rules, RuleSet) else load_rules(rules)


# --------------------------------------------------------------------------- compiling


def _guard_flags_sql(guards: tuple[Guard, ...]) -> str:
    """One string per row: the ids of the guards that forbid it, ', '-separated ('' if none)."""
    if not guards:
        return "''"
    cases = ", ".join(
        f"CASE WHEN coalesce(({g.forbid}), false) THEN {_lit(g.id)} END" for g in guards
    )
    return f"concat_ws(', ', {cases})"


def _sql_bool(value: bool) -> str:
    return "true" if value else "false"


def _portal_label_sql(column: str) -> str:
    """A portal action code as the portal's word (A -> Accepted), in SQL."""
    cases = " ".join(f"WHEN {_lit(k)} THEN {_lit(w)}" for k, w in PORTAL_LABELS.items())
    return f"(CASE {column} {cases} ELSE {column} END)"


def policy_action_sql(policy: Policy) -> str:
    """The action sent for a document, from the rule's `raw_action` and the portal's action
    (`portal_word`), as the policy says (see `Policy`). A rule's no_action leaves the document as
    the portal holds it (never a reset)."""
    none, accept, pending = Action.NO_ACTION, Action.ACCEPT, Action.PENDING
    if policy.rules_override_portal:
        return f"CASE WHEN raw_action = '{none}' THEN portal_word ELSE raw_action END"
    return (
        f"CASE WHEN raw_action = '{none}' THEN portal_word "
        f"WHEN portal_word = '{none}' THEN raw_action "
        f"WHEN portal_word = '{pending}' AND raw_action = '{accept}' AND matched THEN '{accept}' "
        "ELSE portal_word END"
    )


def suggest_steps(rules: RuleSet) -> list[tuple[str, str]]:
    """The named SQL steps of `suggest`, over the registered base view (for inspection too)."""
    selects = []
    for order, r in enumerate(rules.suggest):
        variants = [(0, remarks_sql(r.remarks), f"{r.id} with remarks")] if r.remarks else []
        variants.append((1, "NULL::VARCHAR", r.id))
        declared = ", ".join(
            f"CAST(({getattr(r, n) or 'NULL'}) AS {MONEY_SQL}) AS {n}" for n in _DECLARED
        )
        for variant, remarks, label in variants:
            selects.append(
                f"SELECT b.*, {order * 2 + variant} AS _seq, {_lit(r.id)} AS rule_id, "
                f"{_lit(label)} AS _label, {_lit(r.action)} AS action, "
                f"{_lit(r.reason)} AS reason, {remarks} AS remarks, "
                f"{_lit(r.itc_reduction)} AS itc_reduction, {declared}, "
                f"'{DecisionSource.RULE}' AS decision_source, {_lit(r.reason)} AS decision_reason, "
                f"NULL::VARCHAR AS decision_user "
                f"FROM {v.BASE_VIEW} b WHERE coalesce(({r.when}), false)"
            )
    if not selects:
        declared = ", ".join(f"NULL::{MONEY_SQL} AS {n}" for n in _DECLARED)
        selects.append(
            "SELECT b.*, 0 AS _seq, NULL::VARCHAR AS rule_id, NULL::VARCHAR AS _label, "
            "NULL::VARCHAR AS action, NULL::VARCHAR AS reason, NULL::VARCHAR AS remarks, "
            f"NULL::VARCHAR AS itc_reduction, {declared}, "
            f"'{DecisionSource.RULE}' AS decision_source, "
            "NULL::VARCHAR AS decision_reason, NULL::VARCHAR AS decision_user "
            f"FROM {v.BASE_VIEW} b WHERE false"
        )
    # Each rule's candidates carry their base row, so the guards judge them in the same pass
    # (no stored candidates joined back to the base view).
    candidates = "\nUNION ALL\n".join(selects)
    flagged = f"""
SELECT doc_key, _seq, rule_id, _label, action, reason, remarks, itc_reduction,
       {", ".join(_DECLARED)}, {_guard_flags_sql(rules.guards)} AS _blocked_by
FROM (
{candidates}
)"""
    final = f"""
WITH chosen AS (
  SELECT * FROM rules_flagged WHERE _blocked_by = ''
  QUALIFY row_number() OVER (PARTITION BY doc_key ORDER BY _seq) = 1
), stopped AS (
  -- one entry per stopped rule: its remark-less retry when that was stopped too
  SELECT doc_key, string_agg(_blocked_by || ' stopped ' || _label, '; ' ORDER BY _seq)
           AS stopped_by
  FROM (
    SELECT f.* FROM rules_flagged f LEFT JOIN chosen c ON c.doc_key = f.doc_key
    WHERE f._blocked_by <> '' AND (c.doc_key IS NULL OR f._seq < c._seq)
    QUALIFY f._seq % 2 = 1 OR count(*) OVER (PARTITION BY f.doc_key, f.rule_id) = 1
  )
  GROUP BY doc_key
), raw AS (
SELECT b.doc_key, coalesce(b.portal_action, 'N') AS portal_action,
       coalesce(b.portal_action_word, '{Action.NO_ACTION}') AS portal_word,
       b.match_status IN {sql_in(MATCHED)} AS matched,
       coalesce(c.action, '{Action.NO_ACTION}') AS raw_action,
       coalesce(c.rule_id, {_lit(FALLBACK_RULE_ID)}) AS rule_id,
       coalesce(c.reason, {_lit(FALLBACK_REASON)}) AS raw_reason,
       c.remarks AS raw_remarks, s.stopped_by, c.itc_reduction,
       {", ".join("c." + n for n in _DECLARED)}
FROM {v.BASE_VIEW} b
LEFT JOIN chosen c ON c.doc_key = b.doc_key
LEFT JOIN stopped s ON s.doc_key = b.doc_key
), judged AS (
SELECT *, {policy_action_sql(rules.policy)} AS action FROM raw
)
SELECT doc_key, action, rule_id,
       CASE WHEN raw_action <> '{Action.NO_ACTION}' AND raw_action <> action
              THEN {_lit(CONFLICT_PREFIX + ": the portal holds ")}
                   || {_portal_label_sql("portal_action")}
                   || ' (a person''s decision); rule ' || rule_id || ' suggests ' || raw_action
                   || ' (' || raw_reason || '). Left as it is for a person to decide.'
            WHEN raw_action <> action
              THEN raw_reason || ' The portal holds ' || {_portal_label_sql("portal_action")}
                   || ': left as it is.'
            ELSE raw_reason END AS reason,
       -- a rule's remarks go only with the action it was written for, never with Accept
       CASE WHEN action = raw_action AND action <> '{Action.ACCEPT}'
                 AND (portal_word = '{Action.NO_ACTION}'
                      OR {_sql_bool(rules.policy.rules_override_portal)})
            THEN raw_remarks END AS remarks,
       stopped_by,
       CASE WHEN action = raw_action THEN itc_reduction END AS itc_reduction,
       {", ".join(f"CASE WHEN action = raw_action THEN {n} END AS {n}" for n in _DECLARED)},
       CASE WHEN raw_action <> '{Action.NO_ACTION}' AND raw_action <> action THEN raw_action END
         AS conflict
FROM judged
ORDER BY doc_key"""
    return [
        ("rules_flagged", flagged),
        ("rules_suggestions", final),
    ]


def suggest(
    ims: pl.DataFrame,
    matches: pl.DataFrame,
    *,
    rules: RuleSet | str | Path | None = None,
    period: str | None = None,
    engine: Engine | None = None,
) -> pl.DataFrame:
    """Propose an action for every IMS document: first rule whose proposal no guard forbids.

    Returns SUGGESTION_COLUMNS, one row per document, sorted by doc_key; documents no rule
    reaches get no_action from the built-in fallback, so every document has an action.
    """
    ruleset = _as_ruleset(rules)
    with engine_scope(engine) as eng:
        v.register_views(eng, ims, matches, period=period)
        out = eng.run_steps(suggest_steps(ruleset))
    return out.select(pl.col(n).cast(t) for n, t in SUGGESTION_COLUMNS.items())


def check(
    ims: pl.DataFrame,
    matches: pl.DataFrame,
    decisions: pl.DataFrame,
    *,
    rules: RuleSet | str | Path | None = None,
    period: str | None = None,
    engine: Engine | None = None,
) -> pl.DataFrame:
    """Judge decisions (DECISION_COLUMNS; missing columns null) against every guard.

    Returns VIOLATION_COLUMNS, one row per decision and guard that forbids it, sorted. Built-in
    checks: `unknown_document` (doc_key not in the IMS frame) and `unknown_action`. A violation of
    an overridable guard is `overridden` when a manual or Excel decision carries a reason.
    """
    ruleset = _as_ruleset(rules)
    with engine_scope(engine) as eng:
        # the base view is read once, by rules_judged: a plain view, not a second copy
        v.register_views(eng, ims, matches, period=period, materialise=False)
        v.register_decisions(eng, decisions)
        human = sql_in(HUMAN_SOURCES)
        actions = sql_in(ACTIONS)
        checks = [
            ("unknown_document", "no such document in the IMS download", False, "NOT _known"),
            (
                "unknown_action",
                f"action must be one of {', '.join(ACTIONS)}",
                False,
                f"action IS NULL OR action NOT IN {actions}",
            ),
            *((g.id, g.message, g.overridable, f"_known AND ({g.forbid})") for g in ruleset.guards),
        ]
        # One pass over the judged view keeps a flag per check, not the view's ~70 columns: the
        # view is never stored (memory at 1M decisions), and every check still sees every row.
        flags = ", ".join(
            f"coalesce(({forbid}), false) AS _flag_{i}" for i, (*_, forbid) in enumerate(checks)
        )
        eng.materialise(
            "rules_judged",
            f"SELECT _doc_key, action, _row, _human_reason, {flags} FROM ("
            f"SELECT b.*, {v.proposal_from_decisions_sql()}, d._row AS _row, "
            f"b.doc_key IS NOT NULL AS _known, d.doc_key AS _doc_key, "
            f"d.source IN {human} AND trim(coalesce(d.reason, '')) <> '' AS _human_reason "
            f"FROM {v.DECISIONS_TABLE} d LEFT JOIN {v.BASE_VIEW} b ON b.doc_key = d.doc_key)",
        )
        parts = [
            _violation_sql(gid, message, overridable, f"_flag_{i}", i)
            for i, (gid, message, overridable, _) in enumerate(checks)
        ]
        out = eng.query(
            "SELECT * EXCLUDE (_order) FROM (\n"
            + "\nUNION ALL\n".join(parts)
            + "\n) ORDER BY doc_key, decision_row, _order",
            step="rules_check",
        )
    return out.select(pl.col(n).cast(t) for n, t in VIOLATION_COLUMNS.items())


def _violation_sql(gid: str, message: str, overridable: bool, forbid: str, order: int) -> str:
    flag = "true" if overridable else "false"
    return (
        f"SELECT _doc_key AS doc_key, action, {_lit(gid)} AS guard_id, {_lit(message)} AS message, "
        f"{flag} AS overridable, {flag} AND _human_reason AS overridden, "
        f"_row AS decision_row, {order} AS _order "
        f"FROM rules_judged WHERE coalesce(({forbid}), false)"
    )


def try_decisions(
    ims: pl.DataFrame,
    matches: pl.DataFrame,
    decisions: pl.DataFrame,
    *,
    rules: RuleSet | str | Path | None = None,
    source: str = DecisionSource.MANUAL,
) -> pl.DataFrame:
    """Notebook helper: the guards' violations for a frame of decisions (only doc_key and action
    are needed); an empty frame means every decision would be accepted."""
    if "source" not in decisions.columns:
        decisions = decisions.with_columns(source=pl.lit(source))
    return check(ims, matches, decisions, rules=rules)


def blocking(violations: pl.DataFrame) -> pl.DataFrame:
    """The violations that refuse a decision (all but the overridden ones)."""
    return violations.filter(~pl.col("overridden"))


# --------------------------------------------------------------------------- documentation


def _cell(text: str | None) -> str:
    return (text or "").replace("|", "\\|").replace("\n", " ").strip()


def rules_markdown(rules: RuleSet) -> str:
    """Markdown tables of a rule set (suggestion rules in order, then guards), for the README."""
    lines = [
        "| # | rule | when | action | why |",
        "|---|---|---|---|---|",
    ]
    for i, r in enumerate(rules.suggest, 1):
        lines.append(
            f"| {i} | `{r.id}` | `{_cell(r.when)}` | {r.action} | {_cell(r.why or r.reason)} |"
        )
    lines.append(
        f"| {len(rules.suggest) + 1} | `{FALLBACK_RULE_ID}` (built in) | nothing else applied "
        f"| no_action | {_cell(FALLBACK_REASON)} |"
    )
    lines += [
        "",
        "| guard | forbids | overridable | message | source |",
        "|---|---|---|---|---|",
    ]
    for g in rules.guards:
        over = "yes, by a manual or Excel decision with a reason" if g.overridable else "no"
        lines.append(
            f"| `{g.id}` | `{_cell(g.forbid)}` | {over} | {_cell(g.message)} | {_cell(g.why)} |"
        )
    return "\n".join(lines) + "\n"


def rules_document(rules: RuleSet | None = None) -> str:
    """The whole docs/rules.md: how rules work, the rule tables, the decision view's columns."""
    ruleset = rules or load_rules()
    return "\n".join(
        [
            "# Rules: suggestions and portal guards",
            "",
            "<!-- generated by `python -m imsdata.rules docs/rules.md`; do not edit by hand -->",
            "",
            "imsdata suggests an action for every IMS document and checks every decision",
            "(suggested, manual, Excel, export) through one rule engine. The rules are data:",
            "`imsdata/rules/default_rules.toml`. Copy it, edit it, pass it with `--rules`.",
            "",
            "- `[[suggest]]` rules are tried in order; the first whose `when` holds and whose",
            "  proposal no guard forbids wins. A forbidden proposal falls through to the next",
            "  rule and is recorded in `stopped_by` (e.g. `pending_blocked stopped r_mismatch`).",
            "  A rule's `remarks` (a template with `{column}` placeholders) are dropped, not the",
            "  rule, when a guard forbids only them. Fields: `id`, `when`, `action`",
            "  (accept / reject / pending / no_action), `reason`, optional `remarks`,",
            "  `itc_reduction` (Y / N) with `declared_igst/cgst/sgst/cess` (SQL amounts), `why`.",
            "- `[[guard]]` entries forbid proposals: `id`, `forbid` (SQL over the view, including",
            "  the proposal columns), `message`, optional `overridable = true` (a manual or Excel",
            "  decision that gives a reason may break it), `why`.",
            "- The file is validated when loaded: TOML syntax, missing or unknown fields,",
            "  duplicate ids, unknown actions, unknown columns and SQL errors are reported with",
            "  the rule's id. A NULL result counts as false.",
            "",
            "## Policy: the portal's action is a person's decision",
            "",
            "The rule file's `[policy]` table says how far rules may go on documents a person",
            "already acted on; the engine applies it to every suggestion, and export applies it",
            "again to every rule decision it would send.",
            "",
            "| setting | default | meaning |",
            "|---|---|---|",
            "| `rules_override_portal` | `false` | `false`: rules act on documents the portal holds"
            " as No action (N), and on Pending (P) ones only to accept them once they match the"
            " books (exact or within tolerance). A suggestion that differs from the portal's"
            " Accepted, Rejected or Pending is not sent: the document keeps the portal's action"
            " and the suggestion is listed as a *conflict with the portal* (run summary, review"
            " workbook column `Conflict with portal`, report table). `true`: rules may change"
            " actions taken on the portal. |",
            "",
            "This rule file: `rules_override_portal = "
            f"{_sql_bool(ruleset.policy.rules_override_portal)}`.",
            "",
            "Whatever the policy: a rule's `no_action` means *leave it as it is* and never",
            "produces a RESET (only a person's No action on a document the portal holds as",
            "A/R/P does); a rule's remarks go only with the action they were written for and",
            "never with Accept.",
            "",
            "## Default rules",
            "",
            rules_markdown(ruleset),
            "## The decision view",
            "",
            "Every `when` and `forbid` is a SQL (DuckDB) boolean expression over these columns.",
            "",
            v.columns_markdown(),
        ]
    )
