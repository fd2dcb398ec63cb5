"""Attributes: the built-in ones of each kind and the tenant's custom ones."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from segmentry.api import render
from segmentry.api.auth import ShopDep
from segmentry.api.bodies import AttributeIn, AttributeOut
from segmentry.api.json_route import JsonRoute
from segmentry.api.pagination import Cursor, Key, Limit, Page, keyed_page
from segmentry.api.problems import described
from segmentry.model.schema import BUILTINS, Kind

routes = APIRouter(prefix="/v1/attributes", tags=["Attributes"], route_class=JsonRoute)
KINDS = list(Kind)


def _order(attribute: AttributeOut) -> Key:
    """Kind by kind: the built-in attributes in their fixed order, then custom ones by key."""
    builtins = [a.key for a in BUILTINS[attribute.kind]]
    if attribute.builtin:
        return (KINDS.index(attribute.kind), 0, builtins.index(attribute.key), "")
    return (KINDS.index(attribute.kind), 1, 0, attribute.key)


@routes.get("", response_model=Page[AttributeOut], summary="List attributes")
def list_attributes(
    shop: ShopDep,
    kind: Annotated[Kind | None, Query()] = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Page[AttributeOut]:
    kinds = [kind] if kind else KINDS
    found = [render.attribute(k, a) for k in kinds for a in shop.attributes(k)]
    items, next_cursor = keyed_page(found, _order, limit, cursor)
    return Page[AttributeOut](items=items, next_cursor=next_cursor)


@routes.post(
    "",
    status_code=201,
    response_model=AttributeOut,
    responses=described(409),
    summary="Declare a custom attribute",
)
def declare(shop: ShopDep, body: AttributeIn) -> AttributeOut:
    """A key is lowercase letters, digits and `_`; it cannot shadow a built-in one."""
    declared = shop.declare_attribute(
        body.kind, body.key, body.type, label=body.label, values=body.values
    )
    return render.attribute(body.kind, declared)


@routes.delete(
    "/{kind}/{key}",
    status_code=204,
    responses=described(404, 409),
    summary="Delete a custom attribute",
)
def delete(
    shop: ShopDep,
    kind: Kind,
    key: Annotated[str, Path(examples=["loyalty_status"])],
) -> Response:
    """Refused (409, naming the segments) while a rule uses it; its values are removed
    from every entity."""
    shop.delete_attribute(kind, key)
    return Response(status_code=204)
