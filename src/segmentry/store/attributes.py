"""Custom attributes declared by a tenant."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from segmentry.model.schema import Attribute, AttrType, Kind
from segmentry.store.tables import attributes


def list_custom(conn: Connection, *, tenant_id: int, kind: Kind) -> list[Attribute]:
    query = (
        sa.select(attributes.c.key, attributes.c.label, attributes.c.type, attributes.c.enum_values)
        .where(attributes.c.tenant_id == tenant_id, attributes.c.kind == kind.value)
        .order_by(attributes.c.position)
    )
    return [
        Attribute(row.key, row.label, AttrType(row.type), tuple(row.enum_values))
        for row in conn.execute(query)
    ]


def insert(conn: Connection, *, tenant_id: int, kind: Kind, attribute: Attribute, now: int) -> None:
    position = conn.execute(
        sa.select(sa.func.coalesce(sa.func.max(attributes.c.position), 0) + 1).where(
            attributes.c.tenant_id == tenant_id, attributes.c.kind == kind.value
        )
    ).scalar_one()
    conn.execute(
        attributes.insert().values(
            tenant_id=tenant_id,
            kind=kind.value,
            key=attribute.key,
            label=attribute.label,
            type=attribute.type.value,
            enum_values=list(attribute.values),
            position=position,
            created_at=now,
        )
    )


def delete(conn: Connection, *, tenant_id: int, kind: Kind, key: str) -> bool:
    result = conn.execute(
        attributes.delete().where(
            attributes.c.tenant_id == tenant_id,
            attributes.c.kind == kind.value,
            attributes.c.key == key,
        )
    )
    return result.rowcount == 1
