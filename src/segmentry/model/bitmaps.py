"""Roaring bitmaps of rows (entity seqs) built from numpy arrays.

pyroaring reads an ``array.array`` in C but iterates any other sequence in
Python, and even from an array it adds the values one at a time; a batch write
builds a bitmap per segment of thousands of rows, so both matter.
"""

from __future__ import annotations

import array
import struct
from itertools import pairwise

import numpy as np
from pyroaring import BitMap


def bitmap_of(values: np.ndarray) -> BitMap:
    """A bitmap of seqs from a numpy array (in any order, repeats allowed)."""
    return BitMap(array.array("I", values.astype(np.uint32).tobytes()))


def array_of(seqs: BitMap) -> np.ndarray:
    """The seqs of a bitmap, ascending, as a read-only numpy view of its array."""
    return np.frombuffer(seqs.to_array(), dtype=np.uint32)


ROARING_COOKIE = 12346
"""Roaring's portable format without run containers (``SERIAL_COOKIE_NO_RUNCONTAINER``)."""
ARRAY_LIMIT = 4096
"""A container with more values than this is a bitset of 65,536 bits in that format."""
FEW = 64
"""Below this many values building the bitmap directly is as fast."""


def ascending_bitmap(values: np.ndarray) -> BitMap:
    """A bitmap of seqs that ascend strictly, built as roaring's portable serialisation
    (a header, then per 65,536 values the low 16 bits or a bitset) and read back in one
    call: pyroaring adds an array's values one at a time, several times slower."""
    count = len(values)
    if count < FEW:
        return bitmap_of(values)
    values = values.astype(np.uint32, copy=False)
    first, last = int(values[0]) >> 16, int(values[-1]) >> 16
    if first == last and count <= ARRAY_LIMIT:  # most often: one array container
        head = struct.pack("<IIHHI", ROARING_COOKIE, 1, first, count - 1, 16)
        return BitMap.deserialize(head + values.astype("<u2").tobytes())
    edges = np.searchsorted(values, np.arange(first + 1, last + 1, dtype=np.int64) << 16)
    bounds = [0, *edges.tolist(), count]
    low = values.astype("<u2")  # the low 16 bits
    keys, bodies = [], []
    for key, (start, stop) in zip(range(first, last + 1), pairwise(bounds), strict=True):
        if stop > start:
            keys.append(struct.pack("<HH", key, stop - start - 1))
            bodies.append(_container(low[start:stop]))
    offsets, at = [], 8 + 8 * len(keys)
    for body in bodies:
        offsets.append(struct.pack("<I", at))
        at += len(body)
    head = struct.pack("<II", ROARING_COOKIE, len(keys))
    return BitMap.deserialize(b"".join([head, *keys, *offsets, *bodies]))


def _container(low: np.ndarray) -> bytes:
    if len(low) <= ARRAY_LIMIT:
        return low.tobytes()
    bits = np.zeros(1 << 16, dtype=np.bool_)
    bits[low] = True
    return np.packbits(bits, bitorder="little").tobytes()
