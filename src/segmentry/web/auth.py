"""From the session's API key to the tenant's ``Shop``, on every request."""

from __future__ import annotations

from starlette.requests import Request

from segmentry.engine.segmentry import Segmentry
from segmentry.engine.shop import Shop
from segmentry.errors import AuthenticationError
from segmentry.web import session


class NotSignedInError(Exception):
    """No key in the session, or one that no longer authenticates (revoked)."""


def segmentry_of(request: Request) -> Segmentry:
    segmentry: Segmentry = request.app.state.segmentry
    return segmentry


def shop_of(request: Request) -> Shop:
    """The signed-in key's shop: the key, not anything in the URL, decides the tenant."""
    key = session.current(request).key
    if key is None:
        raise NotSignedInError()
    segmentry = segmentry_of(request)
    try:
        tenant_id, key_id = segmentry.authenticate(key)
    except AuthenticationError:
        session.store(request, session.Session.fresh())
        raise NotSignedInError() from None
    return segmentry.shop(tenant_id, key_id=key_id)


def local_path(target: str | None, default: str = "/") -> str:
    """``target`` when it is a path on this site (never another host), else ``default``."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return default
