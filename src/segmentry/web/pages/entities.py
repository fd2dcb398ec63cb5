"""Browse products and customers: a list (optionally narrowed by a rule), each
entity's page with its attributes and segments, and "why" for any segment."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from segmentry.engine.types import Entity
from segmentry.errors import RuleError
from segmentry.model.schema import Kind
from segmentry.web import naming, render
from segmentry.web.auth import shop_of
from segmentry.web.editor import builder
from segmentry.web.pages.members import PAGE, columns
from segmentry.web.paths import kind_of


async def entity_list(request: Request) -> Response:
    kind, shop = kind_of(request), shop_of(request)
    rule = request.query_params.get("rule", "").strip()
    cursor = request.query_params.get("cursor") or None
    try:
        page = shop.entities(kind, rule or None, limit=PAGE, cursor=cursor)
    except RuleError as error:
        return _list(request, kind, rule=rule, cursor=cursor, items=[], next_url="", error=error)
    base = f"/{kind.plural}"
    more = urlencode({"rule": rule, "cursor": page.next_cursor}) if page.next_cursor else ""
    next_url = f"{base}?{more}" if more else ""
    return _list(request, kind, rule=rule, cursor=cursor, items=page.items, next_url=next_url)


def _list(
    request: Request,
    kind: Kind,
    *,
    rule: str,
    cursor: str | None,
    items: list[Entity],
    next_url: str,
    error: RuleError | None = None,
) -> Response:
    shop = shop_of(request)
    return render.page(
        request,
        "entities/list.html",
        400 if error else 200,
        kind=kind,
        section=f"{kind.value}-entities",
        rule=rule,
        error=error,
        items=items,
        columns=columns(shop, kind),
        cursor=cursor,
        next_url=next_url,
        first_url=f"/{kind.plural}?{urlencode({'rule': rule})}" if rule else f"/{kind.plural}",
    )


async def entity_page(request: Request) -> Response:
    kind, shop = kind_of(request, "kind"), shop_of(request)
    entity = shop.get(kind, request.path_params["entity_id"])
    attributes = [a for a in shop.attributes(kind) if a.key in entity.attributes]
    segments = shop.segments(kind)
    return render.page(
        request,
        "entities/detail.html",
        kind=kind,
        section=f"{kind.value}-entities",
        entity=entity,
        attributes=attributes,
        memberships=shop.segments_of(kind, entity.id),
        segments=segments,
        segment_names={s.code: s.name for s in segments},
    )


async def why(request: Request) -> Response:
    """One entity against one segment: each condition, the value seen, true or false."""
    shop = shop_of(request)
    segment = shop.segment(request.query_params.get("segment", ""))
    entity_id = request.query_params.get("id", "")
    explanation = shop.explain(segment.code, entity_id)
    attributes = {a.key: a for a in shop.attributes(segment.kind)}
    return render.page(
        request,
        "entities/why.html",
        section=f"{segment.kind.value}-segments",
        segment=segment,
        entity_id=entity_id,
        names=naming.names(shop, segment.kind, [entity_id]),
        explanation=explanation,
        attributes=attributes,
        label=lambda op, key: builder.label(op, builder.lookup(attributes, key)),
    )


routes: list[BaseRoute] = [
    Route("/why", why),
    Route("/{kinds}", entity_list),
    Route("/{kind}/{entity_id:path}", entity_page),
]
