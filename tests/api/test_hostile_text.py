"""Text that is not valid Unicode, and ids that are not ids (SPEC §7): refused with a
4xx problem that says where, never stored, never replaced by U+FFFD, never a 500."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from segmentry.cli.server import LiveServer, build_app
from segmentry.engine.segmentry import Segmentry
from tests.api.conftest import Caller, is_problem, new_tenant

SURROGATE_RULE = "email = '\ud800'"
"""A lone surrogate (JSON's ``\\ud800`` escape) in a rule's string, at column 10."""


def send(caller: Caller, method: str, url: str, body: object) -> httpx.Response:
    """``body`` as JSON with ``\\u`` escapes, as any client may send a lone surrogate
    (httpx's ``json=`` cannot: it encodes the text as UTF-8 first)."""
    headers = {"Content-Type": "application/json"}
    return caller.request(method, url, content=json.dumps(body), headers=headers)


def refused_at(response: Any, line: int, column: int) -> None:
    body = is_problem(response, 422, "invalid-rule")
    first = body["errors"][0]
    assert (first["line"], first["column"]) == (line, column), body
    assert "U+D800 is a lone surrogate" in first["message"], body


@pytest.fixture
def hv(api: Caller) -> Caller:
    api.put("/v1/customers/c1", json={"email": "a@example.com", "lifetime_value": 300})
    created = api.post("/v1/segments", json={"kind": "customer", "code": "hv", "name": "HV",
                                             "rule": "lifetime_value > 200"})  # fmt: skip
    assert created.status_code == 201
    return api


def test_a_lone_surrogate_in_a_new_rule_is_refused_at_its_position(hv: Caller) -> None:
    body = {"kind": "customer", "code": "lsr", "name": "x", "rule": SURROGATE_RULE}
    refused_at(send(hv, "POST", "/v1/segments", body), 1, 10)
    is_problem(hv.get("/v1/segments/lsr"), 404, "not-found")


def test_a_lone_surrogate_in_a_json_form_rule_is_refused(hv: Caller) -> None:
    rule = {"attr": "email", "op": "=", "value": "a\udfffb"}
    body = {"kind": "customer", "code": "lsr", "name": "x", "rule": rule}
    response = send(hv, "POST", "/v1/segments", body)
    detail = is_problem(response, 422, "invalid-rule")["detail"]
    assert detail == "line 1, column 1: at rule.value: string holds a lone surrogate"


def test_a_lone_surrogate_in_an_edited_rule_is_refused_and_the_rule_kept(hv: Caller) -> None:
    edit = {"rule": "email = '\ud800' OR lifetime_value > 200"}
    refused_at(send(hv, "PATCH", "/v1/segments/hv", edit), 1, 10)
    kept = hv.get("/v1/segments/hv").json()
    assert (kept["rule"]["text"], kept["version"]) == ("lifetime_value > 200", 1)


def test_a_lone_surrogate_in_a_preview_is_refused(hv: Caller) -> None:
    preview = {"kind": "customer", "rule": SURROGATE_RULE}
    refused_at(send(hv, "POST", "/v1/segments/preview", preview), 1, 10)
    edit_preview = {"rule": "\n  " + SURROGATE_RULE}
    refused_at(send(hv, "POST", "/v1/segments/hv/preview", edit_preview), 2, 12)


def test_a_surrogate_escape_in_a_listing_rule_is_refused(hv: Caller) -> None:
    response = hv.get("/v1/customers", params={"rule": "email = 'x\\ud800'"})
    refused_at(response, 1, 11)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", "/v1/customers/%FF"),
        ("GET", "/v1/customers/%FE"),
        ("GET", "/v1/customers/%C0"),
        ("DELETE", "/v1/customers/%80"),
        ("PUT", "/v1/customers/%ED%A0%80"),
        ("GET", "/v1/customers/a%E2%82/segments"),
        ("PUT", "/v1/segments/gold/uses/%FF"),
        ("GET", "/v1/customers?rule=email%20%3D%20%27%FF%27"),
    ],
)
def test_a_path_or_query_that_is_not_utf8_is_refused(api: Caller, method: str, path: str) -> None:
    api.post("/v1/segments", json={"kind": "customer", "code": "gold", "name": "Gold",
                                   "type": "fixed"})  # fmt: skip
    body = {"type": "workflow", "name": "w"} if "/uses/" in path else {}
    response = api.request(method, path, json=body)
    detail = is_problem(response, 400, "bad-request")["detail"]
    assert "is not UTF-8 text" in detail
    assert api.get("/v1/customers").json()["items"] == []
    assert api.get("/v1/segments/gold/uses").json()["items"] == []


