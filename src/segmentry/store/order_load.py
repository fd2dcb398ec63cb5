"""A tenant's orders and lines read whole, as columns: what loading its order state
in memory (``engine/purchasing.py``) reads.

The database writes each part as text Polars parses in native code, a chunk of
order seqs at a time, so no order or line becomes a Python object: the orders'
records as newline-delimited JSON (as ``store.entities.records`` does for
entities), their numbers (seq, customer's seq, time, total, whether placed) and
their lines' numbers (order seq, line, product's seq, quantity, price) as CSV,
with the product's id only on the lines naming a product that does not exist yet.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

import numpy as np
import polars as pl
from sqlalchemy.engine import Connection

from segmentry.store import driver
from segmentry.store.entities import SEQ_KEY
from segmentry.store.orders import PLACED

CHUNK = 50_000

ORDER_FIELDS: dict[str, pl.DataType] = {
    name: pl.Int64() for name in ("seq", "customer", "placed_at", "total", "counted")
}
LINE_FIELDS: dict[str, pl.DataType] = {
    name: pl.Int64() for name in ("order", "line", "product", "quantity", "price")
} | {"product_id": pl.String()}

_CUSTOMER = (
    "LEFT JOIN entities c ON c.tenant_id = o.tenant_id AND c.kind = 'customer' "
    "AND c.id = o.customer_id"
)
_PRODUCT = (
    "LEFT JOIN entities p ON p.tenant_id = l.tenant_id AND p.kind = 'product' "
    "AND p.id = l.product_id"
)


def last_seq(conn: Connection, *, tenant_id: int) -> int:
    mark = driver.mark(conn)
    query = f"SELECT COALESCE(MAX(seq), 0) FROM orders WHERE tenant_id = {mark}"
    return int(conn.exec_driver_sql(query, (tenant_id,)).scalar_one())


def records(conn: Connection, *, tenant_id: int, up_to: int) -> Iterator[bytes]:
    """The orders' records as newline-delimited JSON, each with its seq under
    :data:`~segmentry.store.entities.SEQ_KEY`, a chunk of seqs at a time."""
    text = "CAST(o.record AS TEXT)"
    line = (
        f"'{{\"{SEQ_KEY}\":' || CAST(o.seq AS TEXT) || "
        f"CASE WHEN {text} = '{{}}' THEN '}}' ELSE ',' || substr({text}, 2) END"
    )
    yield from _chunks(conn, line, source="orders o", seq="o.seq", tenant_id=tenant_id, up_to=up_to)


def numbers(conn: Connection, *, tenant_id: int, up_to: int) -> pl.DataFrame:
    """Every order's seq, customer's seq (null: a guest, or no such customer), time,
    total and whether it is placed (1) or not (0), by seq."""
    line = _csv(
        "o.seq", "c.seq", "o.placed_at", "o.total_micros",
        f"CASE WHEN o.status = '{PLACED}' THEN 1 ELSE 0 END",
    )  # fmt: skip
    source = f"orders o {_CUSTOMER}"
    parts = _chunks(conn, line, source=source, seq="o.seq", tenant_id=tenant_id, up_to=up_to)
    return _frame(parts, ORDER_FIELDS).sort("seq")


def lines(conn: Connection, *, tenant_id: int, up_to: int) -> pl.DataFrame:
    """Every line's order seq, number, product's seq (null: no such product yet),
    quantity, unit price and, only where the product does not exist, its id; by order
    and line."""
    waiting = "CASE WHEN p.seq IS NULL THEN '\"' || replace(l.product_id, '\"', '\"\"') || '\"' END"
    line = _csv("l.order_seq", "l.line", "p.seq", "l.quantity", "l.unit_price_micros", waiting)
    source = f"order_lines l {_PRODUCT}"
    parts = _chunks(conn, line, source=source, seq="l.order_seq", tenant_id=tenant_id, up_to=up_to)
    return _frame(parts, LINE_FIELDS).sort("order", "line")


def _csv(*fields: str) -> str:
    return " || ',' || ".join(f"COALESCE(CAST({f} AS TEXT), '')" for f in fields)


def _chunks(
    conn: Connection, line: str, *, source: str, seq: str, tenant_id: int, up_to: int
) -> Iterator[bytes]:
    """The lines of the rows of ``source`` whose ``seq`` lies in each chunk, joined
    by the database (a line each) and handed over as bytes."""
    mark = driver.mark(conn)
    if conn.dialect.name == "sqlite":
        joined = f"CAST(group_concat({line}, {mark}) AS BLOB)"
    else:
        joined = f"convert_to(string_agg({line}, {mark}), 'UTF8')"
    table = source.split()[1]
    query = (
        f"SELECT {joined} FROM {source} WHERE {table}.tenant_id = {mark} "
        f"AND {seq} > {mark} AND {seq} <= {mark}"
    )
    for start in range(0, up_to, CHUNK):
        found = conn.exec_driver_sql(query, ("\n", tenant_id, start, start + CHUNK)).scalar()
        if found:
            yield bytes(found)


def _frame(parts: Iterator[bytes], fields: dict[str, pl.DataType]) -> pl.DataFrame:
    frames = [pl.read_csv(io.BytesIO(part), has_header=False, schema=fields) for part in parts]
    return pl.concat(frames) if frames else pl.DataFrame(schema=fields)


def column(frame: pl.DataFrame, name: str, missing: int = -1) -> np.ndarray:
    """A column as an int64 array, nulls as ``missing``."""
    return frame[name].fill_null(missing).cast(pl.Int64).to_numpy()
