"""Lists of strings of a batch coerced with each distinct item cleaned once.

A batch's tag lists are many distinct lists of a few distinct items: each item
is cleaned and folded once for the whole batch, and each list is built from
its items' kept forms, exactly as ``values._string_list`` builds it (the first
spelling of each folded item, in order; ``None`` when nothing is left). A list
that ``_string_list`` would refuse (too long, an item that cannot be stored) is
left to it, so its error is its own.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import tzinfo
from typing import Any

from segmentry.model.schema import Attribute
from segmentry.model.values import (
    COERCERS,
    MAX_ITEM_LENGTH,
    MAX_LIST_LENGTH,
    InvalidValueError,
    _clean_text,
    fold,
)

Item = tuple[str, str] | None
"""An item's folded form and kept spelling; ``None`` for one that is dropped (blank)."""


def string_lists(
    attribute: Attribute, lists: Iterable[tuple[str, ...]], tz: tzinfo
) -> dict[tuple[str, ...], Any]:
    """Each distinct list of strings (as a tuple) to its stored form, ``None``, or
    ``InvalidValueError`` (the class) when ``validate`` refuses it."""
    items: dict[str, Item] = {}
    refused: set[str] = set()
    stored: dict[tuple[str, ...], Any] = {}
    for key in lists:
        for item in key:
            if item not in items and item not in refused:
                _clean(item, items, refused)
        if len(key) > MAX_LIST_LENGTH or not refused.isdisjoint(key):
            stored[key] = _coerced(attribute, key, tz)
            continue
        out: dict[str, str] = {}
        for item in key:
            kept = items[item]
            if kept is not None:
                out.setdefault(*kept)
        stored[key] = list(out.values()) or None
    return stored


def _clean(item: str, items: dict[str, Item], refused: set[str]) -> None:
    """Clean one item as ``_string_list`` does, keeping its forms, or its refusal."""
    try:
        text = _clean_text(item, MAX_ITEM_LENGTH)
    except InvalidValueError:
        refused.add(item)
        return
    items[item] = (fold(text), text) if text else None


def _coerced(attribute: Attribute, key: tuple[str, ...], tz: tzinfo) -> Any:
    """The list through the attribute's own coercer: its stored form, or the refusal."""
    try:
        return COERCERS[attribute.type](attribute, list(key), tz)
    except InvalidValueError:
        return InvalidValueError
