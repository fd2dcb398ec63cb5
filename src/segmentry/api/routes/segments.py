"""Segments: list, create, get, edit (with ``If-Match``), delete, preview, explain,
versions and member-count history."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response

from segmentry.api import render
from segmentry.api.auth import ShopDep
from segmentry.api.bodies import (
    EditPreviewIn,
    EditPreviewOut,
    ExplanationOut,
    HistoryPointOut,
    PreviewIn,
    PreviewOut,
    SegmentIn,
    SegmentOut,
    SegmentPatch,
    VersionOut,
)
from segmentry.api.json_route import JsonRoute
from segmentry.api.pagination import Cursor, Limit, Page, keyed_page
from segmentry.api.preconditions import ETAG_HEADER, IfMatch, expected_version, tagged
from segmentry.api.problems import described
from segmentry.api.routes.entities import EntityId
from segmentry.engine.types import SegmentSpec, SegmentType, Status
from segmentry.model.schema import Kind
from segmentry.model.temporal import to_micros

routes = APIRouter(prefix="/v1/segments", tags=["Segments"], route_class=JsonRoute)
CodePath = Annotated[str, Path(description="The segment's code.", examples=["vip"])]
TAGGED: dict[int | str, dict[str, Any]] = {200: {"headers": ETAG_HEADER}}
RenameForce = Annotated[
    bool, Query(description="Rename even if the segment has uses or webhooks name it.")
]


@routes.get("", response_model=Page[SegmentOut], summary="List segments")
def list_segments(
    *,
    shop: ShopDep,
    kind: Annotated[Kind | None, Query()] = None,
    type: Annotated[SegmentType | None, Query()] = None,
    status: Annotated[Status | None, Query()] = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Page[SegmentOut]:
    """The tenant's segments by code, optionally of one kind, type or status."""
    found = shop.segments(kind, type, status)
    items, next_cursor = keyed_page(found, lambda s: (s.code,), limit, cursor)
    return Page[SegmentOut](items=[render.segment(s) for s in items], next_cursor=next_cursor)


@routes.post(
    "",
    status_code=201,
    response_model=SegmentOut,
    responses={201: {"headers": ETAG_HEADER}, **described(409)},
    summary="Create a segment",
)
def create_segment(shop: ShopDep, body: SegmentIn, response: Response) -> SegmentOut:
    """Evaluated over every entity of its kind before the answer: its members are ready.
    `rule_format` says which format `rule` is in; the segment keeps our form."""
    values = body.model_dump(exclude={"rule_format"})
    if body.rule is not None:
        values["rule"] = shop.rule_in_format(body.kind, body.rule, body.rule_format)
    spec = SegmentSpec(**values)
    segment = tagged(response, shop.create_segment(spec))
    response.headers["Location"] = f"/v1/segments/{segment.code}"
    return render.segment(segment)


@routes.post("/preview", response_model=PreviewOut, summary="Preview an unsaved rule")
def preview(shop: ShopDep, body: PreviewIn) -> PreviewOut:
    """How many entities the rule selects now, and a sample of their ids."""
    found = shop.preview(body.kind, body.rule, limit=body.limit)
    return PreviewOut(count=found.count, sample=found.sample)


@routes.get(
    "/{code}",
    response_model=SegmentOut,
    responses={**TAGGED, **described(404)},
    summary="Get a segment",
)
def get_segment(shop: ShopDep, code: CodePath, response: Response) -> SegmentOut:
    return render.segment(tagged(response, shop.segment(code)))


@routes.patch(
    "/{code}",
    response_model=SegmentOut,
    responses={**TAGGED, **described(404, 409, 412)},
    summary="Edit a segment",
)
def edit_segment(
    *,
    shop: ShopDep,
    code: CodePath,
    body: SegmentPatch,
    response: Response,
    if_match: IfMatch = None,
    force: RenameForce = False,
) -> SegmentOut:
    """A JSON merge patch of `code`, `name`, `description`, `status` or `rule`; with
    `If-Match`, refused with 412 if the segment changed since that version; `rule_format`
    as on create. A new `code` is refused (409, with the uses) while something uses the
    segment, unless `force`."""
    if body.rule is not None and body.rule_format not in ("text", "json"):
        rule = shop.rule_in_format(shop.segment(code).kind, body.rule, body.rule_format)
        body = body.model_copy(update={"rule": rule})
    edited = shop.edit_segment(
        code, render.segment_edit(body), expected_version=expected_version(if_match), force=force
    )
    return render.segment(tagged(response, edited))


