"""ETags and ``If-Match``: a segment's version is its entity tag, so an edit based on
a version someone has changed since is refused (412) instead of overwriting theirs."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Header, Response
from starlette.exceptions import HTTPException

from segmentry.engine.types import Segment

TAG = re.compile(r'"?([0-9]{1,9})"?')

IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        max_length=100,
        description='The segment\'s `ETag` (its version, such as `"3"`) that the edit is '
        "based on; a segment changed since is refused with 412. `*` or no header: no check.",
    ),
]


def expected_version(if_match: str | None) -> int | None:
    """The version ``If-Match`` asks for, ``None`` for no check, 400 for a malformed one."""
    if if_match is None or if_match.strip() == "*":
        return None
    found = TAG.fullmatch(if_match.strip())
    if found is None:
        raise HTTPException(
            400, f'If-Match must be one strong entity tag such as "3", got {if_match[:40]!r}'
        )
    return int(found.group(1))


def etag(segment: Segment) -> str:
    return f'"{segment.version}"'


def tagged(response: Response, segment: Segment) -> Segment:
    response.headers["ETag"] = etag(segment)
    return segment


ETAG_HEADER = {"ETag": {"description": "The segment's version.", "schema": {"type": "string"}}}
