"""The server's limit on a request's head, and problem+json when a head is refused.

A rule may be 65,536 characters long, and a rule sent in a URL is percent-encoded:
up to 12 bytes a character (4 UTF-8 bytes, 3 bytes each as ``%XX``). uvicorn's
HTTP/1.1 parser (h11) refuses a head it has not completed once it holds more than
16 KiB: how much it held depended on how the bytes arrived, so a rule of 30,000
``é`` (180 KB) was refused with ``400 text/plain`` before the application saw it,
while a 64 KB ASCII rule, read in one piece, passed. The limit here fits the longest
rule, with room for the other parameters and the headers; the application then
answers a rule too long with its own problem.

A head past the limit, or one that is not HTTP at all, is answered by the server,
not the application: as problem+json (``request-head-too-large``, 431;
``bad-request``, 400), and the connection is closed only after the client has
stopped sending, so the client reads the answer instead of a reset connection
(closing a socket with unread bytes makes the kernel send a reset).
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import h11
import orjson
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from segmentry.api.problems import MEDIA_TYPE, TYPE_BASE
from segmentry.model.limits import MAX_TEXT_LENGTH

BYTES_PER_ENCODED_CHARACTER = 12
"""A character outside the BMP: 4 bytes of UTF-8, each percent-encoded as ``%XX``."""
OTHER_HEAD_BYTES = 64 * 1024
"""The request line's other parameters and the headers (an API key, cookies, a CSRF token)."""
REQUEST_HEAD_BYTES = MAX_TEXT_LENGTH * BYTES_PER_ENCODED_CHARACTER + OTHER_HEAD_BYTES
LINGER_SECONDS = 5.0
"""How long a refused connection keeps reading (and dropping) what the client still sends."""


class ProblemH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, answering a request it cannot parse with problem+json."""

    lingering = False

    def data_received(self, data: bytes) -> None:
        if self.lingering:  # the answer is sent: the rest of the refused request is dropped
            return
        super().data_received(data)

    def send_400_response(self, msg: str) -> None:
        buffered, _ = self.conn.trailing_data
        if len(buffered) > REQUEST_HEAD_BYTES:
            status, code, title = 431, "request-head-too-large", "Request head too large"
            detail = (
                f"the request line and headers are larger than {REQUEST_HEAD_BYTES:,} bytes; "
                "send a long rule in the body of POST /v1/{products,customers}/search"
            )
        else:
            status, code, title = 400, "bad-request", "Bad request"
            detail = "the request is not valid HTTP/1.1"
        body = orjson.dumps(
            {"type": TYPE_BASE + code, "title": title, "status": status, "detail": detail}
        )
        headers = [
            (b"content-type", MEDIA_TYPE.encode()),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]
        for event in (h11.Response(status_code=status, headers=headers), h11.Data(data=body)):
            self.transport.write(self.conn.send(event) or b"")
        self.transport.write(self.conn.send(h11.EndOfMessage()) or b"")
        self.lingering = True
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.loop.call_later(LINGER_SECONDS, self.transport.close)


class NoDelayProtocol(ProblemH11Protocol):
    """The protocol above with Nagle's algorithm off on every connection.

    A worker of ``serve --workers N`` listens on a socket its parent process made,
    which Python then no longer recognises as TCP, so it leaves Nagle's algorithm on:
    each answer, written in two parts, waited for the client's delayed acknowledgement
    on every request of a keep-alive connection (the figure is in bench/README.md)."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in {socket.AF_INET, socket.AF_INET6}:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)


WORKER_PROTOCOL = "segmentry.cli.http_head:NoDelayProtocol"
"""The protocol each worker process of ``serve --workers N`` imports by name."""

SERVER_OPTIONS: dict[str, Any] = {
    "http": ProblemH11Protocol,
    "h11_max_incomplete_event_size": REQUEST_HEAD_BYTES,
}
"""What every server of segmentry passes to uvicorn: h11 with the head limit above."""


def server_config(app: Any, *, host: str, port: int, **options: Any) -> uvicorn.Config:
    """uvicorn's configuration for a server run in a thread (``LiveServer``)."""
    return uvicorn.Config(app, host=host, port=port, **SERVER_OPTIONS, **options)


WORKER_HEALTHCHECK_SECONDS = 60
"""How long uvicorn waits for a worker process to answer its health check. A worker
answers only once it has imported the application, which takes seconds (numpy,
Polars, SQLAlchemy, FastAPI); uvicorn's default of 5 s, on a busy machine (imports
took 8 s with a load average of 7 on two cores), killed each new worker before it
could answer and started another, for ever."""


def serve(app: Any, *, host: str, port: int, log_level: str, **options: Any) -> None:
    """Serve ``app`` until interrupted, as ``uvicorn.run`` does (Ctrl+C ends it cleanly);
    ``options`` go to uvicorn (``workers``, ``factory``, ``access_log``)."""
    chosen = dict(SERVER_OPTIONS)
    if options.get("workers", 1) > 1:
        chosen |= {"http": WORKER_PROTOCOL,
                   "timeout_worker_healthcheck": WORKER_HEALTHCHECK_SECONDS}  # fmt: skip
    uvicorn.run(app, host=host, port=port, log_level=log_level, **chosen, **options)
