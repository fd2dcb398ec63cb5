"""Segments: lifecycle, versions, conflicts, uses, fixed members, nesting."""

from __future__ import annotations

from datetime import timedelta

import pytest

from segmentry.engine.shop import Shop
from segmentry.engine.types import (
    Cause,
    Change,
    SegmentEdit,
    SegmentSpec,
    SegmentType,
    Status,
    Use,
    UseType,
)
from segmentry.errors import (
    AlreadyExistsError,
    ConflictError,
    InUseError,
    NotFoundError,
    RuleError,
    UnknownIdsError,
    ValidationError,
)
from segmentry.model.schema import Kind
from tests.engine.conftest import ManualClock


def products(shop: Shop) -> None:
    shop.upsert_many(
        Kind.PRODUCT,
        [
            {"id": "p1", "name": "Air Max", "brand": "Nike", "price": 120},
            {"id": "p2", "name": "Air Force", "brand": "nike", "price": 100},
            {"id": "p3", "name": "Socks", "price": 9.99},
        ],
    )


def dynamic(code: str, rule: str, **kw: object) -> SegmentSpec:
    return SegmentSpec(kind=Kind.PRODUCT, code=code, name=code.title(), rule=rule, **kw)  # type: ignore[arg-type]


def ids(shop: Shop, code: str) -> set[str]:
    return {m.id for m in shop.members(code).items}


def test_a_new_segment_is_evaluated_before_the_call_returns(shop: Shop) -> None:
    products(shop)
    segment = shop.create_segment(dynamic("nike100", "brand = 'Nike' AND price > 100"))
    assert (segment.member_count, segment.version, segment.status) == (1, 1, Status.ACTIVE)
    assert segment.rule_text == "brand = 'Nike' AND price > 100"
    assert ids(shop, "nike100") == {"p1"}
    assert [(e.entity_id, e.change, e.cause) for e in shop.events().items] == [
        ("p1", Change.ENTERED, Cause.SEGMENT_CHANGED)
    ]


def test_entity_writes_move_members_in_and_out_in_the_same_call(shop: Shop) -> None:
    products(shop)
    shop.create_segment(dynamic("cheap", "price < 50"))
    shop.patch(Kind.PRODUCT, "p1", {"price": 20})
    shop.patch(Kind.PRODUCT, "p3", {"price": None})
    assert ids(shop, "cheap") == {"p1"}
    changes = [(e.entity_id, e.change, e.cause) for e in shop.events(code="cheap").items]
    assert changes[-2:] == [
        ("p1", Change.ENTERED, Cause.ENTITY_CHANGED),
        ("p3", Change.EXITED, Cause.ENTITY_CHANGED),
    ]
    assert shop.member("cheap", "p1") is not None
    assert shop.member("cheap", "p3") is None


def test_edits_bump_the_version_and_keep_every_definition(shop: Shop) -> None:
    products(shop)
    shop.create_segment(dynamic("s", "price > 50"))
    edited = shop.edit_segment(
        "s", SegmentEdit(rule="price > 110", name="Dear"), expected_version=1
    )
    assert (edited.version, edited.member_count, edited.name) == (2, 1, "Dear")
    with pytest.raises(ConflictError) as caught:
        shop.edit_segment("s", SegmentEdit(name="Stale"), expected_version=1)
    assert caught.value.current_version == 2
    versions = shop.versions("s")
    assert [v.version for v in versions] == [1, 2]
    assert versions[0].definition["rule"] == {"attr": "price", "op": ">", "value": 50}
    with pytest.raises(ConflictError):
        shop.restore_version("s", 1, expected_version=1)
    restored = shop.restore_version("s", 1, expected_version=2)
    assert (restored.version, restored.member_count, restored.name) == (3, 2, "S")


def test_an_edit_that_changes_nothing_is_not_a_version(shop: Shop) -> None:
    shop.create_segment(dynamic("s", "price > 50"))
    assert shop.edit_segment("s", SegmentEdit(rule="price > 50")).version == 1


