"""Derived keys of entity rows set in SQL, the rest of each row left as stored.

An order changes only a few derived values of its customer and products (order
count, lifetime value, units sold...); reading each whole document and record
back to write them again whole costs more than the change. Here the database
patches the JSON itself: SQLite with ``json_patch``, PostgreSQL with ``-`` and
``||`` on ``jsonb``. Key order is kept where a key was (SQLite); new keys come last.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import orjson
from sqlalchemy.engine import Connection

from segmentry.model.schema import Kind


class Patch(NamedTuple):
    """Keys of a living row's document and record set, and keys removed from both."""

    seq: int
    doc: dict[str, Any]
    record: dict[str, Any]
    removed: tuple[str, ...]


_POSTGRESQL = (
    "UPDATE entities SET doc = (doc - CAST(%s AS TEXT[])) || CAST(%s AS JSONB), "
    "record = (record - CAST(%s AS TEXT[])) || CAST(%s AS JSONB), "
    "updated_at = %s, revision = %s WHERE tenant_id = %s AND kind = %s AND seq = %s"
)
_SQLITE = (
    "UPDATE entities SET doc = json_patch(doc, ?), record = json_patch(record, ?), "
    "updated_at = ?, revision = ? WHERE tenant_id = ? AND kind = ? AND seq = ?"
)


def patch_rows(
    conn: Connection,
    *,
    tenant_id: int,
    kind: Kind,
    patches: Sequence[Patch],
    updated_at: int,
    revision: int,
) -> None:
    """Set and remove keys of living rows' documents and records, one statement for all
    (``executemany``), without reading the rows."""
    if not patches:
        return
    key = (tenant_id, kind.value)
    params: list[tuple[Any, ...]]
    if conn.dialect.name == "postgresql":
        params = [
            (list(p.removed), _text(p.doc), list(p.removed), _text(p.record),
             updated_at, revision, *key, p.seq)
            for p in patches
        ]  # fmt: skip
        conn.exec_driver_sql(_POSTGRESQL, params)
        return
    params = [
        (_text(_merge(p.doc, p.removed)), _text(_merge(p.record, p.removed)),
         updated_at, revision, *key, p.seq)
        for p in patches
    ]  # fmt: skip
    conn.exec_driver_sql(_SQLITE, params)


def _text(value: dict[str, Any]) -> str:
    return orjson.dumps(value).decode()


def _merge(values: dict[str, Any], removed: tuple[str, ...]) -> dict[str, Any]:
    """A JSON merge patch (RFC 7396): ``null`` removes a key."""
    return {**values, **dict.fromkeys(removed)} if removed else values
