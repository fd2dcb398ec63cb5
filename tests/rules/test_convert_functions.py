"""Functions of an attribute (``count(tags)``), list quantifiers (``ANY tags``) and two
attributes compared, in every format that writes rules: written where the format has
an equivalent (each format's own tests check the meaning), otherwise refused by name,
never written as a test of the attribute itself."""

from __future__ import annotations

import pytest

from segmentry.errors import ConversionError
from segmentry.model.schema import Kind
from segmentry.rules.convert import convert

REFUSED = [
    # JsonLogic has no count of a list (its reduce is refused on reading too)
    ("count(tags) >= 2", "jsonlogic", None, "count(tags)"),
    ("orders_count > 1 AND NOT count(tags) = 1", "jsonlogic", None, "count(tags)"),
    # react-querybuilder counts whole items only
    ("count(tags) = 1.5", "querybuilder", None, "count(tags) = 1.5"),
    ("ALL tags MATCHES '^a'", "querybuilder", None, "ALL tags MATCHES"),
    # Shopify: CONTAINS, and IS NULL for no items; nothing else
    ("count(tags) >= 2", "shopify", None, "count(tags) >= 2"),
    ("NOT ALL tags = 'a'", "shopify", None, "ALL tags = 'a'"),
    ("orders_count > 1 OR ANY tags STARTS WITH 'a'", "shopify", None, "ANY tags STARTS WITH 'a'"),
    ("lifetime_value > orders_count", "shopify", None, "lifetime_value > orders_count"),
    # warehouses: patterns differ from one to the next
    ("NONE tags MATCHES 'a'", "sql", "sqlite", "NONE tags MATCHES"),
    ("ANY tags MATCHES 'a'", "sql", "postgres", "ANY tags MATCHES"),
    # JsonLogic and react-querybuilder have no anniversaries
    *(
        (text, target, None, text.removeprefix("NOT ").split(" ")[0])
        for text in (
            "anniversary(birthday) = today",
            "NOT anniversary(created_at) BETWEEN today AND +7d",
        )
        for target in ("jsonlogic", "querybuilder")
    ),
    # Shopify's anniversary negates = only
    (
        "NOT anniversary(created_at) BETWEEN today AND +7d",
        "shopify",
        None,
        "NOT anniversary(created_at) BETWEEN",
    ),
]
WRITTEN = [
    (text, target, dialect)
    for text in ("count(tags) >= 2", "NOT count(tags) = 1", "ANY tags STARTS WITH 'a'",
                 "NOT ALL tags = 'a'", "orders_count > 1 OR NONE tags = 'a'",
                 "lifetime_value > orders_count")
    for target, dialect in (("querybuilder", None), *(("sql", d) for d in
                            ("sqlite", "postgres", "duckdb", "bigquery", "snowflake")))
] + [
    (text, target, dialect)
    for text in ("anniversary(birthday) = today", "NOT anniversary(created_at) = tomorrow")
    for target, dialect in (("shopify", None), *(("sql", d) for d in
                            ("sqlite", "postgres", "duckdb", "bigquery", "snowflake")))
]  # fmt: skip


@pytest.mark.parametrize(("text", "target", "dialect", "construct"), REFUSED)
def test_what_a_format_cannot_say_is_refused_naming_it(
    text: str, target: str, dialect: str | None, construct: str
) -> None:
    with pytest.raises(ConversionError) as raised:
        convert(text, kind=Kind.CUSTOMER, source="text", target=target, dialect=dialect)
    assert raised.value.construct == construct


@pytest.mark.parametrize(("text", "target", "dialect"), WRITTEN)
def test_counts_quantifiers_pairs_and_anniversaries_are_written_where_the_format_can(
    text: str, target: str, dialect: str | None
) -> None:
    written = convert(text, kind=Kind.CUSTOMER, source="text", target=target, dialect=dialect)
    assert any(key in str(written) for key in ("tags", "orders_count", "birth", "created", "added"))
