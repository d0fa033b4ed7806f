"""Matching tolerances: configuration, not code (issue 4).

Defaults (the usual baseline, india-compliance parity): Rs 1.00 absolute on each tax head and on
the document total, 0% relative unless set, and a date window of 10 days. A difference is within
tolerance when |IMS - books| <= max(absolute, percent/100 * |IMS value|). Per-head overrides go in
`heads`, e.g. a TOML file::

    [tolerances]
    amount_abs = 1.00      # Rs, each of taxable value, IGST, CGST, SGST, cess
    amount_pct = 0         # percent of the IMS value, each head
    total_abs = 1.00       # Rs, document value (and total tax at PAN level)
    total_pct = 0
    date_days = 10
    [tolerances.heads.cess]
    abs = 2.00
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from imsdata.errors import InputError
from imsdata.fileio import read_toml
from imsdata.schemas import AMOUNT_HEADS


@dataclass(frozen=True)
class Tolerances:
    """Absolute (Rs) and percent tolerances per head and on the total, plus a date window."""

    amount_abs: Decimal = Decimal("1.00")
    amount_pct: Decimal = Decimal("0")
    total_abs: Decimal = Decimal("1.00")
    total_pct: Decimal = Decimal("0")
    date_days: int = 10
    heads: Mapping[str, tuple[Decimal, Decimal]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("amount_abs", "amount_pct", "total_abs", "total_pct"):
            value = getattr(self, name)
            if not isinstance(value, Decimal):
                object.__setattr__(self, name, _decimal(value, name))
            if getattr(self, name) < 0:
                raise InputError(f"tolerance {name} must not be negative")
        if int(self.date_days) < 0:
            raise InputError("tolerance date_days must not be negative")
        object.__setattr__(self, "date_days", int(self.date_days))
        unknown = sorted(set(self.heads) - set(AMOUNT_HEADS))
        if unknown:
            raise InputError(f"unknown tolerance head(s) {unknown}; known: {list(AMOUNT_HEADS)}")

    def head(self, name: str) -> tuple[Decimal, Decimal]:
        """(absolute Rs, percent) for one head, the override if set else the default."""
        return self.heads.get(name, (self.amount_abs, self.amount_pct))

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], *, source: str = "tolerances") -> Tolerances:
        """Build from a plain mapping (a `[tolerances]` table or its contents)."""
        table = data.get("tolerances", data)
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(table) - known)
        if unknown:
            raise InputError(
                f"{source}: unknown tolerance key(s) {unknown}; known: {sorted(known)}"
            )
        kwargs: dict[str, Any] = {k: v for k, v in table.items() if k != "heads"}
        heads: dict[str, tuple[Decimal, Decimal]] = {}
        for head, spec in dict(table.get("heads", {})).items():
            if not isinstance(spec, Mapping) or set(spec) - {"abs", "pct"}:
                raise InputError(f"{source}: heads.{head} takes only 'abs' and 'pct'")
            heads[head] = (
                _decimal(spec.get("abs", kwargs.get("amount_abs", "1.00")), f"heads.{head}.abs"),
                _decimal(spec.get("pct", kwargs.get("amount_pct", "0")), f"heads.{head}.pct"),
            )
        try:
            return cls(**kwargs, heads=heads)
        except InputError as exc:
            raise InputError(f"{source}: {exc}") from None
        except (TypeError, ValueError) as exc:
            raise InputError(f"{source}: {exc}") from None

    @classmethod
    def from_toml(cls, path: str | Path) -> Tolerances:
        """Read a TOML file (keys at top level or under `[tolerances]`)."""
        return cls.from_mapping(read_toml(path, "tolerance file"), source=str(path))


def _decimal(value: Any, name: str) -> Decimal:
    if isinstance(value, bool):
        raise InputError(f"tolerance {name} must be a number, got {value!r}")
    try:
        result = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise InputError(f"tolerance {name} must be a number, got {value!r}") from None
    if not result.is_finite() or result < 0:
        raise InputError(f"tolerance {name} must be a non-negative number, got {value!r}")
    return result
