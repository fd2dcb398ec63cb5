"""Behaviour functions in the rule language (docs/behaviour.md): what the text and JSON
forms read, how they print, and what the checker says of a wrong one, and where."""

from __future__ import annotations

import pytest

from segmentry.errors import ConversionError, RuleError
from segmentry.model.schema import Kind, Schema, declare
from segmentry.rules.ast import And, Behaviour, Condition, InSegment, Not, Or, Span, cross_refs
from segmentry.rules.check import SegmentInfo, check
from segmentry.rules.convert import convert, write_rule
from segmentry.rules.jsonform import from_json, to_json
from segmentry.rules.load import prepare
from segmentry.rules.operators import Act, Op
from segmentry.rules.parser import parse
from segmentry.rules.printer import format_rule

SCHEMAS = {
    Kind.CUSTOMER: Schema(Kind.CUSTOMER, (declare(Kind.CUSTOMER, "loyalty", "string"),)),
    Kind.PRODUCT: Schema(Kind.PRODUCT, (declare(Kind.PRODUCT, "season", "string"),)),
    Kind.ORDER: Schema(Kind.ORDER, (declare(Kind.ORDER, "coupon", "string"),)),
}
SEGMENTS = {
    "vip": SegmentInfo(Kind.CUSTOMER),
    "premium": SegmentInfo(Kind.PRODUCT),
    "loop_p": SegmentInfo(Kind.PRODUCT, cross=("loop_a",)),
    "loop_b": SegmentInfo(Kind.CUSTOMER, cross=("loop_p2",)),
    "loop_p2": SegmentInfo(Kind.PRODUCT, cross=("loop_a",)),
}


def checked(text: str, kind: Kind = Kind.CUSTOMER, own: str | None = None) -> str:
    return prepare(text, SCHEMAS[kind], segments=SEGMENTS, own_code=own, schemas=SCHEMAS).text


def problems(source: str | dict[str, object], kind: Kind = Kind.CUSTOMER,
             own: str | None = None) -> list[str]:  # fmt: skip
    """Each problem as ``line:column message | hint``."""
    with pytest.raises(RuleError) as caught:
        prepare(source, SCHEMAS[kind], segments=SEGMENTS, own_code=own, schemas=SCHEMAS)
    return [
        f"{d.line}:{d.column} {d.message}" + (f" | {d.hint}" if d.hint else "")
        for d in caught.value.diagnostics
    ]


# -- the text form -----------------------------------------------------------------------


def test_the_examples_of_the_spec_read_as_behaviour_trees() -> None:
    assert parse("amount_spent(channel = 'app', since: -1y) > 500") == Behaviour(
        Act.AMOUNT_SPENT, Condition("channel", Op.EQ, "app"), "-1y", None, Op.GT, 500
    )
    assert parse("purchased(IN SEGMENT 'premium', since: -30d, until: 2024-12-31)") == (
        Behaviour(Act.PURCHASED, InSegment("premium"), "-30d", "2024-12-31")
    )
    assert parse("orders_placed() >= 2") == Behaviour(Act.ORDERS_PLACED, op=Op.GE, value=2)
    assert parse("NOT purchased(brand = 'Nike')") == Not(
        Behaviour(Act.PURCHASED, Condition("brand", Op.EQ, "Nike"))
    )


def test_the_condition_is_a_whole_rule_and_the_window_its_named_arguments() -> None:
    rule = parse(
        "units_purchased(NOT (brand = 'a' OR IN SEGMENT 'p') AND price > 3, until: today) < 2"
    )
    assert rule == Behaviour(
        Act.UNITS_PURCHASED,
        And((Not(Or((Condition("brand", Op.EQ, "a"), InSegment("p")))),
             Condition("price", Op.GT, 3))),
        until="today", op=Op.LT, value=2,
    )  # fmt: skip
    assert parse("units_sold(since: 30_days_ago) > 1") == parse("units_sold(SINCE: -30d) > 1")


def test_an_attribute_named_like_a_function_is_still_an_attribute() -> None:
    assert parse("revenue > 5") == Condition("revenue", Op.GT, 5)
    assert parse("units_sold >= 2 AND revenue(since: -1m) > 5") == And(
        (Condition("units_sold", Op.GE, 2), Behaviour(Act.REVENUE, None, "-1m", op=Op.GT, value=5))
    )
    assert checked("revenue > 5", Kind.PRODUCT) == "revenue > 5"


