"""The web page as an ASGI application, mounted at ``/`` by ``segmentry serve``."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from segmentry.engine.service import Segmentry


def create_web_app(engine: Segmentry) -> Starlette:
    """The web page over ``engine``."""

    async def home(request: Request) -> HTMLResponse:
        return HTMLResponse("<!doctype html><title>segmentry</title><h1>segmentry</h1>")

    app = Starlette(routes=[Route("/", home)])
    app.state.engine = engine
    return app
