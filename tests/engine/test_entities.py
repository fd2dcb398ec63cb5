"""Entities: upsert, patch, batches, derived attributes, deletion, bad input."""

from __future__ import annotations

from datetime import timedelta

import pytest

from segmentry.engine.shop import Shop
from segmentry.engine.types import SegmentSpec
from segmentry.errors import InUseError, NotFoundError, ValidationError
from segmentry.model.schema import Kind
from tests.engine.conftest import ManualClock


def test_upsert_stores_a_normalised_document_with_engine_times(
    shop: Shop, clock: ManualClock
) -> None:
    entity = shop.upsert(
        Kind.CUSTOMER,
        "42",
        {"email": " ana@example.com ", "platform": "IOS", "lifetime_value": 250, "orders_count": 4},
    )
    assert entity.attributes == {
        "id": "42",
        "email": "ana@example.com",
        "platform": "ios",
        "lifetime_value": 250,
        "orders_count": 4,
        "average_order_value": 62.5,
        "created_at": "2024-03-15T12:00:00Z",
        "updated_at": "2024-03-15T12:00:00Z",
    }
    clock.advance(timedelta(hours=1))
    again = shop.upsert(Kind.CUSTOMER, "42", {"email": "ana@example.com"})
    assert again.attributes["created_at"] == "2024-03-15T12:00:00Z"
    assert again.attributes["updated_at"] == "2024-03-15T13:00:00Z"
    assert "platform" not in again.attributes


def test_patch_merges_and_null_removes(shop: Shop) -> None:
    shop.upsert(Kind.PRODUCT, "p", {"name": "Air", "price": 80, "original_price": 100})
    assert shop.get(Kind.PRODUCT, "p").attributes["discount_percent"] == 20.0
    patched = shop.patch(Kind.PRODUCT, "p", {"original_price": None, "brand": "Nike"})
    assert "original_price" not in patched.attributes
    assert "discount_percent" not in patched.attributes
    assert patched.attributes["brand"] == "Nike"
    with pytest.raises(NotFoundError):
        shop.patch(Kind.PRODUCT, "nope", {"price": 1})


def test_a_batch_is_all_or_nothing_and_names_its_first_errors(shop: Shop) -> None:
    shop.create_segment(SegmentSpec(kind=Kind.PRODUCT, code="all", name="All", rule="price >= 0"))
    items = [{"id": f"p{i}", "price": i} for i in range(10)]
    items[3]["price"] = "three"
    items[7]["prce"] = 1
    with pytest.raises(ValidationError) as caught:
        shop.upsert_many(Kind.PRODUCT, items)
    assert list(caught.value.problems) == [
        "item 3: product p3: price must be a number, got 'three'",
        "item 7: product p7: unknown attribute 'prce'; did you mean 'price'?",
    ]
    assert shop.entities(Kind.PRODUCT).items == []
    assert shop.segment("all").member_count == 0
    assert shop.events().items == []


@pytest.mark.parametrize("bad", ["", "x" * 257, "a\x00b", "tab\tid"])
def test_malformed_ids_are_refused(shop: Shop, bad: str) -> None:
    with pytest.raises(ValidationError):
        shop.upsert(Kind.PRODUCT, bad, {"price": 1})
    assert shop.entities(Kind.PRODUCT).items == []


def test_derived_and_engine_kept_attributes_cannot_be_written(shop: Shop) -> None:
    for key in ("discount_percent", "updated_at"):
        with pytest.raises(ValidationError, match=f"{key} is computed by segmentry"):
            shop.upsert(Kind.PRODUCT, "p", {key: 1})


def test_deleting_an_entity_removes_it_everywhere(shop: Shop) -> None:
    shop.upsert(Kind.PRODUCT, "p", {"price": 5})
    shop.create_segment(SegmentSpec(kind=Kind.PRODUCT, code="s", name="S", rule="price > 1"))
    shop.delete(Kind.PRODUCT, "p")
    with pytest.raises(NotFoundError):
        shop.get(Kind.PRODUCT, "p")
    assert shop.segment("s").member_count == 0
    assert shop.events().items[-1].cause == "entity_deleted"
    with pytest.raises(NotFoundError):
        shop.delete(Kind.PRODUCT, "p")
    shop.upsert(Kind.PRODUCT, "p", {"price": 7})
    assert shop.segment("s").member_count == 1


