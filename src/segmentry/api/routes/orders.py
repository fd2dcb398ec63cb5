"""Orders: write, patch, read, delete, batches, imports, and a customer's orders.

Bodies reach the library as sent: it validates them and says which order,
which line and which field is wrong (422), so the models here only describe
the shape in the OpenAPI document.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from segmentry.api.auth import ShopDep
from segmentry.api.entity_bodies import Upserted
from segmentry.api.idempotency import KeyedRequest, KeyHeader, mark_replayed, once_for
from segmentry.api.json_route import JsonRoute
from segmentry.api.pagination import Cursor, Limit
from segmentry.api.problems import described
from segmentry.api.routes.imports import (
    UPLOAD_BODY,
    BatchSize,
    Ignored,
    Mapping,
    answer,
    column_mapping,
    import_format,
)
from segmentry.api.uploads import spooled
from segmentry.engine.entities import MAX_BATCH
from segmentry.engine.imports import DEFAULT_BATCH
from segmentry.errors import ValidationError
from segmentry.model.orders import MAX_LINES

routes = APIRouter(tags=["Orders"], route_class=JsonRoute)
MERGE_PATCH = "application/merge-patch+json"

OrderId = Annotated[str, Path(description="The shop's own id of the order.", examples=["o-1001"])]
CustomerId = Annotated[str, Path(description="The shop's own id of the customer.")]


class OrderLine(BaseModel):
    product_id: str = Field(description="The product's id; it need not exist yet.")
    quantity: int = Field(ge=1, description="Units, an integer of at least 1.")
    unit_price: float = Field(ge=0, description="Price of one unit, at least 0.")


class Order(BaseModel):
    """An order as the API shows it."""

    model_config = ConfigDict(title="Order")

    id: str
    customer_id: str | None = Field(None, description="Absent for a guest checkout.")
    placed_at: str = Field(description="ISO 8601; without an offset, the tenant's time zone.")
    status: str = Field("placed", description="placed (default), cancelled or refunded.")
    channel: str | None = Field(None, description="e.g. web, app, store.")
    total: float | None = Field(
        None, description="Absent: the sum of quantity x unit price, exact to the cent."
    )
    lines: list[OrderLine] = Field(description=f"1 to {MAX_LINES:,} lines.")
    attributes: dict[str, Any] = Field(
        default_factory=dict, description="Declared order attributes, by key."
    )


class OrderPage(BaseModel):
    items: list[Order]
    next_cursor: str | None


def _body(schema: str, *media: str) -> dict[str, Any]:
    ref = {"$ref": f"#/components/schemas/{schema}"}
    return {"requestBody": {"required": True, "content": {m: {"schema": ref} for m in media}}}


JsonBody = Annotated[dict[str, Any], Body()]


def _object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ValidationError("an order must be a JSON object")
    return body


@routes.get(
    "/v1/orders/{order_id}",
    response_model=Order,
    response_model_exclude_none=True,
    responses=described(404),
    summary="Get an order",
)
def get_order(shop: ShopDep, order_id: OrderId) -> dict[str, Any]:
    return shop.order(order_id)


@routes.put(
    "/v1/orders/{order_id}",
    response_model=Order,
    response_model_exclude_none=True,
    responses=described(422),
    summary="Write an order",
    openapi_extra=_body("Order", "application/json"),
)
def put_order(shop: ShopDep, order_id: OrderId, body: JsonBody) -> dict[str, Any]:
    """The whole order; its customer (created with only its id if unknown) and its
    products get their derived values and segments in the same transaction."""
    return shop.put_order(order_id, _object(body))


@routes.patch(
    "/v1/orders/{order_id}",
    response_model=Order,
    response_model_exclude_none=True,
    responses=described(404, 422),
    summary="Patch an order",
    openapi_extra=_body("Order", MERGE_PATCH, "application/json"),
)
def patch_order(shop: ShopDep, order_id: OrderId, body: JsonBody) -> dict[str, Any]:
    """A JSON merge patch (RFC 7396): fields given replace (`lines` as a whole),
    `null` removes."""
    return shop.patch_order(order_id, _object(body))


@routes.delete(
    "/v1/orders/{order_id}", status_code=204, responses=described(404), summary="Delete an order"
)
def delete_order(shop: ShopDep, order_id: OrderId) -> Response:
    shop.delete_order(order_id)
    return Response(status_code=204)


class OrderBatch(BaseModel):
    items: list[dict[str, Any]] = Field(
        max_length=MAX_BATCH, description=f"Up to {MAX_BATCH:,} orders, each with its id."
    )


@routes.post(
    "/v1/orders/batch",
    response_model=Upserted,
    responses=described(422),
    summary="Write a batch of orders",
)
def put_orders(shop: ShopDep, body: OrderBatch, response: Response, once: KeyedRequest) -> Upserted:
    """All or nothing. With `Idempotency-Key`, a retry replays the first answer."""
    if once is None:
        return Upserted(upserted=shop.put_orders(body.items))
    done = shop.put_orders_once(body.items, once)
    mark_replayed(response, done)
    return Upserted(upserted=done.value)


@routes.post(
    "/v1/orders/import",
    responses=described(409, 415, 422),
    summary="Import orders from CSV or JSON Lines",
    openapi_extra={"requestBody": UPLOAD_BODY},
)
async def import_orders(
    *,
    request: Request,
    shop: ShopDep,
    mapping: Mapping = [],  # noqa: B006  # FastAPI copies defaults
    ignored: Ignored = [],  # noqa: B006
    batch_size: BatchSize = DEFAULT_BATCH,
    date_format: Annotated[
        str | None,
        Query(
            max_length=100,
            description="CSV: a strptime format of the placed_at column, e.g. "
            "`%m/%d/%Y %H:%M` (default: ISO 8601).",
        ),
    ] = None,
    key: KeyHeader = None,
) -> JSONResponse:
    """JSON Lines: one order a line. CSV: one row per order line, the rows of one order
    adjacent; the order's columns are read from its first row. Every row is reported."""
    fmt = import_format(request.headers.get("content-type"))
    columns = column_mapping(mapping, ignored)
    upload = await spooled(request)
    try:
        if key is None:
            report = await run_in_threadpool(
                shop.import_orders,
                upload.file,
                fmt,
                columns=columns,
                batch_size=batch_size,
                date_format=date_format,
            )
            return answer(report)
        once = once_for(request, key, upload.sha256)
        done = await run_in_threadpool(
            shop.import_orders_once,
            upload.file,
            fmt,
            once,
            columns=columns,
            batch_size=batch_size,
            date_format=date_format,
        )
        return answer(done.value, done.replayed)
    finally:
        upload.file.close()


@routes.get(
    "/v1/customers/{customer_id}/orders",
    response_model=OrderPage,
    responses=described(404),
    summary="A customer's orders",
)
def customer_orders(
    shop: ShopDep, customer_id: CustomerId, limit: Limit = 100, cursor: Cursor = None
) -> JSONResponse:
    """Newest first; each order as `GET /v1/orders/{id}` shows it."""
    page = shop.customer_orders(customer_id, limit=limit, cursor=cursor)
    return JSONResponse({"items": page.items, "next_cursor": page.next_cursor})
