"""A segment's members: pages of them, the CSV export of all, one member check, and
the hand-kept members of a fixed segment."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials

from segmentry.api.auth import Credentials, ShopDep, current_shop, segmentry_of
from segmentry.api.bodies import MemberCheck, MemberOut, MembersEdit, MembersEdited
from segmentry.api.json_route import JsonRoute
from segmentry.api.pagination import Cursor, Limit, Page
from segmentry.api.problems import described
from segmentry.api.routes.entities import EntityId
from segmentry.api.routes.segments import CodePath
from segmentry.engine.csv_cells import neutralised
from segmentry.engine.reads import MAX_PAGE, Kept
from segmentry.engine.shop import Shop
from segmentry.engine.types import Member
from segmentry.engine.types import Page as MemberPages
from segmentry.errors import NotFoundError
from segmentry.model.values import format_instant

MemberPage = MemberPages[Member]
routes = APIRouter(prefix="/v1/segments/{code}/members", tags=["Members"], route_class=JsonRoute)
CSV = "text/csv"
Accept = Annotated[
    str | None,
    Header(description="`text/csv` exports every member as CSV (`id,since`), streamed."),
]
CSV_ANSWER: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "A page of members, or with `Accept: text/csv` all of them.",
        "content": {CSV: {"schema": {"type": "string"}}},
    }
}


@routes.get(
    "",
    response_model=Page[MemberOut],
    responses={**CSV_ANSWER, **described(404)},
    summary="List members (or export them as CSV)",
)
def members(
    shop: ShopDep,
    code: CodePath,
    limit: Limit = 100,
    cursor: Cursor = None,
    accept: Accept = None,
) -> Page[MemberOut] | Response:
    """In the order the entities were first written."""
    if prefers_csv(accept):
        first = shop.members(code, limit=MAX_PAGE)  # an unknown segment fails here, not mid-stream
        headers = {"Content-Disposition": f'attachment; filename="{code}-members.csv"'}
        return StreamingResponse(csv_export(shop, code, first), media_type=CSV, headers=headers)
    page = shop.members(code, limit=limit, cursor=cursor)
    items = [MemberOut(id=m.id, since=m.since) for m in page.items]
    return Page[MemberOut](items=items, next_cursor=page.next_cursor)


def prefers_csv(accept: str | None) -> bool:
    """Whether ``Accept`` ranks CSV above JSON (JSON when it names neither)."""
    ranks = {"json": _quality(accept, "application/json"), "csv": _quality(accept, CSV)}
    return ranks["csv"] > ranks["json"]


def _quality(accept: str | None, media_type: str) -> float:
    best = 0.0
    for item in (accept or "").split(","):
        name, _, params = item.strip().partition(";")
        if name.strip().lower() == media_type:
            best = max(best, _q(params))
    return best


def _q(params: str) -> float:
    for param in params.split(";"):
        key, _, value = param.strip().partition("=")
        if key.strip() == "q":
            try:
                return min(max(float(value), 0.0), 1.0)
            except ValueError:
                return 0.0
    return 1.0


def csv_export(shop: Shop, code: str, first: MemberPage) -> Iterator[bytes]:
    """Every member, a page (one read) at a time: never all of them in memory."""
    yield b"id,since\r\n"
    page = first
    while True:
        yield _csv_rows(page.items)
        if page.next_cursor is None:
            return
        page = shop.members(code, limit=MAX_PAGE, cursor=page.next_cursor)


def _csv_rows(items: list[Member]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerows((neutralised(m.id), format_instant(m.since)) for m in items)
    return buffer.getvalue().encode()


@routes.get(
    "/{entity_id}",
    response_model=MemberCheck,
    responses=described(404),
    summary="Is this entity a member?",
)
async def member(
    request: Request, credentials: Credentials, code: CodePath, entity_id: EntityId
) -> MemberCheck:
    """200 with `since` for a member; 404 for anything else."""
    # A promotion asks this at every checkout. On SQLite the key check and the kept
    # state's answer are a few indexed reads of a local file, cheaper than handing them
    # to a worker thread, so they run here; anything that may wait (a write half-way
    # through the state, a state to load, a database server) runs in one worker thread
    # (FastAPI would take a thread for the key and another for the read).
    found: Member | Kept | None = Kept.STALE
    if segmentry_of(request).reads_are_local:
        found = current_shop(request, credentials).kept_member(code, entity_id)
    if found is Kept.STALE:
        found = await run_in_threadpool(_member, request, credentials, code, entity_id)
    if found is None:
        raise NotFoundError(f"{entity_id!r} is not a member of segment {code!r}")
    return MemberCheck(member=True, since=found.since)


def _member(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None,
    code: str,
    entity_id: str,
) -> Member | None:
    return current_shop(request, credentials).member(code, entity_id)


@routes.post(
    "",
    response_model=MembersEdited,
    responses=described(404),
    summary="Add and remove members of a fixed segment",
)
def edit_members(shop: ShopDep, code: CodePath, body: MembersEdit) -> MembersEdited:
    """Every id must name an existing entity (422 lists the unknown ones, and nothing
    changes); adding a member or removing a non-member changes nothing."""
    added, removed = shop.edit_members(code, add=body.add, remove=body.remove)
    return MembersEdited(added=added, removed=removed)
