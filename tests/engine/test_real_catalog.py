"""The engine on a real catalog (BigBasket, ../shared/data), on both back ends.

Every segment's members are checked against an independent computation in
plain Python over the CSV rows, written from docs/rules.md: strings trimmed
and compared ignoring case, an empty string counts as missing, a condition on
a missing value is false except ``IS NULL``, ``!=`` is the negation of ``=``,
``BETWEEN`` includes both ends, ``discount_percent`` is
100 x (original - price) / original in decimal arithmetic, to the hundredth.

The subset is the first 5,000 rows plus every row with an empty brand or
product name (both lie beyond row 5,000), so all the data's quirks are in it.
"""

from __future__ import annotations

import csv
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest

from segmentry.engine.shop import Shop
from segmentry.engine.types import Cause, SegmentSpec, SegmentType
from segmentry.model.schema import Kind
from tests.engine.conftest import ManualClock

SUBSET = 5_000
BATCH = 1_000
# The data README's natural mapping names the custom attribute `type`; it is not a
# reserved word of the rule language, so it is declared under that key.
TYPE_KEY = "type"


@dataclass(frozen=True, slots=True)
class Product:
    """One CSV row as the test's own model sees it (strings folded, blanks as None)."""

    id: str
    name: str | None
    brand: str | None
    categories: frozenset[str]
    price: float
    original_price: float
    rating: float | None
    type: str | None

    @property
    def discount(self) -> Decimal:
        """As a person computes it from the prices written: in decimal, to the hundredth."""
        sale, market = Decimal(repr(self.price)), Decimal(repr(self.original_price))
        return (100 * (market - sale) / market).quantize(Decimal("0.01"), ROUND_HALF_UP)


def text(raw: str) -> str | None:
    folded = unicodedata.normalize("NFC", raw.strip()).casefold()
    return folded or None


def model(row: dict[str, str]) -> Product:
    return Product(
        id=row["index"],
        name=text(row["product"]),
        brand=text(row["brand"]),
        categories=frozenset(t for t in map(text, (row["category"], row["sub_category"])) if t),
        price=float(row["sale_price"]),
        original_price=float(row["market_price"]),
        rating=float(row["rating"]) if row["rating"].strip() else None,
        type=text(row["type"]),
    )


def item(row: dict[str, str], price: float | None = None) -> dict[str, Any]:
    """The row as written to the engine: raw strings, trailing spaces and blanks included."""
    values: dict[str, Any] = {
        "id": row["index"],
        "name": row["product"],
        "brand": row["brand"],
        "categories": [row["category"], row["sub_category"]],
        "price": float(row["sale_price"]) if price is None else price,
        "original_price": float(row["market_price"]),
        TYPE_KEY: row["type"],
    }
    if row["rating"].strip():
        values["rating_value"] = float(row["rating"])
    return values


PICKS = frozenset(str(n) for n in range(1, SUBSET + 1, 50))

# code -> (rule, the independent membership test); the order is creation order.
EARLY: dict[str, tuple[str, Callable[[Product], bool]]] = {
    "sri_sri": ("brand = 'SRI SRI AYURVEDA'", lambda p: p.brand == "sri sri ayurveda"),
    "not_fresho": ("brand != 'fresho'", lambda p: p.brand != "fresho"),
    "big_discount": ("discount_percent > 30", lambda p: p.discount > 30),
    "beauty": (
        "categories CONTAINS 'beauty & HYGIENE'",
        lambda p: "beauty & hygiene" in p.categories,
    ),
    "unrated": ("rating_value IS NULL", lambda p: p.rating is None),
    "deal_not_beauty": (
        "IN SEGMENT 'big_discount' AND NOT IN SEGMENT 'beauty'",
        lambda p: p.discount > 30 and "beauty & hygiene" not in p.categories,
    ),
}
LATE: dict[str, tuple[str, Callable[[Product], bool]]] = {
    "mid_price": ("price BETWEEN 100 AND 200", lambda p: 100 <= p.price <= 200),
    "blanks": ("name IS NULL OR brand IS NULL", lambda p: p.name is None or p.brand is None),
    "good_oils": (
        f"{TYPE_KEY} CONTAINS 'Oil' AND rating_value >= 4",
        lambda p: p.type is not None and "oil" in p.type and p.rating is not None and p.rating >= 4,
    ),
    "cheap_picks": (
        "IN SEGMENT 'picks' AND price < 100",
        lambda p: p.id in PICKS and p.price < 100,
    ),
}
DYNAMIC = {**EARLY, **LATE}
EXPECTED: dict[str, Callable[[Product], bool]] = {
    "picks": lambda p: p.id in PICKS,
    **{code: test for code, (_, test) in DYNAMIC.items()},
}


