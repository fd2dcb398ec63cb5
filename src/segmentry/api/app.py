"""The FastAPI application of the HTTP API (``/v1``, ``/openapi.json``, ``/docs``)."""

from __future__ import annotations

from fastapi import FastAPI

from segmentry.api import fallback, openapi, problems
from segmentry.api.head import HeadAsGet
from segmentry.api.limits import BodyLimit, Limits
from segmentry.api.routes import (
    attributes,
    entities,
    events,
    imports,
    members,
    orders,
    rules,
    segments,
    uses,
    webhooks,
)
from segmentry.api.utf8 import Utf8Only
from segmentry.engine.segmentry import Segmentry
from segmentry.model.schema import SEGMENTED_KINDS

DESCRIPTION = """Real-time product and customer segments for online shops.

Authenticate with a tenant's API key (`Authorization: Bearer <key>`). Errors are
`application/problem+json` (RFC 9457). See `docs/api.md` for pagination, ETags,
idempotency keys, imports and limits."""


def create_app(
    segmentry: Segmentry, *, limits: Limits | None = None, allow_private_webhooks: bool = False
) -> FastAPI:
    """The API over ``segmentry``; routes only translate HTTP to library calls.
    ``allow_private_webhooks`` accepts webhook URLs on private and loopback addresses."""
    app = FastAPI(
        title="segmentry",
        version="1",
        summary="Real-time product and customer segments for online shops.",
        description=DESCRIPTION,
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.segmentry = segmentry
    app.state.allow_private_webhooks = allow_private_webhooks
    problems.install(app)
    app.add_middleware(BodyLimit, limits=limits or Limits())
    app.add_middleware(HeadAsGet)
    app.add_middleware(Utf8Only)
    routers = [entities.router(kind) for kind in SEGMENTED_KINDS]
    routers += [
        m.routes
        for m in (imports, attributes, segments, members, uses, events, rules, orders, webhooks)
    ]
    for router in routers:
        app.include_router(router)
    fallback.install(app, routers)
    openapi.install(app)
    return app
