"""``segmentry serve``: the HTTP API and the web page on one port."""

from __future__ import annotations

from typing import Annotated

import typer

from segmentry.cli.http_head import serve as serve_app
from segmentry.cli.options import DEFAULT_DB, DbOption, opened
from segmentry.cli.server import build_app


def serve(
    db: DbOption = DEFAULT_DB,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Serve the API (/v1, docs at /docs) and the web page (/) until stopped."""
    with opened(db) as segmentry:
        segmentry.sweep()  # time that passed while stopped, before the first request
        segmentry.start_scheduler()
        serve_app(build_app(segmentry), host=host, port=port, log_level="info")
