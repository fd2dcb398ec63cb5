"""The demo shop is the same shop at every run: fixed seeds, dated from the clock; its
customers have the generated orders, and its behaviour segments hold who they say."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import numpy as np

from segmentry.engine.segmentry import Segmentry
from segmentry.engine.shop import Shop
from segmentry.synthetic import generate
from segmentry.synthetic.demo import BEHAVIOUR_SEGMENTS, ORDERS_PER_CUSTOMER, build_demo
from segmentry.synthetic.orders import GUEST, OrderColumns, orders

MOMENT = datetime(2027, 2, 3, 4, 5, tzinfo=UTC)


def _counts(moment: datetime = MOMENT) -> tuple[dict[str, int], list[str]]:
    with Segmentry("sqlite://", clock=lambda: moment) as segmentry:
        built = build_demo(segmentry, products=800, customers=1_500)
        shop = segmentry.shop(built.tenant_id)
        picked = [m.id for m in shop.members("handpickedVips").items]
        return {s.code: s.member_count for s in built.segments}, picked


def test_every_run_builds_the_same_shop_shifted_to_its_moment() -> None:
    """The demo's counts (the relative-time segment's too) can be quoted in docs."""
    assert _counts() == _counts(datetime(2029, 8, 17, 23, 59, 1, tzinfo=UTC))


def test_the_steps_report_progress_up_to_their_totals() -> None:
    seen: dict[str, tuple[int, int]] = {}

    def step(what: str, done: int, total: int) -> None:
        seen[what] = (done, total)

    with Segmentry("sqlite://", clock=lambda: MOMENT) as segmentry:
        build_demo(segmentry, products=120, customers=7_001, progress=step)
    segments = 8 + len(BEHAVIOUR_SEGMENTS)
    assert seen == {
        "products": (120, 120),
        "customers": (7_001, 7_001),
        "orders": (1_750, 1_750),  # ORDERS_PER_CUSTOMER, rounded
        "segments": (segments, segments),
    }


def _history(products: int, customers: int, moment: datetime) -> OrderColumns:
    """The demo's order history, generated again as ``build_demo`` does."""
    prices = generate.products(products, now=moment).number["price"]
    count = round(customers * ORDERS_PER_CUSTOMER)
    return orders(count, customers=customers, prices=prices, now=moment)


def test_the_demo_customers_have_the_generated_orders() -> None:
    with Segmentry("sqlite://", clock=lambda: MOMENT) as segmentry:
        built = build_demo(segmentry, products=400, customers=1_000)
        shop = segmentry.shop(built.tenant_id)
        made = _history(400, 1_000, MOMENT)
        assert built.orders == made.size
        spent = made.spent_cents(1_000)
        top = int(np.argmax(spent[1:])) + 1
        listed = shop.customer_orders(str(top), limit=1_000).items
        assert len(listed) == int((made.customer == top).sum())
        assert [o["placed_at"] for o in listed] == sorted((o["placed_at"] for o in listed),
                                                          reverse=True)  # fmt: skip
        value = shop.get("customer", str(top)).attributes["lifetime_value"]
        assert Decimal(repr(value)) == Decimal(int(spent[top])) / 100
        assert str(top) in {m.id for m in shop.members("handpickedVips").items}


def test_the_behaviour_segments_hold_who_the_orders_say() -> None:
    with Segmentry("sqlite://", clock=lambda: MOMENT) as segmentry:
        built = build_demo(segmentry, products=800, customers=1_500)
        shop = segmentry.shop(built.tenant_id)
        made = _history(800, 1_500, MOMENT)
        members = {code: _members(shop, code) for code in ("lapsed", "premiumBuyers",
                                                            "bestsellers")}  # fmt: skip
    expected = _expected(made, generate.products(800).number["price"])
    assert members == expected
    assert all(members.values()), {code: len(ids) for code, ids in members.items()}


def _members(shop: Shop, code: str) -> set[str]:
    found: set[str] = set()
    cursor = None
    while True:
        page = shop.members(code, limit=1_000, cursor=cursor)
        found.update(m.id for m in page.items)
        cursor = page.next_cursor
        if cursor is None:
            return found


def _expected(made: OrderColumns, prices: np.ndarray) -> dict[str, set[str]]:
    """This test's own reading of the three rules over the generated orders."""
    now = int(MOMENT.timestamp()) * 1_000_000
    placed = made.status == 0
    known = placed & (made.customer != GUEST)
    ordered = set(made.customer[known].tolist())
    recent = set(made.customer[known & (made.placed_at >= now - 90 * generate.DAY_US)].tolist())
    order_of_line = np.repeat(np.arange(made.size), np.diff(made.line_start))
    line_at = made.placed_at[order_of_line]
    line_counted = placed[order_of_line]
    premium = prices[made.product - 1] > 100
    in_30 = line_counted & (line_at >= now - 30 * generate.DAY_US) & premium
    buyers = made.customer[order_of_line[in_30]]
    month_ago = int(MOMENT.replace(month=MOMENT.month - 1).timestamp()) * 1_000_000
    in_month = line_counted & (line_at >= month_ago)
    units = np.bincount(made.product[in_month], weights=made.quantity[in_month])
    return {
        "lapsed": {str(c) for c in ordered - recent},
        "premiumBuyers": {str(c) for c in set(buyers.tolist()) - {GUEST}},
        "bestsellers": {str(p) for p in np.flatnonzero(units >= 5)},
    }
