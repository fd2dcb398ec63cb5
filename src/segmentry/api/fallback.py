"""Requests no route takes: 404 for a path that does not exist, 405 (with ``Allow``) for
a method a path does not take, both as problems.

Without this, ``segmentry serve`` would hand unknown ``/v1`` paths to the web page
mounted at ``/``, and Starlette's own 405 names only the methods of the first
route of a path.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request, Response
from starlette.exceptions import HTTPException
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from segmentry.api.head import method_of

FALLBACK_PATHS = ("/v1", "/v1/{rest:path}")
"""``/v1`` itself too: ``/v1/{rest:path}`` does not match it, and it reached the page."""


def allowed_methods(routes: list[BaseRoute], path: str) -> list[str]:
    """Every method some route takes on ``path``."""
    methods: set[str] = set()
    for route in routes:
        if isinstance(route, Route) and route.methods and route.path_regex.fullmatch(path):
            methods |= route.methods
    if "GET" in methods:
        methods.add("HEAD")  # answered as GET (``api.head``)
    return sorted(methods)


class Unmatched:
    """An ASGI app rather than a function endpoint, so that its route takes every method."""

    def __init__(self, routes: list[BaseRoute]) -> None:
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        path = request.url.path
        allowed = allowed_methods(self.routes, path)
        if not allowed:
            raise HTTPException(404, f"no such path: {path} (see /docs)")
        headers = {"Allow": ", ".join(allowed)}
        if request.method == "OPTIONS":
            await Response(status_code=204, headers=headers)(scope, receive, send)
            return
        method = method_of(scope)
        detail = f"{method} is not allowed on {path}; allowed: {headers['Allow']}"
        raise HTTPException(405, detail, headers=headers)


def install(app: FastAPI, routers: list[APIRouter]) -> None:
    """Register last (a route registered after it would never be reached), with the
    routers whose routes it names in ``Allow``."""
    routes = [route for router in routers for route in router.routes]
    unmatched = Unmatched(routes)
    for path in FALLBACK_PATHS:
        app.router.routes.append(Route(path, unmatched, include_in_schema=False))
