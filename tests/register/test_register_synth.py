"""The synthetic ERP export (imsdata.synth) reads back equal to synth's canonical register."""

from __future__ import annotations

from polars.testing import assert_frame_equal

from imsdata import synth
from imsdata.register import read_register
from imsdata.schemas import REGISTER_COLUMNS
from imsdata.testing import complete


def test_synth_register_csv_reads_back_equal(tmp_path):
    data = synth.generate(600, seed=11)
    paths = synth.write(data, tmp_path)
    result = read_register(paths["register"])
    assert result.rejects.height == 0
    expected = complete(data.register, REGISTER_COLUMNS).sort("source_row")
    assert_frame_equal(result.documents, expected)
    assert set(result.documents["doc_type"]) == {"INV", "DN", "CN"}  # CNs were booked negative
    assert not result.documents["in_scope"].all()
