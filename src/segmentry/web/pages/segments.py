"""The segment lists ("Ecommerce > Product segments", "Marketing > Segmentation"),
a segment's page, "See uses", activating and deactivating, and delete."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from segmentry.engine.shop import Shop
from segmentry.engine.types import Segment, SegmentEdit, SegmentType, Status
from segmentry.errors import ConflictError, InUseError
from segmentry.web import render
from segmentry.web.auth import shop_of
from segmentry.web.chart import chart
from segmentry.web.csrf import post
from segmentry.web.paths import kind_of, segments_url

TYPES = [t.value for t in SegmentType]
STATUSES = [s.value for s in Status]


def _matches(segment: Segment, words: str) -> bool:
    """Search: every word appears in the name, code or description (ignoring case)."""
    haystack = f"{segment.name} {segment.code} {segment.description}".casefold()
    return all(word in haystack for word in words.casefold().split())


async def segment_list(request: Request) -> Response:
    kind = kind_of(request)
    query = request.query_params
    search, type_, status = query.get("q", ""), query.get("type", ""), query.get("status", "")
    errors = {}
    if type_ and type_ not in TYPES:
        errors["type"], type_ = f"Choose a type: {', '.join(TYPES)}.", ""
    if status and status not in STATUSES:
        errors["status"], status = f"Choose a status: {', '.join(STATUSES)}.", ""
    segments = shop_of(request).segments(kind, type_ or None, status or None)
    shown = [s for s in segments if _matches(s, search)]
    return render.page(
        request,
        "segments/list.html",
        400 if errors else 200,
        kind=kind,
        section=f"{kind.value}-segments",
        segments=shown,
        total=len(segments),
        search=search,
        type=type_,
        status=status,
        types=TYPES,
        statuses=STATUSES,
        errors=errors,
        deleted=query.get("deleted", ""),
    )


async def segment_page(request: Request) -> Response:
    shop = shop_of(request)
    segment = shop.segment(request.path_params["code"])
    history = chart(shop.history(segment.code), shop.segmentry.now())
    return render.page(
        request,
        "segments/detail.html",
        kind=segment.kind,
        section=f"{segment.kind.value}-segments",
        segment=segment,
        chart=history,
        uses=shop.uses(segment.code),
        referrers=referrers(shop, segment),
        notice=SHOWN_NOTICES.get(request.query_params.get("notice", ""), ""),
    )


NOTICES = {"active": "activated", "inactive": "deactivated"}
SHOWN_NOTICES = {
    "activated": "Segment activated.",
    "deactivated": "Segment deactivated.",
    "saved": "Saved.",
    "created": "Segment created.",
    "restored": "Restored: the version chosen is now the segment's newest version.",
    "conflict": "conflict",
}
"""The confirmations a redirect may ask for; any other ``notice`` shows nothing."""


async def set_status(request: Request, form: FormData) -> Response:
    """Activate or deactivate, from the version the page showed."""
    shop = shop_of(request)
    code = request.path_params["code"]
    wanted = str(form.get("status", ""))
    if wanted not in STATUSES:
        return RedirectResponse(f"/segments/{code}", status_code=303)
    version = str(form.get("version", ""))
    if not version.isdigit():
        raise HTTPException(400, "The form lost the version it changes; reload the page.")
    try:
        shop.edit_segment(code, SegmentEdit(status=Status(wanted)), expected_version=int(version))
    except ConflictError:
        return RedirectResponse(f"/segments/{code}?notice=conflict", status_code=303)
    return RedirectResponse(f"/segments/{code}?notice={NOTICES[wanted]}", status_code=303)


def _refers(node: Any, code: str) -> bool:
    """Whether a rule's JSON form asks for membership of the segment ``code``."""
    if isinstance(node, Mapping):
        if node.get("segment") == code:
            return True
        return any(_refers(v, code) for v in node.values())
    if isinstance(node, list):
        return any(_refers(v, code) for v in node)
    return False


def referrers(shop: Shop, segment: Segment) -> list[Segment]:
    """The segments whose rules refer to ``segment``: they rely on it as much as a
    registered use does, and it cannot be deleted while they do."""
    return [
        s
        for s in shop.segments(segment.kind)
        if s.code != segment.code and _refers(s.rule_json, segment.code)
    ]


async def uses_page(request: Request) -> Response:
    shop = shop_of(request)
    segment = shop.segment(request.path_params["code"])
    return render.page(
        request,
        "segments/uses.html",
        section=f"{segment.kind.value}-segments",
        segment=segment,
        uses=shop.uses(segment.code),
        referrers=referrers(shop, segment),
    )


async def delete_page(request: Request) -> Response:
    shop = shop_of(request)
    segment = shop.segment(request.path_params["code"])
    return _confirm(request, shop, segment)


def _confirm(
    request: Request, shop: Shop, segment: Segment, error: InUseError | None = None
) -> Response:
    """The confirmation, listing the uses and the segments whose rules refer to this
    one (those forbid deleting it); after a refusal, it says why and asks again."""
    return render.page(
        request,
        "segments/delete.html",
        409 if error else 200,
        section=f"{segment.kind.value}-segments",
        segment=segment,
        uses=shop.uses(segment.code),
        refused=error.message if error else "",
        referrers=referrers(shop, segment),
    )


async def delete(request: Request, form: FormData) -> Response:
    """Delete; a segment in use asks again, and only ``force`` deletes it then."""
    shop = shop_of(request)
    segment = shop.segment(request.path_params["code"])
    try:
        shop.delete_segment(segment.code, force=form.get("force") == "yes")
    except InUseError as error:
        return _confirm(request, shop, segment, error)
    target = f"{segments_url(segment.kind)}?deleted={segment.code}"
    return RedirectResponse(target, status_code=303)


routes: list[BaseRoute] = [
    Route("/segments/{code}", segment_page),
    post("/segments/{code}/status", set_status),
    Route("/segments/{code}/uses", uses_page),
    Route("/segments/{code}/delete", delete_page),
    post("/segments/{code}/delete", delete),
    Route("/{kinds}/segments", segment_list),
]
