"""Reading an edited review workbook back (fastexcel) into `excel` decisions, checked by the
rule guards."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

from imsdata import decisions as dec
from imsdata.errors import GuardError, InputError
from imsdata.fileio import check_workbook
from imsdata.portal.sections import SECTIONS
from imsdata.portal.write import current_decisions
from imsdata.review.layout import (
    _GSTIN_CELL,
    _LABEL_TO_ACTION,
    _PERIOD_CELL,
    ACTION,
    ACTION_LABELS,
    DECLARATION_COLUMNS,
    DOC_KEY,
    HOME,
    ITC_REDUCTION,
    REASON,
    REMARKS,
    WRITTEN_ACTION,
    WRITTEN_REMARKS,
    WRITTEN_SUFFIX,
)
from imsdata.schemas import (
    DECISION_COLUMNS,
    DECISION_DEFAULTS,
    MONEY,
    Action,
    DecisionSource,
    conform,
)


def _read_home(reader: Any, path: Path) -> tuple[str | None, str | None]:
    """GSTIN and period from the Home sheet (as text)."""
    if HOME not in reader.sheet_names:
        raise InputError(f"{path}: not an imsdata review workbook (no {HOME} sheet)")
    home = reader.load_sheet(HOME, header_row=None, dtypes="string").to_polars()

    def cell(rc: tuple[int, int]) -> str | None:
        r, c = rc
        if home.height <= r or home.width <= c:
            return None
        v = home[r, c]
        return None if v is None else str(v).strip()

    return cell(_GSTIN_CELL), cell(_PERIOD_CELL)


def _read_sheets(reader: Any, path: Path) -> pl.DataFrame:
    """Every section sheet's doc_key, action and remarks (new and as written), with sheet/row."""
    by_sheet = {s.api_param: s for s in SECTIONS.values()}
    wanted = [DOC_KEY, ACTION, REMARKS, WRITTEN_ACTION, WRITTEN_REMARKS]
    frames = []
    for name in reader.sheet_names:
        if name not in by_sheet:
            continue
        sheet = reader.load_sheet(name, dtypes="string").to_polars()
        missing = [c for c in wanted if c not in sheet.columns]
        if missing:
            raise InputError(f"{path}: sheet {name}: column(s) missing: {', '.join(missing)}")
        if REASON not in sheet.columns:  # a workbook written before the Reason column
            sheet = sheet.with_columns(pl.lit(None, pl.String).alias(REASON))
        declaration = [*DECLARATION_COLUMNS, *(h + WRITTEN_SUFFIX for h in DECLARATION_COLUMNS)]
        has_declaration = by_sheet[name].itc_reduction
        if has_declaration:
            missing = [c for c in declaration if c not in sheet.columns]
            if missing:
                raise InputError(f"{path}: sheet {name}: column(s) missing: {', '.join(missing)}")
        frames.append(
            sheet.select(
                *wanted,
                REASON,
                *[
                    pl.col(c) if has_declaration else pl.lit(None, pl.String).alias(c)
                    for c in declaration
                ],
                has_declaration=pl.lit(has_declaration),
            )
            .with_row_index("row", offset=2)
            .with_columns(sheet=pl.lit(name), sheet_section=pl.lit(by_sheet[name].key))
        )
    texts = [
        *wanted,
        REASON,
        *DECLARATION_COLUMNS,
        *(h + WRITTEN_SUFFIX for h in DECLARATION_COLUMNS),
    ]
    if not frames:  # nothing needed review when it was written: no rows, no decisions
        schema = {c: pl.String() for c in texts}
        frames.append(
            pl.DataFrame(
                schema={**schema, "has_declaration": pl.Boolean(), "row": pl.UInt32(),
                        "sheet": pl.String()}
            ).with_columns(sheet_section=pl.lit(None, pl.String))
        )  # fmt: skip
    blank = {c: pl.col(c).cast(pl.String).str.strip_chars().replace("", None) for c in texts}
    return pl.concat(frames).with_columns(**blank)


