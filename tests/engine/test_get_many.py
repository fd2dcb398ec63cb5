"""``Shop.get_many``: a page of entities in one read (the web page's members list)."""

from __future__ import annotations

import pytest

from segmentry.engine.segmentry import Segmentry
from segmentry.engine.shop import Shop
from segmentry.errors import ValidationError


def test_get_many_answers_the_living_entities_in_the_order_asked(shop: Shop) -> None:
    shop.upsert_many("product", [{"id": f"p{i}", "price": i} for i in range(1, 5)])
    shop.delete("product", "p3")
    found = shop.get_many("product", ["p4", "nope", "p1", "p3", "p4"])
    assert [(e.id, e.attributes["price"]) for e in found] == [("p4", 4), ("p1", 1)]
    assert shop.get_many("customer", ["p1"]) == []


def test_get_many_never_reaches_another_tenant(segmentry: Segmentry, shop: Shop) -> None:
    other = segmentry.shop(segmentry.create_tenant("other shop").tenant_id)
    other.upsert("product", "p1", {"price": 5})
    assert shop.get_many("product", ["p1"]) == []


def test_get_many_refuses_bad_ids_and_oversized_asks(shop: Shop) -> None:
    with pytest.raises(ValidationError, match="must not be empty"):
        shop.get_many("product", [""])
    with pytest.raises(ValidationError, match="at most 1,000 ids"):
        shop.get_many("product", [f"p{i}" for i in range(1_001)])
