"""The outside shape of entities: built-ins at the top, custom ones under ``attributes``."""

from __future__ import annotations

import pytest

from segmentry.errors import ValidationError
from segmentry.model.nesting import flatten, nest
from segmentry.model.schema import Kind, Schema, declare

SCHEMA = Schema(Kind.CUSTOMER, (declare(Kind.CUSTOMER, "tier", "string"),))


def test_flatten_and_nest_are_inverse() -> None:
    body = {"id": "c1", "email": "a@b.c", "attributes": {"tier": "A"}}
    flat = flatten(SCHEMA, body)
    assert flat == {"id": "c1", "email": "a@b.c", "tier": "A"}
    assert nest(SCHEMA, flat) == body


def test_nest_always_gives_attributes() -> None:
    assert nest(SCHEMA, {"id": "c1"}) == {"id": "c1", "attributes": {}}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"tier": "A"}, 'tier is a custom attribute; put it under "attributes"'),
        ({"attributes": {"email": "x"}}, "email is a built-in attribute; put it at the top level"),
        ({"attributes": ["tier"]}, '"attributes" must be a JSON object'),
        (["c1"], "an entity must be a JSON object"),
    ],
)
def test_misplaced_attributes_are_refused_with_where_they_go(body: object, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        flatten(SCHEMA, body)
