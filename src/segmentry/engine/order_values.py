"""Customers' and products' values derived from orders, kept in the write's transaction.

From a tenant's first order on, a customer's ``orders_count``,
``lifetime_value``, ``first_order_at``, ``last_order_at`` and
``average_order_value`` are sums over its placed orders, and a product's
``units_sold``, ``revenue`` and ``last_sold_at`` sums over the placed lines
that name it. They live in the entity's document like any attribute, so
every rule and evaluator reads them unchanged; this module recomputes them
from the running sums of placed orders (exact integers of millionths, see
``engine.order_sums``) for the entities a write touched, and re-checks those
entities' segments with the cause ``order_changed``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np

from segmentry.engine import behaviour, derived_patches
from segmentry.engine.matcher import matcher_for
from segmentry.engine.transaction import Transaction
from segmentry.engine.types import Cause
from segmentry.model.money import cents, from_micros, money_number
from segmentry.model.schema import ORDER_DERIVED_KEYS, SALES_KEYS, Kind, Schema
from segmentry.model.values import Document, encode
from segmentry.store import entities as entity_store
from segmentry.store import order_sums as sums_store
from segmentry.store.entities import EntityRow
from segmentry.store.order_sums import CustomerTotals, ProductSales

NAIVE_EPOCH = datetime(1970, 1, 1)
KEYS: dict[Kind, tuple[str, ...]] = {Kind.CUSTOMER: ORDER_DERIVED_KEYS, Kind.PRODUCT: SALES_KEYS}


def orders_written(tx: Transaction) -> bool:
    """Whether the tenant has written an order (its order values are derived)."""
    return tx.state.schemas[Kind.CUSTOMER].orders_derived


def instant(micros: int) -> str:
    """``format_instant`` of the moment ``micros`` after the epoch, reckoned without
    a zone (UTC throughout, so no conversion to make)."""
    moment = NAIVE_EPOCH + timedelta(microseconds=micros)
    return moment.isoformat(timespec="microseconds" if moment.microsecond else "seconds") + "Z"


def customer_values(totals: CustomerTotals | None) -> Document:
    """A customer's derived values; without placed orders, a count and a value of 0."""
    if totals is None:
        return {"orders_count": 0, "lifetime_value": 0}
    value = from_micros(totals.total_micros)
    return {
        "orders_count": totals.count,
        "lifetime_value": money_number(value),
        "first_order_at": instant(totals.first_at),
        "last_order_at": instant(totals.last_at),
        "average_order_value": money_number(cents(value / Decimal(totals.count))),
    }


def product_values(sales: ProductSales | None) -> Document:
    """A product's sales; never sold (in a placed order), 0 units and 0 revenue."""
    if sales is None:
        return {"units_sold": 0, "revenue": 0}
    return {
        "units_sold": sales.units,
        "revenue": money_number(cents(from_micros(sales.revenue_micros))),
        "last_sold_at": instant(sales.last_at),
    }


def sums(tx: Transaction, kind: Kind, ids: Iterable[str] | None) -> dict[str, Document]:
    """The derived values of the entities named (of all of them: ``None``), for the
    ids that have orders; the others get the values of no orders."""
    conn, tenant_id = tx.conn, tx.tenant_id
    if kind is Kind.CUSTOMER:
        totals = sums_store.totals_of(conn, tenant_id=tenant_id, customer_ids=ids)
        return {cid: customer_values(t) for cid, t in totals.items()}
    sales = sums_store.sales_of(conn, tenant_id=tenant_id, product_ids=ids)
    return {pid: product_values(s) for pid, s in sales.items()}


def _values(kind: Kind, now: CustomerTotals | ProductSales | None) -> Document:
    if kind is Kind.CUSTOMER:
        assert now is None or isinstance(now, CustomerTotals)
        return customer_values(now)
    assert now is None or isinstance(now, ProductSales)
    return product_values(now)


def nothing(kind: Kind) -> Document:
    return customer_values(None) if kind is Kind.CUSTOMER else product_values(None)


