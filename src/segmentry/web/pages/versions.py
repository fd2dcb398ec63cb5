"""A segment's saved versions, what each changed, and restoring one."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from segmentry.engine.types import Version
from segmentry.errors import ConflictError, InUseError, RuleError, ValidationError
from segmentry.rules.jsonform import from_json
from segmentry.rules.printer import format_rule
from segmentry.web import render
from segmentry.web.auth import shop_of
from segmentry.web.csrf import post

COMPARED = (("name", "Name"), ("code", "Code"), ("description", "Description"),
            ("status", "Status"), ("rule", "Rule"))  # fmt: skip


MEANWHILE = (
    "Someone saved this segment meanwhile: here are its versions as they are now. "
    "Nothing was restored."
)


@dataclass(frozen=True, slots=True)
class Change:
    what: str
    before: str
    after: str


@dataclass(frozen=True, slots=True)
class VersionView:
    version: Version
    changes: list[Change]
    current: bool

    @property
    def first(self) -> bool:
        return self.version.version == 1


def _text(value: Any) -> str:
    """A field as people read it; a rule (its JSON form) as its canonical text."""
    if isinstance(value, dict):
        try:
            return format_rule(from_json(value))
        except RuleError:  # a rule an older version of the language wrote: shown as stored
            return json.dumps(value, ensure_ascii=False)
    return "" if value is None else str(value)


def changes(before: dict[str, Any] | None, after: dict[str, Any]) -> list[Change]:
    """What a version changed from the one before it (nothing for the first)."""
    if before is None:
        return []
    return [
        Change(label, _text(before.get(key)), _text(after.get(key)))
        for key, label in COMPARED
        if before.get(key) != after.get(key)
    ]


def views(saved: list[Version], current: int) -> list[VersionView]:
    """Newest first, each with what it changed."""
    ordered = sorted(saved, key=lambda v: v.version)
    out = [
        VersionView(v, changes(ordered[i - 1].definition if i else None, v.definition),
                    v.version == current)
        for i, v in enumerate(ordered)
    ]  # fmt: skip
    return out[::-1]


async def versions_page(request: Request) -> Response:
    shop = shop_of(request)
    segment = shop.segment(request.path_params["code"])
    return _page(request, segment.code, "")


def _page(request: Request, code: str, refused: str, status: int = 200) -> Response:
    shop = shop_of(request)
    segment = shop.segment(code)
    return render.page(
        request,
        "segments/versions.html",
        status,
        section=f"{segment.kind.value}-segments",
        segment=segment,
        versions=views(shop.versions(segment.code), segment.version),
        refused=refused,
    )


async def restore(request: Request, data: FormData) -> Response:
    """Restore a version as the newest, from the version the page showed."""
    shop = shop_of(request)
    segment = shop.segment(request.path_params["code"])
    wanted, seen = str(data.get("restore", "")), str(data.get("version", ""))
    if not (wanted.isdigit() and seen.isdigit()):
        raise HTTPException(400, "The form lost the version to restore; reload the page.")
    try:
        restored = shop.restore_version(segment.code, int(wanted), expected_version=int(seen))
    except ConflictError:
        return _page(request, segment.code, MEANWHILE, 409)
    except (InUseError, RuleError, ValidationError) as error:
        return _page(request, segment.code, f"Version {wanted} cannot be restored: {error}", 409)
    return RedirectResponse(f"/segments/{restored.code}?notice=restored", status_code=303)


routes: list[BaseRoute] = [
    Route("/segments/{code}/versions", versions_page),
    post("/segments/{code}/versions", restore),
]
