"""Generated shops with orders, behaviour rules over them, and the test's own answer.

A shop has customers and products (some deleted), segment memberships of each
kind, and orders: of existing customers, of guests and of a customer with no
row, with lines naming existing, deleted and missing products, placed,
cancelled or refunded, placed around "now" and on the very edges of the
windows the rules name. The reference (:func:`expected`) counts straight from
the generated orders, following ``docs/behaviour.md`` ("Meaning") and sharing
nothing with the evaluators but the window bounds (``model.temporal.window``) and
the Python predicate for the plain conditions inside (which the plain property of
``test_evaluators_agree`` already holds to the others).
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from segmentry.match.eval_python import compile_predicate
from segmentry.model.money import to_micros
from segmentry.model.orders import order_record, placed_micros, validate_order
from segmentry.model.schema import Kind, Schema
from segmentry.model.temporal import EvalContext, read_temporal, window, window_end, window_start
from segmentry.model.values import Record, encode, format_instant, validate
from segmentry.rules.ast import And, Behaviour, Condition, InSegment, Node, Not, Or
from segmentry.rules.check import SegmentInfo, check
from segmentry.rules.operators import Act, Op
from tests.rules.strategies import (
    SCHEMAS,
    WORDS,
    conditions,
    custom_attributes,
    entity_values,
    moments,
    raw_values,
    temporal_literals,
)

ORDER_SCHEMA = Schema(Kind.ORDER, custom_attributes(Kind.ORDER))
ALL_SCHEMAS: dict[Kind, Schema] = {**SCHEMAS, Kind.ORDER: ORDER_SCHEMA}
CODES: dict[Kind, tuple[str, ...]] = {
    Kind.CUSTOMER: ("vip", "lapsed"),
    Kind.PRODUCT: ("premium", "sale"),
    Kind.ORDER: (),
}
ACTS: dict[Kind, tuple[Act, ...]] = {
    Kind.CUSTOMER: (Act.ORDERS_PLACED, Act.AMOUNT_SPENT, Act.PURCHASED, Act.UNITS_PURCHASED),
    Kind.PRODUCT: (Act.UNITS_SOLD, Act.REVENUE),
}
OVER: dict[Act, Kind] = {
    Act.ORDERS_PLACED: Kind.ORDER, Act.AMOUNT_SPENT: Kind.ORDER,
    Act.PURCHASED: Kind.PRODUCT, Act.UNITS_PURCHASED: Kind.PRODUCT,
    Act.UNITS_SOLD: Kind.CUSTOMER, Act.REVENUE: Kind.CUSTOMER,
}  # fmt: skip
MONEY = frozenset({Act.AMOUNT_SPENT, Act.REVENUE})
GHOST_CUSTOMER = "c-nobody"
"""Named by orders, with no row (nor a deleted one)."""
GONE_PRODUCT = "p-gone"


@dataclass(frozen=True, slots=True)
class Entity:
    seq: int
    id: str
    record: Record | None
    """``None``: deleted (its row stays, with no document)."""


@dataclass(frozen=True, slots=True)
class Line:
    product_id: str
    quantity: int
    price_micros: int


@dataclass(frozen=True, slots=True)
class StoredOrder:
    seq: int
    id: str
    customer_id: str | None
    placed_at: int
    status: str
    total_micros: int
    record: Record
    attributes: dict[str, Any]
    lines: tuple[Line, ...]


@dataclass(slots=True)
class Shop:
    ctx: EvalContext
    entities: dict[Kind, list[Entity]]
    orders: list[StoredOrder]
    members: dict[str, set[int]]
    """Seqs by segment code (codes are distinct across kinds)."""
    amounts: list[Decimal] = field(default_factory=list)
    """Totals and line amounts of the orders: compared values that hit sums exactly."""
    ends: list[str] = field(default_factory=list)
    """Window ends the rules mostly name, on whose very edges some orders are placed."""

    def living(self, kind: Kind) -> dict[str, Entity]:
        return {e.id: e for e in self.entities[kind] if e.record is not None}


@dataclass(frozen=True, slots=True)
class ShopRef:
    """A shop passed to a strategy. Hypothesis validates each new strategy by formatting
    its repr, so a shop given as a plain argument was pretty-printed whole every example
    (about a tenth of the behaviour property's time); the drawn case still shows it whole."""

    shop: Shop

    def __repr__(self) -> str:
        return f"ShopRef({len(self.shop.orders)} orders)"


# -- shops ------------------------------------------------------------------------------------

PRICES = st.one_of(
    st.sampled_from(["0", "0.000001", "19.99", "12.345678", "5", "999999.999999"]),
    st.decimals(0, 200, places=2).map(str),
)


@st.composite
def entities(draw: st.DrawFn, kind: Kind, ctx: EvalContext) -> list[Entity]:
    schema = SCHEMAS[kind]
    out = []
    for number in range(draw(st.sampled_from([2, 3, 4, 6]))):
        entity_id = f"{kind.value[0]}{number}"
        values = draw(entity_values(schema))
        record = encode(schema, validate(schema, entity_id, values, tz=ctx.tz))
        deleted = draw(st.integers(0, 5)) == 0
        out.append(Entity(number + 1, entity_id, None if deleted else record))
    return out


@st.composite
def placed_moments(draw: st.DrawFn, ctx: EvalContext, ends: list[str]) -> datetime:
    """Around now: on a window edge a rule may name (to the microsecond), or near one."""
    if draw(st.booleans()):
        literal = read_temporal(draw(st.sampled_from(ends)))
        assert literal is not None
        edge = draw(st.sampled_from([window_start, window_end]))(literal, ctx)
        micros = edge + draw(st.sampled_from([0, 0, -1, 1]))
        return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=micros)
    return ctx.now + timedelta(microseconds=draw(st.integers(-80 * 86_400_000_000, 86_400_000_000)))


