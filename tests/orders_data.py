"""The UCI Online Retail invoices (``../shared/data``) and this tests' own reading of
them: what the order import should make of a slice of the file."""

from __future__ import annotations

from collections import defaultdict
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
