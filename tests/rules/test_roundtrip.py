"""Text and JSON forms carry a rule exactly: parse(format(r)) == r, from_json(to_json(r)) == r."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from segmentry.model.schema import SEGMENTED_KINDS, Kind
from segmentry.rules.ast import Node
from segmentry.rules.jsonform import from_json, to_json
from segmentry.rules.load import prepare
from segmentry.rules.parser import parse
from segmentry.rules.printer import format_rule
from tests.conftest import examples
from tests.rules.behaviour_strategies import (
    ALL_SCHEMAS,
    CATALOG,
    any_rules_with_behaviours,
    typed_behaviour_rules,
)
from tests.rules.strategies import SCHEMAS, any_rules, deep_not, typed_rules


@settings(max_examples=examples(2000, 200))
@given(rule=any_rules(), width=st.sampled_from([0, 40, 80, 10_000]))
def test_parse_of_format_is_the_rule(rule: Node, width: int) -> None:
    text = format_rule(rule, width)
    assert parse(text) == rule
    assert format_rule(parse(text), width) == text


@settings(max_examples=examples(2000, 200))
@given(rule=any_rules())
def test_from_json_of_to_json_is_the_rule(rule: Node) -> None:
    data = to_json(rule)
    assert from_json(data) == rule
    assert from_json(json.loads(json.dumps(data))) == rule


@settings(max_examples=examples(500, 100))
@given(rule=st.sampled_from(list(SEGMENTED_KINDS)).flatmap(lambda k: typed_rules(SCHEMAS[k])))
def test_typed_rules_round_trip_too(rule: Node) -> None:
    assert parse(format_rule(rule)) == rule
    assert from_json(to_json(rule)) == rule


def test_deepest_allowed_nesting_round_trips() -> None:
    rule = deep_not(10_000)
    assert parse(format_rule(rule)) == rule
    assert from_json(to_json(rule)) == rule


@settings(max_examples=examples(2000, 200))
@given(rule=any_rules_with_behaviours(), width=st.sampled_from([0, 40, 80, 10_000]))
def test_behaviour_functions_round_trip_through_text(rule: Node, width: int) -> None:
    text = format_rule(rule, width)
    assert parse(text) == rule
    assert format_rule(parse(text), width) == text


@settings(max_examples=examples(2000, 200))
@given(rule=any_rules_with_behaviours())
def test_behaviour_functions_round_trip_through_json(rule: Node) -> None:
    data = to_json(rule)
    assert from_json(data) == rule
    assert from_json(json.loads(json.dumps(data))) == rule


@settings(max_examples=examples(500, 100))
@given(
    kind_rule=st.sampled_from(list(SEGMENTED_KINDS)).flatmap(
        lambda k: st.tuples(st.just(k), typed_behaviour_rules(k))
    ),
    width=st.sampled_from([0, 80]),
)
def test_typed_behaviour_rules_check_and_round_trip(
    kind_rule: tuple[Kind, Node], width: int
) -> None:
    kind, rule = kind_rule
    schema = ALL_SCHEMAS[kind]
    checked = prepare(format_rule(rule, width), schema, segments=CATALOG, schemas=ALL_SCHEMAS)
    assert parse(checked.text) == checked.tree
    assert from_json(checked.json) == checked.tree
    again = prepare(checked.json, schema, segments=CATALOG, schemas=ALL_SCHEMAS)
    assert again.tree == checked.tree
