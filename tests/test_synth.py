"""The synthetic data generator: deterministic, complete, consistent with its ground truth."""

import datetime as dt
import io
import json
import subprocess
import sys
from decimal import Decimal

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from typer.testing import CliRunner

from imsdata import gstin
from imsdata.cli import app
from imsdata.errors import UsageError
from imsdata.portal.read import read
from imsdata.portal.sections import SECTIONS
from imsdata.register import read_register
from imsdata.sample import sample_paths
from imsdata.schemas import MATCH_STATUSES, REGISTER_COLUMNS
from imsdata.synth import KINDS, REGISTER_RAW_COLUMNS, SynthData, _dump_compact, generate, write


@pytest.fixture(scope="module")
def data() -> SynthData:
    return generate(2000, seed=11)


def ims_records(data: SynthData) -> pl.DataFrame:
    """The download flattened to one row per record, with its doc_key."""
    rows = []
    for key, records in data.download.items():
        sec = SECTIONS[key]
        for rec in records:
            rows.append(
                {
                    "section": key,
                    "stin": rec["stin"],
                    "number": rec[sec.number_key],
                    "date": dt.datetime.strptime(rec[sec.date_key], "%d-%m-%Y").date(),
                    "orig_number": rec.get(sec.orig_number_key or ""),
                    **{k: rec[k] for k in ("pos", "txval", "iamt", "camt", "samt", "cess", "val")},
                }
            )
    frame = pl.DataFrame(rows, infer_schema_length=None)
    return frame.with_columns(
        doc_key=pl.concat_str(
            "section", "stin", "number", pl.col("date").dt.strftime("%Y-%m-%d"), separator="|"
        )
    )


def pairs(data: SynthData, kind: str) -> pl.DataFrame:
    """Truth pairs of one kind joined to both sides."""
    ims = ims_records(data)
    return (
        data.truth.filter(pl.col("kind") == kind, pl.col("register_id").is_not_null())
        .join(ims, on="doc_key")
        .join(data.register, on="register_id")
    )


# --- determinism -----------------------------------------------------------------------------
def test_same_seed_writes_byte_identical_files(tmp_path):
    first = write(generate(300, seed=5), tmp_path / "a")
    second = write(generate(300, seed=5), tmp_path / "b")
    other = write(generate(300, seed=6), tmp_path / "c")
    for key in ("ims", "register", "truth"):
        assert first[key].read_bytes() == second[key].read_bytes(), key
        assert first[key].read_bytes() != other[key].read_bytes(), key


# --- coverage --------------------------------------------------------------------------------
def test_every_kind_and_every_section_present_at_2k_docs(data):
    kinds = set(data.truth.get_column("kind").unique().to_list())
    assert kinds == set(KINDS) | {"amended_original"}
    # every section but the import bills of entry, which synth does not make
    assert set(data.download) == {k for k, s in SECTIONS.items() if s.doc_type != "BOE"}


def test_mix_replaces_the_default_and_rejects_unknown_kinds():
    only = generate(50, seed=1, mix={"clean": 1.0, "near_miss": 1.0})
    assert set(only.truth.get_column("kind").unique().to_list()) == {"clean", "near_miss"}
    with pytest.raises(UsageError, match="unknown kind"):
        generate(10, mix={"bogus": 1.0})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"period": "132025"}, "MMYYYY"),
        ({"recipient_gstin": "27AAPFU0939F1ZW"}, "not a valid GSTIN"),
    ],
)
def test_bad_arguments_are_usage_errors(kwargs, message):
    with pytest.raises(UsageError, match=message):
        generate(10, **kwargs)


# --- truth consistency -----------------------------------------------------------------------
def test_every_record_and_register_row_is_in_truth_exactly_once(data):
    ims = ims_records(data)
    truth = data.truth
    ims_keys = truth.get_column("doc_key").drop_nulls()
    reg_keys = truth.get_column("register_id").drop_nulls()
    assert ims_keys.is_unique().all()
    assert reg_keys.is_unique().all()
    assert sorted(ims_keys.to_list()) == sorted(ims.get_column("doc_key").to_list())
    assert sorted(reg_keys.to_list()) == sorted(data.register.get_column("register_id").to_list())
    assert set(truth.get_column("expected_status").unique().to_list()) <= set(MATCH_STATUSES)


