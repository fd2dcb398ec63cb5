"""Entities in the API's shape: built-ins at the top level, custom ones under
``attributes``; merge patches; lists with a rule; another tenant's are not found."""

from __future__ import annotations

from tests.api.conftest import Caller, is_problem


def test_put_answers_the_stored_entity_in_the_same_shape(api: Caller) -> None:
    api.post("/v1/attributes", json={"kind": "product", "key": "tier", "type": "enum",
                                     "values": ["Gold", "Silver"]})  # fmt: skip
    body = {
        "name": " Air Zoom ",
        "price": 120,
        "original_price": 160,
        "attributes": {"tier": "gold"},
    }
    answer = api.put("/v1/products/p1", json=body)
    stored = answer.json()
    assert (stored["name"], stored["discount_percent"]) == ("Air Zoom", 25.0)
    assert stored["attributes"] == {"tier": "Gold"}
    assert "tier" not in stored
    assert api.get("/v1/products/p1").json() == stored


def test_patch_is_a_merge_patch_where_null_removes(api: Caller) -> None:
    api.put("/v1/customers/c1", json={"email": "a@example.com", "city": "Madrid"})
    patched = api.patch("/v1/customers/c1", json={"city": None, "country": "ES"},
                        headers={"Content-Type": "application/merge-patch+json"})  # fmt: skip
    assert (patched.json()["email"], patched.json()["country"]) == ("a@example.com", "ES")
    assert "city" not in patched.json()


def test_a_batch_is_all_or_nothing(api: Caller) -> None:
    items = [{"id": "p1"}, {"id": "p2", "price": "x"}]
    refused = api.post("/v1/products/batch", json={"items": items})
    is_problem(refused, 422, "invalid-value")
    assert api.get("/v1/products/p1").status_code == 404


def test_lists_page_with_a_cursor_and_filter_with_a_rule(api: Caller) -> None:
    api.post("/v1/products/batch", json={"items": [{"id": f"p{n}", "price": n} for n in range(5)]})
    first = api.get("/v1/products", params={"limit": 2, "rule": "price >= 1"}).json()
    second = api.get("/v1/products", params={"limit": 2, "rule": "price >= 1",
                                             "cursor": first["next_cursor"]}).json()  # fmt: skip
    assert [e["id"] for e in first["items"] + second["items"]] == ["p1", "p2", "p3", "p4"]
    assert second["next_cursor"] is None
    is_problem(api.get("/v1/products", params={"rule": "prce > 1"}), 422, "invalid-rule")


def test_another_tenants_entity_is_not_found_even_with_the_same_id(
    api: Caller, other: Caller
) -> None:
    api.put("/v1/products/only-a", json={"name": "A"})
    other.put("/v1/products/shared", json={"name": "B's"})
    api.put("/v1/products/shared", json={"name": "A's"})
    for path in ("/v1/products/only-a", "/v1/products/only-a/segments"):
        is_problem(other.get(path), 404, "not-found")
    is_problem(other.delete("/v1/products/only-a"), 404, "not-found")
    assert other.get("/v1/products/shared").json()["name"] == "B's"
    assert [e["id"] for e in other.get("/v1/products").json()["items"]] == ["shared"]


def test_a_write_without_a_valid_key_answers_401_before_reading_its_body(api: Caller) -> None:
    bad_body = {"attributes": ["not", "an", "object"]}  # refused by the body's model
    for method in ("PUT", "PATCH"):
        for headers in ({}, {"Authorization": "Bearer nope"}):
            answer = api.client.request(method, "/v1/customers/c9", json=bad_body, headers=headers)
            is_problem(answer, 401, "unauthenticated")
    is_problem(api.put("/v1/customers/c9", json=bad_body), 422, "invalid-request")
    is_problem(api.get("/v1/customers/c9"), 404, "not-found")
