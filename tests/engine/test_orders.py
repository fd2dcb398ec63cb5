"""Orders through the library on both back ends: the switch to derived values is part
of the first order's transaction (undone with it, seen by other processes), exact
money, and an incremental result equal to a full recomputation."""

from __future__ import annotations

import csv
import gzip
import io
import random
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from segmentry.engine.segmentry import Segmentry
from segmentry.engine.shop import Shop
from segmentry.engine.types import SegmentSpec
from segmentry.errors import ValidationError
from segmentry.model.schema import Kind
from segmentry.model.values import encode
from segmentry.store import entities as entity_store
from segmentry.store import order_sums as sums_store
from segmentry.store.tables import orders as orders_table
from tests.orders_data import DATA, MAP, expected


def line(product: str, quantity: int, price: str) -> dict[str, Any]:
    return {"product_id": product, "quantity": quantity, "unit_price": price}


def test_a_refused_first_order_leaves_the_tenant_as_it_was(shop: Shop) -> None:
    shop.upsert("customer", "c1", {"lifetime_value": 50})
    with pytest.raises(ValidationError, match="order o2: line 0: quantity"):
        shop.put_orders(
            [
                {"id": "o1", "customer_id": "c1", "placed_at": "2024-01-01",
                 "lines": [line("p1", 1, "5")]},
                {"id": "o2", "placed_at": "2024-01-01", "lines": [line("p1", 0, "5")]},
            ]
        )  # fmt: skip
    # Not switched: the written values are still the shop's to write.
    assert shop.patch("customer", "c1", {"lifetime_value": 60}).attributes["lifetime_value"] == 60
    assert "units_sold" not in shop.upsert("product", "p1", {"name": "Mug"}).attributes


def test_another_process_sees_the_switch_and_the_values(database_url: str, shop: Shop) -> None:
    shop.upsert("customer", "c1", {"email": "a@example.com"})
    with Segmentry(database_url) as second:
        other = second.shop(shop.tenant_id)
        assert other.get("customer", "c1").attributes.get("orders_count") is None
        shop.put_order("o1", {"customer_id": "c1", "placed_at": "2024-01-01",
                              "lines": [line("p1", 2, "19.99")]})  # fmt: skip
        assert other.get("customer", "c1").attributes["lifetime_value"] == 39.98
        with pytest.raises(ValidationError, match="orders_count is computed"):
            other.patch("customer", "c1", {"orders_count": 3})


def test_orders_are_refused_as_entities_and_segments(shop: Shop) -> None:
    with pytest.raises(ValidationError, match="not a kind of segment"):
        shop.upsert("order", "o1", {})
    with pytest.raises(ValidationError, match="not a kind of segment"):
        shop.preview("order", "total > 1")
    with pytest.raises(ValidationError, match="not a kind of segment"):
        SegmentSpec(kind="order", code="o", name="O", rule="total > 1")


def test_random_order_writes_equal_a_recomputation_from_scratch(shop: Shop) -> None:
    """Writes, patches, cancellations and deletes in random order: every customer's and
    product's values equal those computed here from the orders that remain."""
    shop.create_segment(SegmentSpec(kind="customer", code="big", name="Big",
                                    rule="lifetime_value >= 100"))  # fmt: skip
    rng = random.Random(17)
    alive: dict[str, dict[str, Any]] = {}
    for step in range(120):
        order_id = f"o{rng.randrange(30)}"
        action = rng.random()
        if order_id in alive and action < 0.2:
            shop.delete_order(order_id)
            del alive[order_id]
        elif order_id in alive and action < 0.4:
            status = rng.choice(["placed", "cancelled", "refunded"])
            alive[order_id] = shop.patch_order(order_id, {"status": status})
        else:
            lines = [
                line(f"p{rng.randrange(6)}", rng.randrange(1, 4), f"{rng.randrange(1, 5000) / 100}")
                for _ in range(rng.randrange(1, 4))
            ]
            day = f"2024-02-{step % 28 + 1:02d}"
            body = {"customer_id": f"c{rng.randrange(5)}", "placed_at": day, "lines": lines}
            alive[order_id] = shop.put_order(order_id, body)
    placed = [o for o in alive.values() if o["status"] == "placed"]
    for n in range(5):
        mine = [o for o in placed if o["customer_id"] == f"c{n}"]
        found = shop.get("customer", f"c{n}").attributes
        value = sum((Decimal(repr(o["total"])) for o in mine), Decimal(0))
        assert found["orders_count"] == len(mine)
        assert Decimal(repr(found["lifetime_value"])) == value
        assert (shop.member("big", f"c{n}") is not None) == (value >= 100)
    for n in range(6):
        sold = [ln for o in placed for ln in o["lines"] if ln["product_id"] == f"p{n}"]
        units = sum(ln["quantity"] for ln in sold)
        revenue = sum((ln["quantity"] * Decimal(repr(ln["unit_price"])) for ln in sold), Decimal(0))
        shop.upsert("product", f"p{n}", {"name": f"product {n}"})  # appears after its orders
        found = shop.get("product", f"p{n}").attributes
        assert (found["units_sold"], Decimal(repr(found["revenue"]))) == (units, revenue)
    # The running sums, moved by each write's delta, equal the sums from scratch.
    with shop.segmentry.database.connect() as conn:
        tenant_id = shop.tenant_id
        assert sums_store.totals_of(conn, tenant_id=tenant_id, customer_ids=None) == (
            sums_store.recount_customers(conn, tenant_id=tenant_id)
        )
        assert sums_store.sales_of(conn, tenant_id=tenant_id, product_ids=None) == (
            sums_store.recount_products(conn, tenant_id=tenant_id)
        )
    # Each stored record, the derived values re-encoded over the rest, is the encoding
    # of the stored document, as the evaluators read it.
    with shop.segmentry.transaction(shop.tenant_id) as tx:
        for kind in (Kind.CUSTOMER, Kind.PRODUCT):
            rows = list(entity_store.scan(tx.conn, tenant_id=tx.tenant_id, kind=kind))
            assert len(rows) == (5 if kind is Kind.CUSTOMER else 6)
            for row in rows:
                assert row.doc is not None
                assert row.record == encode(tx.state.schemas[kind], row.doc), row.id


