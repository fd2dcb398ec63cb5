"""Compact encodings of member sets: roaring bitmaps of entity seqs.

A segment's members are stored in chunks of 4,096 consecutive seqs: one row
per (segment, chunk) holding a roaring bitmap of the members and, aligned
with them in ascending order, the moment each entered (little-endian int64).
A single write rewrites only the few small chunks it touches; a bulk import
writes about one row per segment per 4,096 entities instead of one per member.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from pyroaring import BitMap

CHUNK_BITS = 12
CHUNK_SIZE = 1 << CHUNK_BITS


def chunk_of(seq: int) -> int:
    return seq >> CHUNK_BITS


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
    """One chunk of a segment's members with their entry times, editable in memory."""

    def __init__(self, members: BitMap | None = None, since: np.ndarray | None = None) -> None:
        self.members = members if members is not None else BitMap()
        self.since = since if since is not None else np.empty(0, dtype=np.int64)

    @classmethod
    def decode(cls, members: bytes, since: bytes) -> Chunk:
        return cls(decode_members(members), decode_since(since).copy())

    def encode(self) -> tuple[bytes, bytes]:
        return encode_members(self.members), encode_since(self.since)

    def since_of(self, seq: int) -> int | None:
        if seq not in self.members:
            return None
        return int(self.since[self.members.rank(seq) - 1])

    def apply(self, entered: Iterable[int], exited: Iterable[int], at: int) -> None:
        """Add ``entered`` (entering at ``at``) and remove ``exited``."""
        keep = dict(zip(self.members, self.since.tolist(), strict=True))
        for seq in exited:
            keep.pop(seq, None)
        for seq in entered:
            keep.setdefault(seq, at)
        order = sorted(keep)
        self.members = BitMap(order)
        self.since = np.fromiter((keep[s] for s in order), dtype=np.int64, count=len(order))

    def __len__(self) -> int:
        return len(self.members)
