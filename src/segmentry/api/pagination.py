"""Cursor pagination for every list: ``limit`` (1 to 1,000, default 100) and ``cursor``.

Long lists (entities, members, events) are paged by the library, whose
cursors are positions in a stable order. Short lists that the library returns
whole (segments, attributes, uses, versions, history, an entity's segments)
are paged here, in an order by a unique key of their items; the cursor is
that key of the last item sent, so an item deleted between two pages never
shifts the next one.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from typing import Annotated, Generic, TypeVar

import orjson
from fastapi import Query
from pydantic import BaseModel, Field

from segmentry.engine.reads import MAX_PAGE
from segmentry.errors import ValidationError

T = TypeVar("T")
Key = tuple[int | str, ...]

Limit = Annotated[
    int, Query(ge=1, le=MAX_PAGE, description="Items per page, 1 to 1,000.", examples=[100])
]
Cursor = Annotated[
    str | None,
    Query(
        max_length=1_000,
        description="The `next_cursor` of the previous page; leave out for the first page.",
    ),
]


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; `null` on the last page."
    )


def keyed_page(
    items: Sequence[T], key: Callable[[T], Key], limit: int, cursor: str | None
) -> tuple[list[T], str | None]:
    """One page of ``items`` in the order of ``key`` (unique per item), after ``cursor``."""
    ordered = sorted(items, key=lambda item: _comparable(key(item)))
    if cursor:
        after = decode(cursor)
        ordered = [item for item in ordered if _comparable(key(item)) > after]
    page = ordered[:limit]
    more = len(ordered) > limit
    return page, encode(key(page[-1])) if more else None


def _comparable(key: Key) -> list[list[int | str]]:
    """Keys mixing numbers and text compare part by part, kind first."""
    return [[0, part] if isinstance(part, int) else [1, part] for part in key]


def encode(key: Key) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(_comparable(key))).decode().rstrip("=")


def decode(cursor: str) -> list[list[int | str]]:
    try:
        raw = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError):
        raw = None
    if not _well_formed(raw):
        raise ValidationError(
            f"cursor {cursor!r} is not a cursor this list gave out", field="cursor"
        )
    return raw  # type: ignore[no-any-return]  # checked by _well_formed


def _well_formed(raw: object) -> bool:
    return isinstance(raw, list) and all(
        isinstance(part, list)
        and len(part) == 2
        and (part[0], type(part[1])) in ((0, int), (1, str))
        for part in raw
    )
