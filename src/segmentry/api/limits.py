"""Request size limits: a body larger than its path allows is refused with 413.

Imports take files (up to ``upload_bytes``); every other body is JSON (up to
``json_bytes``). A declared ``Content-Length`` over the limit is refused before
anything is read; a body sent without one (chunked) is counted as it streams
in and refused at the first byte over the limit, so nothing ever holds more.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from segmentry.api.problems import problem

MiB = 1024 * 1024
GiB = 1024 * MiB
UPLOAD_PATH = re.compile(r"/v1/(products|customers)/import/?")


@dataclass(frozen=True, slots=True)
class Limits:
    json_bytes: int = 32 * MiB
    """A batch of 10,000 entities of about 3 KB each."""
    upload_bytes: int = 4 * GiB
    """An import file; it is spooled to disk, never held in memory."""

    def for_path(self, path: str) -> int:
        return self.upload_bytes if UPLOAD_PATH.fullmatch(path) else self.json_bytes


class ContentTooLargeError(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the body is larger than {limit:,} bytes, the limit of this path")


class BodyLimit:
    """ASGI middleware enforcing ``Limits`` on every request body."""

    def __init__(self, app: ASGIApp, limits: Limits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limits.for_path(scope["path"])
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            refusal = problem(413, "content-too-large", ContentTooLargeError(limit).detail)
            await refusal(scope, receive, send)
            return
        await self.app(scope, _counted(receive, limit), send)


def _content_length(scope: Scope) -> int | None:
    value = Headers(scope=scope).get("content-length")
    return int(value) if value is not None and value.isdigit() else None


def _counted(receive: Receive, limit: int) -> Receive:
    received = 0

    async def counted() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                # An HTTPException passes through FastAPI's body reading to the
                # problem handlers (any other exception there becomes a 400).
                raise ContentTooLargeError(limit)
        return message

    return counted
