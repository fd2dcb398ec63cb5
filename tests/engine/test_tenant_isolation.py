"""Two tenants in one database: a key of one never reaches the other's data.

Both shops are reached the way a request reaches one: the plain API key is
authenticated to a tenant id and key id, and the shop is opened from those.
Both tenants use the same segment codes, entity ids, attribute keys and use
ids with different data, and each also has objects the other does not.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from segmentry.engine.segmentry import Segmentry
from segmentry.engine.shop import Shop
from segmentry.engine.types import SegmentEdit, SegmentSpec, SegmentType, Use, UseType
from segmentry.errors import (
    AuthenticationError,
    NotFoundError,
    RuleError,
    UnknownIdsError,
    ValidationError,
)
from segmentry.model.schema import Kind


@dataclass
class Tenant:
    tenant_id: int
    key_id: str
    plain: str
    shop: Shop


def open_tenant(segmentry: Segmentry, name: str) -> Tenant:
    tenant = segmentry.create_tenant(name, "Europe/Madrid")
    key, plain = segmentry.issue_key(tenant.tenant_id, f"{name} key")
    tenant_id, key_id = segmentry.authenticate(plain)
    assert (tenant_id, key_id) == (tenant.tenant_id, key.key_id)
    return Tenant(tenant_id, key_id, plain, segmentry.shop(tenant_id, key_id=key_id))


def fill(shop: Shop, brand: str, own: str) -> None:
    """Same ids, codes, keys and use ids in each tenant, with this tenant's data;
    ``own`` names a product, a segment and an attribute only this tenant has."""
    shop.declare_attribute("customer", "loyalty", "enum", values=[f"{brand}-gold", "basic"])
    shop.declare_attribute("product", f"{own}_note", "string")
    shop.upsert_many(
        "product",
        [
            {"id": "p1", "brand": brand, "price": 10},
            {"id": "p2", "brand": "Other", "price": 20},
            {"id": own, "brand": brand, "price": 30, f"{own}_note": "mine"},
        ],
    )
    shop.upsert("customer", "c1", {"email": f"c1@{brand.lower()}.example", "loyalty": "basic"})
    rule = f"brand = '{brand}'"
    shop.create_segment(SegmentSpec(kind=Kind.PRODUCT, code="mine", name=brand, rule=rule))
    shop.create_segment(SegmentSpec(kind=Kind.PRODUCT, code=own, name=own, rule="price >= 20"))
    shop.create_segment(
        SegmentSpec(
            kind=Kind.PRODUCT, code="fixed", name="Fixed", type=SegmentType.FIXED, members=["p2"]
        )
    )
    shop.put_use("mine", Use("u1", UseType.WORKFLOW, f"{brand} mail", f"https://{own}.example"))
    shop.edit_segment("mine", SegmentEdit(description=f"{brand} products"))


@pytest.fixture
def tenants(segmentry: Segmentry) -> tuple[Tenant, Tenant]:
    a, b = open_tenant(segmentry, "alpha"), open_tenant(segmentry, "beta")
    fill(a.shop, "Acme", "only_a")
    fill(b.shop, "Bolt", "only_b")
    return a, b


def test_same_codes_and_ids_hold_each_tenants_own_data(tenants: tuple[Tenant, Tenant]) -> None:
    for tenant, brand, own in zip(tenants, ("Acme", "Bolt"), ("only_a", "only_b"), strict=True):
        shop = tenant.shop
        assert shop.get("product", "p1").attributes["brand"] == brand
        assert [e.id for e in shop.entities("product").items] == ["p1", "p2", own]
        assert [m.id for m in shop.members("mine").items] == ["p1", own]
        assert {s.code for s in shop.segments()} == {"mine", own, "fixed"}
        assert shop.segment("mine").description == f"{brand} products"
        assert [u.name for u in shop.uses("mine")] == [f"{brand} mail"]
        assert [v.by for v in shop.versions("mine")] == [tenant.key_id, tenant.key_id]
        assert shop.history("mine")[-1].member_count == 2
        assert [m.code for m in shop.segments_of("product", "p1")] == ["mine"]
        assert shop.preview("product", "price > 0").count == 3
        assert {a.key for a in shop.attributes("product") if not a.builtin} == {f"{own}_note"}
        loyalty = next(a for a in shop.attributes("customer") if a.key == "loyalty")
        assert loyalty.values == (f"{brand}-gold", "basic")


def other_tenants_objects(shop: Shop) -> list[Callable[[], Any]]:
    """Every lookup of beta's objects, made through alpha's shop."""
    return [
        lambda: shop.get("product", "only_b"),
        lambda: shop.patch("product", "only_b", {"price": 1}),
        lambda: shop.delete("product", "only_b"),
        lambda: shop.segments_of("product", "only_b"),
        lambda: shop.segment("only_b"),
        lambda: shop.members("only_b"),
        lambda: shop.member("only_b", "p2"),
        lambda: shop.edit_segment("only_b", SegmentEdit(name="stolen")),
        lambda: shop.delete_segment("only_b", force=True),
        lambda: shop.versions("only_b"),
        lambda: shop.restore_version("only_b", 1),
        lambda: shop.history("only_b"),
        lambda: shop.events(code="only_b"),
        lambda: shop.uses("only_b"),
        lambda: shop.put_use("only_b", Use("u9", UseType.OTHER, "stolen")),
        lambda: shop.remove_use("only_b", "u1"),
        lambda: shop.explain("only_b", "p1"),
        lambda: shop.explain("mine", "only_b"),
        lambda: shop.preview_edit("only_b", "price > 0"),
        lambda: shop.delete_attribute("product", "only_b_note"),
    ]


def test_the_other_tenants_objects_are_not_found(tenants: tuple[Tenant, Tenant]) -> None:
    a, b = tenants
    for attempt in other_tenants_objects(a.shop):
        with pytest.raises(NotFoundError):
            attempt()
    assert b.shop.get("product", "only_b").attributes["only_b_note"] == "mine"
    assert b.shop.segment("only_b").version == 1
    assert [u.use_id for u in b.shop.uses("mine")] == ["u1"]


def test_the_other_tenants_names_are_refused_in_rules_and_writes(
    tenants: tuple[Tenant, Tenant],
) -> None:
    a, b = tenants
    with pytest.raises(RuleError, match="only_b"):
        a.shop.preview("product", "IN SEGMENT 'only_b'")
    with pytest.raises(RuleError, match="only_b_note"):
        a.shop.entities("product", "only_b_note = 'mine'")
    with pytest.raises(ValidationError, match="only_b_note"):
        a.shop.upsert("product", "p9", {"only_b_note": "x"})
    with pytest.raises(ValidationError, match="Bolt-gold"):
        a.shop.patch("customer", "c1", {"loyalty": "Bolt-gold"})
    with pytest.raises(UnknownIdsError, match="only_b"):
        a.shop.edit_members("fixed", add=["only_b"])
    assert b.shop.patch("customer", "c1", {"loyalty": "bolt-GOLD"}).attributes["loyalty"] == (
        "Bolt-gold"
    )


def test_writes_in_one_tenant_leave_the_other_untouched(tenants: tuple[Tenant, Tenant]) -> None:
    a, b = tenants
    b_events = [(e.id, e.segment, e.entity_id, e.change) for e in b.shop.events(limit=1000).items]
    a.shop.patch("product", "p1", {"brand": "Bolt", "price": 99})
    a.shop.edit_members("fixed", add=["p1"], remove=["p2"])
    a.shop.delete("product", "p2")
    a.shop.delete_segment("mine", force=True)
    assert b.shop.get("product", "p1").attributes["brand"] == "Bolt"
    assert b.shop.get("product", "p2").attributes["price"] == 20
    assert [m.id for m in b.shop.members("fixed").items] == ["p2"]
    assert [m.id for m in b.shop.members("mine").items] == ["p1", "only_b"]
    assert [(e.id, e.segment, e.entity_id, e.change) for e in b.shop.events(limit=1000).items] == (
        b_events
    )


def test_each_event_feed_holds_only_its_own_events(tenants: tuple[Tenant, Tenant]) -> None:
    for tenant, own in zip(tenants, ("only_a", "only_b"), strict=True):
        events = tenant.shop.events(limit=1000)
        assert events.next_cursor is None
        assert sorted((e.segment, e.entity_id, e.change.value) for e in events.items) == sorted(
            [
                ("fixed", "p2", "entered"),
                ("mine", "p1", "entered"),
                ("mine", own, "entered"),
                (own, own, "entered"),
                (own, "p2", "entered"),
            ]
        )
        ids = [e.id for e in events.items]
        assert ids == sorted(set(ids))


def test_revoked_and_foreign_keys_do_not_authenticate(
    segmentry: Segmentry, tenants: tuple[Tenant, Tenant]
) -> None:
    a, b = tenants
    with pytest.raises(NotFoundError):
        segmentry.revoke_key(b.tenant_id, a.key_id)  # beta cannot revoke alpha's key
    assert segmentry.authenticate(a.plain) == (a.tenant_id, a.key_id)
    segmentry.revoke_key(a.tenant_id, a.key_id)
    with pytest.raises(AuthenticationError):
        segmentry.authenticate(a.plain)
    a_secret, b_secret = a.plain.split("_", 2)[2], b.plain.split("_", 2)[2]
    forged = (f"sgk_{a.key_id}_{b_secret}", f"sgk_{b.key_id}_{a_secret}", "sgk__", "", "key")
    for plain in forged:
        with pytest.raises(AuthenticationError):
            segmentry.authenticate(plain)
    assert segmentry.authenticate(b.plain) == (b.tenant_id, b.key_id)
    assert [k.key_id for k in segmentry.keys(b.tenant_id)] == [b.key_id]
    assert [k.revoked_at is not None for k in segmentry.keys(a.tenant_id)] == [True]


def test_a_shop_of_an_unknown_tenant_reaches_nothing(
    segmentry: Segmentry, tenants: tuple[Tenant, Tenant]
) -> None:
    ghost = segmentry.shop(max(t.tenant_id for t in tenants) + 1_000)
    for attempt in (ghost.segments, lambda: ghost.get("product", "p1"), ghost.events):
        with pytest.raises(NotFoundError):
            attempt()
    with pytest.raises(NotFoundError):
        ghost.upsert("product", "p1", {"brand": "Ghost"})
