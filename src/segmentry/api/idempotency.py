"""The ``Idempotency-Key`` header: a batch write or an import made again with the same
key and the same request is answered with the first answer and writes nothing.

The key and its answer are kept by the engine in the transaction of the write
(see ``segmentry.engine.idempotency``); here the request is fingerprinted: its
method, path, query string, content type and the exact bytes of its body.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Header, Request, Response

from segmentry.engine.idempotency import MAX_KEY_LENGTH, Done, Once, fingerprint

REPLAYED = "Idempotent-Replayed"

KeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=MAX_KEY_LENGTH,
        pattern=r"^[ -~]+$",
        description="Any string of your choice (printable ASCII, at most 255 characters), "
        "new for each new request; a retry with the same key and body is answered "
        "with the first answer and writes nothing. Kept 24 hours, per tenant.",
    ),
]


def once_for(request: Request, key: str, body_digest: bytes | str) -> Once:
    """The keyed request: ``body_digest`` stands for the body (the body itself, or a
    hash of a streamed one)."""
    parts = (
        request.method,
        request.url.path,
        request.url.query,
        request.headers.get("content-type", ""),
        body_digest,
    )
    return Once(key, fingerprint(*parts))


async def keyed_json_request(request: Request, key: KeyHeader = None) -> Once | None:
    """The keyed request of a JSON body (already read, and cached, by FastAPI)."""
    if key is None:
        return None
    return once_for(request, key, await request.body())


KeyedRequest = Annotated[Once | None, Depends(keyed_json_request)]


def mark_replayed(response: Response, done: Done[Any]) -> None:
    response.headers[REPLAYED] = "true" if done.replayed else "false"
