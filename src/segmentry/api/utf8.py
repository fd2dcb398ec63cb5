"""A path or query string whose percent-escapes are not UTF-8 is refused (400).

The server decodes both with replacement: ``/v1/customers/%FF``, ``/%FE`` and
``/%EF%BF%BD`` would all name the entity ``"\\ufffd"``, and a write to one would be
a write to the others. The raw bytes are checked here, before anything reads them.
"""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Receive, Scope, Send

from segmentry.api.problems import problem


class Utf8Only:
    """ASGI middleware refusing requests whose path or query is not UTF-8 text."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            where = _not_utf8(scope.get("raw_path") or b"", "the path") or _not_utf8(
                scope.get("query_string") or b"", "the query string"
            )
            if where is not None:
                await problem(400, "bad-request", where)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _not_utf8(raw: bytes, what: str) -> str | None:
    """What is wrong with ``raw`` once its percent-escapes are decoded, or ``None``."""
    decoded = unquote_to_bytes(raw)
    try:
        decoded.decode("utf-8")
    except UnicodeDecodeError as exc:
        byte = decoded[exc.start]
        return (
            f"{what} is not UTF-8 text: byte 0x{byte:02X} (decoded byte {exc.start + 1}) "
            f"{exc.reason}; ids and values in a URL are percent-encoded UTF-8"
        )
    return None
