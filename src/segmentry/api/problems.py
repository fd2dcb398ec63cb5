"""Every error the API answers, in one place: ``application/problem+json`` (RFC 9457).

A problem's ``type`` is a stable URI naming what went wrong: the library's
error code (``SegmentryError.code``) for errors of the library, or the HTTP
meaning for errors of the request itself (a body too large, a path that
does not exist). ``docs/api.md`` lists them all.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect

from segmentry import errors
from segmentry.errors import DatabaseError

log = logging.getLogger("segmentry.api")

TYPE_BASE = "https://segmentry.dev/problems/"
MEDIA_TYPE = "application/problem+json"
AUTHENTICATE = {"WWW-Authenticate": 'Bearer realm="segmentry"'}

STATUS_OF_ERROR: dict[type[errors.SegmentryError], int] = {
    errors.RuleError: 422,
    errors.ConversionError: 422,
    errors.ValidationError: 422,
    errors.SchemaError: 422,
    errors.UnknownIdsError: 422,
    errors.IdempotencyKeyReusedError: 422,
    errors.NotFoundError: 404,
    errors.AlreadyExistsError: 409,
    errors.InUseError: 409,
    errors.IdempotencyKeyInFlightError: 409,
    errors.ConflictError: 412,
    errors.AuthenticationError: 401,
    DatabaseError: 503,
}

CODE_OF_STATUS = {
    400: "bad-request",
    401: "unauthenticated",
    404: "not-found",
    405: "method-not-allowed",
    413: "content-too-large",
    415: "unsupported-media-type",
    500: "internal-error",
}


class ProblemItem(BaseModel):
    """One of several problems: where it is (a rule's line and column, or a request's
    location such as ``body.items.3.price``) and what is wrong."""

    message: str
    line: int | None = None
    column: int | None = None
    hint: str | None = None
    location: str | None = None


class Problem(BaseModel):
    """An error (RFC 9457). Some types add members: ``errors`` (invalid-rule,
    invalid-value, invalid-request), ``field`` (invalid-value), ``current_version``
    (version-conflict), ``users`` (in-use), ``ids`` (unknown-ids), ``construct``
    (unconvertible-rule), ``import_id``
    (idempotency-key-in-flight), ``report`` (import-stopped)."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(examples=[TYPE_BASE + "not-found"])
    title: str
    status: int
    detail: str
    errors: list[ProblemItem] | None = None
    field: str | None = None
    current_version: int | None = None
    users: list[dict[str, Any]] | None = None
    ids: list[str] | None = None
    import_id: str | None = None
    report: dict[str, Any] | None = None


def problem(
    status: int,
    code: str,
    detail: str,
    *,
    headers: Mapping[str, str] | None = None,
    **members: Any,
) -> JSONResponse:
    """The response of one problem; ``members`` that are ``None`` are left out."""
    body: dict[str, Any] = {
        "type": TYPE_BASE + code,
        "title": _title(code),
        "status": status,
        "detail": detail,
    }
    body.update({k: v for k, v in members.items() if v is not None})
    return JSONResponse(body, status_code=status, headers=headers, media_type=MEDIA_TYPE)


TITLES = {"invalid-json": "Invalid JSON", "content-too-large": "Content too large"}


def _title(code: str) -> str:
    return TITLES.get(code) or code.replace("-", " ").capitalize()


def status_of(error: errors.SegmentryError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS_OF_ERROR:
            return STATUS_OF_ERROR[cls]
    return 400


def error_members(error: errors.SegmentryError) -> dict[str, Any]:
    """The details an error carries, as problem members."""
    if isinstance(error, errors.RuleError):
        return {"errors": [_diagnostic(d) for d in error.diagnostics]}
    if isinstance(error, errors.ValidationError):
        return {"errors": [{"message": p} for p in error.problems], "field": error.field or None}
    if isinstance(error, errors.ConversionError):
        item = {"message": error.message, "location": error.location}
        return {"errors": [item], "construct": error.construct}
    if isinstance(error, errors.ConflictError):
        return {"current_version": error.current_version}
    if isinstance(error, errors.InUseError):
        return {"users": error.users}
    if isinstance(error, errors.UnknownIdsError):
        return {"ids": error.ids}
    if isinstance(error, errors.IdempotencyKeyInFlightError):
        return {"import_id": error.import_id}
    return {}


def _diagnostic(diagnostic: errors.Diagnostic) -> dict[str, Any]:
    return {
        "message": diagnostic.message,
        "line": diagnostic.line,
        "column": diagnostic.column,
        "hint": diagnostic.hint,
    }


# -- handlers ---------------------------------------------------------------------------------


async def on_segmentry_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, errors.SegmentryError)
    status = status_of(error)
    headers = AUTHENTICATE if status == 401 else None
    return problem(status, error.code, error.message, headers=headers, **error_members(error))


