"""CSRF protection: every POST carries the session's token, or is refused.

The token lives in the signed session cookie and is rendered into every form
(a hidden field) and into the page's ``hx-headers`` (htmx sends it as
``X-CSRF-Token``). POST routes are only made through :func:`post`, which reads
the form through :func:`checked_form`, so no POST handler can forget the check.
The body is bounded before it is parsed.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from urllib.parse import unquote_to_bytes

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from segmentry.web import session

FIELD = "csrf_token"
HEADER = "x-csrf-token"
MAX_FORM_BYTES = 1_000_000
MAX_UPLOAD_BYTES = 10_000_000
MAX_FIELDS = 2_000

FormEndpoint = Callable[[Request, FormData], Awaitable[Response]]


class CsrfError(Exception):
    """A POST without the session's token: forged, or from a page of an ended session."""


def _matches(token: object, request: Request) -> bool:
    expected = session.current(request).csrf
    return isinstance(token, str) and hmac.compare_digest(token.encode(), expected.encode())


def _bounded(request: Request, max_bytes: int) -> None:
    length = request.headers.get("content-length", "")
    if not length.isdigit():
        raise HTTPException(411, "a form must say its length")
    if int(length) > max_bytes:
        raise HTTPException(413, f"the form is larger than {max_bytes // 1_000_000} MB")


async def checked_form(request: Request, *, max_bytes: int = MAX_FORM_BYTES) -> FormData:
    """The request's form, once its CSRF token (header or field) is the session's."""
    header = request.headers.get(HEADER)
    if header is not None and not _matches(header, request):
        raise CsrfError()
    _bounded(request, max_bytes)
    await _utf8_only(request)
    form = await request.form(max_files=1, max_fields=MAX_FIELDS)
    if header is None and not _matches(form.get(FIELD), request):
        await form.close()
        raise CsrfError()
    return form


async def _utf8_only(request: Request) -> None:
    """Refuse a form whose fields are not UTF-8: the parser would turn each bad byte
    into U+FFFD, and that is what would be saved. (Uploads are checked where read.)"""
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media != "application/x-www-form-urlencoded":
        return
    body = unquote_to_bytes(await request.body())
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise HTTPException(
            400, f"The form is not UTF-8 text (byte {exc.start + 1} of its fields)."
        ) from None


def post(path: str, endpoint: FormEndpoint, *, max_bytes: int = MAX_FORM_BYTES) -> Route:
    """A POST route whose handler gets the checked form."""

    async def checked(request: Request) -> Response:
        form = await checked_form(request, max_bytes=max_bytes)
        try:
            return await endpoint(request, form)
        finally:
            await form.close()  # uploaded files are spooled to disk until closed

    return Route(path, checked, methods=["POST"], name=endpoint.__name__)
