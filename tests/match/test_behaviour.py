"""Behaviour functions in both in-memory evaluators, against values counted by hand
in a small shop (docs/behaviour.md, "Meaning")."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest
from pyroaring import BitMap

from segmentry.match.eval_columnar import compile_columnar, count, first_rows
from segmentry.match.eval_python import compile_predicate
from segmentry.match.explain import explain
from segmentry.match.rule_index import RuleIndex
from segmentry.model.schema import Kind
from segmentry.rules.ast import And, Behaviour, Condition, Node, Not
from segmentry.rules.check import SegmentInfo
from segmentry.rules.load import prepare
from segmentry.rules.operators import Act, Op
from tests.match.purchases_shop import NOW, SCHEMAS, Shop

C, P = Kind.CUSTOMER, Kind.PRODUCT
CATALOG = {"adidas": SegmentInfo(P), "vip": SegmentInfo(C)}


def small_shop() -> Shop:
    """Three live customers (one deleted), two live products (one deleted, one named
    by a line before it exists), and orders of every sort: a guest's, a cancelled one,
    a deleted one, a replaced one, one placed after the moment of evaluation."""
    shop = Shop()
    shop.add(C, "c0", country="DE")
    shop.add(C, "c1", country="FR")
    shop.add(C, "c2", country="DE")
    shop.add(C, "c3", country="XX")
    shop.delete(C, "c3")
    shop.add(P, "p0", brand="Nike")
    shop.add(P, "p1", brand="Adidas")
    shop.add(P, "p2", brand="Nike")
    shop.delete(P, "p2")
    shop.order("o0", "c0", "2025-06-01T10:00:00Z", [("p0", 2, "10"), ("p1", 1, "5.50")],
               channel="web")  # fmt: skip
    shop.order("o1", "c0", "2025-03-15T00:00:00Z", [("p1", 3, "5")], channel="app")
    shop.order("o2", "c1", "2025-06-20T00:00:00Z", [("p0", 1, "10"), ("p9", 4, "1.25")],
               channel="app")  # fmt: skip
    shop.order("o3", None, "2025-06-25T00:00:00Z", [("p0", 5, "9.99")], channel="store")
    shop.order("o4", "c1", "2025-06-10T00:00:00Z", [("p0", 7, "10")], status="cancelled")
    shop.order("o5", "c0", "2025-06-28T00:00:00Z", [("p1", 100, "1")])
    shop.remove_order("o5")
    shop.order("o6", "c1", "2025-05-01T00:00:00Z", [("p1", 2, "3")], channel="app")
    shop.order("o6", "c1", "2025-05-01T00:00:00Z", [("p0", 1, "0.01")], channel="app")
    shop.order("o7", "c3", "2025-06-15T00:00:00Z", [("p0", 1, "10")])
    shop.order("o8", "c0", "2025-06-30T12:00:01Z", [("p2", 1, "2")])
    return shop


def fn(
    act: Act,
    where: str | None = None,
    *,
    since: str | None = None,
    until: str | None = None,
    op: Op | None = Op.EQ,
    value: float | None = 0,
) -> Behaviour:
    """A function as the checker leaves it; its condition is checked against its kind."""
    kind = {Act.ORDERS_PLACED: Kind.ORDER, Act.AMOUNT_SPENT: Kind.ORDER, Act.PURCHASED: P,
            Act.UNITS_PURCHASED: P, Act.UNITS_SOLD: C, Act.REVENUE: C}[act]  # fmt: skip
    inner = None if where is None else prepare(where, SCHEMAS[kind], segments=CATALOG).tree
    if act is Act.PURCHASED:
        op, value = None, None
    return Behaviour(act, inner, since, until, op, value)


def selected(shop: Shop, kind: Kind, rule: Node) -> set[str]:
    """The entities a rule selects, the same in both evaluators, and its negation the rest."""
    found = shop.python(kind, rule, NOW)
    assert shop.columnar(kind, rule, NOW) == found
    everyone = {e for s, e in enumerate(shop.ids[kind]) if shop.tables[kind].alive[s]}
    assert shop.python(kind, Not(rule), NOW) == everyone - found
    assert shop.columnar(kind, Not(rule), NOW) == everyone - found
    return found


def assert_values(shop: Shop, kind: Kind, node: Behaviour, expected: dict[str, str]) -> None:
    """Each live entity's value: ``= v`` selects exactly those whose value is ``v``."""
    for value in {*expected.values(), "0"}:
        number = Decimal(value)
        literal = int(number) if number == number.to_integral_value() else float(number)
        rule = Behaviour(node.act, node.where, node.since, node.until, Op.EQ, literal)
        assert selected(shop, kind, rule) == {e for e, v in expected.items() if v == value}, value


