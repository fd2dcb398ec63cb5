"""Derived values exact as a person computes them from the decimals sent (SPEC §2), the
same in every evaluator: the kept members, the SQL preview, the one-record explain."""

from __future__ import annotations

import csv
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from segmentry.engine.shop import Shop
from segmentry.engine.types import SegmentSpec
from segmentry.model.schema import Kind

HUNDREDTH = Decimal("0.01")


def percent_off(price: str, original: str) -> Decimal:
    """The discount as the test computes it, in decimal, to the hundredth."""
    sale, market = Decimal(price), Decimal(original)
    return (100 * (market - sale) / market).quantize(HUNDREDTH, ROUND_HALF_UP)


def members(shop: Shop, code: str) -> set[str]:
    found: set[str] = set()
    cursor = None
    while True:
        page = shop.members(code, limit=1_000, cursor=cursor)
        found.update(m.id for m in page.items)
        if page.next_cursor is None:
            return found
        cursor = page.next_cursor


def test_209_30_off_299_is_30_percent_in_every_evaluator(shop: Shop) -> None:
    shop.create_segment(SegmentSpec(kind=Kind.PRODUCT, code="deals", name="Deals",
                                    rule="discount_percent >= 30"))  # fmt: skip
    stored = shop.upsert("product", "p1", {"price": 209.30, "original_price": 299.00})
    assert stored.attributes["discount_percent"] == 30
    assert members(shop, "deals") == {"p1"}
    assert shop.preview("product", "discount_percent >= 30").count == 1
    assert shop.explain("deals", "p1").member
    assert shop.explain("deals", "p1").tree["result"] is True
    shop.upsert("customer", "c1", {"lifetime_value": 71.07, "orders_count": 5})
    assert shop.get("customer", "c1").attributes["average_order_value"] == 14.21


@pytest.fixture(scope="module")
def bigbasket(shared_data: Path) -> list[dict[str, str]]:
    path = shared_data / "bigbasket_products.csv"
    if not path.is_file():
        pytest.skip(f"the BigBasket catalog is not at {path}")
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_every_bigbasket_product_30_percent_off_is_in_the_segment(
    shop: Shop, bigbasket: list[dict[str, str]]
) -> None:
    shop.create_segment(SegmentSpec(kind=Kind.PRODUCT, code="deals", name="Deals",
                                    rule="discount_percent >= 30"))  # fmt: skip
    items = [
        {"id": r["index"], "price": float(r["sale_price"]),
         "original_price": float(r["market_price"])}
        for r in bigbasket
    ]  # fmt: skip
    for start in range(0, len(items), 5_000):
        shop.upsert_many("product", items[start : start + 5_000])
    off = {r["index"]: percent_off(r["sale_price"], r["market_price"]) for r in bigbasket}
    expected = {i for i, d in off.items() if d >= 30}
    assert len(expected) == 3_858
    assert members(shop, "deals") == expected
    assert shop.preview("product", "discount_percent >= 30").count == len(expected)
    boundary = sorted(i for i, d in off.items() if d == 30)
    assert len(boundary) > 95  # where floating point once fell short
    for product_id in boundary[::10]:
        assert shop.explain("deals", product_id).member
        assert shop.get("product", product_id).attributes["discount_percent"] == 30
