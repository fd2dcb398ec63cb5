"""Nesting of custom attributes: an entity as the outside sees it (built-in
attributes at the top level, custom ones under ``attributes``: the HTTP API's
bodies and JSON Lines imports) and the flat mapping the library writes and
stores, one into the other."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from segmentry.errors import ValidationError
from segmentry.model.schema import Schema

CUSTOM = "attributes"


def flatten(schema: Schema, body: object, *, where: str = "") -> dict[str, Any]:
    """The flat values of an outside body; custom keys must sit under ``attributes``."""
    prefix = f"{where}: " if where else ""
    if not isinstance(body, Mapping):
        raise ValidationError(f"{prefix}an entity must be a JSON object")
    flat = {k: v for k, v in body.items() if k != CUSTOM}
    for key in flat:
        attribute = schema.get(key) if isinstance(key, str) else None
        if attribute is not None and not attribute.builtin:
            raise ValidationError(
                f'{prefix}{attribute.key} is a custom attribute; put it under "{CUSTOM}"',
                field=attribute.key,
            )
    flat.update(_custom(schema, body.get(CUSTOM), prefix))
    return flat


def _custom(schema: Schema, given: object, prefix: str) -> dict[str, Any]:
    if given is None:
        return {}
    if not isinstance(given, Mapping):
        raise ValidationError(f'{prefix}"{CUSTOM}" must be a JSON object', field=CUSTOM)
    for key in given:
        attribute = schema.get(key) if isinstance(key, str) else None
        if attribute is not None and attribute.builtin:
            raise ValidationError(
                f"{prefix}{attribute.key} is a built-in attribute; put it at the top level, "
                f'not under "{CUSTOM}"',
                field=attribute.key,
            )
    return dict(given)


def custom_keys(schema: Schema) -> frozenset[str]:
    return frozenset(a.key for a in schema.custom)


def nest(schema: Schema, doc: Mapping[str, Any]) -> dict[str, Any]:
    """A stored document in the outside shape."""
    return nest_custom(custom_keys(schema), doc)


def nest_custom(custom: Collection[str], doc: Mapping[str, Any]) -> dict[str, Any]:
    """A stored document in the outside shape, ``custom`` naming its custom attributes."""
    body = {k: v for k, v in doc.items() if k not in custom}
    body[CUSTOM] = {k: v for k, v in doc.items() if k in custom}
    return body
