"""A generated shop in memory, as the engine keeps it: the customers' and products'
columnar tables and a :class:`Purchases` of its orders, and what the Python and
columnar evaluators select over them."""

from __future__ import annotations

from pyroaring import BitMap

from segmentry.match.columnar import ColumnarTable
from segmentry.match.eval_columnar import compile_columnar, select
from segmentry.match.eval_python import compile_predicate
from segmentry.match.order_view import OrderView
from segmentry.match.purchases import NO_SEQ, PurchaseLine, Purchases
from segmentry.model.schema import Kind
from segmentry.rules.ast import Node
from tests.match.behaviour_cases import ALL_SCHEMAS, ORDER_SCHEMA, Line, Shop


class InMemory:
    def __init__(self, shop: Shop) -> None:
        self.shop = shop
        self.tables = {kind: ColumnarTable(ALL_SCHEMAS[kind], 8) for kind in shop.entities}
        seqs: dict[Kind, dict[str, int]] = {}
        for kind, group in shop.entities.items():
            # A deleted entity keeps its seq: its lines and orders still name it.
            seqs[kind] = {e.id: e.seq for e in group}
            for entity in group:
                self.tables[kind].put(entity.seq, entity.record)
        self.purchases = Purchases(ORDER_SCHEMA, 8)
        for order in shop.orders:
            customer = seqs[Kind.CUSTOMER].get(order.customer_id or "", NO_SEQ)  # guests: none
            self.purchases.put(
                order.seq,
                record=order.record,
                customer_seq=customer,
                placed_at=order.placed_at,
                total_micros=order.total_micros,
                counted=order.status == "placed",
                lines=[_line(line, seqs[Kind.PRODUCT]) for line in order.lines],
            )
        self.members = {code: BitMap(seqs) for code, seqs in shop.members.items()}
        self.view = OrderView(self.purchases, self.tables)

    def python(self, rule: Node, kind: Kind) -> set[int]:
        test = compile_predicate(
            rule, ALL_SCHEMAS[kind], self.shop.ctx, self.members.__getitem__, self.view
        )
        living = self.shop.living(kind).values()
        return {e.seq for e in living if e.record is not None and test(e.record, e.seq)}

    def columnar(self, rule: Node, kind: Kind) -> set[int]:
        table = self.tables[kind]
        expr = compile_columnar(rule, table, self.shop.ctx, self.members.__getitem__, self.view)
        return set(select(table, expr))


def _line(line: Line, products: dict[str, int]) -> PurchaseLine:
    """A line names its product's seq while the product has a row (deleted too)."""
    seq = products.get(line.product_id, NO_SEQ)
    return PurchaseLine(line.product_id, seq, line.quantity, line.price_micros)
