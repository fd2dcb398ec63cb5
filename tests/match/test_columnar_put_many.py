"""Rows put many at a time hold what they hold when put one by one: new rows (an
import's, whose lists and strings are set a column at a time) and rewritten ones."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from pyroaring import BitMap

from segmentry.match.columnar import ColumnarTable
from segmentry.match.columns import ListColumn, TextColumn
from segmentry.model.schema import Kind, Schema

SCHEMA = Schema(Kind.CUSTOMER)


def _view(table: ColumnarTable) -> dict[str, Any]:
    out: dict[str, Any] = {"alive": table.alive[: table.size + 1].tolist()}
    for key, column in table.columns.items():
        if isinstance(column, TextColumn):
            codes = column.codes[: table.size + 1]
            out[key] = [column.values[c] if c else None for c in codes]
        elif isinstance(column, ListColumn):
            items = {item: list(rows) for item, rows in column.items.items() if rows}
            out[key] = (items, list(column.present), column.counts[: table.size + 1].tolist())
        else:  # NaN (a missing number) as None, which compares equal to itself
            values = column.values[: table.size + 1].tolist()
            out[key] = [None if isinstance(v, float) and math.isnan(v) else v for v in values]
    return out


RECORDS: list[dict[str, Any]] = [
    {"tags": ("gold", "vip"), "city": "madrid", "orders_count": 3},
    {"tags": ("vip",), "city": "paris"},
    {"tags": (), "city": "madrid"},
    {"city": "lyon", "email": "a@example.com"},
    {"tags": ["vip", "new"], "email": "b@example.com"},  # a list, as a caller may send
    {"tags": ("gold", "vip"), "accepts_marketing": True},
    {},
]


def test_new_rows_put_at_once_equal_rows_put_one_by_one() -> None:
    seqs = [3, 1, 7, 4, 9, 2, 8]
    one, many = ColumnarTable(SCHEMA), ColumnarTable(SCHEMA)
    for seq, record in zip(seqs, RECORDS, strict=True):
        one.put(seq, record)
    many.put_many(seqs, RECORDS, [None] * len(seqs))
    assert _view(many) == _view(one)
    assert many.columns["tags"].items["vip"] == BitMap([3, 1, 9, 2])  # type: ignore[union-attr]


def test_rewritten_rows_leave_their_old_items() -> None:
    seqs = [1, 2, 3]
    one, many = ColumnarTable(SCHEMA), ColumnarTable(SCHEMA)
    for table in (one, many):
        table.put_many(seqs, RECORDS[:3], [None] * 3)
    new = [{"tags": ("new",)}, {"city": "rome"}, {"tags": ("gold",)}]
    for seq, record, old in zip(seqs, new, RECORDS[:3], strict=True):
        one.put(seq, record, old)
    many.put_many(seqs, new, list(RECORDS[:3]))
    assert _view(many) == _view(one)
    assert "vip" not in _view(many)["tags"][0]
    assert np.array_equal(many.columns["tags"].counts[1:4], [1, 0, 1])  # type: ignore[union-attr]


def test_records_read_a_column_at_a_time_are_those_read_one_by_one() -> None:
    table = ColumnarTable(Schema(Kind.CUSTOMER).with_orders())
    rows = [
        {"orders_count": 3, "lifetime_value": 12.5, "last_order_at": 1_700_000_000_000_000},
        {"orders_count": 0, "lifetime_value": 0, "city": "lyon", "tags": ("vip",)},
        {"accepts_marketing": False, "first_order_at": -5},
        {},
    ]
    for seq, record in enumerate(rows, start=1):
        table.put(seq, record)
    keys = [a.key for a in table.schema] + ["unknown"]
    seqs = [4, 1, 3, 2, 1]
    one_by_one = [table.record(seq, keys) for seq in seqs]
    assert repr(table.records(seqs, keys)) == repr(one_by_one)  # the same types too
    assert table.records([], keys) == []
