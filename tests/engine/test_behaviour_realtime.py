"""Segments that count orders stay exact in real time (docs/behaviour.md, "Real time"):
an order written, changed, cancelled or deleted; a product or customer edited so that
it starts or stops meeting a function's condition; and time moving a window's end.
Through the library, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from segmentry.engine.segmentry import Segmentry
from segmentry.engine.shop import Shop
from segmentry.engine.types import Cause, Change, SegmentEdit, SegmentSpec
from segmentry.model.schema import Kind
from tests.engine.conftest import ManualClock


def segment(shop: Shop, kind: Kind, code: str, rule: str) -> None:
    shop.create_segment(SegmentSpec(kind=kind, code=code, name=code, rule=rule))


def ids(shop: Shop, code: str) -> set[str]:
    return {m.id for m in shop.members(code, limit=1000).items}


def order(
    customer: str | None, placed_at: str, *lines: tuple[str, int, str], **rest: Any
) -> dict[str, Any]:
    return {
        **({"customer_id": customer} if customer else {}),
        "placed_at": placed_at,
        "lines": [{"product_id": p, "quantity": q, "unit_price": u} for p, q, u in lines],
        **rest,
    }


def last_events(shop: Shop, count: int) -> list[tuple[str, str, Change, Cause]]:
    return [(e.segment, e.entity_id, e.change, e.cause) for e in shop.events().items[-count:]]


def test_amount_spent_follows_orders_and_the_clock(shop: Shop, clock: ManualClock) -> None:
    segment(shop, Kind.CUSTOMER, "spenders", "amount_spent(since: -30d) > 100")
    segment(shop, Kind.CUSTOMER, "spenders_too", "IN SEGMENT 'spenders'")
    shop.put_order("o1", order("c1", "2024-03-10T10:00:00Z", ("p1", 2, "40")))
    assert ids(shop, "spenders") == set()
    shop.put_order("o2", order("c1", "2024-03-14T10:00:00Z", ("p2", 1, "30.01")))
    assert ids(shop, "spenders") == ids(shop, "spenders_too") == {"c1"}
    assert last_events(shop, 2) == [
        ("spenders", "c1", Change.ENTERED, Cause.ORDER_CHANGED),
        ("spenders_too", "c1", Change.ENTERED, Cause.ORDER_CHANGED),
    ]
    shop.patch_order("o2", {"status": "cancelled"})
    assert ids(shop, "spenders") == ids(shop, "spenders_too") == set()
    assert last_events(shop, 1) == [("spenders_too", "c1", Change.EXITED, Cause.ORDER_CHANGED)]
    shop.patch_order("o2", {"status": "placed"})
    assert ids(shop, "spenders") == {"c1"}
    shop.delete_order("o2")
    assert ids(shop, "spenders") == set()
    shop.put_order("o2", order("c1", "2024-03-14T10:00:00Z", ("p2", 1, "30.01")))
    assert ids(shop, "spenders") == {"c1"}
    # o1 (10 March, 11:00 in Madrid) leaves the 30 days on 9 April at 11:00 CEST.
    clock.now = clock.now.replace(month=4, day=9, hour=8, minute=59)
    shop.sweep()
    assert ids(shop, "spenders") == {"c1"}
    clock.advance(timedelta(minutes=2))
    assert shop.sweep() == 2
    assert ids(shop, "spenders") == ids(shop, "spenders_too") == set()
    assert last_events(shop, 1) == [("spenders_too", "c1", Change.EXITED, Cause.TIME_PASSED)]


def test_a_long_pause_passes_every_order_it_should(shop: Shop, clock: ManualClock) -> None:
    segment(shop, Kind.CUSTOMER, "active", "orders_placed(since: -7d) >= 1")
    segment(shop, Kind.CUSTOMER, "quiet", "orders_placed(since: -7d) = 0")
    for number, day in enumerate((1, 5, 9, 14)):
        shop.put_order(f"o{number}", order(f"c{number}", f"2024-03-{day:02d}T12:00:00Z",
                                           ("p", 1, "5")))  # fmt: skip
    assert ids(shop, "active") == {"c2", "c3"}
    assert ids(shop, "quiet") == {"c0", "c1"}
    clock.advance(timedelta(days=300))
    shop.sweep()
    assert ids(shop, "active") == set()
    assert ids(shop, "quiet") == {"c0", "c1", "c2", "c3"}


def test_an_order_in_the_future_enters_a_window_with_an_end(shop: Shop, clock: ManualClock) -> None:
    segment(
        shop, Kind.CUSTOMER, "yesterday_buyers", "purchased(since: yesterday, until: yesterday)"
    )
    shop.put_order("o1", order("c1", "2024-03-16T12:00:00Z", ("p1", 1, "5")))
    assert ids(shop, "yesterday_buyers") == set()
    clock.advance(timedelta(days=1))
    shop.sweep()
    assert ids(shop, "yesterday_buyers") == set()
    clock.advance(timedelta(days=1))
    shop.sweep()
    assert ids(shop, "yesterday_buyers") == {"c1"}
    clock.advance(timedelta(days=1))
    shop.sweep()
    assert ids(shop, "yesterday_buyers") == set()


def test_purchased_follows_a_product_moving_in_a_product_segment(shop: Shop) -> None:
    shop.upsert(Kind.PRODUCT, "p1", {"name": "Mug", "price": 10})
    shop.upsert(Kind.PRODUCT, "p2", {"name": "Pen", "price": 2})
    segment(shop, Kind.PRODUCT, "premium", "price >= 100")
    segment(shop, Kind.CUSTOMER, "premium_buyers", "purchased(IN SEGMENT 'premium')")
    shop.put_order("o1", order("c1", "2024-03-01", ("p1", 1, "10"), ("p2", 1, "2")))
    shop.put_order("o2", order("c2", "2024-03-01", ("p2", 3, "2")))
    shop.put_order("o3", order(None, "2024-03-01", ("p1", 3, "2")))  # a guest
    assert ids(shop, "premium_buyers") == set()
    shop.patch(Kind.PRODUCT, "p1", {"price": 150})
    assert ids(shop, "premium") == {"p1"}
    assert ids(shop, "premium_buyers") == {"c1"}
    assert last_events(shop, 2) == [
        ("premium", "p1", Change.ENTERED, Cause.ENTITY_CHANGED),
        ("premium_buyers", "c1", Change.ENTERED, Cause.ENTITY_CHANGED),
    ]
    seen = len(shop.events(limit=1000).items)
    shop.patch(Kind.PRODUCT, "p1", {"name": "Big mug"})  # what the rules read is unchanged
    assert len(shop.events(limit=1000).items) == seen
    shop.patch(Kind.PRODUCT, "p1", {"price": 20})
    assert ids(shop, "premium_buyers") == set()
    shop.patch(Kind.PRODUCT, "p2", {"price": 200})
    assert ids(shop, "premium_buyers") == {"c1", "c2"}
    shop.delete(Kind.PRODUCT, "p2")  # a product that does not exist meets no condition
    assert ids(shop, "premium_buyers") == set()


def test_purchased_with_an_attribute_condition_follows_product_edits(shop: Shop) -> None:
    segment(shop, Kind.CUSTOMER, "nike_fans", "purchased(brand = 'Nike', since: -30d)")
    segment(shop, Kind.CUSTOMER, "anything", "purchased()")
    shop.put_order("o1", order("c1", "2024-03-10", ("shoe", 1, "80")))
    # The product does not exist yet: it meets no condition, but a line is a purchase.
    assert (ids(shop, "nike_fans"), ids(shop, "anything")) == (set(), {"c1"})
    shop.upsert(Kind.PRODUCT, "shoe", {"name": "Runner", "brand": "Nike"})
    assert ids(shop, "nike_fans") == {"c1"}
    shop.patch(Kind.PRODUCT, "shoe", {"brand": "Adidas"})
    assert ids(shop, "nike_fans") == set()
    shop.upsert(Kind.PRODUCT, "shoe", {"name": "Runner", "brand": "nike"})
    assert ids(shop, "nike_fans") == {"c1"}
    shop.delete(Kind.PRODUCT, "shoe")
    assert (ids(shop, "nike_fans"), ids(shop, "anything")) == (set(), {"c1"})


def test_units_sold_follows_customers_moving_in_a_customer_segment(shop: Shop) -> None:
    shop.upsert(Kind.CUSTOMER, "c1", {"email": "a@example.com", "tags": ["vip"]})
    shop.upsert(Kind.CUSTOMER, "c2", {"email": "b@example.com"})
    segment(shop, Kind.CUSTOMER, "vip", "tags CONTAINS 'vip'")
    segment(shop, Kind.PRODUCT, "vip_sellers", "units_sold(IN SEGMENT 'vip') > 2")
    segment(shop, Kind.CUSTOMER, "vip_seller_buyers", "purchased(IN SEGMENT 'vip_sellers')")
    shop.put_order("o1", order("c1", "2024-03-01", ("p1", 2, "10"), ("p2", 5, "1")))
    shop.put_order("o2", order("c2", "2024-03-02", ("p1", 4, "10")))
    shop.upsert(Kind.PRODUCT, "p1", {"name": "Mug"})
    shop.upsert(Kind.PRODUCT, "p2", {"name": "Pen"})
    assert ids(shop, "vip_sellers") == {"p2"}
    assert ids(shop, "vip_seller_buyers") == {"c1"}
    shop.patch(Kind.CUSTOMER, "c2", {"tags": ["vip"]})
    assert ids(shop, "vip_sellers") == {"p1", "p2"}
    assert ids(shop, "vip_seller_buyers") == {"c1", "c2"}
    assert ("vip_sellers", "p1", Change.ENTERED, Cause.ENTITY_CHANGED) in last_events(shop, 3)
    shop.patch(Kind.CUSTOMER, "c1", {"tags": None})
    assert ids(shop, "vip_sellers") == {"p1"}
    assert ids(shop, "vip_seller_buyers") == {"c1", "c2"}  # c1 bought p1 too
    shop.delete(Kind.CUSTOMER, "c2")
    assert ids(shop, "vip_sellers") == ids(shop, "vip_seller_buyers") == set()
    shop.put_order("o3", order("c3", "2024-03-03", ("p2", 3, "1")))  # c3 is no vip
    assert ids(shop, "vip_sellers") == set()
    shop.patch(Kind.CUSTOMER, "c3", {"tags": ["VIP"]})
    assert ids(shop, "vip_sellers") == {"p2"}
    assert ids(shop, "vip_seller_buyers") == {"c1", "c3"}


def test_a_segment_edit_passes_on_to_behaviour_conditions(shop: Shop) -> None:
    shop.upsert(Kind.PRODUCT, "p1", {"name": "Mug", "price": 10})
    segment(shop, Kind.PRODUCT, "premium", "price >= 100")
    segment(shop, Kind.CUSTOMER, "premium_buyers", "purchased(IN SEGMENT 'premium')")
    shop.put_order("o1", order("c1", "2024-03-01", ("p1", 1, "10")))
    shop.edit_segment("premium", SegmentEdit(rule="price >= 5"))
    assert ids(shop, "premium_buyers") == {"c1"}
    assert last_events(shop, 1) == [("premium_buyers", "c1", Change.ENTERED, Cause.SEGMENT_CHANGED)]


def test_units_sold_and_revenue_follow_orders(shop: Shop) -> None:
    shop.upsert(Kind.PRODUCT, "p1", {"name": "Mug"})
    segment(shop, Kind.PRODUCT, "sellers", "units_sold(since: -30d) > 2")
    segment(shop, Kind.PRODUCT, "earners", "revenue() >= 25.5")
    shop.put_order("o1", order(None, "2024-03-01", ("p1", 2, "10")))
    assert (ids(shop, "sellers"), ids(shop, "earners")) == (set(), set())
    shop.put_order("o2", order("c1", "2024-03-02", ("p1", 1, "5.5")))
    assert (ids(shop, "sellers"), ids(shop, "earners")) == ({"p1"}, {"p1"})
    assert last_events(shop, 2) == [
        ("sellers", "p1", Change.ENTERED, Cause.ORDER_CHANGED),
        ("earners", "p1", Change.ENTERED, Cause.ORDER_CHANGED),
    ]
    shop.patch_order("o2", {"lines": [{"product_id": "p2", "quantity": 1, "unit_price": 5}]})
    assert (ids(shop, "sellers"), ids(shop, "earners")) == (set(), set())


def test_another_process_loads_the_orders(database_url: str, shop: Shop) -> None:
    segment(shop, Kind.CUSTOMER, "spenders", "amount_spent() > 100")
    shop.put_order("o1", order("c1", "2024-03-01", ("p1", 2, "40")))
    with Segmentry(database_url) as second:
        other = second.shop(shop.tenant_id)
        other.put_order("o2", order("c1", "2024-03-02", ("p1", 1, "30")))
        assert ids(other, "spenders") == {"c1"}
    shop.delete_order("o1")  # this process reloads: another wrote
    assert ids(shop, "spenders") == set()


def test_an_order_change_that_moves_no_order_value_is_seen(shop: Shop) -> None:
    segment(shop, Kind.CUSTOMER, "app_buyers", "orders_placed(channel = 'app') >= 1")
    segment(shop, Kind.PRODUCT, "sold_to_vips", "units_sold(tags CONTAINS 'vip') >= 1")
    shop.upsert(Kind.CUSTOMER, "c1", {"tags": ["vip"]})
    shop.upsert(Kind.CUSTOMER, "c2", {})
    shop.upsert(Kind.PRODUCT, "p1", {"name": "Mug"})
    shop.put_order("o1", order("c1", "2024-03-01", ("p1", 1, "5"), channel="web"))
    assert (ids(shop, "app_buyers"), ids(shop, "sold_to_vips")) == (set(), {"p1"})
    shop.patch_order("o1", {"channel": "app"})
    assert ids(shop, "app_buyers") == {"c1"}
    assert last_events(shop, 1) == [("app_buyers", "c1", Change.ENTERED, Cause.ORDER_CHANGED)]
    shop.patch_order("o1", {"customer_id": "c2"})  # the order moves: both customers are re-checked
    assert (ids(shop, "app_buyers"), ids(shop, "sold_to_vips")) == ({"c2"}, set())
