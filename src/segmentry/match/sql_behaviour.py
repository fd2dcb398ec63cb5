"""Behaviour functions in SQL: a correlated subquery over the stored orders.

``orders_placed`` and ``amount_spent`` count the tested customer's rows of
``orders``; the other four read ``order_lines`` (which carry a copy of their
order's customer, time and status). A condition over the product bought or
the buyer joins that entity's row by id; the join skips guests, products that
do not exist and deleted entities (``doc IS NULL``), which meet no condition.
Only placed orders count, within the window both ends included; a value with
nothing counted is 0 (``COALESCE``), and the compared number is converted
exactly to the counted unit (whole millionths for money) so that the database
compares integers only. See ``docs/behaviour.md``, "Meaning".

``match/`` does not import ``store/``: the caller hands over its tables as an
:class:`OrderTables`.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from segmentry.model.schema import Kind, Schema
from segmentry.model.temporal import EvalContext, window
from segmentry.rules.ast import Behaviour, Node
from segmentry.rules.operators import Act, Op

Clause = ColumnElement[bool]

PLACED = "placed"
MICROS = Decimal(10) ** 6
LARGEST = 2**62
"""Beyond this a compared number is above or below any sum the tables can hold (a total
is at most 10^18 millionths): the comparison is decided without the database."""


@dataclass(frozen=True, slots=True)
class OrderTables:
    """What behaviour functions read, handed over by the caller.

    ``orders`` has ``tenant_id``, ``customer_id``, ``placed_at`` (microseconds),
    ``status``, ``total_micros`` and ``record`` (the encoded order); ``lines`` has
    ``tenant_id``, ``customer_id``, ``product_id``, ``placed_at``, ``status``,
    ``quantity`` and ``unit_price_micros``; ``entities`` has ``tenant_id``, ``kind``,
    ``id``, ``seq``, ``doc`` (NULL once deleted) and ``record``. ``tenant_id`` and
    ``entity_id`` are the tested entity's columns in the enclosing query; ``schemas``
    are the tenant's, for the conditions over orders, products and customers."""

    orders: sa.Table
    lines: sa.Table
    entities: sa.Table
    tenant_id: ColumnElement[Any]
    entity_id: ColumnElement[Any]
    schemas: Mapping[Kind, Schema]


InnerClause = Callable[[Node, Schema, ColumnElement[Any], ColumnElement[Any] | None], Clause]
"""Compiles a condition over another kind: ``(rule, schema, record column, seq column)``;
the seq column (``None`` for orders, which have no segments) resolves ``IN SEGMENT``."""

OVER: dict[Act, Kind] = {
    Act.ORDERS_PLACED: Kind.ORDER,
    Act.AMOUNT_SPENT: Kind.ORDER,
    Act.PURCHASED: Kind.PRODUCT,
    Act.UNITS_PURCHASED: Kind.PRODUCT,
    Act.UNITS_SOLD: Kind.CUSTOMER,
    Act.REVENUE: Kind.CUSTOMER,
}
MONEY = frozenset({Act.AMOUNT_SPENT, Act.REVENUE})


@dataclass(frozen=True, slots=True)
class _Counted:
    """What one function's subquery reads: its FROM, the time its window bounds, its
    tests and the value it sums (``None`` for ``purchased``)."""

    source: Any
    placed_at: ColumnElement[Any]
    where: list[Clause]
    value: ColumnElement[Any] | None


def behaviour_clause(
    node: Behaviour, tables: OrderTables, ctx: EvalContext, inner: InnerClause
) -> Clause:
    """The clause of one behaviour function for the tested entity."""
    counted = (_orders if OVER[node.act] is Kind.ORDER else _lines)(node, tables, inner)
    low, high = window(node.since, node.until, ctx)
    where = [*counted.where, *_window(counted.placed_at, low, high)]
    if node.act is Act.PURCHASED:
        return sa.exists(sa.select(sa.literal(1)).select_from(counted.source).where(*where))
    assert counted.value is not None
    assert node.op is not None
    assert node.value is not None
    query = sa.select(counted.value).select_from(counted.source).where(*where)
    total = sa.func.coalesce(query.scalar_subquery(), 0)
    return _compare(total, node.op, node.value, money=node.act in MONEY)