CUSTOMER_VALUES = [
    (fn(Act.ORDERS_PLACED), {"c0": "3", "c1": "2", "c2": "0"}),
    (fn(Act.ORDERS_PLACED, "channel = 'app'"), {"c0": "1", "c1": "2", "c2": "0"}),
    (fn(Act.ORDERS_PLACED, since="2025-06-01"), {"c0": "2", "c1": "1", "c2": "0"}),
    (fn(Act.ORDERS_PLACED, since="-30d"), {"c0": "2", "c1": "1", "c2": "0"}),
    (
        fn(Act.ORDERS_PLACED, since="2025-06-01T10:00:00Z", until="2025-06-01"),
        {"c0": "1", "c1": "0", "c2": "0"},
    ),
    (fn(Act.ORDERS_PLACED, until="2025-06-30T12:00:00Z"), {"c0": "2", "c1": "2", "c2": "0"}),
    (fn(Act.ORDERS_PLACED, until="today"), {"c0": "3", "c1": "2", "c2": "0"}),
    (fn(Act.AMOUNT_SPENT), {"c0": "42.5", "c1": "15.01", "c2": "0"}),
    (fn(Act.AMOUNT_SPENT, "total > 20"), {"c0": "25.5", "c1": "0", "c2": "0"}),
    (fn(Act.UNITS_PURCHASED), {"c0": "7", "c1": "6", "c2": "0"}),
    (fn(Act.UNITS_PURCHASED, "brand = 'nike'"), {"c0": "2", "c1": "2", "c2": "0"}),
    (
        fn(Act.UNITS_PURCHASED, "brand = 'Adidas'", since="2025-04-01"),
        {"c0": "1", "c1": "0", "c2": "0"},
    ),
]


@pytest.mark.parametrize(("node", "expected"), CUSTOMER_VALUES)
def test_customer_functions_count_only_counted_orders_in_their_window(
    node: Behaviour, expected: dict[str, str]
) -> None:
    assert_values(small_shop(), C, node, expected)


PRODUCT_VALUES = [
    (fn(Act.UNITS_SOLD), {"p0": "10", "p1": "4"}),
    (fn(Act.REVENUE), {"p0": "89.96", "p1": "20.5"}),
    (fn(Act.UNITS_SOLD, "country = 'DE'"), {"p0": "2", "p1": "4"}),
    (fn(Act.UNITS_SOLD, "country = 'XX'"), {"p0": "0", "p1": "0"}),
    (fn(Act.REVENUE, "country = 'FR'"), {"p0": "10.01", "p1": "0"}),
    (fn(Act.UNITS_SOLD, since="2025-06-20"), {"p0": "6", "p1": "0"}),
]


@pytest.mark.parametrize(("node", "expected"), PRODUCT_VALUES)
def test_product_functions_count_guests_only_without_a_condition(
    node: Behaviour, expected: dict[str, str]
) -> None:
    assert_values(small_shop(), P, node, expected)


def test_purchased_is_true_for_a_line_of_an_existing_product_meeting_the_condition() -> None:
    shop = small_shop()
    assert selected(shop, C, fn(Act.PURCHASED)) == {"c0", "c1"}
    # o6's Adidas line was replaced; o8 names a product deleted since
    assert selected(shop, C, fn(Act.PURCHASED, "brand = 'Adidas'")) == {"c0"}
    assert selected(shop, C, fn(Act.PURCHASED, "brand = 'Nike'", since="2025-06-02")) == {"c1"}
    shop.members["adidas"] = BitMap([1])
    assert selected(shop, C, fn(Act.PURCHASED, "IN SEGMENT 'adidas'")) == {"c0"}


def test_a_line_counts_for_its_product_once_it_exists() -> None:
    shop = small_shop()
    nike = fn(Act.UNITS_PURCHASED, "brand = 'Nike'")
    assert_values(shop, C, nike, {"c0": "2", "c1": "2", "c2": "0"})
    seq = shop.add(P, "p9", brand="NIKE")
    shop.purchases.product_appeared("p9", seq)
    assert_values(shop, C, nike, {"c0": "2", "c1": "6", "c2": "0"})
    assert_values(shop, P, fn(Act.UNITS_SOLD), {"p0": "10", "p1": "4", "p9": "4"})


def test_a_condition_reads_the_buyers_current_segments() -> None:
    shop = small_shop()
    shop.members["vip"] = BitMap([1])
    revenue = fn(Act.REVENUE, "IN SEGMENT 'vip'")
    assert_values(shop, P, revenue, {"p0": "10.01", "p1": "0"})
    shop.members["vip"] = BitMap([0, 1, 2, 3])  # c3 is deleted: it meets no condition
    assert_values(shop, P, revenue, {"p0": "30.01", "p1": "20.5"})


@pytest.mark.parametrize(
    ("op", "value", "expected"),
    [
        (Op.GT, 42.49, {"c0"}), (Op.GT, 42.5, set()), (Op.GE, 42.5, {"c0"}),
        (Op.LT, 15.01, {"c2"}), (Op.LE, 15.01, {"c1", "c2"}), (Op.GT, 15.009999, {"c0", "c1"}),
        (Op.EQ, 15.0100001, set()), (Op.NE, 15.01, {"c0", "c2"}), (Op.GT, 10**30, set()),
        (Op.GE, -(10**30), {"c0", "c1", "c2"}), (Op.NE, 0.1 + 0.2, {"c0", "c1", "c2"}),
    ],
)  # fmt: skip
def test_money_compares_exactly_with_the_value_as_written(
    op: Op, value: float, expected: set[str]
) -> None:
    assert selected(small_shop(), C, fn(Act.AMOUNT_SPENT, op=op, value=value)) == expected


