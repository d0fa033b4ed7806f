"""`imsdata run` month after month (issue 14): the register of each month is kept with its
period, and the next month reconciles against every month's books."""

from __future__ import annotations

import polars as pl

from imsdata.fileio import write_frame
from imsdata.pipeline import run
from imsdata.synth import FILES, generate, write


def test_a_second_month_pairs_with_the_first_months_books_and_flags_claims(tmp_path):
    data = generate(300, seed=21, months=2)  # books of 09-2025 and 10-2025, IMS of 10-2025
    paths = write(data, tmp_path / "month")
    raw = pl.read_csv(paths["register"], infer_schema=False)
    booked = dict(data.register.select("register_id", "book_period").iter_rows())
    ws, out = tmp_path / "ws.duckdb", tmp_path / "out"
    for period in ("092025", "102025"):
        rows = raw.filter(pl.col("Voucher No").replace_strict(booked, default=None) == period)
        register = tmp_path / f"{period}_{FILES['register']}"
        write_frame(rows, register)
        result = run([paths["ims"]], register, out_dir=out / period, workspace=ws, period=period)
    matches = result.matches
    september = {r for r, p in booked.items() if p == "092025"}
    paired_earlier = matches.filter(pl.col("register_id").is_in(september))
    # documents booked in September pair with that booking in October and say so
    assert paired_earlier.height > 0
    assert paired_earlier.filter(pl.col("doc_key").is_null()).height == 0  # not reported again
    assert paired_earlier["reasons"].str.contains("booked in 09-2025").all()
    # those September's run paired and accepted are flagged, and the default rule keeps them
    claimed = matches.filter(pl.col("already_claimed"))
    assert claimed.height > 0
    assert set(claimed["register_id"]) <= september
    kept = result.suggestions.join(claimed.select("doc_key"), on="doc_key")
    assert set(kept["rule_id"]) <= {
        "r_already_claimed", "r_already_claimed_blocked", "r_superseded", "r_keep_accepted",
        "r_keep_rejected", "r_keep_pending",
    }  # fmt: skip
    assert "r_already_claimed" in set(kept["rule_id"])
