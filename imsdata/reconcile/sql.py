"""The reconciliation SQL as small named steps (plain SQL; engine-specific bits in `Dialect`).

Inputs (registered by `imsdata.reconcile.match`; every table of ours is prefixed `rec_` so a
caller's engine, e.g. the workspace file, keeps its own names): `rec_ims_docs` (one row per IMS
document, id `i_id`), `rec_ims_keys` (one row per number a document can be found by: its own, and
an amendment's original, and the glued keys of either where they differ), `rec_reg_rows`
(in-scope register rows, id `r_id`) and `rec_reg_glued` (the register rows that also have glued
keys, one row per key). Every key table carries `num_norm`, `num_core` and `block` (the numeric
core, or '#'+key when the number has no digits): candidates are only ever generated within a
block, so numbers whose serials (numeric cores) differ never meet.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from imsdata.dialects import DUCKDB, Dialect
from imsdata.reconcile.tolerances import Tolerances
from imsdata.schemas import (
    AMOUNT_HEADS,
    SPLIT_HEADS,
    TAX_HEADS,
    MatchStatus,
    sql_in,
    total_tax_sql,
)

#: Words for each amount field in reasons.
LABELS: dict[str, str] = {
    "taxable_value": "taxable value",
    "igst": "IGST",
    "cgst": "CGST",
    "sgst": "SGST",
    "cess": "cess",
    "doc_value": "document value",
    "total_tax": "total tax",
}
# The 0-100 score (it ranks candidates; the status comes from the tests, not the score).
#: The number carries most weight: it is what identifies a document.
W_NUMBER_RAW = 40
#: The same number after normalisation: a respelling, almost as sure as the raw number.
W_NUMBER_NORMALISED = 36
#: A fuzzy number scores a base plus a share of its similarity, below any normalised number.
W_NUMBER_FUZZY_BASE = 20
W_NUMBER_FUZZY_SIMILARITY = 12
#: Different numbers (explain only) score their similarity, below any fuzzy number.
W_NUMBER_DIFFERENT_SIMILARITY = 15
#: Found through an amendment's original number: slightly less direct than its own number.
P_ORIGINAL_NUMBER = 2
#: The amounts weigh as much as the number, shared equally by the amount tests that passed.
W_AMOUNTS = 40
#: Any difference at all, even within tolerance, ranks below an identical candidate.
P_ANY_AMOUNT_GAP = 2
#: The same date; within the window the date loses up to W_DATE_DECAY as the gap grows, and
#: outside it a little is kept for each month closer (W_DATE_FAR at most).
W_DATE_SAME = 15
W_DATE_IN_WINDOW = 14
W_DATE_DECAY = 9
W_DATE_FAR = 4
#: Both sides name the same supplier GSTIN and recipient: the parties agree.
W_SAME_PARTIES = 5
#: Another document class (an invoice against a credit note) is never the same document.
P_OTHER_CLASS = 30


# The engine-specific expressions live in `imsdata.dialects` (one class per engine); re-exported
# here for callers that import them from the SQL module.
__all__ = ["DUCKDB", "Dialect"]


def _lit(value: Decimal) -> str:
    return f"CAST('{value}' AS DECIMAL(18,4))"


def within(diff: str, ims_value: str, abs_tol: Decimal, pct_tol: Decimal) -> str:
    """SQL boolean: |diff| within max(absolute, percent of the IMS value)."""
    return f"(abs({diff}) <= greatest({_lit(abs_tol)}, {_lit(pct_tol)} / 100 * abs({ims_value})))"


def total_within(tol: Tolerances, diff: str, ims_value: str, heads: tuple[str, ...]) -> str:
    """SQL boolean for a total (document value, total tax): its own tolerance when set, else
    the sum of the tolerances of the heads it is made of (issue 12: no false mismatch on the
    total when every head is within tolerance)."""
    if not tol.derived_total:
        total_abs, total_pct = tol.total_abs or Decimal(0), tol.total_pct or Decimal(0)
        return within(diff, f"coalesce({ims_value}, 0)", total_abs, total_pct)
    parts = []
    for h in heads:
        a, p = tol.head(h)
        parts.append(f"greatest({_lit(a)}, {_lit(p)} / 100 * abs(coalesce(i_{h}, 0)))")
    return f"(abs({diff}) <= {' + '.join(parts)})"


SUPERSEDED = """
SELECT o.i_id, o.doc_key, max(a.doc_key) AS superseded_by
FROM rec_ims_docs o
JOIN rec_ims_docs a
  ON a.is_amendment AND a.orig_doc_number IS NOT NULL
 AND a.supplier_gstin = o.supplier_gstin AND a.doc_type = o.doc_type
 AND a.orig_doc_number = o.doc_number
 AND (a.orig_doc_date IS NULL OR a.orig_doc_date = o.doc_date)
 AND a.doc_key <> o.doc_key
