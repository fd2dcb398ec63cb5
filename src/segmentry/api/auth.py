"""Authentication: the caller's API key decides the tenant, and so the shop, of a request."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from segmentry.engine.segmentry import Segmentry
from segmentry.engine.shop import Shop
from segmentry.errors import AuthenticationError

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="apiKey",
    description="A tenant's API key: `Authorization: Bearer <key>`.",
)


def segmentry_of(request: Request) -> Segmentry:
    segmentry: Segmentry = request.app.state.segmentry
    return segmentry


def current_shop(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Shop:
    """The shop of the key's tenant; 401 for a missing, unknown or revoked key."""
    if credentials is None:
        raise AuthenticationError("send a tenant's API key as 'Authorization: Bearer <key>'")
    segmentry = segmentry_of(request)
    caller = segmentry.check_key(credentials.credentials)
    return segmentry.shop(caller.tenant_id, key_id=caller.key_id, revision=caller.revision)


async def shop_soon(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Shop:
    """:func:`current_shop` for a route that does its work in one worker thread of its
    own: on SQLite the key check is an indexed read of a local file and runs on the
    event loop, cheaper than handing it to a thread of its own; on a database server,
    which may keep it waiting, it runs in a worker thread."""
    if segmentry_of(request).reads_are_local:
        return current_shop(request, credentials)
    return await run_in_threadpool(current_shop, request, credentials)


ShopDep = Annotated[Shop, Depends(current_shop)]
KeyedShop = Annotated[Shop, Depends(shop_soon)]
"""The shop, its key checked as :func:`shop_soon` says (before the body is read)."""
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
"""The key as sent, unchecked: for a route that checks it with ``current_shop`` itself,
in the same worker thread as the rest of its work."""
