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


#: The floor's files: the same records as NDJSON, and every record key (for its explicit schema).
NDJSON = "ims_records.ndjson"
KEYS = "ims_keys.json"
#: Wire keys holding money: Float64 in the floor's schema (as cheap as JSON numbers get).
MONEY_KEYS = {"val", "txval", "iamt", "camt", "samt", "cess", "declIgst", "declCgst", "declSgst",
              "declCess"}  # fmt: skip


def write_ndjson(download: dict[str, list], workdir: Path) -> None:
    """The download's records one per line (the floor's input) and the list of their keys."""
    keys: dict[str, None] = {}
    with open(workdir / NDJSON, "w", encoding="utf-8") as fh:
        for records in download.values():
            for rec in records:
                keys.update(dict.fromkeys(rec))
                fh.write(json.dumps(rec, ensure_ascii=False, separators=(",", ":")) + "\n")
    (workdir / KEYS).write_text(json.dumps(list(keys)))


def read_floor(workdir: Path) -> int:
    """The floor: `pl.read_ndjson` of the records, every key typed, no inference; its rows."""
    import polars as pl

    keys = json.loads((workdir / KEYS).read_text())
    schema = {k: pl.Float64 if k in MONEY_KEYS else pl.String for k in keys}
    return pl.read_ndjson(workdir / NDJSON, schema=schema).height
