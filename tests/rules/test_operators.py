"""The registry of operators is what every part of the language reads and writes."""

from __future__ import annotations

import pytest

from segmentry.errors import RuleError, ValidationError
from segmentry.model.schema import RESERVED_KEYS, AttrType, Kind, Schema
from segmentry.model.suggest import MAX_SUGGESTIONS
from segmentry.model.values import MAX_SUGGESTED, validate
from segmentry.rules.ast import Condition
from segmentry.rules.check import check
from segmentry.rules.jsonform import from_json, to_json
from segmentry.rules.operators import (
    BY_TYPE,
    EACH_OPS,
    NEGATION,
    OPERATORS,
    Arity,
    Each,
    Op,
    Operator,
)
from segmentry.rules.parser import KEYWORDS, LITERAL_WORDS, parse
from segmentry.rules.printer import format_rule
from segmentry.web.editor import dates
from segmentry.web.editor.builder import LABELS, operators
from tests.rules.strategies import ONE_OF_EACH_TYPE

SAMPLES = {
    AttrType.STRING: ("'a'", "a"), AttrType.ENUM: ("'Gold'", "Gold"),
    AttrType.NUMBER: ("1.5", 1.5), AttrType.INTEGER: ("2", 2),
    AttrType.BOOLEAN: ("true", True), AttrType.DATE: ("2024-03-01", "2024-03-01"),
    AttrType.DATETIME: ("2024-03-01T10:00:00Z", "2024-03-01T10:00:00Z"),
    AttrType.STRING_LIST: ("'a'", "a"),
}  # fmt: skip
"""A literal of each type as the text form writes it, and as the tree holds it."""
IDS = [row.op.name for row in OPERATORS]


def operand(operator: Operator, type_: AttrType) -> str:
    literal = SAMPLES[type_][0]
    return {
        Arity.NONE: "",
        Arity.ONE: f" {literal}",
        Arity.PAIR: f" {literal} AND {literal}",
        Arity.LIST: f" ({literal})",
    }[operator.arity]


def any_type(operator: Operator) -> AttrType:
    return next(t for t in AttrType if t in operator.types)


@pytest.mark.parametrize("operator", OPERATORS, ids=IDS)
def test_each_spelling_of_an_operator_reads_as_it_and_prints_as_its_text(
    operator: Operator,
) -> None:
    type_ = any_type(operator)
    for spelling in (operator.text, operator.text.lower(), *operator.aliases):
        tree = parse(f"x_{type_.value} {spelling}{operand(operator, type_)}")
        assert isinstance(tree, Condition)
        assert tree.op is operator.op
        assert format_rule(tree) == f"x_{type_.value} {operator.text}{operand(operator, type_)}"
    for name in (operator.op.value, operator.op.value.upper(), *operator.aliases):
        shaped = {**to_json(tree), "op": name}
        assert from_json(shaped) == tree


@pytest.mark.parametrize("operator", OPERATORS, ids=IDS)
@pytest.mark.parametrize("type_", list(AttrType))
def test_the_checker_accepts_an_operator_on_exactly_the_types_the_registry_names(
    operator: Operator, type_: AttrType
) -> None:
    text = f"x_{type_.value} {operator.text}{operand(operator, type_)}"
    if type_ in operator.types:
        check(parse(text), ONE_OF_EACH_TYPE, text=text)
        return
    with pytest.raises(RuleError) as caught:
        check(parse(text), ONE_OF_EACH_TYPE, text=text)
    assert (
        f"{operator.text!r} does not apply to x_{type_.value}"
        in caught.value.diagnostics[0].message
    )


def test_negation_twins_pair_up_and_apply_to_the_same_types() -> None:
    for op, twin in NEGATION.items():
        assert NEGATION[twin] is op
        assert BY_TYPE.keys() == set(AttrType)
        assert {t for t in AttrType if op in BY_TYPE[t]} == {
            t for t in AttrType if twin in BY_TYPE[t]
        }
        assert op.positive is (twin if op.is_negative else op)


def test_every_word_of_the_language_is_a_reserved_attribute_key() -> None:
    """model/ keeps its reserved keys by hand (it may not import rules/): they must hold
    every keyword and literal word, or an attribute could be named so no rule can name it."""
    words = {w.lower() for w in KEYWORDS | LITERAL_WORDS.keys()}
    assert words <= RESERVED_KEYS


def test_an_unknown_operator_is_answered_with_every_operator() -> None:
    with pytest.raises(RuleError) as caught:
        parse("price 1")
    hint = caught.value.diagnostics[0].hint
    assert hint == "operators are " + ", ".join(row.text for row in OPERATORS)


def test_the_rule_builder_offers_and_labels_what_the_registry_says() -> None:
    assert set(LABELS) >= {op.value for op in Op}
    for type_ in AttrType:
        attribute = ONE_OF_EACH_TYPE.get(f"x_{type_.value}")
        # Dates also offer the spoken forms ("in the last 30 days"), written with > and <.
        spoken = list(dates.RELATIVE_OPS) if type_.is_temporal else []
        # Lists also offer each string test under each quantifier ("any item starts with").
        quantified = [
            f"{each.value} {row.op.value}"
            for each in Each
            for row in OPERATORS
            if row.op in EACH_OPS and type_ is AttrType.STRING_LIST
        ]
        assert (
            operators(attribute, f"x_{type_.value}")
            == spoken + [row.op.value for row in OPERATORS if type_ in row.types] + quantified
        )


def test_suggestions_stop_after_the_first_few_unknown_names_of_a_rule() -> None:
    text = " AND ".join(["prce > 1"] * (MAX_SUGGESTIONS + 5))
    with pytest.raises(RuleError) as caught:
        check(parse(text), Schema(Kind.PRODUCT), text=text)
    hints = [d.hint for d in caught.value.diagnostics]
    assert hints[:MAX_SUGGESTIONS] == ["did you mean 'price'?"] * MAX_SUGGESTIONS
    assert all(not h.startswith("did you mean") for h in hints[MAX_SUGGESTIONS:])


def test_suggestions_stop_after_the_first_few_unknown_keys_of_an_entity() -> None:
    """The first few unknown keys are named with the key meant; the rest are counted."""
    values = {"prce": 1} | {f"price{chr(97 + n)}": 1 for n in range(MAX_SUGGESTED + 4)}
    with pytest.raises(ValidationError) as caught:
        validate(Schema(Kind.PRODUCT), "p1", values)
    problems = caught.value.problems
    assert len(problems) == MAX_SUGGESTED + 1
    assert sum("did you mean" in p for p in problems) == MAX_SUGGESTED
    assert problems[0] == "product p1: unknown attribute 'prce'; did you mean 'price'?"
    assert problems[-1] == "product p1: and 5 more unknown attributes"
