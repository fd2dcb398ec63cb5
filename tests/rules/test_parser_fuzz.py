"""Any text yields a rule or a RuleError pointing into it: never another exception,
never a RecursionError, never a hang. At least 20,000 generated inputs per CI run."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from segmentry.errors import RuleError
from segmentry.model.limits import MAX_DEPTH, MAX_TEXT_LENGTH
from segmentry.rules.ast import Node
from segmentry.rules.jsonform import from_json, to_json
from segmentry.rules.parser import parse
from segmentry.rules.printer import format_rule
from tests.conftest import examples

VOCABULARY = [
    "AND", "OR", "NOT", "IN", "SEGMENT", "CONTAINS", "ANY", "ALL", "STARTS", "ENDS", "WITH",
    "MATCHES", "IS", "NULL", "BETWEEN", "true", "no", "today", "price", "brand", "tags", "x",
    "=", "!=", "<>", "<", "<=", ">", ">=", "==", "(", ")", ",", "'", '"', "\\", "'a'", '"b\\"',
    "'\\x4", "'\\u12'", "42", "-3.5", "1.", ".5", "2024-01-01", "2024-13-45", "2024-01-01T10:00Z",
    "2024-01-01T25:00", "-30d", "+2w", "-99999999y", "30_days_ago", "7_DAYS_AGO", "9" * 30, "é",
    "\x00", "\n", "\t", "💥", "&&", "[", "]", "{", "}", ";", "-", "+", "_", "#",
]  # fmt: skip


def assert_rule_or_positioned_error(text: str) -> Node | None:
    try:
        node = parse(text)
    except RuleError as exc:
        for d in exc.diagnostics:
            assert 0 <= d.offset <= len(text), (d, len(text))
            assert d.line >= 1
            assert d.column >= 1
            assert d.message
        exc.render()
        return None
    assert parse(format_rule(node)) == node
    return node


token_soup = st.lists(
    st.tuples(st.sampled_from(VOCABULARY), st.sampled_from(["", " ", "  ", "\n"])), max_size=30
).map(lambda parts: "".join(t + sep for t, sep in parts))

VALID = [
    "brand = 'Nike' AND price > 100",
    "NOT (country = 'ES' OR country = 'PT')",
    "tags CONTAINS ANY ('a', 'b') AND created_at BETWEEN 2024-01-01 AND 2024-12-31",
    "IN SEGMENT 'vip' AND NOT IN SEGMENT 'churned' OR sku MATCHES '^AB-[0-9]+$'",
    'last_order_at > -30d AND brand IS NOT NULL AND name STARTS WITH "Air"',
]


@st.composite
def mutated(draw: st.DrawFn) -> str:
    text = list(draw(st.sampled_from(VALID)))
    rng = random.Random(draw(st.integers(0, 2**32)))
    for _ in range(draw(st.integers(1, 6))):
        at = rng.randrange(len(text) + 1)
        action = rng.choice(["insert", "delete", "swap", "dup"])
        if action == "insert":
            text.insert(at, rng.choice(VOCABULARY))
        elif text and action == "delete":
            del text[min(at, len(text) - 1)]
        elif text and action == "swap":
            other = rng.randrange(len(text))
            at = min(at, len(text) - 1)
            text[at], text[other] = text[other], text[at]
        elif text:
            text[at:at] = text[max(0, at - 5) : at]
    return "".join(text)


inputs = st.one_of(
    token_soup,
    mutated(),
    st.text(max_size=60),
    st.binary(max_size=60).map(lambda b: b.decode("latin-1")),
)


@settings(max_examples=examples(20_000, 1_500))
@given(text=inputs)
def test_parser_only_ever_raises_rule_errors(text: str) -> None:
    assert_rule_or_positioned_error(text)


def test_huge_and_deep_inputs_are_refused_with_a_position() -> None:
    long_string = "name = '" + "a" * 100_000 + "'"
    deep_parens = "(" * 10_000 + "price > 1" + ")" * 10_000
    deep_not = "NOT " * 10_000 + "price > 1"
    unterminated = "name = '" + "\\'" * 30_000
    many = " AND ".join(f"price > {i}" for i in range(5_000))
    for text in (long_string, deep_parens, deep_not, unterminated, many, "'" * 100_000):
        assert assert_rule_or_positioned_error(text) is None


def test_the_limits_are_where_the_docs_say() -> None:
    assert parse("(" * MAX_DEPTH + "price > 1" + ")" * MAX_DEPTH) is not None
    assert (
        assert_rule_or_positioned_error("(" * (MAX_DEPTH + 1) + "a = 1" + ")" * (MAX_DEPTH + 1))
        is None
    )
    assert assert_rule_or_positioned_error("a = '" + "x" * MAX_TEXT_LENGTH + "'") is None


def test_deep_json_is_refused_without_recursing() -> None:
    data: dict[str, object] = {"attr": "price", "op": ">", "value": 1}
    for _ in range(10_000):
        data = {"not": data}
    with pytest.raises(RuleError, match="nested too deeply"):
        from_json(data)


JSON_KEYS = st.sampled_from(["and", "or", "not", "segment", "attr", "op", "value", "x"])
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=8)),
    lambda kids: st.one_of(
        st.lists(kids, max_size=3), st.dictionaries(JSON_KEYS, kids, max_size=3)
    ),
    max_leaves=12,
)


@settings(max_examples=examples(3_000, 300))
@given(data=json_values)
def test_from_json_only_ever_raises_rule_errors(data: object) -> None:
    try:
        node = from_json(data)
    except RuleError:
        return
    assert from_json(to_json(node)) == node
    assert parse(format_rule(node)) == node
