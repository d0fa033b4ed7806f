"""Issue 16: a rule file's SQL reaches nothing past the decision view on Spark either: no Java
reflection, no file names, no environment, no XML/Avro/Protobuf decoders, no random values; and
every Spark function that could reach is reviewed (the denylist is complete)."""

from __future__ import annotations

import pytest

from imsdata.errors import InputError, SQLError
from imsdata.rules import load_rules
from imsdata.sql_reach import SPARK_PURE_GROUPS, SPARK_REACH, SPARK_REVIEWED_HARMLESS
from imsdata.testing import rule_file


@pytest.mark.parametrize("function", sorted(SPARK_REACH))
def test_a_rule_calling_a_spark_function_that_reaches_out_is_refused_at_load(tmp_path, function):
    with pytest.raises(InputError) as info:
        load_rules(rule_file(tmp_path, f"{function}('x') IS NOT NULL"))
    message = str(info.value)
    assert "suggest rule 'peek': when: uses " in message
    assert f"{function}(" in message.lower()
    assert SPARK_REACH[function] in message


@pytest.mark.parametrize(
    ("when", "named"),
    [
        # Spark reads a file named as a table; DuckDB a quoted path
        ("(SELECT count(*) FROM text.`/etc/passwd`) > 0", "`/etc/passwd`"),
        ('(SELECT count(*) FROM "/etc/passwd") > 0', '"/etc/passwd"'),
        ("(SELECT count(*) FROM csv.`file:///etc/passwd`) > 0", "`file:///etc/passwd`"),
        # the environment, called without parentheses as SQL allows
        ("supplier_name = current_user", "CURRENT_USER"),
        ("supplier_name = session_user", "SESSION_USER"),
        ("supplier_name = Reflect ('java.lang.System', 'getenv', 'HOME')", "Reflect("),
        # DuckDB's settings and metadata, and SQL text run from a string
        ("current_setting('temp_directory') <> ''", "current_setting("),
        ("(SELECT count(*) FROM duckdb_settings()) > 0", "duckdb_settings("),
        ("json_execute_serialized_sql('{}') IS NULL", "json_execute_serialized_sql("),
        ("random() < 0.5", "random("),
    ],
)
def test_a_rule_reaching_past_the_view_by_any_spelling_is_refused(tmp_path, when, named):
    with pytest.raises(InputError) as info:
        load_rules(rule_file(tmp_path, when))
    assert f"uses {named}" in str(info.value)


@pytest.mark.parametrize(
    "when",
    [
        # the words inside strings and quoted column names are data, not calls
        "supplier_name = 'current_user' AND doc_number <> 'reflect(x)'",
        "lower(supplier_name) LIKE '%version%' AND match_status = 'exact'",
        "url_decode(supplier_name) = supplier_name AND taxable_value > 0",
    ],
)
def test_rules_that_only_read_their_fields_still_load(tmp_path, when):
    assert load_rules(rule_file(tmp_path, when)).suggest[0].id == "peek"


@pytest.mark.spark
def test_every_spark_function_that_could_reach_out_is_reviewed(spark_session):
    """Lists the live session's functions: one in a group that may reach past its arguments
    (misc, xml, avro, protobuf, table, generator, url, none) must be in SPARK_REACH or
    SPARK_REVIEWED_HARMLESS, so a new Spark version's function fails here until reviewed."""
    from imsdata.spark_engine import SparkEngine

    with SparkEngine(session=spark_session) as eng:
        spark = eng.spark
        catalog = spark._jsparkSession.sessionState().catalog()
        ident = spark._jvm.org.apache.spark.sql.catalyst.FunctionIdentifier
        names = [row[0] for row in spark.sql("SHOW FUNCTIONS").collect()]
        groups = {n: catalog.lookupFunctionInfo(ident.apply(n)).getGroup() or "" for n in names}
    assert len(groups) > 500
    reviewed = SPARK_REACH.keys() | SPARK_REVIEWED_HARMLESS
    unreviewed = sorted(
        f"{name} ({group or 'no group'})"
        for name, group in groups.items()
        if group not in SPARK_PURE_GROUPS and name not in reviewed
        and name != "imsdata_jaro_winkler"  # ours: Jaro-Winkler of two strings
    )  # fmt: skip
    assert unreviewed == []
    # the audit names functions this Spark really has (a typo would leave a hole)
    assert {"reflect", "java_method", "try_reflect", "input_file_name", "xpath"} <= groups.keys()


@pytest.mark.spark
def test_spark_engine_reads_no_file_named_as_a_table(spark_session, tmp_path):
    from imsdata.spark_engine import SparkEngine

    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET\n")
    with SparkEngine(session=spark_session) as eng, pytest.raises(SQLError) as info:
        eng.query(f'SELECT * FROM text."{secret}"')
    assert "TOPSECRET" not in str(info.value)
