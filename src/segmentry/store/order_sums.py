"""Running sums of placed orders per customer and per product.

Every order write applies its change's delta here (``engine.order_sums``), so
an order costs work for its own lines; customers' and products' derived
values are read from these rows. The ``recount_*`` functions compute the same
sums from the order tables from scratch (the definition the running sums
must equal, and what tests compare them with).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from segmentry.store import driver
from segmentry.store.tables import order_lines, orders

PLACED = "placed"
ID_BATCH = 500


@dataclass(frozen=True, slots=True)
class CustomerTotals:
    """A customer's placed orders: how many, their total, the first and last."""

    count: int
    total_micros: int
    first_at: int
    last_at: int


@dataclass(frozen=True, slots=True)
class ProductSales:
    """A product's lines in placed orders: units, revenue, the last sale."""

    units: int
    revenue_micros: int
    last_at: int


# -- the running sums ---------------------------------------------------------------------------


def totals_of(
    conn: Connection, *, tenant_id: int, customer_ids: Iterable[str] | None
) -> dict[str, CustomerTotals]:
    """The running sums of the customers named (of every customer: ``None``)."""
    sql = (
        "SELECT customer_id, orders_count, total_micros, first_at, last_at FROM customer_order_sums"
    )
    found = _sums(conn, sql, "customer_id", tenant_id, customer_ids)
    return {row[0]: CustomerTotals(*map(int, row[1:])) for row in found}


def sales_of(
    conn: Connection, *, tenant_id: int, product_ids: Iterable[str] | None
) -> dict[str, ProductSales]:
    """The running sums of the products named (of every product: ``None``)."""
    sql = "SELECT product_id, units, revenue_micros, last_at FROM product_sales"
    found = _sums(conn, sql, "product_id", tenant_id, product_ids)
    return {row[0]: ProductSales(*map(int, row[1:])) for row in found}


def _sums(
    conn: Connection, select: str, key: str, tenant_id: int, ids: Iterable[str] | None
) -> Iterable[Any]:
    """The rows of a sums table's ``select`` for the tenant, of ``ids`` by ``key`` if
    given, one plain statement per batch of them."""
    sql = f"{select} WHERE tenant_id = {driver.mark(conn)}"
    if ids is None:
        return conn.exec_driver_sql(sql, (tenant_id,))
    return driver.select_in(conn, f"{sql} AND {key} IN", (tenant_id,), sorted(set(ids)))


def put_totals(
    conn: Connection, *, tenant_id: int, totals: Mapping[str, CustomerTotals | None]
) -> None:
    """Replace the sums of these customers (``None``: no placed order any more)."""
    rows = [
        (tenant_id, cid, v.count, v.total_micros, v.first_at, v.last_at)
        for cid, v in totals.items()
        if v is not None
    ]
    gone = [(tenant_id, cid) for cid, v in totals.items() if v is None]
    driver.delete(conn, "customer_order_sums", _CUSTOMER_KEY, gone)
    driver.upsert(conn, "customer_order_sums", _CUSTOMER_COLUMNS, _CUSTOMER_KEY, rows)


def put_sales(
    conn: Connection, *, tenant_id: int, sales: Mapping[str, ProductSales | None]
) -> None:
    """Replace the sums of these products (``None``: no placed line any more)."""
    rows = [
        (tenant_id, pid, v.units, v.revenue_micros, v.last_at)
        for pid, v in sales.items()
        if v is not None
    ]
    gone = [(tenant_id, pid) for pid, v in sales.items() if v is None]
    driver.delete(conn, "product_sales", _PRODUCT_KEY, gone)
    driver.upsert(conn, "product_sales", _PRODUCT_COLUMNS, _PRODUCT_KEY, rows)


_CUSTOMER_KEY = ("tenant_id", "customer_id")
_CUSTOMER_COLUMNS = (*_CUSTOMER_KEY, "orders_count", "total_micros", "first_at", "last_at")
_PRODUCT_KEY = ("tenant_id", "product_id")
_PRODUCT_COLUMNS = (*_PRODUCT_KEY, "units", "revenue_micros", "last_at")


# -- one bound, found by index ------------------------------------------------------------------


def placed_bound(conn: Connection, *, tenant_id: int, customer_id: str, last: bool) -> int | None:
    """The first (or last) ``placed_at`` of a customer's placed orders: the index on
    ``(tenant_id, customer_id, placed_at)`` read from one end."""
    order = orders.c.placed_at.desc() if last else orders.c.placed_at.asc()
    query = (
        sa.select(orders.c.placed_at)
        .where(
            orders.c.tenant_id == tenant_id,
            orders.c.customer_id == customer_id,
            orders.c.status == PLACED,
        )
        .order_by(order)
        .limit(1)
    )
    found = conn.execute(query).scalar_one_or_none()
    return None if found is None else int(found)


def last_sold(conn: Connection, *, tenant_id: int, product_id: str) -> int | None:
    """The latest ``placed_at`` of a placed line of the product (its index, from the end)."""
    query = (
        sa.select(order_lines.c.placed_at)
        .where(
            order_lines.c.tenant_id == tenant_id,
            order_lines.c.product_id == product_id,
            order_lines.c.status == PLACED,
        )
        .order_by(order_lines.c.placed_at.desc())
        .limit(1)
    )
    found = conn.execute(query).scalar_one_or_none()
    return None if found is None else int(found)


# -- from scratch ---------------------------------------------------------------------------------


def recount_customers(
    conn: Connection, *, tenant_id: int, customer_ids: Iterable[str] | None = None
) -> dict[str, CustomerTotals]:
    """The placed orders' sums of each customer, computed from the orders table."""
    query = (
        sa.select(
            orders.c.customer_id,
            sa.func.count(),
            sa.func.sum(orders.c.total_micros),
            sa.func.min(orders.c.placed_at),
            sa.func.max(orders.c.placed_at),
        )
        .where(
            orders.c.tenant_id == tenant_id,
            orders.c.status == PLACED,
            orders.c.customer_id.is_not(None),
        )
        .group_by(orders.c.customer_id)
    )
    return {
        row[0]: CustomerTotals(*map(int, row[1:]))
        for row in _rows(conn, query, orders.c.customer_id, customer_ids)
    }


def recount_products(
    conn: Connection, *, tenant_id: int, product_ids: Iterable[str] | None = None
) -> dict[str, ProductSales]:
    """The placed lines' sums of each product, computed from the lines table."""
    query = (
        sa.select(
            order_lines.c.product_id,
            sa.func.sum(order_lines.c.quantity),
            sa.func.sum(order_lines.c.quantity * order_lines.c.unit_price_micros),
            sa.func.max(order_lines.c.placed_at),
        )
        .where(order_lines.c.tenant_id == tenant_id, order_lines.c.status == PLACED)
        .group_by(order_lines.c.product_id)
    )
    return {
        row[0]: ProductSales(*map(int, row[1:]))
        for row in _rows(conn, query, order_lines.c.product_id, product_ids)
    }


def _rows(
    conn: Connection,
    query: sa.Select[Any],
    column: sa.ColumnElement[Any],
    ids: Iterable[str] | None,
) -> Iterable[Any]:
    if ids is None:
        yield from conn.execute(query)
        return
    wanted = sorted(set(ids))
    for start in range(0, len(wanted), ID_BATCH):
        yield from conn.execute(query.where(column.in_(wanted[start : start + ID_BATCH])))