@pytest.mark.skipif(not DATA.exists(), reason=f"{DATA} is absent")
def test_real_invoices_import_through_the_library_on_both_back_ends(shop: Shop) -> None:
    with gzip.open(DATA, "rt", encoding="utf-8", newline="") as source:
        head = [next(source) for _ in range(3_001)]  # the header and 3,000 invoice lines
    rows = list(csv.DictReader(head))
    columns = {source: target or None for source, target in MAP.items()}
    report = shop.import_orders(io.BytesIO("".join(head).encode()), "csv", columns=columns)
    customers, refused = expected(rows)
    assert (report.lines, report.rejected) == (len(rows), refused)
    for customer_id, (count, value) in customers.items():
        found = shop.get("customer", customer_id).attributes
        assert (found["orders_count"], Decimal(repr(found["lifetime_value"]))) == (count, value)


def test_an_order_moved_to_another_customer_moves_its_values(shop: Shop) -> None:
    first = {"customer_id": "a", "placed_at": "2024-01-05", "lines": [line("p1", 1, "30")]}
    shop.put_order("o1", first)
    shop.put_order("o2", {**first, "placed_at": "2024-01-09"})
    shop.patch_order("o2", {"customer_id": "b"})
    a, b = (shop.get("customer", c).attributes for c in ("a", "b"))
    assert (a["orders_count"], a["lifetime_value"], a["last_order_at"]) == (
        1,
        30,
        "2024-01-04T23:00:00Z",  # the tenant's zone is Europe/Madrid
    )
    assert (b["orders_count"], b["first_order_at"]) == (1, "2024-01-08T23:00:00Z")
    shop.delete_order("o1")
    a = shop.get("customer", "a").attributes
    assert (a["orders_count"], a["lifetime_value"]) == (0, 0)
    assert "first_order_at" not in a
    assert "last_order_at" not in a


def test_an_order_keeps_the_record_its_conditions_are_read_from(
    segmentry: Segmentry, shop: Shop
) -> None:
    """The SQL evaluator reads an order's encoded record: written with the order, changed
    with it, and losing a deleted attribute's value."""
    shop.declare_attribute("order", "coupon", "string")
    shop.put_order(
        "o1",
        {
            "customer_id": "Ann",
            "placed_at": "2024-03-01T10:00:00",
            "channel": "App",
            "coupon": "Spring",
            "lines": [line("p1", 2, "4.5")],
        },
    )
    placed = 1_709_283_600_000_000  # 10:00 in Madrid is 09:00 UTC

    def record() -> dict[str, Any]:
        query = sa.select(orders_table.c.record).where(
            orders_table.c.tenant_id == shop.tenant_id, orders_table.c.id == "o1"
        )
        with segmentry.database.connect() as conn:
            found: dict[str, Any] = conn.execute(query).scalar_one()
        return found

    assert record() == {
        "id": "o1",
        "customer_id": "ann",
        "placed_at": placed,
        "status": "placed",
        "channel": "app",
        "total": 9,
        "coupon": "spring",
    }
    shop.patch_order("o1", {"status": "cancelled", "channel": None, "total": "8.25"})
    assert record() == {
        "id": "o1",
        "customer_id": "ann",
        "placed_at": placed,
        "status": "cancelled",
        "total": 8.25,
        "coupon": "spring",
    }
    shop.delete_attribute("order", "coupon")
    assert record() == {
        "id": "o1",
        "customer_id": "ann",
        "placed_at": placed,
        "status": "cancelled",
        "total": 8.25,
    }