STATUSES = ["placed", "placed", "placed", "cancelled", "refunded"]


@st.composite
def orders(
    draw: st.DrawFn, ctx: EvalContext, customers: list[str], products: list[str], ends: list[str]
) -> Shop:
    out: list[StoredOrder] = []
    amounts: list[Decimal] = []
    for number in range(draw(st.sampled_from([1, 4, 8, 14]))):
        lines = [
            {"product_id": draw(st.sampled_from([*products, GONE_PRODUCT])),
             "quantity": draw(st.sampled_from([1, 1, 2, 3, 7])), "unit_price": draw(PRICES)}
            for _ in range(draw(st.integers(1, 3)))
        ]  # fmt: skip
        values: dict[str, Any] = {
            "customer_id": draw(st.sampled_from([*customers, *customers, None, GHOST_CUSTOMER])),
            "placed_at": format_instant(draw(placed_moments(ctx, ends))),
            "status": draw(
                st.sampled_from(["placed", "placed", "placed", "cancelled", "refunded"])
            ),
            "channel": draw(st.none() | st.sampled_from(WORDS[:6])),
            "lines": lines,
        }
        if draw(st.booleans()):
            values["total"] = draw(PRICES)
        for attribute in ORDER_SCHEMA.custom:
            if draw(st.booleans()):
                values[attribute.key] = draw(raw_values(attribute))
        order = validate_order(ORDER_SCHEMA, f"o{number}", values, tz=ctx.tz)
        stored = tuple(Line(i.product_id, i.quantity, to_micros(i.unit_price)) for i in order.lines)
        amounts += [order.total, *(i.unit_price * i.quantity for i in order.lines)]
        out.append(
            StoredOrder(
                number + 1,
                order.id,
                order.customer_id,
                placed_micros(order),
                order.status.value,
                to_micros(order.total),
                order_record(ORDER_SCHEMA, order),
                dict(order.attributes),
                stored,
            )
        )
    return Shop(ctx, {}, out, {}, amounts, ends)


@st.composite
def shops(draw: st.DrawFn) -> Shop:
    ctx = draw(moments())
    people = draw(entities(Kind.CUSTOMER, ctx))
    goods = draw(entities(Kind.PRODUCT, ctx))
    ends = draw(st.lists(window_literals(ctx), min_size=1, max_size=3))
    shop = draw(orders(ctx, [e.id for e in people], [e.id for e in goods], ends))
    shop.entities = {Kind.CUSTOMER: people, Kind.PRODUCT: goods}
    for kind, group in shop.entities.items():
        seqs = [e.seq for e in group]
        for code in CODES[kind]:
            shop.members[code] = set(draw(st.lists(st.sampled_from(seqs), max_size=len(seqs))))
    return shop


# -- rules ------------------------------------------------------------------------------------


