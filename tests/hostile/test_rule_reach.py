"""Issue 15: a rule file cannot read a local file or reach the network (sealed SQL engine)."""

from __future__ import annotations

import pytest

from imsdata.errors import InputError
from imsdata.rules import load_rules
from imsdata.testing import rule_file

READS = [
    ("when", "(SELECT count(*) FROM read_text('/etc/passwd')) > 0", "'/etc/passwd'"),
    ("when", "(SELECT count(*) FROM read_text('http://127.0.0.1:8765/x')) > 0", "'http://"),
    ("when", "(SELECT count(*) FROM read_csv(supplier_name)) > 0", "read_csv("),
    ("when", "(SELECT count(*) FROM glob(supplier_name)) > 0", "glob("),
]


@pytest.mark.parametrize(("field", "sql", "named"), READS)
def test_rule_that_reads_a_file_or_url_is_refused_at_load_naming_the_rule(
    tmp_path, field, sql, named
):
    with pytest.raises(InputError) as info:
        load_rules(rule_file(tmp_path, sql))
    message = str(info.value)
    assert message.startswith(f"{tmp_path / 'rules.toml'}: suggest rule 'peek': {field}: ")
    assert named in message
    assert "\n" not in message


def test_rule_refusal_holds_even_past_the_static_check(tmp_path, monkeypatch):
    # should the static check miss a spelling, the sealed connection still refuses the read
    import imsdata.rules.engine as rule_engine

    monkeypatch.setattr(rule_engine, "external_reference", lambda sql: None)
    with pytest.raises(InputError) as info:
        load_rules(rule_file(tmp_path, "(SELECT count(*) FROM read_text('/etc/passwd')) > 0"))
    assert "suggest rule 'peek'" in str(info.value)
    assert "root:" not in str(info.value)