@pytest.fixture(scope="module")
def rows(shared_data: Path) -> list[dict[str, str]]:
    path = shared_data / "bigbasket_products.csv"
    if not path.is_file():
        pytest.skip(f"the BigBasket catalog is not at {path}")
    with path.open(newline="", encoding="utf-8") as handle:
        every = list(csv.DictReader(handle))
    blanks = [r for r in every[SUBSET:] if not r["brand"].strip() or not r["product"].strip()]
    return every[:SUBSET] + blanks


@dataclass
class Catalog:
    shop: Shop
    rows: dict[str, dict[str, str]]
    products: dict[str, Product]


@pytest.fixture
def catalog(shop: Shop, rows: list[dict[str, str]]) -> Catalog:
    """The subset loaded in batches, some segments made before the load, some after."""
    shop.declare_attribute("product", TYPE_KEY, "string", label="Product type")
    for code, (rule, _) in EARLY.items():
        shop.create_segment(SegmentSpec(kind=Kind.PRODUCT, code=code, name=code, rule=rule))
    for start in range(0, len(rows), BATCH):
        batch = rows[start : start + BATCH]
        assert shop.upsert_many("product", [item(r) for r in batch]) == len(batch)
    shop.create_segment(
        SegmentSpec(
            kind=Kind.PRODUCT,
            code="picks",
            name="Staff picks",
            type=SegmentType.FIXED,
            members=sorted(PICKS),
        )
    )
    for code, (rule, _) in LATE.items():
        shop.create_segment(SegmentSpec(kind=Kind.PRODUCT, code=code, name=code, rule=rule))
    return Catalog(shop, {r["index"]: r for r in rows}, {r["index"]: model(r) for r in rows})


def expected_members(products: dict[str, Product]) -> dict[str, set[str]]:
    return {code: {p.id for p in products.values() if test(p)} for code, test in EXPECTED.items()}


def all_members(shop: Shop, code: str) -> list[str]:
    ids: list[str] = []
    cursor = None
    while True:
        page = shop.members(code, limit=1_000, cursor=cursor)
        ids.extend(m.id for m in page.items)
        if page.next_cursor is None:
            return ids
        cursor = page.next_cursor


def feed(shop: Shop, after: str | None) -> tuple[list[Any], str | None]:
    """Every event after a cursor, paginated; and the cursor to resume from."""
    events: list[Any] = []
    while True:
        page = shop.events(after=after, limit=250)
        events.extend(page.items)
        if events:
            after = str(events[-1].id)
        if page.next_cursor is None:
            return events, after
        assert page.next_cursor == after


def assert_members_match(cat: Catalog) -> None:
    for code, expected in expected_members(cat.products).items():
        actual = all_members(cat.shop, code)
        assert len(actual) == len(set(actual)), code
        assert set(actual) == expected, code
        assert cat.shop.segment(code).member_count == len(expected), code
        if code in DYNAMIC:  # the SQL evaluator agrees with the kept members
            assert cat.shop.preview("product", DYNAMIC[code][0]).count == len(expected), code


