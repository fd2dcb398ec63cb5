"""Reading the next part of a load while the last one is being converted.

A tenant's state loads in chunks: the database joins a chunk's records into
one text (``store.entities.records``) and Polars parses it. Both release the
interpreter while they work, so with a thread running the queries one chunk
ahead, the two overlap on a machine with a core to spare. The thread is the
only user of the connection until the iteration ends (it is joined before
:func:`ahead` returns, also when the consumer fails), so the connection is
never used by two threads at once.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import TypeVar

T = TypeVar("T")
_DONE = object()


@contextmanager
def ahead(items: Iterator[T]) -> Iterator[Iterator[T]]:
    """``items``, each produced by a thread while the consumer handles the one before."""
    handed: queue.Queue[object] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def produce() -> None:
        try:
            while not stop.is_set():
                item = next(items, _DONE)
                handed.put(item)
                if item is _DONE:
                    return
        except Exception as exc:  # noqa: BLE001 - handed to the consumer, raised there
            handed.put(exc)

    thread = threading.Thread(target=produce, name="segmentry-load-ahead", daemon=True)
    thread.start()

    def consume() -> Iterator[T]:
        while (item := handed.get()) is not _DONE:
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]

    try:
        yield consume()
    finally:
        stop.set()
        while thread.is_alive():  # let it finish the chunk it is reading, and leave
            with suppress(queue.Empty):
                handed.get(timeout=0.05)
        thread.join()
