"""Functions of an attribute (``count(tags)``) and list quantifiers (``ANY tags``) have
no counterpart in the other formats yet: writing one is refused by name, never written
as a test of the attribute itself. Nor have two attributes compared, in Shopify's
queries and the SQL export."""

from __future__ import annotations

import pytest

from segmentry.errors import ConversionError
from segmentry.model.schema import Kind
from segmentry.rules.convert import convert

TARGETS = [("jsonlogic", None), ("querybuilder", None), ("shopify", None), ("sql", "sqlite"),
           ("sql", "postgres")]  # fmt: skip


COUNTS = ["count(tags) >= 2", "NOT count(tags) = 1", "orders_count > 1 AND count(tags) < 3"]
QUANTIFIED = [("ANY tags STARTS WITH 'a'", "ANY tags"), ("NOT ALL tags = 'a'", "ALL tags"),
              ("orders_count > 1 OR NONE tags = 'a'", "NONE tags")]  # fmt: skip
ANNIVERSARIES = [
    "anniversary(birthday) = today",
    "NOT anniversary(created_at) BETWEEN today AND +7d",
]
CASES = (
    [(text, "count(tags)", *target) for text in COUNTS for target in TARGETS]
    + [
        (text, text.removeprefix("NOT ").split(" ")[0], *target)
        for text in ANNIVERSARIES
        for target in TARGETS
    ]
    + [
        (text, construct, *target)
        for text, construct in QUANTIFIED
        for target in TARGETS
        if target[0] != "jsonlogic"  # JsonLogic has some, all and none: see its converter's tests
    ]
)


@pytest.mark.parametrize(("text", "construct", "target", "dialect"), CASES)
def test_a_count_or_a_quantifier_is_refused_naming_it(
    text: str, construct: str, target: str, dialect: str | None
) -> None:
    with pytest.raises(ConversionError) as raised:
        convert(text, kind=Kind.CUSTOMER, source="text", target=target, dialect=dialect)
    assert raised.value.construct == construct


@pytest.mark.parametrize(("target", "dialect"), [("shopify", None), ("sql", "sqlite")])
def test_two_attributes_compared_are_refused_where_the_format_cannot_say_it(
    target: str, dialect: str | None
) -> None:
    with pytest.raises(ConversionError) as raised:
        convert("lifetime_value > orders_count", kind=Kind.CUSTOMER, source="text",
                target=target, dialect=dialect)  # fmt: skip
    assert raised.value.construct == "lifetime_value > orders_count"
