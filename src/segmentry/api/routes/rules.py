"""``POST /v1/rules/convert``: a rule from one format into another (docs/rules.md)."""

from __future__ import annotations

from fastapi import APIRouter

from segmentry.api.auth import ShopDep
from segmentry.api.bodies import ConvertIn, ConvertOut
from segmentry.api.json_route import JsonRoute
from segmentry.api.problems import described

routes = APIRouter(prefix="/v1/rules", tags=["Rules"], route_class=JsonRoute)


@routes.post(
    "/convert", response_model=ConvertOut, responses=described(422), summary="Convert a rule"
)
def convert_rule(shop: ShopDep, body: ConvertIn) -> ConvertOut:
    """The rule in format `to`, read against the tenant's attributes; what the target
    cannot express, or segmentry does not have, is a 422 naming the construct and where
    it is in the input."""
    converted = shop.convert_rule(
        body.kind, body.rule, source=body.from_, target=body.to, dialect=body.dialect
    )
    return ConvertOut(rule=converted)
