"""A real nats-server with JetStream on a free port and its own storage, for the tests
that stop it or must not share the machine's server."""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import nats
import nats.errors
import nats.js.errors
import pytest

from segmentry.cli.server import free_port
from tests.conftest import IN_CI

T = TypeVar("T")


def binary() -> str:
    found = shutil.which("nats-server") or (
        "/usr/sbin/nats-server" if os.access("/usr/sbin/nats-server", os.X_OK) else None
    )
    if found is None:
        message = "nats-server is not installed (make installs Debian's nats-server as root)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return found


class NatsServer:
    def __init__(self, store: Path) -> None:
        self.binary = binary()
        self.port = free_port()
        self.store = store
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> NatsServer:
        self.process = subprocess.Popen(
            [self.binary, "-js", "-a", "127.0.0.1", "-p", str(self.port), "-sd", str(self.store)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
            else:
                return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None


def read_stream(url: str, stream: str, subjects: str = ">") -> list[Any]:
    """Every message of the stream, read with a durable pull consumer."""

    async def read() -> list[Any]:
        client = await nats.connect(url)
        try:
            js = client.jetstream()
            durable = "reader-" + secrets.token_hex(4)
            sub = await js.pull_subscribe(subjects, durable=durable, stream=stream)
            found: list[Any] = []
            while True:
                try:
                    batch = await sub.fetch(500, timeout=1)
                except TimeoutError:  # nats raises asyncio.TimeoutError or its own subclass
                    return found
                for msg in batch:
                    await msg.ack()
                    found.append(msg)
        finally:
            await client.close()

    return in_own_loop(read)


def stream_count(url: str, stream: str) -> int:
    async def count() -> int:
        client = await nats.connect(url)
        try:
            try:
                info = await client.jetstream().stream_info(stream)
            except nats.js.errors.NotFoundError:
                return 0
            return int(info.state.messages)
        finally:
            await client.close()

    return in_own_loop(count)


def in_own_loop(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """``make()`` run to its end on an event loop of its own thread: a test worker's main
    thread may already run one (Playwright's sync API keeps a loop running there once a
    browser test has run in the same worker), where ``asyncio.run`` refuses to start."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(make())).result()
