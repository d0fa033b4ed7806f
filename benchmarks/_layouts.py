"""The same IMS download in the layouts users have: one line, one record per line, pretty.

One line is what the portal sends; one record per line is what many API clients and GSP
wrappers save; pretty (`json.dumps(indent=2)`) is what editors and people save.
"""

from __future__ import annotations

import json
from pathlib import Path

#: Layout name -> file name; `one_line` is written by `imsdata.synth` itself.
LAYOUTS = {"one_line": "ims_download.json", "per_line": "ims_per_line.json",
           "pretty": "ims_pretty.json"}  # fmt: skip


def write_layouts(download: dict[str, list], workdir: Path) -> dict[str, Path]:
    """Write the per-line and pretty copies of `download` beside the one-line file."""
    paths = {name: workdir / file for name, file in LAYOUTS.items()}
    with open(paths["per_line"], "w", encoding="utf-8") as fh:
        fh.write("{\n")
        for i, (key, records) in enumerate(download.items()):
            fh.write(("\n],\n" if i else "") + json.dumps(key) + ": [\n")
            for j, rec in enumerate(records):
                fh.write((",\n" if j else "") + json.dumps(rec, ensure_ascii=False))
        fh.write("\n]\n}\n")
    with open(paths["pretty"], "w", encoding="utf-8") as fh:
        json.dump(download, fh, ensure_ascii=False, indent=2)
    return paths
