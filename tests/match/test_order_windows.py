"""A window of time over the order state: the counted orders it holds and the
per-customer counts and money sums over them are those of a plain filter of the
orders, whatever order their moments came in (zones of seqs skipped, taken whole or
tested order by order), through replaces and removes, and with a condition."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from segmentry.match.behaviour import values_of_all
from segmentry.match.purchases import Purchases
from segmentry.match.time_zones import MOST_STRETCHES
from segmentry.model.schema import Kind, Schema
from segmentry.rules.ast import Behaviour
from segmentry.rules.operators import Act, Op
from tests.conftest import examples

SCHEMA = Schema(Kind.ORDER)
CUSTOMERS = 4

order = st.tuples(
    st.integers(0, 40),  # seq
    st.integers(-1, CUSTOMERS - 1),  # customer, -1 a guest
    st.integers(0, 100),  # moment
    st.integers(-(2**58), 2**58) | st.integers(2**53 - 9, 2**53 + 9),  # total
    st.booleans(),  # counted
)


def _put(p: Purchases, seq: int, customer: int, *, moment: int, total: int, counted: bool) -> None:
    p.put(seq, record={"id": f"o{seq}"}, customer_seq=customer, placed_at=moment,
          total_micros=total, counted=counted, lines=[])  # fmt: skip


@settings(max_examples=examples(300, 100), deadline=None)
@given(
    orders=st.lists(order, max_size=60),
    removed=st.lists(st.integers(0, 40), max_size=5),
    window=st.tuples(st.integers(-5, 105), st.integers(0, 110)),
    shape=st.tuples(st.sampled_from([0, 10**9, 2**52]), st.booleans(), st.integers(0, 3)),
    where=st.none() | st.lists(st.booleans(), max_size=45),
)
def test_a_window_counts_and_sums_what_a_plain_filter_of_the_orders_does(
    orders: list[tuple[int, int, int, int, bool]],
    removed: list[int],
    window: tuple[int, int],
    shape: tuple[int, bool, int],
    where: list[bool] | None,
) -> None:
    """``window``: its start and length; ``shape``: totals modulo a scale (0: as drawn),
    moments in seq order or not, and the zones' size (2**0 to 2**3 seqs)."""
    scale, in_time_order, zone_bits = shape
    if in_time_order:
        orders = sorted(orders, key=lambda o: (o[0], o[2]))
        moments = sorted(o[2] for o in orders)
        orders = [(s, c, m, t, k) for (s, c, _, t, k), m in zip(orders, moments, strict=True)]
    p, plain = Purchases(SCHEMA, capacity=8, zone_bits=zone_bits), {}
    for seq, customer, moment, drawn, counted in orders:
        total = drawn % scale if scale else drawn
        _put(p, seq, customer, moment=moment, total=total, counted=counted)
        plain[seq] = (customer, moment, total, counted)
    for seq in removed:
        p.remove(seq)
        plain.pop(seq, None)
    low, high = window[0], window[0] + window[1]
    taken = sorted(
        s for s, (_, m, _, k) in plain.items()
        if k and low <= m <= high and (where is None or (s < len(where) and where[s]))
    )  # fmt: skip
    if where is None:
        assert p.counted_within(low, high).tolist() == taken
    mask = None if where is None else np.array(where, dtype=np.bool_)
    for act in (Act.ORDERS_PLACED, Act.AMOUNT_SPENT):
        node = Behaviour(act, None, None, None, Op.GT, 0)
        values = values_of_all(node, p, (low, high), mask, CUSTOMERS)
        expected = [
            sum(1 if act is Act.ORDERS_PLACED else plain[s][2] for s in taken if plain[s][0] == c)
            for c in range(CUSTOMERS)
        ]
        assert values.tolist() == expected


def test_moments_jumbled_zone_by_zone_are_tested_whole() -> None:
    """Past the stretches worth reading one by one, every order is tested at once."""
    p = Purchases(SCHEMA, capacity=8, zone_bits=0)
    seqs = range(4 * MOST_STRETCHES)
    for seq in seqs:
        _put(p, seq, seq % CUSTOMERS, moment=seq % 2, total=1, counted=True)
    assert len(p.zones.stretches(1, 1, p.size)) == 1
    assert p.counted_within(1, 1).tolist() == [s for s in seqs if s % 2]
