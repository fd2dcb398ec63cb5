"""One ASGI application for ``segmentry serve`` (the API at ``/v1``, the web page at
``/``) and a server that runs it in a background thread, for the demo's tests and
the browser and API tests."""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType

import uvicorn
from fastapi import FastAPI

from segmentry.api.app import create_app
from segmentry.cli.http_head import server_config
from segmentry.engine.segmentry import Segmentry
from segmentry.web.app import create_web_app


def build_app(segmentry: Segmentry, *, allow_private_webhooks: bool = False) -> FastAPI:
    """The API's routes first; everything else falls through to the web page."""
    app = create_app(segmentry, allow_private_webhooks=allow_private_webhooks)
    web = create_web_app(segmentry)
    web.state.allow_private_webhooks = allow_private_webhooks
    app.mount("/", web, name="web")
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
