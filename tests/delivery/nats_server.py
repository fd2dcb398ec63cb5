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
from pathlib import Path
from typing import Any

import nats
import nats.errors
import nats.js.errors
import pytest

from segmentry.cli.server import free_port
from tests.conftest import IN_CI


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

    return asyncio.run(read())


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

    return asyncio.run(count())