def test_spans_point_at_the_name_the_window_and_the_comparison() -> None:
    text = "x = 1 AND amount_spent(since: -1y, until: today) >= 99.5"
    node = parse(text)
    assert isinstance(node, And)
    call = node.items[1]
    assert isinstance(call, Behaviour)

    def at(span: Span) -> str:
        return text[span.start : span.end]

    spans = call.spans
    assert [at(s) for s in (spans.name, spans.since, spans.until, spans.op, spans.value)] == [
        "amount_spent", "since: -1y", "until: today", ">=", "99.5"
    ]  # fmt: skip
    assert at(call.span) == "amount_spent(since: -1y, until: today) >= 99.5"


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("amount_spent(since: -1y)", "1:25 expected a comparison after amount_spent(...), found "
         "the end of the rule | amount_spent() is a number: compare it with =, !=, <, <=, >, >=, "
         "as in amount_spent() >= 1"),
        ("purchased(brand = 'x') > 2", "1:24 purchased() is true or false on its own: it takes "
         "no comparison | to compare the units bought, use units_purchased(...) >= 2"),
        ("orders_placed(snce: -30d) > 1", "1:15 unknown argument 'snce' of orders_placed() | "
         "did you mean since?"),
        ("orders_placed(untl: -30d) > 1", "1:15 unknown argument 'untl' of orders_placed() | "
         "did you mean until?"),
        ("orders_placed(until: -1d, since: -30d) > 1", "1:27 since: comes before until: | "
         "orders_placed(since: -30d, until: -7d)"),
        ("orders_placed(since: -1d, since: -30d) > 1", "1:27 since: is given twice"),
        ("orders_placed(since -30d) > 1", "1:21 expected ':' after since | write since: -30d"),
        ("orders_placed(since: 30) > 1", "1:22 expected a date or relative time after since:, "
         "found number '30' | since: and until: take -30d, 2024-01-01, 2024-01-01T10:00:00Z "
         "or today"),
        ("orders_placed(channel = 'app' since: -30d) > 1", "1:31 expected ',' or ')' after the "
         "condition of orders_placed(), found 'since' | separate since: and until: from what "
         "comes before with a comma"),
        ("orders_placed(since: -30d, channel = 'app') > 1", "1:28 expected since: or until:, "
         "found 'channel' | the condition comes first: orders_placed(brand = 'Nike', since: -30d)"),
        ("purchased(brand = 'x'", "1:10 '(' is never closed | add ')' after the arguments"),
        ("purchased(", "1:10 '(' is never closed | add ')' after the arguments"),
        ("amount_spent() BETWEEN 1 AND 2", "1:16 amount_spent() is compared with =, !=, <, <=, >, "
         ">= | amount_spent(...) > 100, or two of them joined by AND"),
        ("amount_spent() > '5'", "1:18 expected a number after amount_spent(...) >, found string "
         "\"'5'\" | write a number without quotes: 500 or 99.99"),
    ],
)  # fmt: skip
def test_a_malformed_function_is_refused_where_it_goes_wrong(text: str, error: str) -> None:
    assert problems(text) == [error]


# -- printing ----------------------------------------------------------------------------


def test_the_printer_writes_the_canonical_text() -> None:
    text = "NOT purchased(brand = 'Nike' , since : 4_weeks_ago,until:TODAY) AND orders_placed()>=2"
    assert format_rule(parse(text)) == (
        "NOT purchased(brand = 'Nike', since: -4w, until: today) AND orders_placed() >= 2"
    )
    made = Behaviour(Act.UNITS_SOLD, None, "30_days_ago", "2024-03-01T10:00", Op.GE, 2.0)
    assert format_rule(made) == "units_sold(since: -30d, until: 2024-03-01T10:00:00) >= 2.0"


