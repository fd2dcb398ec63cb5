"""The real UCI Online Retail invoices load with ``segmentry import orders`` and a column
map alone, and the customers' derived values and a segment on them agree with this
test's own computation from the file (a subset of it, to keep the test quick)."""

from __future__ import annotations

import csv
import gzip
import io
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from segmentry.engine.model import Entity, SegmentSpec
from segmentry.engine.shop import Shop
from tests.cli.conftest import Cli

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "online_retail.csv.gz"
SUBSET = 20_000
MAP = {
    "InvoiceNo": "id",
    "CustomerID": "customer_id",
    "InvoiceDate": "placed_at",
    "StockCode": "product_id",
    "Quantity": "quantity",
    "UnitPrice": "unit_price",
    "Description": "",
    "Country": "",
}

pytestmark = pytest.mark.skipif(not DATA.exists(), reason=f"{DATA} is absent")


@pytest.fixture(scope="module")
def subset_rows() -> list[dict[str, str]]:
    with gzip.open(DATA, "rt", encoding="utf-8", newline="") as source:
        reader = csv.DictReader(source)
        return [row for _, row in zip(range(SUBSET), reader, strict=False)]


def expected(rows: list[dict[str, str]]) -> tuple[dict[str, tuple[int, Decimal]], int]:
    """Each customer's (orders, lifetime value) and the number of refused rows, computed
    here as docs/orders.md describes the import: a row whose quantity is below 1 (a
    return or a cancellation) or whose price is negative is refused; an order is the
    adjacent rows of one invoice, its total the sum of its lines rounded to the cent."""
    groups: list[list[dict[str, str]]] = []
    for row in rows:
        if groups and groups[-1][0]["InvoiceNo"] == row["InvoiceNo"]:
            groups[-1].append(row)
        else:
            groups.append([row])
    seen: set[str] = set()
    refused = 0
    customers: dict[str, tuple[int, Decimal]] = defaultdict(lambda: (0, Decimal(0)))
    for group in groups:
        invoice = group[0]["InvoiceNo"]
        if invoice in seen:  # rows of an invoice that come back later are refused
            refused += len(group)
            continue
        seen.add(invoice)
        kept = [r for r in group if int(r["Quantity"]) >= 1 and Decimal(r["UnitPrice"]) >= 0]
        refused += len(group) - len(kept)
        customer = group[0]["CustomerID"]
        if not kept or not customer:
            continue
        total = sum((int(r["Quantity"]) * Decimal(r["UnitPrice"]) for r in kept), Decimal(0))
        count, value = customers[customer]
        customers[customer] = (
            count + 1,
            value + total.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP),
        )
    return dict(customers), refused


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
