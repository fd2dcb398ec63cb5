"""Purchases: writes keep the per-customer and per-product indexes true to the orders
held, through replaces, deletes, products appearing and compaction."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from pyroaring import BitMap

from segmentry.match.behaviour import values_of_all
from segmentry.match.purchases import NO_SEQ, PurchaseLine, Purchases
from segmentry.model.schema import Kind, Schema
from segmentry.rules.ast import Behaviour
from segmentry.rules.operators import Act, Op
from tests.conftest import examples

SCHEMA = Schema(Kind.ORDER)


def put(p: Purchases, seq: int, customer: int, lines: list[tuple[str, int]], **kw: Any) -> None:
    """Lines are ``(product_id, product_seq)``; a line's quantity is its product seq + 2."""
    p.put(
        seq,
        record={"id": f"o{seq}"},
        customer_seq=customer,
        placed_at=kw.get("placed_at", 100 * seq),
        total_micros=kw.get("total", 1_000_000),
        counted=kw.get("counted", True),
        lines=[PurchaseLine(pid, pseq, pseq + 2, 500_000) for pid, pseq in lines],
    )


def held(p: Purchases) -> dict[int, tuple[int, list[tuple[int, int]]]]:
    """Each live order's customer and lines (product seq, quantity), from its line rows."""
    return {
        seq: (
            int(p.customer[seq]),
            [(int(p.line_product[r]), int(p.line_quantity[r])) for r in p.line_rows(seq)],
        )
        for seq in range(p.size)
        if p.orders.alive[seq]
    }


def by_product(p: Purchases, products: range) -> dict[int, list[tuple[int, int]]]:
    """Each product's lines (order, quantity) as the per-product index finds them."""
    return {
        product: sorted(
            (int(p.line_order[r]), int(p.line_quantity[r])) for r in p.lines_of_product(product)
        )
        for product in products
    }


def test_replace_remove_and_a_product_appearing_keep_the_indexes() -> None:
    p = Purchases(SCHEMA, capacity=16)
    put(p, 0, 1, [("p0", 0), ("gx", NO_SEQ)])
    assert list(p.orders_of(1)) == [0]
    assert by_product(p, range(2)) == {0: [(0, 2)], 1: []}
    put(p, 0, 2, [("p1", 1)])  # replaced: another customer, other lines
    assert (list(p.orders_of(1)), list(p.orders_of(2))) == ([], [0])
    assert by_product(p, range(2)) == {0: [], 1: [(0, 3)]}
    assert p.dead_lines() == 2
    p.product_appeared("gx", 5)  # its only line was replaced away
    assert not p.lines_of_product(5)
    put(p, 1, NO_SEQ, [("gy", NO_SEQ), ("p0", 0)])  # a guest's
    assert list(p.buyers_of([0])) == []
    p.product_appeared("gy", 7)
    assert by_product(p, range(8))[7] == [(1, 1)]
    assert held(p)[1] == (NO_SEQ, [(7, 1), (0, 2)])
    assert list(p.products_of([2])) == [1]
    p.remove(1)
    assert not p.lines_of_product(7)
    assert held(p) == {0: (2, [(1, 3)])}
    p.remove(1)  # twice is nothing
    assert held(p) == {0: (2, [(1, 3)])}


def test_compaction_keeps_every_order_and_a_waiting_line_still_matches() -> None:
    p = Purchases(SCHEMA, capacity=16)
    put(p, 0, 1, [("p0", 0)])
    put(p, 1, 1, [("p1", 1), ("p2", 2)])
    put(p, 0, 3, [("p2", 2), ("gz", NO_SEQ)])
    put(p, 2, 4, [("p0", 0)])
    p.remove(1)
    before = (held(p), by_product(p, range(3)))
    p.compact()
    assert p.dead_lines() == 0
    assert p.lines == 3
    assert (held(p), by_product(p, range(3))) == before
    p.product_appeared("gz", 9)
    assert by_product(p, range(10))[9] == [(0, 1)]
    assert held(p)[0] == (3, [(2, 4), (9, 1)])
    put(p, 3, 1, [("p0", 0)])  # appending after compaction
    assert by_product(p, range(3))[0] == [(2, 2), (3, 2)]


def test_growing_past_the_capacity_keeps_what_was_held() -> None:
    p = Purchases(SCHEMA, capacity=16)
    put(p, 0, 1, [("p0", 0)], total=7)
    put(p, 5000, 1, [(f"p{n}", n) for n in range(1500)], counted=False)
    assert (int(p.total[0]), bool(p.counted[5000]), p.size) == (7, False, 5001)
    assert held(p)[0] == (1, [(0, 2)])
    assert len(p.line_rows(5000)) == 1500
    assert sorted(p.orders_of(1)) == [0, 5000]


def test_placed_between_names_the_counted_orders_a_moving_bound_passed() -> None:
    p = Purchases(SCHEMA, capacity=16)
    for seq, moment in enumerate([10, 20, 30, 40]):
        put(p, seq, 1, [("p0", 0)], placed_at=moment, counted=seq != 2)
    p.remove(3)
    assert p.placed_between(10, 40).tolist() == [1]
    assert p.placed_between(9, 10).tolist() == [0]


