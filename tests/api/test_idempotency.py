"""Idempotency-Key on batches and imports, through a real server: retried in sequence
and at once, a keyed request is written once and answered the same every time."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from segmentry.cli.server import LiveServer, build_app
from segmentry.engine.segmentry import Segmentry
from tests.api.conftest import Caller, is_problem, new_tenant

BATCH = {"items": [{"id": "p1", "price": 120}, {"id": "p2", "price": 50}]}


@pytest.fixture
def live(segmentry: Segmentry) -> Iterator[tuple[str, dict[str, str], int]]:
    tenant_id, key = new_tenant(segmentry, "keyed shop")
    with LiveServer(build_app(segmentry)) as server:
        yield server.url, {"Authorization": f"Bearer {key}"}, tenant_id


def _big_segment(url: str, auth: dict[str, str]) -> None:
    body = {"kind": "product", "code": "big", "name": "Big", "rule": "price > 100"}
    assert httpx.post(f"{url}/v1/segments", json=body, headers=auth).status_code == 201


def _written_once(segmentry: Segmentry, tenant_id: int) -> None:
    shop = segmentry.shop(tenant_id)
    events = shop.events(limit=1_000).items
    assert [(e.entity_id, e.change) for e in events] == [("p1", "entered")]
    assert shop.segment("big").member_count == 1
    assert (
        shop.get("product", "p1").attributes["created_at"]
        == shop.get("product", "p1").attributes["updated_at"]
    )  # never written a second time


def test_a_batch_retried_20_times_in_sequence_is_written_once(
    live: tuple[str, dict[str, str], int], segmentry: Segmentry
) -> None:
    url, auth, tenant_id = live
    _big_segment(url, auth)
    headers = {**auth, "Idempotency-Key": "batch-2024-03-15"}
    with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
        answers = [client.post("/v1/products/batch", json=BATCH) for _ in range(21)]
    assert {(a.status_code, a.text) for a in answers} == {(200, '{"upserted":2}')}
    assert [a.headers["idempotent-replayed"] for a in answers] == ["false"] + ["true"] * 20
    _written_once(segmentry, tenant_id)


def test_a_batch_retried_10_times_at_once_is_written_once(
    live: tuple[str, dict[str, str], int], segmentry: Segmentry
) -> None:
    url, auth, tenant_id = live
    _big_segment(url, auth)
    headers = {**auth, "Idempotency-Key": "batch-concurrent"}

    def send(_: int) -> httpx.Response:
        return httpx.post(f"{url}/v1/products/batch", json=BATCH, headers=headers, timeout=60)

    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(send, range(10)))
    assert {(a.status_code, a.text) for a in answers} == {(200, '{"upserted":2}')}
    assert sorted(a.headers["idempotent-replayed"] for a in answers) == ["false"] + ["true"] * 9
    _written_once(segmentry, tenant_id)


def test_the_same_key_with_another_body_is_refused_and_writes_nothing(api: Caller) -> None:
    headers = {"Idempotency-Key": "k1"}
    assert api.post("/v1/products/batch", json=BATCH, headers=headers).status_code == 200
    other = {"items": [{"id": "p9", "price": 1}]}
    is_problem(api.post("/v1/products/batch", json=other, headers=headers), 422,
               "idempotency-key-reused")  # fmt: skip
    is_problem(api.post("/v1/customers/batch", json=BATCH, headers=headers), 422,
               "idempotency-key-reused")  # fmt: skip
    assert api.get("/v1/products/p9").status_code == 404


def test_keys_are_per_tenant(api: Caller, other: Caller) -> None:
    headers = {"Idempotency-Key": "k1"}
    api.post("/v1/products/batch", json=BATCH, headers=headers)
    answer = other.post("/v1/products/batch", json=BATCH, headers=headers)
    assert answer.headers["idempotent-replayed"] == "false"
    assert other.get("/v1/products/p1").status_code == 200


def test_a_retried_import_replays_its_report_and_imports_nothing(api: Caller) -> None:
    body = b"id,price\np1,120\np2,lots\n"
    headers = {"Content-Type": "text/csv", "Idempotency-Key": "import-1"}
    first = api.post("/v1/products/import", content=body, headers=headers)
    again = api.post("/v1/products/import", content=body, headers=headers)
    assert first.json() == again.json()
    assert (first.json()["applied"], first.json()["rejected"]) == (1, 1)
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["location"] == f"/v1/imports/{first.json()['id']}"
    reused = api.post("/v1/products/import", content=b"id\np3\n", headers=headers)
    is_problem(reused, 422, "idempotency-key-reused")
    remapped = api.post("/v1/products/import?map=price:price", content=body, headers=headers)
    is_problem(remapped, 422, "idempotency-key-reused")


def test_a_failed_batch_keeps_no_key(api: Caller) -> None:
    headers = {"Idempotency-Key": "k2"}
    bad = {"items": [{"id": "p1", "attributes": {"tier": "gold"}}]}
    is_problem(api.post("/v1/products/batch", json=bad, headers=headers), 422, "invalid-value")
    api.post("/v1/attributes", json={"kind": "product", "key": "tier", "type": "string"})
    assert api.post("/v1/products/batch", json=bad, headers=headers).status_code == 200
