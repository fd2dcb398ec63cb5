"""The tenant's orders in memory (:class:`~segmentry.match.purchases.Purchases`), built
from the stored rows: once when a tenant's state loads, and for each order an order
write stores or deletes (``engine/orders.py``).

An order's record, what the conditions of ``orders_placed`` and ``amount_spent``
read, is the one stored with it (``model.orders.order_record``), so the SQL
evaluator and the in-memory ones read the same values.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy.engine import Connection

from segmentry.match.purchases import NO_SEQ, PurchaseLine, Purchases
from segmentry.model.schema import Schema
from segmentry.store import orders as order_store
from segmentry.store.orders import PLACED, HeldOrder, LineRow, OrderRow


def order_record(row: OrderRow) -> dict[str, Any]:
    """The encoded record of a stored order (as read back from JSON, lists as tuples:
    the shape ``encode`` gives)."""
    return {k: tuple(v) if isinstance(v, list) else v for k, v in row.record.items()}


def purchase_lines(lines: Iterable[tuple[LineRow, int | None]]) -> list[PurchaseLine]:
    return [
        PurchaseLine(
            line.product_id,
            NO_SEQ if seq is None else int(seq),
            line.quantity,
            line.unit_price_micros,
        )
        for line, seq in lines
    ]


def hold(purchases: Purchases, order: HeldOrder) -> None:
    """Put one stored order (new or replaced) into ``purchases``."""
    hold_many(purchases, [order])


def hold_many(purchases: Purchases, orders: Sequence[HeldOrder]) -> None:
    """Put stored orders of distinct seqs (new or replaced) into ``purchases``, a column
    at a time: the replaced ones are forgotten first, as :meth:`Purchases.put` does."""
    for order in orders:
        purchases.remove(order.row.seq)
    rows = [order.row for order in orders]
    purchases.put_many(
        [row.seq for row in rows],
        records=[order_record(row) for row in rows],
        customer_seqs=[NO_SEQ if o.customer_seq is None else int(o.customer_seq) for o in orders],
        placed_at=[row.placed_at for row in rows],
        total_micros=[row.total_micros for row in rows],
        counted=[row.status == PLACED for row in rows],
        lines=[purchase_lines(order.lines) for order in orders],
    )


def load(conn: Connection, *, tenant_id: int, schema: Schema) -> Purchases:
    """Every order of a tenant, in memory."""
    purchases = Purchases(schema)
    for batch in order_store.held_orders(conn, tenant_id=tenant_id):
        hold_many(purchases, batch)
    return purchases
