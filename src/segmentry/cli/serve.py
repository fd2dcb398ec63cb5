"""``segmentry serve``: the HTTP API and the web page on one port."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import typer
from fastapi import FastAPI

from segmentry.cli.deliver import AllowPrivateOption, NatsOption
from segmentry.cli.http_head import serve as serve_app
from segmentry.cli.options import DEFAULT_DB, DbOption, opened
from segmentry.cli.server import build_app
from segmentry.engine.delivery import running
from segmentry.engine.segmentry import Segmentry


def serve(
    db: DbOption = DEFAULT_DB,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    allow_private_webhooks: AllowPrivateOption = False,
    nats: NatsOption = None,
) -> None:
    """Serve the API (/v1, docs at /docs) and the web page (/) until stopped; webhooks
    (and NATS with --nats) are delivered in the background."""
    with opened(db) as segmentry:
        segmentry.sweep()  # time that passed while stopped, before the first request
        segmentry.start_scheduler()
        app = build_app(segmentry, allow_private_webhooks=allow_private_webhooks)
        delivering(app, segmentry, allow_private_webhooks=allow_private_webhooks, nats_url=nats)
        serve_app(app, host=host, port=port, log_level="info")


def delivering(
    app: FastAPI, segmentry: Segmentry, *, allow_private_webhooks: bool, nats_url: str | None
) -> None:
    """Run the delivery workers for as long as the application: started and stopped in
    its lifespan, since uvicorn ends the process with the signal that stopped it (code
    after ``uvicorn.run`` never runs) and a worker stopped there gives its leases back."""
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(served: FastAPI) -> AsyncIterator[Any]:
        delivery = running.start(
            segmentry.database, allow_private_webhooks=allow_private_webhooks, nats_url=nats_url
        )
        try:
            async with inner(served) as state:
                yield state
        finally:
            await asyncio.to_thread(delivery.stop)

    app.router.lifespan_context = lifespan