def test_unpaired_rows_have_the_missing_status_of_their_side(data):
    truth = data.truth
    ims_only = truth.filter(pl.col("register_id").is_null())
    reg_only = truth.filter(pl.col("doc_key").is_null())
    assert set(ims_only.get_column("expected_status").to_list()) == {"missing_in_register"}
    assert set(reg_only.get_column("expected_status").to_list()) == {"missing_in_ims"}
    both = truth.filter(pl.col("doc_key").is_not_null() & pl.col("register_id").is_not_null())
    assert not both.get_column("expected_status").str.starts_with("missing").any()


# --- the portal side -------------------------------------------------------------------------
def test_download_records_carry_the_registry_keys(data):
    for key, records in data.download.items():
        sec = SECTIONS[key]
        for rec in records:
            assert set(sec.identity_keys) <= rec.keys()
            assert len(rec[sec.number_key]) <= 16
            assert len(rec["hash"]) == 64
            assert int(rec["hash"], 16) >= 0
            assert ("isItcRedReqBlocked" in rec) is sec.itc_reduction


def test_portal_flags_are_consistent_with_the_portal_rules(data):
    records = [rec for recs in data.download.values() for rec in recs]
    assert not [r for r in records if r["ispendactblocked"] == "Y" and r["action"] == "P"]
    declared = [r for r in records if "itcRedReq" in r]
    assert declared, "some accepted notes carry an ITC-reduction declaration"
    assert all(r["action"] == "A" and r["isItcRedReqBlocked"] == "N" for r in declared)
    assert all(r["declCgst"] == r["declSgst"] for r in declared if r["itcRedReq"] == "Y")
    remarked = [r for r in records if "remarks" in r]
    assert remarked
    assert all(r["action"] in "RP" and r["isRemarksBlocked"] == "N" for r in remarked)
    assert {r["srcfilstatus"] for r in records} == {"Filed", "Not Filed"}
    filed = sum(r["srcfilstatus"] == "Filed" for r in records) / len(records)
    assert 0.8 < filed < 0.97


def test_numbers_are_unique_per_supplier_and_dates_sit_around_the_period(data):
    ims = ims_records(data).join(data.truth.select("doc_key", "kind"), on="doc_key")
    assert ims.select("stin", "number").is_unique().all()
    start, end = dt.date(2025, 10, 1), dt.date(2025, 10, 31)
    in_period = ims["date"].is_between(start, end).mean()
    assert 0.5 < in_period < 0.9
    assert (ims["date"] >= dt.date(2025, 4, 1)).all()
    assert set(ims.filter(pl.col("date") > end)["kind"]) == {"future_dated"}


def test_document_types_have_their_shares(data):
    shares = data.register["doc_type"].value_counts(normalize=True)
    share = dict(zip(shares["doc_type"], shares["proportion"], strict=True))
    assert 0.05 < share["CN"] < 0.2
    assert 0.01 < share["DN"] < 0.08
    assert share["INV"] > 0.75


def test_gstins_are_valid(data):
    ims = ims_records(data)
    gstins = [*ims.get_column("stin").to_list(), data.recipient_gstin]
    gstins += data.register.get_column("supplier_gstin").drop_nulls().to_list()
    gstins += data.register.get_column("recipient_gstin").to_list()
    bad = [g for g in set(gstins) if not (gstin.is_valid_format(g) and gstin.has_valid_check(g))]
    assert bad == []


def test_tax_heads_follow_the_states(data):
    ims = ims_records(data)
    intra = ims.filter(pl.col("stin").str.slice(0, 2) == pl.col("pos"))
    inter = ims.filter(pl.col("stin").str.slice(0, 2) != pl.col("pos"))
    assert intra.height
    assert inter.height
    assert (intra["iamt"] == 0).all()
    assert (intra["camt"] == intra["samt"]).all()
    assert (inter["camt"] == 0).all()
    assert (inter["samt"] == 0).all()
    assert (inter["iamt"] > 0).all()


