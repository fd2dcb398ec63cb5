"""Scanning a compiled rule over a table's rows, a chunk of rows at a time.

A compiled rule is a :data:`Mask`: given a range of rows it answers which pass,
reading only that range of each column it needs. The scan walks the table in
chunks small enough that a chunk's intermediate masks stay in the core's cache,
so every column is read from memory once, streaming, and the intermediates
never are; an ``and`` or ``or`` of comparisons writes them into two buffers
however many comparisons it joins. The chunks are shared among :data:`THREADS`
threads, the caller's and the pool's (numpy lets go of the GIL while it
compares, so they run at once).
"""

from __future__ import annotations

import itertools
import operator
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
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

CHUNK = 1 << 18
"""Rows per chunk of a count or a selection: the two masks of 262,144 flags a chunk's
``and`` of comparisons writes fit a core's cache (columns need not: each is read once,
streaming). Smaller chunks cost more than their overhead in Python calls: every numpy
call hands the GIL from thread to thread, and the handoffs add up."""
PAGE_CHUNK = 1 << 16
"""Rows per chunk of a listing's page, which stops once full: a first page reads one."""
THREADS = max(1, min(pl.thread_pool_size(), os.cpu_count() or 1))
"""Threads a scan uses, the caller's among them (as many as Polars would)."""

T = TypeVar("T")
_pools: dict[int, ThreadPoolExecutor] = {}
"""The scan threads by process id: a forked worker makes its own."""
_pool_lock = threading.Lock()


class Scratch:
    """Boolean buffers per thread that a mask writes its answers into, so a chunk's
    intermediate masks reuse memory already in the core's cache instead of new arrays.
    They are kept by thread id, not in a ``threading.local`` (dearer to make,
    and a rule makes several per query); a thread's id is only reused once it has ended."""

    def __init__(self) -> None:
        self._buffers: dict[tuple[int, int], np.ndarray] = {}

    def get(self, size: int, slot: int = 0) -> np.ndarray:
        """The calling thread's buffer ``slot``, ``size`` values long."""
        key = (threading.get_ident(), slot)
        buffer = self._buffers.get(key)
        if buffer is None or len(buffer) < size:
            buffer = self._buffers[key] = np.empty(size, dtype=np.bool_)
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
    """The rows that pass and are alive: the live flags one more part of the rule's
    ``and`` (into its buffer), not an ``and`` of their own."""
    return every(test, sliced(table.alive))


def first_rows(table: ColumnarTable, test: Mask, after: int, limit: int) -> list[int]:
    """The first ``limit`` live rows above ``after`` that pass, ascending: chunk after
    chunk, stopping once the page is full."""
    found: list[int] = []
    live = _live(table, test)
    start = max(0, after + 1)
    while start < table.size and len(found) < limit:
        stop = min(start + PAGE_CHUNK, table.size)
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
    return _joined(np.logical_and, tests)


def either(*tests: Mask) -> Mask:
    """Rows that pass any of the tests."""
    return _joined(np.logical_or, tests)


def _joined(join: np.ufunc, tests: tuple[Mask, ...]) -> Mask:
    """The tests joined by ``join``: a join among them is flattened into this one, and
    comparisons are put first, so they write into the join's buffers."""
    flat = [t.tests if isinstance(t, Joined) and t.join is join else (t,) for t in tests]
    parts = sorted(itertools.chain.from_iterable(flat), key=lambda t: not isinstance(t, Compared))
    return parts[0] if len(parts) == 1 else Joined(join, tuple(parts))


@dataclass(frozen=True, slots=True, eq=False)
class Compared:
    """Rows whose value stands in ``compare`` to ``bound``, written into this mask's
    buffer or into one it is given (:meth:`into`): a join of comparisons needs no
    buffer for each."""

    values: np.ndarray
    compare: np.ufunc
    bound: Any
    scratch: Scratch = field(default_factory=Scratch)

    def __call__(self, start: int, stop: int) -> np.ndarray:
        return self.into(start, stop, self.scratch.get(stop - start))

    def into(self, start: int, stop: int, out: np.ndarray) -> np.ndarray:
        answer: np.ndarray = self.compare(self.values[start:stop], self.bound, out=out)
        return answer


@dataclass(frozen=True, slots=True, eq=False)
class Joined:
    """Two or more tests joined by ``join`` (``and``, ``or``) into this mask's buffer; a
    comparison writes straight into it, or into a second buffer (the spare) joined in
    after, so a chunk's whole join touches two buffers however many tests it has."""

    join: np.ufunc
    tests: tuple[Mask, ...]
    scratch: Scratch = field(default_factory=Scratch)

    def __call__(self, start: int, stop: int) -> np.ndarray:
        join, (first, second, *rest) = self.join, self.tests
        out, spare = self.scratch.get(stop - start), self.scratch.get(stop - start, 1)
        if isinstance(first, Compared):
            first.into(start, stop, out)
            join(out, _answer(second, start, stop, spare), out=out)
        else:  # no comparison among the tests: their answers are their own buffers
            join(first(start, stop), second(start, stop), out=out)
        for test in rest:
            join(out, _answer(test, start, stop, spare), out=out)
        return out


def _answer(test: Mask, start: int, stop: int, spare: np.ndarray) -> np.ndarray:
    """A test's answer: a comparison's written into ``spare``."""
    return test.into(start, stop, spare) if isinstance(test, Compared) else test(start, stop)


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
    return Compared(values, UFUNCS[op], bound)


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
