"""Order rows and line rows.

Money is whole millionths (``*_micros``), so every sum is exact in SQL. Lines
carry a copy of their order's customer, time and status, so that "buyers of a
product" and "sales of a product in a window" read the lines' index alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from segmentry.store import driver
from segmentry.store.tables import order_lines, orders, tenants

PLACED = "placed"
ID_BATCH = 500


@dataclass(frozen=True, slots=True)
class OrderRow:
    seq: int
    id: str
    customer_id: str | None
    placed_at: int
    status: str
    channel: str | None
    total_micros: int
    line_count: int
    attributes: dict[str, Any]
    created_at: int
    updated_at: int
    record: dict[str, Any]
    """The order's evaluation record (:func:`segmentry.model.orders.order_record`)."""


@dataclass(frozen=True, slots=True)
class LineRow:
    order_seq: int
    line: int
    product_id: str
    quantity: int
    unit_price_micros: int


ORDER_COLUMNS = (
    orders.c.seq,
    orders.c.id,
    orders.c.customer_id,
    orders.c.placed_at,
    orders.c.status,
    orders.c.channel,
    orders.c.total_micros,
    orders.c.line_count,
    orders.c.attributes,
    orders.c.created_at,
    orders.c.updated_at,
    orders.c.record,
)


def _order(row: Any) -> OrderRow:
    return OrderRow(*row)


# -- the switch to derived values ---------------------------------------------------------


def orders_since(conn: Connection, *, tenant_id: int) -> int | None:
    """When the tenant wrote its first order (None: never)."""
    query = sa.select(tenants.c.orders_since).where(tenants.c.tenant_id == tenant_id)
    found = conn.execute(query).scalar_one_or_none()
    return None if found is None else int(found)


def mark_orders_since(conn: Connection, *, tenant_id: int, now: int) -> None:
    conn.execute(tenants.update().where(tenants.c.tenant_id == tenant_id).values(orders_since=now))


# -- orders ---------------------------------------------------------------------------------


def rows_by_ids(conn: Connection, *, tenant_id: int, ids: Iterable[str]) -> dict[str, OrderRow]:
    wanted = _existing(conn, tenant_id, list(dict.fromkeys(ids)))
    out: dict[str, OrderRow] = {}
    for start in range(0, len(wanted), ID_BATCH):
        part = wanted[start : start + ID_BATCH]
        query = sa.select(*ORDER_COLUMNS).where(
            orders.c.tenant_id == tenant_id, orders.c.id.in_(part)
        )
        out.update((row.id, _order(row)) for row in conn.execute(query))
    return out


def _existing(conn: Connection, tenant_id: int, ids: list[str]) -> list[str]:
    """Those of many ids that name an order, found in the (tenant, id) index alone (a batch of
    new orders reads no row); a few are simply all read."""
    if len(ids) <= 16:
        return ids
    sql = f"SELECT id FROM orders WHERE tenant_id = {driver.mark(conn)} AND id IN"
    found = {row[0] for row in driver.select_in(conn, sql, (tenant_id,), ids)}
    return [i for i in ids if i in found]


def ids_by_seqs(conn: Connection, *, tenant_id: int, seqs: Iterable[int]) -> dict[int, str]:
    """The ids of the orders with these seqs."""
    wanted = list(dict.fromkeys(seqs))
    out: dict[int, str] = {}
    for start in range(0, len(wanted), ID_BATCH):
        part = wanted[start : start + ID_BATCH]
        query = sa.select(orders.c.seq, orders.c.id).where(
            orders.c.tenant_id == tenant_id, orders.c.seq.in_(part)
        )
        out.update((int(seq), order_id) for seq, order_id in conn.execute(query))
    return out


def next_seq(conn: Connection, *, tenant_id: int) -> int:
    query = sa.select(sa.func.coalesce(sa.func.max(orders.c.seq), 0) + 1).where(
        orders.c.tenant_id == tenant_id
    )
    return int(conn.execute(query).scalar_one())


ORDER_ROW = ("tenant_id", *(c.name for c in ORDER_COLUMNS))
LINE_ROW = (
    "tenant_id", "order_seq", "line", "product_id", "quantity", "unit_price_micros",
    "customer_id", "placed_at", "status",
)  # fmt: skip
JSON_COLUMNS = ("attributes", "record")
"""Written with orjson, as the entities' documents are: validated values never hold
NaN or infinities, and its JSON is compact UTF-8 like ``database.json_dumps``."""


def insert_orders(conn: Connection, *, tenant_id: int, rows: Sequence[OrderRow]) -> None:
    """Insert new orders, as plain tuples through the driver (a batch holds thousands)."""
    dumps = orjson.dumps
    params = [
        (
            tenant_id, r.seq, r.id, r.customer_id, r.placed_at, r.status, r.channel,
            r.total_micros, r.line_count, dumps(r.attributes).decode(), r.created_at,
            r.updated_at, dumps(r.record).decode(),
        )
        for r in rows
    ]  # fmt: skip
    driver.insert(conn, "orders", ORDER_ROW, params, json=JSON_COLUMNS)


