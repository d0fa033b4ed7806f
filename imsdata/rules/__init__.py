"""The shared rule engine: suggestion rules and portal guards as data, compiled to SQL.

`load_rules` reads and validates a rule file, `suggest` proposes an action per IMS document,
`check` judges decisions (manual, Excel, export) against the guards. See docs/rules.md.
"""

from __future__ import annotations

from imsdata.rules.engine import (
    DEFAULT_RULES_PATH,
    FALLBACK_REASON,
    FALLBACK_RULE_ID,
    SUGGESTION_COLUMNS,
    VIOLATION_COLUMNS,
    Guard,
    RuleSet,
    SuggestRule,
    blocking,
    check,
    load_rules,
    parse_rules,
    rules_document,
    rules_markdown,
    suggest,
    try_decisions,
)
from imsdata.rules.view import VIEW_COLUMNS, decision_view, resolve_period

__all__ = [
    "DEFAULT_RULES_PATH",
    "FALLBACK_REASON",
    "FALLBACK_RULE_ID",
    "SUGGESTION_COLUMNS",
    "VIEW_COLUMNS",
    "VIOLATION_COLUMNS",
    "Guard",
    "RuleSet",
    "SuggestRule",
    "blocking",
    "check",
    "decision_view",
    "load_rules",
    "parse_rules",
    "resolve_period",
    "rules_document",
    "rules_markdown",
    "suggest",
    "try_decisions",
]
