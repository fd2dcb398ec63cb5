"""Behaviour functions through the SQL listing (the differential oracle's way), over
orders written through the library on both back ends: what the order write stores
(records, lines with their order's status) is what the SQL evaluator counts."""

from __future__ import annotations

from typing import Any

import pytest

from segmentry.engine import listings
from segmentry.engine.shop import Shop
from segmentry.model.schema import Kind


def line(product: str, quantity: int, price: str) -> dict[str, Any]:
    return {"product_id": product, "quantity": quantity, "unit_price": price}


def listed(shop: Shop, kind: str, rule: str) -> list[str]:
    with shop.segmentry.view(shop.tenant_id) as view:
        page = listings.list_entities_sql(view, Kind(kind), rule, 100, None)
    return [e.id for e in page.items]


@pytest.fixture
def sold(shop: Shop) -> Shop:
    shop.declare_attribute("order", "coupon", "string")
    shop.upsert("product", "mug", {"name": "Mug", "brand": "Acme"})
    shop.upsert("product", "cap", {"name": "Cap", "brand": "Other"})
    shop.upsert("customer", "ann", {"email": "ann@example.com"})
    shop.upsert("customer", "bob", {"email": "bob@example.com"})
    shop.put_orders([
        {"id": "o1", "customer_id": "ann", "placed_at": "2024-03-14T10:00:00Z", "channel": "app",
         "coupon": "SPRING", "lines": [line("mug", 2, "4.995")]},
        {"id": "o2", "customer_id": "bob", "placed_at": "2024-03-01T10:00:00Z", "channel": "web",
         "lines": [line("cap", 1, "20"), line("later", 3, "1")]},
        {"id": "o3", "customer_id": "bob", "placed_at": "2024-03-14T11:00:00Z", "channel": "app",
         "status": "cancelled", "lines": [line("mug", 5, "4")]},
        {"id": "o4", "placed_at": "2024-03-15T09:00:00Z", "lines": [line("mug", 4, "1")]},
    ])  # fmt: skip
    return shop


@pytest.mark.parametrize(
    ("kind", "rule", "expected"),
    [
        ("customer", "orders_placed(channel = 'app') >= 1", ["ann"]),
        ("customer", "orders_placed(coupon = 'spring', since: -7d) = 1", ["ann"]),
        ("customer", "orders_placed(since: -7d) = 0", ["bob"]),
        ("customer", "amount_spent() >= 9.99", ["ann", "bob"]),
        ("customer", "amount_spent() > 9.99", ["bob"]),
        ("customer", "purchased(brand = 'Acme')", ["ann"]),
        ("customer", "purchased(since: 2024-03-02)", ["ann"]),
        ("customer", "units_purchased() = 4", ["bob"]),
        ("customer", "NOT purchased(name = 'Cap')", ["ann"]),
        ("product", "units_sold() = 6", ["mug"]),
        ("product", "units_sold(email ENDS WITH 'example.com') = 2", ["mug"]),
        ("product", "revenue() = 13.99", ["mug"]),
        ("product", "revenue() > 13.99", ["cap"]),
    ],
)
def test_the_sql_listing_counts_the_stored_orders(
    sold: Shop, kind: str, rule: str, expected: list[str]
) -> None:
    """The guest's units count without a condition and not with one; the cancelled
    order counts for nothing; a line of a product created later counts once it exists."""
    assert listed(sold, kind, rule) == expected


def test_a_product_created_after_its_orders_is_counted_by_its_conditions(sold: Shop) -> None:
    assert listed(sold, "customer", "purchased(name = 'Later')") == []
    sold.upsert("product", "later", {"name": "Later"})
    assert listed(sold, "customer", "purchased(name = 'Later')") == ["bob"]
    sold.delete("product", "later")
    assert listed(sold, "customer", "purchased(name = 'Later')") == []
