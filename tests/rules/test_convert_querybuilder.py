"""react-querybuilder both ways: cases from its documentation (RuleGroupType and
RuleGroupTypeIC, default operators, comma-separated values), refusals, round trip."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from segmentry.errors import ConversionError
from segmentry.model.schema import Kind
from segmentry.rules.convert import convert, querybuilder
from tests.conftest import examples
from tests.rules.convert_oracle import build_shop, cases, members
from tests.rules.strategies import SCHEMAS


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
        (group(rule("tags", "=", "a") | {"match": {"mode": "all"}}), "'a'",
         "rule.rules[0].value"),
        (group(rule("tags", "=", "a") | {"match": {"mode": "every"}}),
         "match {'mode': 'every'}", "rule.rules[0].match"),
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


def items(*rules: Any, **extra: Any) -> dict[str, Any]:
    """A subquery over the items of a list of strings (react-querybuilder's ``field: ""``)."""
    return group(*rules, **extra)


def matching(field: str, mode: str, subquery: Any, threshold: Any = None) -> dict[str, Any]:
    match = {"mode": mode} if threshold is None else {"mode": mode, "threshold": threshold}
    return {"field": field, "operator": "=", "match": match, "value": subquery}


@pytest.mark.parametrize(
    ("query", "text"),
    [
        (group(matching("tags", "some", items(rule("", "beginsWith", "sale-")))),
         "ANY tags STARTS WITH 'sale-'"),
        (group(matching("categories", "all", items(rule("", "endsWith", "wear")))),
         "ALL categories ENDS WITH 'wear'"),
        (group(matching("tags", "none", items(rule("", "=", "blocked")))),
         "NONE tags = 'blocked'"),
        (group(matching("tags", "some", items(rule("", "!=", "a")))), "ANY tags != 'a'"),
        (group(matching("tags", "all", items(rule("", "contains", "x")))),
         "ALL tags CONTAINS 'x'"),
        # react-querybuilder's own exports read atLeast 1 as some and atMost 0 as none
        (group(matching("tags", "atLeast", items(rule("", "contains", "abc")), 1)),
         "ANY tags CONTAINS 'abc'"),
        (group(matching("tags", "atMost", items(rule("", "contains", "abc")), 0)),
         "NONE tags CONTAINS 'abc'"),
        # the negated tests, through their positive twins
        (group(matching("tags", "all", items(rule("", "doesNotContain", "x")))),
         "count(tags) >= 1 AND NONE tags CONTAINS 'x'"),
        (group(matching("tags", "some", items(rule("", "doesNotBeginWith", "a")))),
         "count(tags) >= 1 AND NOT ALL tags STARTS WITH 'a'"),
        (group(matching("tags", "none", items(rule("", "doesNotEndWith", "a")))),
         "NOT (count(tags) >= 1 AND NOT ALL tags ENDS WITH 'a')"),
        # a subquery every item passes: only the number of items counts
        (group(matching("tags", "atLeast", items(rule("", "notNull", None)), 2)),
         "count(tags) >= 2"),
        (group(matching("tags", "atMost", items(), 3)), "count(tags) <= 3"),
        (group(matching("tags", "exactly", items(rule("", "notNull", None)), 0)),
         "count(tags) = 0"),
        (group(matching("tags", "some", items())), "count(tags) >= 1"),
        (group(matching("tags", "none", items())), "count(tags) <= 0"),
        (group(matching("tags", "exactly", items(rule("", "notNull", None)), 2.0)),
         "count(tags) = 2"),
        (group(matching("tags", "some", items(rule("", "=", "a"), {**rule("", "=", "b"),
                                                                    "disabled": True}))),
         "ANY tags = 'a'"),
    ],
)  # fmt: skip
def test_match_modes_over_lists_read_as_quantifiers_and_counts(query: Any, text: str) -> None:
    assert read(query) == text


@pytest.mark.parametrize(
    ("query", "construct", "location"),
    [
        # the example of react-querybuilder's subquery docs: items *passing a test* counted
        (group(rule("brand", "=", "a"),
               matching("tags", "atMost", items(rule("", "contains", "abc")), 2)),
         "match mode 'atMost'", "rule.rules[1].match"),
        (group(matching("tags", "atLeast", items(rule("", "=", "a")), 2)),
         "match mode 'atLeast'", "rule.rules[0].match"),
        (group(matching("tags", "exactly", items(rule("", "=", "a")), 0)),
         "match mode 'exactly'", "rule.rules[0].match"),
        (group(matching("tags", "atLeast", items(), 0.5)), "threshold 0.5",
         "rule.rules[0].match.threshold"),
        (group(matching("tags", "atMost", items(), None)), "threshold None",
         "rule.rules[0].match.threshold"),
        (group(matching("tags", "exactly", items(), -1)), "threshold -1",
         "rule.rules[0].match.threshold"),
        (group(matching("brand", "some", items(rule("", "=", "a")))), "match on brand",
         "rule.rules[0].match"),
        (group(matching("tags", "some", items(rule("", "=", "a"), rule("", "=", "b")))),
         "a subquery of several tests", "rule.rules[0].value.rules"),
        (group(matching("tags", "all", items(rule("firstName", "=", "a")))),
         "field 'firstName'", "rule.rules[0].value.rules[0].field"),
        (group(matching("tags", "all", items(rule("", "in", "a,b")))),
         "operator 'in' in a subquery", "rule.rules[0].value.rules[0].operator"),
        (group(matching("tags", "all", items(rule("", "=", 3)))), "3",
         "rule.rules[0].value.rules[0].value"),
    ],
)  # fmt: skip
def test_match_modes_segmentry_cannot_say_are_refused_naming_the_mode_and_path(
    query: Any, construct: str, location: str
) -> None:
    with pytest.raises(ConversionError) as raised:
        read(query)
    assert raised.value.construct == construct
    assert raised.value.location == location


def test_quantifiers_and_counts_are_written_as_match_modes() -> None:
    out = convert("ANY tags STARTS WITH 'sale-' AND count(tags) > 1.5", kind=Kind.PRODUCT,
                  source="text", target="querybuilder")  # fmt: skip
    every = items(rule("", "notNull", None))
    del every["rules"][0]["value"]
    assert out == group(matching("tags", "some", items(rule("", "beginsWith", "sale-"))),
                        matching("tags", "atLeast", every, 2))  # fmt: skip
    with pytest.raises(ConversionError) as raised:
        convert("count(tags) = 1.5", kind=Kind.PRODUCT, source="text", target="querybuilder")
    assert raised.value.construct == "count(tags) = 1.5"
    with pytest.raises(ConversionError) as raised:
        convert("brand = 'a' AND ALL tags MATCHES '^a'", kind=Kind.PRODUCT, source="text",
                target="querybuilder")  # fmt: skip
    assert (raised.value.construct, raised.value.location) == ("ALL tags MATCHES", "rule.and[1]")


@settings(max_examples=examples(400, 60), deadline=None)
@given(case=cases(second_round=True))
def test_counts_quantifiers_and_pairs_through_querybuilder_and_back_select_the_same(
    case: dict[str, Any],
) -> None:
    schema, ctx, shop, node = case["schema"], case["ctx"], case["shop"], case["rule"]
    try:
        query = querybuilder.write(node, schema)
    except ConversionError as exc:
        event(f"refused: {exc.construct}"[:40])
        return
    back = querybuilder.read(query, schema)
    assert members(back, schema, ctx, shop) == members(node, schema, ctx, shop)
    event("round trip")


def test_negated_item_tests_mean_what_react_querybuilder_means() -> None:
    """all/some/none of doesNotContain, against the items themselves (the oracle)."""
    from datetime import UTC, datetime

    from segmentry.model.temporal import EvalContext

    schema = SCHEMAS[Kind.PRODUCT]
    ctx = EvalContext(datetime.now(UTC), UTC)
    lists: list[list[str]] = [[], ["xa"], ["b"], ["xa", "b"], ["b", "c"]]
    shop = build_shop(schema, [{"tags": t} if t else {} for t in lists], ctx)
    expected = {
        "all": lambda t: bool(t) and all("x" not in i for i in t),
        "some": lambda t: any("x" not in i for i in t),
        "none": lambda t: not any("x" not in i for i in t),
    }
    for mode, holds in expected.items():
        node = querybuilder.read(
            group(matching("tags", mode, items(rule("", "doesNotContain", "x")))), schema
        )
        chosen = {f"e{n}" for n, t in enumerate(lists) if holds(t)}
        assert members(node, schema, ctx, shop) == chosen, mode


ITEM_TESTS: dict[str, Any] = {
    "=": lambda item, v: item == v,
    "!=": lambda item, v: item != v,
    "contains": lambda item, v: v in item,
    "beginsWith": lambda item, v: item.startswith(v),
    "endsWith": lambda item, v: item.endswith(v),
    "doesNotContain": lambda item, v: v not in item,
    "doesNotBeginWith": lambda item, v: not item.startswith(v),
    "doesNotEndWith": lambda item, v: not item.endswith(v),
    "notNull": lambda item, v: True,
}
MODE_HOLDS: dict[str, Any] = {
    "all": lambda passing, total, n: total > 0 and passing == total,
    "some": lambda passing, total, n: passing > 0,
    "none": lambda passing, total, n: passing == 0,
    "atLeast": lambda passing, total, n: passing >= n,
    "atMost": lambda passing, total, n: passing <= n,
    "exactly": lambda passing, total, n: passing == n,
}
"""react-querybuilder's meaning of each match mode (its JsonLogic export: ``all`` of an
empty list is false), over the items folded as segmentry compares them."""
TAGS = st.lists(st.sampled_from(["a", "ab", "B", "ba", "abc", "c"]), max_size=4)


MATCHES = st.fixed_dictionaries({
    "lists": st.lists(TAGS, min_size=1, max_size=8),
    "mode": st.sampled_from(list(MODE_HOLDS)),
    "operator": st.sampled_from(list(ITEM_TESTS)),
    "value": st.sampled_from(["a", "b", "A", "c", "ab"]),
    "threshold": st.integers(0, 3),
    "empty": st.booleans(),
})  # fmt: skip


@settings(max_examples=examples(400, 80), deadline=None)
@given(case=MATCHES)
def test_a_match_mode_read_selects_what_react_querybuilder_selects(case: dict[str, Any]) -> None:
    from datetime import UTC, datetime

    from segmentry.model.temporal import EvalContext

    mode, operator, value = case["mode"], case["operator"], case["value"]
    schema = SCHEMAS[Kind.PRODUCT]
    ctx = EvalContext(datetime.now(UTC), UTC)
    shop = build_shop(schema, [{"tags": t} for t in case["lists"]], ctx)
    test = {"field": "", "operator": operator, "value": value}
    subquery = items() if case["empty"] and operator == "notNull" else items(test)
    query = group(matching("tags", mode, subquery, case["threshold"]))
    refused = ""
    try:
        node = querybuilder.read(query, schema)
    except ConversionError as exc:
        refused = exc.construct
    if refused:  # only a count of the items passing a test is refused
        assert (refused, operator != "notNull") == (f"match mode {mode!r}", True)
        event("refused")
        return
    expected = set()
    for n, (_, doc, _) in enumerate(shop):
        stored = [i.lower() for i in doc.get("tags") or []]
        passing = sum(1 for i in stored if ITEM_TESTS[operator](i, value.lower()))
        if MODE_HOLDS[mode](passing, len(stored), case["threshold"]):
            expected.add(f"e{n}")
    assert members(node, schema, ctx, shop) == expected, node
    event(f"read {mode}")
