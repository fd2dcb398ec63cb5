"""The running sums of placed orders, moved by each order write's delta.

An order that is written, changed or deleted takes out what its old version
contributed (if it was placed) and adds what its new one contributes: counts
and money are plain integer sums; a first or last moment moves with a min or
max, and only when the order that held it goes away is it looked up again,
from one end of an index. So the work is that of the order's own lines, not
of its customer's or products' history.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from segmentry.engine.transaction import Transaction
from segmentry.store import order_sums as sums_store
from segmentry.store.order_sums import CustomerTotals, ProductSales
from segmentry.store.orders import PLACED, LineRow, OrderRow


@dataclass(frozen=True, slots=True)
class Contribution:
    """What one placed order adds to its customer's and products' sums."""

    customer_id: str | None
    placed_at: int
    total_micros: int
    lines: tuple[tuple[str, int, int], ...]  # product id, units, amount in millionths


def contribution(order: OrderRow, lines: Iterable[LineRow]) -> Contribution | None:
    """The order's part of the sums; None for an order that counts for nothing."""
    if order.status != PLACED:
        return None
    return Contribution(
        order.customer_id,
        order.placed_at,
        order.total_micros,
        tuple((ln.product_id, ln.quantity, ln.quantity * ln.unit_price_micros) for ln in lines),
    )


@dataclass(slots=True)
class _Delta:
    count: int = 0
    money: int = 0
    added: list[int] = field(default_factory=list)
    removed: set[int] = field(default_factory=set)

    def take(self, sign: int, count: int, money: int, at: int) -> None:
        self.count += sign * count
        self.money += sign * money
        if sign > 0:
            self.added.append(at)
        else:
            self.removed.add(at)


@dataclass(frozen=True, slots=True)
class Moved:
    """The sums an order write moved, as they now stand (``None``: no placed order or
    line of the customer or product is left): what its derived values are made from,
    without reading the sums back."""

    customers: dict[str, CustomerTotals | None]
    products: dict[str, ProductSales | None]


def apply(
    tx: Transaction,
    removed: Sequence[Contribution | None],
    added: Sequence[Contribution | None],
) -> Moved:
    """Move the sums by the orders' change (call after the order tables hold the new
    state); returns the customers' and products' sums that moved."""
    customers: dict[str, _Delta] = {}
    products: dict[str, _Delta] = {}
    for sign, found in ((-1, removed), (1, added)):
        for part in found:
            if part is None:
                continue
            if part.customer_id is not None:
                delta = customers.setdefault(part.customer_id, _Delta())
                delta.take(sign, 1, part.total_micros, part.placed_at)
            for product_id, units, amount in part.lines:
                products.setdefault(product_id, _Delta()).take(sign, units, amount, part.placed_at)
    return Moved(_customers(tx, customers), _products(tx, products))


def _customers(tx: Transaction, deltas: dict[str, _Delta]) -> dict[str, CustomerTotals | None]:
    if not deltas:
        return {}
    conn, tenant_id = tx.conn, tx.tenant_id
    current = sums_store.totals_of(conn, tenant_id=tenant_id, customer_ids=deltas)
    totals: dict[str, CustomerTotals | None] = {}
    for cid, delta in deltas.items():
        now = current.get(cid)
        count = (now.count if now else 0) + delta.count
        if count <= 0:
            totals[cid] = None
            continue
        money = (now.total_micros if now else 0) + delta.money
        first = _bound(tx, cid, now.first_at if now else None, delta, last=False)
        last_at = _bound(tx, cid, now.last_at if now else None, delta, last=True)
        totals[cid] = CustomerTotals(count, money, first, last_at)
    sums_store.put_totals(conn, tenant_id=tenant_id, totals=totals)
    return totals


def _bound(tx: Transaction, cid: str, held: int | None, delta: _Delta, *, last: bool) -> int:
    """A customer's new first (or last) order moment: moved by the orders added, or
    looked up again, from one end of an index, when the order that held it went away."""
    if held is not None and held in delta.removed:
        found = sums_store.placed_bound(tx.conn, tenant_id=tx.tenant_id, customer_id=cid, last=last)
        assert found is not None  # the customer still has a placed order
        return found
    pick = max if last else min
    return pick([*([held] if held is not None else []), *delta.added])


def _products(tx: Transaction, deltas: dict[str, _Delta]) -> dict[str, ProductSales | None]:
    if not deltas:
        return {}
    conn, tenant_id = tx.conn, tx.tenant_id
    current = sums_store.sales_of(conn, tenant_id=tenant_id, product_ids=deltas)
    sales: dict[str, ProductSales | None] = {}
    for pid, delta in deltas.items():
        now = current.get(pid)
        units = (now.units if now else 0) + delta.count
        if units <= 0:
            sales[pid] = None
            continue
        revenue = (now.revenue_micros if now else 0) + delta.money
        held = now.last_at if now else None
        if held is not None and held in delta.removed:
            found = sums_store.last_sold(conn, tenant_id=tenant_id, product_id=pid)
            assert found is not None  # units > 0: a placed line remains
            last_at = found
        else:
            last_at = max([*([held] if held is not None else []), *delta.added])
        sales[pid] = ProductSales(units, revenue, last_at)
    sums_store.put_sales(conn, tenant_id=tenant_id, sales=sales)
    return sales
