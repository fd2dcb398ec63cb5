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

import numpy as np
from sqlalchemy.engine import Connection

from segmentry.engine.prefetch import ahead
from segmentry.match.columnar_load import put_chunks
from segmentry.match.purchases import NO_SEQ, HeldArrays, PurchaseLine, Purchases
from segmentry.model.schema import Schema
from segmentry.store import order_load
from segmentry.store.entities import SEQ_KEY
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
    """Every order of a tenant, in memory, read as columns (``store/order_load.py``)."""
    purchases = Purchases(schema)
    last = order_load.last_seq(conn, tenant_id=tenant_id)
    if not last:
        return purchases
    purchases.orders.reserve(last + 1)
    with ahead(order_load.records(conn, tenant_id=tenant_id, up_to=last)) as read:
        put_chunks(purchases.orders, read, SEQ_KEY)
    orders = order_load.numbers(conn, tenant_id=tenant_id, up_to=last)
    lines = order_load.lines(conn, tenant_id=tenant_id, up_to=last)
    product = order_load.column(lines, "product", NO_SEQ)
    places = np.flatnonzero(product == NO_SEQ)
    waiting = lines["product_id"].gather(places).to_list()
    purchases.put_arrays(
        HeldArrays(
            seq=order_load.column(orders, "seq"),
            customer=order_load.column(orders, "customer", NO_SEQ),
            placed_at=order_load.column(orders, "placed_at"),
            total=order_load.column(orders, "total"),
            counted=orders["counted"].to_numpy().astype(np.bool_),
            line_order=order_load.column(lines, "order"),
            line_product=product,
            line_quantity=order_load.column(lines, "quantity"),
            line_price=order_load.column(lines, "price"),
            waiting=list(zip(places.tolist(), waiting, strict=True)),
        )
    )
    return purchases
