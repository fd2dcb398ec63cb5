"""The record of each import: how far it got, what it applied, what it refused."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from segmentry.store.tables import imports


@dataclass(frozen=True, slots=True)
class ImportRow:
    import_id: str
    kind: str
    format: str
    status: str
    lines: int
    applied: int
    rejected: int
    last_line: int
    applied_lines: list[list[int]]
    errors: list[dict[str, Any]]
    error: str | None
    started_at: int
    finished_at: int | None
    alive_until: int | None


_COLUMNS = [imports.c[name] for name in ImportRow.__slots__]


def insert(conn: Connection, *, tenant_id: int, row: ImportRow) -> None:
    values = {name: getattr(row, name) for name in ImportRow.__slots__}
    conn.execute(imports.insert().values(tenant_id=tenant_id, **values))


def update(conn: Connection, *, tenant_id: int, row: ImportRow) -> None:
    """Write the import's progress (in the transaction of the batch it counts)."""
    values = {name: getattr(row, name) for name in ImportRow.__slots__ if name != "import_id"}
    conn.execute(
        imports.update()
        .where(imports.c.tenant_id == tenant_id, imports.c.import_id == row.import_id)
        .values(**values)
    )


def get(conn: Connection, *, tenant_id: int, import_id: str) -> ImportRow | None:
    query = sa.select(*_COLUMNS).where(
        imports.c.tenant_id == tenant_id, imports.c.import_id == import_id
    )
    found = conn.execute(query).first()
    return ImportRow(*found) if found else None


def latest(conn: Connection, *, tenant_id: int, limit: int) -> list[ImportRow]:
    query = (
        sa.select(*_COLUMNS)
        .where(imports.c.tenant_id == tenant_id)
        .order_by(imports.c.started_at.desc(), imports.c.import_id.desc())
        .limit(limit)
    )
    return [ImportRow(*r) for r in conn.execute(query)]
