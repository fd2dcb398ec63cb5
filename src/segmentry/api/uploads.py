"""Uploads: a request body streamed to a spooled temporary file, never held whole in
memory, with a hash of its bytes (an import's idempotency fingerprint).

The size limit is enforced as the body streams in (``api.limits``)."""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass
from typing import IO

import anyio.to_thread
from fastapi import Request

IN_MEMORY = 4 * 1024 * 1024
"""Bodies up to this size stay in memory; larger ones roll over to a file on disk."""


@dataclass(frozen=True, slots=True)
class Upload:
    file: IO[bytes]
    sha256: str
    size: int


async def spooled(request: Request) -> Upload:
    """The request's body in a temporary file, positioned at its start; the caller
    closes it (which deletes it)."""
    spool = tempfile.SpooledTemporaryFile(max_size=IN_MEMORY)  # noqa: SIM115  # returned open
    digest, size = hashlib.sha256(), 0
    try:
        async for chunk in request.stream():
            digest.update(chunk)
            size += len(chunk)
            # Off the event loop: a write that rolls over to disk may block.
            await anyio.to_thread.run_sync(spool.write, chunk)
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    return Upload(spool, digest.hexdigest(), size)
