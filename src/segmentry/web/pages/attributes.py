"""Custom attributes: the list of a kind's attributes, and declaring a new one."""

from __future__ import annotations

import re

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from segmentry.errors import AlreadyExistsError, SchemaError
from segmentry.model.schema import AttrType, Kind
from segmentry.web import render
from segmentry.web.auth import shop_of
from segmentry.web.csrf import post
from segmentry.web.paths import kind_of

TYPES = [t.value for t in AttrType]


def _field_of(message: str) -> str:
    """Which field a declaration's refusal is about, from what it names."""
    lowered = message.casefold()
    if "label" in lowered:
        return "label"
    if "enum" in lowered or "values" in lowered:
        return "values"
    if "type" in lowered and "key" not in lowered:
        return "type"
    return "key"


def _page(
    request: Request,
    kind: Kind,
    values: dict[str, str],
    errors: dict[str, str],
    declared: str = "",
) -> Response:
    shop = shop_of(request)
    return render.page(
        request,
        "attributes.html",
        400 if errors else 200,
        kind=kind,
        section=f"{kind.value}-attributes",
        attributes=shop.attributes(kind),
        types=TYPES,
        values=values,
        errors=errors,
        declared=declared,
    )


async def attribute_list(request: Request) -> Response:
    kind = kind_of(request)
    declared = request.query_params.get("declared", "")
    return _page(request, kind, {"type": "string"}, {}, declared)


async def declare(request: Request, data: FormData) -> Response:
    kind, shop = kind_of(request), shop_of(request)
    values = {k: str(data.get(k, "")) for k in ("key", "label", "type", "values")}
    key = values["key"].strip()
    enum_values = [v.strip() for v in re.split(r"[\n,]", values["values"]) if v.strip()]
    try:
        shop.declare_attribute(kind, key, values["type"], label=values["label"], values=enum_values)
    except AlreadyExistsError as error:
        return _page(request, kind, values, {"key": error.message})
    except SchemaError as error:
        return _page(request, kind, values, {_field_of(error.message): error.message})
    return RedirectResponse(f"/{kind.plural}/attributes?declared={key}", status_code=303)


routes: list[BaseRoute] = [
    Route("/{kinds}/attributes", attribute_list),
    post("/{kinds}/attributes", declare),
]
