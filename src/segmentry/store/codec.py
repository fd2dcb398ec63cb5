"""Compact encodings of member sets: roaring bitmaps of entity seqs.

A segment's members are stored in chunks of 4,096 consecutive seqs: one row
per (segment, chunk) holding a roaring bitmap of the members and, aligned
with them in ascending order, the moment each entered (little-endian int64).
A single write rewrites only the few small chunks it touches; a bulk import
writes about one row per segment per 4,096 entities instead of one per member.
"""

from __future__ import annotations

import array

import numpy as np
from pyroaring import BitMap

CHUNK_BITS = 12
CHUNK_SIZE = 1 << CHUNK_BITS


def chunk_of(seq: int) -> int:
    return seq >> CHUNK_BITS


def bitmap_of(values: np.ndarray) -> BitMap:
    """A bitmap of seqs from a numpy array. pyroaring reads an ``array.array`` in C but
    iterates anything else in Python: several times faster for thousands of seqs."""
    return BitMap(array.array("I", values.astype(np.uint32).tobytes()))


def encode_members(members: BitMap) -> bytes:
    data: bytes = members.serialize()
    return data


def decode_members(data: bytes) -> BitMap:
    return BitMap.deserialize(data)


def encode_since(since: np.ndarray) -> bytes:
    return since.astype("<i8").tobytes()


def decode_since(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype="<i8")


class Chunk:
    """One chunk of a segment's members (sorted) with their entry times, editable in memory."""

    def __init__(self, members: np.ndarray | None = None, since: np.ndarray | None = None) -> None:
        self.members = members if members is not None else np.empty(0, dtype=np.uint32)
        self.since = since if since is not None else np.empty(0, dtype=np.int64)

    @classmethod
    def decode(cls, members: bytes, since: bytes) -> Chunk:
        bitmap = decode_members(members)
        return cls(
            np.frombuffer(bitmap.to_array(), dtype=np.uint32).copy(), decode_since(since).copy()
        )

    def encode(self) -> tuple[bytes, bytes]:
        return encode_members(bitmap_of(self.members)), encode_since(self.since)

    def since_of(self, seq: int) -> int | None:
        at = int(np.searchsorted(self.members, seq))
        if at < len(self.members) and self.members[at] == seq:
            return int(self.since[at])
        return None

    def apply(self, entered: np.ndarray, exited: np.ndarray, at: int) -> None:
        """Remove ``exited``, add ``entered`` (entering at ``at``); both are seq arrays."""
        if len(exited):
            keep = ~np.isin(self.members, exited)
            self.members, self.since = self.members[keep], self.since[keep]
        entered = entered.astype(np.uint32)
        if not len(entered):
            return
        if not len(self.members) or entered.min() > self.members[-1]:  # appending (imports)
            fresh = np.unique(entered)
            self.members = np.concatenate([self.members, fresh])
            self.since = np.concatenate([self.since, np.full(len(fresh), at, dtype=np.int64)])
            return
        fresh = np.setdiff1d(entered, self.members)
        if len(fresh):
            members = np.concatenate([self.members, fresh])
            since = np.concatenate([self.since, np.full(len(fresh), at, dtype=np.int64)])
            order = np.argsort(members, kind="stable")
            self.members, self.since = members[order], since[order]

    def __len__(self) -> int:
        return len(self.members)


Stored = tuple[bytes, bytes]
"""A chunk as stored: the members bitmap and their entry times."""


def edit_chunk(
    old: Stored | None, entered: np.ndarray, exited: np.ndarray, at: int
) -> Stored | None:
    """A stored chunk after seqs ``exited`` left and ``entered`` entered at ``at``;
    ``None`` when it is left empty. The common cases of a bulk write work on the stored
    bytes: a new chunk (every member entered now), and members appended above the old
    ones (their times follow the old times). Anything else is edited as arrays."""
    if len(entered) and not len(exited):
        fresh = entered
        if old is None:
            members = bitmap_of(fresh)
            return encode_members(members), encode_since(np.full(len(fresh), at))
        before = decode_members(old[0])
        if not before or int(fresh[0]) > before.max():
            members = before | bitmap_of(fresh)
            return encode_members(members), old[1] + encode_since(np.full(len(fresh), at))
    chunk = Chunk.decode(*old) if old is not None else Chunk()
    chunk.apply(entered, exited, at)
    return chunk.encode() if len(chunk) else None
