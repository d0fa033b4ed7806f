"""Execute every notebook in notebooks/ (jupytext percent sources) in a real Jupyter kernel.

The `.py` files are the committed source; each is converted in memory and run top to bottom,
in the notebooks/ folder, failing on the first cell error.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import jupytext
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"


def main() -> int:
    """Run the notebooks; return the number that failed."""
    sources = sorted(NOTEBOOKS.glob("[0-9]*.py"))
    failed = 0
    for src in sources:
        nb = jupytext.read(src)
        start = time.perf_counter()
        try:
            NotebookClient(
                nb, kernel_name="python3", timeout=900, resources={"metadata": {"path": NOTEBOOKS}}
            ).execute()
        except Exception as exc:  # report every notebook, then fail
            failed += 1
            print(f"FAILED {src.name}: {str(exc).strip().splitlines()[-1]}", file=sys.stderr)
            continue
        print(f"ok {src.name} ({time.perf_counter() - start:.1f} s)")
    print(f"notebooks: {len(sources) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