@functools.cache
def plain_rules(kind: Kind) -> st.SearchStrategy[Node]:
    """Checked rules without behaviour over ``kind``, ``IN SEGMENT`` of its segments too;
    over orders, tests of their channel, total and customer split them often."""
    schema = ALL_SCHEMAS[kind]
    leaf: st.SearchStrategy[Node] = conditions(schema)
    if CODES[kind]:
        leaf = st.one_of(leaf, leaf, st.sampled_from(CODES[kind]).map(InSegment))
    if kind is Kind.ORDER:
        leaf = st.one_of(leaf, ORDER_SPLITS, ORDER_SPLITS)
    catalog = {code: SegmentInfo(kind) for code in CODES[kind]}
    rules = st.recursive(leaf, _groups, max_leaves=3)
    return rules.map(lambda rule: check(rule, schema, segments=catalog))


ORDER_SPLITS: st.SearchStrategy[Node] = st.one_of(
    st.sampled_from(WORDS[:6]).map(lambda w: Condition("channel", Op.EQ, w)),
    st.sampled_from([Op.IS_NULL, Op.IS_NOT_NULL]).map(lambda op: Condition("channel", op)),
    st.sampled_from([5, 19.99, 20, 50.5]).map(lambda v: Condition("total", Op.GT, v)),
    st.sampled_from([Op.IS_NULL, Op.IS_NOT_NULL]).map(lambda op: Condition("customer_id", op)),
)


