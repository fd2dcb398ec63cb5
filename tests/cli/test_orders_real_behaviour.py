"""Behaviour segments over the real UCI Online Retail invoices, loaded with ``segmentry
import orders``: their members agree with this test's own computation from the file
(the first 60,000 lines, 2010-12-01 to 2011-01-17), both as kept in real time while
the import ran and as evaluated afresh after it. Windows are absolute, placed on
the data's own dates; the import's treatment of returns and cancellations is the
one docs/orders.md states (see ``tests.orders_data.kept_orders``)."""

from __future__ import annotations

import csv
import gzip
import io
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from segmentry.engine.shop import Shop
from segmentry.engine.types import SegmentSpec
from tests.cli.conftest import Cli
from tests.orders_data import DATA, MAP, KeptOrder, first_rows, kept_orders

SUBSET = 60_000


pytestmark = pytest.mark.skipif(not DATA.exists(), reason=f"{DATA} is absent")

Expect = Callable[[list[KeptOrder], set[str]], set[str]]


def _day(text: str, *, end: bool = False) -> datetime:
    """A date as a window end: its first microsecond, or (``end``) its last."""
    day = datetime.fromisoformat(text).replace(tzinfo=UTC)
    return day.replace(hour=23, minute=59, second=59, microsecond=999_999) if end else day


def _in(order: KeptOrder, since: str | None = None, until: str | None = None) -> bool:
    return (since is None or order.placed_at >= _day(since)) and (
        until is None or order.placed_at <= _day(until, end=True)
    )


def _spent(orders: list[KeptOrder], over: Decimal, **window: str) -> set[str]:
    spent: dict[str, Decimal] = defaultdict(Decimal)
    for order in orders:
        if order.customer and _in(order, **window):
            spent[order.customer] += order.total
    return {c for c, value in spent.items() if value > over}


def _placed(orders: list[KeptOrder], least: int, **window: str) -> set[str]:
    count: dict[str, int] = defaultdict(int)
    for order in orders:
        if order.customer and _in(order, **window):
            count[order.customer] += 1
    return {c for c, n in count.items() if n >= least}


def _units(orders: list[KeptOrder], products: set[str], over: int, **window: str) -> set[str]:
    units: dict[str, int] = defaultdict(int)
    for order in orders:
        if _in(order, **window):  # guests' orders count: no buyer condition
            for code, quantity, _ in order.lines:
                units[code] += quantity
    return {p for p, n in units.items() if n > over and p in products}


def _bought(orders: list[KeptOrder], wanted: set[str], **window: str) -> set[str]:
    return {o.customer for o in orders if o.customer and _in(o, **window)
            and any(code in wanted for code, _, _ in o.lines)}  # fmt: skip


# (code, kind, rule); the product segments first, as a customer rule names one
SEGMENTS = [
    ("bigSellers", "product", "units_sold() > 1000"),
    ("newYearSellers", "product", "units_sold(since: 2011-01-01) > 300"),
    ("bigSpenders", "customer", "amount_spent() > 5000"),
    ("decemberSpenders", "customer", "amount_spent(since: 2010-12-01, until: 2010-12-31) > 3000"),
    ("midDecemberRegulars", "customer",
     "orders_placed(since: 2010-12-08, until: 2010-12-22) >= 3"),
    ("newYearBuyersOfBigSellers", "customer",
     "purchased(IN SEGMENT 'bigSellers', since: 2011-01-01)"),
]  # fmt: skip


def _expected(orders: list[KeptOrder], products: set[str]) -> dict[str, set[str]]:
    big_sellers = _units(orders, products, 1000)
    return {
        "bigSellers": big_sellers,
        "newYearSellers": _units(orders, products, 300, since="2011-01-01"),
        "bigSpenders": _spent(orders, Decimal(5000)),
        "decemberSpenders": _spent(orders, Decimal(3000), since="2010-12-01", until="2010-12-31"),
        "midDecemberRegulars": _placed(orders, 3, since="2010-12-08", until="2010-12-22"),
        "newYearBuyersOfBigSellers": _bought(orders, big_sellers, since="2011-01-01"),
    }


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    return first_rows(SUBSET)


def test_behaviour_segments_over_the_invoices_agree_with_an_independent_computation(
    cli: Cli, shop: Shop, tmp_path: Path, rows: list[dict[str, str]]
) -> None:
    orders, refused = kept_orders(rows)
    names = {r["StockCode"]: r["Description"] or r["StockCode"] for r in rows}
    products = sorted({code for order in orders for code, _, _ in order.lines})
    for start in range(0, len(products), 5_000):
        shop.upsert_many("product", [{"id": p, "name": names[p]}
                                     for p in products[start : start + 5_000]])  # fmt: skip
    for code, kind, rule in SEGMENTS:  # kept in real time while the import runs
        shop.create_segment(SegmentSpec(kind=kind, code=code, name=code, rule=rule))

    file = tmp_path / "online_retail_subset.csv.gz"
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    file.write_bytes(gzip.compress(text.getvalue().encode()))
    args = [a for source, target in MAP.items() for a in ("--map", f"{source}={target}")]
    result = cli("import", "orders", str(file), *args, "--max-errors", "20000", "--json")
    assert result.exit_code == 1, result.output  # returns and cancellations are refused
    assert f'"rejected": {refused}' in result.output

    expected = _expected(orders, set(products))
    assert all(len(members) >= 5 for members in expected.values()), {
        code: len(members) for code, members in expected.items()
    }
    kept = {code: _members(shop, code) for code, _, _ in SEGMENTS}
    assert kept == expected
    for code, kind, rule in SEGMENTS:  # the same rules evaluated afresh over the shop
        shop.create_segment(SegmentSpec(kind=kind, code=f"{code}After", name=code, rule=rule))
        assert _members(shop, f"{code}After") == expected[code], code


def _members(shop: Shop, code: str) -> set[str]:
    members: set[str] = set()
    cursor = None
    while True:
        page = shop.members(code, limit=1_000, cursor=cursor)
        members.update(m.id for m in page.items)
        cursor = page.next_cursor
        if cursor is None:
            return members