def test_a_long_function_puts_its_condition_and_window_on_lines_of_their_own() -> None:
    rule = parse(
        "loyalty = 'gold' AND NOT amount_spent(channel = 'app' OR coupon STARTS WITH 'SUMMER', "
        "since: -1y, until: -1d) > 500 AND orders_placed() >= 2"
    )
    assert format_rule(rule, 60) == (
        "loyalty = 'gold'\n"
        "AND NOT amount_spent(\n"
        "  channel = 'app' OR coupon STARTS WITH 'SUMMER',\n"
        "  since: -1y,\n"
        "  until: -1d\n"
        ") > 500\n"
        "AND orders_placed() >= 2"
    )
    assert parse(format_rule(rule, 60)) == rule


# -- the JSON form -----------------------------------------------------------------------


def test_the_json_form_is_the_one_of_the_spec() -> None:
    assert to_json(parse("amount_spent(since: -1y) > 500")) == {
        "fn": "amount_spent", "where": None, "since": "-1y", "until": None, "op": ">", "value": 500
    }  # fmt: skip
    assert to_json(parse("purchased(IN SEGMENT 'p', until: 2024-12-31)")) == {
        "fn": "purchased", "where": {"segment": "p"}, "since": None, "until": "2024-12-31"
    }  # fmt: skip


def test_json_reads_windows_canonically_and_purchased_at_least_one_as_the_truth() -> None:
    spec = {"fn": "purchased", "where": {"segment": "premium"}, "since": "30_days_ago",
            "until": None, "op": ">=", "value": 1}  # fmt: skip
    truth = Behaviour(Act.PURCHASED, InSegment("premium"), "-30d")
    assert from_json(spec) == truth
    assert from_json({**spec, "op": ">", "value": 0}) == truth
    assert from_json({"fn": "orders_placed", "op": ">", "value": 2}) == Behaviour(
        Act.ORDERS_PLACED, op=Op.GT, value=2
    )


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"fn": "purchased", "op": ">=", "value": 2}, "at rule.op: purchased is true or false: "
         "'>=' 2 is no comparison it takes (leave op and value out) | to compare the units "
         "bought, use \"units_purchased\""),
        ({"and": [{"attr": "x", "op": "=", "value": 1},
                  {"fn": "amount_spent", "op": "between", "value": [1, 2]}]},
         "at rule.and[1].op: amount_spent is compared with one of =, !=, <, <=, >, >="),
        ({"fn": "amount_spent", "op": ">", "value": "500"}, "at rule.value: amount_spent is "
         "compared with a number, got a string | write a number: 500 or 99.99"),
        ({"fn": "units_sold", "since": "last week", "op": ">", "value": 1}, "at rule.since: "
         "'last week' is not a date or relative time | write \"-30d\", \"2024-01-01\", "
         "\"2024-01-01T10:00:00Z\" or \"today\""),
        ({"fn": "revenue", "until": "2024-02-30", "op": ">", "value": 1},
         "at rule.until: 2024-02-30 is not a calendar date"),
        ({"fn": "purchased", "where": {"attr": "brand"}}, "at rule.where.op: None is not an "
         "operator | operators are =, !=, <, <=, >, >=, between, not between, in, not in, "
         "contains, not contains, contains any, contains all, contains none, starts with, not "
         "starts with, ends with, not ends with, matches, is null, is not null"),
        ({"fn": "bought"}, "at rule.fn: 'bought' is not a behaviour function | behaviour "
         "functions are orders_placed, amount_spent, purchased, units_purchased, units_sold, "
         "revenue"),
        ({"fn": "count", "op": ">", "value": 1}, "at rule.fn: 'count' is not a behaviour "
         'function | count() takes an attribute: {"fn": "count", "attr": "tags", ...}'),
        ({"fn": "purchased", "when": "-1d"}, "at rule: unknown keys ['when'] in a behaviour "
         "function"),
    ],
)  # fmt: skip
def test_a_wrong_json_function_is_refused_at_its_path(data: dict[str, object], error: str) -> None:
    with pytest.raises(RuleError) as caught:
        from_json(data)
    diagnostic = caught.value.diagnostics[0]
    assert diagnostic.message + (f" | {diagnostic.hint}" if diagnostic.hint else "") == error


def test_count_of_a_list_keeps_its_json_form() -> None:
    data = {"attr": "tags", "fn": "count", "op": ">=", "value": 2}
    assert to_json(from_json(data)) == data


# -- checking ----------------------------------------------------------------------------


