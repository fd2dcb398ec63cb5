"""The browser session: one signed cookie holding the API key and the CSRF token.

The cookie is signed (itsdangerous), HttpOnly and SameSite=Lax. It holds the
plain API key rather than the tenant it resolved to, so that every request
authenticates again: a revoked key stops working at once, on the next click.
Every visitor gets a session (and its CSRF token) before signing in, so that
the sign-in form itself is protected; signing in and out both start a fresh
token.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

COOKIE = "segmentry_session"
MAX_AGE = 12 * 3600
"""Seconds a session lasts after it was last written (signing in, a new token)."""
SECRET_ENV = "SEGMENTRY_WEB_SECRET"


def signing_secret() -> str:
    """The secret from the environment, or a new random one for this process.

    A per-process secret means sessions end when the server restarts; several
    processes behind one address must share ``SEGMENTRY_WEB_SECRET``.
    """
    return os.environ.get(SECRET_ENV) or secrets.token_urlsafe(32)


@dataclass(frozen=True, slots=True)
class Session:
    csrf: str
    key: str | None = None

    @staticmethod
    def fresh(key: str | None = None) -> Session:
        return Session(secrets.token_urlsafe(32), key)


class SessionCodec:
    """Sessions to cookie values and back; a forged or expired cookie reads as none."""

    def __init__(self, secret: str) -> None:
        self.serializer = URLSafeTimedSerializer(secret, salt="segmentry.web.session")

    def dumps(self, session: Session) -> str:
        return self.serializer.dumps({"csrf": session.csrf, "key": session.key})

    def loads(self, value: str | None) -> Session | None:
        if not value:
            return None
        try:
            data = self.serializer.loads(value, max_age=MAX_AGE)
        except BadSignature:  # also SignatureExpired, its subclass
            return None
        if not isinstance(data, dict) or not isinstance(data.get("csrf"), str):
            return None
        key = data.get("key")
        return Session(data["csrf"], key if isinstance(key, str) else None)


def current(conn: HTTPConnection) -> Session:
    session: Session = conn.scope["segmentry.session"]
    return session


def store(conn: HTTPConnection, session: Session) -> None:
    """Make ``session`` the one the response sends back."""
    conn.scope["segmentry.session"] = session


class SessionMiddleware:
    """Reads the cookie into the scope and writes it back when the session changed."""

    def __init__(self, app: ASGIApp, codec: SessionCodec) -> None:
        self.app = app
        self.codec = codec

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        found = self.codec.loads(HTTPConnection(scope).cookies.get(COOKIE))
        scope["segmentry.session"] = found or Session.fresh()

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                session = scope["segmentry.session"]
                if session != found:
                    self._set_cookie(MutableHeaders(scope=message), session, scope)
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    def _set_cookie(self, headers: MutableHeaders, session: Session, scope: Scope) -> None:
        parts = [
            f"{COOKIE}={self.codec.dumps(session)}",
            "Path=/",
            f"Max-Age={MAX_AGE}",
            "HttpOnly",
            "SameSite=Lax",
        ]
        if scope.get("scheme") == "https":
            parts.append("Secure")
        headers.append("set-cookie", "; ".join(parts))
