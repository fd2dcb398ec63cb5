"""People, not bare ids: what a product or a customer is called, shown beside its id."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from segmentry.engine.shop import Shop
from segmentry.engine.types import Entity
from segmentry.model.schema import Kind


def called(attributes: Mapping[str, Any]) -> str:
    """A product's name; a customer's first and last name, else their email; else ""."""
    name = attributes.get("name")
    if isinstance(name, str) and name.strip():
        return name.strip()
    person = " ".join(
        str(attributes[k]).strip()
        for k in ("first_name", "last_name")
        if isinstance(attributes.get(k), str) and str(attributes[k]).strip()
    )
    email = attributes.get("email")
    return person or (email.strip() if isinstance(email, str) else "")


def names(shop: Shop, kind: Kind, ids: Iterable[str]) -> dict[str, str]:
    """What each of ``ids`` is called (one read for all); ids of entities gone since
    are left out, and shown bare."""
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return {}
    found: list[Entity] = shop.get_many(kind, wanted)
    return {e.id: name for e in found if (name := called(e.attributes))}
