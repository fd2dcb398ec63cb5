"""One write transaction of one tenant: the connection, the state, and the net
membership changes it has made, written out just before commit.

Changes are kept as bitmaps per (segment, cause), so a batch of ten thousand
entities records its memberships with a few set operations, and a member that
enters and leaves again within one transaction produces no event.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from functools import lru_cache

from pyroaring import BitMap
from sqlalchemy.engine import Connection

from segmentry.engine.flips import Flips
from segmentry.engine.state import SegmentDef, TenantState
from segmentry.engine.types import Cause, Change
from segmentry.model.temporal import EvalContext, from_micros, to_micros
from segmentry.store import events as event_store
from segmentry.store import history as history_store
from segmentry.store import member_log
from segmentry.store import members as member_store
from segmentry.store import tenants as tenant_store
from segmentry.store.codec import CHUNK_BITS, Stored, edit_chunk, encode_members, one_run
from segmentry.store.members import Appended, ChunkKey
from segmentry.store.tenants import TenantRow

Edit = tuple[BitMap, BitMap]
"""Members entered and exited in one chunk."""


class Transaction:
    """One write of one tenant, inside the database transaction that holds the tenant's
    row locked: it owns the connection, mutates the tenant's in-memory state as it
    goes, collects the net membership changes (``flips``) and the tenant's counters,
    and writes them all out in :meth:`flush`, just before the commit."""

    def __init__(
        self,
        conn: Connection,
        state: TenantState,
        tenant: TenantRow,
        now: datetime,
        by_key: str | None,
    ) -> None:
        self.tenant = tenant
        self.conn = conn
        self.state = state
        self.now = now
        self.now_us = to_micros(now)
        self.by_key = by_key
        self.tenant_id = state.tenant_id
        self.revision = tenant.revision + 1
        self.counters = dict(tenant.counters)
        """The tenant row's counters as this transaction leaves them (read once, with the
        row's lock; the changed ones are written back with one statement)."""
        self.flips = Flips()
        self.counted: set[int] = set()
        self.dropped: set[int] = set()
        self.renames: list[tuple[str, SegmentDef, BitMap]] = []
        self.inserted_entities = 0  # new entity rows, for the store's statistics

    @property
    def ctx(self) -> EvalContext:
        return EvalContext(self.now, self.state.tz)

    @property
    def swept(self) -> EvalContext:
        """The moment time-dependent memberships were last swept to."""
        return EvalContext(from_micros(self.tenant.swept_at), self.state.tz)

    def take(self, counter: str, count: int) -> int:
        """Reserve ``count`` consecutive values of a tenant counter; returns the first."""
        first = self.counters[counter]
        self.counters[counter] = first + count
        return first

    def set_member(self, segment: SegmentDef, seq: int, member: bool, cause: Cause) -> bool:
        """Make ``seq`` a member or not; returns whether that changed anything."""
        return self.set_one(seq, [segment], [0], [member], cause) == 1

    def set_one(
        self,
        seq: int,
        segments: list[SegmentDef],
        positions: list[int],
        members: list[bool],
        cause: Cause,
    ) -> int:
        """Make one ``seq`` a member or not of ``segments[p]`` for each ``p`` of
        ``positions``, as the matching ``members`` says; returns how many changed. Most
        asks change nothing (a single write asks about every candidate segment), so
        those go on before anything is built, in one loop."""
        kept, flips, changed = self.state.members, self.flips, 0
        for position, member in zip(positions, members, strict=True):
            segment = segments[position]
            bitmap = kept.get(segment.row.seg_id)
            if bitmap is None:
                if not member:
                    continue
                bitmap = kept[segment.row.seg_id] = BitMap()
            if (seq in bitmap) == member:
                continue
            if member:
                bitmap.add(seq)
            else:
                bitmap.discard(seq)
            flips.record_one(segment, seq, member, cause)
            changed += 1
        self.state.mutations += changed
        self.state.memberships += changed
        return changed

    def set_members(self, segment: SegmentDef, among: BitMap, target: BitMap, cause: Cause) -> None:
        """Among the seqs ``among``, make exactly ``target`` members."""
        members = self.state.members.setdefault(segment.seg_id, BitMap())
        current = members & among
        entering, leaving = target - current, current - target
        if entering or leaving:
            self.state.mutations += 1
            self.state.memberships += 1
        if entering:
            members |= entering
            self.flips.record(segment, entering, True, cause)
        if leaving:
            members -= leaving
            self.flips.record(segment, leaving, False, cause)

    def enter(self, segment: SegmentDef, seqs: BitMap, cause: Cause) -> None:
        """Make ``seqs``, none of which is a member, members (new entities of a batch)."""
        if seqs:
            self.state.mutations += 1
            self.state.memberships += 1
            self.state.members.setdefault(segment.seg_id, BitMap()).update(seqs)
            self.flips.record(segment, seqs, True, cause)

    def renamed(self, old_code: str, segment: SegmentDef) -> None:
        """Record a new code: the feed is read by code, so the members move from the
        old code to the new one there (exited, then entered, cause segment_changed)."""
        members = self.state.members.get(segment.seg_id, BitMap())
        if members:
            self.renames.append((old_code, segment, BitMap(members)))

    def replace_members(self, segment: SegmentDef, target: BitMap, cause: Cause) -> BitMap:
        """Make the members exactly ``target``; returns the seqs that changed."""
        current = self.state.members.setdefault(segment.seg_id, BitMap())
        changed = current ^ target
        self.set_members(segment, current | target, target, cause)
        self.counted.add(segment.seg_id)
        return changed

    # -- writing out -------------------------------------------------------------------

    def flush(self, *, bump: bool = True) -> None:
        """Write memberships, events, counts and history; bump the tenant's revision
        (other processes then reload their state) unless nothing they hold changed."""
        if not self._logged():
            self._write_chunks()
            self._write_events()
            self._write_counts()
        if bump or self.flips.touched():
            self.counters["revision"] = self.revision
        else:
            self.revision = self.state.revision
        changed = {c: v for c, v in self.counters.items() if v != self.tenant.counters[c]}
        tenant_store.set_counters(self.conn, tenant_id=self.tenant_id, values=changed)

    def fold(self) -> None:
        """Fold the member log into the chunks, the feed and the history (before this
        write writes to them itself: the log's rows must come first)."""
        if self.counters["member_log_rows"]:
            member_store.fold(self.conn, tenant_id=self.tenant_id)
            self.counters["member_log_rows"] = 0

    def _logged(self) -> bool:
        """Append this write's membership changes, events and history points to the
        member log as one row when they are one entity's (a single write's, whatever
        the segments it flips); folds the log once it is long enough. False: they are
        to be written to their tables instead (several entities, a rename, a drop)."""
        if self.renames or self.dropped:
            return False
        changes = sorted(self.flips.changes(), key=_block_order)
        if not changes:
            return False
        segments, seq = self.flips.segments, changes[0][3].min()
        if any(len(m) != 1 or seq not in m for *_, m in changes):
            return False  # several entities
        if len({segments[c[0]].row.kind for c in changes}) != 1:
            return False  # seqs count per kind: one seq, two kinds
        entered = [seg_id for seg_id, change, _, _ in changes if change is Change.ENTERED]
        exited = [seg_id for seg_id, change, _, _ in changes if change is Change.EXITED]
        entry = member_log.Entry.of(
            log_id=self.take("next_event_id", len(changes)),
            seq=seq,
            kind=segments[changes[0][0]].row.kind,
            at=self.now_us,
            changed=(BitMap(entered), BitMap(exited)),
            blocks=[(s, segments[s].code, c.value, cause.value) for s, c, cause, _ in changes],
            counts=sorted(self._counts().items()),
        )
        member_log.append(self.conn, tenant_id=self.tenant_id, entry=entry)
        self.counters["member_log_rows"] += 1
        if self.counters["member_log_rows"] >= member_log.FOLD_ROWS:
            self.fold()
        return True

    def _write_chunks(self) -> None:
        edits: dict[tuple[int, int], tuple[BitMap, BitMap]] = {}
        for seg_id, change, _, seqs in self.flips.changes():
            if seg_id in self.dropped:
                continue
            entering = change is Change.ENTERED
            for chunk, part in _by_chunk(seqs):
                # Most chunks have one change (a bulk write's): its part is kept as it is
                # (never edited in place below), unions made only for the others.
                found = edits.get((seg_id, chunk))
                if found is None:
                    edits[seg_id, chunk] = (part, BitMap()) if entering else (BitMap(), part)
                elif entering:
                    edits[seg_id, chunk] = (found[0] | part, found[1])
                else:
                    edits[seg_id, chunk] = (found[0], found[1] | part)
        if not edits:
            return
        self.fold()  # the chunks read and edited below must hold the logged changes
        chunks, appended, edited = self._unread(edits)
        existing = member_store.read_stored_chunks(self.conn, tenant_id=self.tenant_id, keys=edited)
        for key, (entered, exited) in edited.items():
            chunks[key] = edit_chunk(existing.get(key), entered, exited, self.now_us)
        member_store.write_chunks(
            self.conn, tenant_id=self.tenant_id, chunks=chunks, existing=set(existing)
        )
        member_store.append_chunks(self.conn, tenant_id=self.tenant_id, chunks=appended)

    def _unread(
        self, edits: dict[ChunkKey, Edit]
    ) -> tuple[dict[ChunkKey, Stored | None], list[Appended], dict[ChunkKey, Edit]]:
        """The chunk edits that need no read of the stored chunk: new chunks, and members
        appended above a chunk's others (a bulk import's). The kept members tell them
        apart: they are the stored chunks with this transaction's changes made. The
        other edits are returned to be read and edited."""
        new: dict[ChunkKey, Stored | None] = {}
        appended: list[Appended] = []
        edited: dict[ChunkKey, Edit] = {}
        kept, at = self.state.members, self.now_us
        for key, (entered, exited) in edits.items():
            members = kept.get(key[0])
            if exited or not entered or members is None or not entered <= members:
                edited[key] = (entered, exited)  # not as kept, or members left: read it
                continue
            count, end = len(entered), (key[1] + 1) << CHUNK_BITS
            if members.range_cardinality(key[1] << CHUNK_BITS, end) == count:
                new[key] = (encode_members(entered), one_run(count, at))
            elif members.range_cardinality(entered.min(), end) == count:
                appended.append((*key, encode_members(members & _span(key[1])), count, at))
            else:
                edited[key] = (entered, exited)
        return new, appended, edited

    def _write_events(self) -> None:
        changes = sorted(self.flips.changes(), key=_block_order)
        total = sum(len(m) for *_, m in self.renames) * 2 + sum(len(c[3]) for c in changes)
        if not total:
            return
        self.fold()
        next_id = self.take("next_event_id", total)
        blocks = self._rename_blocks(next_id)
        next_id += sum(len(b.members) for b in blocks)
        for seg_id, change, cause, seqs in changes:
            segment = self.flips.segments[seg_id]
            blocks.append(
                event_store.Block(
                    next_id,
                    seg_id,
                    segment.code,
                    segment.kind.value,
                    change.value,
                    cause.value,
                    self.now_us,
                    seqs,
                )
            )
            next_id += len(seqs)
        event_store.append(self.conn, tenant_id=self.tenant_id, blocks=blocks)

    def _rename_blocks(self, first_id: int) -> list[event_store.Block]:
        """Events of renamed segments, numbered from ``first_id``."""
        blocks = []
        for old_code, segment, members in self.renames:
            for code, change in ((old_code, Change.EXITED), (segment.code, Change.ENTERED)):
                blocks.append(
                    event_store.Block(
                        first_id,
                        segment.seg_id,
                        code,
                        segment.kind.value,
                        change.value,
                        Cause.SEGMENT_CHANGED.value,
                        self.now_us,
                        members,
                    )
                )
                first_id += len(members)
        return blocks

    def _write_counts(self) -> None:
        counts = self._counts()
        if counts:
            self.fold()
            history_store.record(self.conn, tenant_id=self.tenant_id, counts=counts, at=self.now_us)

    def _counts(self) -> dict[int, int]:
        """The member counts of the segments this write touched: its history points."""
        touched = (self.counted | self.flips.touched()) - self.dropped
        kept, segments = self.state.members, self.state.segments
        sizes = {s: len(m) for s in touched if (m := kept.get(s)) is not None}
        return {s: sizes.get(s, 0) for s in touched if s in segments}


def _by_chunk(seqs: BitMap) -> Iterator[tuple[int, BitMap]]:
    """The seqs of each chunk they fall in (bitmaps: cut with bitmap operations, never
    rebuilt from arrays, which pyroaring does a value at a time)."""
    first, last = seqs.min() >> CHUNK_BITS, seqs.max() >> CHUNK_BITS
    if first == last:  # most often: a write touches one chunk of a segment
        yield first, seqs
        return
    for chunk in range(first, last + 1):
        part = seqs & _span(chunk)
        if part:
            yield chunk, part


@lru_cache(maxsize=1024)
def _span(chunk: int) -> BitMap:
    """Every seq of a chunk (kept: an import cuts each segment at the same few chunks)."""
    return BitMap(range(chunk << CHUNK_BITS, (chunk + 1) << CHUNK_BITS))


def _block_order(item: tuple[int, Change, Cause, BitMap]) -> tuple[int, bool, str]:
    """Blocks by segment, the exits first, then by cause (a ``StrEnum``: its value)."""
    seg_id, change, cause, _ = item
    return seg_id, change is Change.ENTERED, cause
