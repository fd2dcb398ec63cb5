"""Shopify's segment query language: the examples of Shopify's filter reference,
refusals with line and column, and the way back where Shopify can say it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from segmentry.errors import ConversionError, RuleError
from segmentry.model.schema import Kind
from segmentry.model.temporal import EvalContext
from segmentry.rules.ast import And, Condition, Node, Not, Or
from segmentry.rules.check import check
from segmentry.rules.convert import convert, shopify, shopify_write
from segmentry.rules.operators import Fn, Op
from segmentry.rules.parser import parse
from segmentry.rules.printer import format_rule
from tests.conftest import examples
from tests.rules.convert_oracle import build_shop, cases, members
from tests.rules.strategies import SCHEMAS, entity_values, moments, operand

CUSTOMERS = SCHEMAS[Kind.CUSTOMER]
SAYABLE = [
    (a, op)
    for a in ("lifetime_value", "orders_count", "last_order_at", "created_at")
    for op in (Op.EQ, Op.NE, Op.LT, Op.LE, Op.GT, Op.GE, Op.BETWEEN)
]
SAYABLE += [
    ("tags", op)
    for op in (
        Op.CONTAINS,
        Op.NOT_CONTAINS,
        Op.CONTAINS_ANY,
        Op.CONTAINS_ALL,
        Op.CONTAINS_NONE,
        Op.IS_NULL,
        Op.IS_NOT_NULL,
    )
]
SAYABLE += [("country", Op.EQ), ("country", Op.NE), ("country", Op.IS_NULL), ("language", Op.EQ),
            ("language", Op.NE), ("last_order_at", Op.IS_NULL)]  # fmt: skip


@st.composite
def sayable(draw: st.DrawFn) -> Node:
    key, op = draw(st.sampled_from(SAYABLE))
    value = draw(operand(CUSTOMERS.by_key[key], op))
    return Condition(key, op, value)


def _groups(children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
    pairs = st.lists(children, min_size=2, max_size=3).map(tuple)
    return st.one_of(pairs.map(And), pairs.map(Or))


SAYABLE_RULES = st.recursive(sayable(), _groups, max_leaves=6)
"""Built once: Hypothesis validates a new strategy by formatting its repr."""


@st.composite
def sayable_cases(draw: st.DrawFn) -> dict[str, Any]:
    ctx = draw(moments())
    raw = draw(st.lists(entity_values(CUSTOMERS), min_size=2, max_size=10))
    rule = draw(SAYABLE_RULES)
    negated = draw(st.booleans()) and isinstance(rule, Condition) and rule.op in shopify_write.TWINS
    rule = check(Not(rule) if negated else rule, CUSTOMERS)
    return {"schema": CUSTOMERS, "ctx": ctx, "shop": build_shop(CUSTOMERS, raw, ctx), "rule": rule}


def read(query: str) -> str:
    return str(convert(query, kind=Kind.CUSTOMER, source="shopify", target="text"))


@pytest.mark.parametrize(
    ("query", "text"),
    [
        ("amount_spent BETWEEN 1 AND 999.99", "lifetime_value BETWEEN 1 AND 999.99"),
        ("number_of_orders >= 3", "orders_count >= 3"),
        ("number_of_orders = 0", "orders_count = 0"),
        ("customer_tags CONTAINS 'vip'", "tags CONTAINS 'vip'"),
        ("customer_tags NOT CONTAINS 'blocked'", "tags NOT CONTAINS 'blocked'"),
        ("customer_countries CONTAINS 'US'", "country = 'US'"),
        ("customer_countries NOT CONTAINS 'US'", "country != 'US'"),
        ("customer_countries IS NULL", "country IS NULL"),
        ("last_order_date > -8m", "last_order_at > -8m"),
        ("last_order_date >= 30_days_ago", "last_order_at >= -30d"),
        ("customer_added_date BETWEEN 2024-01-01 AND 2024-12-31",
         "created_at BETWEEN 2024-01-01 AND 2024-12-31"),
        ("last_order_date IS NOT NULL", "last_order_at IS NOT NULL"),
        ("customer_language = 'en'", "language = 'en'"),
        ("customer_email_domain = 'gmail.com'", "email ENDS WITH '@gmail.com'"),
        ("customer_email_domain != 'gmail.com'", "email NOT ENDS WITH '@gmail.com'"),
        ("email_subscription_status = 'SUBSCRIBED'", "accepts_marketing = true"),
        ("email_subscription_status != 'SUBSCRIBED'", "accepts_marketing != true"),
        ("amount_spent > 100 and customer_tags contains 'vip' or number_of_orders = 0",
         "(lifetime_value > 100 AND tags CONTAINS 'vip') OR orders_count = 0"),
        ("amount_spent > 100 AND (customer_tags CONTAINS 'a' OR customer_tags CONTAINS 'b')",
         "lifetime_value > 100 AND (tags CONTAINS 'a' OR tags CONTAINS 'b')"),
    ],
)  # fmt: skip
def test_shopify_filters_read_as_our_attributes(query: str, text: str) -> None:
    assert read(query) == text


@pytest.mark.parametrize(
    ("query", "construct", "location"),
    [
        ("number_of_orders > 1 AND\n  orders_placed(count_at_least: 2) = true", "orders_placed()",
         "line 2, column 3"),
        ("products_purchased(id: 1, tag: 'a') = true", "products_purchased(id:, tag:)",
         "line 1, column 27"),
        ("products_purchased(id: 1, date: > -30d) = true", "date: >", "line 1, column 27"),
        ("products_purchased(id: 1, date: = -3d) = true", "date: = -3d", "line 1, column 27"),
        ("number_of_orders > 1 OR products_purchased(quantity: 2) = true",
         "products_purchased(quantity:)", "line 1, column 44"),
        ("amount_spent > 1 AND rfm_group = 'CHAMPIONS'", "filter 'rfm_group'", "line 1, column 22"),
        ("customer_cities CONTAINS 'US-NY-NewYorkCity'", "filter 'customer_cities'",
         "line 1, column 1"),
        ("shopify_email.opened() = true", "shopify_email.opened()", "line 1, column 1"),
        ("email_subscription_status = 'PENDING'", "email_subscription_status =",
         "line 1, column 1"),
        ("amount_spent CONTAINS 'x'", "contains", "line 1, column 1"),
    ],
)  # fmt: skip
def test_filters_we_do_not_have_are_refused_naming_them_and_where(
    query: str, construct: str, location: str
) -> None:
    with pytest.raises(ConversionError) as raised:
        read(query)
    assert raised.value.construct == construct
    assert raised.value.location == location


@pytest.mark.parametrize(
    ("query", "text"),
    [
        ("products_purchased(id: 2012162031638) = true", "purchased(id IN ('2012162031638'))"),
        ("products_purchased(id: (2012162031638, 1012132033639)) = true",
         "purchased(id IN ('2012162031638', '1012132033639'))"),
        ("products_purchased(id: (2012162031638)) = false",
         "NOT purchased(id IN ('2012162031638'))"),
        ("products_purchased(tag: 'summer') = true", "purchased(tags CONTAINS ANY ('summer'))"),
        ("products_purchased(tag: ('a', 'b'), date: >= -30d) = true",
         "purchased(tags CONTAINS ANY ('a', 'b'), since: -30d)"),
        ("products_purchased(id: 1, date: >= 90_days_ago) != false",
         "purchased(id IN ('1'), since: -90d)"),
        ("products_purchased(id: 1, date: <= 2024-06-30) = true",
         "purchased(id IN ('1'), until: 2024-06-30)"),
        ("products_purchased(id: 1, date: BETWEEN 2024-01-01 AND 2024-12-31) = true",
         "purchased(id IN ('1'), since: 2024-01-01, until: 2024-12-31)"),
        ("products_purchased(date: = yesterday) != true",
         "NOT purchased(since: yesterday, until: yesterday)"),
        ("number_of_orders = 1 AND products_purchased(id: (42)) = true",
         "orders_count = 1 AND purchased(id IN ('42'))"),
    ],
)  # fmt: skip
def test_products_purchased_reads_as_purchased(query: str, text: str) -> None:
    assert read(query) == text


@pytest.mark.parametrize(
    "text",
    ["purchased(id IN ('1', '2'), since: -30d)", "NOT purchased(tags CONTAINS ANY ('a', 'b'))",
     "purchased(since: 2024-01-01, until: 2024-12-31)", "purchased(until: today)",
     "purchased(id IN ('7'))"],
)  # fmt: skip
def test_purchased_is_written_as_products_purchased_and_read_back_the_same(text: str) -> None:
    query = convert(text, kind=Kind.CUSTOMER, source="text", target="shopify")
    assert read(str(query)) == text


def test_purchased_is_written_in_shopifys_own_form() -> None:
    written = convert("NOT purchased(id IN ('1', '2'), since: -30d) AND lifetime_value > 5",
                      kind=Kind.CUSTOMER, source="text", target="shopify")  # fmt: skip
    assert written == "products_purchased(id: (1, 2), date: >= -30d) = false AND amount_spent > 5"


@pytest.mark.parametrize(
    ("text", "query"),
    [
        ("ANY tags = 'vip'", "customer_tags CONTAINS 'vip'"),
        ("NONE tags = 'vip'", "customer_tags NOT CONTAINS 'vip'"),
        ("NOT ANY tags = 'vip'", "customer_tags NOT CONTAINS 'vip'"),
        ("NOT NONE tags = 'vip'", "customer_tags CONTAINS 'vip'"),
        ("count(tags) = 0", "customer_tags IS NULL"),
        ("count(tags) < 1", "customer_tags IS NULL"),
        ("count(tags) != 0", "customer_tags IS NOT NULL"),
        ("count(tags) >= 1", "customer_tags IS NOT NULL"),
        ("count(tags) > 0.5", "customer_tags IS NOT NULL"),
        ("NOT count(tags) BETWEEN 0 AND 0.5", "customer_tags IS NOT NULL"),
        ("NOT count(tags) > 0", "customer_tags IS NULL"),
    ],
)  # fmt: skip
def test_quantifiers_and_counts_with_a_shopify_equivalent_are_written(
    text: str, query: str
) -> None:
    assert convert(text, kind=Kind.CUSTOMER, source="text", target="shopify") == query


@pytest.mark.parametrize(
    ("text", "construct", "location"),
    [
        ("count(tags) >= 2", "count(tags) >= 2", "rule"),
        ("lifetime_value > 1 AND count(tags) BETWEEN 1 AND 3", "count(tags) BETWEEN 1 AND 3",
         "rule[1]"),
        ("count(tags) < 0", "count(tags) < 0", "rule"),
        ("ALL tags = 'a'", "ALL tags = 'a'", "rule"),
        ("ANY tags STARTS WITH 'a'", "ANY tags STARTS WITH 'a'", "rule"),
        ("ANY tags != 'a'", "ANY tags != 'a'", "rule"),
        ("orders_count > 1 OR lifetime_value < orders_count", "lifetime_value < orders_count",
         "rule[1]"),
        ("purchased(brand = 'Nike')", "purchased() with this condition", "rule"),
        ("purchased(id IN ('sku-1'))", "purchased(id IN ...)", "rule"),
        ("orders_placed(since: -30d) >= 2", "orders_placed()", "rule"),
        ("amount_spent() > 100", "amount_spent()", "rule"),
        ("purchased(id IN ('1'), since: 2024-01-01T10:00:00Z)",
         "date-time 2024-01-01T10:00:00Z", "rule"),
    ],
)  # fmt: skip
def test_what_shopify_cannot_say_is_refused_naming_the_construct_and_path(
    text: str, construct: str, location: str
) -> None:
    with pytest.raises(ConversionError) as raised:
        convert(text, kind=Kind.CUSTOMER, source="text", target="shopify")
    assert (raised.value.construct, raised.value.location) == (construct, location)


def test_syntax_errors_point_at_line_and_column() -> None:
    with pytest.raises(RuleError) as raised:
        read("amount_spent >")
    assert (raised.value.diagnostics[0].line, raised.value.diagnostics[0].column) == (1, 15)


def test_product_rules_have_no_shopify_form() -> None:
    with pytest.raises(ConversionError, match="customers"):
        convert("price > 1", kind=Kind.PRODUCT, source="text", target="shopify")


@pytest.mark.parametrize(
    ("text", "query"),
    [
        ("lifetime_value > 100 AND tags CONTAINS ANY ('a', 'b')",
         "amount_spent > 100 AND (customer_tags CONTAINS 'a' OR customer_tags CONTAINS 'b')"),
        ("NOT country = 'ES' OR accepts_marketing = true",
         "customer_countries NOT CONTAINS 'ES' OR email_subscription_status = 'SUBSCRIBED'"),
        ("NOT email ENDS WITH '@x.com'", "customer_email_domain != 'x.com'"),
        ("email NOT ENDS WITH '@x.com'", "customer_email_domain != 'x.com'"),
        ("tags CONTAINS NONE ('a', 'b')",
         "(customer_tags NOT CONTAINS 'a' AND customer_tags NOT CONTAINS 'b')"),
        ("last_order_at >= -30d", "last_order_date >= -30d"),
    ],
)  # fmt: skip
def test_rules_shopify_can_express_are_written_in_its_filters(text: str, query: str) -> None:
    assert convert(text, kind=Kind.CUSTOMER, source="text", target="shopify") == query


@pytest.mark.parametrize(
    "text",
    ["NOT lifetime_value > 1", "IN SEGMENT 'vip'", "city = 'x'", "created_at > 2024-01-01T10:00:00",
     "accepts_marketing = false", "lifetime_value NOT BETWEEN 1 AND 2",
     "NOT email NOT ENDS WITH '@x.com'"],
)  # fmt: skip
def test_what_shopify_cannot_say_is_refused(text: str) -> None:
    with pytest.raises(ConversionError):
        convert(text, kind=Kind.CUSTOMER, source="text", target="shopify")


@settings(max_examples=examples(500, 100), deadline=None)
@given(
    case=st.one_of(
        cases(kinds=(Kind.CUSTOMER,)),
        cases(kinds=(Kind.CUSTOMER,), second_round=True),
        sayable_cases(),
    )
)
def test_a_rule_through_shopify_and_back_selects_the_same_members(case: dict[str, Any]) -> None:
    schema, ctx, shop, node = case["schema"], case["ctx"], case["shop"], case["rule"]
    try:
        query = shopify_write.write(node, schema)
    except ConversionError:
        event("refused: Shopify cannot say it")
        return
    event("written")
    back = shopify.read(query, schema)
    assert members(back, schema, ctx, shop) == members(node, schema, ctx, shop)


def test_a_query_nested_past_the_limit_is_refused_not_a_recursion_error() -> None:
    with pytest.raises(ConversionError, match="nesting deeper than 64"):
        read("(" * 3_000 + "number_of_orders > 1" + ")" * 3_000)


# -- anniversary() ------------------------------------------------------------------------

BIRTH_DATE = "metafields.facts.birth_date"


@pytest.mark.parametrize(
    ("query", "text"),
    [  # Shopify's reference: "Anniversary", its examples and its operators and values
        (f"anniversary('{BIRTH_DATE}') = today", "anniversary(birthday) = today"),
        (f"anniversary('{BIRTH_DATE}') BETWEEN today AND +30d",
         "anniversary(birthday) BETWEEN today AND +30d"),
        (f"anniversary('{BIRTH_DATE}') = +4w", "anniversary(birthday) = +4w"),
        (f"anniversary('{BIRTH_DATE}') != +3m", "anniversary(birthday) != +3m"),
        ("anniversary('customer_added_date') BETWEEN +1w AND +11m",
         "anniversary(created_at) BETWEEN +1w AND +11m"),
        ("anniversary('customer_added_date') BETWEEN +2m AND +2m",
         "anniversary(created_at) BETWEEN +2m AND +2m"),
        (f"anniversary('{BIRTH_DATE}') IS NULL", "birthday IS NULL"),
        ("anniversary('customer_added_date') IS NOT NULL", "created_at IS NOT NULL"),
        ("anniversary('metafields.custom.c_date') = today", "anniversary(c_date) = today"),
        ("anniversary('metafields.loyalty.c_dt') BETWEEN today AND +364d",
         "anniversary(c_dt) BETWEEN today AND +364d"),
        (f"number_of_orders > 0 AND anniversary('{BIRTH_DATE}') = tomorrow",
         "orders_count > 0 AND anniversary(birthday) = tomorrow"),
    ],
)  # fmt: skip
def test_shopify_anniversaries_read_as_ours(query: str, text: str) -> None:
    assert format_rule(shopify.read(query, CUSTOMERS)) == text


@pytest.mark.parametrize(
    ("query", "construct", "location"),
    [  # a year of its own, a day before today or a year ahead, an order of month-days
        (f"anniversary('{BIRTH_DATE}') = 2024-05-03", "anniversary() = 2024-05-03",
         "line 1, column 44"),
        (f"anniversary('{BIRTH_DATE}') BETWEEN today AND 2027-01-01",
         "anniversary() BETWEEN 2027-01-01", "line 1, column 44"),
        (f"anniversary('{BIRTH_DATE}') = -3d", "anniversary() = -3d", "line 1, column 44"),
        (f"anniversary('{BIRTH_DATE}') = 30_days_ago", "anniversary() = -30d",
         "line 1, column 44"),
        (f"number_of_orders > 1 AND\n  anniversary('{BIRTH_DATE}') BETWEEN today AND +1y",
         "anniversary() BETWEEN +1y", "line 2, column 46"),
        (f"anniversary('{BIRTH_DATE}') = +365d", "anniversary() = +365d", "line 1, column 44"),
        (f"anniversary('{BIRTH_DATE}') = +12m", "anniversary() = +12m", "line 1, column 44"),
        (f"anniversary('{BIRTH_DATE}') > today", "anniversary() >", "line 1, column 44"),
        (f"anniversary('{BIRTH_DATE}') BETWEEN +1m AND +30d",
         "anniversary() BETWEEN +1m AND +30d", "line 1, column 44"),
        (f"anniversary('{BIRTH_DATE}') <= +30d", "anniversary() <=", "line 1, column 44"),
        ("anniversary('metafields.facts.wedding_date') = today",
         "anniversary('metafields.facts.wedding_date')", "line 1, column 13"),
        ("anniversary('metafields.custom.c_str') = today",
         "anniversary('metafields.custom.c_str')", "line 1, column 13"),
        ("anniversary('metafields.custom.birthday') = today",
         "anniversary('metafields.custom.birthday')", "line 1, column 13"),
        ("anniversary('amount_spent') = today", "anniversary('amount_spent')",
         "line 1, column 13"),
    ],
)  # fmt: skip
def test_anniversaries_that_would_mean_something_else_are_refused_naming_them(
    query: str, construct: str, location: str
) -> None:
    with pytest.raises(ConversionError) as raised:
        shopify.read(query, CUSTOMERS)
    assert (raised.value.construct, raised.value.location) == (construct, location)


@pytest.mark.parametrize(
    ("text", "query"),
    [
        ("anniversary(birthday) = today", f"anniversary('{BIRTH_DATE}') = today"),
        ("anniversary(birthday) BETWEEN today AND +30d",
         f"anniversary('{BIRTH_DATE}') BETWEEN today AND +30d"),
        ("NOT anniversary(created_at) = tomorrow", "anniversary('customer_added_date') != +1d"),
        ("NOT anniversary(last_order_at) != +2w", "anniversary('last_order_date') = +2w"),
        ("anniversary(c_date) = +3m", "anniversary('metafields.custom.c_date') = +3m"),
        ("lifetime_value > 5 AND anniversary(c_dt) != today",
         "amount_spent > 5 AND anniversary('metafields.custom.c_dt') != today"),
    ],
)  # fmt: skip
def test_our_anniversaries_are_written_as_shopifys(text: str, query: str) -> None:
    assert shopify_write.write(check(parse(text), CUSTOMERS), CUSTOMERS) == query


@pytest.mark.parametrize(
    ("text", "construct", "location"),
    [
        ("anniversary(birthday) < +7d", "anniversary(birthday) <", "rule"),
        ("orders_count > 1 OR anniversary(birthday) = yesterday",
         "anniversary(birthday) = yesterday", "rule[1]"),
        ("anniversary(birthday) = 2027-03-01", "anniversary(birthday) = 2027-03-01", "rule"),
        ("anniversary(birthday) BETWEEN today AND +1y",
         "anniversary(birthday) BETWEEN today AND +1y", "rule"),
        ("anniversary(created_at) = +12h", "anniversary(created_at) = +12h", "rule"),
        ("NOT anniversary(birthday) BETWEEN today AND +7d", "NOT anniversary(birthday) BETWEEN",
         "rule"),
        ("anniversary(birthday) NOT BETWEEN today AND +7d",
         "anniversary(birthday) NOT BETWEEN", "rule"),
        ("anniversary(first_order_at) = today", "anniversary(first_order_at)", "rule"),
        ("anniversary(birthday) BETWEEN +30d AND today",
         "anniversary(birthday) BETWEEN +30d AND today", "rule"),
    ],
)  # fmt: skip
def test_anniversaries_shopify_cannot_say_are_refused_naming_them(
    text: str, construct: str, location: str
) -> None:
    with pytest.raises(ConversionError) as raised:
        shopify_write.write(check(parse(text), CUSTOMERS), CUSTOMERS)
    assert (raised.value.construct, raised.value.location) == (construct, location)


AHEAD = ["today", "tomorrow", "+0d", "+1d", "+6d", "+30d", "+364d", "+1w", "+4w", "+52w",
         "+1m", "+3m", "+11m"]  # fmt: skip
DAYS_OF = {"d": 1, "w": 7, "m": 31}


def _day_of(value: str, today: date) -> date:
    ctx_words = {"today": 0, "tomorrow": 1}
    if value in ctx_words:
        return today + timedelta(days=ctx_words[value])
    amount, unit = int(value[1:-1]), value[-1]
    if unit != "m":
        return today + timedelta(days=amount * DAYS_OF[unit])
    month = today.month - 1 + amount
    year, month = today.year + month // 12, month % 12 + 1
    last = (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)).day
    return date(year, month, min(today.day, last))


def shopify_meaning(birthday: date, today: date, op: Op, values: tuple[str, ...]) -> bool:
    """Shopify's anniversary as its reference says: the month and day, the year not
    considered, on the days the values name (29 February on 28 February in other years,
    our decision where Shopify says nothing)."""
    first, last = _day_of(values[0], today), _day_of(values[-1], today)
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]

    def falls_on(day: date) -> bool:
        if (birthday.month, birthday.day) == (day.month, day.day):
            return True
        leap = day.year % 4 == 0 and (day.year % 100 != 0 or day.year % 400 == 0)
        return (birthday.month, birthday.day, day.month, day.day, leap) == (2, 29, 2, 28, False)

    holds = any(falls_on(d) for d in days)
    return not holds if op is Op.NE else holds


@settings(max_examples=examples(400, 80), deadline=None)
@given(
    today=st.dates(date(2023, 1, 1), date(2029, 12, 31)),
    ahead=st.lists(st.integers(-3, 370), min_size=1, max_size=12),
    op=st.sampled_from([Op.EQ, Op.NE, Op.BETWEEN]),
    values=st.lists(st.sampled_from(AHEAD), min_size=2, max_size=2),
)  # fmt: skip
def test_a_shopify_anniversary_read_selects_whom_shopify_means(
    today: date, ahead: list[int], op: Op, values: list[str]
) -> None:
    # birthdays around the window: the month-days of days from 3 before today to a year
    # ahead and at the values' edges, in 2000 (a leap year), and 29 February itself
    edges = [(_day_of(v, today) - today).days + n for v in values for n in (-1, 0, 1)]
    birthdays = [(today + timedelta(days=n)).replace(year=2000) for n in ahead + edges]
    birthdays.append(date(2000, 2, 29))
    tz = ZoneInfo("Pacific/Auckland")
    now = datetime(today.year, today.month, today.day, 13, tzinfo=tz).astimezone(UTC)
    ctx = EvalContext(now, tz)
    pair = (
        tuple(sorted(values, key=lambda v: _day_of(v, today))) if op is Op.BETWEEN else (values[0],)
    )
    shown = f"BETWEEN {pair[0]} AND {pair[1]}" if op is Op.BETWEEN else f"{op.text} {pair[0]}"
    try:
        node = shopify.read(f"anniversary('{BIRTH_DATE}') {shown}", CUSTOMERS)
    except (ConversionError, RuleError):
        event("bounds out of order")
        return
    raw = [{"birthday": b.isoformat()} for b in birthdays]
    shop = build_shop(CUSTOMERS, raw, ctx)
    expected = {
        entity_id
        for (entity_id, _, _), b in zip(shop, birthdays, strict=True)
        if shopify_meaning(b, today, op, pair)
    }
    assert members(node, CUSTOMERS, ctx, shop) == expected, shown


@settings(max_examples=examples(200, 50), deadline=None)
@given(case=cases(kinds=(Kind.CUSTOMER,)),
       key=st.sampled_from(["birthday", "created_at", "last_order_at", "c_date", "c_dt"]),
       op=st.sampled_from([Op.EQ, Op.NE, Op.BETWEEN]),
       values=st.lists(st.sampled_from(AHEAD), min_size=2, max_size=2),
       negated=st.booleans())  # fmt: skip
def test_an_anniversary_through_shopify_and_back_selects_the_same_members(
    case: dict[str, Any], key: str, op: Op, values: list[str], negated: bool
) -> None:
    schema, ctx, shop = case["schema"], case["ctx"], case["shop"]
    value: Any = tuple(values) if op is Op.BETWEEN else values[0]
    try:
        node: Node = check(Condition(key, op, value, fn=Fn.ANNIVERSARY), schema)
    except RuleError:
        return  # bounds out of order
    node = check(And((node, case["rule"])), schema)
    node = Not(node.items[0]) if negated and op is not Op.BETWEEN else node
    try:
        query = shopify_write.write(node, schema)
    except ConversionError:
        event("refused: the rest of the rule")
        return
    event("written")
    back = shopify.read(query, schema)
    assert members(back, schema, ctx, shop) == members(node, schema, ctx, shop)