def _orders(node: Behaviour, tables: OrderTables, inner: InnerClause) -> _Counted:
    orders = tables.orders.alias()
    where: list[Clause] = [
        orders.c.tenant_id == tables.tenant_id,
        orders.c.customer_id == tables.entity_id,
        orders.c.status == PLACED,
    ]
    if node.where is not None:
        where.append(inner(node.where, tables.schemas[Kind.ORDER], orders.c.record, None))
    value = sa.func.count() if node.act is Act.ORDERS_PLACED else sa.func.sum(orders.c.total_micros)
    return _Counted(orders, orders.c.placed_at, where, value)


def _lines(node: Behaviour, tables: OrderTables, inner: InnerClause) -> _Counted:
    lines = tables.lines.alias()
    kind = OVER[node.act]
    # Customers' functions read the lines they bought, products' the lines naming them.
    own, other = (
        (lines.c.customer_id, lines.c.product_id)
        if kind is Kind.PRODUCT
        else (lines.c.product_id, lines.c.customer_id)
    )
    where: list[Clause] = [
        lines.c.tenant_id == tables.tenant_id,
        own == tables.entity_id,
        lines.c.status == PLACED,
    ]
    source: Any = lines
    if node.where is not None:
        entity = tables.entities.alias()
        source = lines.join(
            entity,
            sa.and_(
                entity.c.tenant_id == lines.c.tenant_id,
                entity.c.kind == kind.value,
                entity.c.id == other,
                entity.c.doc.is_not(None),
            ),
        )
        where.append(inner(node.where, tables.schemas[kind], entity.c.record, entity.c.seq))
    value: ColumnElement[Any] | None = None
    if node.act in (Act.UNITS_PURCHASED, Act.UNITS_SOLD):
        value = sa.func.sum(lines.c.quantity)
    elif node.act is Act.REVENUE:
        value = sa.func.sum(lines.c.quantity * lines.c.unit_price_micros)
    return _Counted(source, lines.c.placed_at, where, value)


def _window(placed_at: ColumnElement[Any], low: int | None, high: int | None) -> list[Clause]:
    parts: list[Clause] = []
    if low is not None:
        parts.append(placed_at >= sa.literal(low, sa.BigInteger))
    if high is not None:
        parts.append(placed_at <= sa.literal(high, sa.BigInteger))
    return parts


COMPARE: dict[Op, Callable[[Any, Any], Any]] = {
    Op.EQ: operator.eq, Op.NE: operator.ne, Op.LT: operator.lt, Op.LE: operator.le,
    Op.GT: operator.gt, Op.GE: operator.ge,
}  # fmt: skip


def _compare(counted: ColumnElement[Any], op: Op, value: float, *, money: bool) -> Clause:
    decided = integral_comparison(op, exact(value) * (MICROS if money else 1))
    if isinstance(decided, bool):
        return sa.true() if decided else sa.false()
    op, bound = decided
    clause: Clause = COMPARE[op](counted, sa.literal(bound, sa.BigInteger))
    return clause


def exact(value: float) -> Decimal:
    """The compared number as the decimal it was written as (``99.99``, not the
    binary float nearest it)."""
    return Decimal(value) if isinstance(value, int) else Decimal(repr(value))


def integral_comparison(op: Op, bound: Decimal) -> tuple[Op, int] | bool:
    """``counted op bound`` for a whole ``counted``, as a comparison with a whole number,
    or its truth when no whole number (of the tables' range) can decide otherwise."""
    floor = int(bound.to_integral_value(ROUND_FLOOR))
    if floor != bound:  # between two whole numbers: equality is impossible
        if op in (Op.EQ, Op.NE):
            return op is Op.NE
        # > 1.5 is > 1, >= 1.5 is > 1, < 1.5 is <= 1, <= 1.5 is <= 1
        op = Op.GT if op in (Op.GT, Op.GE) else Op.LE
    if floor > LARGEST:
        return op in (Op.NE, Op.LT, Op.LE)
    if floor < -LARGEST:
        return op in (Op.NE, Op.GT, Op.GE)
    return op, floor