def test_valid_functions_check_against_the_schema_of_their_condition() -> None:
    assert checked("amount_spent(COUPON = 'x', since: -1y) > 500") == (
        "amount_spent(coupon = 'x', since: -1y) > 500"
    )
    assert checked("purchased(IN SEGMENT 'premium' AND Season = 'w')") == (
        "purchased(IN SEGMENT 'premium' AND season = 'w')"
    )
    assert checked("revenue(IN SEGMENT 'vip' OR loyalty = 'gold') >= 1000", Kind.PRODUCT) == (
        "revenue(IN SEGMENT 'vip' OR loyalty = 'gold') >= 1000"
    )


@pytest.mark.parametrize(
    ("text", "kind", "errors"),
    [
        ("purchased(lifetime_value > 5)", Kind.CUSTOMER, [
            "1:11 lifetime_value is a customer attribute, not a product one | test the "
            "customer outside the function: ... AND purchased(...)"]),
        ("orders_placed(brand = 'Nike') > 1", Kind.CUSTOMER, [
            "1:15 brand is a product attribute, not an order one | the condition of "
            "orders_placed() is about the order (its channel, total and other attributes)"]),
        ("units_sold(price > 5) > 1", Kind.PRODUCT, [
            "1:12 price is a product attribute, not a customer one | test the product outside "
            "the function: ... AND units_sold(...)"]),
        ("amount_spent(chanel = 'app') > 1", Kind.CUSTOMER, [
            "1:14 unknown attribute 'chanel' | did you mean 'channel'?"]),
        ("units_sold() > 1", Kind.CUSTOMER, [
            "1:1 units_sold() belongs in product rules; this rule is about customers"]),
        ("price > 1 AND NOT purchased()", Kind.PRODUCT, [
            "1:19 purchased() belongs in customer rules; this rule is about products"]),
        ("purchased(IN SEGMENT 'vip')", Kind.CUSTOMER, [
            "1:22 segment 'vip' is a customer segment; the condition of purchased() is about "
            "products"]),
        ("purchased(IN SEGMENT 'premum')", Kind.CUSTOMER, [
            "1:22 unknown segment 'premum' | did you mean 'premium'?"]),
        ("orders_placed(IN SEGMENT 'vip') > 1", Kind.CUSTOMER, [
            "1:26 orders have no segments: the condition of orders_placed() cannot use "
            "IN SEGMENT | it is about the order (its channel, total and other attributes)"]),
        ("purchased(units_sold() > 3)", Kind.CUSTOMER, [
            "1:11 units_sold() cannot be used inside the condition of purchased() | put it in a "
            "segment of products and use IN SEGMENT 'code' here, which stays exact through "
            "membership propagation"]),
        ("orders_placed(amount_spent() > 3) > 1", Kind.CUSTOMER, [
            "1:15 amount_spent() cannot be used inside the condition of orders_placed() | the "
            "condition of orders_placed() is about the order (its channel, total and other "
            "attributes)"]),
        ("orders_placed(since: -7d, until: -30d) > 1", Kind.CUSTOMER, [
            "1:27 until: -30d is before since: -7d, so the window is empty | swap them, or move "
            "until: later"]),
        ("orders_placed(since: 2024-12-31, until: 2024-01-01T00:00:00Z) > 1", Kind.CUSTOMER, [
            "1:34 until: 2024-01-01T00:00:00Z is before since: 2024-12-31, so the window is "
            "empty | swap them, or move until: later"]),
        ("orders_placed(since: today, until: yesterday) > 1", Kind.CUSTOMER, [
            "1:29 until: yesterday is before since: today, so the window is empty | swap them, "
            "or move until: later"]),
        ("orders_placed(since: -1m, until: -32d) > 1", Kind.CUSTOMER, [
            "1:27 until: -32d is before since: -1m, so the window is empty | swap them, or move "
            "until: later"]),
        ("amount_spent(chanel = 'x') > 1 AND units_sold() > 1 AND purchased(lifetime_vale > 1)",
         Kind.CUSTOMER, [
            "1:14 unknown attribute 'chanel' | did you mean 'channel'?",
            "1:36 units_sold() belongs in product rules; this rule is about customers",
            "1:67 unknown attribute 'lifetime_vale' | product attributes are id, sku, name, "
            "description, brand, categories, tags, url, image_url, price, original_price, "
            "discount_percent, stock, available, rating_value, rating_count, published_at, "
            "created_at, updated_at, units_sold, revenue, last_sold_at, season"]),
    ],
)  # fmt: skip
def test_a_misplaced_function_or_condition_is_refused_saying_why(
    text: str, kind: Kind, errors: list[str]
) -> None:
    assert problems(text, kind) == errors