def test_written_amounts_have_at_most_two_decimals(tmp_path):
    paths = write(generate(400, seed=3), tmp_path)
    doc = json.loads(paths["ims"].read_text(), parse_float=Decimal)
    values = [
        v
        for records in doc.values()
        for rec in records
        for k, v in rec.items()
        if k in {"val", "txval", "iamt", "camt", "samt", "cess"} or k.startswith("decl")
    ]
    assert values
    assert all(Decimal(v).as_tuple().exponent >= -2 for v in values)
    assert all(v >= 0 for v in values)
    raw = pl.read_csv(paths["register"], infer_schema=False)
    assert raw.get_column("Taxable Value").str.contains(r"^-?\d+\.\d{2}$").all()


# --- the register ----------------------------------------------------------------------------
def test_register_frames_have_their_contracts(data):
    assert data.register.schema == pl.Schema(REGISTER_COLUMNS)
    assert tuple(data.register_raw.columns) == REGISTER_RAW_COLUMNS
    assert data.register_raw.height == data.register.height
    assert (data.register.get_column("taxable_value") > 0).all()
    out = data.register.filter(~pl.col("in_scope"))
    assert out.height
    assert out.get_column("scope_reason").is_not_null().all()
    assert (out["supplier_gstin"].is_null() | out["reverse_charge"]).all()


def test_register_raw_books_credit_notes_negative(data):
    raw = data.register_raw.with_columns(
        pl.col("Taxable Value", "Invoice Value").cast(pl.Decimal(18, 2))
    )
    notes = raw.filter(pl.col("Voucher Type") == "Credit Note")
    others = raw.filter(pl.col("Voucher Type") != "Credit Note")
    assert notes.height
    assert (notes["Taxable Value"] < 0).all()
    assert (notes["Invoice Value"] < 0).all()
    assert (others["Taxable Value"] > 0).all()
    assert set(raw["Voucher Type"].unique()) == {"Purchase", "Debit Note", "Credit Note"}


# --- the kinds keep their promises -----------------------------------------------------------
def test_rounding_pairs_differ_by_at_most_one_rupee(data):
    p = pairs(data, "rounding")
    diff = (p["val"].cast(pl.Decimal(18, 2)) - p["doc_value"]).abs()
    assert ((diff > 0) & (diff <= 1)).all()


def test_amount_mismatch_pairs_differ_beyond_tolerance(data):
    p = pairs(data, "amount_mismatch").with_columns(
        tax=pl.col("iamt") + pl.col("camt") + pl.col("samt"),
        reg_tax=pl.col("igst") + pl.col("cgst") + pl.col("sgst"),
    )
    assert ((p["tax"] - p["reg_tax"].cast(pl.Float64)).abs() > 1).all()
    assert (p["number"] == p["doc_number"]).all()


def test_date_shift_pairs_are_one_to_nine_days_apart(data):
    days = pairs(data, "date_shift").select((pl.col("date") - pl.col("doc_date")).dt.total_days())
    assert days.to_series().abs().is_between(1, 9).all()


def test_branch_and_recipient_errors_keep_the_pan(data):
    branch = pairs(data, "other_branch")
    assert (branch["stin"] != branch["supplier_gstin"]).all()
    assert (branch["stin"].str.slice(2, 10) == branch["supplier_pan"]).all()
    wrong = pairs(data, "wrong_recipient")
    assert (wrong["recipient_gstin"] != data.recipient_gstin).all()
    assert (wrong["recipient_gstin"].str.slice(2, 10) == data.recipient_gstin[2:12]).all()


def test_amendments_are_booked_under_the_original_number(data):
    p = pairs(data, "amendment")
    assert p.height
    assert p["section"].is_in([k for k, s in SECTIONS.items() if s.is_amendment]).all()
    assert (p["orig_number"] == p["doc_number"]).all()
    assert (p["number"] != p["doc_number"]).all()


def test_class_traps_and_near_misses_share_supplier_and_amount_not_the_document(data):
    ims = ims_records(data)
    for kind in ("class_trap", "near_miss"):
        truth = data.truth.filter(pl.col("kind") == kind)
        left = truth.join(ims, on="doc_key").sort("stin", "val")
        right = truth.join(data.register, on="register_id").sort("supplier_gstin", "doc_value")
        assert left.height == right.height > 0
        assert left["stin"].to_list() == right["supplier_gstin"].to_list()
        assert left["val"].to_list() == right["doc_value"].cast(pl.Float64).to_list()
        if kind == "near_miss":
            assert not set(zip(left["stin"], left["number"], strict=True)) & set(
                zip(right["supplier_gstin"], right["doc_number"], strict=True)
            )
        else:
            assert (left["section"] == "b2bcn").all()
            assert (right["doc_type"] == "INV").all()


