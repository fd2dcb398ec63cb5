"""Compact encodings of member sets: roaring bitmaps of entity seqs.

A segment's members are stored in chunks of 4,096 consecutive seqs: one row
per (segment, chunk) holding a roaring bitmap of the members and, aligned
with them in ascending order, the moment each entered (little-endian int64).
A single write rewrites only the few small chunks it touches; a bulk import
writes about one row per segment per 4,096 entities instead of one per member.
Entry times are stored as runs of equal times (members who entered in one
write share one) or as plain times, whichever is shorter when a chunk is
encoded; appending members to a chunk of runs adds or extends a run.
"""

from __future__ import annotations

import struct

import numpy as np
from pyroaring import BitMap

from segmentry.model.bitmaps import array_of, bitmap_of

CHUNK_BITS = 12
CHUNK_SIZE = 1 << CHUNK_BITS


def chunk_of(seq: int) -> int:
    return seq >> CHUNK_BITS


def encode_members(members: BitMap) -> bytes:
    data: bytes = members.serialize()
    return data


def decode_members(data: bytes) -> BitMap:
    return BitMap.deserialize(data)


RUNS = b"R"
"""Marks entry times stored as runs. Plain times are 8 bytes each, so their length is a
multiple of 8; runs are this byte and 16 bytes per run: the two never look alike."""
RUN = np.dtype([("count", "<i8"), ("at", "<i8")])


def encode_since(since: np.ndarray) -> bytes:
    """Entry times as stored: as runs of equal times (``count``, ``at``) when shorter,
    as they are after a bulk write, where thousands enter at one moment."""
    since = since.astype("<i8", copy=False)
    if not len(since):
        return b""
    starts = np.flatnonzero(np.concatenate([[True], since[1:] != since[:-1]]))
    if 1 + RUN.itemsize * len(starts) >= since.nbytes:
        return since.tobytes()
    runs = np.empty(len(starts), dtype=RUN)
    runs["count"] = np.diff(np.append(starts, len(since)))
    runs["at"] = since[starts]
    return RUNS + runs.tobytes()


def one_run(count: int, at: int) -> bytes:
    """Entry times of ``count`` members who all entered at ``at``, as stored."""
    if count < 3:  # shorter as plain times
        return struct.pack(f"<{count}q", *[at] * count)
    return RUNS + struct.pack("<qq", count, at)


def run(count: int, at: int) -> bytes:
    """One run of entry times, as appended to times stored as runs."""
    return struct.pack("<qq", count, at)


def plain(count: int, at: int) -> bytes:
    """``count`` entry times at ``at``, as appended to times stored plain."""
    return np.full(count, at, dtype="<i8").tobytes()


def decode_since(data: bytes) -> np.ndarray:
    if len(data) % 8 != 1:
        return np.frombuffer(data, dtype="<i8")
    runs = np.frombuffer(data, dtype=RUN, offset=1)
    return np.repeat(runs["at"], runs["count"])


def entered_at(members: bytes, since: bytes, seq: int) -> int | None:
    """When ``seq`` entered, from a chunk as stored; ``None`` if it is not a member.
    Reads the one entry time it needs (a member check asks for one, often)."""
    bitmap = decode_members(members)
    if seq not in bitmap:
        return None
    rank = bitmap.rank(seq) - 1  # the member's place among the chunk's members
    if len(since) % 8 != 1:
        return int(struct.unpack_from("<q", since, 8 * rank)[0])
    runs = np.frombuffer(since, dtype=RUN, offset=1)
    run = int(np.searchsorted(np.cumsum(runs["count"]), rank, side="right"))
    return int(runs["at"][run])


def append_since(data: bytes, count: int, at: int) -> bytes:
    """Stored entry times with ``count`` more, all at ``at``, after the others. Runs are
    extended in place, as bytes: an import appends to thousands of chunks."""
    if not data:
        return one_run(count, at)
    if len(data) % 8 != 1:
        return encode_since(np.concatenate([decode_since(data), np.full(count, at)]))
    before, last_at = struct.unpack_from("<qq", data, len(data) - RUN.itemsize)
    if last_at == at:
        return data[: -RUN.itemsize] + struct.pack("<qq", before + count, at)
    return data + struct.pack("<qq", count, at)


