"""The web page as an ASGI application, mounted at ``/`` by ``segmentry serve``.

It calls the library (``Shop``) directly, never the HTTP API: pages parse
forms, call the shop of the signed-in key, and render templates.
"""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from segmentry.engine.segmentry import Segmentry
from segmentry.web import errors
from segmentry.web.pages import (
    attributes,
    editor,
    entities,
    guide,
    members,
    segments,
    signin,
    versions,
    webhooks,
)
from segmentry.web.session import SessionCodec, SessionMiddleware, signing_secret

STATIC = Path(__file__).parent / "static"


def routes() -> list[BaseRoute]:
    """Fixed paths first: ``/{kinds}`` and ``/{kind}/{id}`` take what is left."""
    return [
        Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
        *signin.routes,
        *editor.routes,
        *members.routes,
        *versions.routes,
        *guide.routes,
        *segments.routes,
        *attributes.routes,
        *webhooks.routes,
        *entities.routes,
    ]


def create_web_app(segmentry: Segmentry, *, secret: str | None = None) -> Starlette:
    """The web page over ``segmentry``; sessions are signed with ``secret`` (by default
    ``SEGMENTRY_WEB_SECRET``, or a random one for this process)."""
    codec = SessionCodec(secret or signing_secret())
    app = Starlette(
        routes=routes(),
        middleware=[Middleware(SessionMiddleware, codec=codec)],
        exception_handlers=errors.HANDLERS,
    )
    app.state.segmentry = segmentry
    app.state.allow_private_webhooks = False  # build_app sets what serve was told
    return app
