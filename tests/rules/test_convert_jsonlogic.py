"""JsonLogic both ways: cases from jsonlogic.com's operations page, refusals, round trip."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import event, given, settings

from segmentry.errors import ConversionError
from segmentry.model.schema import Kind, Schema, declare
from segmentry.rules.convert import convert, jsonlogic
from segmentry.rules.parser import parse
from tests.conftest import examples
from tests.rules.convert_oracle import cases, members

CUSTOMERS = Schema(
    Kind.CUSTOMER, (declare(Kind.CUSTOMER, "loyalty", "enum", values=["Gold", "Silver"]),)
)
PRODUCTS = Schema(Kind.PRODUCT)


def read(data: Any, schema: Schema = PRODUCTS) -> str:
    return str(convert(data, kind=schema.kind, source="jsonlogic", target="text", schema=schema))


@pytest.mark.parametrize(
    ("logic", "text"),
    [
        ({"==": [{"var": "brand"}, "Nike"]}, "brand = 'Nike'"),
        ({"===": ["Nike", {"var": "brand"}]}, "brand = 'Nike'"),
        ({"!=": [{"var": "brand"}, "Nike"]}, "brand != 'Nike'"),
        ({"!==": [{"var": "price"}, 10]}, "price != 10"),
        ({">": [{"var": "price"}, 100]}, "price > 100"),
        ({"<": [100, {"var": "price"}]}, "price > 100"),  # the literal first: flipped
        ({"<": [{"var": "price"}, {"var": "original_price"}]}, "price < original_price"),
        ({"!=": [{"var": "brand"}, {"var": "sku"}]}, "brand != sku"),
        ({"some": [{"var": "tags"}, {"==": [{"var": ""}, "sale"]}]}, "ANY tags = 'sale'"),
        ({"all": [{"var": "categories"}, {"!=": ["x", {"var": ""}]}]}, "ALL categories != 'x'"),
        ({"none": [{"var": "tags"}, {"in": ["old", {"var": ""}]}]}, "NONE tags CONTAINS 'old'"),
        ({"<=": [1, {"var": "stock"}, 10]}, "stock BETWEEN 1 AND 10"),
        # the exclusive range of the three-argument "<" is two strict comparisons
        ({"<": [1, {"var": "stock"}, 10]}, "stock > 1 AND stock < 10"),
        ({"in": ["Spring", {"var": "name"}]}, "name CONTAINS 'Spring'"),
        ({"in": [{"var": "brand"}, ["Nike", "Puma"]]}, "brand IN ('Nike', 'Puma')"),
        ({"in": ["sale", {"var": "tags"}]}, "tags CONTAINS 'sale'"),
        (
            {"and": [{">": [{"var": "price"}, 1]}, {"!": {"var": "available"}}]},
            "price > 1 AND NOT available = true",
        ),
        (
            {"or": [{"==": [{"var": "brand"}, None]}, {"!!": [{"var": "stock"}]}]},
            "brand IS NULL OR (stock IS NOT NULL AND stock != 0)",
        ),
        ({"missing": ["brand", "price"]}, "brand IS NULL OR price IS NULL"),
        ({"missing_some": [1, ["brand", "sku"]]}, "brand IS NULL AND sku IS NULL"),
        ({"!": {"missing": ["brand"]}}, "NOT brand IS NULL"),
        ({"var": "name"}, "name IS NOT NULL"),
        ({"!=": [{"var": "brand"}, None]}, "brand IS NOT NULL"),
    ],
)
def test_jsonlogic_reads_as_the_rule_that_means_the_same(logic: Any, text: str) -> None:
    assert read(logic) == text


def test_custom_attributes_are_read_under_attributes_and_enum_values_take_their_case() -> None:
    logic = {"==": [{"var": "attributes.loyalty"}, "gold"]}
    assert read(logic, CUSTOMERS) == "loyalty = 'Gold'"
    written = jsonlogic.write(parse("loyalty = 'Gold'"), CUSTOMERS)
    assert written == {"==": [{"var": "attributes.loyalty"}, "Gold"]}


@pytest.mark.parametrize(
    ("logic", "construct", "location"),
    [
        ({">": [{"+": [{"var": "price"}, 1]}, 10]}, "'+'", "rule.>[0].+"),
        (
            {"and": [{"==": [{"var": "brand"}, "x"]}, {"some": [{"var": "tags"}, {"==": [1, 1]}]}]},
            "{'==': [1, 1]}",
            "rule.and[1].some[1]",
        ),
        ({"filter": [{"var": "tags"}, True]}, "'filter'", "rule.filter"),
        ({"==": [{"cat": ["a", {"var": "name"}]}, "ab"]}, "'cat'", "rule.==[0].cat"),
        ({"<": [{"var": "price"}, {"var": "created_at"}]}, "<", "rule.<"),
        ({"==": [{"var": "prce"}, 1]}, "prce", "rule.==[0].var"),
        ({"missing_some": [2, ["brand", "sku", "name"]]}, "missing_some", "rule.missing_some"),
        ({"==": [{"var": "price"}, "cheap"]}, "=", "rule.=="),
        ({"reduce": []}, "'reduce'", "rule.reduce"),
    ],
)
def test_what_segmentry_cannot_say_is_refused_naming_it_and_where(
    logic: Any, construct: str, location: str
) -> None:
    with pytest.raises(ConversionError) as raised:
        read(logic)
    assert construct in raised.value.construct or construct in raised.value.message
    assert raised.value.location == location


@pytest.mark.parametrize(
    "text",
    ["name STARTS WITH 'a'", "sku MATCHES '^a'", "IN SEGMENT 'vip'", "name NOT STARTS WITH 'a'",
     "sku NOT ENDS WITH 'a'"],
)  # fmt: skip
def test_writing_refuses_what_jsonlogic_has_no_operator_for(text: str) -> None:
    with pytest.raises(ConversionError):
        convert(text, kind=Kind.PRODUCT, source="text", target="jsonlogic")


@pytest.mark.parametrize(
    ("logic", "location"),
    [({"some": [{"var": "tags"}, {">": [{"var": ""}, "a"]}]}, "rule.some[1]"),
     ({"all": [{"var": "price"}, {"==": [{"var": ""}, "a"]}]}, "rule.all"),
     ({"none": [["a"], {"==": [{"var": ""}, "a"]}]}, "rule.none[0]")],
)  # fmt: skip
def test_a_quantifier_jsonlogic_says_otherwise_is_refused_where(logic: Any, location: str) -> None:
    with pytest.raises(ConversionError) as raised:
        read(logic)
    assert raised.value.location == location


def test_quantifiers_are_written_as_some_all_and_none() -> None:
    def write(text: str) -> Any:
        return convert(text, kind=Kind.PRODUCT, source="text", target="jsonlogic")

    assert write("ANY tags = 'a' AND NONE tags CONTAINS 'b'") == {"and": [
        {"some": [{"var": "tags"}, {"==": [{"var": ""}, "a"]}]},
        {"none": [{"var": "tags"}, {"in": ["b", {"var": ""}]}]},
    ]}  # fmt: skip
    with pytest.raises(ConversionError):
        write("ALL tags STARTS WITH 'a'")


def test_two_attributes_compared_are_two_vars() -> None:
    out = convert("price <= original_price", kind=Kind.PRODUCT, source="text", target="jsonlogic")
    assert out == {"<=": [{"var": "price"}, {"var": "original_price"}]}


def test_not_between_and_contains_none_are_negations_of_their_twins() -> None:
    def write(text: str) -> Any:
        return convert(text, kind=Kind.PRODUCT, source="text", target="jsonlogic")

    assert write("price NOT BETWEEN 1 AND 2") == {"!": {"<=": [1, {"var": "price"}, 2]}}
    assert write("tags CONTAINS NONE ('a', 'b')") == {
        "!": {"or": [{"in": ["a", {"var": "tags"}]}, {"in": ["b", {"var": "tags"}]}]}
    }


@settings(max_examples=examples(500, 80), deadline=None)
@given(case=cases())
def test_a_rule_through_jsonlogic_and_back_selects_the_same_members(case: dict[str, Any]) -> None:
    schema, ctx, shop, rule = case["schema"], case["ctx"], case["shop"], case["rule"]
    try:
        logic = jsonlogic.write(rule, schema)
    except ConversionError:
        event("refused: no JsonLogic operator")
        return
    back = jsonlogic.read(logic, schema)
    assert members(back, schema, ctx, shop) == members(rule, schema, ctx, shop)


def test_a_rule_nested_past_the_limit_is_refused_not_a_recursion_error() -> None:
    logic: Any = {"==": [{"var": "brand"}, "x"]}
    for _ in range(5_000):
        logic = {"!": logic}
    with pytest.raises(ConversionError, match="nesting deeper than 64"):
        read(logic)
