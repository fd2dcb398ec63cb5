"""The page's URLs: kinds in paths, and links to entities and segments."""

from __future__ import annotations

from urllib.parse import quote

from starlette.exceptions import HTTPException
from starlette.requests import Request

from segmentry.model.schema import SEGMENTED_KINDS, Kind

BY_PLURAL = {kind.plural: kind for kind in Kind}


def kind_of(request: Request, param: str = "kinds") -> Kind:
    """The kind a path names (``products``, or ``product`` for one), or a 404."""
    word = str(request.path_params.get(param, ""))
    kind = BY_PLURAL.get(word) or (Kind(word) if word in SEGMENTED_KINDS else None)
    if kind is None:
        raise HTTPException(404)
    return kind


def entity_url(kind: Kind | str, entity_id: str) -> str:
    """An entity's page; its id may hold any character, so it is quoted whole."""
    return f"/{Kind(kind).value}/{quote(entity_id, safe='')}"


def segments_url(kind: Kind | str) -> str:
    return f"/{Kind(kind).plural}/segments"
