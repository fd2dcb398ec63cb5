"""One delivery: an HTTP POST with a deadline, no redirects, and a capped read.

The whole exchange (connecting, sending, the answer's headers and the part
of its body read) must end within the timeout: a receiver that trickles
bytes is cut off like one that never answers. Only the first ``body_cap``
bytes of an answer are read; the rest is dropped with the connection.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from segmentry.engine.delivery import urls
from segmentry.errors import ValidationError


@dataclass(frozen=True, slots=True)
class Outcome:
    status: int | None  # None: no answer came
    error: str | None
    duration_us: int

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


KEEPALIVE_S = 5.0
"""How long an idle connection to a receiver is kept for the next delivery."""


def tls_context() -> ssl.SSLContext:
    """Certificates to check https receivers against, loaded once for all clients."""
    return httpx.create_ssl_context(trust_env=False)


def client(timeout: float, tls: ssl.SSLContext) -> httpx.AsyncClient:
    """A client for one webhook while its lease is held, with one connection kept
    between its deliveries: a new connection per delivery (connecting, closing, and
    the receiver's accepting) cost more CPU than the delivery itself, and a pool
    shared by all webhooks looks at every connection it holds at each request. A
    connection whose answer was not read to its end (cut off at the cap, timed out,
    or broken) is closed by httpcore, never reused, so a receiver that misbehaved
    leaves nothing behind for the next delivery."""
    return httpx.AsyncClient(
        follow_redirects=False,
        timeout=httpx.Timeout(timeout),
        verify=tls,
        limits=httpx.Limits(
            max_connections=1, max_keepalive_connections=1, keepalive_expiry=KEEPALIVE_S
        ),
        trust_env=False,
    )


async def post(
    http: httpx.AsyncClient,
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    timeout: float,
    body_cap: int,
    allow_private: bool,
) -> Outcome:
    started = time.monotonic()
    try:
        status, error = await asyncio.wait_for(
            _exchange(
                http,
                url=url,
                body=body,
                headers=headers,
                body_cap=body_cap,
                allow_private=allow_private,
            ),
            timeout,
        )
    except TimeoutError:
        status, error = None, f"no complete answer within {timeout:g} s"
    return Outcome(status, error, int((time.monotonic() - started) * 1_000_000))


async def _exchange(
    http: httpx.AsyncClient,
    *,
    url: str,
    body: bytes,
    headers: dict[str, str],
    body_cap: int,
    allow_private: bool,
) -> tuple[int | None, str | None]:
    try:
        await _check_address(url, allow_private)
        async with http.stream("POST", url, content=body, headers=headers) as answer:
            text = await _head_of(answer, body_cap)
            if 200 <= answer.status_code < 300:
                return answer.status_code, None
            if answer.is_redirect:
                where = answer.headers.get("location", "")
                return answer.status_code, f"redirect to {where[:200]!r} not followed"
            return answer.status_code, f"HTTP {answer.status_code}: {text[:200]}".rstrip(": ")
    except ValidationError as exc:
        return None, exc.message
    except httpx.HTTPError as exc:
        return None, _transport_error(exc)


async def _check_address(url: str, allow_private: bool) -> None:
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    if urls.is_address(host):  # nothing to resolve: no thread needed
        urls.check_host(host, port, allow_private=allow_private)
    else:
        await asyncio.to_thread(urls.check_host, host, port, allow_private=allow_private)


async def _head_of(answer: httpx.Response, cap: int) -> str:
    read = bytearray()
    async for chunk in answer.aiter_raw():
        read += chunk
        if len(read) >= cap:
            break
    return bytes(read[:cap]).decode("utf-8", "replace").strip()


def _transport_error(exc: httpx.HTTPError) -> str:
    if isinstance(exc, httpx.ConnectError):
        return f"connection failed: {exc}" if str(exc) else "connection refused"
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError | httpx.WriteError):
        return f"connection broken: {exc}" if str(exc) else "connection reset"
    return f"{type(exc).__name__}: {exc}"
