"""One ASGI application for ``segmentry serve`` (the API at ``/v1``, the web page at
``/``) and a server that runs it in a background thread, for the demo's tests and
the browser and API tests."""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import TracebackType

import uvicorn
from fastapi import FastAPI
from uvicorn.protocols.http.h11_impl import H11Protocol

from segmentry.api.app import create_app
from segmentry.engine.residency import parse_size
from segmentry.engine.segmentry import Segmentry
from segmentry.store.database import DEFAULT_URL
from segmentry.web.app import create_web_app

DB_VARIABLE, BUDGET_VARIABLE = "SEGMENTRY_DB", "SEGMENTRY_MEMORY_BUDGET"
FACTORY = "segmentry.cli.server:app_from_environment"
"""What each worker process of ``serve --workers N`` imports and calls."""
HTTP = "segmentry.cli.server:NoDelayHttp"
"""The HTTP protocol each worker process speaks."""


class NoDelayHttp(H11Protocol):
    """uvicorn's HTTP/1.1 protocol with Nagle's algorithm off on every connection.

    A worker of ``serve --workers N`` listens on a socket its parent process made,
    which Python then no longer recognises as TCP, so it leaves Nagle's algorithm on:
    each answer, written in two parts, waited for the client's delayed acknowledgement
    (some 40 ms a request on keep-alive connections)."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in {socket.AF_INET, socket.AF_INET6}:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)


def build_app(segmentry: Segmentry) -> FastAPI:
    """The API's routes first; everything else falls through to the web page."""
    app = create_app(segmentry)
    app.mount("/", create_web_app(segmentry), name="web")
    return app


def app_from_environment() -> FastAPI:
    """The served application of one worker process of ``serve --workers N``: its own
    Segmentry over the database named by ``SEGMENTRY_DB`` (budget
    ``SEGMENTRY_MEMORY_BUDGET``), with its sweeper, closed when the worker stops.
    Workers share nothing but the database: each reloads a tenant another one
    changed, as separate processes always have."""
    budget = os.environ.get(BUDGET_VARIABLE)
    segmentry = Segmentry(
        os.environ.get(DB_VARIABLE, DEFAULT_URL),
        memory_budget=parse_size(budget) if budget else None,
    )
    app = build_app(segmentry)

    @asynccontextmanager
    async def running(_: object) -> AsyncIterator[None]:
        segmentry.start_scheduler()
        try:
            yield
        finally:
            segmentry.close()

    app.router.lifespan_context = running
    return app


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


class LiveServer:
    """uvicorn serving ``app`` on a free local port until the ``with`` block ends."""

    def __init__(self, app: FastAPI, host: str = "127.0.0.1", port: int | None = None) -> None:
        self.host = host
        self.port = port or free_port(host)
        config = uvicorn.Config(app, host=host, port=self.port, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="segmentry-server", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start on {self.url}")
            time.sleep(0.02)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
