"""Segments that count orders stay exact in real time (docs/behaviour.md, "Real time"):
an order written, changed, cancelled or deleted; a product or customer edited so that
it starts or stops meeting a function's condition; and time moving a window's end.
Through the library, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import pytest
from pyroaring import BitMap

from segmentry.engine import behaviour
from segmentry.engine import orders as order_ops
from segmentry.engine.orders import OrderWrite
from segmentry.engine.segmentry import Segmentry
from segmentry.engine.shop import Shop
from segmentry.engine.types import Cause, Change, SegmentEdit, SegmentSpec
from segmentry.errors import InUseError
from segmentry.match.purchases import NO_SEQ, PurchaseLine, Purchases
from segmentry.model.schema import Kind, Schema
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


def test_a_failed_order_write_leaves_no_order_in_memory(segmentry: Segmentry, shop: Shop) -> None:
    shop.put_order("o0", order(None, "2024-03-01", ("p0", 1, "5")))  # the tenant's first order

    def failing() -> None:
        with segmentry.transaction(shop.tenant_id) as tx:
            order_ops.write(tx, [OrderWrite("o1", order(None, "2024-03-02", ("p9", 2, "5")))])
            raise RuntimeError("the write fails before its commit")

    with pytest.raises(RuntimeError, match="before its commit"):
        failing()
    # Had the order stayed in memory, the new product would match its line.
    shop.upsert(Kind.PRODUCT, "p9", {"name": "Pen"})
    segment(shop, Kind.PRODUCT, "sold", "units_sold() >= 1")
    assert ids(shop, "sold") == set()


def test_an_attribute_a_behaviour_condition_reads_is_in_use(shop: Shop) -> None:
    shop.declare_attribute(Kind.ORDER, "gift", "boolean")
    shop.declare_attribute(Kind.PRODUCT, "vegan", "boolean")
    segment(shop, Kind.CUSTOMER, "gifters", "orders_placed(gift = true) >= 1")
    segment(shop, Kind.CUSTOMER, "vegans", "purchased(vegan = true)")
    shop.put_order("o1", order("c1", "2024-03-01", ("p1", 1, "5"), attributes={"gift": True}))
    assert ids(shop, "gifters") == {"c1"}
    shop.patch_order("o1", {"attributes": {"gift": False}})
    assert ids(shop, "gifters") == set()
    for kind, key, user in ((Kind.ORDER, "gift", "gifters"), (Kind.PRODUCT, "vegan", "vegans")):
        with pytest.raises(InUseError, match=user):
            shop.delete_attribute(kind, key)


def test_the_orders_a_window_passed_name_their_customers_and_products() -> None:
    """A long pause passes thousands of orders, found in one pass over the lines; a few
    are found order by order: both give every customer and existing product named."""
    rng = random.Random(5)
    purchases = Purchases(Schema(Kind.ORDER))
    for seq in range(3_000):
        lines = [
            PurchaseLine("p", rng.choice([NO_SEQ, *range(40)]), 1, 100)
            for _ in range(rng.randint(1, 3))
        ]
        purchases.put(seq, record={}, customer_seq=rng.choice([NO_SEQ, *range(60)]),
                      placed_at=seq, total_micros=100, counted=True, lines=lines)  # fmt: skip
    for seq in rng.sample(range(3_000), 500):
        purchases.remove(seq)
    for wanted in (range(3_000), rng.sample(range(3_000), 30), [2_999, 5_000]):
        held = [s for s in wanted if s < purchases.size and purchases.orders.alive[s]]
        customers = {int(purchases.customer[s]) for s in held} - {NO_SEQ}
        products = {int(purchases.line_product[r]) for s in held for r in purchases.line_rows(s)}
        assert behaviour.touched_by(purchases, wanted) == (
            BitMap(customers),
            BitMap(products - {NO_SEQ}),
        )


def test_an_entity_write_settles_a_rule_with_a_function_and_conditions(shop: Shop) -> None:
    segment(shop, Kind.CUSTOMER, "local_spenders", "city = 'Oslo' AND amount_spent() > 10")
    segment(shop, Kind.CUSTOMER, "far_or_spent", "city != 'Oslo' OR amount_spent() > 10")
    shop.upsert(Kind.CUSTOMER, "c1", {"city": "Oslo"})
    shop.put_order("o1", order("c1", "2024-03-01", ("p1", 1, "20")))
    assert (ids(shop, "local_spenders"), ids(shop, "far_or_spent")) == ({"c1"}, {"c1"})
    shop.patch(Kind.CUSTOMER, "c1", {"city": "Bergen"})
    assert (ids(shop, "local_spenders"), ids(shop, "far_or_spent")) == (set(), {"c1"})
    shop.patch(Kind.CUSTOMER, "c1", {"city": "Oslo"})
    assert (ids(shop, "local_spenders"), ids(shop, "far_or_spent")) == ({"c1"}, {"c1"})
    shop.upsert_many(Kind.CUSTOMER, [{"id": "c1", "city": "Bergen"}, {"id": "c2"}])
    assert (ids(shop, "local_spenders"), ids(shop, "far_or_spent")) == (set(), {"c1", "c2"})


def test_the_lines_of_replaced_orders_are_reclaimed(segmentry: Segmentry, shop: Shop) -> None:
    products = [f"p{n}" for n in range(150)]
    shop.upsert_many(Kind.PRODUCT, [{"id": p} for p in products])
    segment(shop, Kind.PRODUCT, "sellers", "units_sold() >= 3")
    for round_ in range(9):
        quantity = 2 + round_ % 2
        shop.put_order("o1", order("c1", "2024-03-01", *((p, quantity, "1") for p in products)))
        assert ids(shop, "sellers") == (set(products) if quantity == 3 else set())
    with segmentry.view(shop.tenant_id) as view:
        held = view.state.purchases
        assert held.lines <= held.line_capacity == 1024  # not 9 x 150 lines


def test_explain_names_the_counted_orders_as_the_shop_wrote_them(shop: Shop) -> None:
    segment(shop, Kind.CUSTOMER, "buyers", "orders_placed(status = 'placed') >= 2")
    shop.put_order("INV-1", order("c1", "2024-03-10T10:00:00Z", ("p1", 1, "5")))
    shop.put_order("Inv-2", order("c1", "2024-03-11T10:00:00Z", ("p1", 1, "5")))
    shop.put_order("INV-3", order("c1", "2024-03-12T10:00:00Z", ("p1", 1, "5"), status="cancelled"))
    explained = shop.explain("buyers", "c1")
    assert explained.member
    assert sorted(explained.tree["orders"]) == ["INV-1", "Inv-2"]
    assert explained.tree["seen"] == 2


def test_a_batch_of_orders_for_many_customers_settles_them_all(shop: Shop) -> None:
    # More customers than behaviour.AT_ONCE_LEAST in one batch: they are re-checked
    # with one columnar evaluation per segment instead of one at a time.
    many = behaviour.AT_ONCE_LEAST + 16
    shop.upsert(Kind.PRODUCT, "p1", {"name": "Mug"})
    segment(shop, Kind.CUSTOMER, "spenders", "amount_spent(since: -30d) > 50")
    segment(shop, Kind.CUSTOMER, "mug_buyers", "purchased(name = 'Mug') AND orders_placed() >= 2")
    segment(shop, Kind.PRODUCT, "sellers", "units_sold(since: -30d) > 100")
    shop.put_orders([
        {"id": f"o{n}", **order(f"c{n}", "2024-03-10T10:00:00Z", ("p1", 1, str(n)))}
        for n in range(many)
    ])  # fmt: skip
    assert ids(shop, "spenders") == {f"c{n}" for n in range(51, many)}
    assert ids(shop, "mug_buyers") == set()
    assert ids(shop, "sellers") == set()
    shop.put_orders([
        {"id": f"again{n}", **order(f"c{n}", "2024-03-11T10:00:00Z", ("p1", 2, "1"))}
        for n in range(0, many, 2)
    ] + [
        {"id": f"o{n}", **order(f"c{n}", "2024-03-10T10:00:00Z", ("p1", 1, str(n)),
                                status="cancelled")}
        for n in range(1, many, 2)
    ])  # fmt: skip
    assert ids(shop, "spenders") == {f"c{n}" for n in range(50, many, 2) if n + 2 > 50}
    assert ids(shop, "mug_buyers") == {f"c{n}" for n in range(0, many, 2)}
    assert ids(shop, "sellers") == {"p1"}


def test_segments_counting_the_same_thing_in_one_batch_each_keep_their_threshold(
    shop: Shop,
) -> None:
    # A batch's pass counts each function once for all the segments that count it: the
    # thresholds stay each segment's own, and a function whose condition names a
    # segment the same pass moves is counted after that segment settled.
    many = behaviour.AT_ONCE_LEAST + 16
    shop.upsert_many(Kind.PRODUCT, [{"id": "p1", "name": "Mug"}, {"id": "p2", "name": "Pen"}])
    segment(shop, Kind.PRODUCT, "sellers", "units_sold(since: -30d) >= 40")
    segment(shop, Kind.CUSTOMER, "over_40", "amount_spent(since: -30d) > 40")
    segment(shop, Kind.CUSTOMER, "over_60", "amount_spent(since: -30d) > 60")
    segment(shop, Kind.CUSTOMER, "mug_buyers", "purchased(name = 'Mug', since: -30d)")
    segment(shop, Kind.CUSTOMER, "bestseller_buyers", "purchased(IN SEGMENT 'sellers')")
    shop.put_orders([
        {"id": f"o{n}", **order(f"c{n}", "2024-03-10T10:00:00Z", ("p1" if n % 2 else "p2", 1,
                                                                   str(n)))}
        for n in range(many)
    ])  # fmt: skip
    assert ids(shop, "over_40") == {f"c{n}" for n in range(41, many)}
    assert ids(shop, "over_60") == {f"c{n}" for n in range(61, many)}
    assert ids(shop, "mug_buyers") == {f"c{n}" for n in range(1, many, 2)}
    assert ids(shop, "sellers") == {"p1", "p2"}
    assert ids(shop, "bestseller_buyers") == {f"c{n}" for n in range(many)}


def test_a_relative_time_inside_a_condition_moves_with_the_clock_in_every_segment(
    shop: Shop, clock: ManualClock
) -> None:
    # Two segments count the same thing; the condition's bound moves with the clock,
    # so neither may keep a value computed at an earlier moment.
    shop.declare_attribute(Kind.PRODUCT, "launched_at", "datetime")
    shop.upsert(Kind.PRODUCT, "p1", {"launched_at": "2024-03-10T12:00:00Z"})
    segment(shop, Kind.CUSTOMER, "new_buyers", "purchased(launched_at > -7d)")
    segment(shop, Kind.CUSTOMER, "new_buyers_too", "purchased(launched_at > -7d)")
    shop.put_order("o1", order("c1", "2024-03-14T10:00:00Z", ("p1", 1, "5")))
    assert ids(shop, "new_buyers") == ids(shop, "new_buyers_too") == {"c1"}
    clock.advance(timedelta(days=30))
    shop.put_order("o2", order("c2", "2024-04-14T10:00:00Z", ("p1", 1, "5")))
    assert "c2" not in ids(shop, "new_buyers") | ids(shop, "new_buyers_too")
