"""The demo shop: a generated catalog, customer base and order history with the
segments of the product brief, built through the library like any shop would be.

Everything is generated with fixed seeds, but dated relative to the Segmentry's
clock, so a demo run today has customers who ordered in the last 30 days. The
segments are created before the orders are written, so the orders move them in
real time as a running shop's would; from the first order on, the customers'
order values (``lifetime_value``, ``orders_count``, ``last_order_at``…) are
derived from their orders.
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
from segmentry.synthetic import generate, vocabulary
from segmentry.synthetic import orders as order_gen

PRODUCTS = 20_000
CUSTOMERS = 50_000
BATCH = 5_000
ORDERS_PER_CUSTOMER = 0.25  # a quarter of an order a customer keeps the build quick
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

BEHAVIOUR_SEGMENTS: list[SegmentSpec] = [
    SegmentSpec(kind=Kind.PRODUCT, code="bestsellers", name="Bestsellers this month",
                description="Five units or more sold in the last month.",
                rule="units_sold(since: -1m) >= 5"),
    SegmentSpec(kind=Kind.CUSTOMER, code="premiumBuyers",
                name="Bought premium products in the last 30 days",
                description="A product segment inside a customer segment.",
                rule="purchased(IN SEGMENT 'premiumProducts', since: -30d)"),
    SegmentSpec(kind=Kind.CUSTOMER, code="lapsed",
                name="Lapsed: ordered before, not in the last 90 days",
                description="Customers enter it as their last order turns 90 days old.",
                rule="orders_placed() > 0 AND orders_placed(since: -90d) = 0"),
]  # fmt: skip
"""The segments on purchase behaviour: installed only when the rule language reads
behaviour functions (see ``behaviour_segments``)."""

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
    orders: int = 0


def build_demo(
    segmentry: Segmentry,
    *,
    products: int = PRODUCTS,
    customers: int = CUSTOMERS,
    orders: int | None = None,
    progress: Step | None = None,
) -> DemoShop:
    """Fill the first tenant of ``segmentry`` (an empty database) with the demo shop;
    ``orders`` defaults to ``ORDERS_PER_CUSTOMER`` per customer."""
    step = progress or _quiet
    shop = segmentry.default_shop()
    shop.declare_attribute("customer", "loyalty_status", "enum", label="Loyalty Status",
                           values=vocabulary.LOYALTY)  # fmt: skip
    now = segmentry.now()
    catalog = generate.products(products, now=now)
    _load(shop, catalog, step)
    _load(shop, generate.customers(customers, now=now), step)
    count = round(customers * ORDERS_PER_CUSTOMER) if orders is None else orders
    history = order_gen.orders(count, customers=customers, prices=catalog.number["price"], now=now)
    made = _segments(shop, _handpicked(history, customers), step)
    _load_orders(shop, history, step)
    for code, use in USES:
        shop.put_use(code, use)
    key, plain = segmentry.issue_key(shop.tenant_id, "demo")
    made = [shop.segment(s.code) for s in made]  # their counts after the orders
    return DemoShop(
        shop.tenant_id, key.key_id, plain, products, customers, made, USES, history.size
    )


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


def _load_orders(shop: Shop, history: order_gen.OrderColumns, step: Step) -> None:
    """The order history in batches, oldest first, as a shop would catch up."""
    step("orders", 0, history.size)
    done = 0
    for batch in _batches(history.documents(), BATCH):
        done += shop.put_orders(batch)
        step("orders", done, history.size)


def _batches(items: Iterator[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    while batch := list(islice(items, size)):
        yield batch


def _handpicked(history: order_gen.OrderColumns, customers: int) -> list[str]:
    """The ids of the customers who spent the most (the ones with no orders last)."""
    spent = history.spent_cents(customers)[1:]
    best = np.argsort(-spent, kind="stable")[:HANDPICKED]
    return [str(int(row) + 1) for row in best]


def _segments(shop: Shop, handpicked: list[str], step: Step) -> list[Segment]:
    fixed = SegmentSpec(kind=Kind.CUSTOMER, code="handpickedVips", name="Hand-picked VIPs",
                        description="Managed by hand: invited to the spring preview.",
                        type=SegmentType.FIXED, members=handpicked)  # fmt: skip
    specs = [*SEGMENTS, *BEHAVIOUR_SEGMENTS, fixed]
    made = []
    for number, spec in enumerate(specs, start=1):
        made.append(shop.create_segment(spec))
        step("segments", number, len(specs))
    return made