@routes.delete(
    "/{code}", status_code=204, responses=described(404, 409, 412), summary="Delete a segment"
)
def delete_segment(
    shop: ShopDep,
    code: CodePath,
    force: Annotated[
        bool, Query(description="Delete even if the segment has uses or webhooks name it.")
    ] = False,
    if_match: IfMatch = None,
) -> Response:
    """Refused (409, with the uses) while something uses the segment, unless `force`;
    always refused while another segment's rule refers to it; with `If-Match`,
    refused with 412 if the segment changed since that version."""
    shop.delete_segment(code, force=force, expected_version=expected_version(if_match))
    return Response(status_code=204)


@routes.post(
    "/{code}/preview",
    response_model=EditPreviewOut,
    responses=described(404),
    summary="Preview an edit of the rule",
)
def preview_edit(shop: ShopDep, code: CodePath, body: EditPreviewIn) -> EditPreviewOut:
    """Who would enter and leave if the segment's rule became `rule`; nothing is saved."""
    found = shop.preview_edit(code, body.rule, limit=body.limit)
    return EditPreviewOut(
        count=found.count,
        entering=found.entering,
        leaving=found.leaving,
        sample_entering=found.sample_entering,
        sample_leaving=found.sample_leaving,
    )


@routes.get(
    "/{code}/explain/{entity_id}",
    response_model=ExplanationOut,
    responses=described(404),
    summary="Explain one entity's membership",
)
def explain(shop: ShopDep, code: CodePath, entity_id: EntityId) -> ExplanationOut:
    found = shop.explain(code, entity_id)
    return ExplanationOut(member=found.member, tree=found.tree)


@routes.get(
    "/{code}/versions",
    response_model=Page[VersionOut],
    responses=described(404),
    summary="List saved versions",
)
def versions(
    shop: ShopDep, code: CodePath, limit: Limit = 100, cursor: Cursor = None
) -> Page[VersionOut]:
    """Every saved definition, oldest first, with when and by which key."""
    items, next_cursor = keyed_page(shop.versions(code), lambda v: (v.version,), limit, cursor)
    return Page[VersionOut](items=[render.version(v) for v in items], next_cursor=next_cursor)


@routes.post(
    "/{code}/versions/{version}/restore",
    response_model=SegmentOut,
    responses={**TAGGED, **described(404, 409, 412)},
    summary="Restore a version",
)
def restore(
    *,
    shop: ShopDep,
    code: CodePath,
    version: Annotated[int, Path(ge=1, le=2**31 - 1)],
    response: Response,
    if_match: IfMatch = None,
    force: RenameForce = False,
) -> SegmentOut:
    """Make version `version`'s definition current again, as a new version; one of
    another code is a rename, refused (409) while the segment has uses unless `force`."""
    restored = shop.restore_version(
        code, version, expected_version=expected_version(if_match), force=force
    )
    return render.segment(tagged(response, restored))


@routes.get(
    "/{code}/history",
    response_model=Page[HistoryPointOut],
    responses=described(404),
    summary="Member-count history",
)
def history(
    shop: ShopDep, code: CodePath, limit: Limit = 100, cursor: Cursor = None
) -> Page[HistoryPointOut]:
    """Oldest first; points older than 7 days are thinned to one an hour, older than 90
    days to one a day."""
    points, next_cursor = keyed_page(
        shop.history(code), lambda p: (to_micros(p.at),), limit, cursor
    )
    items = [HistoryPointOut(at=p.at, member_count=p.member_count) for p in points]
    return Page[HistoryPointOut](items=items, next_cursor=next_cursor)
