"""``HEAD`` answered as ``GET`` without the body (RFC 9110, 9.3.2): the same status and
headers (``ETag``, ``Content-Length``), so a client can check a segment or an entity
without fetching it. FastAPI's routes take only the methods they declare; rather than
declaring ``HEAD`` beside every ``GET`` (doubling the OpenAPI operations), the request
is routed as ``GET`` and the body is dropped on the way out.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

WAS_HEAD = "segmentry.head"
"""Set in the scope of a HEAD request routed as GET (for the 405's wording)."""


class HeadAsGet:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def headers_only(message: Message) -> None:
            if message["type"] != "http.response.body":
                await send(message)
            elif not message.get("more_body", False):
                await send({"type": "http.response.body", "body": b"", "more_body": False})

        await self.app({**scope, "method": "GET", WAS_HEAD: True}, receive, headers_only)


def method_of(scope: Scope) -> str:
    """The method the client sent."""
    return "HEAD" if scope.get(WAS_HEAD) else str(scope["method"])
