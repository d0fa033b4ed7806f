"""A refactor changes no output: every file `imsdata run` writes for the demo sample and a 10k
synth month (fixed period and generation time) has the SHA-256 stored in golden/hashes.json.

When a change of behaviour changes outputs on purpose: `python scripts/update_golden.py`, and say
so in the commit.
"""

from __future__ import annotations

from scripts.update_golden import golden, output_hashes


def test_run_outputs_are_byte_identical_to_the_golden_hashes(tmp_path):
    current = output_hashes(tmp_path)
    expected = golden()
    assert sorted(current) == sorted(expected)
    for name, files in expected.items():
        assert sorted(current[name]) == sorted(files), f"{name}: other files written"
        changed = [f for f in files if current[name][f] != files[f]]
        assert not changed, (
            f"{name}: {changed} differ from tests/pipeline/golden/hashes.json "
            "(scripts/update_golden.py regenerates them when the change is meant)"
        )
