"""Batches read a moment ago, shared by the webhooks that stand at the same place."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from sqlalchemy.engine import Engine

from segmentry.engine.delivery import feed
from segmentry.engine.delivery.feed import Filter
from segmentry.store import webhooks as store
from segmentry.store.database import read_transaction

Key = tuple[int, int, Filter, int]
"""Tenant, position, filter, and the last event id the read may take (the tick's head)."""


class RecentBatches:
    """Batches read a moment ago, by tenant, position, filter and head: the webhooks told
    of the same writes stand at the same position with the same filter and read (and
    serialise) the same batch. A read stops at the head the tick started with, so two
    webhooks at one position get the same batch even when they read it apart, and one
    that fell behind is level with the others again once it reaches that head. They
    ask at once, on a common tick: one reads while the others at its key wait for that
    read rather than repeat it. A kept batch stays true (the feed below a head never
    changes), so entries are dropped only to bound the memory."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._kept: dict[Key, feed.Batch] = {}
        self._reading: dict[Key, threading.Lock] = {}
        self._lock = threading.Lock()

    def get(self, key: Key) -> feed.Batch | None:
        with self._lock:
            return self._kept.get(key)

    def put(self, key: Key, batch: feed.Batch) -> None:
        with self._lock:
            if len(self._kept) >= self.size:
                self._kept.clear()
            self._kept[key] = batch

    def read_once(self, key: Key, read: Callable[[], feed.Batch]) -> feed.Batch:
        """The batch kept for ``key``, else ``read()``'s, read by one caller at a time."""
        batch = self.get(key)
        if batch is not None:
            return batch
        with self._lock:
            reading = self._reading.setdefault(key, threading.Lock())
        with reading:
            batch = self.get(key)  # read by the caller this one waited for
            if batch is None:
                batch = read()
                self.put(key, batch)
        with self._lock:
            self._reading.pop(key, None)
        return batch


class TickHeads:
    """Each tenant's last event id as the current tick found it: the bound of every read
    in the tick. It is read in a transaction of its own before the reads that use it,
    so every event up to it is in their snapshots."""

    def __init__(self, database: Engine, interval: float) -> None:
        self.database = database
        self.interval = interval
        self._heads: dict[int, tuple[int, int]] = {}  # tenant: (tick, head)
        self._lock = threading.Lock()

    def head(self, tenant_id: int) -> int:
        tick = int(time.monotonic() // self.interval)
        with self._lock:  # one read a tick, whoever asks first
            kept = self._heads.get(tenant_id)
            if kept is None or kept[0] != tick:
                with read_transaction(self.database) as conn:
                    kept = (tick, store.last_event_id(conn, tenant_id=tenant_id))
                self._heads[tenant_id] = kept
        return kept[1]
