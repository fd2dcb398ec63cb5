"""Member-count history: a point at every change, thinned as it ages.

Points of the last 7 days are all kept; older ones keep the last point of each
hour, and those older than 90 days the last point of each day.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from segmentry.store import driver, member_log
from segmentry.store.tables import segment_history

HOUR = 3_600_000_000
DAY = 24 * HOUR
KEEP_ALL = 7 * DAY
KEEP_HOURLY = 90 * DAY
COLUMNS = ("tenant_id", "seg_id", "at", "member_count")


def record(conn: Connection, *, tenant_id: int, counts: dict[int, int], at: int) -> None:
    """A point per segment at ``at`` (replacing a point already there)."""
    points = {(seg_id, at): n for seg_id, n in counts.items()}
    record_points(conn, tenant_id=tenant_id, points=points)


def record_points(conn: Connection, *, tenant_id: int, points: dict[tuple[int, int], int]) -> None:
    """Points at several moments: ``(seg_id, at) -> count``."""
    rows = [(tenant_id, seg_id, at, n) for (seg_id, at), n in points.items()]
    driver.upsert(conn, "segment_history", COLUMNS, COLUMNS[:3], rows)


def points(conn: Connection, *, tenant_id: int, seg_id: int) -> list[tuple[int, int]]:
    """The segment's points in time order, the member log's among them."""
    query = sa.select(segment_history.c.at, segment_history.c.member_count).where(
        segment_history.c.tenant_id == tenant_id, segment_history.c.seg_id == seg_id
    )
    found = {int(at): int(n) for at, n in conn.execute(query)}
    for row in member_log.entries(conn, tenant_id=tenant_id):
        found.update((row.at, n) for s, n in row.counts if s == seg_id)
    return sorted(found.items())


def thin(conn: Connection, *, tenant_id: int, now: int) -> int:
    """Drop old points that a later point of the same hour (or day) supersedes."""
    dropped = 0
    for older_than, bucket in ((now - KEEP_ALL, HOUR), (now - KEEP_HOURLY, DAY)):
        dropped += _thin(conn, tenant_id, older_than, bucket)
    return dropped


def _thin(conn: Connection, tenant_id: int, older_than: int, bucket: int) -> int:
    table = segment_history
    newer = table.alias("newer")
    superseded = sa.exists().where(
        newer.c.tenant_id == table.c.tenant_id,
        newer.c.seg_id == table.c.seg_id,
        newer.c.at > table.c.at,
        newer.c.at < (table.c.at // bucket + 1) * bucket,
        newer.c.at < older_than,
    )
    query = table.delete().where(
        table.c.tenant_id == tenant_id, table.c.at < older_than, superseded
    )
    return int(conn.execute(query).rowcount)


def drop_segment(conn: Connection, *, tenant_id: int, seg_id: int) -> None:
    conn.execute(
        segment_history.delete().where(
            segment_history.c.tenant_id == tenant_id, segment_history.c.seg_id == seg_id
        )
    )
