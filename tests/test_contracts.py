"""Typed contracts (issue 18): a frame missing a contract column is an error naming it, each
vocabulary is written once and the SQL's lists are generated from it."""

from __future__ import annotations

import polars as pl
import pytest

from imsdata.portal.read import read
from imsdata.reconcile import reconcile
from imsdata.register import read_register
from imsdata.rules import suggest
from imsdata.schemas import (
    ACTION,
    DECISION_COLUMNS,
    DECISION_DEFAULTS,
    MATCH_STATUS,
    REGISTER_COLUMNS,
    Action,
    ContractError,
    MatchStatus,
    conform,
    sql_in,
    total_tax,
)
from imsdata.synth import generate, write
from imsdata.testing import RECIPIENT, ims_frame


def test_a_missing_contract_column_is_an_error_naming_it():
    frame = pl.DataFrame({"doc_key": ["k"], "action": ["accept"]})
    with pytest.raises(ContractError, match="source"):
        conform(frame, DECISION_COLUMNS)


def test_a_column_a_frame_may_lack_is_filled_only_when_named_in_defaults():
    frame = pl.DataFrame({"doc_key": ["k"], "action": ["accept"]})
    out = conform(frame, DECISION_COLUMNS, defaults=DECISION_DEFAULTS)
    assert out.columns == list(DECISION_COLUMNS)
    assert out["source"].null_count() == 1
    with pytest.raises(ContractError, match="action"):
        conform(frame.drop("action"), DECISION_COLUMNS, defaults=DECISION_DEFAULTS)


def test_a_register_frame_without_tax_heads_is_refused_not_read_as_split():
    books = generate(20, seed=3).register.drop("tax_heads")
    with pytest.raises(ContractError, match="tax_heads"):
        conform(books, REGISTER_COLUMNS)


def test_every_status_and_action_the_engines_write_is_in_its_vocabulary(tmp_path):
    paths = write(generate(400, seed=5), tmp_path)
    ims = read([paths["ims"]]).documents
    register = read_register(paths["register"]).documents
    matches = reconcile(ims, register)
    assert matches["match_status"].cast(MATCH_STATUS).null_count() == 0
    suggestions = suggest(ims, matches)
    assert suggestions["action"].cast(ACTION).null_count() == 0
    # a word outside the vocabulary is refused by the dtype, not carried along
    with pytest.raises(pl.exceptions.InvalidOperationError):
        pl.Series(["exact", "matched"]).cast(MATCH_STATUS)
    assert set(matches["match_status"]) <= set(MatchStatus)


def test_sql_in_lists_the_vocabulary_quoted():
    assert sql_in([Action.ACCEPT, Action.NO_ACTION]) == "('accept', 'no_action')"
    assert sql_in(["o'brien"]) == "('o''brien')"


def test_total_tax_counts_a_missing_head_as_zero():
    docs = ims_frame([{"supplier_gstin": RECIPIENT, "igst": "18.00", "sgst": "0", "cess": "1.50"}])
    docs = docs.with_columns(cgst=pl.lit(None, docs["cgst"].dtype))
    assert str(docs.select(total_tax()).item()) == "19.50"