def test_the_quirks_are_in_the_subset_and_stored_clean(
    shop: Shop, rows: list[dict[str, str]]
) -> None:
    assert sum(r["brand"] != r["brand"].rstrip() for r in rows) > 100
    assert sum(not r["rating"].strip() for r in rows) > 1_000
    assert [r["index"] for r in rows if not r["brand"].strip()] == ["9766"]
    assert [r["index"] for r in rows if not r["product"].strip()] == ["14364"]
    shop.declare_attribute("product", TYPE_KEY, "string")
    quirky = {r["index"]: r for r in rows if r["index"] in ("1", "9766", "14364")}
    shop.upsert_many("product", [item(r) for r in quirky.values()])
    stored = shop.get("product", "1").attributes
    assert stored["brand"] == "Sri Sri Ayurveda"  # the trailing space is trimmed
    assert (stored["discount_percent"], stored[TYPE_KEY]) == (0.0, "Hair Oil & Serum")
    assert "rating_value" in stored
    assert "brand" not in shop.get("product", "9766").attributes  # empty counts as missing
    assert "name" not in shop.get("product", "14364").attributes
    no_rating = [i for i, r in quirky.items() if not r["rating"].strip()]
    assert all("rating_value" not in shop.get("product", i).attributes for i in no_rating)


def test_members_match_an_independent_computation(catalog: Catalog) -> None:
    sizes = {code: len(ids) for code, ids in expected_members(catalog.products).items()}
    assert all(0 < n < len(catalog.products) for n in sizes.values()), sizes
    assert sizes["blanks"] == 2
    assert_members_match(catalog)


def new_price(product: Product, n: int) -> float:
    """Prices that cross the segments' bounds, inclusive ends included."""
    return (product.original_price, round(product.original_price * 0.5, 2), 100.0, 200.0)[n % 4]


def test_price_changes_move_members_and_feed_exact_events(
    catalog: Catalog, clock: ManualClock
) -> None:
    shop = catalog.shop
    _, cursor = feed(shop, None)
    before = expected_members(catalog.products)
    changed = list(catalog.products.values())[7::16]
    prices = {p.id: new_price(p, n) for n, p in enumerate(changed)}
    clock.advance(timedelta(minutes=5))
    patched, batched = changed[::2], changed[1::2]
    for p in patched:
        shop.patch("product", p.id, {"price": prices[p.id]})
    shop.upsert_many("product", [item(catalog.rows[p.id], prices[p.id]) for p in batched])
    for p in changed:
        catalog.products[p.id] = replace(p, price=prices[p.id])
    after = expected_members(catalog.products)
    assert_members_match(catalog)

    events, _ = feed(shop, cursor)
    expected = Counter(
        (code, entity, change, Cause.ENTITY_CHANGED.value)
        for code in after
        for change, ids in (
            ("entered", after[code] - before[code]),
            ("exited", before[code] - after[code]),
        )
        for entity in ids
    )
    assert Counter((e.segment, e.entity_id, e.change.value, e.cause.value) for e in events) == (
        expected
    )
    assert len(expected) > 200
    assert {e.segment for e in events} >= {"big_discount", "mid_price", "deal_not_beauty"}
    assert all(e.at == clock.now for e in events)
    ids = [e.id for e in events]
    assert ids == sorted(set(ids))


def test_segments_of_a_changed_product_follow_its_price(catalog: Catalog) -> None:
    shop = catalog.shop
    product = catalog.products["8"]
    for price in (product.original_price, round(product.original_price * 0.4, 2), 150.0):
        shop.patch("product", product.id, {"price": price})
        now = replace(product, price=price)
        expected = {code for code, test in EXPECTED.items() if test(now)}
        assert {m.code for m in shop.segments_of("product", product.id)} == expected
        for code in ("big_discount", "mid_price"):
            assert (shop.member(code, product.id) is not None) == EXPECTED[code](now)