@settings(max_examples=examples(300, 60), deadline=None)
@given(steps=st.lists(st.tuples(st.sampled_from(["put", "put", "remove", "compact", "appear"]),
                                st.integers(0, 5), st.integers(-1, 3),
                                st.lists(st.integers(0, 4), min_size=1, max_size=3)),
                      max_size=30))  # fmt: skip
def test_any_writes_leave_indexes_that_agree_with_a_plain_record_of_them(
    steps: list[tuple[str, int, int, list[int]]],
) -> None:
    """Products 0..3 exist; product 4 ("late") appears at an "appear" step."""
    p = Purchases(SCHEMA, capacity=16)
    plain: dict[int, tuple[int, list[str]]] = {}
    late = NO_SEQ
    for step, seq, customer, products in steps:
        if step == "put":
            names = [f"p{n}" for n in products]
            put(p, seq, customer, [(n, _seq(n, late)) for n in names])
            plain[seq] = (customer, names)
        elif step == "remove":
            p.remove(seq)
            plain.pop(seq, None)
        elif step == "compact":
            p.compact()
        elif late == NO_SEQ:
            late = 4
            p.product_appeared("p4", late)
    lines = {s: (c, [product for product, _ in ls]) for s, (c, ls) in held(p).items()}
    assert lines == {s: (c, [_seq(n, late) for n in names]) for s, (c, names) in plain.items()}
    for customer in range(-1, 4):
        want = {s for s, (c, _) in plain.items() if c == customer}
        assert set(p.orders_of(customer)) == (want if customer != NO_SEQ else set())
    for product in range(5):
        rows = p.lines_of_product(product)
        want_orders = sorted(
            s for s, (_, names) in plain.items() for n in names if _seq(n, late) == product
        )
        assert sorted(int(p.line_order[r]) for r in rows) == want_orders


def _seq(name: str, late: int) -> int:
    number = int(name[1:])
    return late if number == 4 else number


def test_loading_many_orders_at_once_holds_what_putting_them_one_by_one_does() -> None:
    orders = {
        1: (7, [("a", 1), ("b", 2)]),
        2: (NO_SEQ, [("a", 1)]),
        3: (8, [("new", NO_SEQ), ("b", 2), ("a", 1)]),
        4: (7, []),
        5: (9, [("new", NO_SEQ)]),
    }
    one_by_one, at_once = Purchases(SCHEMA), Purchases(SCHEMA)
    for seq, (customer, lines) in orders.items():
        put(one_by_one, seq, customer, lines, counted=seq != 4)
    at_once.put_many(
        list(orders),
        records=[{"id": f"o{seq}"} for seq in orders],
        customer_seqs=[customer for customer, _ in orders.values()],
        placed_at=[100 * seq for seq in orders],
        total_micros=[1_000_000] * len(orders),
        counted=[seq != 4 for seq in orders],
        lines=[
            [PurchaseLine(pid, pseq, pseq + 2, 500_000) for pid, pseq in lines]
            for _, lines in orders.values()
        ],
    )
    for p in (one_by_one, at_once):
        p.product_appeared("new", 3)
    assert held(at_once) == held(one_by_one)
    for product in (1, 2, 3):
        assert at_once.lines_of_product(product) == one_by_one.lines_of_product(product)
    for customer in (7, 8, 9):
        assert at_once.orders_of(customer) == one_by_one.orders_of(customer)
    assert at_once.buyers_of([1, 2, 3]) == one_by_one.buyers_of([1, 2, 3]) == BitMap([7, 8, 9])
    assert list(at_once.counted[:6]) == list(one_by_one.counted[:6])
    assert list(at_once.placed_at[:6]) == list(one_by_one.placed_at[:6])


@settings(max_examples=examples(300, 60))
@given(
    orders=st.lists(
        st.tuples(st.integers(-1, 3), st.integers(-(2**58), 2**58), st.booleans()),
        min_size=1,
        max_size=40,
    ),
    scale=st.sampled_from([0, 10**9, 2**52]),
)
def test_amounts_spent_sum_exactly_whatever_the_totals(
    orders: list[tuple[int, int, bool]], scale: int
) -> None:
    """Money sums are whole millionths in int64, exact where float64 would round: totals
    near 2**58, near 2**52 (where only the busiest customer's bound says whether one pass
    is exact) and everyday ones, guests (customer -1) and uncounted orders left out."""
    p = Purchases(SCHEMA, capacity=16)
    for seq, (customer, total, counted) in enumerate(orders):
        put(p, seq, customer, [], total=total % scale if scale else total, counted=counted)
    spent = Behaviour(Act.AMOUNT_SPENT, None, None, None, Op.GT, 0)
    values = values_of_all(spent, p, (-(2**63), 2**63 - 1), None, 4)
    expected = [
        sum(int(p.total[s]) for s, (c, _, counted) in enumerate(orders) if c == who and counted)
        for who in range(4)
    ]
    assert values.tolist() == expected
