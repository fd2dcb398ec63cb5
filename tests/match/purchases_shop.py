"""Building a shop's orders in memory by hand: customers, products and a
:class:`Purchases`, and the two in-memory evaluators' answers over them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from pyroaring import BitMap

from segmentry.match.columnar import ColumnarTable
from segmentry.match.eval_columnar import compile_columnar, select
from segmentry.match.eval_python import compile_predicate
from segmentry.match.order_view import OrderView
from segmentry.match.purchases import NO_SEQ, PurchaseLine, Purchases
from segmentry.model.money import to_micros
from segmentry.model.schema import Kind, Schema
from segmentry.model.temporal import EvalContext
from segmentry.model.values import encode, validate
from segmentry.rules.ast import Node

SCHEMAS = {kind: Schema(kind) for kind in Kind}


@dataclass
class Shop:
    """Customers and products by seq (a seq is its position in the order they were
    added) and their orders; segment members by code, over either kind."""

    schemas: Mapping[Kind, Schema] = field(default_factory=lambda: SCHEMAS)
    tables: dict[Kind, ColumnarTable] = field(default_factory=dict)
    ids: dict[Kind, list[str]] = field(default_factory=dict)
    purchases: Purchases = field(default_factory=lambda: Purchases(SCHEMAS[Kind.ORDER], 16))
    orders: list[str] = field(default_factory=list)
    members: dict[str, BitMap] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for kind in (Kind.CUSTOMER, Kind.PRODUCT):
            self.tables[kind] = ColumnarTable(self.schemas[kind], 16)
            self.ids[kind] = []

    def add(self, kind: Kind, entity_id: str, **values: Any) -> int:
        schema = self.schemas[kind]
        seq = len(self.ids[kind])
        self.ids[kind].append(entity_id)
        self.tables[kind].put(seq, encode(schema, validate(schema, entity_id, values)))
        return seq

    def delete(self, kind: Kind, entity_id: str) -> None:
        self.tables[kind].put(self.seq(kind, entity_id), None)

    def seq(self, kind: Kind, entity_id: str) -> int:
        ids = self.ids[kind]
        return ids.index(entity_id) if entity_id in ids else NO_SEQ

    def order(
        self,
        order_id: str,
        customer: str | None,
        placed_at: str,
        lines: Sequence[tuple[str, int, str]],
        *,
        status: str = "placed",
        channel: str | None = None,
        **values: Any,
    ) -> int:
        """Put an order (new, or replacing the one of that id); lines are
        ``(product_id, quantity, unit_price)``, the total their sum unless given."""
        if order_id not in self.orders:
            self.orders.append(order_id)
        seq = self.orders.index(order_id)
        total = Decimal(values.pop("total", sum(q * Decimal(p) for _, q, p in lines)))
        doc = {"id": order_id, "placed_at": placed_at, "status": status, "total": float(total)}
        if customer is not None:
            doc["customer_id"] = customer
        if channel is not None:
            doc["channel"] = channel
        schema = self.schemas[Kind.ORDER]
        self.purchases.put(
            seq,
            record=encode(schema, {**doc, **values}),
            customer_seq=NO_SEQ if customer is None else self.seq(Kind.CUSTOMER, customer),
            placed_at=encode(schema, {"placed_at": placed_at})["placed_at"],
            total_micros=to_micros(total),
            counted=status == "placed",
            lines=[
                PurchaseLine(p, self.seq(Kind.PRODUCT, p), q, to_micros(Decimal(price)))
                for p, q, price in lines
            ],
        )
        return seq

    def remove_order(self, order_id: str) -> None:
        self.purchases.remove(self.orders.index(order_id))

    def view(self) -> OrderView:
        return OrderView(self.purchases, self.tables)

    def python(self, kind: Kind, rule: Node, ctx: EvalContext) -> set[str]:
        """The live entities of ``kind`` the Python predicate selects."""
        table = self.tables[kind]
        members = self.members.__getitem__
        test = compile_predicate(rule, self.schemas[kind], ctx, members, self.view())
        return {
            entity_id
            for seq, entity_id in enumerate(self.ids[kind])
            if table.alive[seq] and test(table.record(seq), seq)
        }

    def columnar(self, kind: Kind, rule: Node, ctx: EvalContext) -> set[str]:
        table = self.tables[kind]
        expr = compile_columnar(rule, table, ctx, self.members.__getitem__, self.view())
        return {self.ids[kind][seq] for seq in select(table, expr)}


NOW = EvalContext(datetime(2025, 6, 30, 12, tzinfo=UTC))
"""The moment the hand-built shop is evaluated at."""