class Chunk:
    """One chunk of a segment's members (sorted) with their entry times, editable in memory."""

    def __init__(self, members: np.ndarray | None = None, since: np.ndarray | None = None) -> None:
        self.members = members if members is not None else np.empty(0, dtype=np.uint32)
        self.since = since if since is not None else np.empty(0, dtype=np.int64)

    @classmethod
    def decode(cls, members: bytes, since: bytes) -> Chunk:
        bitmap = decode_members(members)
        return cls(array_of(bitmap).copy(), decode_since(since).copy())

    def encode(self) -> tuple[bytes, bytes]:
        return encode_members(bitmap_of(self.members)), encode_since(self.since)

    def since_of(self, seq: int) -> int | None:
        at = int(np.searchsorted(self.members, seq))
        if at < len(self.members) and self.members[at] == seq:
            return int(self.since[at])
        return None

    def apply(self, entered: np.ndarray, exited: np.ndarray, at: int) -> None:
        """Remove ``exited``, add ``entered`` (entering at ``at``); both are seq arrays.
        Members are found by binary search in the sorted members and the new ones
        inserted in place (sorting them all again took most of a batch's chunk edits)."""
        if len(exited):
            place, held = _found(self.members, exited.astype(np.uint32))
            if held.any():
                keep = np.ones(len(self.members), dtype=np.bool_)
                keep[place[held]] = False
                self.members, self.since = self.members[keep], self.since[keep]
        if not len(entered):
            return
        entered = np.unique(entered.astype(np.uint32))
        if not len(self.members) or entered[0] > self.members[-1]:  # appending (imports)
            self.members = np.concatenate([self.members, entered])
            self.since = np.concatenate([self.since, np.full(len(entered), at, dtype=np.int64)])
            return
        place, held = _found(self.members, entered)
        fresh = ~held
        if fresh.any():
            self.members = np.insert(self.members, place[fresh], entered[fresh])
            self.since = np.insert(self.since, place[fresh], at)

    def settle(self, touched: np.ndarray, entered: np.ndarray, since: np.ndarray) -> None:
        """Take ``touched`` seqs out, then put ``entered`` (a subset) back with their own
        entry times ``since`` (the member log's rows, folded at once)."""
        keep = ~np.isin(self.members, touched)
        members = np.concatenate([self.members[keep], entered.astype(np.uint32)])
        times = np.concatenate([self.since[keep], since.astype(np.int64)])
        order = np.argsort(members, kind="stable")
        self.members, self.since = members[order], times[order]

    def __len__(self) -> int:
        return len(self.members)


