"""Rules of any allowed length reach the application, through a real uvicorn server.

A rule may be 65,536 characters; in a URL, percent-encoded, each character may take
12 bytes. The server's limit on a request's head fits that (``cli/http_head.py``):
the application answers, with its items or its own problem. A head past that limit
is answered by the server as problem+json, and the client reads it rather than a
reset connection. ``POST /v1/{kind}/search`` takes the same query in a body and
answers exactly as the listing's ``GET``.
"""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from segmentry.cli.http_head import REQUEST_HEAD_BYTES
from segmentry.cli.server import LiveServer, build_app
from segmentry.engine.segmentry import Segmentry
from segmentry.model.limits import MAX_STRING_LENGTH, MAX_TEXT_LENGTH
from tests.api.conftest import Caller, is_problem, new_tenant

IDS = range(30)


@pytest.fixture(scope="module")
def live(segmentry: Segmentry) -> Iterator[LiveServer]:
    with LiveServer(build_app(segmentry)) as server:
        yield server


@pytest.fixture
def caller(segmentry: Segmentry, live: LiveServer) -> Iterator[Caller]:
    tenant_id, key = new_tenant(segmentry, "long rules")
    with httpx.Client(base_url=live.url, timeout=60) as client:
        caller = Caller(client, key, tenant_id)
        names = ["é" * 10, "日本", "plain", "é" * MAX_STRING_LENGTH]
        items = [
            {"id": f"c{i}", "first_name": names[i % 4], "lifetime_value": i} for i in range(30)
        ]
        answer = caller.post("/v1/customers/batch", json={"items": items})
        assert answer.status_code == 200, answer.text
        yield caller


def _long_rule() -> str:
    """A rule of 30,000 multi-byte characters that selects customers: 180 KB encoded."""
    names = ", ".join(["'" + "é" * MAX_STRING_LENGTH + "'"] * 7)
    rule = f"first_name IN ({names}, '日本') AND lifetime_value >= 3"
    assert 28_000 < len(rule) < MAX_TEXT_LENGTH
    return rule


def _get(caller: Caller, rule: str, **params: Any) -> httpx.Response:
    """``GET /v1/customers`` with a URL of any length (httpx refuses one past 64 KiB):
    sent by the standard library's client, the answer read back as an httpx response."""
    query = "&".join([f"rule={quote(rule)}", *(f"{k}={v}" for k, v in params.items())])
    url = httpx.URL(str(caller.client.base_url))
    connection = http.client.HTTPConnection(url.host, url.port, timeout=60)
    try:
        connection.request("GET", f"/v1/customers?{query}", headers=caller.auth)
        answer = connection.getresponse()
        headers, content = answer.getheaders(), answer.read()
    finally:
        connection.close()
    return httpx.Response(answer.status, headers=headers, content=content)


def test_a_long_multibyte_rule_in_a_url_reaches_the_application(caller: Caller) -> None:
    rule = _long_rule()
    assert len(quote(rule)) > 170_000  # 16 KiB was uvicorn's limit on an incomplete head
    answer = _get(caller, rule, limit=2)
    assert answer.status_code == 200, answer.text[:300]
    first = answer.json()
    assert [e["id"] for e in first["items"]] == ["c3", "c5"]
    rest = _get(caller, rule, limit=100, cursor=first["next_cursor"]).json()
    assert [e["id"] for e in rest["items"]] == [f"c{i}" for i in range(7, 30, 2)]
    assert rest["next_cursor"] is None


def test_the_longest_rule_of_four_byte_characters_gets_the_applications_answer(
    caller: Caller,
) -> None:
    """65,536 characters of 12 encoded bytes each: the rule language refuses it
    (not a rule), and a character more is the query's own limit; both as problems."""
    longest = "😀" * MAX_TEXT_LENGTH
    assert len(quote(longest)) == 12 * MAX_TEXT_LENGTH
    is_problem(_get(caller, longest), 422, "invalid-rule")
    too_long = is_problem(_get(caller, longest + "😀"), 422, "invalid-request")
    assert too_long["errors"][0]["location"] == "query.rule"


def test_a_head_past_the_servers_limit_is_a_problem_not_a_reset(caller: Caller) -> None:
    """The parser checks the limit on a head it has not completed, read as the bytes come
    in: a head twice the limit is over it at some read, wherever the reads fall."""
    answer = _get(caller, "x" * (2 * REQUEST_HEAD_BYTES))
    body = is_problem(answer, 431, "request-head-too-large")
    assert "/search" in body["detail"]
    assert answer.headers["connection"] == "close"


def test_a_request_that_is_not_http_is_a_problem(live: LiveServer) -> None:
    import socket

    with socket.create_connection((live.host, live.port), timeout=10) as sock:
        sock.sendall(b"GET /v1/customers HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n")
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 "), head
    assert b"content-type: application/problem+json" in head.lower()
    assert b'"type":"https://segmentry.dev/problems/bad-request"' in body


def test_search_answers_as_the_listing_does_with_the_same_cursors(caller: Caller) -> None:
    for rule in ["lifetime_value > 4 AND first_name != 'plain'", _long_rule()]:
        listed, searched, cursor = [], [], None
        while True:
            got = _get(caller, rule, limit=3, **({"cursor": cursor} if cursor else {}))
            body = {"rule": rule, "limit": 3, "cursor": cursor}
            posted = caller.post("/v1/customers/search", json=body)
            assert got.status_code == posted.status_code == 200, posted.text[:300]
            assert got.json() == posted.json()
            listed.extend(got.json()["items"])
            searched.extend(posted.json()["items"])
            cursor = got.json()["next_cursor"]
            if cursor is None:
                break
        assert listed == searched
        assert len(listed) > 3  # more than one page


def test_search_refuses_as_the_listing_does(caller: Caller) -> None:
    is_problem(caller.post("/v1/customers/search", json={"rule": "prce > 1"}), 422, "invalid-rule")
    is_problem(caller.post("/v1/products/search", json={"limit": 0}), 422, "invalid-request")
    is_problem(caller.post("/v1/products/search", json={"rules": "x"}), 422, "invalid-request")
    cursor = is_problem(
        caller.post("/v1/products/search", json={"cursor": "abc"}), 422, "invalid-value"
    )
    assert cursor["field"] == "cursor"
    huge = caller.post("/v1/customers/search", json={"rule": "😀" * (MAX_TEXT_LENGTH + 1)})
    is_problem(huge, 422, "invalid-request")


def test_search_without_a_rule_lists_everyone(caller: Caller) -> None:
    everyone = caller.post("/v1/customers/search", json={"limit": 1000}).json()
    assert [e["id"] for e in everyone["items"]] == [f"c{i}" for i in range(30)]
    assert everyone == caller.get("/v1/customers?limit=1000").json()
