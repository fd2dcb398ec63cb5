"""The UCI Online Retail invoices (``../shared/data``) and this tests' own reading of
them: what the order import should make of a slice of the file."""

from __future__ import annotations

import csv
import gzip
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "online_retail.csv.gz"
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


@dataclass(frozen=True)
class KeptOrder:
    """An invoice as the import keeps it: its customer ("" for a guest), when it was
    placed, and its kept lines as (StockCode, quantity, unit price)."""

    invoice: str
    customer: str
    placed_at: datetime
    lines: list[tuple[str, int, Decimal]]

    @property
    def total(self) -> Decimal:
        total = sum((quantity * price for _, quantity, price in self.lines), Decimal(0))
        return total.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def first_rows(count: int) -> list[dict[str, str]]:
    """The first ``count`` invoice lines of the Online Retail file, as CSV rows."""
    with gzip.open(DATA, "rt", encoding="utf-8", newline="") as source:
        reader = csv.DictReader(source)
        return [row for _, row in zip(range(count), reader, strict=False)]


def kept_orders(rows: list[dict[str, str]]) -> tuple[list[KeptOrder], int]:
    """The orders the import writes and the number of refused rows, computed here as
    docs/orders.md describes the import: a row whose quantity is below 1 (a return
    or a cancellation) or whose price is negative is refused; an order is the
    adjacent rows of one invoice (rows of an invoice that come back after other
    invoices are refused), and an invoice with no row left is not written."""
    groups: list[list[dict[str, str]]] = []
    for row in rows:
        if groups and groups[-1][0]["InvoiceNo"] == row["InvoiceNo"]:
            groups[-1].append(row)
        else:
            groups.append([row])
    seen: set[str] = set()
    refused = 0
    kept_orders: list[KeptOrder] = []
    for group in groups:
        invoice = group[0]["InvoiceNo"]
        if invoice in seen:
            refused += len(group)
            continue
        seen.add(invoice)
        kept = [r for r in group if int(r["Quantity"]) >= 1 and Decimal(r["UnitPrice"]) >= 0]
        refused += len(group) - len(kept)
        if kept:
            placed = datetime.fromisoformat(group[0]["InvoiceDate"]).replace(tzinfo=UTC)
            lines = [(r["StockCode"], int(r["Quantity"]), Decimal(r["UnitPrice"])) for r in kept]
            kept_orders.append(KeptOrder(invoice, group[0]["CustomerID"], placed, lines))
    return kept_orders, refused


def expected(rows: list[dict[str, str]]) -> tuple[dict[str, tuple[int, Decimal]], int]:
    """Each customer's (orders, lifetime value) and the number of refused rows (see
    ``kept_orders``); an order's total is the sum of its lines rounded to the cent."""
    orders, refused = kept_orders(rows)
    customers: dict[str, tuple[int, Decimal]] = defaultdict(lambda: (0, Decimal(0)))
    for order in orders:
        if order.customer:
            count, value = customers[order.customer]
            customers[order.customer] = (count + 1, value + order.total)
    return dict(customers), refused