GROUP BY o.i_id, o.doc_key
"""

LIVE_KEYS = """
SELECT k.* FROM rec_ims_keys k
WHERE NOT EXISTS (SELECT 1 FROM rec_superseded s WHERE s.i_id = k.i_id)
"""


def candidate_pairs(tol: Tolerances | None = None, dialect: Dialect = DUCKDB) -> str:
    """Blocking: same supplier GSTIN (tier 0) or same PAN, other GSTIN (tier 1), same class,
    same block, dated at most `candidate_days` apart; each register row is met by its
    normalised key and (rec_reg_glued) its glued keys; one row per (document, register row),
    the best way the numbers agree."""
    tol = tol or Tolerances()
    sim = dialect.similarity("k.num_norm", "r.num_norm")
    common = f"""
    k.i_id, r.r_id, k.variant, k.key_number, k.key_date, k.num_core,
    CASE WHEN k.key_number = r.doc_number THEN 'raw'
         WHEN k.num_norm = r.num_norm THEN 'normalised' ELSE 'fuzzy' END AS number_level,
    CASE WHEN k.num_norm = r.num_norm THEN 1.0 ELSE {sim} END AS similarity,
    NOT (k.num_has_letters AND r.num_has_letters) AS one_side_digits_only
    """
    window = f"abs(date_diff('day', r.doc_date, k.key_date)) <= {tol.candidate_days}"
    levels = []
    for table in ("rec_reg_rows", "rec_reg_glued"):
        levels.append(f"""
  SELECT 0 AS tier, {common}
  FROM rec_live_keys k JOIN {table} r
    ON r.supplier_gstin = k.supplier_gstin AND r.doc_type = k.doc_type AND r.block = k.block
  WHERE {window}""")
        levels.append(f"""
  SELECT 1 AS tier, {common}
  FROM rec_live_keys k JOIN {table} r
    ON r.supplier_pan = k.supplier_pan AND r.doc_type = k.doc_type AND r.block = k.block
   AND r.supplier_gstin <> k.supplier_gstin
  WHERE {window} AND k.num_norm = r.num_norm""")
    union = "\n  UNION ALL".join(levels)
    return f"""
WITH both_levels AS ({union}
)
SELECT * FROM both_levels
QUALIFY row_number() OVER (
  PARTITION BY i_id, r_id
  ORDER BY tier, CASE number_level WHEN 'raw' THEN 0 WHEN 'normalised' THEN 1 ELSE 2 END,
           variant, similarity DESC) = 1
