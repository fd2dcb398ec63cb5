"""The FastAPI application of the HTTP API (``/v1``, ``/openapi.json``, ``/docs``)."""

from __future__ import annotations

from fastapi import FastAPI

from segmentry.engine.service import Segmentry


def create_app(engine: Segmentry) -> FastAPI:
    """The API over ``engine``; routes only translate HTTP to library calls."""
    app = FastAPI(
        title="segmentry",
        version="1",
        summary="Real-time product and customer segments for online shops.",
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.engine = engine
    return app
