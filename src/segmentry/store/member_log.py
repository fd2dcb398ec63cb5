"""The member log: one entity's membership changes of one write, as one row.

A single-entity write that flips dozens of segments would otherwise read and
rewrite a member chunk per segment, each on pages of its own; it appends one
row here instead (the entity, the moment, the seg_ids it entered and those it
left), so the pages it commits no longer grow with the segments it flips. The
kept memberships are the chunks with the log's rows applied in ``log_id``
order: every reader in ``store.members`` applies them. ``members.fold``
moves the rows into the chunks, editing each chunk once for all its rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from pyroaring import BitMap
from sqlalchemy.engine import Connection

from segmentry.store import driver
from segmentry.store.codec import CHUNK_BITS, decode_members, encode_members

FOLD_ROWS = 256
"""The log is folded by the write that brings it to this many rows: readers apply every
row of the entities they read, and a fold edits each chunk once for all its rows."""

COLUMNS = ("tenant_id", "log_id", "seq", "at", "entered", "exited")


@dataclass(frozen=True, slots=True)
class Entry:
    """One row: ``seq`` entered the segments ``entered`` and left ``exited`` at ``at``."""

    log_id: int
    seq: int
    at: int
    entered: BitMap
    exited: BitMap


def append(conn: Connection, *, tenant_id: int, entry: Entry) -> None:
    row = (tenant_id, entry.log_id, entry.seq, entry.at)
    blobs = (encode_members(entry.entered), encode_members(entry.exited))
    driver.insert(conn, "member_log", COLUMNS, [(*row, *blobs)])


def entries(
    conn: Connection, *, tenant_id: int, seqs: tuple[int, int] | None = None
) -> list[Entry]:
    """The rows in log order; ``seqs``: only those of entities ``lo <= seq < hi``."""
    mark = driver.mark(conn)
    sql = f"SELECT log_id, seq, at, entered, exited FROM member_log WHERE tenant_id = {mark}"
    params: tuple[int, ...] = (tenant_id,)
    if seqs is not None:
        sql += f" AND seq >= {mark} AND seq < {mark}"
        params += seqs
    found = conn.exec_driver_sql(sql + " ORDER BY log_id", params).all()
    return [
        Entry(int(i), int(s), int(a), decode_members(bytes(e)), decode_members(bytes(x)))
        for i, s, a, e, x in found
    ]


def of_seq(conn: Connection, *, tenant_id: int, seq: int) -> list[Entry]:
    """The rows of one entity, in log order."""
    return entries(conn, tenant_id=tenant_id, seqs=(seq, seq + 1))


def clear(conn: Connection, *, tenant_id: int) -> None:
    driver.delete(conn, "member_log", ("tenant_id",), [(tenant_id,)])


Settled = dict[tuple[int, int], dict[int, int | None]]
"""Per chunk (seg_id, chunk): each logged seq's last state, its entry time if it ended
a member, ``None`` if it ended outside."""


def settled(rows: Iterable[Entry], wanted: set[int] | None = None) -> Settled:
    """What the rows leave, per chunk: only the last change of a (segment, seq) counts
    (the log holds real flips, so a later one undoes an earlier one); ``wanted``: only
    these segments."""
    out: Settled = {}
    for row in rows:
        chunk = row.seq >> CHUNK_BITS
        for seg_ids, at in ((row.exited, None), (row.entered, row.at)):
            for seg_id in seg_ids:
                if wanted is None or seg_id in wanted:
                    out.setdefault((seg_id, chunk), {})[row.seq] = at
    return out


def split(changes: dict[int, int | None]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A chunk's settled seqs as arrays, in :meth:`Chunk.settle`'s order: every settled
    seq (each leaves its old place first), those that ended members, their entry times."""
    inside = [(s, a) for s, a in changes.items() if a is not None]
    touched = np.fromiter(changes, dtype=np.uint32, count=len(changes))
    entered = np.array([s for s, _ in inside], dtype=np.uint32)
    return touched, entered, np.array([a for _, a in inside], dtype=np.int64)