def test_listing_with_an_ad_hoc_rule_pages_with_a_cursor(shop: Shop) -> None:
    shop.upsert_many(Kind.PRODUCT, [{"id": f"p{i}", "price": i} for i in range(25)])
    first = shop.entities(Kind.PRODUCT, "price >= 10", limit=10)
    second = shop.entities(Kind.PRODUCT, "price >= 10", limit=10, cursor=first.next_cursor)
    assert [e.id for e in first.items] == [f"p{i}" for i in range(10, 20)]
    assert [e.id for e in second.items] == [f"p{i}" for i in range(20, 25)]
    assert second.next_cursor is None
    with pytest.raises(ValidationError):
        shop.entities(Kind.PRODUCT, limit=0)
    with pytest.raises(ValidationError):
        shop.entities(Kind.PRODUCT, cursor="abc")


def test_segments_of_an_entity_come_with_their_since(shop: Shop, clock: ManualClock) -> None:
    shop.upsert(Kind.CUSTOMER, "c", {"platform": "ios", "lifetime_value": 10})
    shop.create_segment(
        SegmentSpec(kind=Kind.CUSTOMER, code="ios", name="iOS", rule="platform = 'ios'")
    )
    clock.advance(timedelta(minutes=5))
    shop.create_segment(
        SegmentSpec(kind=Kind.CUSTOMER, code="paying", name="P", rule="lifetime_value > 0")
    )
    got = [(m.code, m.since) for m in shop.segments_of(Kind.CUSTOMER, "c")]
    assert got == [("ios", clock.now - timedelta(minutes=5)), ("paying", clock.now)]


def test_custom_attributes_are_declared_used_and_guarded(shop: Shop) -> None:
    shop.declare_attribute(
        Kind.CUSTOMER, "loyalty_status", "enum", values=["Bronze", "Silver", "Gold"]
    )
    shop.upsert(Kind.CUSTOMER, "c", {"loyalty_status": "gold"})
    shop.create_segment(
        SegmentSpec(kind=Kind.CUSTOMER, code="gold", name="Gold", rule="loyalty_status = 'Gold'")
    )
    assert shop.segment("gold").member_count == 1
    with pytest.raises(InUseError, match="used by the rules of gold"):
        shop.delete_attribute(Kind.CUSTOMER, "loyalty_status")
    shop.delete_segment("gold")
    shop.delete_attribute(Kind.CUSTOMER, "loyalty_status")
    assert "loyalty_status" not in shop.get(Kind.CUSTOMER, "c").attributes
    with pytest.raises(ValidationError, match="unknown attribute 'loyalty_status'"):
        shop.upsert(Kind.CUSTOMER, "c", {"loyalty_status": "Gold"})


def test_an_attribute_compared_with_another_is_in_use_on_both_sides(shop: Shop) -> None:
    shop.declare_attribute(Kind.CUSTOMER, "budget", "number")
    shop.upsert(Kind.CUSTOMER, "c", {"budget": 50, "lifetime_value": 80})
    shop.upsert(Kind.CUSTOMER, "d", {"budget": 100, "lifetime_value": 80})
    shop.create_segment(
        SegmentSpec(kind=Kind.CUSTOMER, code="over", name="O", rule="lifetime_value > budget")
    )
    assert [m.code for m in shop.segments_of(Kind.CUSTOMER, "c")] == ["over"]
    assert shop.segments_of(Kind.CUSTOMER, "d") == []
    # a change of either side moves the member, in real time
    shop.upsert(Kind.CUSTOMER, "d", {"budget": 10, "lifetime_value": 80})
    shop.upsert(Kind.CUSTOMER, "c", {"budget": 50, "lifetime_value": 20})
    assert [m.code for m in shop.segments_of(Kind.CUSTOMER, "d")] == ["over"]
    assert shop.segments_of(Kind.CUSTOMER, "c") == []
    with pytest.raises(InUseError, match="used by the rules of over"):
        shop.delete_attribute(Kind.CUSTOMER, "budget")
