"""Browsing products and customers, an entity's page, and "why" for any segment."""

from __future__ import annotations

from segmentry.engine.types import SegmentSpec, SegmentType
from tests.web.conftest import Tenant, Visitor


def test_an_entity_page_shows_its_attributes_and_segments(
    signed_in: Visitor, tenant: Tenant
) -> None:
    tenant.shop.create_segment(SegmentSpec(kind="product", code="nike", name="Nike",
                                           rule="brand = 'nike'"))  # fmt: skip
    page = signed_in.get("/product/p1")
    assert "<h1>Air Zoom</h1>" in page.text
    assert "<dt>Unit Price <code>price</code></dt><dd>120</dd>" in page.text
    assert '<a href="/segments/nike">Nike</a> <code class="hint">nike</code>' in page.text
    assert 'href="/why?segment=nike&amp;id=p1"' in page.text
    assert '<option value="nike">Nike (nike)</option>' in page.text  # why in, or not in


def test_numbers_show_as_a_person_wrote_them(signed_in: Visitor, tenant: Tenant) -> None:
    # A shop that adds order totals in floating point sends 40.330000000000005 (40.31 + 0.02).
    values = {"lifetime_value": 40.31 + 0.02, "orders_count": 3, "email": "n@example.com"}
    tenant.shop.upsert("customer", "n1", values)
    tenant.shop.upsert("product", "n2", {"name": "Rice", "price": 209.30, "original_price": 299})
    customer = " ".join(signed_in.get("/customer/n1").text.split())
    assert "<code>lifetime_value</code></dt><dd>40.33</dd>" in customer
    assert "<code>average_order_value</code></dt><dd>13.44</dd>" in customer
    assert "40.330000000000005" not in customer
    product = " ".join(signed_in.get("/product/n2").text.split())
    assert "<code>price</code></dt><dd>209.3</dd>" in product
    assert "<code>discount_percent</code></dt><dd>30</dd>" in product


def test_why_not_names_the_condition_that_failed(signed_in: Visitor, tenant: Tenant) -> None:
    tenant.shop.create_segment(SegmentSpec(kind="product", code="nikePremium", name="Premium",
                                           rule="brand = 'Nike' AND price > 100"))  # fmt: skip
    page = signed_in.get("/why", params={"segment": "nikePremium", "id": "p2"})
    why = " ".join(page.text.split())
    assert "<h1>Why Club Tee (p2) is not in Premium</h1>" in why
    assert '<a href="/product/p2">Club Tee <span class="id">p2</span></a> is not a member of' in why
    assert 'All of these must hold: <span class="verdict verdict-no">not all of them hold' in why
    assert (
        "<strong>Brand</strong> is <code>Nike</code>: seen <code>Nike</code> "
        '<span class="verdict verdict-yes">holds</span>'
    ) in why
    assert (
        "<strong>Unit Price</strong> greater than <code>100</code>: seen <code>25</code> "
        '<span class="verdict verdict-no">does not hold</span>'
    ) in why
    assert signed_in.get("/why", params={"segment": "nikePremium", "id": "p99"}).status_code == 404


def test_why_for_a_fixed_segment_says_it_is_a_list(signed_in: Visitor, tenant: Tenant) -> None:
    tenant.shop.create_segment(SegmentSpec(kind="customer", code="vip", name="VIP",
                                           type=SegmentType.FIXED, members=["c2"]))  # fmt: skip
    why = signed_in.get("/why", params={"segment": "vip", "id": "c2"})
    assert "On the list of this fixed segment." in why.text


def test_an_id_may_hold_any_character(signed_in: Visitor, tenant: Tenant) -> None:
    odd = "sku/42 ü?#&"
    tenant.shop.upsert("product", odd, {"name": "Odd one", "price": 1})
    listed = signed_in.get("/products")
    assert 'href="/product/sku%2F42%20%C3%BC%3F%23%26"' in listed.text
    page = signed_in.get("/product/sku%2F42%20%C3%BC%3F%23%26")
    assert page.status_code == 200
    assert "<h1>Odd one</h1>" in page.text


def test_the_list_narrows_by_a_rule_and_pages(signed_in: Visitor, tenant: Tenant) -> None:
    tenant.shop.upsert_many(
        "customer", [{"id": f"z{i:02}", "lifetime_value": 7} for i in range(55)]
    )
    first = signed_in.get("/customers", params={"rule": "lifetime_value = 7"})
    assert first.text.count('<th scope="row"><a href="/customer/z') == 50
    assert "ana@example.com" not in first.text

    assert 'rel="next"' in first.text
    second = signed_in.get(
        first.text.split('" rel="next"')[0].split('href="')[-1].replace("&amp;", "&")
    )
    assert second.text.count('<a href="/customer/z') == 5
