"""``web_first_page``: the web page's first members page of a 20,000-member segment.

The page is fetched as a browser would, over HTTP from the served application
(uvicorn on a local port, signed in with a session cookie): it authenticates the
key, reads the segment, a page of 50 members and their attributes, and renders
the HTML. The peer, in the same run and process, is the bare library read of
the same first page: ``Shop.members`` turned into JSON. The target is an
absolute one, under a second for the page; the ratio says what the page costs
on top of the read.

``member_check_vs_bare``: sequential requests per second of the member check
(``GET /v1/segments/big/members/{id}``, key check included) divided by those of
a route that does nothing, served by the same API application, server and client,
taking turns in blocks.
"""

from __future__ import annotations

import json
import re
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.timing import median_seconds
from segmentry.api.app import create_app
from segmentry.cli.server import LiveServer, build_app
from segmentry.engine.segmentry import Segmentry
from segmentry.engine.shop import Shop
from segmentry.engine.types import SegmentSpec, SegmentType
from segmentry.synthetic import generate, vocabulary

MEMBERS = 20_000
PAGE = 50
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass(frozen=True)
class WebResult:
    members: int
    page_s: float
    peer_s: float
    member_check_per_s: float
    bare_per_s: float

    @property
    def ratio(self) -> float:
        return self.page_s / self.peer_s

    @property
    def member_check_vs_bare(self) -> float:
        return self.member_check_per_s / self.bare_per_s


def _fill(shop: Shop, members: int) -> None:
    """Half again as many customers as members; the segment holds two in three."""
    shop.declare_attribute("customer", "loyalty_status", "enum", values=vocabulary.LOYALTY)
    docs = list(generate.customers(members * 3 // 2, seed=31).documents())
    for start in range(0, len(docs), 5_000):
        shop.upsert_many("customer", docs[start : start + 5_000])
    chosen = [d["id"] for i, d in enumerate(docs) if i % 3 != 2][:members]
    shop.create_segment(
        SegmentSpec(kind="customer", code="big", name="Big", type=SegmentType.FIXED, members=chosen)
    )


def _sign_in(client: httpx.Client, key: str) -> None:
    token = TOKEN.search(client.get("/signin").text)
    if token is None:
        raise RuntimeError("the sign-in page has no CSRF token")
    client.post("/signin", data={"api_key": key, "csrf_token": token[1]})


def run(members: int = MEMBERS) -> WebResult:
    with (
        tempfile.TemporaryDirectory(prefix="segmentry-bench-") as folder,
        Segmentry(f"sqlite:///{Path(folder) / 'web.db'}") as segmentry,
    ):
        tenant = segmentry.tenants()[0]
        _, key = segmentry.issue_key(tenant.tenant_id, "bench")
        shop = segmentry.shop(tenant.tenant_id)
        _fill(shop, members)
        with (
            LiveServer(build_app(segmentry)) as live,
            httpx.Client(base_url=live.url, follow_redirects=True, timeout=60) as client,
        ):
            _sign_in(client, key)
            page_s = median_seconds(lambda: _page(client, members), repeat=7, warmup=2)
        peer_s = median_seconds(lambda: _peer(shop), repeat=7, warmup=2)
        member_id = shop.members("big", limit=1).items[0].id
        checks, bare = _member_check_rates(segmentry, key, f"/v1/segments/big/members/{member_id}")
    return WebResult(members, page_s, peer_s, checks, bare)


BLOCK, ROUNDS = 200, 7


def _member_check_rates(segmentry: Segmentry, key: str, path: str) -> tuple[float, float]:
    """Sequential requests per second of the member check and of a bare route."""
    app = create_app(segmentry)

    @app.get("/bench/bare")
    def bare() -> dict[str, bool]:
        return {"ok": True}

    rates: dict[str, list[float]] = {path: [], "/bench/bare": []}
    with (
        LiveServer(app) as live,
        httpx.Client(base_url=live.url, headers={"Authorization": f"Bearer {key}"}) as client,
    ):
        for round_ in range(ROUNDS + 1):
            for target, measured in rates.items():
                started = time.perf_counter()
                for _ in range(BLOCK):
                    if client.get(target).status_code != 200:
                        raise RuntimeError(f"{target} did not answer 200")
                if round_:  # the first round warms up
                    measured.append(BLOCK / (time.perf_counter() - started))
    return statistics.median(rates[path]), statistics.median(rates["/bench/bare"])


def _page(client: httpx.Client, members: int) -> None:
    answer = client.get("/segments/big/members")
    if answer.status_code != 200 or f"{members:,} customers" not in answer.text:
        raise RuntimeError(f"the members page did not render: {answer.status_code}")


def _peer(shop: Shop) -> str:
    page = shop.members("big", limit=PAGE)
    return json.dumps([{"id": m.id, "since": m.since.isoformat()} for m in page.items])