def test_the_replacement_character_itself_is_an_id_of_its_own(api: Caller) -> None:
    api.put("/v1/customers/%FF", json={})
    assert api.put("/v1/customers/%EF%BF%BD", json={"email": "r@example.com"}).status_code == 200
    assert [c["id"] for c in api.get("/v1/customers").json()["items"]] == ["\ufffd"]


@pytest.mark.parametrize("bad", [" ", "%20p1", "p1%20", "%C2%A0p1", "x" * 256])
def test_ids_with_spaces_at_an_end_or_too_long_are_refused_in_paths(api: Caller, bad: str) -> None:
    is_problem(api.put(f"/v1/customers/{bad}", json={}), 422, "invalid-value")
    assert api.get("/v1/customers").json()["items"] == []


def test_the_longest_id_is_255_characters(api: Caller) -> None:
    assert api.put(f"/v1/customers/{'x' * 255}", json={}).status_code == 200


def test_ids_with_spaces_at_an_end_are_refused_in_bodies_and_uploads(api: Caller) -> None:
    batch = {"items": [{"id": "c1"}, {"id": "c2 "}]}
    body = is_problem(api.post("/v1/customers/batch", json=batch), 422, "invalid-value")
    assert body["detail"] == "item 1: id 'c2 ' starts or ends with a space; ids cannot"
    lines = b'{"id": "c3"}\n{"id": " c4"}\n'
    report = api.post("/v1/customers/import", content=lines,
                      headers={"Content-Type": "application/x-ndjson"}).json()  # fmt: skip
    assert report["errors"] == [
        {"line": 2, "message": "id ' c4' starts or ends with a space; ids cannot"}
    ]
    assert [c["id"] for c in api.get("/v1/customers").json()["items"]] == ["c3"]
    fixed = {"kind": "customer", "code": "picks", "name": "Picks", "type": "fixed",
             "members": ["c3 "]}  # fmt: skip
    is_problem(api.post("/v1/segments", json=fixed), 422, "invalid-value")
    api.post("/v1/segments", json={**fixed, "members": ["c3"]})
    edit = api.post("/v1/segments/picks/members", json={"add": [" c3"]})
    is_problem(edit, 422, "invalid-value")
    use = api.put("/v1/segments/picks/uses/%20mail", json={"type": "workflow", "name": "Mail"})
    is_problem(use, 422, "invalid-value")


def test_a_live_server_refuses_a_path_that_is_not_utf8(segmentry: Segmentry) -> None:
    _, key = new_tenant(segmentry, "live utf-8")
    with LiveServer(build_app(segmentry)) as server:
        headers = {"Authorization": f"Bearer {key}"}
        with httpx.Client(base_url=server.url, headers=headers) as client:
            is_problem(client.put("/v1/customers/%FF", json={}), 400, "bad-request")
            is_problem(client.get("/segments/%FF"), 400, "bad-request")  # the page too
            assert client.get("/v1/customers").json()["items"] == []


def test_json_is_read_to_the_same_values_whichever_reader_reads_it(api: Caller) -> None:
    # orjson (the fast reader) would read this integer as a float and let it in.
    big = b'{"price": 123456789012345678901234567890}'
    headers = {"Content-Type": "application/json"}
    response = api.put("/v1/products/p1", content=big, headers=headers)
    assert "integers are limited" in is_problem(response, 422, "invalid-value")["detail"]
    for literal in (b"NaN", b"1e400"):  # orjson refuses these; the standard library reads them
        body = b'{"price": ' + literal + b"}"
        response = api.put("/v1/products/p1", content=body, headers=headers)
        assert "numbers must be finite" in is_problem(response, 422, "invalid-value")["detail"]
    assert api.get("/v1/products").json()["items"] == []
