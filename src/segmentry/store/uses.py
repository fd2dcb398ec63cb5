"""Uses: what outside the engine relies on a segment (workflows, promotions, ...)."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from segmentry.store.tables import segment_uses


@dataclass(frozen=True, slots=True)
class UseRow:
    use_id: str
    type: str
    name: str
    url: str | None
    created_at: int


def list_uses(conn: Connection, *, tenant_id: int, seg_id: int) -> list[UseRow]:
    query = (
        sa.select(
            segment_uses.c.use_id,
            segment_uses.c.type,
            segment_uses.c.name,
            segment_uses.c.url,
            segment_uses.c.created_at,
        )
        .where(segment_uses.c.tenant_id == tenant_id, segment_uses.c.seg_id == seg_id)
        .order_by(segment_uses.c.created_at, segment_uses.c.use_id)
    )
    return [UseRow(*row) for row in conn.execute(query)]


def _key(tenant_id: int, seg_id: int, use_id: str) -> tuple[sa.ColumnElement[bool], ...]:
    return (
        segment_uses.c.tenant_id == tenant_id,
        segment_uses.c.seg_id == seg_id,
        segment_uses.c.use_id == use_id,
    )


def put(conn: Connection, *, tenant_id: int, seg_id: int, use: UseRow) -> bool:
    """Register or replace a use; True when it is new."""
    existed = conn.execute(
        segment_uses.delete().where(*_key(tenant_id, seg_id, use.use_id))
    ).rowcount
    conn.execute(
        segment_uses.insert().values(
            tenant_id=tenant_id,
            seg_id=seg_id,
            use_id=use.use_id,
            type=use.type,
            name=use.name,
            url=use.url,
            created_at=use.created_at,
        )
    )
    return existed == 0


def remove(conn: Connection, *, tenant_id: int, seg_id: int, use_id: str) -> bool:
    return conn.execute(segment_uses.delete().where(*_key(tenant_id, seg_id, use_id))).rowcount == 1


def drop_segment(conn: Connection, *, tenant_id: int, seg_id: int) -> None:
    conn.execute(
        segment_uses.delete().where(
            segment_uses.c.tenant_id == tenant_id, segment_uses.c.seg_id == seg_id
        )
    )