"""


def pair_features(
    tol: Tolerances,
    dialect: Dialect = DUCKDB,
    *,
    source: str = "rec_cand",
    admitted_only: bool = True,
    columns: Sequence[str] | None = None,
) -> str:
    """Differences (IMS minus books), tolerance tests, status if paired, score 0-100, reasons.

    `admitted_only=False` keeps every candidate with its `admitted` flag (used by explain).
    `columns` selects the output columns (default: every one).
    """
    diffs = ",\n  ".join(
        f"coalesce(i.{h}, 0) - coalesce(r.{h}, 0) AS diff_{h}" for h in (*AMOUNT_HEADS, "doc_value")
    )
    tax = total_tax_sql("{t}")
    oks = []
    total_ok = total_within(tol, "diff_total_tax", "i_total_tax", TAX_HEADS)
    for h in AMOUNT_HEADS:
        a, p = tol.head(h)
        ok = within(f"diff_{h}", f"coalesce(i_{h}, 0)", a, p)
        if h in SPLIT_HEADS:  # books with only a total GST: the heads stand or fall with it
            ok = f"CASE WHEN heads_unknown THEN {total_ok} ELSE {ok} END"
        oks.append(f"{ok} AS ok_{h}")
    oks.append(
        f"{total_within(tol, 'diff_doc_value', 'i_doc_value', AMOUNT_HEADS)} AS ok_doc_value"
    )
    oks.append(f"{total_ok} AS ok_total_tax")
    band = tol.corroboration_pct
    oks.append(
        f"({within('diff_taxable_value', 'coalesce(i_taxable_value, 0)', Decimal(0), band)} OR "
        f"{within('diff_doc_value', 'coalesce(i_doc_value, 0)', Decimal(0), band)}) AS ok_band"
    )
    ok_heads = " AND ".join(f"ok_{h}" for h in (*AMOUNT_HEADS, "doc_value"))
    n_ok = " + ".join(f"CAST(ok_{h} AS INTEGER)" for h in (*AMOUNT_HEADS, "doc_value"))
    gap = " + ".join(f"abs(diff_{h})" for h in (*AMOUNT_HEADS, "doc_value"))
    money = dialect.money_text
    money_reasons = []
    for h in (*AMOUNT_HEADS, "doc_value"):
        money_reasons.append(
            f"CASE WHEN diff_{h} <> 0 AND (tier = 0 OR '{h}' IN ('taxable_value', 'doc_value')) "
            f"AND NOT (heads_unknown AND '{h}' IN {sql_in(SPLIT_HEADS)}) "
            f"THEN '{LABELS[h]} differs by Rs ' || {money(f'abs(diff_{h})')} || ' (IMS ' || "
            f"{money(f'coalesce(i_{h}, 0)')} || ', books ' || {money(f'coalesce(r_{h}, 0)')} || ')'"
            f" || CASE WHEN ok_{h} THEN '' ELSE ', beyond tolerance' END END"
        )
    money_reasons.append(
        "CASE WHEN heads_unknown THEN 'the books give only a total GST: IGST/CGST/SGST not "
        "compared' END"
    )
    money_reasons.append(
        f"CASE WHEN (tier >= 1 OR heads_unknown) AND diff_total_tax <> 0 "
        f"THEN 'total tax differs by Rs ' || "
        f"{money('abs(diff_total_tax)')} || ' (IMS ' || {money('i_total_tax')} || ', books ' || "
        f"{money('r_total_tax')} || ')' END"
    )
    money_sql = ",\n    ".join(money_reasons)
    days = tol.date_days
    # DuckDB rounds a fractional number cast to INTEGER, Spark truncates: the dialect rounds.
    raw_score = dialect.to_int(f"""(
    CASE number_level WHEN 'raw' THEN {W_NUMBER_RAW} WHEN 'normalised' THEN {W_NUMBER_NORMALISED}
         WHEN 'fuzzy' THEN {W_NUMBER_FUZZY_BASE} + round({W_NUMBER_FUZZY_SIMILARITY} * similarity)
         ELSE round({W_NUMBER_DIFFERENT_SIMILARITY} * similarity) END
    - CASE WHEN variant = 'original' THEN {P_ORIGINAL_NUMBER} ELSE 0 END
    + CASE WHEN tier >= 1 THEN {W_AMOUNTS} * (CAST(ok_taxable_value AS INTEGER)
                                    + CAST(ok_total_tax AS INTEGER)) / 2
           ELSE {W_AMOUNTS} * ({n_ok}) / {len(AMOUNT_HEADS) + 1} END
    - CASE WHEN amount_gap > 0 THEN {P_ANY_AMOUNT_GAP} ELSE 0 END
    + CASE WHEN diff_days = 0 THEN {W_DATE_SAME}
           WHEN ok_date
           THEN {W_DATE_IN_WINDOW} - round({W_DATE_DECAY}.0 * abs(diff_days) / greatest({days}, 1))
           ELSE greatest(0, {W_DATE_FAR} - floor(abs(diff_days) / 30.0)) END
    + CASE WHEN other_recipient OR tier >= 1 THEN 0 ELSE {W_SAME_PARTIES} END
    - CASE WHEN ims_doc_type <> reg_doc_type THEN {P_OTHER_CLASS} ELSE 0 END
  )""")
    return f"""
