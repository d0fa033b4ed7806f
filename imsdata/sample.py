"""The small bundled sample (data/sample/, shipped in the wheel as imsdata/_sample_data)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

IMS_FILE = "ims_download.json"
REGISTER_FILE = "purchase_register.csv"
TRUTH_FILE = "truth.csv"


def sample_dir() -> Path:
    """The folder holding the sample: inside the installed package, else the source checkout."""
    packaged = Path(str(resources.files("imsdata") / "_sample_data"))
    if (packaged / IMS_FILE).exists():
        return packaged
    return Path(__file__).resolve().parent.parent / "data" / "sample"


def sample_paths() -> dict[str, Path]:
    """Paths of the sample IMS download, purchase register and ground truth."""
    root = sample_dir()
    return {"ims": root / IMS_FILE, "register": root / REGISTER_FILE, "truth": root / TRUTH_FILE}
