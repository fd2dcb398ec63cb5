"""A migrated database (the real tables, written through the store's functions) holding a
generated shop, to run the SQL evaluator's behaviour functions against."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from pyroaring import BitMap

from segmentry.match.eval_sql import compile_sql
from segmentry.match.sql_behaviour import OrderTables
from segmentry.model.schema import Kind
from segmentry.rules.ast import Node
from segmentry.store import entities as entity_store
from segmentry.store import migrate
from segmentry.store import orders as order_store
from segmentry.store.orders import LineRow, OrderRow
from segmentry.store.tables import entities, order_lines, orders
from tests.match.behaviour_cases import ALL_SCHEMAS, Shop

TENANT = 900_001
"""Far above the tenants other tests of the session create in a shared database."""


class OrderDb:
    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        migrate.upgrade(engine)

    def load(self, shop: Shop) -> None:
        with self.engine.begin() as conn:
            self.clear(conn)
            for kind, group in shop.entities.items():
                rows = [
                    {"seq": e.seq, "id": e.id, "record": e.record, "created_at": 1,
                     "doc": None if e.record is None else {"id": e.id},
                     "updated_at": 1, "revision": 1}
                    for e in group
                ]  # fmt: skip
                entity_store.insert_rows(conn, tenant_id=TENANT, kind=kind, rows=rows)
            written = [(_order_row(o), _line_rows(o)) for o in shop.orders]
            order_store.insert_orders(conn, tenant_id=TENANT, rows=[row for row, _ in written])
            order_store.replace_lines(conn, tenant_id=TENANT, orders_written=written, replaced=[])

    def clear(self, conn: sa.Connection) -> None:
        for table in (order_lines, orders, entities):
            conn.execute(table.delete().where(table.c.tenant_id == TENANT))

    def select(self, rule: Node, kind: Kind, shop: Shop) -> set[int]:
        dialect = self.engine.dialect.name

        def segment(code: str, seq: sa.ColumnElement[Any]) -> sa.ColumnElement[bool]:
            return entity_store.seq_in(BitMap(shop.members[code]), dialect, seq)

        tables = OrderTables(
            orders, order_lines, entities, entities.c.tenant_id, entities.c.id, ALL_SCHEMAS
        )
        clause = compile_sql(
            rule, ALL_SCHEMAS[kind], shop.ctx, doc=entities.c.record, seq=entities.c.seq,
            segment=segment, orders=tables,
        )  # fmt: skip
        query = sa.select(entities.c.seq).where(
            entities.c.tenant_id == TENANT,
            entities.c.kind == kind.value,
            entities.c.doc.is_not(None),
            clause,
        )
        with self.engine.connect() as conn:
            return set(conn.scalars(query))


def _order_row(order: Any) -> OrderRow:
    return OrderRow(
        seq=order.seq, id=order.id, customer_id=order.customer_id, placed_at=order.placed_at,
        status=order.status, channel=None, total_micros=order.total_micros,
        line_count=len(order.lines), attributes=order.attributes, created_at=1, updated_at=1,
        record=order.record,
    )  # fmt: skip


def _line_rows(order: Any) -> list[LineRow]:
    return [
        LineRow(order.seq, n, line.product_id, line.quantity, line.price_micros)
        for n, line in enumerate(order.lines)
    ]