def _found(members: np.ndarray, seqs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each seq is, or would go, in the sorted ``members``, and whether it is there."""
    place = np.searchsorted(members, seqs)
    held = place < len(members)
    held[held] = members[place[held]] == seqs[held]
    return place, held


Stored = tuple[bytes, bytes]
"""A chunk as stored: the members bitmap and their entry times."""


def edit_chunk(old: Stored | None, entered: BitMap, exited: BitMap, at: int) -> Stored | None:
    """A stored chunk after seqs ``exited`` left and ``entered`` entered at ``at``;
    ``None`` when it is left empty. The common cases of a bulk write work on the stored
    bytes: a new chunk (every member entered now), and members appended above the old
    ones (their times follow the old times). Anything else is edited as arrays."""
    if entered and not exited:
        if old is None:
            return encode_members(entered), one_run(len(entered), at)
        before = decode_members(old[0])
        if not before or entered.min() > before.max():
            return encode_members(before | entered), append_since(old[1], len(entered), at)
    if old is not None and len(entered) + len(exited) == 1:
        return _edit_one(old, entered.min() if entered else exited.min(), bool(entered), at)
    if old is not None and not entered.intersect(exited):
        return _edit_many(old, entered, exited, at)
    chunk = Chunk.decode(*old) if old is not None else Chunk()
    chunk.apply(array_of(entered), array_of(exited), at)
    return chunk.encode() if len(chunk) else None


def _edit_many(old: Stored, entered: BitMap, exited: BitMap, at: int) -> Stored | None:
    """:func:`edit_chunk` for several seqs entering and leaving (none both), as a batch
    of orders makes in thousands of chunks: the members are set with bitmap operations,
    and each one's time is its old one where it was a member, else ``at``, all in a few
    array operations (the array edits of :class:`Chunk` cost several times as much)."""
    before = decode_members(old[0])
    after = (before - exited) | entered
    if not after:
        return None
    if not before:
        return encode_members(after), one_run(len(after), at)
    seqs, held = array_of(after), array_of(before)
    place = np.minimum(np.searchsorted(held, seqs), len(held) - 1)
    since = np.where(held[place] == seqs, decode_since(old[1])[place], at)
    return encode_members(after), encode_since(since)


def _edit_one(old: Stored, seq: int, entering: bool, at: int) -> Stored | None:
    """:func:`edit_chunk` for one seq entering or leaving, as a single-entity write
    makes: its place is the bitmap's rank, so nothing is searched or sorted, and its
    entry time goes in or out of the stored bytes (decoding the times, inserting into
    the array and encoding them again took most of a write's chunk edits)."""
    members = decode_members(old[0])
    if (seq in members) == entering:
        return old
    if entering:
        members.add(seq)
        since = _time_added(old[1], members.rank(seq) - 1, len(members), at)
    else:
        since = _time_removed(old[1], members.rank(seq) - 1)
        members.discard(seq)
    return (encode_members(members), since) if members else None


def _time_added(data: bytes, place: int, count: int, at: int) -> bytes:
    """Stored entry times with ``at`` at ``place``, ``count`` times in all."""
    if len(data) % 8 != 1:
        return data[: 8 * place] + struct.pack("<q", at) + data[8 * place :]
    runs = np.frombuffer(data, dtype=RUN, offset=1)
    ends = np.cumsum(runs["count"])
    after = int(np.searchsorted(ends, place, side="right"))  # the run of the time now there
    before = int(np.searchsorted(ends, place - 1, side="right"))  # the run of the one before
    if place > 0 and runs["at"][before] == at:
        return _run_set(data, before, int(runs["count"][before]) + 1, at)
    if after < len(runs) and runs["at"][after] == at:
        return _run_set(data, after, int(runs["count"][after]) + 1, at)
    added = struct.pack("<qq", 1, at)
    if place == 0 or before != after:  # between two runs (or at either end)
        data = data[: 1 + RUN.itemsize * after] + added + data[1 + RUN.itemsize * after :]
    else:  # inside a run: split it around the new time
        start, total, moment = (
            int(ends[after] - runs["count"][after]),
            int(runs["count"][after]),
            int(runs["at"][after]),
        )
        parts = (
            struct.pack("<qq", place - start, moment)
            + added
            + struct.pack("<qq", start + total - place, moment)
        )
        data = data[: 1 + RUN.itemsize * after] + parts + data[1 + RUN.itemsize * (after + 1) :]
    if len(data) >= 8 * count:  # plain times are shorter now
        return decode_since(data).astype("<i8").tobytes()
    return data


def _time_removed(data: bytes, place: int) -> bytes:
    """Stored entry times without the one at ``place``."""
    if len(data) % 8 != 1:
        return data[: 8 * place] + data[8 * place + 8 :]
    runs = np.frombuffer(data, dtype=RUN, offset=1)
    run = int(np.searchsorted(np.cumsum(runs["count"]), place, side="right"))
    left = int(runs["count"][run]) - 1
    if left:
        return _run_set(data, run, left, int(runs["at"][run]))
    if 0 < run < len(runs) - 1 and runs["at"][run - 1] == runs["at"][run + 1]:  # neighbours join
        joined = struct.pack(
            "<qq", int(runs["count"][run - 1] + runs["count"][run + 1]), int(runs["at"][run - 1])
        )
        return data[: 1 + RUN.itemsize * (run - 1)] + joined + data[1 + RUN.itemsize * (run + 2) :]
    return data[: 1 + RUN.itemsize * run] + data[1 + RUN.itemsize * (run + 1) :]


def _run_set(data: bytes, run: int, count: int, at: int) -> bytes:
    offset = 1 + RUN.itemsize * run
    return data[:offset] + struct.pack("<qq", count, at) + data[offset + RUN.itemsize :]
