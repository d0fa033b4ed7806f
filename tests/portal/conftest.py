"""Reader tests run through both parsers: the exact json.loads path and the fast Arrow path."""

import pytest

import imsdata.portal.read as reader


@pytest.fixture(params=["exact", "fast"])
def parser(request, monkeypatch):
    """Force the fast path on (even for tiny files) or off; yields the mode's name."""
    limit = 0 if request.param == "fast" else 10**15
    monkeypatch.setattr(reader, "FAST_PATH_MIN_BYTES", limit)
    return request.param
