"""Webhooks (SPEC §9): create, list, get, edit, delete, rotate the secret, replay,
and each delivery attempt of the last seven days."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel, Field

from segmentry.api.auth import ShopDep
from segmentry.api.bodies import Strict
from segmentry.api.json_route import JsonRoute
from segmentry.api.pagination import Cursor, Limit, Page, keyed_page
from segmentry.api.problems import described
from segmentry.engine.webhooks import Delivery, Webhook, WebhookEdit, Webhooks, WebhookSpec

routes = APIRouter(prefix="/v1/webhooks", tags=["Webhooks"], route_class=JsonRoute)
WebhookId = Annotated[str, Path(description="The webhook's id.", examples=["wh_3f2a9c0d1e4b5a6f"])]
Codes = Annotated[
    list[str],
    Field(
        max_length=1_000,
        description='Segment codes, or `["*"]` for every segment.',
        examples=[["vip", "churnRisk"]],
    ),
]


class WebhookIn(Strict):
    url: str = Field(max_length=2_000, examples=["https://hooks.example.com/segmentry"])
    segments: Codes = Field(default_factory=lambda: ["*"])
    kinds: list[str] = Field(default_factory=lambda: ["product", "customer"], max_length=2)
    changes: list[str] = Field(default_factory=lambda: ["entered", "exited"], max_length=2)
    description: str = Field(default="", max_length=2_000)
    enabled: bool = True


class WebhookPatch(Strict):
    url: str | None = Field(default=None, max_length=2_000)
    segments: Codes | None = None
    kinds: list[str] | None = Field(default=None, max_length=2)
    changes: list[str] | None = Field(default=None, max_length=2)
    description: str | None = Field(default=None, max_length=2_000)
    enabled: bool | None = None


class WebhookOut(BaseModel):
    id: str
    url: str
    description: str
    segments: list[str]
    kinds: list[str]
    changes: list[str]
    enabled: bool
    disabled_reason: str | None
    position: int = Field(description="The id of the last event this webhook is done with.")
    failures: int = Field(description="Failed attempts in a row.")
    failing_since: datetime | None
    next_attempt_at: datetime | None
    last_success_at: datetime | None
    created_at: datetime
    updated_at: datetime


class CreatedWebhookOut(WebhookOut):
    secret: str = Field(description="The signing secret, shown this once.")


class SecretOut(BaseModel):
    secret: str = Field(description="The new signing secret, shown this once.")


class ReplayIn(Strict):
    after: int = Field(ge=0, description="Send again every matching event after this id.")


class DeliveryOut(BaseModel):
    id: str
    at: datetime
    message_id: str = Field(description="The `webhook-id` header sent.")
    first_event: int
    last_event: int
    events: int
    status: int | None = Field(description="The HTTP status answered; null when none came.")
    duration_ms: float
    error: str | None


def _webhooks(shop: ShopDep, request: Request) -> Webhooks:
    allow = bool(getattr(request.app.state, "allow_private_webhooks", False))
    return Webhooks(shop.segmentry, shop.tenant_id, allow_private=allow)


WebhooksDep = Annotated[Webhooks, Depends(_webhooks)]


def _out(found: Webhook) -> WebhookOut:
    return WebhookOut(**{name: getattr(found, name) for name in WebhookOut.model_fields})


def _delivery(found: Delivery) -> DeliveryOut:
    return DeliveryOut(**{name: getattr(found, name) for name in DeliveryOut.model_fields})


@routes.post(
    "",
    status_code=201,
    response_model=CreatedWebhookOut,
    responses=described(422),
    summary="Create a webhook",
)
def create_webhook(hooks: WebhooksDep, body: WebhookIn, response: Response) -> CreatedWebhookOut:
    """Answers the webhook with its `secret`, which is not shown again. It receives the
    events that happen from now on; `replay` sends older ones."""
    created, secret = hooks.create(WebhookSpec(**body.model_dump()))
    response.headers["Location"] = f"/v1/webhooks/{created.id}"
    return CreatedWebhookOut(**_out(created).model_dump(), secret=secret)


@routes.get("", response_model=Page[WebhookOut], summary="List webhooks")
def list_webhooks(
    hooks: WebhooksDep, limit: Limit = 100, cursor: Cursor = None
) -> Page[WebhookOut]:
    items, next_cursor = keyed_page(hooks.all(), lambda w: (w.id,), limit, cursor)
    return Page[WebhookOut](items=[_out(w) for w in items], next_cursor=next_cursor)


@routes.get(
    "/{webhook_id}", response_model=WebhookOut, responses=described(404), summary="Get a webhook"
)
def get_webhook(hooks: WebhooksDep, webhook_id: WebhookId) -> WebhookOut:
    return _out(hooks.get(webhook_id))


@routes.patch(
    "/{webhook_id}",
    response_model=WebhookOut,
    responses=described(404, 422),
    summary="Edit a webhook",
)
def edit_webhook(hooks: WebhooksDep, webhook_id: WebhookId, body: WebhookPatch) -> WebhookOut:
    """Setting `enabled` to true again resumes from the first event not delivered."""
    return _out(hooks.edit(webhook_id, WebhookEdit(**body.model_dump(exclude_none=True))))


@routes.delete(
    "/{webhook_id}", status_code=204, responses=described(404), summary="Delete a webhook"
)
def delete_webhook(hooks: WebhooksDep, webhook_id: WebhookId) -> Response:
    hooks.delete(webhook_id)
    return Response(status_code=204)


@routes.post(
    "/{webhook_id}/rotate-secret",
    response_model=SecretOut,
    responses=described(404),
    summary="Rotate the signing secret",
)
def rotate_secret(hooks: WebhooksDep, webhook_id: WebhookId) -> SecretOut:
    """Deliveries are signed with both the new and the previous secret for 24 hours."""
    return SecretOut(secret=hooks.rotate_secret(webhook_id))


@routes.post(
    "/{webhook_id}/replay",
    response_model=WebhookOut,
    responses=described(404, 422),
    summary="Send events again",
)
def replay(hooks: WebhooksDep, webhook_id: WebhookId, body: ReplayIn) -> WebhookOut:
    """Every matching event after `after` is sent again, in feed order."""
    return _out(hooks.replay(webhook_id, body.after))


@routes.get(
    "/{webhook_id}/deliveries",
    response_model=Page[DeliveryOut],
    responses=described(404),
    summary="Delivery attempts",
)
def deliveries(
    hooks: WebhooksDep,
    webhook_id: WebhookId,
    limit: Annotated[int, Query(ge=1, le=1_000)] = 100,
) -> Page[DeliveryOut]:
    """Each attempt of the last 7 days, newest first: when, the status, the time taken
    and the error."""
    found = hooks.deliveries(webhook_id, limit=limit)
    return Page[DeliveryOut](items=[_delivery(d) for d in found], next_cursor=None)
