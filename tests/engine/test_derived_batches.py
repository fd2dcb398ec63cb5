"""Batches of orders patch their customers' and products' derived values in SQL
(``engine.derived_patches``): every stored document is its other attributes as
written plus the values computed from scratch here, its record the encoding of
the document, and the kept memberships those a fresh process computes."""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

from segmentry.engine.segmentry import Segmentry
from segmentry.engine.shop import Shop
from segmentry.engine.types import Cause, Change, SegmentSpec
from segmentry.model.schema import ORDER_DERIVED_KEYS, SALES_KEYS, Kind
from segmentry.model.values import encode
from segmentry.store import entities as entity_store

RULES = {
    "big": ("customer", "lifetime_value >= 100 AND country = 'FR'"),
    "regular": ("customer", "orders_count >= 3"),
    "recent": ("customer", "last_order_at > '2024-02-10T00:00:00Z'"),
    "tagged": ("customer", "tags CONTAINS 'vip'"),
    "sold": ("product", "units_sold >= 5"),
}


def _written(shop: Shop) -> dict[tuple[str, str], dict[str, Any]]:
    """Customers and products with attributes of their own (a list among them)."""
    written: dict[tuple[str, str], dict[str, Any]] = {}
    for n in range(8):
        doc = {"country": "FR" if n % 2 else "DE", "tags": ["vip"] if n % 3 else ["new"]}
        written["customer", f"c{n}"] = doc
        shop.upsert("customer", f"c{n}", doc)
    for n in range(6):
        written["product", f"p{n}"] = {"name": f"product {n}"}
        shop.upsert("product", f"p{n}", {"name": f"product {n}"})
    return written


def _order(rng: random.Random, number: int, step: int) -> dict[str, Any]:
    lines = [
        {"product_id": f"p{rng.randrange(6)}", "quantity": rng.randrange(1, 4),
         "unit_price": rng.randrange(1, 5000) / 100}
        for _ in range(rng.randrange(1, 4))
    ]  # fmt: skip
    return {
        "id": f"o{number}",
        "customer_id": f"c{rng.randrange(8)}",
        "placed_at": f"2024-02-{step % 28 + 1:02d}T10:00:00Z",
        "status": rng.choice(["placed", "placed", "placed", "cancelled"]),
        "lines": lines,
    }


def test_batches_of_orders_equal_a_recomputation(shop: Shop, database_url: str) -> None:
    written = _written(shop)
    for code, (kind, rule) in RULES.items():
        shop.create_segment(SegmentSpec(kind=kind, code=code, name=code, rule=rule))
    rng = random.Random(23)
    alive: dict[str, dict[str, Any]] = {}
    for step in range(12):
        batch = [_order(rng, rng.randrange(20), step) for _ in range(rng.randrange(2, 7))]
        shop.put_orders(batch)
        alive.update((o["id"], o) for o in batch)
    gone = [
        {**o, "status": "cancelled"} for o in alive.values() if o["customer_id"] in ("c1", "c2")
    ]
    shop.put_orders(gone)  # two customers lose every order: their dates are removed
    alive.update((o["id"], o) for o in gone)
    placed = [o for o in alive.values() if o["status"] == "placed"]
    assert len(gone) >= 2
    assert not [o for o in placed if o["customer_id"] in ("c1", "c2")]
    with shop.segmentry.transaction(shop.tenant_id) as tx:
        for kind, keys in ((Kind.CUSTOMER, ORDER_DERIVED_KEYS), (Kind.PRODUCT, SALES_KEYS)):
            schema = tx.state.schemas[kind]
            for row in entity_store.scan(tx.conn, tenant_id=tx.tenant_id, kind=kind):
                assert row.doc is not None
                skip = {*keys, "id", "created_at", "updated_at"}
                own = {k: v for k, v in row.doc.items() if k not in skip}
                assert own == written[kind.value, row.id]
                assert row.record == encode(schema, row.doc)
                assert tx.state.tables[kind].record(row.seq) == row.record
    for n in range(8):
        mine = [o for o in placed if o["customer_id"] == f"c{n}"]
        found = shop.get("customer", f"c{n}").attributes
        total = sum((Decimal(repr(ln["unit_price"])) * ln["quantity"]
                     for o in mine for ln in o["lines"]), Decimal(0))  # fmt: skip
        assert found["orders_count"] == len(mine)
        assert Decimal(repr(found["lifetime_value"])) == total
        assert ("first_order_at" in found) == bool(mine)
    with Segmentry(database_url) as fresh:
        other = fresh.shop(shop.tenant_id)
        for code, (kind, rule) in RULES.items():
            kept = {m.id for m in shop.members(code, limit=1_000).items}
            other.create_segment(SegmentSpec(kind=kind, code=f"{code}2", name=code, rule=rule))
            again = {m.id for m in other.members(f"{code}2", limit=1_000).items}
            assert kept == again, code
            assert other.preview(kind, rule).count == len(kept), code
        assert shop.members("big").items  # the rules hold for some


BEHAVIOUR_RULES = {
    "spent": ("customer", "amount_spent() > 40 AND country = 'FR'"),
    "sold": ("product", "units_sold >= 5"),
    "buyers_of_sold": ("customer", "purchased(IN SEGMENT 'sold')"),
    "popular": ("product", "units_sold() >= 6"),
}


def _all_members(shop: Shop) -> dict[str, set[str]]:
    return {code: {m.id for m in shop.members(code, limit=1_000).items} for code in BEHAVIOUR_RULES}


def test_a_batch_tells_each_behaviour_segment_flip_once_as_order_changed(
    shop: Shop, database_url: str
) -> None:
    """A batch re-checks its customers and products in these segments once both kinds'
    derived values are set (one names a product segment the same batch moves): the
    feed holds, per segment, exactly who entered and who left, once each, and the
    members are those a fresh process computes."""
    _written(shop)
    for code, (kind, rule) in BEHAVIOUR_RULES.items():
        shop.create_segment(SegmentSpec(kind=kind, code=code, name=code, rule=rule))
    rng = random.Random(31)
    last = max((int(e.id) for e in shop.events(limit=1_000).items), default=0)
    for step in range(10):
        before = _all_members(shop)
        shop.put_orders([_order(rng, rng.randrange(20), step) for _ in range(rng.randrange(2, 9))])
        after = _all_members(shop)
        told = shop.events(after=str(last), limit=1_000).items
        last = max([last, *(int(e.id) for e in told)])
        assert {e.cause for e in told} <= {Cause.ORDER_CHANGED}
        pairs = [(e.segment, e.entity_id) for e in told]
        assert len(pairs) == len(set(pairs))  # nobody enters and leaves, or enters twice
        for code in BEHAVIOUR_RULES:
            entered = {
                e.entity_id for e in told if e.segment == code and e.change is Change.ENTERED
            }
            exited = {e.entity_id for e in told if e.segment == code and e.change is Change.EXITED}
            assert entered == after[code] - before[code], (step, code)
            assert exited == before[code] - after[code], (step, code)
    with Segmentry(database_url) as fresh:
        other = fresh.shop(shop.tenant_id)
        for code, (kind, rule) in BEHAVIOUR_RULES.items():
            assert other.preview(kind, rule).count == len(after[code]), code
    assert all(after.values())  # every rule holds for some
