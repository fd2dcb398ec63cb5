"""A background loop of its own: an asyncio event loop in a thread, started and
stopped from ordinary (synchronous) code. The webhook worker and the NATS
publisher are such loops."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable


def now_us() -> int:
    return time.time_ns() // 1_000


class Service:
    """A background loop; ``start`` runs it in a thread, ``stop`` ends it and waits."""

    name = "segmentry-service"

    def __init__(self) -> None:
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._ready = threading.Event()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()
        self._ready.wait(10)

    def stop(self, timeout: float = 15.0) -> None:
        if self._loop is not None and self._stopping is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        self._ready.set()
        await self.run(self._stopping)

    async def run(self, stopping: asyncio.Event) -> None:
        raise NotImplementedError


async def pause(stopping: asyncio.Event, seconds: float, wake: asyncio.Event | None = None) -> None:
    waits: list[Awaitable[object]] = [stopping.wait()]
    if wake is not None:
        waits.append(wake.wait())
    tasks = [asyncio.ensure_future(w) for w in waits]
    await asyncio.wait(tasks, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    for task in tasks:
        task.cancel()
