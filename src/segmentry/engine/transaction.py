"""One write transaction of one tenant: the connection, the state, and the net
membership changes it has made, written out just before commit."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime

from pyroaring import BitMap
from sqlalchemy.engine import Connection

from segmentry.engine.model import Cause, Change
from segmentry.engine.state import SegmentDef, TenantState
from segmentry.rules.temporal import EvalContext, to_micros
from segmentry.store import events as event_store
from segmentry.store import history as history_store
from segmentry.store import members as member_store
from segmentry.store import segments as segment_store
from segmentry.store import tenants as tenant_store
from segmentry.store.codec import Chunk, chunk_of
from segmentry.store.tenants import TenantRow


@dataclass(slots=True)
class Flips:
    """Net membership changes: ``seg_id -> seq -> (member now, cause)``.

    A pair that flips back within the transaction cancels out: consumers see
    only changes that last.
    """

    by_segment: dict[int, dict[int, tuple[bool, Cause]]] = field(default_factory=dict)
    segments: dict[int, SegmentDef] = field(default_factory=dict)

    def record(self, segment: SegmentDef, seq: int, member: bool, cause: Cause) -> None:
        entries = self.by_segment.setdefault(segment.seg_id, {})
        self.segments[segment.seg_id] = segment
        if seq in entries:
            del entries[seq]
        else:
            entries[seq] = (member, cause)


class Transaction:
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
        self.revision = state.revision + 1
        self.flips = Flips()
        self.counted: set[int] = set()
        self.dropped: set[int] = set()
        self.renames: list[tuple[str, SegmentDef, BitMap]] = []

    @property
    def ctx(self) -> EvalContext:
        return EvalContext(self.now, self.state.tz)

    def set_member(self, segment: SegmentDef, seq: int, member: bool, cause: Cause) -> bool:
        """Make ``seq`` a member or not; returns whether that changed anything."""
        members = self.state.members.setdefault(segment.seg_id, BitMap())
        if (seq in members) == member:
            return False
        if member:
            members.add(seq)
        else:
            members.discard(seq)
        self.state.mutations += 1
        self.flips.record(segment, seq, member, cause)
        return True

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
        for seq in target - current:
            self.set_member(segment, seq, True, cause)
        for seq in current - target:
            self.set_member(segment, seq, False, cause)
        self.counted.add(segment.seg_id)
        return changed

    # -- writing out -------------------------------------------------------------------

    def flush(self, *, bump: bool = True) -> None:
        """Write memberships, events, counts and history; bump the tenant's revision
        (other processes then reload their state) unless nothing they hold changed."""
        self._write_chunks()
        self._write_events()
        self._write_counts()
        if bump or self.flips.by_segment:
            tenant_store.bump_revision(self.conn, tenant_id=self.tenant_id)
        else:
            self.revision = self.state.revision

    def _write_chunks(self) -> None:
        edits: dict[tuple[int, int], tuple[list[int], list[int]]] = defaultdict(lambda: ([], []))
        for seg_id, entries in self.flips.by_segment.items():
            if seg_id in self.dropped:
                continue
            for seq, (member, _) in entries.items():
                edits[(seg_id, chunk_of(seq))][0 if member else 1].append(seq)
        if not edits:
            return
        existing = member_store.read_chunks(self.conn, tenant_id=self.tenant_id, keys=edits)
        chunks = {key: existing.get(key) or Chunk() for key in edits}
        for key, (entered, exited) in edits.items():
            chunks[key].apply(entered, exited, self.now_us)
        member_store.write_chunks(
            self.conn, tenant_id=self.tenant_id, chunks=chunks, existing=set(existing)
        )

    def _write_events(self) -> None:
        blocks = self._rename_blocks()
        groups: dict[tuple[int, Change, Cause], BitMap] = {}
        for seg_id, entries in self.flips.by_segment.items():
            for seq, (member, cause) in entries.items():
                change = Change.ENTERED if member else Change.EXITED
                groups.setdefault((seg_id, change, cause), BitMap()).add(seq)
        for (seg_id, change, cause), members in sorted(groups.items(), key=_block_order):
            segment = self.flips.segments[seg_id]
            blocks.append(
                event_store.Block(
                    0,
                    seg_id,
                    segment.code,
                    segment.kind.value,
                    change.value,
                    cause.value,
                    self.now_us,
                    members,
                )
            )
        total = sum(len(b.members) for b in blocks)
        if not total:
            return
        next_id = tenant_store.take_ids(
            self.conn, tenant_id=self.tenant_id, column="next_event_id", count=total
        )
        numbered = []
        for block in blocks:
            numbered.append(replace(block, first_id=next_id))
            next_id += len(block.members)
        event_store.append(self.conn, tenant_id=self.tenant_id, blocks=numbered)

    def _rename_blocks(self) -> list[event_store.Block]:
        blocks = []
        for old_code, segment, members in self.renames:
            for code, change in ((old_code, Change.EXITED), (segment.code, Change.ENTERED)):
                blocks.append(
                    event_store.Block(
                        0,
                        segment.seg_id,
                        code,
                        segment.kind.value,
                        change.value,
                        Cause.SEGMENT_CHANGED.value,
                        self.now_us,
                        members,
                    )
                )
        return blocks

    def _write_counts(self) -> None:
        touched = (self.counted | set(self.flips.by_segment)) - self.dropped
        counts = {
            s: len(self.state.members.get(s, BitMap())) for s in touched if s in self.state.segments
        }
        segment_store.set_counts(self.conn, tenant_id=self.tenant_id, counts=counts)
        history_store.record(self.conn, tenant_id=self.tenant_id, counts=counts, at=self.now_us)


def _block_order(item: tuple[tuple[int, Change, Cause], BitMap]) -> tuple[int, int, str]:
    (seg_id, change, cause), _ = item
    return seg_id, 0 if change is Change.EXITED else 1, cause.value
