""" "See products" / "See members": a page at a time, CSV export, and the member
list of a fixed segment (add, remove, upload a CSV of ids)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from segmentry.engine.shop import Shop
from segmentry.engine.types import Entity, Member, Segment, SegmentType
from segmentry.errors import UnknownIdsError, ValidationError
from segmentry.model.schema import Attribute, Kind
from segmentry.web import idlists, render
from segmentry.web.auth import shop_of
from segmentry.web.csrf import MAX_UPLOAD_BYTES, post

PAGE = 50
EXPORT_PAGE = 1_000
MAIN = {
    Kind.PRODUCT: ("name", "brand", "price", "stock", "available"),
    Kind.CUSTOMER: ("email", "first_name", "last_name", "platform", "lifetime_value"),
}
SHOWN_UNKNOWN = 50


@dataclass
class Report:
    """What an edit of the member list did, or why it did nothing."""

    added: int = 0
    removed: int = 0
    unknown: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    error: str = ""
    typed: str = ""
    """The ids typed into the box, given back after a refusal so they can be corrected."""

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed)


def columns(shop: Shop, kind: Kind) -> list[Attribute]:
    """The main attributes of a kind, as the tables show them (labels included)."""
    by_key = {a.key: a for a in shop.attributes(kind)}
    return [by_key[key] for key in MAIN[kind]]


def with_entities(shop: Shop, kind: Kind, members: list[Member]) -> list[tuple[Member, Entity]]:
    """Each member with its attributes; one deleted meanwhile is left out."""
    found = {e.id: e for e in shop.get_many(kind, [m.id for m in members])}
    return [(m, found[m.id]) for m in members if m.id in found]


async def members_page(request: Request) -> Response:
    shop = shop_of(request)
    segment = shop.segment(request.path_params["code"])
    return _page(request, shop, segment, _report_of(request))


def _report_of(request: Request) -> Report | None:
    """The counts a successful edit redirected here with."""
    query = request.query_params
    added, removed = query.get("added", ""), query.get("removed", "")
    if not (added.isdigit() and removed.isdigit()):
        return None
    return Report(int(added), int(removed))


def _page(
    request: Request, shop: Shop, segment: Segment, report: Report | None, status: int = 200
) -> Response:
    segment = shop.segment(segment.code)  # as it is now: after an edit of its list
    cursor = request.query_params.get("cursor") or None
    page = shop.members(segment.code, limit=PAGE, cursor=cursor)
    base = f"/segments/{segment.code}/members"
    return render.page(
        request,
        "segments/members.html",
        status,
        section=f"{segment.kind.value}-segments",
        segment=segment,
        columns=columns(shop, segment.kind),
        rows=with_entities(shop, segment.kind, page.items),
        cursor=cursor,
        next_url=f"{base}?{urlencode({'cursor': page.next_cursor})}" if page.next_cursor else "",
        first_url=base,
        report=report,
        fixed=segment.type is SegmentType.FIXED,
        shown_unknown=SHOWN_UNKNOWN,
    )


async def export(request: Request) -> Response:
    """Every member with the main attributes, streamed a thousand at a time."""
    shop = shop_of(request)
    segment = shop.segment(request.path_params["code"])
    attrs = columns(shop, segment.kind)
    header = ["id", "member_since", *(a.key for a in attrs)]
    lines = idlists.csv_lines(header, _export_rows(shop, segment, attrs))
    disposition = f'attachment; filename="{segment.code}.csv"'
    return StreamingResponse(
        lines, media_type="text/csv; charset=utf-8", headers={"content-disposition": disposition}
    )


def _export_rows(shop: Shop, segment: Segment, attrs: list[Attribute]) -> Iterator[list[Any]]:
    cursor: str | None = None
    while True:
        page = shop.members(segment.code, limit=EXPORT_PAGE, cursor=cursor)
        for member, entity in with_entities(shop, segment.kind, page.items):
            since = member.since.isoformat().replace("+00:00", "Z")
            yield [member.id, since, *(entity.attributes.get(a.key) for a in attrs)]
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


# -- a fixed segment's member list ---------------------------------------------------------------


def _done(segment: Segment, report: Report) -> Response:
    counts = {"added": report.added, "removed": report.removed}
    return RedirectResponse(
        f"/segments/{segment.code}/members?{urlencode(counts)}", status_code=303
    )


def _edit(shop: Shop, code: str, add: list[str], remove: list[str], skip: bool) -> Report:
    """Edit the list; unknown ids change nothing unless the user chose to skip them."""
    try:
        added, removed = shop.edit_members(code, add=add, remove=remove)
    except UnknownIdsError as error:
        if not skip:
            return Report(unknown=error.ids)
        unknown = set(error.ids)
        known_add = [i for i in add if i not in unknown]
        known_remove = [i for i in remove if i not in unknown]
        added, removed = shop.edit_members(code, add=known_add, remove=known_remove)
        return Report(added, removed, skipped=error.ids)
    return Report(added, removed)


async def edit_members(request: Request, data: FormData) -> Response:
    """Add the ids typed into the box, and remove the members ticked in the table."""
    shop = shop_of(request)
    segment = shop.segment(request.path_params["code"])
    typed = str(data.get("add", ""))
    try:
        add = idlists.typed(typed)
        remove = [str(v) for v in data.getlist("remove") if isinstance(v, str) and v]
        report = _edit(shop, segment.code, add, remove, data.get("skip_unknown") == "yes")
    except (idlists.BadListError, ValidationError) as problem:
        report = Report(error=str(problem))
    report.typed = typed if report.error or report.unknown else ""
    return _answer(request, shop, segment, report)


async def _uploaded_ids(file: object) -> list[str]:
    if not isinstance(file, UploadFile) or not file.filename:
        raise idlists.BadListError("Choose a CSV file to upload.")
    ids = idlists.uploaded(await file.read())
    if not ids:
        raise idlists.BadListError("The file holds no ids.")
    return ids


async def upload(request: Request, data: FormData) -> Response:
    shop = shop_of(request)
    segment = shop.segment(request.path_params["code"])
    try:
        ids = await _uploaded_ids(data.get("file"))
        report = _edit(shop, segment.code, ids, [], data.get("skip_unknown") == "yes")
    except (idlists.BadListError, ValidationError) as problem:
        report = Report(error=str(problem))
    return _answer(request, shop, segment, report)


def _answer(request: Request, shop: Shop, segment: Segment, report: Report) -> Response:
    """Refusals and skipped ids are shown in full; a plain success redirects (so a
    reload does not post again) with its counts."""
    if report.error or report.unknown:
        return _page(request, shop, segment, report, 400)
    if report.skipped:
        return _page(request, shop, segment, report)
    return _done(segment, report)


routes: list[BaseRoute] = [
    Route("/segments/{code}/members", members_page),
    Route("/segments/{code}/members.csv", export),
    post("/segments/{code}/members", edit_members),
    post("/segments/{code}/members/upload", upload, max_bytes=MAX_UPLOAD_BYTES),
]
