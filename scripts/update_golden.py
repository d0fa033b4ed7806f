"""Golden hashes of `imsdata run`'s output files (the demo sample and a synth month).

Refactors must not change a byte of what a run writes: tests/pipeline/test_golden_outputs.py
compares every output file's SHA-256 with tests/pipeline/golden/hashes.json. When a change of
behaviour changes the outputs on purpose, regenerate them and say so in the commit:

.venv/bin/python scripts/update_golden.py          # rewrite tests/pipeline/golden/hashes.json
.venv/bin/python scripts/update_golden.py --check  # exit 1 if an output differs
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
from pathlib import Path

from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "pipeline" / "golden" / "hashes.json"
#: Fixed inputs of the golden runs: the period, and the time written into the report/workbooks.
PERIOD = "102025"
GENERATED_AT = "2025-11-14T10:00:00"
SYNTH_DOCS = 10_000
SYNTH_SEED = 7


def _inputs(work: Path) -> dict[str, tuple[Path, Path]]:
    """The (IMS download, register) of each golden run: the bundled sample, a synth month."""
    from imsdata.sample import sample_paths
    from imsdata.synth import generate, write

    sample = sample_paths()
    synth = write(generate(SYNTH_DOCS, seed=SYNTH_SEED, period=PERIOD), work / "synth-in")
    return {
        "demo": (sample["ims"], sample["register"]),
        f"synth-{SYNTH_DOCS}": (synth["ims"], synth["register"]),
    }


def _hashes(folder: Path) -> dict[str, str]:
    """SHA-256 of every file under `folder`, by its relative path (sorted)."""
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in files
    }


def output_hashes(work: Path) -> dict[str, dict[str, str]]:
    """Run `imsdata run` on each golden input (fresh workspace outside the output folder) and
    hash every file it wrote."""
    from imsdata.cli import app

    result: dict[str, dict[str, str]] = {}
    for name, (ims, register) in _inputs(work).items():
        out = work / name
        args = ["run", str(ims), "--register", str(register), "--out", str(out)]
        args += ["--workspace", str(work / f"{name}.duckdb"), "--period", PERIOD]
        args += ["--generated-at", GENERATED_AT]
        run = CliRunner().invoke(app, args)
        if run.exception is not None and not isinstance(run.exception, SystemExit):
            raise run.exception
        if run.exit_code not in (0, 1):  # 1: done, with rejects or warnings to look at
            raise RuntimeError(f"imsdata {' '.join(args)} exited {run.exit_code}: {run.output}")
        result[name] = _hashes(out)
    return result


def golden() -> dict[str, dict[str, str]]:
    """The stored golden hashes."""
    return json.loads(GOLDEN.read_text())


def main(argv: list[str]) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        current = output_hashes(Path(tmp))
    if "--check" in argv:
        if current != golden():
            print("outputs differ from", GOLDEN)
            return 1
        return 0
    GOLDEN.parent.mkdir(parents=True, exist_ok=True)
    GOLDEN.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n")
    print("wrote", GOLDEN)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
