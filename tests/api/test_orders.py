"""Orders over HTTP on both back ends: the calls of SPEC §8, exact derived values of
customers and products kept in the write's transaction, segments that follow them
(cause order_changed), batches all or nothing, imports, and bad input refused
naming the order, the line and the field with nothing written."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from segmentry.cli.server import LiveServer, build_app
from segmentry.engine.segmentry import Segmentry
from tests.api.conftest import Caller, is_problem, new_tenant


def order(customer: str | None = "c1", *lines: tuple[str, int, Any], **more: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "placed_at": more.pop("placed_at", "2024-03-01T10:00:00Z"),
        "lines": [{"product_id": p, "quantity": q, "unit_price": u} for p, q, u in lines]
        or [{"product_id": "p1", "quantity": 1, "unit_price": 10}],
        **more,
    }
    if customer is not None:
        body["customer_id"] = customer
    return body


def test_an_order_is_stored_with_its_total_exact_to_the_cent(api: Caller) -> None:
    body = order("c1", ("p1", 3, 40.33), ("p2", 1, 0.1), channel="app")
    stored = api.put("/v1/orders/o1", json=body)
    assert stored.status_code == 200, stored.text
    shown = stored.json()
    assert shown["total"] == 121.09  # 3 x 40.33 + 0.1, not 121.08999999999999
    assert (shown["status"], shown["channel"], shown["customer_id"]) == ("placed", "app", "c1")
    assert shown["lines"][0] == {"product_id": "p1", "quantity": 3, "unit_price": 40.33}
    assert api.get("/v1/orders/o1").json() == shown


def test_an_unknown_customer_is_created_and_gets_its_derived_values(api: Caller) -> None:
    api.put("/v1/orders/o1", json=order("c1", ("p1", 1, 0.1)))
    api.put("/v1/orders/o2", json=order("c1", ("p1", 2, 0.1), placed_at="2024-04-01T00:00:00Z"))
    customer = api.get("/v1/customers/c1").json()
    assert customer["orders_count"] == 2
    assert customer["lifetime_value"] == 0.3  # exact: 0.1 + 0.2
    assert customer["average_order_value"] == 0.15
    assert customer["first_order_at"] == "2024-03-01T10:00:00Z"
    assert customer["last_order_at"] == "2024-04-01T00:00:00Z"


def test_a_guest_order_names_no_customer_and_creates_none(api: Caller) -> None:
    assert api.put("/v1/orders/g1", json=order(None)).status_code == 200
    assert "customer_id" not in api.get("/v1/orders/g1").json()
    assert api.get("/v1/customers").json()["items"] == []


def test_the_first_order_recomputes_every_customer_and_refuses_written_values_after(
    api: Caller,
) -> None:
    # Before any order, a shop that only has totals writes them and segments by them.
    api.put("/v1/customers/rich", json={"lifetime_value": 5000, "orders_count": 9})
    api.post("/v1/segments", json={"kind": "customer", "code": "big", "name": "Big",
                                   "rule": "lifetime_value > 1000"})  # fmt: skip
    assert api.get("/v1/segments/big/members/rich").status_code == 200
    api.put("/v1/orders/o1", json=order("buyer", ("p1", 1, 1500)))
    rich = api.get("/v1/customers/rich").json()
    assert (rich["orders_count"], rich["lifetime_value"]) == (0, 0)
    assert api.get("/v1/segments/big/members/rich").status_code == 404
    assert api.get("/v1/segments/big/members/buyer").status_code == 200
    events = api.get("/v1/segments/big/events").json()["items"]
    assert {(e["entity_id"], e["change"], e["cause"]) for e in events} >= {
        ("rich", "exited", "order_changed"),
        ("buyer", "entered", "order_changed"),
    }
    refused = api.patch("/v1/customers/rich", json={"lifetime_value": 1, "orders_count": 2})
    detail = is_problem(refused, 422, "invalid-value")["detail"]
    assert "lifetime_value" in detail
    assert "computed" in detail
    # a write of other attributes keeps the derived values
    api.put("/v1/customers/buyer", json={"email": "b@example.com"})
    assert api.get("/v1/customers/buyer").json()["lifetime_value"] == 1500


def test_cancelled_and_refunded_orders_count_for_nothing(api: Caller) -> None:
    api.put("/v1/orders/o1", json=order("c1", ("p1", 2, 50)))
    api.put("/v1/orders/o2", json=order("c1", ("p1", 1, 70), status="refunded"))
    assert api.get("/v1/customers/c1").json()["lifetime_value"] == 100
    patched = api.patch(
        "/v1/orders/o1",
        json={"status": "cancelled"},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert patched.json()["status"] == "cancelled"
    assert patched.json()["lines"][0]["quantity"] == 2  # the rest of the order stays
    customer = api.get("/v1/customers/c1").json()
    assert (customer["orders_count"], customer["lifetime_value"]) == (0, 0)
    assert "last_order_at" not in customer
    product = api.get("/v1/products/p1")
    assert product.status_code == 404  # named by a line, never created


def test_a_patch_of_the_lines_derives_the_total_again_unless_the_shop_gave_it(
    api: Caller,
) -> None:
    api.put("/v1/orders/o1", json=order("c1", ("p1", 1, 10)))
    api.put("/v1/orders/o2", json=order("c1", ("p1", 1, 10), total=8.5))
    new_lines = {"lines": [{"product_id": "p1", "quantity": 2, "unit_price": 10}]}
    assert api.patch("/v1/orders/o1", json=new_lines).json()["total"] == 20
    assert api.patch("/v1/orders/o2", json=new_lines).json()["total"] == 8.5
    assert api.get("/v1/customers/c1").json()["lifetime_value"] == 28.5


def test_products_get_their_sales_also_when_they_appear_after_the_order(api: Caller) -> None:
    api.put("/v1/products/p1", json={"name": "Mug", "price": 9})
    api.post("/v1/segments", json={"kind": "product", "code": "sellers", "name": "Sellers",
                                   "rule": "units_sold >= 3"})  # fmt: skip
    api.put("/v1/orders/o1", json=order("c1", ("p1", 3, 2.55), ("late", 2, 1.005)))
    mug = api.get("/v1/products/p1").json()
    assert (mug["units_sold"], mug["revenue"], mug["last_sold_at"]) == (
        3,
        7.65,
        "2024-03-01T10:00:00Z",
    )
    assert api.get("/v1/segments/sellers/members/p1").status_code == 200
    late = api.put("/v1/products/late", json={"name": "Late"}).json()
    assert (late["units_sold"], late["revenue"]) == (2, 2.01)
    is_problem(api.patch("/v1/products/p1", json={"units_sold": 1}), 422, "invalid-value")
    api.delete("/v1/orders/o1")
    assert api.get("/v1/products/p1").json()["units_sold"] == 0
    assert api.get("/v1/segments/sellers/members/p1").status_code == 404
    is_problem(api.get("/v1/orders/o1"), 404, "not-found")


def test_a_customers_orders_page_newest_first(api: Caller) -> None:
    for n in range(5):
        api.put(f"/v1/orders/o{n}", json=order("c1", placed_at=f"2024-01-0{n + 1}T00:00:00Z"))
    api.put("/v1/orders/other", json=order("c2"))
    first = api.get("/v1/customers/c1/orders", params={"limit": 3}).json()
    rest = api.get(
        "/v1/customers/c1/orders", params={"limit": 3, "cursor": first["next_cursor"]}
    ).json()
    assert [o["id"] for o in first["items"] + rest["items"]] == ["o4", "o3", "o2", "o1", "o0"]
    assert rest["next_cursor"] is None
    is_problem(api.get("/v1/customers/nobody/orders"), 404, "not-found")
    bad_cursor = api.get("/v1/customers/c1/orders", params={"cursor": "nonsense"})
    is_problem(bad_cursor, 422, "invalid-value")


def test_a_batch_is_all_or_nothing_and_replays_with_an_idempotency_key(api: Caller) -> None:
    items = [{"id": "b1", **order("c1")}, {"id": "b2", **order("c1", ("p1", 0, 1))}]
    is_problem(api.post("/v1/orders/batch", json={"items": items}), 422, "invalid-value")
    is_problem(api.get("/v1/orders/b1"), 404, "not-found")
    is_problem(api.get("/v1/customers/c1"), 404, "not-found")
    good = {"items": [{"id": "b1", **order("c1")}, {"id": "b2", **order("c1")}]}
    key = {"Idempotency-Key": "batch-1"}
    first = api.post("/v1/orders/batch", json=good, headers=key)
    assert (first.json(), first.headers["Idempotent-Replayed"]) == ({"upserted": 2}, "false")
    api.delete("/v1/orders/b1")
    again = api.post("/v1/orders/batch", json=good, headers=key)
    assert (again.json(), again.headers["Idempotent-Replayed"]) == ({"upserted": 2}, "true")
    is_problem(api.get("/v1/orders/b1"), 404, "not-found")  # applied once, not again


BAD_LINES = [
    ({"product_id": "p1", "quantity": 0, "unit_price": 1}, "quantity"),
    ({"product_id": "p1", "quantity": 1.5, "unit_price": 1}, "quantity"),
    ({"product_id": "p1", "quantity": 1, "unit_price": -0.01}, "unit_price"),
    ({"quantity": 1, "unit_price": 1}, "product_id"),
    ({"product_id": "p1", "quantity": 1, "unit_price": "cheap"}, "unit_price"),
]


@pytest.mark.parametrize(("line", "field"), BAD_LINES)
def test_a_bad_line_is_refused_naming_the_order_the_line_and_the_field(
    api: Caller, line: dict[str, Any], field: str
) -> None:
    body = order("c1")
    body["lines"] = [body["lines"][0], line]
    items = [{"id": "good", **order("c1")}, {"id": "bad", **body}]
    refused = is_problem(api.post("/v1/orders/batch", json={"items": items}), 422, "invalid-value")
    assert "order bad: line 1:" in refused["detail"]
    assert field in refused["detail"]
    is_problem(api.get("/v1/orders/good"), 404, "not-found")
    is_problem(api.get("/v1/customers/c1"), 404, "not-found")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"total": "12,50"}, "total"),
        ({"placed_at": "yesterday-ish"}, "placed_at"),
        ({"placed_at": None}, "placed_at"),
        ({"status": "shipped"}, "status"),
        ({"lines": []}, "lines"),
        ({"lines": [{"product_id": "p", "quantity": 1, "unit_price": 1}] * 10_001}, "lines"),
        ({"customer_id": "bad\nid"}, "customer_id"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_a_bad_order_is_refused_naming_the_order_and_the_field(
    api: Caller, change: dict[str, Any], field: str
) -> None:
    body = {**order("c1"), **change}
    refused = is_problem(api.put("/v1/orders/o9", json=body), 422, "invalid-value")
    assert "order o9" in refused["detail"]
    assert field in refused["detail"]
    is_problem(api.get("/v1/orders/o9"), 404, "not-found")


def test_an_order_of_many_lines_is_accepted(api: Caller) -> None:
    lines = [(f"p{n % 300}", 1, 0.01) for n in range(5_000)]
    stored = api.put("/v1/orders/big", json=order("c1", *lines))
    assert stored.status_code == 200, stored.text[:300]
    assert stored.json()["total"] == 50
    assert api.get("/v1/products/p0").status_code == 404
    api.put("/v1/products/p0", json={"name": "first"})
    assert api.get("/v1/products/p0").json()["units_sold"] == 17  # 0, 300, ..., 4800


def test_declared_order_attributes_are_validated_and_shown(api: Caller) -> None:
    declared = api.post("/v1/attributes", json={"kind": "order", "key": "coupon", "type": "string"})
    assert declared.status_code == 201, declared.text
    kinds = {a["kind"] for a in api.get("/v1/attributes", params={"kind": "order"}).json()["items"]}
    assert kinds == {"order"}
    stored = api.put("/v1/orders/o1", json={**order("c1"), "attributes": {"coupon": "SPRING"}})
    assert stored.json()["attributes"] == {"coupon": "SPRING"}
    for taken in ("total", "quantity", "lines"):
        refused = api.post("/v1/attributes", json={"kind": "order", "key": taken, "type": "string"})
        assert taken in is_problem(refused, 422, "invalid-attribute")["detail"]
    bad = api.put("/v1/orders/o2", json={**order("c1"), "attributes": {"coupon": 5}})
    assert "coupon" in is_problem(bad, 422, "invalid-value")["detail"]
    assert api.delete("/v1/attributes/order/coupon").status_code == 204
    assert api.get("/v1/orders/o1").json()["attributes"] == {}  # its values went with it


def test_orders_are_not_segmented(api: Caller) -> None:
    made = api.post("/v1/segments", json={"kind": "order", "code": "x", "name": "X",
                                          "rule": "total > 5"})  # fmt: skip
    assert "not a kind of segment" in is_problem(made, 422, "invalid-value")["detail"]
    preview = api.post("/v1/segments/preview", json={"kind": "order", "rule": "total > 5"})
    assert "not a kind of segment" in is_problem(preview, 422, "invalid-value")["detail"]
    listed = api.get("/v1/segments", params={"kind": "order"})
    is_problem(listed, 422, "invalid-value")


def test_imports_of_csv_rows_grouped_by_order_and_of_json_lines(api: Caller) -> None:
    csv_text = (
        "InvoiceNo,StockCode,Qty,Price,When,Customer,Note\n"
        "A1,p1,2,1.25,2024-01-01 09:00:00,c1,x\n"
        "A1,p2,1,3.5,2024-01-01 09:00:00,c1,x\n"
        "C2,p1,-1,1.25,2024-01-02 09:00:00,c1,x\n"
        "A3,p1,1,9.99,2024-01-03 09:00:00,,x\n"
    )
    mapped = (
        "InvoiceNo:id StockCode:product_id Qty:quantity Price:unit_price When:placed_at "
        "Customer:customer_id"
    )
    params = [("map", m) for m in mapped.split()] + [("ignore", "Note")]
    done = api.post(
        "/v1/orders/import",
        params=params,
        content=csv_text.encode(),
        headers={"Content-Type": "text/csv"},
    )
    report = done.json()
    assert done.status_code == 200, done.text
    assert (report["lines"], report["applied"], report["rejected"]) == (4, 3, 1)
    (error,) = report["errors"]
    assert error["line"] == 4
    assert "order C2: line 0" in error["message"]
    assert "quantity" in error["message"]
    assert api.get("/v1/orders/A1").json()["total"] == 6
    assert "customer_id" not in api.get("/v1/orders/A3").json()
    assert api.get("/v1/customers/c1").json()["lifetime_value"] == 6
    jsonl = b'{"id": "J1", "customer_id": "c1", "placed_at": "2024-02-01", "lines": [{"product_id": "p1", "quantity": 1, "unit_price": 4}]}\n{"id": "J2", "placed_at": "2024-02-01", "lines": []}\n'  # noqa: E501
    report = api.post(
        "/v1/orders/import", content=jsonl, headers={"Content-Type": "application/x-ndjson"}
    ).json()
    assert (report["applied"], report["rejected"]) == (1, 1)
    assert api.get("/v1/customers/c1").json()["lifetime_value"] == 10


def test_another_tenants_orders_are_not_found(api: Caller, other: Caller) -> None:
    api.put("/v1/orders/o1", json=order("c1"))
    is_problem(other.get("/v1/orders/o1"), 404, "not-found")
    is_problem(other.delete("/v1/orders/o1"), 404, "not-found")
    is_problem(other.get("/v1/customers/c1/orders"), 404, "not-found")


def test_a_csv_import_reads_placed_at_with_a_date_format(api: Caller) -> None:
    csv_text = (
        "id,product_id,quantity,unit_price,placed_at,customer_id\n"
        "A1,p1,2,1.25,12/1/2010 8:26,c1\n"
        "A2,p1,1,1.25,2010-12-01 08:26,c1\n"
    )
    done = api.post(
        "/v1/orders/import",
        params={"date_format": "%m/%d/%Y %H:%M"},
        content=csv_text.encode(),
        headers={"Content-Type": "text/csv"},
    ).json()
    assert (done["applied"], done["rejected"]) == (1, 1)
    assert "does not match the date format" in done["errors"][0]["message"]
    assert api.get("/v1/orders/A1").json()["placed_at"] == "2010-12-01T08:26:00Z"
    refused = api.post(
        "/v1/orders/import",
        params={"date_format": "m/d/Y"},
        content=csv_text.encode(),
        headers={"Content-Type": "text/csv"},
    )
    assert "strptime" in is_problem(refused, 422, "invalid-value")["detail"]


def test_an_order_import_with_an_idempotency_key_runs_once(api: Caller) -> None:
    body = b'{"id": "J1", "customer_id": "c1", "placed_at": "2024-02-01", "lines": [{"product_id": "p1", "quantity": 1, "unit_price": 4}]}\n'  # noqa: E501
    headers = {"Content-Type": "application/x-ndjson", "Idempotency-Key": "orders-1"}
    first = api.post("/v1/orders/import", content=body, headers=headers)
    assert (first.json()["applied"], first.headers["Idempotent-Replayed"]) == (1, "false")
    api.delete("/v1/orders/J1")
    again = api.post("/v1/orders/import", content=body, headers=headers)
    assert again.headers["Idempotent-Replayed"] == "true"
    is_problem(api.get("/v1/orders/J1"), 404, "not-found")


def test_every_order_path_through_a_real_server(segmentry: Segmentry) -> None:
    """SPEC §8's table over a real socket (uvicorn on a free port, as `segmentry serve`)."""
    _, key = new_tenant(segmentry, "live orders")
    with (
        LiveServer(build_app(segmentry)) as server,
        httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=30
        ) as live,
    ):
        put = live.put("/v1/orders/o1", json=order("c1", ("p1", 2, 19.99)))
        assert (put.status_code, put.json()["total"]) == (200, 39.98)
        patched = live.patch(
            "/v1/orders/o1",
            json={"channel": "store"},
            headers={"Content-Type": "application/merge-patch+json"},
        )
        assert patched.json()["channel"] == "store"
        assert live.get("/v1/orders/o1").json() == patched.json()
        batch = live.post("/v1/orders/batch", json={"items": [{"id": "o2", **order("c1")}]})
        assert batch.json() == {"upserted": 1}
        imported = live.post(
            "/v1/orders/import",
            content=b'{"id": "o3", "placed_at": "2024-05-01", "lines": '
            b'[{"product_id": "p1", "quantity": 1, "unit_price": 1}]}\n',
            headers={"Content-Type": "application/x-ndjson"},
        )
        assert imported.json()["applied_lines"] == [[1, 1]]
        mine = live.get("/v1/customers/c1/orders").json()["items"]
        assert [o["id"] for o in mine] == ["o2", "o1"]  # same moment: the later written first
        assert live.get("/v1/customers/c1").json()["lifetime_value"] == 49.98
        assert live.delete("/v1/orders/o1").status_code == 204
        assert live.get("/v1/orders/o1").status_code == 404
        assert live.get("/v1/customers/c1").json()["lifetime_value"] == 10
