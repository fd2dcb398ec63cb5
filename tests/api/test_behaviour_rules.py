"""Behaviour functions through the HTTP API: a segment saved with a wrong one is a 422
problem naming what and where; a right one reads against the tenant's schemas of every
kind (order attributes it declared too)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.api.conftest import Caller, is_problem


def save(api: Caller, kind: str, rule: Any) -> Any:
    return api.post("/v1/segments", json={"kind": kind, "code": "b", "name": "B", "rule": rule})


@pytest.mark.parametrize(
    ("kind", "rule", "where", "message"),
    [
        ("customer", "purchased(lifetime_value > 5)", (1, 11),
         "lifetime_value is a customer attribute, not a product one"),
        ("product", "price > 1 AND purchased(brand = 'x')", (1, 15),
         "purchased() belongs in customer rules; this rule is about products"),
        ("customer", "amount_spent(since: -1y)", (1, 25),
         "expected a comparison after amount_spent(...), found the end of the rule"),
        ("customer", "orders_placed(since: -7d, until: -30d) > 1", (1, 27),
         "until: -30d is before since: -7d, so the window is empty"),
        ("customer", "orders_placed(snce: -7d) > 1", (1, 15),
         "unknown argument 'snce' of orders_placed()"),
        ("customer", "purchased(purchased())", (1, 11),
         "purchased() cannot be used inside the condition of purchased()"),
    ],
)  # fmt: skip
def test_a_segment_with_a_wrong_function_is_refused_at_its_position(
    api: Caller, kind: str, rule: str, where: tuple[int, int], message: str
) -> None:
    body = is_problem(save(api, kind, rule), 422, "invalid-rule")
    first = body["errors"][0]
    assert ((first["line"], first["column"]), first["message"]) == (where, message), body
    is_problem(api.get("/v1/segments/b"), 404, "not-found")


def test_a_json_form_function_with_a_comparison_purchased_does_not_take_is_refused(
    api: Caller,
) -> None:
    rule = {"fn": "purchased", "where": None, "since": "-30d", "until": None, "op": ">", "value": 2}
    detail = is_problem(save(api, "customer", rule), 422, "invalid-rule")["detail"]
    assert detail.startswith("line 1, column 1: at rule.op: purchased is true or false")


def test_a_function_reads_the_order_attributes_the_tenant_declared(api: Caller) -> None:
    declared = api.post("/v1/attributes", json={"kind": "order", "key": "coupon", "type": "string"})
    assert declared.status_code == 201, declared.text
    converted = api.post("/v1/rules/convert", json={
        "kind": "customer", "from": "text", "to": "json",
        "rule": "amount_spent(COUPON = 'SPRING', since: 30_days_ago) >= 99.5",
    })  # fmt: skip
    assert converted.status_code == 200, converted.text
    assert converted.json()["rule"] == {
        "fn": "amount_spent", "where": {"attr": "coupon", "op": "=", "value": "SPRING"},
        "since": "-30d", "until": None, "op": ">=", "value": 99.5,
    }  # fmt: skip
    undeclared = api.post("/v1/rules/convert", json={
        "kind": "customer", "from": "text", "to": "json", "rule": "orders_placed(coupn = 'x') > 1",
    })  # fmt: skip
    first = is_problem(undeclared, 422, "invalid-rule")["errors"][0]
    assert (first["column"], first["message"], first["hint"]) == (
        15, "unknown attribute 'coupn'", "did you mean 'coupon'?"
    )  # fmt: skip


def test_converting_a_function_to_another_format_is_refused_naming_it(api: Caller) -> None:
    answer = api.post("/v1/rules/convert", json={
        "kind": "customer", "from": "text", "to": "jsonlogic",
        "rule": "country = 'ES' AND purchased(since: -30d)",
    })  # fmt: skip
    body = is_problem(answer, 422, "unconvertible-rule")
    assert "purchased()" in body["detail"], body


def members(api: Caller, code: str) -> set[str]:
    answer = api.get(f"/v1/segments/{code}/members", params={"limit": 100})
    assert answer.status_code == 200, answer.text
    return {m["id"] for m in answer.json()["items"]}


def test_a_behaviour_segment_follows_orders_and_products_over_http(api: Caller) -> None:
    """SPEC §8 end to end: a product segment joined to a customer segment, orders that
    enter and leave it, a product edit that moves its buyers, explain and the feed."""
    recent = (datetime.now(UTC) - timedelta(days=3)).isoformat()
    api.put("/v1/products/p1", json={"name": "Espresso machine", "price": 400})
    api.put("/v1/products/p2", json={"name": "Filter papers", "price": 4})
    assert save_as(api, "product", "premium", "price > 100").status_code == 201
    rule = "purchased(IN SEGMENT 'premium', since: -30d) AND amount_spent(since: -1y) > 300"
    assert save_as(api, "customer", "premiumBuyers", rule).status_code == 201
    line = {"product_id": "p1", "quantity": 1, "unit_price": 400}
    order = {"customer_id": "c1", "placed_at": recent, "lines": [line]}
    assert api.put("/v1/orders/A-1", json=order).status_code in (200, 201)
    assert members(api, "premiumBuyers") == {"c1"}
    explained = api.get("/v1/segments/premiumBuyers/explain/c1").json()
    assert explained["member"] is True
    assert "A-1" in str(explained["tree"])
    api.patch("/v1/products/p1", json={"price": 90})  # leaves premium: its buyer leaves too
    assert members(api, "premium") == set()
    assert members(api, "premiumBuyers") == set()
    api.patch("/v1/products/p1", json={"price": 400})
    assert members(api, "premiumBuyers") == {"c1"}
    assert api.patch("/v1/orders/A-1", json={"status": "cancelled"}).status_code == 200
    assert members(api, "premiumBuyers") == set()
    events = api.get("/v1/segments/premiumBuyers/events", params={"limit": 100}).json()["items"]
    causes = [(e["entity_id"], e["change"], e["cause"]) for e in events]
    assert causes == [  # the product's edits move its buyer with the product's own cause
        ("c1", "entered", "order_changed"),
        ("c1", "exited", "entity_changed"),
        ("c1", "entered", "entity_changed"),
        ("c1", "exited", "order_changed"),
    ]


def save_as(api: Caller, kind: str, code: str, rule: str) -> Any:
    return api.post("/v1/segments", json={"kind": kind, "code": code, "name": code, "rule": rule})