def test_deactivating_empties_and_activating_refills(shop: Shop) -> None:
    products(shop)
    shop.create_segment(dynamic("s", "price > 50"))
    assert shop.edit_segment("s", SegmentEdit(status=Status.INACTIVE)).member_count == 0
    assert [e.change for e in shop.events(code="s").items][-2:] == [Change.EXITED, Change.EXITED]
    shop.patch(Kind.PRODUCT, "p3", {"price": 60})
    assert ids(shop, "s") == set()
    assert shop.edit_segment("s", SegmentEdit(status=Status.ACTIVE)).member_count == 3


def test_nested_segments_follow_the_segments_they_refer_to(shop: Shop) -> None:
    products(shop)
    shop.create_segment(dynamic("nike", "brand = 'nike'"))
    shop.create_segment(dynamic("dear_nike", "IN SEGMENT 'nike' AND price >= 100"))
    shop.create_segment(dynamic("not_nike", "NOT IN SEGMENT 'nike'"))
    assert ids(shop, "dear_nike") == {"p1", "p2"}
    shop.edit_segment("nike", SegmentEdit(rule="brand = 'nike' AND name CONTAINS 'max'"))
    assert ids(shop, "dear_nike") == {"p1"}
    assert ids(shop, "not_nike") == {"p2", "p3"}
    shop.patch(Kind.PRODUCT, "p3", {"brand": "Nike", "name": "Max socks", "price": 150})
    assert ids(shop, "dear_nike") == {"p1", "p3"}
    shop.edit_segment("nike", SegmentEdit(status=Status.INACTIVE))
    assert ids(shop, "dear_nike") == set()
    assert ids(shop, "not_nike") == {"p1", "p2", "p3"}


def test_rules_are_checked_with_positions_and_cycles_named(shop: Shop) -> None:
    with pytest.raises(RuleError) as caught:
        shop.create_segment(dynamic("s", "prce > 1"))
    assert caught.value.diagnostics[0].hint == "did you mean 'price'?"
    shop.create_segment(dynamic("a", "price > 1"))
    shop.create_segment(dynamic("b", "IN SEGMENT 'a'"))
    with pytest.raises(RuleError, match="circular segment reference: a → b → a"):
        shop.edit_segment("a", SegmentEdit(rule="IN SEGMENT 'b'"))
    with pytest.raises(RuleError, match="is a product segment"):
        shop.create_segment(
            SegmentSpec(kind=Kind.CUSTOMER, code="c", name="C", rule="IN SEGMENT 'a'")
        )


def test_bad_segment_input_is_refused_and_writes_nothing(shop: Shop) -> None:
    for spec, error in [
        (dynamic("9bad", "price > 1"), ValidationError),
        (dynamic("ok", "price > 1", type=SegmentType.FIXED), ValidationError),
        (SegmentSpec(kind=Kind.PRODUCT, code="ok", name=" "), ValidationError),
        (SegmentSpec(kind=Kind.PRODUCT, code="ok", name="Ok"), ValidationError),
    ]:
        with pytest.raises(error):
            shop.create_segment(spec)
    with pytest.raises(
        ValidationError,
        match="order is not a kind of segment or entity; expected product or customer",
    ):
        SegmentSpec(kind="order", code="x", name="x")  # type: ignore[arg-type]
    assert shop.segments() == []
    shop.create_segment(dynamic("ok", "price > 1"))
    with pytest.raises(AlreadyExistsError):
        shop.create_segment(dynamic("ok", "price > 2"))


