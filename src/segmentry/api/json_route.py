"""The routes of the API, reading JSON bodies with orjson.

A JSON body may be up to 32 MiB, and FastAPI reads it with the standard library
on the event loop, while every other request waits. orjson reads the same
documents to the same values several times faster. It refuses a few things the
standard library accepts (``NaN``, ``1e400``, lone surrogates in ``\\u`` escapes,
UTF-16 bodies); for those FastAPI reads the body again as before, so what is
accepted, and what each refusal says, stays the same. It reads an integer beyond
64 bits as a float, where the standard library keeps it whole (and validation
refuses it): a body with a run of 20 digits anywhere is left to the standard library.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Coroutine
from typing import Any

import orjson
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

Handler = Callable[[Request], Coroutine[Any, Any, Response]]
LONG_DIGITS = re.compile(rb"[0-9]{20}")


class JsonRoute(APIRoute):
    """An ``APIRoute`` whose JSON body is parsed by orjson when orjson can."""

    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()

        async def read_then_handle(request: Request) -> Response:
            if self.body_field is not None and _is_json(request.headers.get("content-type")):
                body = await request.body()
                if body and not LONG_DIGITS.search(body):
                    try:
                        parsed = orjson.loads(body)
                    except orjson.JSONDecodeError:
                        pass  # the standard library reads it, and says what is wrong
                    else:
                        # Starlette's Request.json() returns this cache when it is set.
                        request._json = parsed
            return await handler(request)

        return read_then_handle


def _is_json(content_type: str | None) -> bool:
    """As FastAPI decides: ``application/json`` or ``application/*+json``."""
    if not content_type:
        return False
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )
