"""Matching tolerances: configuration, not code (issues 4, 12 and 14).

Defaults: Rs 1.00 absolute on each head (taxable value, IGST, CGST, SGST, cess), 0% relative
unless set. A head is within tolerance when |IMS - books| <= max(absolute, percent/100 * |IMS
value|). The document value (and the total tax at PAN level) is by default allowed the sum of the
tolerances of the heads it is made of, so a document whose every head is within tolerance is
never a mismatch on its total (0.50 off taxable, 0.40 + 0.40 off tax: 1.30 off value, within);
set `total_abs` / `total_pct` to test the total on its own figures instead. The date window
(`date_days`) is a separate test with its own reason. `candidate_days` bounds how far apart two
documents with the same number may be dated and still be compared; `fuzzy_min_similarity` is the
Jaro-Winkler similarity two fuzzily similar numbers need; `corroboration_pct` is the wide band
within which the taxable or document value corroborates a pairing made on a normalised or fuzzy
number when the dates are outside the window. Per-head overrides go in `heads`. A TOML file::

    [tolerances]
    amount_abs = 1.00         # Rs, each of taxable value, IGST, CGST, SGST, cess
    amount_pct = 0            # percent of the IMS value, each head
    # total_abs = 5.00        # Rs, document value (and total tax at PAN level); default: derived
    # total_pct = 0
    date_days = 10            # days between the IMS and the books date for within_tolerance
    candidate_days = 366      # days apart beyond which a same-number document is not compared
    fuzzy_min_similarity = 0.8
    corroboration_pct = 25    # percent: the wide amount band for normalised / fuzzy numbers
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
    total_abs: Decimal | None = None  # None: the sum of the heads' tolerances
    total_pct: Decimal | None = None
    date_days: int = 10
    heads: Mapping[str, tuple[Decimal, Decimal]] = field(default_factory=dict)
    candidate_days: int = 366
    fuzzy_min_similarity: Decimal = Decimal("0.8")
    corroboration_pct: Decimal = Decimal("25")

    def __post_init__(self) -> None:
        for name in ("amount_abs", "amount_pct", "total_abs", "total_pct", "corroboration_pct"):
            value = getattr(self, name)
            if value is None and name.startswith("total_"):
                continue
            if not isinstance(value, Decimal):
                object.__setattr__(self, name, _decimal(value, name))
            if getattr(self, name) < 0:
                raise InputError(f"tolerance {name} must not be negative")
        if self.total_abs is None and self.total_pct is not None:
            object.__setattr__(self, "total_abs", Decimal("0"))
        if self.total_pct is None and self.total_abs is not None:
            object.__setattr__(self, "total_pct", Decimal("0"))
        similarity = _decimal(self.fuzzy_min_similarity, "fuzzy_min_similarity")
        if similarity > 1:
            raise InputError("tolerance fuzzy_min_similarity must be between 0 and 1")
        object.__setattr__(self, "fuzzy_min_similarity", similarity)
        for name in ("date_days", "candidate_days"):
            value = getattr(self, name)
            if isinstance(value, bool) or int(value) < 0:
                raise InputError(f"tolerance {name} must be a non-negative whole number")
            object.__setattr__(self, name, int(value))
        if self.candidate_days < self.date_days:
            raise InputError("tolerance candidate_days must be at least date_days")
        unknown = sorted(set(self.heads) - set(AMOUNT_HEADS))
        if unknown:
            raise InputError(f"unknown tolerance head(s) {unknown}; known: {list(AMOUNT_HEADS)}")

    def head(self, name: str) -> tuple[Decimal, Decimal]:
        """(absolute Rs, percent) for one head, the override if set else the default."""
        return self.heads.get(name, (self.amount_abs, self.amount_pct))

    @property
    def derived_total(self) -> bool:
        """True when the document value's tolerance is the sum of the heads' (the default)."""
        return self.total_abs is None

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
