"""The member log: what one write did to one entity, as one row.

A single-entity write that flips dozens of segments would otherwise rewrite a
member chunk, insert an event block and a history point per segment, each
landing on pages of its own (the chunks' rows and the per-segment indexes);
it appends one row here instead: the entity, the moment, the seg_ids it
entered and those it left, the write's event blocks (one member each) and its
history points. So the pages it commits no longer grow with the segments it
flips. What the member chunks, the feed and the history hold is their tables
with the log's rows applied in ``log_id`` order: their readers in ``store``
apply them. ``members.fold`` moves the rows into those tables (each chunk
edited once for all its rows) and empties the log; a write that writes to
those tables itself folds first, so the log's events are always the newest.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import orjson
from pyroaring import BitMap
from sqlalchemy.engine import Connection

from segmentry.store import driver
from segmentry.store.codec import CHUNK_BITS, decode_members, encode_members

FOLD_ROWS = 256
"""The log is folded by the write that brings it to this many rows: readers apply every
row of the entities (or events) they read, and a fold edits each chunk once for all
its rows."""

COLUMNS = (
    "tenant_id",
    "log_id",
    "last_id",
    "seq",
    "kind",
    "at",
    "entered",
    "exited",
    "blocks",
    "counts",
)

LoggedBlock = tuple[int, str, str, str]
"""An event block of a logged write: (seg_id, segment code, change, cause); its one
member is the row's entity, its id the row's ``log_id`` plus its place."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One row: entity ``seq`` of ``kind`` entered the segments ``entered`` and left
    ``exited`` at ``at``; its events, from ``log_id`` on, and its history points are
    kept as stored (JSON) until asked for: most readers want only the memberships."""

    log_id: int
    seq: int
    kind: str
    at: int
    entered: BitMap
    exited: BitMap
    blocks_json: str
    counts_json: str

    @classmethod
    def of(
        cls,
        *,
        log_id: int,
        seq: int,
        kind: str,
        at: int,
        changed: tuple[BitMap, BitMap],
        blocks: list[LoggedBlock],
        counts: list[tuple[int, int]],
    ) -> Entry:
        """A row to append: ``changed`` is (entered, exited); ``counts`` the member counts
        of the segments the write touched, (seg_id, count) each."""
        text = (orjson.dumps(blocks).decode(), orjson.dumps(counts).decode())
        return cls(log_id, seq, kind, at, changed[0], changed[1], *text)

    @property
    def blocks(self) -> list[LoggedBlock]:
        return [tuple(b) for b in orjson.loads(self.blocks_json)]

    @property
    def counts(self) -> list[tuple[int, int]]:
        return [tuple(c) for c in orjson.loads(self.counts_json)]

    @property
    def last_id(self) -> int:
        return self.log_id + len(self.entered) + len(self.exited) - 1  # a block per flip


def append(conn: Connection, *, tenant_id: int, entry: Entry) -> None:
    e = entry
    row = (tenant_id, e.log_id, e.last_id, e.seq, e.kind, e.at)
    blobs = (encode_members(e.entered), encode_members(e.exited))
    driver.insert(conn, "member_log", COLUMNS, [(*row, *blobs, e.blocks_json, e.counts_json)])


def entries(
    conn: Connection,
    *,
    tenant_id: int,
    seqs: tuple[int, int] | None = None,
    after: int | None = None,
) -> list[Entry]:
    """The rows in log order; ``seqs``: only those of entities ``lo <= seq < hi``;
    ``after``: only those with events after that event id."""
    mark = driver.mark(conn)
    sql = f"SELECT {', '.join(COLUMNS[1:])} FROM member_log WHERE tenant_id = {mark}"
    params: tuple[int, ...] = (tenant_id,)
    if seqs is not None:
        sql += f" AND seq >= {mark} AND seq < {mark}"
        params += seqs
    if after is not None:
        sql += f" AND last_id > {mark}"
        params += (after,)
    found = conn.exec_driver_sql(sql + " ORDER BY log_id", params).all()
    return [
        Entry(
            int(log_id),
            int(seq),
            kind,
            int(at),
            decode_members(bytes(entered)),
            decode_members(bytes(exited)),
            blocks,
            counts,
        )
        for log_id, _, seq, kind, at, entered, exited, blocks, counts in found
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
