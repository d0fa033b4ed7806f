"""A synthetic month as the frames reconcile and the rule engine take (through the real readers)."""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path

import polars as pl


@functools.cache
def synth_month(n_docs: int, seed: int = 7) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(IMS documents, register rows) of a synth month of `n_docs` cases, read from its files."""
    from imsdata import decisions as dec
    from imsdata.portal import read as portal_read
    from imsdata.register.reader import read_register
    from imsdata.synth import generate, write

    data = generate(n_docs, seed=seed)
    with tempfile.TemporaryDirectory() as tmp:
        files = write(data, Path(tmp) / "synth")
        ims = portal_read.read([files["ims"]]).documents
        register = read_register(files["register"]).documents
    return dec.with_recipient(ims, data.recipient_gstin), register


@functools.cache
def synth_truth(n_docs: int, seed: int = 7) -> pl.DataFrame:
    """The ground truth of `synth_month(n_docs, seed)`: how each record should reconcile."""
    from imsdata.synth import generate

    return generate(n_docs, seed=seed).truth
