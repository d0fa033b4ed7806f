"""Issue 11 on the bundled sample: the demo's upload no longer flips a person's portal action
(b2b and ecom documents went R -> A and R -> P, an accepted one A -> P with a remark)."""

from __future__ import annotations

import json

from imsdata.pipeline import run
from imsdata.sample import sample_paths


def test_sample_upload_never_changes_a_portal_accept_or_reject_and_has_no_reset(tmp_path):
    paths = sample_paths()
    result = run([paths["ims"]], paths["register"], out_dir=tmp_path, workspace=tmp_path / "w")
    records = []
    for path in sorted((tmp_path / "upload").glob("*.json")):
        payload = json.loads(path.read_text())
        assert payload["reqtyp"] == "SAVE", path.name  # no rule-made RESET
        records += [r for recs in payload["invdata"].values() for r in recs]
    assert records
    flips = [
        r for r in records if r["prev_status"] in ("A", "R") and r["action"] != r["prev_status"]
    ]
    assert flips == []
    assert not [r for r in records if r["action"] == "A" and "remarks" in r]
    # the rule suggestions it held back are listed, not lost
    assert result.conflicts.height > 0
    assert set(result.conflicts["portal_action"]) <= {"A", "R", "P"}