def test_functions_combine_with_attributes_and_each_other() -> None:
    shop = small_shop()
    german = prepare("country = 'DE'", SCHEMAS[C]).tree
    rule = And((german, Not(fn(Act.PURCHASED))))
    assert selected(shop, C, rule) == {"c2"}
    rule = And((fn(Act.ORDERS_PLACED, op=Op.GE, value=2), fn(Act.AMOUNT_SPENT, op=Op.LT, value=20)))
    assert selected(shop, C, rule) == {"c1"}


def test_without_the_orders_a_function_does_not_compile() -> None:
    shop = small_shop()
    rule = And((Condition("country", Op.EQ, "de"), fn(Act.PURCHASED)))
    with pytest.raises(LookupError, match=r"purchased\(\) counts orders"):
        compile_predicate(rule, SCHEMAS[C], NOW)
    with pytest.raises(LookupError, match=r"purchased\(\) counts orders"):
        compile_columnar(rule, shop.tables[C], NOW)


def test_explain_shows_the_value_and_the_counted_orders() -> None:
    shop = small_shop()
    rule = And((Condition("country", Op.EQ, "de"), fn(Act.AMOUNT_SPENT, op=Op.GT, value=20)))
    tree = explain(rule, SCHEMAS[C], NOW, record=shop.tables[C].record(0),
                   document={"country": "DE"}, entity_id=0, orders=shop.view())  # fmt: skip
    assert tree["and"][1] == {
        "fn": "amount_spent", "where": None, "since": None, "until": None, "op": ">",
        "value": 20, "seen": 42.5, "orders": ["o0", "o1", "o8"], "result": True,
    }  # fmt: skip
    assert tree["result"] is True
    sold = fn(Act.UNITS_SOLD, "country = 'FR'", op=Op.GE, value=3)
    tree = explain(sold, SCHEMAS[P], NOW, record=shop.tables[P].record(0), document={},
                   entity_id=0, orders=shop.view())  # fmt: skip
    assert (tree["seen"], tree["orders"], tree["result"]) == (2, ["o2", "o6"], False)
    bought = fn(Act.PURCHASED, "brand = 'Adidas'")
    tree = explain(bought, SCHEMAS[C], NOW, record=shop.tables[C].record(1), document={},
                   entity_id=1, orders=shop.view())  # fmt: skip
    assert (tree["seen"], tree["orders"], tree["result"]) == (False, [], False)
    assert tree["where"] == {"attr": "brand", "op": "=", "value": "Adidas"}


def test_the_rule_index_names_a_function_only_through_the_attributes_beside_it() -> None:
    shop = small_shop()
    german = prepare("country = 'DE'", SCHEMAS[C]).tree
    french = prepare("country = 'FR'", SCHEMAS[C]).tree
    rules: dict[int, Node] = {
        0: fn(Act.PURCHASED),
        1: And((german, fn(Act.AMOUNT_SPENT, op=Op.GT, value=20))),
        2: french,
    }
    # many more rules, so that re-checking a few beats the vectorised pass
    rich = prepare("lifetime_value > 1", SCHEMAS[C]).tree
    rules.update(dict.fromkeys(range(3, 3000), rich))
    index = RuleIndex(rules, SCHEMAS[C], NOW)
    de, fr = {"country": "de"}, {"country": "fr"}
    assert index.candidates(de, {**de, "city": "berlin"}).tolist() == []
    assert index.candidates(de, fr).tolist() == [1, 2]
    # out of Germany the mixed rule cannot hold; into it, its predicate answers
    out_of = index.recheck(de, fr)
    assert out_of is not None
    answered = dict(zip(out_of.answered.tolist(), out_of.holds.tolist(), strict=True))
    assert (answered, out_of.others.tolist()) == ({1: False, 2: True}, [])
    into = index.recheck(fr, de)
    assert into is not None
    answered = dict(zip(into.answered.tolist(), into.holds.tolist(), strict=True))
    assert (answered, into.others.tolist()) == ({2: False}, [1])
    rows = np.array([0, 1, 2], dtype=np.int64)
    no_members = lambda code: np.zeros(3, np.bool_)  # noqa: E731
    holds = index.holds(shop.tables[C], rows, no_members, orders=shop.view())
    assert holds[:, :3].tolist() == [
        [True, True, False],
        [True, False, True],
        [False, False, False],
    ]


def test_a_function_pages_and_counts_like_any_rule() -> None:
    shop = small_shop()
    table = shop.tables[C]
    expr = compile_columnar(fn(Act.PURCHASED), table, NOW, orders=shop.view())
    assert count(table, expr) == 2
    assert first_rows(table, expr, -1, 1) == [0]
    assert first_rows(table, expr, 0, 5) == [1]