def _problems(rows: pl.DataFrame, ims: pl.DataFrame) -> pl.DataFrame:
    """One row (sheet, row, reason) per problem in the edited rows; empty when all is well."""
    known = ims.select("doc_key", pl.col("section").alias("ims_section"), pl.lit(True).alias("_k"))
    checked = rows.join(known, left_on=DOC_KEY, right_on="doc_key", how="left").with_columns(
        _bad_itc=pl.col(ITC_REDUCTION).is_not_null()
        & ~pl.col(ITC_REDUCTION).str.to_uppercase().is_in(["Y", "N"]),
        _bad_amount=pl.coalesce(
            pl.when(pl.col(h).is_not_null() & pl.col(f"_{c}").is_null()).then(
                pl.format("{} '{}'", pl.lit(h), pl.col(h))
            )
            for h, c in DECLARATION_COLUMNS.items()
            if c != "itc_reduction"
        ),
    )
    labels = ", ".join(ACTION_LABELS.values())
    return (
        checked.with_columns(dup=pl.len().over(DOC_KEY) > 1)
        .select(
            "sheet",
            "row",
            reason=pl.when(pl.col(DOC_KEY).is_null())
            .then(pl.lit("row has no document key (rows cannot be added)"))
            .when(pl.col("_k").is_null())
            .then(pl.format("unknown document {} (not in the IMS snapshot)", pl.col(DOC_KEY)))
            .when(pl.col("ims_section") != pl.col("sheet_section"))
            .then(pl.format("document {} belongs to another section", pl.col(DOC_KEY)))
            .when(pl.col("dup"))
            .then(pl.format("document {} appears more than once", pl.col(DOC_KEY)))
            .when(pl.col("new_action").is_null() & pl.col(ACTION).is_not_null())
            .then(pl.format("action '{}' is not one of {}", pl.col(ACTION), pl.lit(labels)))
            .when(pl.col(ACTION).is_null())
            .then(pl.lit(f"action is empty (choose one of {labels})"))
            .when(pl.col("_bad_itc"))
            .then(pl.format("{} '{}' must be Y or N", pl.lit(ITC_REDUCTION), pl.col(ITC_REDUCTION)))
            .when(pl.col("_bad_amount").is_not_null())
            .then(pl.format("{} is not an amount", pl.col("_bad_amount"))),
        )
        .filter(pl.col("reason").is_not_null())
        .sort("sheet", "row")
    )


