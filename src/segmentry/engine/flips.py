"""The net membership changes of one transaction: per segment, who entered and who
left, by cause. Kept as bitmaps, so a batch records its memberships with a few set
operations, and a member that enters and leaves again within one transaction
produces no event."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from pyroaring import BitMap

from segmentry.engine.state import SegmentDef
from segmentry.engine.types import Cause, Change

ByCause = dict[Cause, BitMap]


@dataclass(slots=True)
class Flips:
    """Net membership changes: per segment, who entered and who left, by cause."""

    entered: dict[int, ByCause] = field(default_factory=dict)
    exited: dict[int, ByCause] = field(default_factory=dict)
    segments: dict[int, SegmentDef] = field(default_factory=dict)

    def record(self, segment: SegmentDef, seqs: BitMap, member: bool, cause: Cause) -> None:
        """``seqs`` became members (or stopped being); those that only return to where
        the transaction found them cancel out."""
        self.segments[segment.seg_id] = segment
        gain, lose = (self.entered, self.exited) if member else (self.exited, self.entered)
        returning = BitMap()
        for earlier in lose.get(segment.seg_id, {}).values():
            overlap = earlier & seqs
            if overlap:
                earlier.difference_update(overlap)
                returning |= overlap
        rest = seqs - returning if returning else seqs
        if rest:
            gain.setdefault(segment.seg_id, {}).setdefault(cause, BitMap()).update(rest)

    def record_one(self, segment: SegmentDef, seq: int, member: bool, cause: Cause) -> None:
        """:meth:`record` of one seq, without building a bitmap of it."""
        seg_id = segment.row.seg_id
        self.segments[seg_id] = segment
        gain, lose = (self.entered, self.exited) if member else (self.exited, self.entered)
        returning = False
        for earlier in lose.get(seg_id, {}).values():
            if seq in earlier:
                earlier.discard(seq)
                returning = True
        if not returning:
            gain.setdefault(seg_id, {}).setdefault(cause, BitMap()).add(seq)

    def changes(self) -> Iterator[tuple[int, Change, Cause, BitMap]]:
        for change, table in ((Change.EXITED, self.exited), (Change.ENTERED, self.entered)):
            for seg_id, by_cause in table.items():
                for cause, seqs in by_cause.items():
                    if seqs:
                        yield seg_id, change, cause, seqs

    def touched(self) -> set[int]:
        return {seg_id for seg_id, _, _, _ in self.changes()}
