"""Explain: the value seen and the result of each condition, never disagreeing with membership."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from segmentry.match.eval_python import compile_predicate
from segmentry.match.explain import explain
from segmentry.model.schema import SEGMENTED_KINDS, Kind
from segmentry.model.values import encode, validate
from segmentry.rules.check import SegmentInfo, check
from segmentry.rules.load import prepare
from tests.conftest import examples
from tests.rules.golden_files import load_fixture
from tests.rules.strategies import SCHEMAS, SEGMENT_CODES, entity_values, moments, typed_rules

FIXTURE = load_fixture()


def test_each_condition_shows_the_value_seen_and_its_result() -> None:
    kind = Kind.CUSTOMER
    rule = prepare("platform = 'ios' AND (lifetime_value > 100 OR NOT IN SEGMENT 'vip')",
                   FIXTURE.schemas[kind], segments=FIXTURE.segments).tree  # fmt: skip
    record = dict(FIXTURE.records[kind])["c4"]
    tree = explain(rule, FIXTURE.schemas[kind], FIXTURE.ctx, record=record,
                   document=FIXTURE.documents[kind]["c4"], entity_id="c4",
                   members=FIXTURE.members.__getitem__)  # fmt: skip
    assert tree == {
        "and": [
            {"attr": "platform", "op": "=", "value": "ios", "seen": "ios", "result": True},
            {"or": [
                {"attr": "lifetime_value", "op": ">", "value": 100, "seen": 100, "result": False},
                {"not": {"segment": "vip", "result": False}, "result": True},
            ], "result": True},
        ],
        "result": True,
    }  # fmt: skip


def test_a_missing_value_is_seen_as_none() -> None:
    rule = prepare("brand != 'Nike'", FIXTURE.schemas[Kind.PRODUCT]).tree
    tree = explain(rule, FIXTURE.schemas[Kind.PRODUCT], FIXTURE.ctx,
                   record=dict(FIXTURE.records[Kind.PRODUCT])["p4"],
                   document=FIXTURE.documents[Kind.PRODUCT]["p4"], entity_id="p4")  # fmt: skip
    assert tree == {"attr": "brand", "op": "!=", "value": "Nike", "seen": None, "result": True}


def test_a_count_is_seen_as_the_number_of_items() -> None:
    schema = FIXTURE.schemas[Kind.PRODUCT]
    rule = prepare("count(tags) >= 2 OR count(categories) = 0", schema).tree
    tree = explain(rule, schema, FIXTURE.ctx, record=dict(FIXTURE.records[Kind.PRODUCT])["p6"],
                   document=FIXTURE.documents[Kind.PRODUCT]["p6"], entity_id="p6")  # fmt: skip
    assert tree == {
        "or": [
            {"attr": "tags", "fn": "count", "op": ">=", "value": 2, "seen": 0, "result": False},
            {"attr": "categories", "fn": "count", "op": "=", "value": 0, "seen": 0,
             "result": True},
        ],
        "result": True,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("entity_id", "seen", "result"),
    [("c1", "2024-03-15", True), ("c3", "2025-02-28", False), ("c2", None, False)],
)
def test_an_anniversary_is_seen_as_its_next_day(
    entity_id: str, seen: str | None, result: bool
) -> None:
    """c1 was born on 15 March (today), c3 on 29 February (2025 has none), c2 not told."""
    schema = FIXTURE.schemas[Kind.CUSTOMER]
    rule = prepare("anniversary(birthday) BETWEEN today AND +7d", schema).tree
    tree = explain(rule, schema, FIXTURE.ctx,
                   record=dict(FIXTURE.records[Kind.CUSTOMER])[entity_id],
                   document=FIXTURE.documents[Kind.CUSTOMER][entity_id],
                   entity_id=entity_id)  # fmt: skip
    assert tree == {"attr": "birthday", "fn": "anniversary", "op": "between",
                    "value": ["today", "+7d"], "seen": seen, "result": result}  # fmt: skip


def test_two_attributes_compared_show_both_values_seen() -> None:
    schema = FIXTURE.schemas[Kind.PRODUCT]
    rule = prepare("price < original_price", schema).tree
    tree = explain(rule, schema, FIXTURE.ctx, record=dict(FIXTURE.records[Kind.PRODUCT])["p1"],
                   document=FIXTURE.documents[Kind.PRODUCT]["p1"], entity_id="p1")  # fmt: skip
    assert tree == {"attr": "price", "op": "<", "value": {"attr": "original_price"},
                    "seen": 120, "seen_other": 150, "result": True}  # fmt: skip


def test_a_quantified_condition_sees_the_list() -> None:
    schema = FIXTURE.schemas[Kind.PRODUCT]
    rule = prepare("ALL categories = 'shoes'", schema).tree
    tree = explain(rule, schema, FIXTURE.ctx, record=dict(FIXTURE.records[Kind.PRODUCT])["p1"],
                   document=FIXTURE.documents[Kind.PRODUCT]["p1"], entity_id="p1")  # fmt: skip
    assert tree == {"attr": "categories", "each": "all", "op": "=", "value": "shoes",
                    "seen": ["Shoes", "Running"], "result": False}  # fmt: skip


@settings(max_examples=examples(500, 60))
@given(data=st.data())
def test_explain_agrees_with_the_predicate(data: st.DataObject) -> None:
    kind = data.draw(st.sampled_from(list(SEGMENTED_KINDS)))
    schema = SCHEMAS[kind]
    ctx = data.draw(moments())
    document = validate(schema, "e", data.draw(entity_values(schema)), tz=ctx.tz)
    record = encode(schema, document)
    members = {code: data.draw(st.sampled_from([set(), {"e"}])) for code in SEGMENT_CODES}
    catalog = {code: SegmentInfo(kind) for code in SEGMENT_CODES}
    rule = check(data.draw(typed_rules(schema)), schema, segments=catalog)
    predicate = compile_predicate(rule, schema, ctx, members.__getitem__)
    tree = explain(rule, schema, ctx, record=record, document=document, entity_id="e",
                   members=members.__getitem__)  # fmt: skip
    assert tree["result"] is predicate(record, "e")
