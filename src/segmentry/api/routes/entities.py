"""Products and customers: upsert, patch, get, delete, batches, lists, their segments."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from segmentry.api import render
from segmentry.api.auth import KeyedShop, ShopDep
from segmentry.api.entity_bodies import (
    EntityBody,
    EntityOut,
    EntitySearch,
    SegmentOfEntity,
    Upserted,
)
from segmentry.api.idempotency import KeyedRequest, mark_replayed
from segmentry.api.json_route import JsonRoute
from segmentry.api.pagination import Cursor, Limit, Page, keyed_page
from segmentry.api.problems import described
from segmentry.api.routes.kinds import BATCHES, BODIES, OUTS, with_types
from segmentry.engine.shop import Shop
from segmentry.engine.types import Entity
from segmentry.engine.types import Page as Pages
from segmentry.model.limits import MAX_TEXT_LENGTH
from segmentry.model.schema import Kind

EntityId = Annotated[
    str,
    Path(
        description="The shop's own id of the entity.",
        examples=["p1"],
    ),
]
RuleQuery = Annotated[
    str | None,
    Query(
        max_length=MAX_TEXT_LENGTH,
        description="Only the entities this rule selects (text form), e.g. `price > 100`.",
    ),
]
MERGE_PATCH = "application/merge-patch+json"


class Batch(BaseModel):
    """What the batch handler reads of either kind's batch model."""

    items: list[EntityBody]


def router(kind: Kind) -> APIRouter:
    """The routes of one kind under ``/v1/products`` or ``/v1/customers``."""
    routes = APIRouter(
        prefix=f"/v1/{kind.plural}", tags=[kind.plural.title()], route_class=JsonRoute
    )
    out, body_model = OUTS[kind], BODIES[kind]

    @routes.get("", response_model=Page[out], summary=f"List {kind.plural}")  # type: ignore[valid-type]
    def list_entities(
        shop: ShopDep, rule: RuleQuery = None, limit: Limit = 100, cursor: Cursor = None
    ) -> Page[EntityOut]:
        """In the order they were first written; with `rule`, only those it selects."""
        return _listed(shop.entities(kind, rule, limit=limit, cursor=cursor))

    @routes.post("/search", response_model=Page[out], summary=f"Search {kind.plural}")  # type: ignore[valid-type]
    def search(shop: ShopDep, body: EntitySearch) -> Page[EntityOut]:
        """The list with its query in the body, for a rule too long for a URL: the same
        items and cursors as the list's `GET` with the same `rule`, `limit` and `cursor`
        (a cursor of either serves both)."""
        page = shop.entities(kind, body.rule, limit=body.limit, cursor=body.cursor)
        return _listed(page)

    def upsert_batch(
        shop: ShopDep, body: Batch, response: Response, once: KeyedRequest
    ) -> Upserted:
        """All or nothing, up to 10,000 items; later items of one id build on earlier ones.
        With `Idempotency-Key`, a retry replays the first answer and writes nothing."""
        items = [item.sent() for item in body.items]
        if once is None:
            return Upserted(upserted=shop.upsert_many(kind, items, nested=True))
        done = shop.upsert_many_once(kind, items, once, nested=True)
        mark_replayed(response, done)
        return Upserted(upserted=done.value)

    routes.post(
        "/batch",
        response_model=Upserted,
        summary=f"Upsert a batch of {kind.plural}",
    )(with_types(upsert_batch, body=BATCHES[kind]))

    @routes.get(
        "/{entity_id}/segments",
        response_model=Page[SegmentOfEntity],
        responses=described(404),
        summary=f"Segments of a {kind}",
    )
    def segments_of(
        shop: ShopDep, entity_id: EntityId, limit: Limit = 100, cursor: Cursor = None
    ) -> Page[SegmentOfEntity]:
        """The segments the entity is in, by code, each with when it entered."""
        held = [
            SegmentOfEntity(code=m.code, since=m.since) for m in shop.segments_of(kind, entity_id)
        ]
        items, next_cursor = keyed_page(held, lambda m: (m.code,), limit, cursor)
        return Page[SegmentOfEntity](items=items, next_cursor=next_cursor)

    @routes.get(
        "/{entity_id}", response_model=out, responses=described(404), summary=f"Get a {kind}"
    )
    def get_entity(shop: ShopDep, entity_id: EntityId) -> EntityOut:
        return render.entity(shop.get(kind, entity_id))

    async def upsert(shop: KeyedShop, entity_id: EntityId, body: EntityBody) -> EntityOut:
        """Write all of the entity's attributes: built-in ones at the top level, custom
        ones under `attributes`; attributes not given are removed."""
        return await run_in_threadpool(_upsert, shop, kind, entity_id, body)

    routes.put("/{entity_id}", response_model=out, summary=f"Upsert a {kind}")(
        with_types(upsert, body=body_model)
    )

    async def patch(shop: KeyedShop, entity_id: EntityId, body: EntityBody) -> EntityOut:
        """A JSON merge patch (RFC 7396): attributes given replace, `null` removes."""
        return await run_in_threadpool(_patch, shop, kind, entity_id, body)

    routes.patch(
        "/{entity_id}",
        response_model=out,
        responses=described(404),
        summary=f"Patch a {kind}",
        openapi_extra={"requestBody": _merge_patch_body(body_model)},
    )(with_types(patch, body=body_model))

    @routes.delete(
        "/{entity_id}", status_code=204, responses=described(404), summary=f"Delete a {kind}"
    )
    def delete(shop: ShopDep, entity_id: EntityId) -> Response:
        """The entity leaves every segment; segments are never deleted with it."""
        shop.delete(kind, entity_id)
        return Response(status_code=204)

    return routes


def _upsert(shop: Shop, kind: Kind, entity_id: str, body: EntityBody) -> EntityOut:
    """The write and its answer in one worker thread. With a synchronous route and
    dependency, FastAPI takes one thread for the key, one for the write and one to
    check the answer, and each hand-over between the event loop and a thread cost
    about as much as the key check (``KeyedShop``: that runs on the loop)."""
    return render.entity(shop.upsert(kind, entity_id, body.sent(), nested=True))


def _patch(shop: Shop, kind: Kind, entity_id: str, body: EntityBody) -> EntityOut:
    """As :func:`_upsert`, for a merge patch."""
    return render.entity(shop.patch(kind, entity_id, body.sent(), nested=True))


def _listed(page: Pages[Entity]) -> Page[EntityOut]:
    return Page[EntityOut](
        items=[render.entity(e) for e in page.items], next_cursor=page.next_cursor
    )


def _merge_patch_body(model: type[Any]) -> dict[str, Any]:
    """A patch is accepted as merge-patch+json and as plain JSON."""
    schema = {"$ref": f"#/components/schemas/{model.__name__}"}
    return {
        "required": True,
        "content": {MERGE_PATCH: {"schema": schema}, "application/json": {"schema": schema}},
    }
