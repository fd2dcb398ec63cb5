"""The real UCI Online Retail invoices load with ``segmentry import orders`` and a column
map alone, and the customers' derived values and a segment on them agree with this
test's own computation from the file (a subset of it, to keep the test quick)."""

from __future__ import annotations

import csv
import gzip
import io
from decimal import Decimal
from pathlib import Path

import pytest

from segmentry.engine.shop import Shop
from segmentry.engine.types import Entity, SegmentSpec
from tests.cli.conftest import Cli
from tests.orders_data import DATA, MAP, expected, first_rows

SUBSET = 20_000

pytestmark = pytest.mark.skipif(not DATA.exists(), reason=f"{DATA} is absent")


@pytest.fixture(scope="module")
def subset_rows() -> list[dict[str, str]]:
    return first_rows(SUBSET)


def test_the_invoices_load_and_agree_with_an_independent_computation(
    cli: Cli, shop: Shop, tmp_path: Path, subset_rows: list[dict[str, str]]
) -> None:
    shop.create_segment(
        SegmentSpec(kind="customer", code="bigSpenders", name="Big", rule="lifetime_value > 1000")
    )
    file = tmp_path / "online_retail_subset.csv.gz"
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(subset_rows[0]))
    writer.writeheader()
    writer.writerows(subset_rows)
    file.write_bytes(gzip.compress(text.getvalue().encode()))
    args = [a for source, target in MAP.items() for a in ("--map", f"{source}={target}")]
    result = cli("import", "orders", str(file), *args, "--json")
    assert result.exit_code == 1, result.output  # returns and cancellations are refused
    customers, refused = expected(subset_rows)
    assert f'"rejected": {refused}' in result.output
    assert f'"lines": {len(subset_rows)}' in result.output
    assert refused > 0
    assert "a return or cancellation" in result.output

    stored = {e.id: e.attributes for e in _all_customers(shop)}
    assert set(stored) == set(customers)
    for customer_id, (count, value) in customers.items():
        attributes = stored[customer_id]
        assert attributes["orders_count"] == count, customer_id
        assert Decimal(repr(attributes["lifetime_value"])) == value, customer_id

    big = {c for c, (_, value) in customers.items() if value > 1000}
    assert len(big) > 10
    kept = _members(shop, "bigSpenders")  # kept in real time while the import ran
    assert kept == big
    shop.create_segment(
        SegmentSpec(kind="customer", code="bigAfter", name="Big", rule="lifetime_value > 1000")
    )
    assert _members(shop, "bigAfter") == big  # evaluated afresh over every customer


def _all_customers(shop: Shop) -> list[Entity]:
    found: list[Entity] = []
    cursor = None
    while True:
        page = shop.entities("customer", limit=1_000, cursor=cursor)
        found.extend(page.items)
        cursor = page.next_cursor
        if cursor is None:
            return found


def _members(shop: Shop, code: str) -> set[str]:
    members: set[str] = set()
    cursor = None
    while True:
        page = shop.members(code, limit=1_000, cursor=cursor)
        members.update(m.id for m in page.items)
        cursor = page.next_cursor
        if cursor is None:
            return members
