"""What a person sees when something is refused: a page, never a stack trace."""

from __future__ import annotations

import logging
from html import escape
from urllib.parse import quote

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from segmentry.errors import NotFoundError, SegmentryError
from segmentry.model.limits import MAX_TEXT_LENGTH
from segmentry.web import render
from segmentry.web.auth import NotSignedInError
from segmentry.web.csrf import CsrfError

log = logging.getLogger("segmentry.web")
TITLES = {400: "Not accepted", 403: "Refused", 404: "Not found", 405: "Not allowed"}


def problem(request: Request, status: int, message: str) -> HTMLResponse:
    title = TITLES.get(status, "Not accepted" if status < 500 else "Something went wrong")
    return render.page(request, "error.html", status, title=title, message=message)


async def sign_in_needed(request: Request, exc: Exception) -> Response:
    """To the sign-in page, and back here after it (htmx follows ``HX-Redirect``)."""
    back = request.url.path if request.method == "GET" else "/"
    target = f"/signin?next={quote(back, safe='/')}"
    if request.headers.get("hx-request"):
        return Response(status_code=200, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


async def csrf_refused(request: Request, exc: Exception) -> Response:
    return problem(
        request,
        403,
        "This form did not come from this page, or the page is from an ended session. "
        "Reload the page and try again.",
    )


async def not_found(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, NotFoundError)
    return problem(request, 404, exc.message)


async def refused(request: Request, exc: Exception) -> Response:
    """A library refusal no page turned into a message at a field."""
    assert isinstance(exc, SegmentryError)
    return problem(request, 400, exc.message)


RULE_FRAGMENTS = ("/rule/preview", "/rule/editor")


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 413 and request.url.path in RULE_FRAGMENTS:
        return preview_refused(exc.detail)
    messages = {404: "There is no such page.", 405: "This page does not take that request."}
    return problem(request, exc.status_code, messages.get(exc.status_code, exc.detail))


def preview_refused(detail: str) -> HTMLResponse:
    """The live preview of a form too large to read: an error where the count was, so
    an old count is not left standing (htmx swaps a 413, see base.html)."""
    message = escape(
        f"This rule is too long to preview: {detail}. A rule holds at most "
        f"{MAX_TEXT_LENGTH:,} characters."
    )
    fragment = f'<p class="alert" role="alert" id="preview-refused">{message}</p>'
    headers = {"HX-Retarget": "#preview", "HX-Reswap": "innerHTML"}
    return HTMLResponse(fragment, status_code=413, headers=headers)


async def unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return problem(request, 500, "Something went wrong on our side. Please try again.")


HANDLERS = {
    NotSignedInError: sign_in_needed,
    CsrfError: csrf_refused,
    NotFoundError: not_found,
    SegmentryError: refused,
    HTTPException: http_error,
    Exception: unexpected,
}
