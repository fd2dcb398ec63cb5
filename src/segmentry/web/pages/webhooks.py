"""Webhooks: the list with each one's health, creating one (its secret shown once),
a webhook's page with its recent deliveries, re-enabling, replaying, deleting."""

from __future__ import annotations

import re

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from segmentry.engine.webhooks import WebhookEdit, Webhooks, WebhookSpec
from segmentry.errors import ValidationError
from segmentry.web import render
from segmentry.web.auth import shop_of
from segmentry.web.csrf import post

KINDS = ["product", "customer"]
CHANGES = ["entered", "exited"]
RECENT = 20


def _webhooks(request: Request) -> Webhooks:
    shop = shop_of(request)
    allow = bool(getattr(request.app.state, "allow_private_webhooks", False))
    return Webhooks(shop.segmentry, shop.tenant_id, allow_private=allow)


def _list(
    request: Request,
    values: dict[str, object] | None = None,
    errors: dict[str, str] | None = None,
    created: tuple[str, str] | None = None,
) -> Response:
    return render.page(
        request,
        "webhooks/list.html",
        400 if errors else 200,
        section="webhooks",
        webhooks=_webhooks(request).all(),
        values=values or {"segments": "*", "kinds": KINDS, "changes": CHANGES},
        errors=errors or {},
        created=created,
        kind_choices=KINDS,
        change_choices=CHANGES,
    )


async def webhook_list(request: Request) -> Response:
    return _list(request)


async def create(request: Request, data: FormData) -> Response:
    segments = [c for c in re.split(r"[\s,]+", str(data.get("segments", ""))) if c]
    spec = WebhookSpec(
        url=str(data.get("url", "")).strip(),
        segments=segments or ["*"],
        kinds=[str(k) for k in data.getlist("kinds")],
        changes=[str(c) for c in data.getlist("changes")],
        description=str(data.get("description", "")),
    )
    values: dict[str, object] = {
        "url": spec.url,
        "segments": " ".join(segments),
        "kinds": spec.kinds,
        "changes": spec.changes,
        "description": spec.description,
    }
    try:
        webhook, secret = _webhooks(request).create(spec)
    except ValidationError as error:
        return _list(request, values, {error.field or "url": error.message})
    return _list(request, created=(webhook.id, secret))


async def detail(request: Request) -> Response:
    hooks = _webhooks(request)
    webhook = hooks.get(request.path_params["webhook_id"])
    return render.page(
        request,
        "webhooks/detail.html",
        section="webhooks",
        webhook=webhook,
        deliveries=hooks.deliveries(webhook.id, limit=RECENT),
        notice=request.query_params.get("done", ""),
        error="",
    )


def _back(webhook_id: str, done: str) -> Response:
    return RedirectResponse(f"/webhooks/{webhook_id}?done={done}", status_code=303)


async def set_enabled(request: Request, data: FormData) -> Response:
    webhook_id = request.path_params["webhook_id"]
    enabled = data.get("enabled") == "true"
    _webhooks(request).edit(webhook_id, WebhookEdit(enabled=enabled))
    return _back(webhook_id, "enabled" if enabled else "disabled")


async def replay(request: Request, data: FormData) -> Response:
    webhook_id = request.path_params["webhook_id"]
    after = str(data.get("after", "")).strip()
    hooks = _webhooks(request)
    if not after.isdigit() or len(after) > 18:
        webhook = hooks.get(webhook_id)
        return render.page(
            request,
            "webhooks/detail.html",
            400,
            section="webhooks",
            webhook=webhook,
            deliveries=hooks.deliveries(webhook_id, limit=RECENT),
            notice="",
            error=f"{after!r} is not an event id: give a number, 0 for every event",
        )
    hooks.replay(webhook_id, int(after))
    return _back(webhook_id, "replayed")


async def delete(request: Request, _data: FormData) -> Response:
    _webhooks(request).delete(request.path_params["webhook_id"])
    return RedirectResponse("/webhooks", status_code=303)


routes: list[BaseRoute] = [
    Route("/webhooks", webhook_list),
    post("/webhooks", create),
    Route("/webhooks/{webhook_id}", detail),
    post("/webhooks/{webhook_id}/enabled", set_enabled),
    post("/webhooks/{webhook_id}/replay", replay),
    post("/webhooks/{webhook_id}/delete", delete),
]
