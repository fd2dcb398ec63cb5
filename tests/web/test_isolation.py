"""One tenant's key never shows or changes another tenant's data: a 404 page."""

from __future__ import annotations

import pytest

from segmentry.engine.segmentry import Segmentry
from segmentry.engine.types import SegmentSpec, SegmentType, Use, UseType
from tests.web.conftest import Tenant, Visitor, open_tenant


@pytest.fixture
def other(segmentry: Segmentry) -> Tenant:
    """Shop B, with segments that shop A does not have."""
    shop_b = open_tenant(segmentry, "Shop B")
    shop_b.shop.create_segment(
        SegmentSpec(kind="product", code="bOnly", name="B's best", rule="price > 100")
    )
    shop_b.shop.create_segment(
        SegmentSpec(
            kind="customer", code="bList", name="B's list", type=SegmentType.FIXED, members=["c1"]
        )
    )
    shop_b.shop.put_use("bOnly", Use("mail", UseType.WORKFLOW, "B's mail"))
    return shop_b


@pytest.mark.parametrize(
    "path",
    [
        "/segments/bOnly",
        "/segments/bOnly/edit",
        "/segments/bOnly/members",
        "/segments/bOnly/members.csv",
        "/segments/bOnly/uses",
        "/segments/bOnly/delete",
        "/segments/bOnly/versions",
        "/segments/bOnly/duplicate",
        "/why?segment=bOnly&id=p1",
    ],
)
def test_another_tenants_segment_is_not_found(signed_in: Visitor, other: Tenant, path: str) -> None:
    page = signed_in.get(path)
    assert page.status_code == 404
    assert "Not found" in page.text
    assert "bOnly" in page.text  # the code asked for, as for any code that does not exist
    assert "B&#39;s best" not in page.text


def test_lists_show_only_the_own_tenants_segments(
    signed_in: Visitor, tenant: Tenant, other: Tenant
) -> None:
    tenant.shop.create_segment(
        SegmentSpec(kind="product", code="aOnly", name="A's own", rule="price < 50")
    )
    listed = signed_in.get("/products/segments")
    assert "aOnly" in listed.text
    assert "bOnly" not in listed.text
    assert "bList" not in signed_in.get("/customers/segments").text


def test_posts_against_another_tenants_segment_change_nothing(
    signed_in: Visitor, other: Tenant
) -> None:
    attempts = {
        "/segments/bList/members": {"add": "c2"},
        "/segments/bOnly/delete": {"force": "yes"},
        "/segments/bOnly/status": {"status": "inactive", "version": "1"},
        "/segments/bOnly/versions": {"restore": "1", "version": "1"},
        "/segments/bOnly/edit": {
            "name": "Taken",
            "code": "bOnly",
            "version": "1",
            "mode": "text",
            "rule_text": "price > 1",
        },
    }
    for path, form in attempts.items():
        assert signed_in.post(path, form).status_code == 404, path
    seg = other.shop.segment("bOnly")
    assert (seg.name, seg.status.value, seg.version, seg.member_count) == (
        "B's best",
        "active",
        1,
        2,
    )
    assert other.shop.segment("bList").member_count == 1


def test_entity_pages_and_previews_read_only_the_own_catalog(
    signed_in: Visitor, tenant: Tenant, other: Tenant
) -> None:
    other.shop.upsert("product", "b-secret", {"name": "Secret", "price": 999})
    assert signed_in.get("/product/b-secret").status_code == 404
    assert "b-secret" not in signed_in.get("/products").text
    preview = signed_in.post(
        "/rule/preview", {"kind": "product", "mode": "text", "rule_text": "price > 500"}
    )
    assert '<strong id="preview-count">0</strong>' in preview.text
    assert (
        signed_in.post(
            "/rule/preview", {"original_code": "bOnly", "mode": "text", "rule_text": "price > 1"}
        ).status_code
        == 404
    )
