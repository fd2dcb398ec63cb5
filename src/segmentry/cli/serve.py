"""``segmentry serve``: the HTTP API and the web page on one port."""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn

from segmentry.cli.deliver import AllowPrivateOption, NatsOption
from segmentry.cli.options import DEFAULT_DB, DbOption, opened
from segmentry.cli.server import build_app
from segmentry.engine.delivery import running


def serve(
    db: DbOption = DEFAULT_DB,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    allow_private_webhooks: AllowPrivateOption = False,
    nats: NatsOption = None,
) -> None:
    """Serve the API (/v1, docs at /docs) and the web page (/) until stopped; webhooks
    (and NATS with --nats) are delivered in the background."""
    with opened(db) as engine:
        engine.start_scheduler()
        delivery = running.start(
            engine.engine, allow_private_webhooks=allow_private_webhooks, nats_url=nats
        )
        try:
            app = build_app(engine, allow_private_webhooks=allow_private_webhooks)
            uvicorn.run(app, host=host, port=port, log_level="info")
        finally:
            delivery.stop()
