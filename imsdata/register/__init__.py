"""Read the purchase register from whatever the ERP exported (issue 3).

`read_register(path, mapping=, preset=, id_column=, sheet=)` turns CSV, Excel or Parquet exports
into the canonical register frame (`imsdata.schemas.REGISTER_COLUMNS`) with rejects and
warnings as data. Header spellings live in `spellings.toml`; ERP presets in `presets/*.toml`.
"""

from imsdata.register.mapping import (
    FIELDS,
    SIGN_CONVENTIONS,
    Mapping,
    load_mapping,
    load_preset,
    presets,
)
from imsdata.register.reader import RegisterResult, read_register

__all__ = [
    "FIELDS",
    "SIGN_CONVENTIONS",
    "Mapping",
    "RegisterResult",
    "load_mapping",
    "load_preset",
    "presets",
    "read_register",
]
