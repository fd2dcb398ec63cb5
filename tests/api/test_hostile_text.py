"""Text that is not valid Unicode, and ids that are not ids (SPEC §7): refused with a
4xx problem that says where, never stored, never replaced by U+FFFD, never a 500."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.api.conftest import Caller, is_problem

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
