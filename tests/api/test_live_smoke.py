"""Every path of the spec's table (SPEC.md §5), through a real uvicorn server on a free
port, serving what ``segmentry serve`` serves, for products and customers alike."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from segmentry.cli.server import LiveServer, build_app
from segmentry.engine.segmentry import Segmentry
from tests.api.conftest import new_tenant


@pytest.fixture
def live(segmentry: Segmentry) -> Iterator[httpx.Client]:
    _, key = new_tenant(segmentry, "live shop")
    with LiveServer(build_app(segmentry)) as server:
        headers = {"Authorization": f"Bearer {key}"}
        with httpx.Client(base_url=server.url, headers=headers, timeout=30) as client:
            yield client


@pytest.mark.parametrize(("path", "kind"), [("products", "product"), ("customers", "customer")])
def test_entity_paths(live: httpx.Client, path: str, kind: str) -> None:
    live.post("/v1/attributes", json={"kind": kind, "key": "tier", "type": "string"})
    put = live.put(f"/v1/{path}/e1", json={"tags": ["vip"], "attributes": {"tier": "gold"}})
    assert put.status_code == 200
    assert put.json()["attributes"] == {"tier": "gold"}
    assert put.json()["tags"] == ["vip"]
    patched = live.patch(
        f"/v1/{path}/e1",
        json={"tags": None, "attributes": {"tier": "silver"}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert "tags" not in patched.json()
    assert patched.json()["attributes"] == {"tier": "silver"}
    assert live.get(f"/v1/{path}/e1").json() == patched.json()
    batch = live.post(f"/v1/{path}/batch", json={"items": [{"id": "e2"}, {"id": "e3"}]})
    assert batch.json() == {"upserted": 2}
    imported = live.post(
        f"/v1/{path}/import",
        content=b'{"id": "e4"}\n',
        headers={"Content-Type": "application/x-ndjson"},
    )
    assert imported.json()["applied_lines"] == [[1, 1]]
    listed = live.get(f"/v1/{path}", params={"rule": "tier = 'silver'", "limit": 10})
    assert [e["id"] for e in listed.json()["items"]] == ["e1"]
    live.post("/v1/segments", json={"kind": kind, "code": f"{kind}Vip", "name": "VIP",
                                    "type": "fixed", "members": ["e1"]})  # fmt: skip
    segments = live.get(f"/v1/{path}/e1/segments").json()["items"]
    assert [s["code"] for s in segments] == [f"{kind}Vip"]
    assert live.delete(f"/v1/{path}/e1").status_code == 204
    assert live.get(f"/v1/{path}/e1").status_code == 404
    assert live.get(f"/v1/imports/{imported.json()['id']}").json()["status"] == "done"


def test_attribute_paths(live: httpx.Client) -> None:
    declared = live.post("/v1/attributes", json={
        "kind": "customer", "key": "loyalty_status", "label": "Loyalty Status",
        "type": "enum", "values": ["Bronze", "Silver", "Gold"]})  # fmt: skip
    assert declared.status_code == 201
    listed = live.get("/v1/attributes", params={"kind": "customer", "limit": 1_000}).json()
    assert listed["items"][-1] == {**declared.json(), "builtin": False, "derived": False}
    assert live.delete("/v1/attributes/customer/loyalty_status").status_code == 204


def test_segment_paths(live: httpx.Client) -> None:
    items = [
        {"id": "p1", "brand": "Nike", "price": 120},
        {"id": "p2", "brand": "Nike", "price": 20},
    ]
    live.post("/v1/products/batch", json={"items": items})
    rule = "brand = 'Nike' AND price > 100"
    body = {"kind": "product", "code": "nikePremium", "name": "Nike over 100", "rule": rule}
    created = live.post("/v1/segments", json=body)
    assert (created.status_code, created.headers["etag"]) == (201, '"1"')
    assert created.json()["rule"]["json"]["and"][0] == {"attr": "brand", "op": "=", "value": "Nike"}
    assert [
        s["code"] for s in live.get("/v1/segments", params={"kind": "product"}).json()["items"]
    ] == ["nikePremium"]
    got = live.get("/v1/segments/nikePremium")
    assert (got.json()["member_count"], got.headers["etag"]) == (1, '"1"')
    members = live.get("/v1/segments/nikePremium/members").json()
    assert [m["id"] for m in members["items"]] == ["p1"]
    exported = live.get("/v1/segments/nikePremium/members", headers={"Accept": "text/csv"})
    assert exported.text.splitlines()[0] == "id,since"
    assert live.get("/v1/segments/nikePremium/members/p1").json()["member"] is True
    preview = live.post("/v1/segments/preview", json={"kind": "product", "rule": "price > 10"})
    assert preview.json() == {"count": 2, "sample": ["p1", "p2"]}
    edit = live.post("/v1/segments/nikePremium/preview", json={"rule": "price > 10"}).json()
    assert (edit["entering"], edit["sample_entering"]) == (1, ["p2"])
    explained = live.get("/v1/segments/nikePremium/explain/p2").json()
    assert explained["member"] is False
    assert explained["tree"]["and"][1]["seen"] == 20
    patched = live.patch("/v1/segments/nikePremium", json={"rule": "price > 10"},
                         headers={"If-Match": '"1"'})  # fmt: skip
    assert (patched.json()["member_count"], patched.headers["etag"]) == (2, '"2"')
    assert live.put("/v1/segments/nikePremium/uses/mail",
                    json={"type": "workflow", "name": "Mail"}).status_code == 201  # fmt: skip
    assert [u["id"] for u in live.get("/v1/segments/nikePremium/uses").json()["items"]] == ["mail"]
    assert live.delete("/v1/segments/nikePremium").status_code == 409
    events = live.get("/v1/segments/nikePremium/events", params={"limit": 1}).json()
    assert events["items"][0]["entity_id"] == "p1"
    after = live.get("/v1/segments/nikePremium/events", params={"after": events["next_cursor"]})
    assert [e["entity_id"] for e in after.json()["items"]] == ["p2"]
    assert len(live.get("/v1/events").json()["items"]) == 2
    assert [
        p["member_count"] for p in live.get("/v1/segments/nikePremium/history").json()["items"]
    ] == [1, 2]
    versions = live.get("/v1/segments/nikePremium/versions").json()["items"]
    assert [v["version"] for v in versions] == [1, 2]
    restored = live.post("/v1/segments/nikePremium/versions/1/restore")
    assert (restored.json()["version"], restored.json()["member_count"]) == (3, 1)
    assert live.delete("/v1/segments/nikePremium/uses/mail").status_code == 204
    assert live.delete("/v1/segments/nikePremium").status_code == 204


def test_head_answers_the_headers_of_get_without_the_body(live: httpx.Client) -> None:
    live.post("/v1/segments", json={"kind": "product", "code": "all", "name": "All",
                                    "rule": "price > 0"})  # fmt: skip
    got, head = live.get("/v1/segments/all"), live.head("/v1/segments/all")
    assert (head.status_code, head.content) == (200, b"")
    for header in ("etag", "content-type", "content-length"):
        assert head.headers[header] == got.headers[header]
    assert live.head(
        "/v1/segments/all", headers={"If-None-Match": got.headers["etag"]}
    ).status_code == (
        live.get("/v1/segments/all", headers={"If-None-Match": got.headers["etag"]}).status_code
    )
    missing = live.head("/v1/segments/nope")
    assert (missing.status_code, missing.content) == (404, b"")
    assert missing.headers["content-type"] == "application/problem+json"
    refused = live.head("/v1/segments/all/preview")  # POST only
    assert (refused.status_code, refused.headers["allow"]) == (405, "POST")


def test_fixed_members_paths(live: httpx.Client) -> None:
    live.post("/v1/customers/batch", json={"items": [{"id": "c1"}, {"id": "c2"}]})
    live.post(
        "/v1/segments", json={"kind": "customer", "code": "vip", "name": "VIP", "type": "fixed"}
    )
    edited = live.post("/v1/segments/vip/members", json={"add": ["c1", "c2"]})
    assert edited.json() == {"added": 2, "removed": 0}
    edited = live.post("/v1/segments/vip/members", json={"remove": ["c1"]})
    assert edited.json() == {"added": 0, "removed": 1}
    assert live.get("/v1/segments/vip/members/c1").status_code == 404


def test_the_description_and_the_web_page_are_served_beside_the_api(live: httpx.Client) -> None:
    assert live.get("/openapi.json").json()["info"]["title"] == "segmentry"
    assert live.get("/docs").status_code == 200
    assert live.get("/").status_code == 200