def test_fixed_segments_take_hand_managed_members(shop: Shop) -> None:
    products(shop)
    shop.create_segment(
        SegmentSpec(
            kind=Kind.PRODUCT, code="picks", name="Picks", type=SegmentType.FIXED, members=["p1"]
        )
    )
    assert shop.edit_members("picks", add=["p2", "p1"], remove=[]) == (1, 0)
    with pytest.raises(UnknownIdsError) as caught:
        shop.edit_members("picks", add=["p3", "nope"], remove=["gone"])
    assert caught.value.ids == ["nope", "gone"]
    assert ids(shop, "picks") == {"p1", "p2"}
    shop.delete(Kind.PRODUCT, "p2")
    assert ids(shop, "picks") == {"p1"}
    causes = [e.cause for e in shop.events(code="picks").items]
    assert causes == [Cause.MEMBERS_EDITED, Cause.MEMBERS_EDITED, Cause.ENTITY_DELETED]
    shop.create_segment(dynamic("d", "price > 1"))
    with pytest.raises(ValidationError, match="dynamic"):
        shop.edit_members("d", add=["p1"])


def test_uses_guard_deletion_unless_forced(shop: Shop) -> None:
    products(shop)
    shop.create_segment(dynamic("s", "price > 1"))
    shop.put_use("s", Use("wf-1", UseType.WORKFLOW, "Welcome flow", "https://crm.example/wf/1"))
    with pytest.raises(InUseError) as caught:
        shop.delete_segment("s")
    assert caught.value.users == [
        {
            "id": "wf-1",
            "type": "workflow",
            "name": "Welcome flow",
            "url": "https://crm.example/wf/1",
        }
    ]
    shop.delete_segment("s", force=True)
    with pytest.raises(NotFoundError):
        shop.segment("s")
    assert shop.get(Kind.PRODUCT, "p1").attributes["price"] == 120
    assert [e.change for e in shop.events(code=None).items][-3:] == [Change.EXITED] * 3


def test_segments_referred_to_cannot_be_deleted_or_renamed(shop: Shop) -> None:
    shop.create_segment(dynamic("a", "price > 1"))
    shop.create_segment(dynamic("b", "IN SEGMENT 'a'"))
    with pytest.raises(InUseError, match="referred to by the rules of b"):
        shop.delete_segment("a", force=True)
    with pytest.raises(InUseError, match="cannot be renamed"):
        shop.edit_segment("a", SegmentEdit(code="a2"))
    renamed = shop.edit_segment("b", SegmentEdit(code="b2"))
    assert renamed.code == "b2"


def test_preview_and_explain_change_nothing(shop: Shop) -> None:
    products(shop)
    shop.create_segment(dynamic("s", "price > 100"))
    preview = shop.preview(Kind.PRODUCT, "brand = 'nike'", limit=5)
    assert (preview.count, sorted(preview.sample)) == (2, ["p1", "p2"])
    edit = shop.preview_edit("s", "price >= 100")
    assert (edit.count, edit.entering, edit.leaving, edit.sample_entering) == (2, 1, 0, ["p2"])
    explained = shop.explain("s", "p2")
    assert explained.member is False
    assert explained.tree == {
        "attr": "price",
        "op": ">",
        "value": 100,
        "seen": 100,
        "result": False,
    }
    assert shop.segment("s").version == 1
    assert ids(shop, "s") == {"p1"}


def test_history_records_each_change_of_count(shop: Shop, clock: object) -> None:
    products(shop)
    shop.create_segment(dynamic("s", "price > 50"))
    shop.patch(Kind.PRODUCT, "p3", {"price": 60})
    assert [p.member_count for p in shop.history("s")] in ([2, 3], [3])


def test_history_keeps_one_point_per_moment_the_last_count(shop: Shop, clock: ManualClock) -> None:
    products(shop)
    shop.create_segment(dynamic("s", "price > 50"))
    shop.patch(Kind.PRODUCT, "p3", {"price": 60})  # the same moment: its point is replaced
    assert [p.member_count for p in shop.history("s")] == [3]
    clock.advance(timedelta(seconds=1))
    shop.patch(Kind.PRODUCT, "p3", {"price": 10})
    assert [p.member_count for p in shop.history("s")] == [3, 2]
