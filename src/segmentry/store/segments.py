"""Segment rows and their saved versions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from segmentry.store.tables import segment_versions, segments


@dataclass(frozen=True, slots=True)
class SegmentRow:
    seg_id: int
    code: str
    name: str
    description: str
    kind: str
    type: str
    status: str
    rule: dict[str, Any] | None
    version: int
    created_at: int
    updated_at: int


@dataclass(frozen=True, slots=True)
class VersionRow:
    version: int
    at: int
    by_key: str | None
    definition: dict[str, Any]


COLUMNS = (
    segments.c.seg_id,
    segments.c.code,
    segments.c.name,
    segments.c.description,
    segments.c.kind,
    segments.c.type,
    segments.c.status,
    segments.c.rule,
    segments.c.version,
    segments.c.created_at,
    segments.c.updated_at,
)


def all_rows(conn: Connection, *, tenant_id: int) -> list[SegmentRow]:
    query = sa.select(*COLUMNS).where(segments.c.tenant_id == tenant_id).order_by(segments.c.seg_id)
    return [SegmentRow(**row._mapping) for row in conn.execute(query)]


def insert(conn: Connection, *, tenant_id: int, row: SegmentRow) -> None:
    conn.execute(segments.insert().values(tenant_id=tenant_id, **_values(row)))


def update(conn: Connection, *, tenant_id: int, row: SegmentRow) -> None:
    conn.execute(
        segments.update()
        .where(segments.c.tenant_id == tenant_id, segments.c.seg_id == row.seg_id)
        .values(**_values(row))
    )


def delete(conn: Connection, *, tenant_id: int, seg_id: int) -> None:
    for table in (segment_versions, segments):
        conn.execute(table.delete().where(table.c.tenant_id == tenant_id, table.c.seg_id == seg_id))


def _values(row: SegmentRow) -> dict[str, Any]:
    return {column.name: getattr(row, column.name) for column in COLUMNS}


def insert_version(conn: Connection, *, tenant_id: int, seg_id: int, version: VersionRow) -> None:
    conn.execute(
        segment_versions.insert().values(
            tenant_id=tenant_id,
            seg_id=seg_id,
            version=version.version,
            at=version.at,
            by_key=version.by_key,
            definition=version.definition,
        )
    )


def versions(conn: Connection, *, tenant_id: int, seg_id: int) -> list[VersionRow]:
    query = (
        sa.select(
            segment_versions.c.version,
            segment_versions.c.at,
            segment_versions.c.by_key,
            segment_versions.c.definition,
        )
        .where(segment_versions.c.tenant_id == tenant_id, segment_versions.c.seg_id == seg_id)
        .order_by(segment_versions.c.version)
    )
    return [VersionRow(*row) for row in conn.execute(query)]
