"""Sign in with an API key, and sign out."""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from segmentry.errors import AuthenticationError
from segmentry.web import render, session
from segmentry.web.auth import local_path, segmentry_of
from segmentry.web.csrf import post

HOME = "/products/segments"


async def home(request: Request) -> Response:
    """The product segments once signed in; the sign-in form until then."""
    if session.current(request).key is not None:
        return RedirectResponse(HOME, status_code=303)
    return render.page(request, "signin.html", next=HOME, error="")


async def signin_form(request: Request) -> Response:
    target = local_path(request.query_params.get("next"), HOME)
    return render.page(request, "signin.html", next=target, error="")


async def signin(request: Request, form: FormData) -> Response:
    key = str(form.get("api_key", "")).strip()
    target = local_path(str(form.get("next", "")), HOME)
    try:
        segmentry_of(request).authenticate(key)
    except AuthenticationError:
        error = "Enter an API key." if not key else "This API key is unknown or was revoked."
        return render.page(request, "signin.html", 401, next=target, error=error)
    session.store(request, session.Session.fresh(key))  # a new CSRF token, too
    return RedirectResponse(target, status_code=303)


async def signout(request: Request, form: FormData) -> Response:
    session.store(request, session.Session.fresh())
    return RedirectResponse("/signin", status_code=303)


routes: list[BaseRoute] = [
    Route("/", home),
    Route("/signin", signin_form),
    post("/signin", signin),
    post("/signout", signout),
]
