"""`python -m imsdata.rules [PATH]`: write (or print) docs/rules.md from the bundled rules."""

from __future__ import annotations

import sys

from imsdata.fileio import atomic_open
from imsdata.rules.engine import rules_document

if __name__ == "__main__":
    text = rules_document()
    if len(sys.argv) > 1:
        with atomic_open(sys.argv[1]) as fh:
            fh.write(text)
    else:
        sys.stdout.write(text)
