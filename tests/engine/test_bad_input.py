"""Bad input from outside is refused with a clear error on both back ends, never a
database error (PostgreSQL refuses NUL in text, for one)."""

from __future__ import annotations

import pytest

from segmentry.engine.segmentry import Segmentry
from segmentry.engine.shop import Shop
from segmentry.engine.types import SegmentSpec, SegmentType, Use, UseType
from segmentry.errors import AuthenticationError, SchemaError, ValidationError
from segmentry.model.schema import Kind

BAD_IDS = ["p\x00", "p\udc80", "", "x" * 300]


@pytest.mark.parametrize("bad", BAD_IDS)
def test_malformed_ids_in_lookups_are_validation_errors(shop: Shop, bad: str) -> None:
    shop.upsert(Kind.PRODUCT, "p", {"price": 1})
    shop.create_segment(SegmentSpec(kind=Kind.PRODUCT, code="s", name="S", rule="price > 0"))
    shop.create_segment(SegmentSpec(kind=Kind.PRODUCT, code="f", name="F", type=SegmentType.FIXED))
    calls = [
        lambda: shop.get(Kind.PRODUCT, bad),
        lambda: shop.delete(Kind.PRODUCT, bad),
        lambda: shop.segments_of(Kind.PRODUCT, bad),
        lambda: shop.member("s", bad),
        lambda: shop.explain("s", bad),
        lambda: shop.edit_members("f", add=[bad]),
        lambda: shop.patch(Kind.PRODUCT, bad, {"price": 2}),
    ]
    for call in calls:
        with pytest.raises(ValidationError):
            call()


def test_a_bad_id_names_its_item_only_in_a_batch(shop: Shop) -> None:
    with pytest.raises(ValidationError) as one:
        shop.upsert(Kind.PRODUCT, "", {"price": 1})
    assert one.value.message == "id must not be empty"
    with pytest.raises(ValidationError) as batch:
        shop.upsert_many(Kind.PRODUCT, [{"id": "p1"}, {"id": ""}])
    assert batch.value.message == "item 1: id must not be empty"


@pytest.mark.parametrize("text", ["a\x00b", "a\x07b"])
def test_free_text_with_control_characters_is_refused(
    shop: Shop, segmentry: Segmentry, text: str
) -> None:
    with pytest.raises(ValidationError, match="name contains a control character"):
        shop.create_segment(SegmentSpec(kind=Kind.PRODUCT, code="s", name=text, rule="price > 1"))
    with pytest.raises(ValidationError, match="description contains a control character"):
        shop.create_segment(
            SegmentSpec(kind=Kind.PRODUCT, code="s", name="S", description=text, rule="price > 1")
        )
    with pytest.raises(ValidationError):
        segmentry.create_tenant(text)
    with pytest.raises(ValidationError):
        segmentry.issue_key(shop.tenant_id, text)
    with pytest.raises(SchemaError):
        shop.declare_attribute(Kind.PRODUCT, "color", "string", label=text)
    with pytest.raises(SchemaError):
        shop.declare_attribute(Kind.CUSTOMER, "tier", "enum", values=[text])
    assert shop.segments() == []


def test_descriptions_may_span_lines(shop: Shop) -> None:
    spec = SegmentSpec(
        kind=Kind.PRODUCT, code="s", name="S", description="one\ntwo", rule="price > 1"
    )
    assert shop.create_segment(spec).description == "one\ntwo"


@pytest.mark.parametrize("key", [None, "", "sgk_\x00abc_def", "sgk_abc", "nonsense", "sgk_é_x"])
def test_malformed_keys_do_not_authenticate(segmentry: Segmentry, key: object) -> None:
    with pytest.raises(AuthenticationError):
        segmentry.authenticate(key)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (("", UseType.WORKFLOW, "n", None), "use id must not be empty"),
        (("u", "newsletter", "n", None), "use type must be one of"),
        (("u", UseType.WORKFLOW, " ", None), "use name must not be empty"),
        (("u", UseType.WORKFLOW, "n", "ftp://x"), "must start with http"),
    ],
)
def test_uses_are_validated(fields: tuple[object, ...], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Use(*fields)  # type: ignore[arg-type]


def test_uses_accept_plain_strings_for_their_type(shop: Shop) -> None:
    shop.create_segment(SegmentSpec(kind=Kind.PRODUCT, code="s", name="S", rule="price > 1"))
    shop.put_use("s", Use("u1", "workflow", "Welcome"))  # type: ignore[arg-type]
    assert shop.uses("s")[0].type is UseType.WORKFLOW
