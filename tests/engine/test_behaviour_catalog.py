"""The tenant's catalog of segments knows the references inside behaviour conditions,
so a loop across kinds is refused, named, whichever segment closes it."""

from __future__ import annotations

import pytest

from segmentry.engine.state import SegmentDef, TenantState
from segmentry.engine.types import SegmentType, Status
from segmentry.errors import RuleError
from segmentry.model.schema import Kind, Schema
from segmentry.rules.load import prepare
from segmentry.store.segments import SegmentRow
from segmentry.store.tenants import TenantRow

SCHEMAS = {kind: Schema(kind) for kind in Kind}


def segment(seg_id: int, code: str, kind: Kind, rule: str) -> SegmentDef:
    tree = prepare(rule, SCHEMAS[kind], schemas=SCHEMAS, segments=None).tree
    row = SegmentRow(seg_id, code, code, "", kind.value, SegmentType.DYNAMIC, Status.ACTIVE,
                     None, 1, 0, 0)  # fmt: skip
    return SegmentDef(row, tree)


def state() -> TenantState:
    row = TenantRow(1, "shop", "UTC", 0, {"revision": 0, "member_log_rows": 0})
    return TenantState(row, dict(SCHEMAS))


def test_same_kind_references_and_cross_references_are_kept_apart() -> None:
    made = segment(1, "a", Kind.CUSTOMER, "country = 'ES'")
    assert (made.refs, made.cross_refs) == ((), ())
    tenant = state()
    tenant.put(segment(2, "p", Kind.PRODUCT, "price > 1"))
    tenant.put(segment(3, "vip", Kind.CUSTOMER, "country = 'ES'"))
    rule = "IN SEGMENT 'vip' AND purchased(IN SEGMENT 'p' OR IN SEGMENT 'p')"
    tree = prepare(rule, SCHEMAS[Kind.CUSTOMER], schemas=SCHEMAS, segments=tenant.catalog()).tree
    both = SegmentDef(segment(4, "both", Kind.CUSTOMER, "country = 'ES'").row, tree)
    assert (both.refs, both.cross_refs) == (("vip",), ("p",))
    tenant.put(both)
    assert tenant.catalog()["both"].cross == ("p",)


@pytest.mark.parametrize("cached", [False, True])
def test_a_loop_through_a_behaviour_condition_is_refused_naming_it(cached: bool) -> None:
    tenant = state()
    if cached:
        tenant.catalog()  # built before the segments: kept up to date as they come
    tenant.put(segment(1, "A", Kind.CUSTOMER, "country = 'ES'"))
    p_rule = "units_sold(IN SEGMENT 'A') > 3"
    checked = prepare(p_rule, SCHEMAS[Kind.PRODUCT], schemas=SCHEMAS, segments=tenant.catalog())
    tenant.put(SegmentDef(segment(2, "P", Kind.PRODUCT, "price > 1").row, checked.tree))
    with pytest.raises(RuleError) as caught:
        prepare("purchased(IN SEGMENT 'P')", SCHEMAS[Kind.CUSTOMER], schemas=SCHEMAS,
                segments=tenant.catalog(), own_code="A")  # fmt: skip
    assert caught.value.diagnostics[0].message == "circular segment reference: A → P → A"
