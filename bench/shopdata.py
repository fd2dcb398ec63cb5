"""The synthetic shop every benchmark runs on, built once per run with fixed seeds.

Customers come from :mod:`segmentry.synthetic.generate` (skewed countries and
cities, log-normal lifetime values, geometric order counts, tags, dates and
missing values); segment rules from :mod:`segmentry.synthetic.segments`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from segmentry.engine.derivation import derive
from segmentry.match.columnar import ColumnarTable
from segmentry.match.columns import ListColumn, TextColumn
from segmentry.model.schema import Kind, Schema, declare
from segmentry.model.temporal import EvalContext
from segmentry.model.values import encode, validate
from segmentry.rules.ast import Condition, InSegment, Node
from segmentry.rules.load import prepare
from segmentry.synthetic import generate, segments, vocabulary

SCHEMA = Schema(
    Kind.CUSTOMER,
    (declare(Kind.CUSTOMER, "loyalty_status", "enum", values=vocabulary.LOYALTY),),
)
CTX = EvalContext(generate.NOW)


@dataclass
class Shop:
    columns: generate.Columns
    table: ColumnarTable

    @property
    def size(self) -> int:
        return self.columns.size

    def record(self, row: int) -> dict[str, Any]:
        """The evaluation record table row ``row`` holds now (rows are 1-based)."""
        return self.table.record(row)

    def written_record(self, row: int) -> dict[str, Any]:
        """The record a write of the generated customer makes (validated, derived, encoded)."""
        (doc,) = self.columns.documents(row - 1, row)
        checked = validate(SCHEMA, doc["id"], doc)
        derive(Kind.CUSTOMER, checked)
        return dict(encode(SCHEMA, checked))


def customers(n: int) -> Shop:
    columns = generate.customers(n)
    table = ColumnarTable(SCHEMA, capacity=n + 1)
    columns.load_table(table)
    return Shop(columns, table)


def rules(count: int, seed: int = 3) -> list[Node]:
    """``count`` checked customer rules, as marketers write them."""
    return [prepare(text, SCHEMA).tree for text in segments.rules(Kind.CUSTOMER, count, seed)]


def keys_of(node: Node) -> set[str]:
    """The attributes a rule reads."""
    if isinstance(node, Condition):
        return {node.attr}
    if isinstance(node, InSegment):
        return set()
    children = getattr(node, "items", None) or (node.item,)  # type: ignore[attr-defined]
    return set().union(*(keys_of(child) for child in children))


def scan_bytes(table: ColumnarTable, node: Node) -> int:
    """Bytes a scan of ``node`` must read: its columns and the live flags."""
    total = table.size  # one byte per row of ``alive``
    for key in keys_of(node):
        column = table.columns[key]
        if isinstance(column, TextColumn):
            total += column.codes[: table.size].nbytes
        elif not isinstance(column, ListColumn):
            total += column.values[: table.size].nbytes
    return total


# -- the SQLite peer ------------------------------------------------------------------------

SQL_COLUMNS = {  # the scalar customer attributes, as a row store holds them
    "platform": "TEXT",
    "country": "TEXT",
    "city": "TEXT",
    "language": "TEXT",
    "first_name": "TEXT",
    "last_name": "TEXT",
    "loyalty_status": "TEXT",
    "lifetime_value": "REAL",
    "orders_count": "INTEGER",
    "average_order_value": "REAL",
    "created_at": "INTEGER",
    "first_order_at": "INTEGER",
    "last_order_at": "INTEGER",
    "birthday": "INTEGER",
    "app_installed": "INTEGER",
    "accepts_marketing": "INTEGER",
}


def sqlite_customers(data: Shop) -> sqlite3.Connection:
    """An in-memory SQLite table of the same customers (no index), one row each."""
    conn = sqlite3.connect(":memory:")
    columns = ", ".join(f"{name} {kind}" for name, kind in SQL_COLUMNS.items())
    conn.execute(f"CREATE TABLE customers (id INTEGER PRIMARY KEY, {columns})")
    marks = ", ".join("?" * (len(SQL_COLUMNS) + 1))
    for block in _sql_rows(data.table, 200_000):
        conn.executemany(f"INSERT INTO customers VALUES ({marks})", block)
    conn.commit()
    return conn


def _sql_rows(table: ColumnarTable, block: int) -> Iterator[list[tuple[Any, ...]]]:
    for start in range(1, table.size, block):
        rows = np.arange(start, min(start + block, table.size))
        values = [rows.tolist()] + [_sql_values(table, key, rows) for key in SQL_COLUMNS]
        yield list(zip(*values, strict=True))


def _sql_values(table: ColumnarTable, key: str, rows: np.ndarray) -> list[Any]:
    column = table.columns[key]
    if isinstance(column, TextColumn):
        names: list[Any] = [None, *column.values[1:]]
        return [names[c] for c in column.codes[rows].tolist()]
    assert not isinstance(column, ListColumn)
    values = column.values[rows]
    if values.dtype.kind == "f":
        return [None if np.isnan(v) else v for v in values.tolist()]
    if values.dtype == np.int8:
        return [None if v < 0 else v for v in values.tolist()]
    low = np.iinfo(np.int64).min
    return [None if v == low else v for v in values.tolist()]
