"""Shared test setup: pandera validates data (not only schemas) everywhere."""

import os

os.environ.setdefault("PANDERA_VALIDATION_DEPTH", "SCHEMA_AND_DATA")
