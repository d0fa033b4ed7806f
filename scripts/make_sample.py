"""Regenerate data/sample/ (the bundled demo data) with imsdata.synth and a fixed seed.

Usage: python scripts/make_sample.py [--out data/sample]

The sample is small and pretty-printed so diffs stay reviewable. The script checks that it
covers every IMS section, every discrepancy kind, and the portal flags the demo shows, and fails
(exit 1) if a change to the generator breaks that coverage: pick another SEED then.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import polars as pl

from imsdata.portal.sections import BOE, SECTIONS
from imsdata.synth import DEFAULT_MIX, KINDS, SynthData, generate, write

SEED = 5
DOCS = 80
#: More amendments than the default so that every amended section appears in 80 documents.
MIX = {**DEFAULT_MIX, "amendment": 0.06}
ROOT = Path(__file__).resolve().parent.parent


def coverage_gaps(data: SynthData) -> list[str]:
    """What the sample should show but does not (empty when complete)."""
    # synth makes no import bills of entry (their IMS keys are not published)
    gaps = [
        f"section {key}"
        for key, sec in SECTIONS.items()
        if sec.doc_type != BOE and not data.download.get(key)
    ]
    kinds = set(data.truth.get_column("kind").to_list())
    gaps += [f"kind {k}" for k in [*KINDS, "amended_original"] if k not in kinds]
    records = [(SECTIONS[key], rec) for key, recs in data.download.items() for rec in recs]
    wanted = {
        "credit note with an ITC-reduction declaration": any(
            s.doc_type == "CN" and "itcRedReq" in r for s, r in records
        ),
        "record with remarks": any("remarks" in r for _, r in records),
        "record with pending blocked": any(r["ispendactblocked"] == "Y" for _, r in records),
        "supplier return not filed": any(r["srcfilstatus"] == "Not Filed" for _, r in records),
        "actions A, R and P": {"A", "R", "P"} <= {r["action"] for _, r in records},
        "inter- and intra-state documents": len({r["iamt"] > 0 for _, r in records}) == 2,
        "out-of-scope register rows": not data.register.get_column("in_scope").all(),
        "credit notes in the register": data.register.filter(pl.col("doc_type") == "CN").height > 0,
    }
    return gaps + [name for name, ok in wanted.items() if not ok]


def main() -> int:
    """Generate, check coverage, write."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "data" / "sample")
    args = parser.parse_args()
    data = generate(DOCS, seed=SEED, mix=MIX)
    gaps = coverage_gaps(data)
    if gaps:
        print(f"seed {SEED} leaves gaps: {', '.join(gaps)}", file=sys.stderr)
        return 1
    paths = write(data, args.out, pretty=True)
    for path in paths.values():
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