def update_orders(conn: Connection, *, tenant_id: int, rows: Sequence[OrderRow]) -> None:
    if not rows:
        return
    statement = (
        orders.update()
        .where(orders.c.tenant_id == sa.bindparam("t_id"), orders.c.seq == sa.bindparam("t_seq"))
        .values({c: sa.bindparam(f"v_{c}") for c in _CHANGED})
    )
    params = [
        {"t_id": tenant_id, "t_seq": r.seq, **{f"v_{c}": getattr(r, c) for c in _CHANGED}}
        for r in rows
    ]
    conn.execute(statement, params)


_CHANGED = (
    "customer_id",
    "placed_at",
    "status",
    "channel",
    "total_micros",
    "line_count",
    "attributes",
    "updated_at",
    "record",
)


def delete_orders(conn: Connection, *, tenant_id: int, seqs: Sequence[int]) -> None:
    for start in range(0, len(seqs), ID_BATCH):
        part = list(seqs[start : start + ID_BATCH])
        conn.execute(orders.delete().where(orders.c.tenant_id == tenant_id, orders.c.seq.in_(part)))


def customer_orders(
    conn: Connection,
    *,
    tenant_id: int,
    customer_id: str,
    limit: int,
    before: tuple[int, int] | None = None,
) -> list[OrderRow]:
    """A customer's orders, newest first (by ``placed_at``, then ``seq``); ``before``
    is the ``(placed_at, seq)`` of the last order of the previous page."""
    query = sa.select(*ORDER_COLUMNS).where(
        orders.c.tenant_id == tenant_id, orders.c.customer_id == customer_id
    )
    if before is not None:
        at, seq = before
        query = query.where(
            sa.or_(orders.c.placed_at < at, sa.and_(orders.c.placed_at == at, orders.c.seq < seq))
        )
    query = query.order_by(orders.c.placed_at.desc(), orders.c.seq.desc()).limit(limit)
    return [_order(row) for row in conn.execute(query)]


def strip_attribute(conn: Connection, *, tenant_id: int, key: str, now: int) -> int:
    """Remove a deleted order attribute's values from every order, and from its record
    (read in Python: the JSON functions differ between the back ends, and deleting an
    attribute is rare)."""
    query = sa.select(orders.c.seq, orders.c.attributes, orders.c.record).where(
        orders.c.tenant_id == tenant_id
    )
    holding = [(seq, attrs, record) for seq, attrs, record in conn.execute(query) if key in attrs]
    statement = (
        orders.update()
        .where(orders.c.tenant_id == tenant_id, orders.c.seq == sa.bindparam("t_seq"))
        .values(
            attributes=sa.bindparam("v_attributes"),
            record=sa.bindparam("v_record"),
            updated_at=now,
        )
    )
    if holding:
        conn.execute(
            statement,
            [
                {
                    "t_seq": seq,
                    "v_attributes": {k: v for k, v in attrs.items() if k != key},
                    "v_record": {k: v for k, v in record.items() if k != key},
                }
                for seq, attrs, record in holding
            ],
        )
    return len(holding)


# -- lines ------------------------------------------------------------------------------------


def lines_of(conn: Connection, *, tenant_id: int, seqs: Iterable[int]) -> dict[int, list[LineRow]]:
    wanted = sorted(set(seqs))
    out: dict[int, list[LineRow]] = {seq: [] for seq in wanted}
    columns = (
        order_lines.c.order_seq,
        order_lines.c.line,
        order_lines.c.product_id,
        order_lines.c.quantity,
        order_lines.c.unit_price_micros,
    )
    for start in range(0, len(wanted), ID_BATCH):
        part = wanted[start : start + ID_BATCH]
        query = (
            sa.select(*columns)
            .where(order_lines.c.tenant_id == tenant_id, order_lines.c.order_seq.in_(part))
            .order_by(order_lines.c.order_seq, order_lines.c.line)
        )
        for row in conn.execute(query):
            out[row.order_seq].append(LineRow(*row))
    return out


def replace_lines(
    conn: Connection,
    *,
    tenant_id: int,
    orders_written: Sequence[tuple[OrderRow, Sequence[LineRow]]],
    replaced: Sequence[int],
) -> None:
    """Drop the lines of the ``replaced`` order seqs, then store the written orders' lines."""
    delete_lines(conn, tenant_id=tenant_id, seqs=replaced)
    params = [
        (
            tenant_id, order.seq, line.line, line.product_id, line.quantity,
            line.unit_price_micros, order.customer_id, order.placed_at, order.status,
        )
        for order, lines in orders_written
        for line in lines
    ]  # fmt: skip
    driver.insert(conn, "order_lines", LINE_ROW, params)


def delete_lines(conn: Connection, *, tenant_id: int, seqs: Sequence[int]) -> None:
    for start in range(0, len(seqs), ID_BATCH):
        part = list(seqs[start : start + ID_BATCH])
        conn.execute(
            order_lines.delete().where(
                order_lines.c.tenant_id == tenant_id, order_lines.c.order_seq.in_(part)
            )
        )


# -- the tenant's orders for memory -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HeldOrder:
    """An order as the in-memory order state holds it: the row, its customer's seq and
    its lines with each product's seq (``None``: no entity has that id)."""

    row: OrderRow
    customer_seq: int | None
    lines: list[tuple[LineRow, int | None]]
