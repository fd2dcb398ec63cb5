"""The tenant's orders in memory (:class:`~segmentry.match.purchases.Purchases`), built
from the stored rows: once when a tenant's state loads, and for each order an order
write stores or deletes (``engine/orders.py``).

An order's record, what the conditions of ``orders_placed`` and ``amount_spent``
read, is its attributes encoded as an entity's are: the built-in ones (``id``,
``customer_id``, ``placed_at``, ``status``, ``channel``, ``total``, ``updated_at``)
and the declared ones at the top level.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.engine import Connection

from segmentry.match.purchases import NO_SEQ, PurchaseLine, Purchases
from segmentry.model.orders import from_micros, money_number
from segmentry.model.schema import Schema
from segmentry.model.values import encode
from segmentry.store import orders as order_store
from segmentry.store.orders import PLACED, HeldOrder, LineRow, OrderRow


def order_record(schema: Schema, row: OrderRow) -> dict[str, Any]:
    """The encoded record of a stored order."""
    doc: dict[str, Any] = dict(row.attributes)
    doc.update(
        id=row.id,
        customer_id=row.customer_id,
        status=row.status,
        channel=row.channel,
        total=money_number(from_micros(row.total_micros)),
    )
    record = encode(schema, doc)
    record["placed_at"] = row.placed_at  # date-times are encoded as microseconds
    record["updated_at"] = row.updated_at
    return record


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


def hold(purchases: Purchases, schema: Schema, order: HeldOrder) -> None:
    """Put one stored order (new or replaced) into ``purchases``."""
    row = order.row
    purchases.put(
        row.seq,
        record=order_record(schema, row),
        customer_seq=NO_SEQ if order.customer_seq is None else int(order.customer_seq),
        placed_at=row.placed_at,
        total_micros=row.total_micros,
        counted=row.status == PLACED,
        lines=purchase_lines(order.lines),
    )


def load(conn: Connection, *, tenant_id: int, schema: Schema) -> Purchases:
    """Every order of a tenant, in memory."""
    purchases = Purchases(schema)
    for batch in order_store.held_orders(conn, tenant_id=tenant_id):
        for order in batch:
            hold(purchases, schema, order)
    return purchases
