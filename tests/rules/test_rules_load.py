"""Loading a rule file: every kind of mistake gives one clear error naming the rule."""

from __future__ import annotations

import pytest

from imsdata.errors import InputError
from imsdata.rules import load_rules, parse_rules

GOOD_GUARD = """
[[guard]]
id = "g"
forbid = "action = 'pending' AND pending_blocked"
message = "no pending"
"""


def _suggest(when: str = "true", action: str = "accept", extra: str = "") -> str:
    return (
        f'[[suggest]]\nid = "r1"\nwhen = """{when}"""\naction = "{action}"\n'
        f'reason = "because"\n{extra}'
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[suggest]]\nid = "r1"\nwhen = "true', "TOML syntax error"),
        (
            _suggest(when="no_such_column > 1"),
            "suggest rule 'r1': when: unknown column 'no_such_column'",
        ),
        (_suggest(when="match_status = "), "suggest rule 'r1': when: SQL syntax error"),
        (_suggest(action="approve"), "suggest rule 'r1': unknown action 'approve'"),
        (_suggest() + "\n" + _suggest(), "duplicate rule id 'r1'"),
        (_suggest() + GOOD_GUARD.replace('"g"', '"r1"'), "duplicate rule id 'r1'"),
        (
            '[[suggest]]\nid = "r1"\nwhen = "true"\naction = "accept"\n',
            "suggest rule 'r1': missing field 'reason'",
        ),
        ('[[guard]]\nid = "g1"\nforbid = "true"\n', "guard rule 'g1': missing field 'message'"),
        (
            '[[suggest]]\nwhen = "true"\naction = "accept"\nreason = "x"\n',
            "[[suggest]] #1: missing field 'id'",
        ),
        (_suggest(extra='whenn = "true"\n'), "suggest rule 'r1': unknown field 'whenn'"),
        (_suggest(when="match_score"), "suggest rule 'r1': when: must be a boolean expression"),
        (_suggest(when="true) AS _x, (1"), "suggest rule 'r1': when: must be one SQL expression"),
        (
            _suggest(when="true; DROP TABLE x"),
            "suggest rule 'r1': when: must be one SQL expression",
        ),
        (
            _suggest(extra='remarks = "differs by {nope}"\n'),
            "suggest rule 'r1': remarks: unknown column 'nope'",
        ),
        (_suggest(extra='remarks = "differs by {diff_igst:.2f}"\n'), "must be a plain column name"),
        (_suggest(extra='itc_reduction = "X"\n'), "suggest rule 'r1': itc_reduction must be"),
        (
            _suggest(extra='itc_reduction = "Y"\ndeclared_cgst = "section"\n'),
            "declared_cgst: must be an amount",
        ),
        (_suggest().replace('id = "r1"', 'id = "1 bad"'), "id must be letters"),
        (_suggest().replace('action = "accept"', "action = 3"), "field 'action' must be a str"),
        (
            '[[guard]]\nid = "g1"\nforbid = "colour = 1"\nmessage = "m"\n',
            "guard 'g1': forbid: unknown column 'colour'",
        ),
        (
            '[[guard]]\nid = "g1"\nforbid = "action ="\nmessage = "m"\n',
            "guard 'g1': forbid: SQL syntax error",
        ),
        ('[[rules]]\nid = "x"\n', "unknown section 'rules'"),
    ],
)
def test_bad_rule_file_is_refused_with_a_message_naming_the_problem(text, message):
    with pytest.raises(InputError) as info:
        parse_rules(text, source="my_rules.toml")
    assert message in str(info.value)
    assert str(info.value).startswith("my_rules.toml: ")
    assert "\n" not in str(info.value)


def test_suggest_when_cannot_use_the_proposal_but_guards_can():
    with pytest.raises(InputError, match="when: unknown column 'action'"):
        parse_rules(_suggest(when="action = 'accept'"))
    rules = parse_rules(_suggest() + GOOD_GUARD)
    assert [g.id for g in rules.guards] == ["g"]


def test_rule_file_on_disk_errors_name_the_file(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text(_suggest(when="colour = 'red'"), encoding="utf-8")
    with pytest.raises(InputError, match=r"rules\.toml: suggest rule 'r1': when: unknown column"):
        load_rules(path)
    with pytest.raises(InputError, match="cannot read rule file"):
        load_rules(tmp_path / "missing.toml")


def test_default_rules_load_and_end_with_a_catch_all():
    rules = load_rules()
    assert rules.suggest[-1].when == "true"
    ids = [r.id for r in rules.suggest] + [g.id for g in rules.guards]
    assert len(ids) == len(set(ids))
    assert {
        "pending_blocked",
        "no_reject_import",
        "no_accept_not_in_books",
        "itc_reduction_only_accept",
        "itc_reduction_section",
        "itc_reduction_blocked",
        "declared_range",
        "declared_cgst_equals_sgst",
        "remarks_blocked",
        "remarks_length",
    } <= set(ids)
    assert [g.overridable for g in rules.guards if g.id == "no_accept_not_in_books"] == [True]


def test_a_copied_default_file_loads_from_disk(tmp_path):
    from imsdata.rules import DEFAULT_RULES_PATH

    copy = tmp_path / "mine.toml"
    copy.write_text(DEFAULT_RULES_PATH.read_text(encoding="utf-8"), encoding="utf-8")
    assert load_rules(copy).suggest == load_rules().suggest
