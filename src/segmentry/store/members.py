"""Kept memberships (chunked bitmaps, and the member log on top of them) and the
hand-managed lists of fixed segments.

Every reader here answers with the member log's rows applied to the chunks
(``store.member_log``); the chunk writers expect the log folded first (:func:`fold`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import sqlalchemy as sa
from pyroaring import BitMap
from sqlalchemy.engine import Connection

from segmentry.store import driver, events, history, member_log
from segmentry.store.codec import (
    CHUNK_BITS,
    Chunk,
    Stored,
    chunk_of,
    decode_members,
    entered_at,
    plain,
    run,
)
from segmentry.store.tables import fixed_members, member_chunks

ChunkKey = tuple[int, int]  # (seg_id, chunk)
ID_BATCH = 500


def load_members(conn: Connection, *, tenant_id: int) -> dict[int, BitMap]:
    """Every segment's members (the bitmaps only, not the entry times)."""
    out: dict[int, BitMap] = {}
    query = sa.select(member_chunks.c.seg_id, member_chunks.c.members).where(
        member_chunks.c.tenant_id == tenant_id
    )
    for seg_id, data in conn.execute(query):
        out.setdefault(seg_id, BitMap()).update(decode_members(data))
    for row in member_log.entries(conn, tenant_id=tenant_id):
        for seg_id in row.exited:
            out.setdefault(seg_id, BitMap()).discard(row.seq)
        for seg_id in row.entered:
            out.setdefault(seg_id, BitMap()).add(row.seq)
    return out


def read_chunks(
    conn: Connection, *, tenant_id: int, keys: Iterable[ChunkKey]
) -> dict[ChunkKey, Chunk]:
    """The chunks with these keys that hold members, with their entry times (the member
    log's rows applied)."""
    wanted = set(keys)
    stored = read_stored_chunks(conn, tenant_id=tenant_id, keys=wanted)
    out = {key: Chunk.decode(members, since) for key, (members, since) in stored.items()}
    for chunk in {c for _, c in wanted}:
        span = (chunk << CHUNK_BITS, (chunk + 1) << CHUNK_BITS)
        rows = member_log.entries(conn, tenant_id=tenant_id, seqs=span)
        segs = {s for s, c in wanted if c == chunk}
        for key, changes in member_log.settled(rows, segs).items():
            out.setdefault(key, Chunk()).settle(*member_log.split(changes))
    return {key: found for key, found in out.items() if len(found)}


_SINCE = sa.select(member_chunks.c.members, member_chunks.c.since).where(
    member_chunks.c.tenant_id == sa.bindparam("tenant_id"),
    member_chunks.c.seg_id == sa.bindparam("seg_id"),
    member_chunks.c.chunk == sa.bindparam("chunk"),
)


def since_of(
    conn: Connection, *, tenant_id: int, seg_id: int, seq: int, logged: bool = True
) -> int | None:
    """When ``seq`` entered the segment, or ``None`` if it is not a member; ``logged``
    False: the caller knows the member log empty (its state is current)."""
    entries = member_log.of_seq(conn, tenant_id=tenant_id, seq=seq) if logged else []
    for entry in reversed(entries):
        if seg_id in entry.entered:
            return entry.at
        if seg_id in entry.exited:
            return None
    params = {"tenant_id": tenant_id, "seg_id": seg_id, "chunk": chunk_of(seq)}
    row = conn.execute(_SINCE, params).one_or_none()
    return entered_at(bytes(row.members), bytes(row.since), seq) if row is not None else None


def read_stored_chunks(
    conn: Connection, *, tenant_id: int, keys: Iterable[ChunkKey]
) -> dict[ChunkKey, Stored]:
    """The chunks with these keys that exist, as stored (without the member log).

    Segments wanting the same chunks are read together (a batch write touches
    the same few chunks of many segments), a few hundred segments per query.
    """
    wanted = set(keys)
    by_seg: dict[int, set[int]] = {}
    for seg_id, chunk in wanted:
        by_seg.setdefault(seg_id, set()).add(chunk)
    groups: dict[frozenset[int], list[int]] = {}
    for seg_id, wanted_chunks in by_seg.items():
        groups.setdefault(frozenset(wanted_chunks), []).append(seg_id)
    out: dict[ChunkKey, Stored] = {}
    for chunks, seg_ids in groups.items():
        for start in range(0, len(seg_ids), ID_BATCH):
            part = seg_ids[start : start + ID_BATCH]
            found = conn.exec_driver_sql(_chunks_sql(conn, len(part), len(chunks)),
                                         (tenant_id, *part, *sorted(chunks)))  # fmt: skip
            for seg_id, chunk, members, since in found.all():
                out[(int(seg_id), int(chunk))] = (bytes(members), bytes(since))
    return out


def _chunks_sql(conn: Connection, segments: int, chunks: int) -> str:
    """Chunks of some segments, through the driver (a single write reads a few dozen,
    and building the query with SQLAlchemy took longer than running it)."""
    mark = driver.mark(conn)
    return (
        "SELECT seg_id, chunk, members, since FROM member_chunks WHERE tenant_id = "
        f"{mark} AND seg_id IN ({', '.join([mark] * segments)}) "
        f"AND chunk IN ({', '.join([mark] * chunks)})"
    )


