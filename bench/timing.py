"""Timing helpers: medians of warm runs, alone or in turns, and a read at the memory
bus's pace."""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from typing import Any

import numpy as np

from segmentry.engine import entities


def median_seconds(run: Callable[[], Any], *, repeat: int = 7, warmup: int = 2) -> float:
    """The median wall time of ``repeat`` runs after ``warmup`` untimed ones."""
    for _ in range(warmup):
        run()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def medians_in_turns(
    runs: list[Callable[[], Any]], *, repeat: int = 7, warmup: int = 2
) -> list[float]:
    """The median wall time of each of ``runs`` over ``repeat`` turns in which each runs
    once, after ``warmup`` untimed turns: a way and its peer measured side by side, so a
    minute when the machine is busy weighs on both alike."""
    for _ in range(warmup):
        for run in runs:
            run()
    times: list[list[float]] = [[] for _ in runs]
    for _ in range(repeat):
        for run, taken in zip(runs, times, strict=True):
            start = time.perf_counter()
            run()
            taken.append(time.perf_counter() - start)
    return [statistics.median(taken) for taken in times]


def bus_read(size_bytes: int, pool: ThreadPoolExecutor, threads: int) -> Callable[[], float]:
    """A read of ``size_bytes`` from memory at the bus's pace: numpy sums over an array
    far larger than the caches, cut into ``threads`` parts summed at once on ``pool``
    (numpy sums with one core and lets go of the GIL while it does; the columnar scan
    shares its chunks among a pool of threads as large)."""
    parts = np.array_split(np.ones(max(1, size_bytes // 8), dtype=np.float64), threads)
    return lambda: float(sum(pool.map(np.sum, parts)))


def collector_paused() -> AbstractContextManager[None]:
    """No cyclic garbage collection while timing, as ``timeit`` does: a full collection
    (milliseconds over the rules and predicates held) would be charged to whichever
    way it happened to fall in, and a mean over single events keeps it."""
    gc.collect()
    return entities.collector_paused()


def once(run: Callable[[], Any]) -> tuple[float, Any]:
    """Seconds taken by one call, and what it returned."""
    start = time.perf_counter()
    result = run()
    return time.perf_counter() - start, result
