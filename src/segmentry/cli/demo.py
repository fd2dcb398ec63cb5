"""``segmentry demo``: the rule language at work on a handful of products.

This is the interim demo of the rule language; the full demo shop (a
generated catalog and customer base, served on localhost) replaces it.
"""

from __future__ import annotations

from datetime import UTC, datetime

from rich.console import Console
from rich.table import Table

from segmentry.rules.eval_python import compile_predicate
from segmentry.rules.load import prepare
from segmentry.rules.schema import Kind, Schema
from segmentry.rules.temporal import EvalContext
from segmentry.rules.values import encode, validate

PRODUCTS = {
    "1": {"name": "Air Max 90", "brand": "Nike", "price": 120, "tags": ["sale"],
          "created_at": "2024-03-01T10:00:00Z"},
    "2": {"name": "Air Force 1", "brand": "NIKE", "price": 95, "tags": ["classic"],
          "created_at": "2023-06-01T10:00:00Z"},
    "3": {"name": "Ultraboost", "brand": "Adidas", "price": 180,
          "created_at": "2024-02-20T10:00:00Z"},
    "4": {"name": "Socks", "price": 9.99, "tags": ["sale"], "created_at": "2024-03-10T10:00:00Z"},
}  # fmt: skip
RULES = [
    "brand = 'nike' AND price > 100",
    "price > 100",
    "brand != 'Nike'",
    "tags CONTAINS 'SALE' OR name STARTS WITH 'ultra'",
    "created_at > -30d",
]


def demo() -> None:
    """Show rules in their canonical form and the products each selects."""
    schema = Schema(Kind.PRODUCT)
    ctx = EvalContext(datetime(2024, 3, 15, 12, tzinfo=UTC))
    records = {i: encode(schema, validate(schema, i, v)) for i, v in PRODUCTS.items()}
    table = Table(title=f"Product segments at {ctx.now:%Y-%m-%d %H:%M} UTC")
    table.add_column("rule (canonical text)")
    table.add_column("members")
    for text in RULES:
        checked = prepare(text, schema)
        predicate = compile_predicate(checked.tree, schema, ctx)
        names = [PRODUCTS[i]["name"] for i, r in records.items() if predicate(r, i)]
        table.add_row(checked.text, ", ".join(str(n) for n in names) or "-")
    Console().print(table)
