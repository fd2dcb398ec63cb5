"""Uses: what outside segmentry relies on a segment (a workflow, a promotion, ...)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from segmentry.api import render
from segmentry.api.auth import ShopDep
from segmentry.api.bodies import UseIn, UseOut
from segmentry.api.json_route import JsonRoute
from segmentry.api.pagination import Cursor, Limit, Page, keyed_page
from segmentry.api.problems import described
from segmentry.api.routes.segments import CodePath
from segmentry.engine.types import Use

routes = APIRouter(prefix="/v1/segments/{code}/uses", tags=["Uses"], route_class=JsonRoute)
UseId = Annotated[
    str, Path(description="The consumer's own id of the use.", examples=["spring-mail"])
]


@routes.get("", response_model=Page[UseOut], responses=described(404), summary="List uses")
def list_uses(
    shop: ShopDep, code: CodePath, limit: Limit = 100, cursor: Cursor = None
) -> Page[UseOut]:
    """By use id."""
    items, next_cursor = keyed_page(shop.uses(code), lambda u: (u.use_id,), limit, cursor)
    return Page[UseOut](items=[render.use(u) for u in items], next_cursor=next_cursor)


@routes.put(
    "/{use_id}",
    response_model=UseOut,
    responses={201: {"model": UseOut, "description": "Registered"}, **described(404)},
    summary="Register or replace a use",
)
def put_use(
    shop: ShopDep, code: CodePath, use_id: UseId, body: UseIn, response: Response
) -> UseOut:
    """201 when the use is new, 200 when it replaced one with the same id."""
    use = Use(use_id, body.type, body.name, body.url)
    if shop.put_use(code, use):
        response.status_code = 201
    return render.use(use)


@routes.delete("/{use_id}", status_code=204, responses=described(404), summary="Remove a use")
def remove_use(shop: ShopDep, code: CodePath, use_id: UseId) -> Response:
    shop.remove_use(code, use_id)
    return Response(status_code=204)
