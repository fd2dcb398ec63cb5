"""react-querybuilder both ways: cases from its documentation (RuleGroupType and
RuleGroupTypeIC, default operators, comma-separated values), refusals, round trip."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import event, given, settings

from segmentry.errors import ConversionError
from segmentry.model.schema import Kind
from segmentry.rules.convert import convert, querybuilder
from tests.conftest import examples
from tests.rules.convert_oracle import cases, members


def read(query: Any, kind: Kind = Kind.PRODUCT) -> str:
    return str(convert(query, kind=kind, source="querybuilder", target="text"))


def group(*rules: Any, combinator: str = "and", **extra: Any) -> dict[str, Any]:
    return {"combinator": combinator, "rules": list(rules), **extra}


def rule(field: str, operator: str, value: Any = "") -> dict[str, Any]:
    return {"field": field, "operator": operator, "value": value}


@pytest.mark.parametrize(
    ("query", "text"),
    [
        (group(rule("brand", "=", "Nike"), rule("price", ">", "100")),
         "brand = 'Nike' AND price > 100"),
        (group(rule("price", "between", "50,100")), "price BETWEEN 50 AND 100"),
        (group(rule("price", "notBetween", [50, 100])), "price NOT BETWEEN 50 AND 100"),
        (group(rule("brand", "in", "Nike, Puma")), "brand IN ('Nike', 'Puma')"),
        (group(rule("brand", "notIn", ["Nike"])), "brand NOT IN ('Nike')"),
        (group(rule("name", "beginsWith", "Air")), "name STARTS WITH 'Air'"),
        (group(rule("name", "doesNotBeginWith", "Air")), "name NOT STARTS WITH 'Air'"),
        (group(rule("name", "endsWith", "x")), "name ENDS WITH 'x'"),
        (group(rule("name", "doesNotEndWith", "x")), "name NOT ENDS WITH 'x'"),
        (group(rule("name", "contains", "shirt")), "name CONTAINS 'shirt'"),
        (group(rule("tags", "doesNotContain", "sale")), "tags NOT CONTAINS 'sale'"),
        (group(rule("brand", "null", None), rule("sku", "notNull", None), combinator="or"),
         "brand IS NULL OR sku IS NOT NULL"),
        (group(rule("available", "=", "true"), rule("stock", "<=", "3"), rule("price", ">=", 1.5),
               rule("price", "<", 9), rule("brand", "!=", "x")),
         "available = true AND stock <= 3 AND price >= 1.5 AND price < 9 AND brand != 'x'"),
        (group(rule("brand", "=", "a"), group(rule("price", ">", 1), rule("stock", ">", 1),
                                              combinator="or", **{"not": True})),
         "brand = 'a' AND NOT (price > 1 OR stock > 1)"),
        (group(rule("brand", "=", "a"), {**rule("brand", "=", "b"), "disabled": True}),
         "brand = 'a'"),
        # independent combinators: AND binds tighter than OR
        ({"rules": [rule("brand", "=", "a"), "or", rule("price", ">", 1), "and",
                    rule("stock", ">", 1)]},
         "brand = 'a' OR (price > 1 AND stock > 1)"),
        ({"rules": [rule("brand", "=", "a"), "and", rule("price", ">", 1), "or",
                    rule("stock", ">", 1)], "not": True},
         "NOT ((brand = 'a' AND price > 1) OR stock > 1)"),
    ],
)  # fmt: skip
def test_querybuilder_queries_read_as_the_rule_that_means_the_same(query: Any, text: str) -> None:
    assert read(query) == text


@pytest.mark.parametrize(
    ("query", "construct", "location"),
    [
        (group(rule("price", "in", "original_price") | {"valueSource": "field"}),
         "operator 'in' against a field", "rule.rules[0].operator"),
        (group(rule("price", "<", "orignal_price") | {"valueSource": "field"}),
         "field 'orignal_price'", "rule.rules[0].value"),
        (group(rule("tags", "=", "a") | {"match": {"mode": "all"}}),
         "match {'mode': 'all'}", "rule.rules[0].match"),
        (group(rule("brand", "like", "a")), "operator 'like'", "rule.rules[0].operator"),
        (group(rule("brnd", "=", "a")), "field 'brnd'", "rule.rules[0].field"),
        (group(rule("price", ">", "cheap")), ">", "rule.rules[0]"),
        (group(rule("price", "between", "1")), "'1'", "rule.rules[0].value"),
        (group(), "an empty group", "rule.rules"),
        (group(rule("brand", "=", "a"), combinator="xor"), "combinator 'xor'", "rule.combinator"),
    ],
)  # fmt: skip
def test_what_segmentry_cannot_say_is_refused_naming_it_and_where(
    query: Any, construct: str, location: str
) -> None:
    with pytest.raises(ConversionError) as raised:
        read(query)
    assert raised.value.construct == construct
    assert raised.value.location == location


def test_writing_uses_the_negated_operators_and_refuses_matches() -> None:
    out = convert("NOT name STARTS WITH 'a' AND NOT price BETWEEN 1 AND 2",
                  kind=Kind.PRODUCT, source="text", target="querybuilder")  # fmt: skip
    assert out == group(rule("name", "doesNotBeginWith", "a"), rule("price", "notBetween", [1, 2]))
    with pytest.raises(ConversionError, match="MATCHES"):
        convert("sku MATCHES '^a'", kind=Kind.PRODUCT, source="text", target="querybuilder")


def test_two_attributes_compared_are_a_field_value_source_both_ways() -> None:
    query = group(rule("price", "<", "original_price") | {"valueSource": "field"})
    assert read(query) == "price < original_price"
    out = convert("NOT price = original_price AND brand < name", kind=Kind.PRODUCT,
                  source="text", target="querybuilder")  # fmt: skip
    assert out == group(rule("price", "!=", "original_price") | {"valueSource": "field"},
                        rule("brand", "<", "name") | {"valueSource": "field"})  # fmt: skip


def test_the_written_negations_and_contains_none_are_its_operators() -> None:
    text = "name NOT STARTS WITH 'a' AND sku NOT ENDS WITH 'b' AND price NOT BETWEEN 1 AND 2"
    out = convert(text, kind=Kind.PRODUCT, source="text", target="querybuilder")
    assert out == group(rule("name", "doesNotBeginWith", "a"), rule("sku", "doesNotEndWith", "b"),
                        rule("price", "notBetween", [1, 2]))  # fmt: skip
    out = convert("tags CONTAINS NONE ('a', 'b')", kind=Kind.PRODUCT, source="text",
                  target="querybuilder")  # fmt: skip
    assert out == group(rule("tags", "doesNotContain", "a"), rule("tags", "doesNotContain", "b"))


@settings(max_examples=examples(500, 80), deadline=None)
@given(case=cases())
def test_a_rule_through_querybuilder_and_back_selects_the_same_members(
    case: dict[str, Any],
) -> None:
    schema, ctx, shop, node = case["schema"], case["ctx"], case["shop"], case["rule"]
    try:
        query = querybuilder.write(node, schema)
    except ConversionError:
        event("refused: no react-querybuilder operator")
        return
    back = querybuilder.read(query, schema)
    assert members(back, schema, ctx, shop) == members(node, schema, ctx, shop)


def test_a_query_nested_past_the_limit_is_refused_not_a_recursion_error() -> None:
    query: Any = group(rule("brand", "=", "x"))
    for _ in range(5_000):
        query = group(query)
    with pytest.raises(ConversionError, match="nesting deeper than 64"):
        read(query)
