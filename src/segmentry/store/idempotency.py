"""Idempotency keys: per tenant, the fingerprint of a keyed request and its answer.

A key is written in the transaction of the write it guards, so the key exists
exactly when the write committed. Keys are kept for a retention period; an
expired key is as good as absent, and is purged by the next keyed write of
its tenant.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from segmentry.store.tables import idempotency_keys as table


@dataclass(frozen=True, slots=True)
class KeptAnswer:
    key: str
    fingerprint: str
    answer: dict[str, Any]
    created_at: int


def get(conn: Connection, *, tenant_id: int, key: str, since: int) -> KeptAnswer | None:
    """The answer kept under ``key`` if it was kept at or after ``since``."""
    query = sa.select(table.c.key, table.c.fingerprint, table.c.answer, table.c.created_at).where(
        table.c.tenant_id == tenant_id, table.c.key == key, table.c.created_at >= since
    )
    found = conn.execute(query).first()
    return KeptAnswer(*found) if found else None


def put(
    conn: Connection,
    *,
    tenant_id: int,
    key: str,
    fingerprint: str,
    answer: dict[str, Any],
    now: int,
) -> None:
    """Keep an answer; an expired row under the same key must be purged first."""
    conn.execute(
        table.insert().values(
            tenant_id=tenant_id, key=key, fingerprint=fingerprint, answer=answer, created_at=now
        )
    )


def purge(conn: Connection, *, tenant_id: int, before: int) -> int:
    """Forget the tenant's keys kept before ``before``; returns how many."""
    result = conn.execute(
        table.delete().where(table.c.tenant_id == tenant_id, table.c.created_at < before)
    )
    return int(result.rowcount)
