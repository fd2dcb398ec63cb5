"""Scanning a compiled rule over a table's rows, a chunk of rows at a time.

A compiled rule is a :data:`Mask`: given a range of rows it answers which pass,
reading only that range of each column it needs. The scan walks the table in
chunks small enough that a chunk's columns and the intermediate masks stay in
the core's cache, so every column is read from memory once and the
intermediates never are; the chunks are shared among :data:`THREADS` threads,
the caller's and the pool's (numpy lets go of the GIL while it compares, so
they run at once).
"""

from __future__ import annotations

import itertools
import operator
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import numpy as np
import polars as pl
from pyroaring import BitMap

from segmentry.match.columnar import ColumnarTable
from segmentry.model.bitmaps import ascending_bitmap

Mask = Callable[[int, int], np.ndarray]
"""Which rows of ``[start, stop)`` pass: a boolean array of ``stop - start`` values. It
may be a view of an array the rule holds (a buffer the mask writes each answer into, one
per thread), so callers never change it in place, and read it before they ask the same
mask again in the same thread."""

CHUNK = 1 << 16
"""Rows per chunk: a few columns of 65,536 values fit a core's cache."""
THREADS = max(1, min(pl.thread_pool_size(), os.cpu_count() or 1))
"""Threads a scan uses, the caller's among them (as many as Polars would)."""

T = TypeVar("T")
_pools: dict[int, ThreadPoolExecutor] = {}
"""The scan threads by process id: a forked worker makes its own."""
_pool_lock = threading.Lock()


class Scratch:
    """A boolean buffer per thread that a mask writes its answers into, so a chunk's
    intermediate masks reuse memory already in the core's cache instead of new arrays."""

    def __init__(self) -> None:
        self._local = threading.local()

    def get(self, size: int) -> np.ndarray:
        """The calling thread's buffer, ``size`` values long."""
        buffer: np.ndarray | None = getattr(self._local, "buffer", None)
        if buffer is None or len(buffer) < size:
            buffer = self._local.buffer = np.empty(max(size, CHUNK), dtype=np.bool_)
        return buffer[:size]


def count(table: ColumnarTable, test: Mask) -> int:
    """How many live rows pass."""
    live = _live(table, test)
    return sum(
        _each_chunk(table.size, lambda start, stop: int(np.count_nonzero(live(start, stop))))
    )


def select(table: ColumnarTable, test: Mask) -> BitMap:
    """The live rows that pass."""
    live = _live(table, test)

    def chunk(start: int, stop: int) -> np.ndarray:
        found = np.flatnonzero(live(start, stop)).astype(np.uint32)
        found += start
        return found

    parts = _each_chunk(table.size, chunk)
    return ascending_bitmap(parts[0] if len(parts) == 1 else np.concatenate(parts))


def _live(table: ColumnarTable, test: Mask) -> Mask:
    """The rows that pass and are alive."""
    alive, scratch = table.alive, Scratch()
    return lambda start, stop: np.logical_and(
        test(start, stop), alive[start:stop], out=scratch.get(stop - start)
    )


def first_rows(table: ColumnarTable, test: Mask, after: int, limit: int) -> list[int]:
    """The first ``limit`` live rows above ``after`` that pass, ascending: chunk after
    chunk, stopping once the page is full."""
    found: list[int] = []
    live = _live(table, test)
    start = max(0, after + 1)
    while start < table.size and len(found) < limit:
        stop = min(start + CHUNK, table.size)
        hits = np.flatnonzero(live(start, stop))
        found.extend((hits[: limit - len(found)] + start).tolist())
        start = stop
    return found


def sliced(mask: np.ndarray) -> Mask:
    """A mask over all rows, computed once, read a range at a time."""
    return lambda start, stop: mask[start:stop]


def nothing(start: int, stop: int) -> np.ndarray:
    return np.zeros(stop - start, dtype=np.bool_)


def every(*tests: Mask) -> Mask:
    """Rows that pass every test (a new array: the first test's may be a view)."""
    if len(tests) == 1:
        return tests[0]
    return _joined(np.logical_and, tests)


def either(*tests: Mask) -> Mask:
    """Rows that pass any of the tests."""
    if len(tests) == 1:
        return tests[0]
    return _joined(np.logical_or, tests)


def _joined(join: np.ufunc, tests: tuple[Mask, ...]) -> Mask:
    """The tests' masks joined by ``join`` into this mask's buffer."""
    first, *rest = tests
    scratch = Scratch()

    def joined(start: int, stop: int) -> np.ndarray:
        out: np.ndarray = join(
            first(start, stop), rest[0](start, stop), out=scratch.get(stop - start)
        )
        for test in rest[1:]:
            join(out, test(start, stop), out=out)
        return out

    return joined


def negated(test: Mask) -> Mask:
    scratch = Scratch()
    return lambda start, stop: np.logical_not(test(start, stop), out=scratch.get(stop - start))


UFUNCS: dict[Callable[[Any, Any], Any], np.ufunc] = {
    operator.lt: np.less,
    operator.le: np.less_equal,
    operator.gt: np.greater,
    operator.ge: np.greater_equal,
    operator.eq: np.equal,
    operator.ne: np.not_equal,
}
"""The comparison operators as numpy's, which write into a given buffer."""


def compared(values: np.ndarray, op: Callable[[Any, Any], Any], bound: Any) -> Mask:
    """Rows whose value stands in ``op`` to ``bound``."""
    compare, scratch = UFUNCS[op], Scratch()
    return lambda start, stop: compare(values[start:stop], bound, out=scratch.get(stop - start))


def _each_chunk(size: int, work: Callable[[int, int], T]) -> list[T]:
    """``work`` over every chunk of rows below ``size``, results in row order. The
    calling thread takes chunks one after another and the pool's threads join in
    taking the next untaken one, so a thread the machine leaves waiting does fewer
    chunks rather than holding the scan up; a helper that has not started by the end
    is called off."""
    spans = [(start, min(start + CHUNK, size)) for start in range(0, size, CHUNK)] or [(0, 0)]
    if THREADS < 2 or len(spans) < 2:
        return [work(start, stop) for start, stop in spans]
    done: dict[int, T] = {}
    taken = itertools.count()  # next() on it is atomic under the GIL

    def take() -> None:
        while (at := next(taken)) < len(spans):
            done[at] = work(*spans[at])

    helpers = [_executor().submit(take) for _ in range(THREADS - 1)]
    take()
    for helper in helpers:
        if not helper.cancel():
            helper.result()
    return [done[at] for at in range(len(spans))]


def _executor() -> ThreadPoolExecutor:
    """The scan threads of this process."""
    with _pool_lock:
        pid = os.getpid()
        if pid not in _pools:
            _pools[pid] = ThreadPoolExecutor(max(1, THREADS - 1), thread_name_prefix="scan")
        return _pools[pid]
