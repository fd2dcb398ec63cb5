"""Writing and reading orders.

A write validates every order before anything is stored (a batch is all or
nothing), then, in the one transaction: stores the orders and their lines,
switches the tenant to order-derived customer values at its first order
(recomputing every customer and product in one pass), creates the customers
an order names that do not exist yet (through the ordinary entity write, so
their segments update), and recomputes the derived values of every customer
and product the orders touched, re-checking their segments with the cause
``order_changed``.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import orjson
from pyroaring import BitMap

from segmentry.engine import behaviour, order_sums, order_values, purchasing
from segmentry.engine import entities as entity_ops
from segmentry.engine.derived_patches import seqs_of
from segmentry.engine.entities import MAX_BATCH, MAX_REPORTED, Mode, Write
from segmentry.engine.transaction import Transaction
from segmentry.engine.types import Cause, Page
from segmentry.errors import NotFoundError, ValidationError
from segmentry.match.columnar import ColumnarTable
from segmentry.model.money import cents, from_micros, read_money, to_micros
from segmentry.model.orders import (
    Order,
    OrderLine,
    OrderStatus,
    order_record,
    placed_micros,
    validate_line,
    validate_order,
)
from segmentry.model.schema import Kind
from segmentry.model.values import check_id
from segmentry.store import entities as entity_store
from segmentry.store import orders as order_store
from segmentry.store.orders import HeldOrder, LineRow, OrderRow

MAX_PAGE = 1_000


@dataclass(frozen=True, slots=True)
class OrderWrite:
    """One order to write: the whole order (replace) or a JSON merge patch."""

    id: str
    values: Mapping[str, Any]
    mode: Mode = Mode.REPLACE


def write(tx: Transaction, items: Sequence[OrderWrite]) -> list[Order]:
    """Write orders, all or nothing; returns them as stored, in order."""
    if len(items) > MAX_BATCH:
        raise ValidationError(f"a batch holds at most {MAX_BATCH:,} orders, got {len(items):,}")
    batch = len(items) > 1
    for number, item in enumerate(items):
        try:
            check_id(item.id, what="order id")
        except ValidationError as exc:
            raise ValidationError(_where(number, batch) + exc.message, field="id") from None
    existing = order_store.rows_by_ids(tx.conn, tenant_id=tx.tenant_id, ids=[i.id for i in items])
    orders = _validated(tx, items, existing, batch=batch)
    _store(tx, orders, existing)
    return orders


def _where(number: int, batch: bool) -> str:
    return f"item {number}: " if batch else ""


def _validated(
    tx: Transaction, items: Sequence[OrderWrite], existing: Mapping[str, OrderRow], *, batch: bool
) -> list[Order]:
    """Every item checked; later items of one id build on earlier ones (patches)."""
    schema = tx.state.schemas[Kind.ORDER]
    latest: dict[str, Order] = {}  # its document made only when a patch builds on it
    problems: list[str] = []
    out: list[Order] = []
    patched = [existing[i.id] for i in items if i.mode is Mode.PATCH and i.id in existing]
    stored_docs = _docs(tx, patched)
    for number, item in enumerate(items):
        try:
            values = item.values
            if item.mode is Mode.PATCH:
                earlier = latest.get(item.id)
                before = earlier.doc() if earlier is not None else stored_docs.get(item.id)
                if before is None:
                    raise NotFoundError(
                        f"order {item.id!r} does not exist; PATCH needs an existing order"
                    )
                values = merge_patch(_without_derived_total(before, item.values), item.values)
            order = validate_order(schema, item.id, values, tz=tx.state.tz)
        except ValidationError as exc:
            problems.extend(_where(number, batch) + p for p in exc.problems)
            continue
        latest[item.id] = order
        out.append(order)
    if problems:
        reported = problems[:MAX_REPORTED]
        more = len(problems) - len(reported)
        raise ValidationError(
            reported[0] + (f" (and {more} more)" if more else ""), problems=reported
        )
    return out


def _without_derived_total(before: dict[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """The stored order a patch builds on: a patch that changes the lines but not the total
    of an order whose total was derived from its lines has it derived again."""
    if "lines" not in patch or "total" in patch:
        return before
    lines = [validate_line("", line) for line in before.get("lines", ())]
    derived = cents(sum((line.amount for line in lines), Decimal(0)))
    if read_money("", "total", before.get("total")) != derived:
        return before  # a total the shop gave (discounts, shipping) stays until changed
    return {k: v for k, v in before.items() if k != "total"}


def merge_patch(before: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """RFC 7396: ``null`` removes, objects merge, anything else (lines too) replaces."""
    out = dict(before)
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge_patch(out[key], value)
        else:
            out[key] = value
    return out


def _store(tx: Transaction, orders: list[Order], existing: Mapping[str, OrderRow]) -> None:
    final = {o.id: o for o in orders}  # later items of one id replace earlier ones
    conn, tenant_id = tx.conn, tx.tenant_id
    old_rows = [existing[i] for i in final if i in existing]
    old_lines = order_store.lines_of(conn, tenant_id=tenant_id, seqs=[r.seq for r in old_rows])
    named = {o.customer_id for o in final.values() if o.customer_id is not None}
    next_seq = order_store.next_seq(conn, tenant_id=tenant_id)
    inserted: list[OrderRow] = []
    updated: list[OrderRow] = []
    written: list[tuple[OrderRow, list[LineRow]]] = []
    for order in final.values():
        before = existing.get(order.id)
        seq = before.seq if before else next_seq
        next_seq += 0 if before else 1
        row = _row(tx, order, seq, before)
        (updated if before else inserted).append(row)
        written.append((row, _lines(seq, order.lines)))
    order_store.insert_orders(conn, tenant_id=tenant_id, rows=inserted)
    order_store.update_orders(conn, tenant_id=tenant_id, rows=updated)
    order_store.replace_lines(
        conn, tenant_id=tenant_id, orders_written=written, replaced=[r.seq for r in updated]
    )
    removed = [order_sums.contribution(r, old_lines[r.seq]) for r in old_rows]
    added = [order_sums.contribution(r, lines) for r, lines in written]
    moved = order_sums.apply(tx, removed, added)
    _settle(tx, moved, named=named, written=written, deleted=[])


def _settle(
    tx: Transaction,
    moved: order_sums.Moved,
    *,
    named: set[str],
    written: Sequence[tuple[OrderRow, Sequence[LineRow]]],
    deleted: Sequence[int],
) -> None:
    """After orders changed and their sums moved: switch the tenant at its first order,
    create the unknown customers orders ``named``, hold the ``written`` orders (and
    forget the ``deleted`` ones) in memory, bring the derived values of the customers
    and products whose sums moved up to date, and re-check the customers and products
    the orders named, before and after, in the segments that count orders."""
    first = not order_values.orders_written(tx)
    if first:
        order_store.mark_orders_since(tx.conn, tenant_id=tx.tenant_id, now=tx.now_us)
        tx.state.set_schema(Kind.CUSTOMER, tx.state.schemas[Kind.CUSTOMER].with_orders())
    if named:
        _create_customers(tx, named)
    touched_customers, touched_products = _hold(tx, written, deleted)
    if first:  # every customer and product recomputed, in one pass each
        order_values.refresh(tx, Kind.CUSTOMER, None)
        order_values.refresh(tx, Kind.PRODUCT, None)
    else:
        order_values.refresh(tx, Kind.CUSTOMER, moved.customers)
        order_values.refresh(tx, Kind.PRODUCT, moved.products)
    behaviour.orders_changed(tx, touched_customers, touched_products)


def _hold(
    tx: Transaction, written: Sequence[tuple[OrderRow, Sequence[LineRow]]], deleted: Sequence[int]
) -> tuple[BitMap, BitMap]:
    """Bring the in-memory orders up to date; returns the customers and existing
    products the orders named, before and after."""
    purchases = tx.state.purchases
    changed = [row.seq for row, _ in written] + list(deleted)
    customers, products = behaviour.touched_by(purchases, changed)
    customer_seqs = seqs_of(tx, Kind.CUSTOMER, {r.customer_id for r, _ in written} - {None})
    product_seqs = seqs_of(
        tx, Kind.PRODUCT, {ln.product_id for _, lines in written for ln in lines}
    )
    tx.state.mutations += 1  # undone by a reload if the write fails
    needed = purchases.lines + sum(len(lines) for _, lines in written)
    if needed > purchases.line_capacity and purchases.dead_lines() * 4 > purchases.lines:
        purchases.compact()  # reclaim replaced orders' lines rather than grow (amortised)
    for seq in deleted:
        purchases.remove(seq)
    held = [
        HeldOrder(
            row,
            None if row.customer_id is None else customer_seqs.get(row.customer_id),
            [(line, product_seqs.get(line.product_id)) for line in lines],
        )
        for row, lines in written
    ]
    purchasing.hold_many(purchases, held)
    after_customers, after_products = behaviour.touched_by(purchases, changed)
    return customers | after_customers, products | after_products


def _create_customers(tx: Transaction, customers: set[str]) -> None:
    """The customers orders name that do not exist: created with only their id, through
    the entity write (their segments update; their order values are computed there)."""
    seqs, table = seqs_of(tx, Kind.CUSTOMER, customers), tx.state.tables[Kind.CUSTOMER]
    # the tenant's state holds every live customer: only seqs are looked up, not rows
    missing = [c for c in sorted(customers) if c not in seqs or not _alive(table, seqs[c])]
    for start in range(0, len(missing), MAX_BATCH):
        part = missing[start : start + MAX_BATCH]
        writes = [Write(c, {}) for c in part]
        entity_ops.write(tx, Kind.CUSTOMER, writes, cause=Cause.ORDER_CHANGED)


def _alive(table: ColumnarTable, seq: int) -> bool:
    return seq < table.size and bool(table.alive[seq])


def _row(tx: Transaction, order: Order, seq: int, before: OrderRow | None) -> OrderRow:
    return OrderRow(
        seq=seq,
        id=order.id,
        customer_id=order.customer_id,
        placed_at=placed_micros(order),
        status=order.status.value,
        channel=order.channel,
        total_micros=to_micros(order.total),
        line_count=len(order.lines),
        attributes=order.attributes,
        created_at=before.created_at if before else tx.now_us,
        updated_at=tx.now_us,
        record=order_record(tx.state.schemas[Kind.ORDER], order),
    )


def _lines(seq: int, lines: Sequence[OrderLine]) -> list[LineRow]:
    return [
        LineRow(seq, n, line.product_id, line.quantity, to_micros(line.unit_price))
        for n, line in enumerate(lines)
    ]


def delete(tx: Transaction, order_id: str) -> None:
    """Delete an order; its customer's and products' values lose it."""
    check_id(order_id, what="order id")
    found = order_store.rows_by_ids(tx.conn, tenant_id=tx.tenant_id, ids=[order_id]).get(order_id)
    if found is None:
        raise NotFoundError(f"order {order_id!r} does not exist")
    lines = order_store.lines_of(tx.conn, tenant_id=tx.tenant_id, seqs=[found.seq])[found.seq]
    order_store.delete_lines(tx.conn, tenant_id=tx.tenant_id, seqs=[found.seq])
    order_store.delete_orders(tx.conn, tenant_id=tx.tenant_id, seqs=[found.seq])
    moved = order_sums.apply(tx, [order_sums.contribution(found, lines)], [])
    _settle(tx, moved, named=set(), written=[], deleted=[found.seq])


# -- reads --------------------------------------------------------------------------------------


def get(tx_conn: Any, tenant_id: int, order_id: str) -> dict[str, Any]:
    """An order as the API shows it, or NotFoundError."""
    check_id(order_id, what="order id")
    found = order_store.rows_by_ids(tx_conn, tenant_id=tenant_id, ids=[order_id]).get(order_id)
    if found is None:
        raise NotFoundError(f"order {order_id!r} does not exist")
    return _shown(found, order_store.lines_of(tx_conn, tenant_id=tenant_id, seqs=[found.seq]))


def _docs(tx: Transaction, rows: Sequence[OrderRow]) -> dict[str, dict[str, Any]]:
    lines = order_store.lines_of(tx.conn, tenant_id=tx.tenant_id, seqs=[r.seq for r in rows])
    return {row.id: _shown(row, lines) for row in rows}


def _shown(row: OrderRow, lines: Mapping[int, Sequence[LineRow]]) -> dict[str, Any]:
    shown = Order(
        id=row.id,
        customer_id=row.customer_id,
        placed_at=order_values.instant(row.placed_at),
        status=OrderStatus(row.status),
        channel=row.channel,
        total=from_micros(row.total_micros),
        lines=tuple(
            OrderLine(line.product_id, line.quantity, from_micros(line.unit_price_micros))
            for line in lines.get(row.seq, ())
        ),
        attributes=dict(row.attributes),
    )
    return shown.doc()


def customer_orders(
    conn: Any, tenant_id: int, customer_id: str, limit: int, cursor: str | None
) -> Page[dict[str, Any]]:
    """A customer's orders, newest first, a page at a time."""
    check_id(customer_id, what="customer id")
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationError(f"limit must be from 1 to {MAX_PAGE:,}", field="limit")
    customer = entity_store.rows_by_ids(
        conn, tenant_id=tenant_id, kind=Kind.CUSTOMER, ids=[customer_id]
    ).get(customer_id)
    if customer is None or customer.doc is None:
        raise NotFoundError(f"customer {customer_id!r} does not exist")
    rows = order_store.customer_orders(
        conn,
        tenant_id=tenant_id,
        customer_id=customer_id,
        limit=limit + 1,
        before=_after(cursor),
    )
    page, more = rows[:limit], len(rows) > limit
    lines = order_store.lines_of(conn, tenant_id=tenant_id, seqs=[r.seq for r in page])
    next_cursor = _cursor(page[-1]) if more else None
    return Page([_shown(r, lines) for r in page], next_cursor)


def _cursor(row: OrderRow) -> str:
    return base64.urlsafe_b64encode(orjson.dumps([row.placed_at, row.seq])).decode().rstrip("=")


def _after(cursor: str | None) -> tuple[int, int] | None:
    if cursor is None:
        return None
    bad = ValidationError(f"cursor {cursor[:40]!r} is not one this call gave", field="cursor")
    try:
        found = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, orjson.JSONDecodeError):
        raise bad from None
    if not (isinstance(found, list) and len(found) == 2 and all(type(v) is int for v in found)):
        raise bad
    return found[0], found[1]
