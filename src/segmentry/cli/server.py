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
from typing import Any

import uvicorn
from fastapi import FastAPI

from segmentry.api.app import create_app
from segmentry.cli import delivery_process
from segmentry.cli.delivery_process import DeliveryMode
from segmentry.cli.http_head import server_config
from segmentry.engine.residency import parse_size
from segmentry.engine.segmentry import Segmentry
from segmentry.store.database import DEFAULT_URL
from segmentry.web.app import create_web_app

DB_VARIABLE, BUDGET_VARIABLE = "SEGMENTRY_DB", "SEGMENTRY_MEMORY_BUDGET"
PRIVATE_VARIABLE, NATS_VARIABLE = "SEGMENTRY_ALLOW_PRIVATE_WEBHOOKS", "SEGMENTRY_NATS"
DELIVERY_VARIABLE = "SEGMENTRY_WORKER_DELIVERY"
"""How each worker process delivers: ``thread`` (the default), or ``none`` when
``serve --workers N`` runs one delivery process for them all."""
FACTORY = "segmentry.cli.server:app_from_environment"
"""What each worker process of ``serve --workers N`` imports and calls."""


def build_app(segmentry: Segmentry, *, allow_private_webhooks: bool = False) -> FastAPI:
    """The API's routes first; everything else falls through to the web page."""
    app = create_app(segmentry, allow_private_webhooks=allow_private_webhooks)
    web = create_web_app(segmentry)
    web.state.allow_private_webhooks = allow_private_webhooks
    app.mount("/", web, name="web")
    return app


def app_from_environment() -> FastAPI:
    """The served application of one worker process of ``serve --workers N``: its own
    Segmentry over the database named by ``SEGMENTRY_DB`` (budget
    ``SEGMENTRY_MEMORY_BUDGET``), with its sweeper and, unless ``SEGMENTRY_WORKER_DELIVERY``
    is ``none``, delivery threads, closed when the worker stops. Workers share nothing
    but the database: each reloads a tenant another one changed, as separate processes
    always have, and webhooks are leased per webhook."""
    budget = os.environ.get(BUDGET_VARIABLE)
    segmentry = Segmentry(
        os.environ.get(DB_VARIABLE, DEFAULT_URL),
        memory_budget=parse_size(budget) if budget else None,
    )
    private = os.environ.get(PRIVATE_VARIABLE) == "1"
    app = build_app(segmentry, allow_private_webhooks=private)

    @asynccontextmanager
    async def lifespan(_: object) -> AsyncIterator[None]:
        segmentry.start_scheduler()
        try:
            yield
        finally:
            segmentry.close()

    app.router.lifespan_context = lifespan
    mode = DeliveryMode(os.environ.get(DELIVERY_VARIABLE, DeliveryMode.THREAD))
    delivering(
        app,
        segmentry,
        mode=mode,
        allow_private_webhooks=private,
        nats_url=os.environ.get(NATS_VARIABLE),
    )
    return app


def delivering(
    app: FastAPI,
    segmentry: Segmentry,
    *,
    mode: DeliveryMode = DeliveryMode.PROCESS,
    allow_private_webhooks: bool,
    nats_url: str | None,
) -> None:
    """Deliver (in a child process, in threads or not at all: ``delivery_process``) for
    as long as the application: started and stopped in its lifespan, since uvicorn ends
    the process with the signal that stopped it (code after ``uvicorn.run`` never runs)
    and deliveries stopped there give their leases back."""
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(served: FastAPI) -> AsyncIterator[Any]:
        delivery = delivery_process.start(
            mode,
            segmentry.database,
            allow_private_webhooks=allow_private_webhooks,
            nats_url=nats_url,
        )
        try:
            async with inner(served) as state:
                yield state
        finally:
            await asyncio.to_thread(delivery.stop)

    app.router.lifespan_context = lifespan


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
        config = server_config(app, host=host, port=self.port, log_level="warning", lifespan="on")
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