def fill(
    tx: Transaction, kind: Kind, docs: Sequence[Document], existing: Mapping[str, EntityRow]
) -> None:
    """Give the documents of an entity write their derived order values: those the
    entity had, or, for an entity new or written again after a delete, its sums (an
    order may have named it before it existed). Nothing before the tenant's first order."""
    if kind not in KEYS or not orders_written(tx):
        return
    keys = KEYS[kind]
    fresh = [d["id"] for d in docs if not _alive(existing.get(d["id"]))]
    computed = sums(tx, kind, fresh) if fresh else {}
    for doc in docs:
        for key in keys:
            doc.pop(key, None)
        before = existing.get(doc["id"])
        if before is not None and before.doc is not None:
            doc.update((k, before.doc[k]) for k in keys if k in before.doc)
        else:
            doc.update(computed.get(doc["id"]) or nothing(kind))


def _alive(row: EntityRow | None) -> bool:
    return row is not None and row.doc is not None


def refresh(
    tx: Transaction, kind: Kind, moved: Mapping[str, CustomerTotals | ProductSales | None] | None
) -> int:
    """Bring the derived values of the entities whose sums ``moved`` (by id, as they now
    stand; ``None``: every entity of the kind, from the stored sums) up to date and
    re-check the segments of those whose values changed; returns how many changed.
    Entities that do not exist are left alone (matched once they do)."""
    conn, tenant_id = tx.conn, tx.tenant_id
    if moved is None:
        rows = list(entity_store.scan(conn, tenant_id=tenant_id, kind=kind))
        computed = sums(tx, kind, None)
    else:
        if len(moved) > 1 and not matcher_for(tx, kind).nested:
            values = lambda now: _values(kind, now)  # noqa: E731
            return derived_patches.refresh(tx, kind, KEYS[kind], moved, values)
        if not moved:
            return 0
        found = entity_store.rows_by_ids(conn, tenant_id=tenant_id, kind=kind, ids=list(moved))
        rows = [r for r in found.values() if r.doc is not None]
        computed = {r.id: _values(kind, moved[r.id]) for r in rows}
    keys, schema = KEYS[kind], tx.state.schemas[kind]
    changed: list[tuple[EntityRow, Document]] = []
    for row in rows:
        assert row.doc is not None
        doc = {k: v for k, v in row.doc.items() if k not in keys}
        doc.update(computed.get(row.id) or nothing(kind))
        if doc != row.doc:
            changed.append((row, doc))
    if moved is None:  # the switch to derived values: records encoded afresh
        records = [encode(schema, doc) for _, doc in changed]
    else:
        records = [_record(schema, keys, row, doc) for row, doc in changed]
    stored = [(row, doc, rec) for (row, doc), rec in zip(changed, records, strict=True)]
    _store(tx, kind, stored)
    return len(changed)


def _record(schema: Schema, keys: tuple[str, ...], row: EntityRow, doc: Document) -> Any:
    """The record of ``doc``, the entity's document with new derived values: its stored
    record (the encoding of its stored document, key by key) with only those re-encoded."""
    if row.record is None:
        return encode(schema, doc)
    record = {k: v for k, v in row.record.items() if k not in keys}
    record.update(encode(schema, {k: doc[k] for k in keys if k in doc}))
    return record


def _store(tx: Transaction, kind: Kind, changed: list[tuple[EntityRow, Document, Any]]) -> None:
    if not changed:
        return
    entity_store.update_rows(
        tx.conn,
        tenant_id=tx.tenant_id,
        kind=kind,
        rows=[
            {
                "seq": row.seq,
                "doc": doc,
                "record": record,
                "created_at": row.created_at,
                "updated_at": tx.now_us,
                "revision": tx.revision,
            }
            for row, doc, record in changed
        ],
    )
    seqs = [row.seq for row, _, _ in changed]
    records = [(row.seq, record) for row, _, record in changed]
    crossing = behaviour.watch(tx, kind, seqs)
    tx.state.mutations += 1
    tx.state.tables[kind].put_many(seqs, [r for _, r in records], [r.record for r, _, _ in changed])
    match = matcher_for(tx, kind)
    if len(changed) == 1:
        row, _, record = changed[0]
        match.update(tx, row.seq, row.record, record, Cause.ORDER_CHANGED)
    else:
        array = np.array(seqs, dtype=np.int64)
        match.update_many(tx, array, records, Cause.ORDER_CHANGED)
    olds = [(row.seq, row.record, record) for row, _, record in changed]
    crossing.settle(tx, olds, Cause.ORDER_CHANGED)
