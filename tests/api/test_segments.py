"""Segment edits with If-Match and ETags; lists filtered and paged by code."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx

from segmentry.cli.server import LiveServer, build_app
from segmentry.engine.segmentry import Segmentry
from tests.api.conftest import Caller, is_problem, new_tenant

CLIENTS = 16
ATTEMPTS_EACH = 3


def test_16_clients_editing_one_segment_with_if_match_lose_no_update(segmentry: Segmentry) -> None:
    _, key = new_tenant(segmentry, "busy shop")
    auth = {"Authorization": f"Bearer {key}"}
    with LiveServer(build_app(segmentry)) as server:
        url = f"{server.url}/v1/segments"
        body = {"kind": "product", "code": "s", "name": "0", "rule": "price > 0"}
        assert httpx.post(url, json=body, headers=auth).status_code == 201

        def client(n: int) -> list[int]:
            """Read the ETag, then edit based on it: another client may have edited first."""
            statuses = []
            with httpx.Client(headers=auth, timeout=60) as http:
                for attempt in range(ATTEMPTS_EACH):
                    tag = http.get(f"{url}/s").headers["etag"]
                    edit = {"description": f"client {n}, attempt {attempt}"}
                    answer = http.patch(f"{url}/s", json=edit, headers={"If-Match": tag})
                    statuses.append(answer.status_code)
            return statuses

        with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
            statuses = [s for result in pool.map(client, range(CLIENTS)) for s in result]
        final = httpx.get(f"{url}/s", headers=auth).json()
        versions = httpx.get(f"{url}/s/versions", headers=auth).json()["items"]
    successes, refused = statuses.count(200), statuses.count(412)
    assert successes + refused == CLIENTS * ATTEMPTS_EACH
    assert successes >= 1
    assert final["version"] == 1 + successes
    assert len(versions) == 1 + successes  # every success is a saved version, none lost


def test_get_and_edit_answer_the_etag_and_a_stale_one_is_refused(api: Caller) -> None:
    api.post(
        "/v1/segments", json={"kind": "product", "code": "s", "name": "S", "rule": "price > 1"}
    )
    assert api.get("/v1/segments/s").headers["etag"] == '"1"'
    edited = api.patch("/v1/segments/s", json={"name": "T"}, headers={"If-Match": '"1"'})
    assert (edited.headers["etag"], edited.json()["version"]) == ('"2"', 2)
    stale = api.patch("/v1/segments/s", json={"name": "U"}, headers={"If-Match": '"1"'})
    assert is_problem(stale, 412, "version-conflict")["current_version"] == 2
    assert api.patch("/v1/segments/s", json={"name": "U"}, headers={"If-Match": "*"}).is_success
    restore = api.post("/v1/segments/s/versions/1/restore", headers={"If-Match": '"2"'})
    is_problem(restore, 412, "version-conflict")


def test_a_delete_based_on_a_stale_version_is_refused_and_deletes_nothing(api: Caller) -> None:
    api.post(
        "/v1/segments", json={"kind": "product", "code": "s", "name": "S", "rule": "price > 1"}
    )
    api.patch("/v1/segments/s", json={"name": "T"})
    stale = api.delete("/v1/segments/s", headers={"If-Match": '"1"'})
    assert is_problem(stale, 412, "version-conflict")["current_version"] == 2
    assert api.get("/v1/segments/s").status_code == 200
    assert api.delete("/v1/segments/s", headers={"If-Match": '"2"'}).status_code == 204
    assert api.get("/v1/segments/s").status_code == 404


def test_a_merge_patch_clears_the_description_with_null(api: Caller) -> None:
    api.post("/v1/segments", json={"kind": "product", "code": "s", "name": "S",
                                   "description": "old", "rule": "price > 1"})  # fmt: skip
    cleared = api.patch("/v1/segments/s", json={"description": None})
    assert cleared.json()["description"] == ""


def test_lists_are_filtered_and_paged_by_code_without_skipping_on_deletes(api: Caller) -> None:
    for code in ("a", "b", "c", "d"):
        api.post("/v1/segments", json={"kind": "product", "code": code, "name": code,
                                       "status": "inactive" if code == "d" else "active",
                                       "rule": "price > 1"})  # fmt: skip
    first = api.get("/v1/segments", params={"limit": 2, "status": "active"}).json()
    assert [s["code"] for s in first["items"]] == ["a", "b"]
    api.delete("/v1/segments/b")  # the last item sent is gone: the cursor still holds
    rest = api.get("/v1/segments", params={"limit": 2, "status": "active",
                                           "cursor": first["next_cursor"]}).json()  # fmt: skip
    assert ([s["code"] for s in rest["items"]], rest["next_cursor"]) == (["c"], None)
    customers = api.get("/v1/segments", params={"kind": "customer"}).json()
    assert customers == {"items": [], "next_cursor": None}


def test_renaming_a_used_segment_is_refused_with_its_uses_unless_forced(api: Caller) -> None:
    api.post("/v1/segments", json={"kind": "product", "code": "premiumProducts",
                                   "name": "Premium", "rule": "price > 100"})  # fmt: skip
    use = {"type": "workflow", "name": "Home page: premium picks", "url": "https://shop/wf/7"}
    api.put("/v1/segments/premiumProducts/uses/home-picks", json=use)
    refused = api.patch("/v1/segments/premiumProducts", json={"code": "premiumProductsX"})
    body = is_problem(refused, 409, "in-use")
    assert body["users"] == [{"id": "home-picks", **use}]
    assert "rename with force" in body["detail"]
    assert api.get("/v1/segments/premiumProducts").json()["version"] == 1
    is_problem(api.get("/v1/segments/premiumProductsX"), 404, "not-found")
    other_edit = api.patch("/v1/segments/premiumProducts", json={"name": "Premium picks"})
    assert other_edit.status_code == 200  # only the code is guarded
    forced = api.patch("/v1/segments/premiumProducts", params={"force": "true"},
                       json={"code": "premiumProductsX"})  # fmt: skip
    assert forced.status_code == 200
    assert forced.json()["code"] == "premiumProductsX"
    restored = api.post("/v1/segments/premiumProductsX/versions/1/restore")
    is_problem(restored, 409, "in-use")  # version 1 had the old code: a rename too
    forced_back = api.post("/v1/segments/premiumProductsX/versions/1/restore",
                           params={"force": "true"})  # fmt: skip
    assert forced_back.json()["code"] == "premiumProducts"