@pytest.mark.parametrize(
    "text",
    [
        "orders_placed(since: -1m, until: -30d) > 1",  # empty on some days only
        "orders_placed(since: today, until: -1h) > 1",  # empty in the first hour of a day
        "orders_placed(since: 2024-12-31T10:00, until: 2024-12-31) > 1",  # the same day
        "orders_placed(since: 2024-01-01T10:00+05:00, until: 2024-01-01T06:00) > 1",  # a zone
        "orders_placed(since: -30d, until: 2020-01-01) >= 0",  # relative against absolute
    ],
)
def test_a_window_empty_at_some_moments_or_in_some_zones_only_is_accepted(text: str) -> None:
    assert checked(text) == format_rule(parse(text))


def test_a_loop_across_kinds_is_refused_naming_it() -> None:
    assert problems("purchased(IN SEGMENT 'loop_p')", own="loop_a") == [
        "1:22 circular segment reference: loop_a → loop_p → loop_a | remove one of the references"
    ]
    assert problems("IN SEGMENT 'loop_b'", own="loop_a") == [
        "1:12 circular segment reference: loop_a → loop_b → loop_p2 → loop_a | remove one of "
        "the references"
    ]
    assert checked("purchased(IN SEGMENT 'loop_p')", own="other") == (
        "purchased(IN SEGMENT 'loop_p')"
    )


def test_a_function_refers_to_the_segments_of_its_condition() -> None:
    rule = parse("IN SEGMENT 'vip' AND purchased(IN SEGMENT 'premium' OR IN SEGMENT 'p2')")
    assert [r.code for r in cross_refs(rule)] == ["premium", "p2"]


def test_trees_built_by_a_program_are_checked_too() -> None:
    schema = SCHEMAS[Kind.CUSTOMER]
    bad = And((
        Behaviour(Act.PURCHASED, op=Op.GE, value=1),
        Behaviour(Act.AMOUNT_SPENT, since="soon", op=Op.GT, value=float("nan")),
        Behaviour(Act.ORDERS_PLACED),
        Behaviour(Act.AMOUNT_SPENT, op=Op.GT, value=2**60),
    ))  # fmt: skip
    with pytest.raises(RuleError) as caught:
        check(bad, schema, schemas=SCHEMAS)
    assert [d.message for d in caught.value.diagnostics] == [
        "purchased() is true or false: it takes no comparison",
        "since: 'soon' is not a date or relative time",
        "amount_spent() is compared with a number, not nan",
        "orders_placed() is compared with =, !=, <, <=, >, >=",
        f"number {2**60} is out of range",
    ]


# -- other formats -----------------------------------------------------------------------


@pytest.mark.parametrize("target", ["jsonlogic", "querybuilder", "shopify", "sql"])
def test_other_formats_refuse_a_function_naming_it(target: str) -> None:
    node = prepare("tags CONTAINS 'a' AND amount_spent(since: -1y) > 500",
                   SCHEMAS[Kind.CUSTOMER], schemas=SCHEMAS).tree  # fmt: skip
    dialect = "postgres" if target == "sql" else None
    with pytest.raises(ConversionError) as caught:
        write_rule(node, target=target, schema=SCHEMAS[Kind.CUSTOMER], dialect=dialect)
    assert caught.value.code == "unconvertible-rule"
    assert caught.value.construct == "amount_spent()"
    assert "amount_spent()" in str(caught.value)


def test_conversion_between_our_forms_keeps_a_function_and_its_segments() -> None:
    text = "purchased(IN SEGMENT 'premium', since: -30d)"
    assert convert(text, kind=Kind.CUSTOMER, source="text", target="json") == {
        "fn": "purchased", "where": {"segment": "premium"}, "since": "-30d", "until": None
    }  # fmt: skip