def _groups(children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
    pairs = st.lists(children, min_size=2, max_size=3).map(tuple)
    return st.one_of(pairs.map(And), pairs.map(Or), children.map(Not))


def window_literals(ctx: EvalContext) -> st.SearchStrategy[str]:
    """Window ends that cut the generated orders (placed within 80 days of now) more
    often than not: recent relative times, days and date-times near now, any literal."""
    today = ctx.now.astimezone(ctx.tz).date()
    near_days = st.integers(-60, 1).map(lambda n: (today + timedelta(days=n)).isoformat())
    relative = st.tuples(st.integers(0, 60), st.sampled_from("hdw")).map(lambda t: f"-{t[0]}{t[1]}")
    return st.one_of(
        relative, relative, near_days, st.sampled_from(["today", "yesterday"]), temporal_literals
    )


@st.composite
def behaviours(draw: st.DrawFn, kind: Kind, ref: ShopRef) -> Behaviour:
    shop = ref.shop
    act = draw(st.sampled_from(ACTS[kind]))
    where = draw(st.one_of(st.none(), st.none(), plain_rules(OVER[act])))
    named = st.sampled_from(shop.ends)
    ends = st.one_of(named, named, window_literals(shop.ctx))
    since = draw(st.none() | ends)
    until = draw(st.one_of(st.none(), st.none(), ends))
    if act is Act.PURCHASED:
        return Behaviour(act, where, since, until)
    op = draw(st.sampled_from([Op.EQ, Op.NE, Op.LT, Op.LE, Op.GT, Op.GE]))
    # Compared with a value some entity has (or just beside it), the function splits the
    # entities far more often than with a number drawn blind.
    found = sorted({value_of(Behaviour(act, where, since, until), e.id, shop)
                    for e in shop.living(kind).values()})  # fmt: skip
    value: int | float
    if not found or draw(st.integers(0, 3)) == 0:
        value = draw(st.sampled_from([0, 1, 1.5, -1, 19.99, 1e-7, 2**53]))
    else:
        exact = draw(st.sampled_from(found)) + draw(st.sampled_from(NUDGES[act in MONEY]))
        value = int(exact) if exact == int(exact) else float(exact)
    return Behaviour(act, where, since, until, op, value)


NUDGES = {
    False: [Decimal(0), Decimal(0), Decimal("0.5"), Decimal("-0.5"), Decimal(1)],
    True: [Decimal(0), Decimal(0), Decimal("0.000001"), Decimal("-0.000001"), Decimal("0.005")],
}


def probes(kind: Kind, shop: Shop) -> list[Behaviour]:
    """Every function of ``kind``, with no condition and with ``IN SEGMENT`` (or a channel
    for orders), over all time and from and to each window end of the shop, compared with a
    value that splits the entities: checked beside the drawn rule, so that every
    example meets every function whatever the drawn rule happened to be."""
    out: list[Behaviour] = []
    for act in ACTS[kind]:
        codes = CODES[OVER[act]]
        split: Node = InSegment(codes[0]) if codes else Condition("channel", Op.IS_NOT_NULL)
        windows = [(None, None), *((e, None) for e in shop.ends), *((None, e) for e in shop.ends)]
        for where in (None, split):
            for since, until in windows:
                if act is Act.PURCHASED:
                    out.append(Behaviour(act, where, since, until))
                    continue
                plain = Behaviour(act, where, since, until)
                found = sorted({value_of(plain, e.id, shop) for e in shop.living(kind).values()})
                middle = found[len(found) // 2] if found else Decimal(0)
                value = int(middle) if middle == int(middle) else float(middle)
                out.append(Behaviour(act, where, since, until, Op.GE, value))
    return out


def rules(kind: Kind, shop: Shop) -> st.SearchStrategy[Node]:
    """Rules over ``kind`` mixing behaviour functions with plain conditions."""
    leaf = st.one_of(*[behaviours(kind, ShopRef(shop))] * 3, plain_rules(kind))
    return st.recursive(leaf, _groups, max_leaves=3)


# -- the reference ------------------------------------------------------------------------------

COMPARE: dict[Op, Callable[[Any, Any], bool]] = {
    Op.EQ: operator.eq, Op.NE: operator.ne, Op.LT: operator.lt, Op.LE: operator.le,
    Op.GT: operator.gt, Op.GE: operator.ge,
}  # fmt: skip


def expected(rule: Node, kind: Kind, shop: Shop) -> set[int]:
    """The seqs of the living entities of ``kind`` the rule selects, counted here."""
    living = shop.living(kind).values()
    return {
        e.seq for e in living if e.record is not None and holds(rule, kind, e.record, e.seq, shop)
    }


def holds(node: Node, kind: Kind, record: Record, seq: int, shop: Shop) -> bool:
    if isinstance(node, And):
        return all(holds(i, kind, record, seq, shop) for i in node.items)
    if isinstance(node, Or):
        return any(holds(i, kind, record, seq, shop) for i in node.items)
    if isinstance(node, Not):
        return not holds(node.item, kind, record, seq, shop)
    if isinstance(node, Behaviour):
        entity = next(e for e in shop.entities[kind] if e.seq == seq)
        return _behaviour(node, entity.id, shop)
    predicate = compile_predicate(node, ALL_SCHEMAS[kind], shop.ctx, shop.members.__getitem__)
    return predicate(record, seq)


def _meets(where: Node | None, kind: Kind, entity_id: str | None, shop: Shop) -> bool:
    if where is None:
        return True
    found = shop.living(kind).get(entity_id) if entity_id is not None else None
    if found is None or found.record is None:  # a guest, a missing or deleted one
        return False
    return holds(where, kind, found.record, found.seq, shop)


def _behaviour(node: Behaviour, entity_id: str, shop: Shop) -> bool:
    value = value_of(node, entity_id, shop)
    if node.act is Act.PURCHASED:
        return bool(value)
    assert node.op is not None
    assert node.value is not None
    written = Decimal(repr(node.value)) if isinstance(node.value, float) else Decimal(node.value)
    return COMPARE[node.op](value, written)


def value_of(node: Behaviour, entity_id: str, shop: Shop) -> Decimal:
    """The function's value for an entity: a count, units or money (1 or 0 for
    ``purchased``)."""
    low, high = window(node.since, node.until, shop.ctx)
    counted = [
        o for o in shop.orders
        if o.status == "placed" and (low is None or o.placed_at >= low)
        and (high is None or o.placed_at <= high)
    ]  # fmt: skip
    value: Decimal
    if node.act in (Act.ORDERS_PLACED, Act.AMOUNT_SPENT):
        mine = [
            o for o in counted
            if o.customer_id == entity_id
            and (node.where is None or holds(node.where, Kind.ORDER, o.record, o.seq, shop))
        ]  # fmt: skip
        value = Decimal(
            len(mine) if node.act is Act.ORDERS_PLACED else sum(o.total_micros for o in mine)
        )
    elif node.act in (Act.PURCHASED, Act.UNITS_PURCHASED):
        bought = [
            line for o in counted if o.customer_id == entity_id for line in o.lines
            if _meets(node.where, Kind.PRODUCT, line.product_id, shop)
        ]  # fmt: skip
        if node.act is Act.PURCHASED:
            return Decimal(bool(bought))
        value = Decimal(sum(line.quantity for line in bought))
    else:
        sold = [
            line for o in counted for line in o.lines
            if line.product_id == entity_id
            and _meets(node.where, Kind.CUSTOMER, o.customer_id, shop)
        ]  # fmt: skip
        value = Decimal(
            sum(line.quantity for line in sold)
            if node.act is Act.UNITS_SOLD
            else sum(line.quantity * line.price_micros for line in sold)
        )
    if node.act in MONEY:
        value /= Decimal(1_000_000)
    return value
