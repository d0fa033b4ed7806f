"""The screen on rule-file SQL: nothing that reaches past the decision view's rows.

A rule's `when`, `forbid` and amounts are SQL, run on DuckDB or Spark (issue 16). They may only
compute from the document's own fields. Refused, by name, before anything runs: functions and
statements that read files or URLs, load extensions, read or change settings, reveal the
environment (user, catalog, version), run code (Spark's Java reflection), or give another answer
on every run (random values, the engine's partition layout). DuckDB's connection is also sealed
(`imsdata.engine.SEALED_CONFIG`) and the Spark engine reads no file named as a table
(`spark.sql.runSQLOnFiles` off); the screen names the problem first, on either engine.

`SPARK_REACH` is complete for the Spark it was audited on (4.3): every function in a Spark
function group that can reach outside its arguments is either here or in
`SPARK_REVIEWED_HARMLESS`, and `tests/engines/test_rule_screen.py` lists a live session's
functions and fails on one that is neither (a new Spark version's function is reviewed, not
let through).
"""

from __future__ import annotations

import re

#: DuckDB table functions (regex fragments) that read files, URLs, settings or run SQL text.
DUCKDB_REACH: tuple[str, ...] = (
    r"read_\w+", r"\w+_scan", r"glob", r"sniff_csv", r"query", r"query_table", r"getenv",
    r"duckdb_\w+", r"pragma_\w+", r"parquet_\w+", r"current_setting", r"which_secret",
    r"json_execute_serialized_sql", r"load_extension",
)  # fmt: skip
#: Statements that reach outside the query (or change the connection).
STATEMENTS: tuple[str, ...] = (
    "ATTACH", "DETACH", "COPY", "INSTALL", "LOAD", "EXPORT", "IMPORT", "PRAGMA", "SET", "RESET",
    "CALL", "CHECKPOINT",
)  # fmt: skip

_CODE = "runs Java code by reflection"
_FILE = "names or reads files"
_ENV = "reveals the environment"
_XML = "parses XML, which can fetch external entities"
_BINARY = "decodes binary formats with schema files or URLs"
_RANDOM = "gives another answer on every run or engine"

#: Spark functions that reach outside their arguments, with why (audited on Spark 4.3's function
#: registry: groups misc, xml, avro, protobuf, table, generator, url and ungrouped).
SPARK_REACH: dict[str, str] = {
    "java_method": _CODE, "reflect": _CODE, "try_reflect": _CODE,
    "input_file_name": _FILE, "input_file_block_start": _FILE, "input_file_block_length": _FILE,
    "python_worker_logs": _FILE,
    "current_user": _ENV, "session_user": _ENV, "user": _ENV, "current_catalog": _ENV,
    "current_database": _ENV, "current_schema": _ENV, "current_path": _ENV, "version": _ENV,
    "from_protobuf": _BINARY, "to_protobuf": _BINARY, "from_avro": _BINARY, "to_avro": _BINARY,
    "schema_of_avro": _BINARY,
    "xpath": _XML, "xpath_boolean": _XML, "xpath_double": _XML, "xpath_float": _XML,
    "xpath_int": _XML, "xpath_long": _XML, "xpath_number": _XML, "xpath_short": _XML,
    "xpath_string": _XML, "from_xml": _XML, "schema_of_xml": _XML, "to_xml": _XML,
    "spark_partition_id": _RANDOM, "monotonically_increasing_id": _RANDOM, "uuid": _RANDOM,
    "rand": _RANDOM, "randn": _RANDOM, "random": _RANDOM, "randstr": _RANDOM, "uniform": _RANDOM,
    "shuffle": _RANDOM,
}  # fmt: skip
#: The same kinds of function in DuckDB (its other reachers are in DUCKDB_REACH).
DUCKDB_ONLY_REACH: dict[str, str] = {
    "gen_random_uuid": _RANDOM, "uuidv4": _RANDOM, "uuidv7": _RANDOM, "setseed": _RANDOM,
    "current_role": _ENV,
}  # fmt: skip
#: Functions of those Spark groups reviewed and found to compute from their arguments only.
_HARMLESS = (
    "aes_decrypt", "aes_encrypt", "try_aes_decrypt", "hmac", "assert_true", "raise_error",
    "bitmap_bit_position", "bitmap_bucket_number", "bitmap_count", "typeof", "collations",
    "sql_keywords", "explode", "explode_outer", "inline", "inline_outer", "posexplode",
    "posexplode_outer", "stack", "range", "parse_url", "try_parse_url", "url_decode",
    "try_url_decode", "url_encode", "!=", "<>", "case", "||",
)  # fmt: skip
SPARK_REVIEWED_HARMLESS: frozenset[str] = frozenset(_HARMLESS)
#: Spark's function groups whose functions only compute from their arguments (the current date
#: and time aside, which rules may use). A function in any other group is in SPARK_REACH or
#: SPARK_REVIEWED_HARMLESS; the random ones of these groups are in SPARK_REACH too.
_PURE = (
    "agg_funcs", "array_funcs", "bitwise_funcs", "collection_funcs", "conditional_funcs",
    "conversion_funcs", "csv_funcs", "datetime_funcs", "hash_funcs", "json_funcs",
    "lambda_funcs", "map_funcs", "math_funcs", "predicate_funcs", "sketch_funcs",
    "st_funcs", "string_funcs", "struct_funcs", "variant_funcs", "vector_funcs",
    "window_funcs",
)  # fmt: skip
SPARK_PURE_GROUPS: frozenset[str] = frozenset(_PURE)

#: Functions SQL may call without parentheses (SQL's special values): refused as bare words too.
_BARE = ("current_user", "session_user", "user", "current_catalog", "current_schema",
         "current_role", "current_path")  # fmt: skip

_QUOTED = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|`(?:[^`]|``)*`")
_NAMES = sorted({*SPARK_REACH, *DUCKDB_ONLY_REACH}, key=len, reverse=True)
_REACH_WORDS = re.compile(
    rf"\b({'|'.join((*DUCKDB_REACH, *map(re.escape, _NAMES)))})\s*\(|"
    rf"\b({'|'.join(STATEMENTS)})\b|"
    rf"\b({'|'.join(_BARE)})\b(?!\s*\()",
    re.IGNORECASE,
)
#: A quoted string or identifier naming a URL, an absolute or home path, a ./ path or a drive.
_REACH_QUOTED = re.compile(
    r"^['\"`]\s*([a-z][a-z0-9+.-]*://|/[\w.~]|~|\.\.?[/\\]|[a-z]:[/\\])", re.IGNORECASE
)


def external_reference(sql: str) -> str | None:
    """What in `sql` would reach past the rows it is given (e.g. "read_text(", "'/etc/passwd'",
    "reflect(", "CURRENT_USER"), or None. See the module docstring."""
    for quoted in _QUOTED.finditer(sql):
        if _REACH_QUOTED.match(quoted.group(0)):
            return quoted.group(0)
    found = _REACH_WORDS.search(_QUOTED.sub("''", sql))
    if found is None:
        return None
    if found.group(1):
        return found.group(1) + "("
    return (found.group(2) or found.group(3)).upper()


def why(reference: str) -> str:
    """Why a reference named by `external_reference` is refused, in words."""
    name = reference.rstrip("(").lower()
    return {**SPARK_REACH, **DUCKDB_ONLY_REACH}.get(name, "reads files, URLs or settings")