def write_chunks(
    conn: Connection,
    *,
    tenant_id: int,
    chunks: Mapping[ChunkKey, Stored | None],
    existing: set[ChunkKey],
) -> None:
    """Store edited chunks: update those that existed, insert new ones, drop the ones
    left empty (``None``). Through the driver: a bulk write edits thousands."""
    inserts, updates, deletes = [], [], []
    for (seg_id, chunk), value in chunks.items():
        if value is None:
            if (seg_id, chunk) in existing:
                deletes.append((tenant_id, seg_id, chunk))
        elif (seg_id, chunk) in existing:
            updates.append((*value, tenant_id, seg_id, chunk))
        else:
            inserts.append((tenant_id, seg_id, chunk, *value))
    table, key = "member_chunks", ("tenant_id", "seg_id", "chunk")
    driver.insert(conn, table, (*key, "members", "since"), inserts)
    driver.update(conn, table, ("members", "since"), key, updates)
    driver.delete(conn, table, key, deletes)


Appended = tuple[int, int, bytes, int, int]
"""Members appended to a stored chunk above its members: (seg_id, chunk, the chunk's
members bitmap afterwards, how many entered, when)."""


def append_chunks(conn: Connection, *, tenant_id: int, chunks: Sequence[Appended]) -> None:
    """Append members to stored chunks without reading them: the bitmap is replaced by
    the one given, and the entry times are extended in the database by a run (times
    stored as runs) or by plain times (times stored plain), as :func:`codec.append_since`
    would, but without merging a last run of the same moment."""
    if not chunks:
        return
    postgres = conn.dialect.name == "postgresql"
    mark = driver.mark(conn)
    modulo = "%%" if postgres else "%"  # psycopg reads a lone % as a placeholder
    grown = f"CASE WHEN length(since) {modulo} 8 = 1 THEN since || {mark} ELSE since || {mark} END"
    since = grown if postgres else f"CAST({grown} AS BLOB)"
    rows = [
        (members, run(count, at), plain(count, at), tenant_id, seg_id, chunk)
        for seg_id, chunk, members, count, at in chunks
    ]
    where = f"tenant_id = {mark} AND seg_id = {mark} AND chunk = {mark}"
    sql = f"UPDATE member_chunks SET members = {mark}, since = {since} WHERE {where}"
    conn.exec_driver_sql(sql, rows)


def fold(conn: Connection, *, tenant_id: int) -> int:
    """Move the member log's rows into the chunks (each edited once for all of its rows),
    the event blocks and the history, and empty the log; returns how many rows there
    were."""
    rows = member_log.entries(conn, tenant_id=tenant_id)
    if not rows:
        return 0
    _fold_chunks(conn, tenant_id, rows)
    blocks = [block for row in rows for block in events.logged_blocks(row, after=row.log_id - 1)]
    events.append(conn, tenant_id=tenant_id, blocks=blocks)
    points: dict[tuple[int, int], int] = {}  # (seg_id, at) -> count; a later row replaces
    for row in rows:
        points.update(((seg_id, row.at), count) for seg_id, count in row.counts)
    history.record_points(conn, tenant_id=tenant_id, points=points)
    member_log.clear(conn, tenant_id=tenant_id)
    return len(rows)


def _fold_chunks(conn: Connection, tenant_id: int, rows: list[member_log.Entry]) -> None:
    pending = member_log.settled(rows)
    stored = read_stored_chunks(conn, tenant_id=tenant_id, keys=pending)
    edited: dict[ChunkKey, Stored | None] = {}
    for key, changes in pending.items():
        chunk = Chunk.decode(*stored[key]) if key in stored else Chunk()
        chunk.settle(*member_log.split(changes))
        edited[key] = chunk.encode() if len(chunk) else None
    write_chunks(conn, tenant_id=tenant_id, chunks=edited, existing=set(stored))


def drop_segment(conn: Connection, *, tenant_id: int, seg_id: int) -> None:
    """Forget a segment's members; the member log must be folded first (a logged row
    names the segment as a seg_id, which is never reused)."""
    for table in (member_chunks, fixed_members):
        conn.execute(table.delete().where(table.c.tenant_id == tenant_id, table.c.seg_id == seg_id))


# -- fixed segments' lists ----------------------------------------------------------------


def fixed_list(conn: Connection, *, tenant_id: int, seg_id: int) -> BitMap:
    query = sa.select(fixed_members.c.seq).where(
        fixed_members.c.tenant_id == tenant_id, fixed_members.c.seg_id == seg_id
    )
    return BitMap(int(s) for s in conn.scalars(query))


def add_fixed(
    conn: Connection, *, tenant_id: int, seg_id: int, seqs: Iterable[int], now: int
) -> None:
    rows = [{"tenant_id": tenant_id, "seg_id": seg_id, "seq": s, "added_at": now} for s in seqs]
    if rows:
        conn.execute(fixed_members.insert(), rows)


def remove_fixed(conn: Connection, *, tenant_id: int, seg_id: int, seqs: Iterable[int]) -> None:
    wanted = sorted(set(seqs))
    for start in range(0, len(wanted), 500):
        conn.execute(
            fixed_members.delete().where(
                fixed_members.c.tenant_id == tenant_id,
                fixed_members.c.seg_id == seg_id,
                fixed_members.c.seq.in_(wanted[start : start + 500]),
            )
        )
