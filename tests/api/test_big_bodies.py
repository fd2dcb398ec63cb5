"""A huge body of unknown keys is refused quickly, and other clients are served while
it is (SPEC §7: work grows linearly with a request, suggestions for the first few
unknown keys only), through a real uvicorn server on a free port.

The bounds are generous: they catch a request that stalls the server for many
seconds (as a 10 MB body once did, for 16 s), not a slow machine."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest

from segmentry.cli.server import LiveServer, build_app
from segmentry.engine.segmentry import Segmentry
from tests.api.conftest import new_tenant

CHECK = "/v1/segments/ios/members/c1"


@dataclass
class Live:
    url: str
    headers: dict[str, str]


@pytest.fixture
def live(segmentry: Segmentry) -> Iterator[Live]:
    _, key = new_tenant(segmentry, "big bodies")
    headers = {"Authorization": f"Bearer {key}"}
    with LiveServer(build_app(segmentry)) as server:
        with httpx.Client(base_url=server.url, headers=headers, timeout=60) as client:
            client.put("/v1/customers/c1", json={"platform": "ios"})
            client.post("/v1/segments", json={"kind": "customer", "code": "ios", "name": "iOS",
                                              "rule": "platform = 'ios'"})  # fmt: skip
            assert client.get(CHECK).status_code == 200
        yield Live(server.url, headers)


@dataclass
class Checks:
    """Another client's member checks, one after another until stopped."""

    live: Live
    waits: list[float] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        with httpx.Client(base_url=self.live.url, headers=self.live.headers, timeout=60) as c:
            while not self.stop.is_set():
                started = time.monotonic()
                self.statuses.append(c.get(CHECK).status_code)
                self.waits.append(time.monotonic() - started)
                time.sleep(0.01)


def refused_while_checked(live: Live, method: str, path: str, body: bytes) -> tuple[
    httpx.Response, float, Checks
]:  # fmt: skip
    checks = Checks(live)
    checker = threading.Thread(target=checks.run)
    checker.start()
    try:
        with httpx.Client(base_url=live.url, headers=live.headers, timeout=120) as client:
            started = time.monotonic()
            response = client.request(
                method, path, content=body, headers={"Content-Type": "application/json"}
            )
            elapsed = time.monotonic() - started
    finally:
        checks.stop.set()
        checker.join()
    return response, elapsed, checks


def test_a_10_mb_body_of_unknown_keys_is_refused_while_others_are_served(live: Live) -> None:
    keys = 700_000
    body = json.dumps({"attributes": {f"key{n}": 0 for n in range(keys)}}).encode()
    assert len(body) > 10_000_000
    response, elapsed, checks = refused_while_checked(live, "PUT", "/v1/customers/x", body)
    assert response.status_code == 422
    messages = [e["message"] for e in response.json()["errors"]]
    assert messages == [
        "customer x: unknown attribute 'key0'",
        "customer x: unknown attribute 'key1'",
        "customer x: unknown attribute 'key2'",
        f"customer x: and {keys - 3:,} more unknown attributes",
    ]
    assert elapsed < 8, f"refused after {elapsed:.1f} s"
    assert checks.statuses, "no member check ran while the body was refused"
    assert set(checks.statuses) == {200}
    assert max(checks.waits) < 5, f"a member check waited {max(checks.waits):.1f} s"


def test_a_batch_of_1000_items_of_100_unknown_keys_each(live: Live) -> None:
    items = [{"id": f"i{n}", **{f"key{k}": 0 for k in range(100)}} for n in range(1_000)]
    body = json.dumps({"items": items}).encode()
    response, elapsed, checks = refused_while_checked(live, "POST", "/v1/customers/batch", body)
    assert response.status_code == 422
    messages = [e["message"] for e in response.json()["errors"]]
    assert messages[:4] == [
        "item 0: customer i0: unknown attribute 'key0'",
        "item 0: customer i0: unknown attribute 'key1'",
        "item 0: customer i0: unknown attribute 'key2'",
        "item 0: customer i0: and 97 more unknown attributes",
    ]
    assert response.json()["detail"].endswith("(and 3980 more)")
    assert elapsed < 5, f"refused after {elapsed:.1f} s"
    assert set(checks.statuses) == {200}
    assert max(checks.waits, default=0) < 2


def test_a_batch_whose_every_item_has_an_unknown_key_of_its_own(live: Live) -> None:
    items = [{"id": f"i{n}", f"key{n}": 0} for n in range(10_000)]
    body = json.dumps({"items": items}).encode()
    response, elapsed, checks = refused_while_checked(live, "POST", "/v1/customers/batch", body)
    assert response.status_code == 422
    first = response.json()["errors"][0]["message"]
    assert first == "item 0: customer i0: unknown attribute 'key0'"
    assert elapsed < 5, f"refused after {elapsed:.1f} s"
    assert set(checks.statuses) == {200}
    assert max(checks.waits, default=0) < 2
