"""Value suggestions: the values an attribute has in the shop, with how many have each."""

from __future__ import annotations

import pytest

from segmentry.engine.shop import Shop
from segmentry.errors import ValidationError


def test_values_containing_the_text_come_with_their_counts(shop: Shop) -> None:
    shop.upsert_many("product", [
        {"id": "p1", "brand": "Nike", "tags": ["sale", "running"]},
        {"id": "p2", "brand": "Nike", "tags": ["sale"]},
        {"id": "p3", "brand": "Nikon", "tags": ["camera"]},
        {"id": "p4", "brand": "Onitsuka", "tags": []},
        {"id": "p5", "brand": "nike air"},
    ])  # fmt: skip
    # text is compared ignoring case, so it is counted (and shown) case-folded
    assert shop.value_counts("product", "brand", "NI") == [
        ("nike", 2), ("nike air", 1), ("nikon", 1), ("onitsuka", 1),
    ]  # fmt: skip
    assert shop.value_counts("product", "brand", "", limit=1) == [("nike", 2)]
    assert shop.value_counts("product", "tags", "SA") == [("sale", 2)]
    shop.delete("product", "p2")  # gone: no longer counted
    shop.patch("product", "p1", {"tags": ["running"]})
    assert shop.value_counts("product", "brand", "nike") == [("nike", 1), ("nike air", 1)]
    assert shop.value_counts("product", "tags", "sa") == []


def test_only_text_enum_and_list_attributes_have_suggestions(shop: Shop) -> None:
    with pytest.raises(ValidationError, match="'price' is not a text, enum or list attribute"):
        shop.value_counts("product", "price")
    with pytest.raises(ValidationError, match="limit must be between"):
        shop.value_counts("product", "brand", limit=0)


def test_an_enum_is_suggested_as_declared(shop: Shop) -> None:
    shop.declare_attribute("customer", "tier", "enum", values=["Gold", "Silver"])
    shop.upsert_many("customer", [{"id": "c1", "tier": "gold"}, {"id": "c2", "tier": "Gold"}])
    assert shop.value_counts("customer", "tier") == [("Gold", 2)]