def test_duplicate_booking_pairs_the_earlier_voucher(data):
    dup = data.truth.filter(pl.col("kind") == "duplicate_booking")
    paired = dup.filter(pl.col("doc_key").is_not_null())
    extra = dup.filter(pl.col("doc_key").is_null())
    assert paired.height == extra.height > 0
    assert (paired["register_id"].sort() < extra["register_id"].sort()).all()


def test_future_dated_documents_fall_after_the_period(data):
    p = pairs(data, "future_dated")
    assert (p["date"] > dt.date(2025, 10, 31)).all()
    assert (p["expected_status"] == "exact").all()


# --- files and CLI ---------------------------------------------------------------------------
def test_cli_writes_the_three_files(tmp_path):
    result = CliRunner().invoke(
        app, ["synth", "--docs", "120", "--seed", "2", "--out", str(tmp_path), "--period", "092025"]
    )
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["ims_download.json", "purchase_register.csv", "truth.csv"]
    assert "ims_download.json" in result.output
    doc = json.loads((tmp_path / "ims_download.json").read_text())
    assert {rec["rtnprd"] for rec in doc["b2b"]} >= {"092025"}


def test_cli_rejects_a_bad_period(tmp_path):
    result = CliRunner().invoke(
        app, ["synth", "--docs", "5", "--out", str(tmp_path), "--period", "2025"]
    )
    assert result.exit_code != 0
    assert isinstance(result.exception, UsageError)
    assert not list(tmp_path.iterdir())


def test_compact_json_holds_the_same_download_as_the_pretty_one(tmp_path, data):
    pretty = write(data, tmp_path / "pretty", pretty=True)["ims"]
    compact = write(data, tmp_path / "compact", pretty=False)["ims"]
    assert len(compact.read_text().splitlines()) == 1
    assert json.loads(compact.read_text()) == json.loads(pretty.read_text()) == data.download


# --- the readers take it as it is ------------------------------------------------------------
def test_written_download_reads_back_with_no_rejects(tmp_path, data):
    result = read(write(data, tmp_path)["ims"])
    assert result.rejects.is_empty()
    assert result.warnings.is_empty()
    assert sorted(result.documents["doc_key"]) == sorted(data.truth["doc_key"].drop_nulls())
    amended = result.documents.filter(pl.col("is_amendment"))
    assert amended.height
    assert amended["orig_doc_number"].is_not_null().all()


def test_written_register_reads_back_as_the_canonical_frame(tmp_path, data):
    result = read_register(write(data, tmp_path)["register"])
    assert result.rejects.is_empty()
    assert_frame_equal(
        result.documents.sort("source_row").drop("source_file"),
        data.register.drop("source_file"),
    )


# --- the bundled sample ----------------------------------------------------------------------
def test_bundled_sample_is_what_make_sample_generates(tmp_path):
    from scripts.make_sample import DOCS, MIX, SEED, coverage_gaps

    data = generate(DOCS, seed=SEED, mix=MIX)
    assert coverage_gaps(data) == []
    fresh = write(data, tmp_path, pretty=True)
    for key, path in fresh.items():
        committed = sample_paths()[key]
        assert committed.read_bytes() == path.read_bytes(), f"run scripts/make_sample.py ({key})"


def test_cli_bad_period_is_one_line_and_exit_code_2(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "imsdata", "synth", "--docs", "5", "--out", str(tmp_path),
         "--period", "2025"],
        capture_output=True, text=True, check=False, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "error: synth: period must be MMYYYY (e.g. 102025), got '2025'"
    ]


def test_compact_json_is_valid_across_chunk_boundaries(data):
    buffer = io.StringIO()
    _dump_compact(data.download, buffer, chunk=7)
    assert json.loads(buffer.getvalue()) == data.download