def read_review(
    path: str | Path,
    ims: pl.DataFrame,
    *,
    rtin: str,
    period: str,
    matches: pl.DataFrame | None = None,
    decisions: pl.DataFrame | None = None,
    user: str | None = None,
    rules: Any = None,
) -> pl.DataFrame:
    """Decisions (source `excel`) for the rows whose Action or Remarks were changed.

    Refuses (InputError naming sheet, row and reason) a workbook for another GSTIN or period, an
    unknown document or action; GuardError when a portal guard forbids a changed decision. With
    `decisions`, an ITC declaration already decided is carried over to the new decision.
    """
    import fastexcel

    p = Path(path)
    check_workbook(p, "review workbook")  # bounded before the Excel engine reads it
    try:
        reader = fastexcel.read_excel(p)
    except FileNotFoundError:
        raise InputError(f"{p}: file not found") from None
    except Exception as exc:  # fastexcel raises its own error types for non-workbooks
        raise InputError(f"{p}: not a readable .xlsx workbook ({exc})") from None
    gstin, wb_period = _read_home(reader, p)
    if gstin != rtin:
        raise InputError(f"{p}: workbook is for GSTIN {gstin}, not {rtin}")
    if wb_period != period:
        raise InputError(f"{p}: workbook is for period {wb_period}, not {period}")
    rows = _read_sheets(reader, p).with_columns(
        new_action=pl.col(ACTION)
        .str.to_lowercase()
        .replace_strict(_LABEL_TO_ACTION, default=None, return_dtype=pl.String),
        old_action=pl.col(WRITTEN_ACTION)
        .str.to_lowercase()
        .replace_strict(_LABEL_TO_ACTION, default=None, return_dtype=pl.String),
    )
    rows = rows.with_columns(
        (
            pl.col(h)
            .str.replace_all(",", "")
            .cast(pl.Float64, strict=False)
            .round(2)
            .cast(MONEY, strict=False)
            .alias(f"_{c}")
            for h, c in DECLARATION_COLUMNS.items()
            if c != "itc_reduction"
        )
    )
    problems = _problems(rows, ims)
    if not problems.is_empty():
        shown = "; ".join(
            f"sheet {r['sheet']} row {r['row']}: {r['reason']}"
            for r in problems.head(10).iter_rows(named=True)
        )
        more = f"; and {problems.height - 10} more" if problems.height > 10 else ""
        raise InputError(f"{p}: {problems.height} problem(s): {shown}{more}")
    declaration_edited = pl.any_horizontal(
        pl.col(h).ne_missing(pl.col(h + WRITTEN_SUFFIX)) for h in DECLARATION_COLUMNS
    )
    changed = rows.filter(
        pl.col("new_action").ne_missing(pl.col("old_action"))
        | pl.col(REMARKS).ne_missing(pl.col(WRITTEN_REMARKS))
        | declaration_edited
    ).with_columns(_declaration_edited=declaration_edited)
    if decisions is not None and not decisions.is_empty():
        # Importing the same workbook again changes nothing: rows already decided this way go.
        cur = current_decisions(decisions).select(
            pl.col("doc_key").alias(DOC_KEY),
            pl.col("action").alias("_cur_action"),
            pl.col("remarks").alias("_cur_remarks"),
        )
        changed = changed.join(cur, on=DOC_KEY, how="left").filter(
            ~(
                pl.col("new_action").eq_missing(pl.col("_cur_action"))
                & pl.col(REMARKS).eq_missing(pl.col("_cur_remarks"))
                & ~pl.col("_declaration_edited")
            )
        )
    # A remark goes only with the action it was written for: when the Action changed and the
    # Remarks cell was left as written (the suggestion's or the earlier decision's), it is
    # dropped; a remark the person wrote or edited is theirs and goes.
    kept_remark = pl.col(REMARKS).eq_missing(pl.col(WRITTEN_REMARKS))
    action_changed = pl.col("new_action").ne_missing(pl.col("old_action"))
    out = changed.select(
        pl.col(DOC_KEY).alias("doc_key"),
        pl.col("new_action").alias("action"),
        source=pl.lit(DecisionSource.EXCEL),
        # only a person's own words count as the reason that overrides a guard
        reason=pl.when(pl.col(REASON).is_not_null()).then(
            pl.format("{} (edited in {}, sheet {} row {})", REASON, pl.lit(p.name), "sheet", "row")
        ),
        remarks=pl.when(action_changed & kept_remark).then(None).otherwise(pl.col(REMARKS)),
        user=pl.lit(user, pl.String),
        _place=pl.format("sheet {} row {}", "sheet", "row"),
    )
    places = out.select("doc_key", place="_place")
    out = out.drop("_place")
    # The declaration: the sheet's on the sheets of specified records (R5), with Accept only;
    # elsewhere one already decided is carried over to an Accept.
    itc = list(DECLARATION_COLUMNS.values())
    sheet_itc = changed.select(
        pl.col(DOC_KEY).alias("doc_key"),
        pl.col("has_declaration").alias("_from_sheet"),
        pl.col("_declaration_edited").alias("_edited"),
        pl.col(ITC_REDUCTION).str.to_uppercase().alias("_s_itc_reduction"),
        *[pl.col(f"_{c}").alias(f"_s_{c}") for c in itc if c != "itc_reduction"],
    )
    out = out.join(sheet_itc, on="doc_key", how="left")
    if decisions is not None and not decisions.is_empty():
        prior = current_decisions(decisions).select(
            "doc_key",
            *itc,
            pl.col("action").alias("_prior_action"),
            # a person's reason stays with the action it was given for (e.g. a remarks edit
            # of an accepted document that overrode a guard needs no new reason)
            pl.when(pl.col("source").is_in(dec.HUMAN_SOURCES))
            .then(pl.col("reason"))
            .alias("_prior_reason"),
        )
        out = (
            out.join(prior, on="doc_key", how="left")
            .with_columns(
                reason=pl.coalesce(
                    "reason",
                    pl.when(pl.col("action") == pl.col("_prior_action")).then("_prior_reason"),
                )
            )
            .drop("_prior_action", "_prior_reason")
        )
    else:
        out = out.with_columns(
            pl.lit(None, pl.String if c == "itc_reduction" else MONEY).alias(c) for c in itc
        )
    accepted = pl.col("action") == Action.ACCEPT
    from_sheet = pl.col("_from_sheet").fill_null(False)
    # a declaration left as written goes only with an Accept; one the user edited is kept, so
    # the guards refuse it with a reason when it does not go with the action
    out = out.with_columns(
        pl.when(from_sheet & (accepted | pl.col("_edited").fill_null(False)))
        .then(pl.col(f"_s_{c}"))
        .when(~from_sheet & accepted)
        .then(pl.col(c))
        .alias(c)
        for c in itc
    )
    result = conform(out.sort("doc_key"), DECISION_COLUMNS, defaults=DECISION_DEFAULTS)
    if not result.is_empty():
        # the same guards, the same way as `decide` (imsdata.decisions)
        violations = dec.check(ims, result, matches=matches, rules=rules, period=period)
        if violations.height:
            error = GuardError(
                dec.refusal(
                    violations,
                    f"{p.name} refused",
                    where=places,
                    hint="fill in the Reason column to override",
                )
            )
            error.violations = violations
            raise error
    return result
