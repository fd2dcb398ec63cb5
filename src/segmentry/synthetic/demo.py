"""The demo shop: a generated catalog and customer base with the segments of the
product brief, built through the library like any shop would be.

Everything is generated with fixed seeds, but dated relative to the Segmentry's
clock, so a demo run today has customers who ordered in the last 30 days.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any

import numpy as np

from segmentry.engine.segmentry import Segmentry
from segmentry.engine.shop import Shop
from segmentry.engine.types import Segment, SegmentSpec, SegmentType, Use, UseType
from segmentry.model.schema import Kind
from segmentry.synthetic import generate

PRODUCTS = 20_000
CUSTOMERS = 50_000
BATCH = 5_000
HANDPICKED = 25  # the fixed segment: the customers with the highest lifetime values

Step = Callable[[str, int, int], None]
"""Progress of the set-up: what is being loaded, how many so far, out of how many."""

SEGMENTS: list[SegmentSpec] = [
    SegmentSpec(kind=Kind.PRODUCT, code="premiumProducts", name="Premium products",
                description="Unit price above 100.", rule="price > 100"),
    SegmentSpec(kind=Kind.PRODUCT, code="shoesOnSale", name="Shoes on sale",
                description="Shoes at 20 % off or more, in stock.",
                rule="categories CONTAINS 'Shoes' AND discount_percent >= 20 AND available = yes"),
    SegmentSpec(kind=Kind.CUSTOMER, code="engageNoOrders", name="App installed, no orders yet",
                description="Worth a first-order push.",
                rule="app_installed = yes AND lifetime_value = 0"),
    SegmentSpec(kind=Kind.CUSTOMER, code="goldLoyalty", name="Gold loyalty",
                rule="loyalty_status = 'Gold'"),
    SegmentSpec(kind=Kind.CUSTOMER, code="goldOnIos", name="Gold customers on iOS",
                description="A segment inside a segment.",
                rule="IN SEGMENT 'goldLoyalty' AND platform = 'ios'"),
    SegmentSpec(kind=Kind.CUSTOMER, code="highValueIos", name="iOS, lifetime value above 100",
                rule="platform = 'ios' AND lifetime_value > 100"),
    SegmentSpec(kind=Kind.CUSTOMER, code="recentBuyers", name="Ordered in the last 30 days",
                description="Customers leave it as their 30 days end, with no write.",
                rule="last_order_at > -30d"),
]  # fmt: skip

USES: list[tuple[str, Use]] = [
    ("engageNoOrders", Use("first-order-push", UseType.NOTIFICATION,
                           "Push: 10 % off your first order",
                           "https://shop.example/admin/notifications/first-order")),
    ("goldLoyalty", Use("gold-newsletter", UseType.WORKFLOW, "Monthly Gold newsletter")),
    ("premiumProducts", Use("home-premium", UseType.RECOMMENDATION,
                            "Home page: premium picks")),
]  # fmt: skip


@dataclass(frozen=True, slots=True)
class DemoShop:
    """What ``build_demo`` created, and the API key to reach it with."""

    tenant_id: int
    key_id: str
    api_key: str
    products: int
    customers: int
    segments: list[Segment]
    uses: list[tuple[str, Use]]


def build_demo(
    segmentry: Segmentry,
    *,
    products: int = PRODUCTS,
    customers: int = CUSTOMERS,
    progress: Step | None = None,
) -> DemoShop:
    """Fill the first tenant of ``segmentry`` (an empty database) with the demo shop."""
    step = progress or _quiet
    shop = segmentry.default_shop()
    shop.declare_attribute("customer", "loyalty_status", "enum", label="Loyalty Status",
                           values=generate.LOYALTY)  # fmt: skip
    now = segmentry.now()
    _load(shop, generate.products(products, now=now), step)
    people = generate.customers(customers, now=now)
    _load(shop, people, step)
    made = _segments(shop, _handpicked(people), step)
    for code, use in USES:
        shop.put_use(code, use)
    key, plain = segmentry.issue_key(shop.tenant_id, "demo")
    return DemoShop(shop.tenant_id, key.key_id, plain, products, customers, made, USES)


def _quiet(what: str, done: int, total: int) -> None:
    """No progress to show."""


def _load(shop: Shop, columns: generate.Columns, step: Step) -> None:
    """The generated entities in bulk batches (each one transaction)."""
    what = f"{columns.kind}s"
    step(what, 0, columns.size)
    done = 0
    for batch in _batches(columns.documents(), BATCH):
        done += shop.upsert_many(columns.kind, batch)
        step(what, done, columns.size)


def _batches(items: Iterator[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    while batch := list(islice(items, size)):
        yield batch


def _handpicked(people: generate.Columns) -> list[str]:
    """The ids of the customers with the highest lifetime values."""
    best = np.argsort(-people.number["lifetime_value"], kind="stable")[:HANDPICKED]
    return [str(people.ids[row]) for row in best]


def _segments(shop: Shop, handpicked: list[str], step: Step) -> list[Segment]:
    fixed = SegmentSpec(kind=Kind.CUSTOMER, code="handpickedVips", name="Hand-picked VIPs",
                        description="Managed by hand: invited to the spring preview.",
                        type=SegmentType.FIXED, members=handpicked)  # fmt: skip
    specs = [*SEGMENTS, fixed]
    made = []
    for number, spec in enumerate(specs, start=1):
        made.append(shop.create_segment(spec))
        step("segments", number, len(specs))
    return made
