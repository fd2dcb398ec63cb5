"""Timing helpers: medians of warm runs, and the machine's memory bandwidth."""

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


def bandwidth_bytes_per_second(size_bytes: int = 512 * 2**20, threads: int = 1) -> float:
    """Read bandwidth: numpy sums over an array far larger than the caches, cut into
    ``threads`` parts summed at once (numpy sums with one core and lets go of the GIL
    while it does; the columnar scan shares its chunks among a pool of threads)."""
    array = np.ones(size_bytes // 8, dtype=np.float64)
    if threads <= 1:
        return array.nbytes / median_seconds(array.sum, repeat=9, warmup=2)
    parts = np.array_split(array, threads)
    with ThreadPoolExecutor(threads) as pool:
        seconds = median_seconds(lambda: sum(pool.map(np.sum, parts)), repeat=9, warmup=2)
    return array.nbytes / seconds