WITH diffs AS (
  SELECT c.*, i.doc_key, r.register_id,
  i.supplier_gstin AS ims_gstin, r.supplier_gstin AS reg_gstin, i.supplier_pan AS ims_pan,
  i.recipient_gstin AS ims_recipient, r.recipient_gstin AS reg_recipient,
  r.doc_number AS reg_number, r.doc_date AS reg_date,
  i.doc_type AS ims_doc_type, r.doc_type AS reg_doc_type, r.num_core AS reg_core,
  {", ".join(f"i.{h} AS i_{h}, r.{h} AS r_{h}" for h in (*AMOUNT_HEADS, "doc_value"))},
  {tax.format(t="i")} AS i_total_tax, {tax.format(t="r")} AS r_total_tax,
  {diffs},
  ({tax.format(t="i")}) - ({tax.format(t="r")}) AS diff_total_tax,
  CAST(date_diff('day', r.doc_date, c.key_date) AS INTEGER) AS diff_days,
  coalesce(i.recipient_gstin <> r.recipient_gstin, FALSE) AS other_recipient,
  coalesce(r.heads_unknown, FALSE) AS heads_unknown
  FROM {source} c
  JOIN rec_ims_docs i ON i.i_id = c.i_id
  JOIN rec_reg_rows r ON r.r_id = c.r_id
), tests AS (
  SELECT *, {", ".join(oks)},
  abs(diff_days) <= {days} AS ok_date
  FROM diffs
), judged AS (
  SELECT *,
  ({ok_heads}) AS ok_amounts,
  CASE WHEN tier >= 2 OR ims_doc_type <> reg_doc_type OR number_level = 'different' THEN FALSE
       WHEN tier = 1 THEN number_level <> 'fuzzy' AND ok_taxable_value AND ok_total_tax
       WHEN number_level = 'fuzzy' THEN
            (({ok_heads}) OR ok_date)
            AND (one_side_digits_only OR similarity >= {tol.fuzzy_min_similarity})
       WHEN number_level = 'normalised' THEN ok_band OR ok_date
       ELSE TRUE END AS admitted,
  number_level = 'normalised' AND NOT (ok_band OR ok_date) AS uncorroborated,
  {gap} AS amount_gap
  FROM tests
), statused AS (
  SELECT *,
  CASE WHEN tier >= 1 THEN '{MatchStatus.PAN_MATCH}'
       WHEN other_recipient THEN '{MatchStatus.MISMATCH}'
       WHEN number_level = 'raw' AND variant = 'current' AND diff_days = 0 AND amount_gap = 0
            THEN '{MatchStatus.EXACT}'
       WHEN ok_amounts AND ok_date AND number_level = 'fuzzy' THEN '{MatchStatus.PROBABLE}'
       WHEN ok_amounts AND ok_date THEN '{MatchStatus.WITHIN_TOLERANCE}'
       ELSE '{MatchStatus.MISMATCH}' END AS status,
  CASE WHEN tier = 1 THEN 'pan_' ELSE 'gstin_' END || number_level
    || CASE WHEN variant = 'original' THEN '_original' ELSE '' END AS match_pass,
  {raw_score} AS raw_score
  FROM judged {"WHERE admitted" if admitted_only else ""}
), scored AS (
SELECT *,
  CAST(least(100, greatest(0, raw_score)) AS INTEGER) AS score,
  coalesce(nullif(concat_ws('; ',
    CASE WHEN status = '{MatchStatus.WITHIN_TOLERANCE}' AND (amount_gap > 0 OR diff_days <> 0)
         THEN 'within tolerance: ' || concat_ws(' and ',
              CASE WHEN amount_gap > 0 THEN 'rounding' END,
              CASE WHEN diff_days <> 0 THEN 'date' END) END,
    CASE WHEN tier = 1 THEN 'booked under GSTIN ' || reg_gstin
         || ' (same PAN, another branch; IMS from ' || ims_gstin || ')'
         WHEN tier >= 2 THEN 'booked under another supplier ' || reg_gstin END,
    CASE WHEN other_recipient THEN 'booked under recipient GSTIN ' || reg_recipient
         || ', IMS is for ' || ims_recipient || ' (another registration of the buyer)' END,
    CASE WHEN variant = 'original' THEN 'matched through the amendment''s original number '''
         || key_number || ''' of ' || strftime(key_date, '%Y-%m-%d') END,
    CASE WHEN number_level = 'normalised' THEN 'number matched after normalisation: '''
         || key_number || ''' ~ ''' || reg_number || ''''
         WHEN number_level = 'fuzzy' THEN 'number only fuzzily similar (numeric core '
         || num_core || ' agrees): ''' || key_number || ''' ~ ''' || reg_number || ''''
         WHEN number_level = 'different' THEN 'number differs: ''' || key_number
         || ''' vs ''' || reg_number || '''' END,
    CASE WHEN ims_doc_type <> reg_doc_type THEN 'document class differs (IMS '
         || ims_doc_type || ', books ' || reg_doc_type || ')' END,
    {money_sql},
    CASE WHEN diff_days <> 0 THEN 'dated ' || abs(diff_days) || ' day'
              || CASE WHEN abs(diff_days) = 1 THEN '' ELSE 's' END || ' apart ('
              || CASE WHEN diff_days < 0 THEN 'later' ELSE 'earlier' END || ' in the books'
              || CASE WHEN ok_date THEN ', within the {days}-day window)'
                      ELSE ', outside the {days}-day window)' END END
  ), ''), 'all fields agree') AS reasons
FROM statused
)
SELECT {", ".join(columns) if columns else "*"} FROM scored
"""


#: Ordering of candidates: PAN level only after GSTIN level, then score, then the closest; the
#: ids (assigned in doc_key / register_id order) make it a total order.
CANDIDATE_ORDER = "tier, score DESC, amount_gap, abs(diff_days), similarity DESC, r_id, i_id"

#: The candidates' rank in that order, as a narrow table the assignment rounds work on. The rank
#: is only ever compared among candidates of one document or of one register row, and those all
#: share the supplier's PAN (tier 0: same GSTIN, tier 1: same PAN; PANs come from the GSTIN), so
#: it is numbered per PAN: on Spark the ranking runs in parallel instead of in one partition.
#: Not per block too: a document's candidates span blocks (its original number's, its glued
#: keys'), and ranks are compared across them. BIGINT on both engines (Spark's is INT).
RANKED = f"""
SELECT CAST(row_number() OVER (PARTITION BY ims_pan ORDER BY {CANDIDATE_ORDER}) AS BIGINT) AS ord,
  i_id, r_id
FROM rec_scored
"""

#: One round: the pairs that are the best open candidate of both their document and their row.
ROUND_PAIRS = """
SELECT l.ord, l.i_id, l.r_id
FROM rec_live l
JOIN (SELECT i_id, min(ord) AS best FROM rec_live GROUP BY i_id) bi
  ON bi.i_id = l.i_id AND bi.best = l.ord
JOIN (SELECT r_id, min(ord) AS best FROM rec_live GROUP BY r_id) br
  ON br.r_id = l.r_id AND br.best = l.ord
"""

#: Candidates still open after a round (two anti-joins: an OR would defeat the hash join).
REMAINING = """
SELECT * FROM rec_live l
WHERE NOT EXISTS (SELECT 1 FROM rec_round_pairs p WHERE p.i_id = l.i_id)
  AND NOT EXISTS (SELECT 1 FROM rec_round_pairs p WHERE p.r_id = l.r_id)
"""

#: What the later steps need of each admissible candidate (`rec_scored`): what ranks it, and
#: what the result reports of it if it is assigned (the features in between are not stored).
SCORED_COLUMNS: tuple[str, ...] = (
    "i_id", "r_id", "ims_pan", "tier", "score", "amount_gap", "diff_days", "similarity",
    "register_id", "status", "match_pass", "reasons",
    *(f"diff_{h}" for h in (*AMOUNT_HEADS, "doc_value")),
)  # fmt: skip


def scored(tol: Tolerances, dialect: Dialect = DUCKDB) -> str:
    """Every admissible candidate with its score, status and reasons (`SCORED_COLUMNS`)."""
    return pair_features(tol, dialect, columns=SCORED_COLUMNS)


#: The assigned pairs with what the result reports of them.
PAIRED = """
SELECT s.* FROM rec_scored s JOIN rec_pairs p ON p.i_id = s.i_id AND p.r_id = s.r_id
"""

#: Unpaired register rows whose number equals that of a document paired with another row.
DUPLICATES = """
WITH extra AS (
  SELECT c.r_id, b.register_id AS duplicate_of, d.doc_key AS duplicate_doc, o.ord
  FROM rec_cand c
  JOIN rec_ranked o ON o.i_id = c.i_id AND o.r_id = c.r_id
  JOIN rec_pairs p ON p.i_id = c.i_id AND p.r_id <> c.r_id
  JOIN rec_reg_rows b ON b.r_id = p.r_id
  JOIN rec_ims_docs d ON d.i_id = c.i_id
  WHERE c.tier = 0 AND c.number_level IN ('raw', 'normalised')
    AND NOT EXISTS (SELECT 1 FROM rec_pairs q WHERE q.r_id = c.r_id)
)
SELECT r_id, duplicate_of, duplicate_doc FROM extra
QUALIFY row_number() OVER (PARTITION BY r_id ORDER BY ord) = 1
"""

#: The result's columns, in order (`imsdata.schemas.MATCH_COLUMNS` before the periods).
RESULT_COLUMNS: tuple[str, ...] = (
    "doc_key", "register_id", "match_status", "match_score", "match_pass", "reasons",
    *(f"diff_{h}" for h in (*AMOUNT_HEADS, "doc_value")), "diff_days", "duplicate_of",
    "superseded_by",
)  # fmt: skip

#: One row per IMS document, then one per unpaired in-scope register row: documents in doc_key
#: order, rows in register_id order (the ids are numbered in those orders, so the sort is on
#: integers, not on the text).
RESULT = f"""
WITH ims_side AS (
  SELECT 0 AS side, d.i_id AS row_id, d.doc_key, p.register_id,
    coalesce(p.status, '{MatchStatus.MISSING_IN_REGISTER}') AS match_status,
    coalesce(p.score, 0) AS match_score,
    p.match_pass,
    CASE WHEN p.i_id IS NOT NULL THEN p.reasons
         ELSE 'no booking of this document found in the register' END
      || CASE WHEN s.superseded_by IS NOT NULL
              THEN '; superseded by amendment ' || s.superseded_by ELSE '' END AS reasons,
    p.diff_taxable_value, p.diff_igst, p.diff_cgst, p.diff_sgst, p.diff_cess, p.diff_doc_value,
    p.diff_days,
    CAST(NULL AS VARCHAR) AS duplicate_of,
    s.superseded_by
  FROM rec_ims_docs d
  LEFT JOIN rec_paired p ON p.i_id = d.i_id
  LEFT JOIN rec_superseded s ON s.i_id = d.i_id
), books_side AS (
  SELECT 1 AS side, r.r_id AS row_id, CAST(NULL AS VARCHAR) AS doc_key, r.register_id,
    '{MatchStatus.MISSING_IN_IMS}' AS match_status,
    0 AS match_score, CAST(NULL AS VARCHAR) AS match_pass,
    CASE WHEN u.duplicate_of IS NOT NULL
         THEN 'booked twice: the IMS document ' || u.duplicate_doc
              || ' is already paired with register row ' || u.duplicate_of
         ELSE 'not in the IMS download' END AS reasons,
    NULL AS diff_taxable_value, NULL AS diff_igst, NULL AS diff_cgst, NULL AS diff_sgst,
    NULL AS diff_cess, NULL AS diff_doc_value, NULL AS diff_days,
    u.duplicate_of, CAST(NULL AS VARCHAR) AS superseded_by
  FROM rec_reg_rows r
  LEFT JOIN rec_duplicates u ON u.r_id = r.r_id
  WHERE NOT EXISTS (SELECT 1 FROM rec_pairs p WHERE p.r_id = r.r_id)
)
SELECT {", ".join(RESULT_COLUMNS)}
FROM (SELECT * FROM ims_side UNION ALL SELECT * FROM books_side)
ORDER BY side, row_id
"""


def explain_candidates(dialect: Dialect = DUCKDB) -> str:
    """Every register row of the same PAN, or with the same normalised number, for the documents
    in `rec_explain_docs`; tier 0 same GSTIN, 1 same PAN, 2 another supplier."""
    sim = dialect.similarity("k.num_norm", "r.num_norm")
    return f"""
WITH k AS (
  SELECT * FROM rec_ims_keys WHERE i_id IN (
    SELECT i_id FROM rec_ims_docs WHERE doc_key IN (SELECT doc_key FROM rec_explain_docs))
), near AS (
  SELECT k.i_id, r.r_id FROM k JOIN rec_reg_rows r ON r.supplier_pan = k.supplier_pan
  UNION
  SELECT k.i_id, r.r_id FROM k JOIN rec_reg_rows r ON r.num_norm = k.num_norm
  UNION
  SELECT k.i_id, r.r_id FROM k JOIN rec_reg_rows r ON r.num_glued = k.num_norm
  UNION
  SELECT k.i_id, r.r_id FROM k JOIN rec_reg_rows r ON r.num_glued_short = k.num_norm
)
SELECT
  CASE WHEN r.supplier_gstin = k.supplier_gstin THEN 0
       WHEN r.supplier_pan = k.supplier_pan THEN 1 ELSE 2 END AS tier,
  k.i_id, r.r_id, k.variant, k.key_number, k.key_date, k.num_core,
  CASE WHEN k.key_number = r.doc_number THEN 'raw'
       WHEN k.num_norm IN (r.num_norm, r.num_glued, r.num_glued_short) THEN 'normalised'
       WHEN k.num_core = r.num_core AND k.num_core <> '' THEN 'fuzzy'
       ELSE 'different' END AS number_level,
  CASE WHEN k.num_norm IN (r.num_norm, r.num_glued, r.num_glued_short) THEN 1.0 ELSE {sim} END
    AS similarity,
  NOT (k.num_has_letters AND r.num_has_letters) AS one_side_digits_only
FROM near n
JOIN k ON k.i_id = n.i_id
JOIN rec_reg_rows r ON r.r_id = n.r_id
QUALIFY row_number() OVER (
  PARTITION BY k.i_id, r.r_id
  ORDER BY CASE WHEN k.key_number = r.doc_number THEN 0
                WHEN k.num_norm IN (r.num_norm, r.num_glued, r.num_glued_short) THEN 1
                ELSE 2 END, k.variant) = 1
"""


def explain_tests(tol: Tolerances) -> str:
    """Each candidate's failed tests in words, and its verdict against the actual pairing."""
    beyond = ",\n    ".join(
        f"CASE WHEN NOT ok_{h} AND (tier = 0 OR '{h}' IN ('taxable_value', 'doc_value')) "
        f"THEN '{LABELS[h]} beyond tolerance' END"
        for h in (*AMOUNT_HEADS, "doc_value")
    )
    return f"""
SELECT f.doc_key, f.register_id, f.score AS closeness,
  CASE WHEN m.doc_key = f.doc_key THEN 'paired: ' || m.match_status
       WHEN m.doc_key IS NOT NULL THEN 'taken by ' || m.doc_key || ' (' || m.match_status || ')'
       WHEN NOT r.in_scope THEN 'out of scope'
       WHEN f.admitted THEN 'candidate: would be ' || f.status
       ELSE 'rejected' END AS verdict,
  nullif(concat_ws('; ',
    CASE WHEN NOT r.in_scope THEN 'register row out of scope ('
         || coalesce(r.scope_reason, 'no reason given') || ')' END,
    CASE WHEN f.tier = 1 THEN 'supplier GSTIN differs (' || f.reg_gstin
         || ', same PAN: another branch)'
         WHEN f.tier >= 2 THEN 'supplier differs (' || coalesce(f.reg_gstin, 'none') || ')' END,
    CASE WHEN f.ims_doc_type <> f.reg_doc_type THEN 'document class differs (IMS '
         || f.ims_doc_type || ', books ' || f.reg_doc_type || ')' END,
    CASE WHEN f.number_level = 'different' AND f.num_core <> f.reg_core
         THEN 'numeric cores differ (' || coalesce(nullif(f.num_core, ''), 'none') || ' vs '
         || coalesce(nullif(f.reg_core, ''), 'none') || ')'
         WHEN f.number_level = 'different' THEN 'numbers differ'
         WHEN f.number_level = 'fuzzy' AND NOT f.one_side_digits_only
              AND f.similarity < {tol.fuzzy_min_similarity}
         THEN 'numbers too dissimilar (similarity ' || CAST(round(f.similarity, 2) AS VARCHAR)
         || ', needs {tol.fuzzy_min_similarity})' END,
    CASE WHEN f.tier = 0 AND f.uncorroborated
         THEN 'refused: the numbers are equal only after normalisation and nothing corroborates'
         || ' the pairing (taxable and document value beyond the {tol.corroboration_pct}% band,'
         || ' date outside the {tol.date_days}-day window)' END,
    {beyond},
    CASE WHEN f.tier >= 1 AND NOT f.ok_total_tax THEN 'total tax beyond tolerance' END,
    CASE WHEN NOT f.ok_date THEN 'date ' || abs(f.diff_days) || ' days apart (window '
         || {tol.date_days} || ')' END,
    CASE WHEN f.other_recipient THEN 'booked under recipient GSTIN ' || f.reg_recipient END
  ), '') AS failed_tests,
  f.reasons AS differences,
  r.supplier_gstin, r.doc_type, r.doc_number, r.doc_date, r.taxable_value, r.doc_value
FROM rec_features f
JOIN rec_reg_rows r ON r.r_id = f.r_id
LEFT JOIN rec_matches m ON m.register_id = f.register_id AND m.doc_key IS NOT NULL
"""
