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


def test_a_run_reading_and_writing_one_thing_at_a_time_writes_the_same_bytes(tmp_path):
    """Batch workers run without the side threads (`side_by_side=False`): the same files."""
    import datetime as dt

    from imsdata.pipeline import run
    from imsdata.sample import sample_paths
    from scripts.update_golden import GENERATED_AT, PERIOD, _hashes

    sample = sample_paths()
    out = tmp_path / "demo"
    run(
        [sample["ims"]],
        sample["register"],
        out_dir=out,
        workspace=tmp_path / "demo.duckdb",
        period=PERIOD,
        generated_at=dt.datetime.fromisoformat(GENERATED_AT).replace(tzinfo=dt.UTC),
        side_by_side=False,
    )
    assert _hashes(out) == golden()["demo"]
