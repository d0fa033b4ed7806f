"""Register-reader fixtures: real files written by the tests, from rows given as header -> cell."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from register_helpers import csv_bytes


@pytest.fixture
def write_csv(tmp_path: Path) -> Callable[..., Path]:
    """Write rows as a CSV file in tmp_path and return its path."""

    def write(rows: list[dict[str, str]], name: str = "register.csv", **options: Any) -> Path:
        path = tmp_path / name
        path.write_bytes(csv_bytes(rows, **options))
        return path

    return write
