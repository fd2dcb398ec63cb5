"""Many rows at once through the database driver's own ``executemany``.

A write transaction of a bulk import stores thousands of rows (entities,
member chunks, event blocks, counts, history points). Passed through
SQLAlchemy's typed parameters, each row costs several microseconds of Python
before the driver sees it, more than storing it; the statements here are
plain text with the driver's placeholders, the rows plain tuples. Table and
column names come from this package, never from input.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from typing import Any

from sqlalchemy.engine import Connection

Row = Sequence[Any]


def mark(conn: Connection, *, json: bool = False) -> str:
    """The driver's placeholder for one value (JSONB wants a cast from text)."""
    if conn.dialect.name != "postgresql":
        return "?"
    return "CAST(%s AS JSONB)" if json else "%s"


def insert(
    conn: Connection,
    table: str,
    columns: Sequence[str],
    rows: Sequence[Row],
    *,
    json: Collection[str] = (),
) -> None:
    """``INSERT`` a row per tuple of values in the order of ``columns``."""
    if rows:
        conn.exec_driver_sql(_insert_sql(conn, table, columns, json), rows)


def upsert(
    conn: Connection,
    table: str,
    columns: Sequence[str],
    keys: Sequence[str],
    rows: Sequence[Row],
) -> None:
    """``INSERT`` a row per tuple, or, where a row with the same ``keys`` exists, set
    its other columns (``ON CONFLICT``, which SQLite and PostgreSQL both spell so)."""
    if not rows:
        return
    sets = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in keys)
    conflict = f" ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {sets}"
    conn.exec_driver_sql(_insert_sql(conn, table, columns) + conflict, rows)


def _insert_sql(
    conn: Connection, table: str, columns: Sequence[str], json: Collection[str] = ()
) -> str:
    marks = ", ".join(mark(conn, json=c in json) for c in columns)
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"


def update(
    conn: Connection,
    table: str,
    columns: Sequence[str],
    keys: Sequence[str],
    rows: Sequence[Row],
    *,
    json: Collection[str] = (),
) -> None:
    """``UPDATE`` by key: each tuple holds the new ``columns``, then the ``keys``."""
    if not rows:
        return
    sets = ", ".join(f"{c} = {mark(conn, json=c in json)}" for c in columns)
    conn.exec_driver_sql(f"UPDATE {table} SET {sets} WHERE {_where(conn, keys)}", rows)


def delete(conn: Connection, table: str, keys: Sequence[str], rows: Sequence[Row]) -> None:
    """``DELETE`` by key: each tuple holds the ``keys``."""
    if rows:
        conn.exec_driver_sql(f"DELETE FROM {table} WHERE {_where(conn, keys)}", rows)


def _where(conn: Connection, keys: Sequence[str]) -> str:
    return " AND ".join(f"{k} = {mark(conn)}" for k in keys)


def select_in(
    conn: Connection, sql: str, params: Sequence[Any], ids: Sequence[Any], *, batch: int = 500
) -> Iterator[Row]:
    """The rows of ``sql``, which ends in ``IN``, for ``ids`` a batch at a time: each
    statement is ``sql`` and the batch's placeholders, its values ``params`` then the batch."""
    one = mark(conn)
    for start in range(0, len(ids), batch):
        part = ids[start : start + batch]
        marks = ", ".join([one] * len(part))
        yield from conn.exec_driver_sql(f"{sql} ({marks})", (*params, *part))
