"""On random orders and random behaviour rules, the Python evaluator, the columnar
evaluator and the rule index's pass select exactly the entities that this test's own
counting (from the orders as written, in decimals) says they should."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import numpy as np
from hypothesis import event, given, settings
from hypothesis import strategies as st
from pyroaring import BitMap

from segmentry.match.eval_python import compile_predicate
from segmentry.match.rule_index import RuleIndex
from segmentry.match.rule_pass import FEW_ROWS
from segmentry.model.schema import Kind
from segmentry.model.temporal import from_micros, to_micros, window
from segmentry.rules.ast import And, Behaviour, Node, Not, Or
from segmentry.rules.check import SegmentInfo
from segmentry.rules.load import prepare
from segmentry.rules.operators import BY_ACT, Act, Op
from tests.conftest import examples
from tests.match.purchases_shop import NOW, SCHEMAS, Shop

C, P, ORDER = Kind.CUSTOMER, Kind.PRODUCT, Kind.ORDER
CATALOG = {"cs": SegmentInfo(C), "ps": SegmentInfo(P)}
WHERE = {
    ORDER: ["channel = 'app'", "total >= 10", "channel IS NULL", "placed_at < 2025-06-15"],
    P: ["brand = 'Nike'", "brand != 'Nike'", "price > 5", "IN SEGMENT 'ps'"],
    C: ["country = 'DE'", "NOT IN SEGMENT 'cs'", "lifetime_value <= 3"],
}
ENDS = [None, "-30d", "-7d", "today", "yesterday", "2025-06-01", "2025-06-20T00:00:00Z"]
PRICES = ["0", "0.01", "3.333333", "9.99", "10", "99.995"]
DAY = 86_400_000_000
NOW_MICROS = to_micros(NOW.now)
EDGES = [to_micros(datetime(2025, 6, d, tzinfo=UTC)) for d in (1, 20, 29, 30)]
"""Where the windows of ``ENDS`` begin or end (with ``NOW_MICROS`` and 7 and 30 days
before it)."""


@dataclass
class Written:
    """An order as this test wrote it last."""

    customer: str | None
    placed_at: int
    counted: bool
    channel: str | None
    total: Decimal
    lines: list[tuple[str, int, Decimal]]


def moments(ends: list[int]) -> st.SearchStrategy[int]:
    """When orders are placed: anywhere, or at a window's end or a microsecond either
    side (the rule's own ends most often)."""
    anywhere = st.integers(NOW_MICROS - 70 * DAY, NOW_MICROS + DAY)
    edges = [NOW_MICROS, NOW_MICROS - 30 * DAY, NOW_MICROS - 7 * DAY, *EDGES]
    near = st.one_of(st.sampled_from(ends or edges), st.sampled_from(edges))
    near = near.flatmap(lambda m: st.sampled_from([m - 1, m, m + 1]))
    return st.one_of(anywhere, near, near)


@st.composite
def shops(draw: st.DrawFn, ends: list[int]) -> tuple[Shop, dict[str, Written]]:
    shop = Shop()
    for n in range(draw(st.integers(1, 24))):
        value = draw(st.sampled_from([None, 1, 3, 5]))
        shop.add(C, f"c{n}", country=draw(st.sampled_from(["DE", "FR"])),
                 **({} if value is None else {"lifetime_value": value}))  # fmt: skip
    for n in range(draw(st.integers(1, 5))):
        brand = draw(st.sampled_from(["Nike", "Adidas", None]))
        shop.add(P, f"p{n}", price=draw(st.sampled_from([1, 5, 7.5])),
                 **({} if brand is None else {"brand": brand}))  # fmt: skip
    written: dict[str, Written] = {}
    for _ in range(draw(st.integers(0, 30))):
        step = draw(st.sampled_from(["put", "put", "put", "remove", "compact"]))
        order_id = f"o{draw(st.integers(0, 12))}"
        if step == "compact":
            shop.purchases.compact()
        elif step == "remove" and order_id in written:
            shop.remove_order(order_id)
            del written[order_id]
        elif step == "put":
            written[order_id] = write(shop, order_id, draw(orders(shop, ends)))
    for kind in (C, P):
        for entity_id in draw(st.lists(st.sampled_from(shop.ids[kind]), max_size=2)):
            shop.delete(kind, entity_id)
    if draw(st.booleans()):
        shop.purchases.product_appeared("g0", shop.add(P, "g0", brand="Nike", price=5))
    for code, kind in (("cs", C), ("ps", P)):
        shop.members[code] = BitMap(draw(st.lists(st.integers(0, len(shop.ids[kind]) - 1))))
    return shop, written


@st.composite
def orders(draw: st.DrawFn, shop: Shop, ends: list[int]) -> Written:
    """An order of the shop's customers (or a guest), naming its products and two that do
    not exist yet (``g0``, ``g1``); its total the lines' sum, or another amount."""
    products = st.sampled_from([*shop.ids[P], "g0", "g1"])
    prices = st.sampled_from(PRICES).map(Decimal)
    lines = draw(st.lists(st.tuples(products, st.integers(1, 5), prices), min_size=1, max_size=3))
    total = sum((q * p for _, q, p in lines), Decimal(0))
    return Written(
        customer=draw(st.sampled_from([None, *shop.ids[C]])),
        placed_at=draw(moments(ends)),
        counted=draw(st.booleans()),
        channel=draw(st.sampled_from([None, "app", "web"])),
        total=draw(st.sampled_from([total, total, Decimal("12.5")])),
        lines=lines,
    )


def write(shop: Shop, order_id: str, w: Written) -> Written:
    shop.order(
        order_id,
        w.customer,
        from_micros(w.placed_at).isoformat(),
        [(p, q, str(price)) for p, q, price in w.lines],
        status="placed" if w.counted else "cancelled",
        channel=w.channel,
        total=w.total,
    )
    return w


@st.composite
def rules(draw: st.DrawFn) -> tuple[Kind, Node, Behaviour]:
    act = draw(st.sampled_from(list(Act)))
    over = Kind(BY_ACT[act].condition_kind)
    text = draw(st.sampled_from([None, *WHERE[over]]))
    where = None if text is None else prepare(text, SCHEMAS[over], segments=CATALOG).tree
    since, until = draw(st.sampled_from(ENDS)), draw(st.sampled_from(ENDS))
    op = value = None
    if act is not Act.PURCHASED:
        op = draw(st.sampled_from([Op.EQ, Op.NE, Op.LT, Op.LE, Op.GT, Op.GE]))
        value = draw(st.sampled_from([0, 1, 2, 3, 5, 9.99, 10, 10.01, 13.33, 19.98, 20, 2.5]))
    node = Behaviour(act, where, since, until, op, value)
    kind = Kind(BY_ACT[act].segment_kind)
    attribute = prepare("country = 'DE'" if kind is C else "brand = 'Nike'", SCHEMAS[kind]).tree
    shape = draw(st.sampled_from(["alone", "not", "and", "or"]))
    rule: Node = {"alone": node, "not": Not(node), "and": And((attribute, node)),
                  "or": Or((attribute, Not(node)))}[shape]  # fmt: skip
    return kind, rule, node


def counted(shop: Shop, node: Behaviour, written: dict[str, Written], kind: Kind) -> dict[str, Any]:
    """Each live entity's value, counted here from the orders as written."""
    low, high = window(node.since, node.until, NOW)
    over = Kind(BY_ACT[node.act].condition_kind)
    schema, ctx, members = SCHEMAS[over], NOW, shop.members.__getitem__

    def meets(entity_id: str | None, record: dict[str, Any]) -> bool:
        if node.where is None:
            return True
        if over is not ORDER:
            seq = shop.seq(over, entity_id) if entity_id is not None else -1
            if seq < 0 or not shop.tables[over].alive[seq]:
                return False
            record, key = shop.tables[over].record(seq), seq
        else:
            key = 0
        return compile_predicate(node.where, schema, ctx, members)(record, key)

    values: dict[str, Any] = {
        e: Decimal(0) for s, e in enumerate(shop.ids[kind]) if shop.tables[kind].alive[s]
    }
    for order_id, w in written.items():
        inside = (low is None or w.placed_at >= low) and (high is None or w.placed_at <= high)
        if not w.counted or not inside:
            continue
        if node.act in (Act.ORDERS_PLACED, Act.AMOUNT_SPENT):
            record = shop.purchases.orders.record(shop.orders.index(order_id))
            if w.customer in values and meets(None, record):
                values[w.customer] += 1 if node.act is Act.ORDERS_PLACED else w.total
            continue
        for product, quantity, price in w.lines:
            if node.act in (Act.PURCHASED, Act.UNITS_PURCHASED):
                if w.customer in values and (node.where is None or meets(product, {})):
                    values[w.customer] += quantity
            elif product in values and meets(w.customer, {}):
                values[product] += quantity * (price if node.act is Act.REVENUE else 1)
    return values


def expected(node: Behaviour, value: Decimal) -> bool:
    if node.act is Act.PURCHASED:
        return value > 0
    assert node.value is not None
    against = Decimal(repr(node.value)) if isinstance(node.value, float) else Decimal(node.value)
    return {Op.EQ: value == against, Op.NE: value != against, Op.LT: value < against,
            Op.LE: value <= against, Op.GT: value > against, Op.GE: value >= against}[node.op]  # type: ignore[index]  # fmt: skip


@settings(max_examples=examples(400, 80), deadline=None)
@given(data=st.data(), case=rules())
def test_both_evaluators_and_the_index_count_what_was_written(
    data: st.DataObject, case: tuple[Kind, Node, Behaviour]
) -> None:
    kind, rule, node = case
    ends = [end for end in window(node.since, node.until, NOW) if end is not None]
    shop, written = data.draw(shops(ends))
    values = counted(shop, node, written, kind)
    holds = {e for e, v in values.items() if expected(node, v)}
    event("holds for some, not all" if holds and holds != set(values) else "for none or all")
    assert shop.python(kind, node, NOW) == holds
    assert shop.columnar(kind, node, NOW) == holds
    found = shop.python(kind, rule, NOW)
    assert shop.columnar(kind, rule, NOW) == found
    seqs = np.array(list(shop.tables[kind].live_rows()), dtype=np.int64)
    event("many rows" if len(seqs) > FEW_ROWS else "few rows")
    index = RuleIndex({0: rule}, SCHEMAS[kind], NOW)
    by_index = index.holds(
        shop.tables[kind],
        seqs,
        lambda code: np.isin(seqs, list(shop.members[code])),
        orders=shop.view(),
        members=shop.members.__getitem__,
    )
    ids = shop.ids[kind]
    assert {
        ids[s] for s, h in zip(seqs.tolist(), by_index[:, 0].tolist(), strict=True) if h
    } == found
