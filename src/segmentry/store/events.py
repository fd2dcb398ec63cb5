"""The event feed, stored as blocks: one row per (segment, change) of a transaction.

A block with ``first_id`` and ``count`` holds events ``first_id`` to
``first_id + count - 1``, one per member of its bitmap in ascending seq
order. Reading after a cursor expands the blocks it reaches.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import sqlalchemy as sa
from pyroaring import BitMap
from sqlalchemy.engine import Connection

from segmentry.store import driver, member_log
from segmentry.store.codec import decode_members, encode_members
from segmentry.store.tables import event_blocks


@dataclass(frozen=True, slots=True)
class Block:
    first_id: int
    seg_id: int
    segment_code: str
    kind: str
    change: str
    cause: str
    at: int
    members: BitMap


COLUMNS = (
    "tenant_id",
    "first_id",
    "last_id",
    "seg_id",
    "segment_code",
    "kind",
    "change",
    "cause",
    "at",
    "members",
)


def append(conn: Connection, *, tenant_id: int, blocks: list[Block]) -> None:
    rows = [
        (
            tenant_id,
            b.first_id,
            b.first_id + len(b.members) - 1,
            b.seg_id,
            b.segment_code,
            b.kind,
            b.change,
            b.cause,
            b.at,
            encode_members(b.members),
        )
        for b in blocks
    ]
    driver.insert(conn, "event_blocks", COLUMNS, rows)


def blocks_after(
    conn: Connection, *, tenant_id: int, after: int, seg_id: int | None = None, page: int = 64
) -> Iterator[Block]:
    """Blocks holding events with ids above ``after``, in id order (blocks never overlap,
    so ordering by last id orders by first id too), then the member log's, which are
    newer than any stored block."""
    cursor = after
    while True:
        query = sa.select(
            event_blocks.c.first_id,
            event_blocks.c.last_id,
            event_blocks.c.seg_id,
            event_blocks.c.segment_code,
            event_blocks.c.kind,
            event_blocks.c.change,
            event_blocks.c.cause,
            event_blocks.c.at,
            event_blocks.c.members,
        ).where(
            event_blocks.c.tenant_id == tenant_id,
            event_blocks.c.last_id > cursor,
        )
        if seg_id is not None:
            query = query.where(event_blocks.c.seg_id == seg_id)
        rows = conn.execute(query.order_by(event_blocks.c.last_id).limit(page)).all()
        for row in rows:
            yield Block(
                row.first_id,
                row.seg_id,
                row.segment_code,
                row.kind,
                row.change,
                row.cause,
                row.at,
                decode_members(row.members),
            )
        if len(rows) < page:
            break
        cursor = rows[-1].last_id
    yield from logged(conn, tenant_id=tenant_id, after=after, seg_id=seg_id)


def logged(
    conn: Connection, *, tenant_id: int, after: int, seg_id: int | None = None
) -> Iterator[Block]:
    """The member log's blocks holding events above ``after`` (one member each)."""
    for row in member_log.entries(conn, tenant_id=tenant_id, after=after):
        for block in logged_blocks(row, after=after):
            if seg_id is None or block.seg_id == seg_id:
                yield block


def logged_blocks(row: member_log.Entry, *, after: int) -> Iterator[Block]:
    """A logged row's blocks holding events above ``after``."""
    members = BitMap([row.seq])
    for place, (seg_id, code, change, cause) in enumerate(row.blocks):
        if row.log_id + place > after:
            yield Block(row.log_id + place, seg_id, code, row.kind, change, cause, row.at, members)
