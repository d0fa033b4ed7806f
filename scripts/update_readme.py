"""Regenerate the README's generated blocks: the default rules table and the benchmark table.

.venv/bin/python scripts/update_readme.py          # rewrite README.md
.venv/bin/python scripts/update_readme.py --check  # exit 1 if README.md is out of date
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from imsdata.rules import load_rules, rules_markdown

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
RESULTS = ROOT / "benchmarks" / "results.md"


def _bench_block() -> str:
    """The benchmark results (machine line and table) from benchmarks/results.md."""
    if not RESULTS.exists():
        return "Run `make bench` to produce benchmarks/results.md."
    text = RESULTS.read_text()
    return text.split("\n", 1)[1].strip()  # drop the file's own title


def blocks() -> dict[str, str]:
    """The generated text of each named block."""
    return {"rules": rules_markdown(load_rules()).strip(), "bench": _bench_block()}


def render(readme: str) -> str:
    """The README with every generated block replaced by its current text."""
    for name, body in blocks().items():
        pattern = re.compile(rf"(<!-- {name}:start[^\n]*-->\n).*?(<!-- {name}:end -->)", re.S)
        readme = pattern.sub(lambda m, body=body: f"{m.group(1)}{body}\n{m.group(2)}", readme)
    return readme


def main() -> int:
    """Rewrite README.md, or with --check say whether it is current."""
    current = README.read_text()
    wanted = render(current)
    if "--check" in sys.argv:
        if wanted != current:
            print("README.md is out of date: run scripts/update_readme.py", file=sys.stderr)
            return 1
        return 0
    README.write_text(wanted)
    return 0


if __name__ == "__main__":
    sys.exit(main())
