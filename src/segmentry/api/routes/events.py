"""The event feed: every change of membership, in order, from a cursor."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from segmentry.api import render
from segmentry.api.auth import ShopDep
from segmentry.api.bodies import EventOut
from segmentry.api.json_route import JsonRoute
from segmentry.api.pagination import Limit, Page
from segmentry.api.problems import described
from segmentry.api.routes.segments import CodePath

routes = APIRouter(tags=["Events"], route_class=JsonRoute)
After = Annotated[
    str | None,
    Query(
        max_length=30,
        description="The id of the last event you handled (or the `next_cursor` of the "
        "previous page); leave out to read from the start.",
    ),
]


@routes.get("/v1/events", response_model=Page[EventOut], summary="The tenant's event feed")
def tenant_events(shop: ShopDep, after: After = None, limit: Limit = 100) -> Page[EventOut]:
    """Resuming after the last event handled never misses or repeats one."""
    page = shop.events(after=after, limit=limit)
    return Page[EventOut](items=[render.event(e) for e in page.items], next_cursor=page.next_cursor)


@routes.get(
    "/v1/segments/{code}/events",
    response_model=Page[EventOut],
    responses=described(404),
    summary="One segment's events",
)
def segment_events(
    shop: ShopDep, code: CodePath, after: After = None, limit: Limit = 100
) -> Page[EventOut]:
    page = shop.events(after=after, limit=limit, code=code)
    return Page[EventOut](items=[render.event(e) for e in page.items], next_cursor=page.next_cursor)