async def on_http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, HTTPException)
    status = error.status_code
    code = CODE_OF_STATUS.get(status) or _slug(status)
    return problem(status, code, _http_detail(error), headers=error.headers)


def _slug(status: int) -> str:
    try:
        return HTTPStatus(status).phrase.lower().replace(" ", "-")
    except ValueError:
        return "error"


def _http_detail(error: HTTPException) -> str:
    """Say what was wrong with a body FastAPI could not parse, not only that it could not."""
    cause = error.__cause__
    if isinstance(cause, RecursionError):
        return "the JSON body is nested too deeply"
    if isinstance(cause, UnicodeDecodeError):
        return f"the body is not UTF-8 text ({cause.reason} at byte {cause.start})"
    if error.status_code == 404 and error.detail == "Not Found":
        return "no such path; the API is under /v1 (see /docs)"
    return str(error.detail)


async def on_request_validation_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    items = [_validation_item(e) for e in error.errors()]
    if any(e.get("type") == "json_invalid" for e in error.errors()):
        return problem(400, "invalid-json", items[0]["message"], errors=items)
    more = f" (and {len(items) - 1} more)" if len(items) > 1 else ""
    detail = f"{items[0]['location']}: {items[0]['message']}{more}"
    return problem(422, "invalid-request", detail, errors=items)


def _validation_item(error: Mapping[str, Any]) -> dict[str, str]:
    location = _location(error.get("loc", ()))
    if error.get("type") == "json_invalid":
        reason = (error.get("ctx") or {}).get("error", "")
        at = error["loc"][-1] if len(error.get("loc", ())) > 1 else "?"
        return {"message": f"the body is not valid JSON: {reason} (at character {at})",
                "location": "body"}  # fmt: skip
    message = str(error.get("msg", "invalid"))
    if error.get("type") == "extra_forbidden":
        message = "unknown field"
    return {"message": message, "location": location}


def _location(loc: Sequence[Any]) -> str:
    return ".".join(str(part) for part in loc) or "request"


async def on_client_disconnect(request: Request, error: Exception) -> JSONResponse:
    # Nobody reads this answer; it keeps a cut-off upload from being logged as a crash.
    return problem(400, "bad-request", "the client went away before the body was sent")


async def on_database_unreachable(request: Request, error: Exception) -> JSONResponse:
    log.warning("database unavailable answering %s %s: %s", request.method, request.url.path, error)
    detail = "the database is unavailable (or busy for too long); nothing was changed, retry later"
    return problem(503, DatabaseError.code, detail, headers={"Retry-After": "5"})


async def on_unexpected_error(request: Request, error: Exception) -> JSONResponse:
    log.exception("unexpected error answering %s %s", request.method, request.url.path)
    return problem(500, "internal-error", "an unexpected error; it has been logged")


def install(app: FastAPI) -> None:
    """Answer every error of ``app`` as a problem."""
    app.add_exception_handler(errors.SegmentryError, on_segmentry_error)
    app.add_exception_handler(HTTPException, on_http_error)
    app.add_exception_handler(RequestValidationError, on_request_validation_error)
    app.add_exception_handler(ClientDisconnect, on_client_disconnect)
    app.add_exception_handler(OperationalError, on_database_unreachable)
    app.add_exception_handler(Exception, on_unexpected_error)


def described(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for problems of these statuses."""
    return {
        status: {
            "description": HTTPStatus(status).phrase,
            "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }
