"""Every error path answers a problem (RFC 9457) with the right status and type.

One table lists a request for each way a request can fail; one test sends each
and checks the problem's shape, status and type, and one more checks that the
table leaves out no type the API can answer.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from segmentry.api.limits import Limits
from segmentry.api.problems import CODE_OF_STATUS, STATUS_OF_ERROR
from segmentry.cli.server import LiveServer, build_app
from segmentry.engine.idempotency import Once, fingerprint
from segmentry.engine.segmentry import Segmentry
from tests.api.conftest import Caller, is_problem, new_tenant, small_limits_client
from tests.engine.test_idempotency import _Gate

RULE_NESTED_TOO_DEEP = "(" * 70 + "price > 1" + ")" * 70
JSON_NESTED_TOO_DEEP = b'{"kind": "product", "rule": ' + b"[" * 5_000 + b"]" * 5_000 + b"}"


@dataclass(frozen=True)
class Case:
    name: str
    status: int
    code: str
    send: Callable[[Caller], Any]
    check: Callable[[dict[str, Any]], bool] = lambda body: True


def _seed(api: Caller) -> None:
    api.put("/v1/products/p1", json={"name": "Air", "price": 120})
    api.post("/v1/segments", json={"kind": "product", "code": "big", "name": "Big",
                                   "rule": "price > 100"})  # fmt: skip
    api.post("/v1/segments", json={"kind": "product", "code": "vip", "name": "VIP",
                                   "type": "fixed", "members": ["p1"]})  # fmt: skip
    api.put("/v1/segments/big/uses/mail", json={"type": "workflow", "name": "Mail"})
    api.post("/v1/attributes", json={"kind": "product", "key": "tier", "type": "string"})
    api.post("/v1/segments", json={"kind": "product", "code": "tiered", "name": "T",
                                   "rule": "tier = 'a'"})  # fmt: skip


def _raw(api: Caller, method: str, url: str, body: bytes, **headers: str) -> Any:
    return api.request(method, url, content=body, headers={"Content-Type": "application/json",
                                                           **headers})  # fmt: skip


def _reuse_key(api: Caller) -> Any:
    key = {"Idempotency-Key": "batch-1"}
    api.post("/v1/products/batch", json={"items": [{"id": "p3"}]}, headers=key)
    return api.post("/v1/products/batch", json={"items": [{"id": "p4"}]}, headers=key)


# fmt: off
CASES = [
    Case("no key", 401, "unauthenticated", lambda a: a.client.get("/v1/segments")),
    Case("unknown key", 401, "unauthenticated",
         lambda a: a.client.get("/v1/segments", headers={"Authorization": "Bearer nope"})),
    Case("not a bearer key", 401, "unauthenticated",
         lambda a: a.client.get("/v1/segments", headers={"Authorization": f"Basic {a.key}"})),
    Case("unknown path", 404, "not-found", lambda a: a.get("/v1/nothing/here")),
    Case("path outside /v1", 404, "not-found", lambda a: a.get("/nothing")),
    Case("method not allowed", 405, "method-not-allowed", lambda a: a.post("/v1/products/p1")),
    Case("unknown entity", 404, "not-found", lambda a: a.get("/v1/products/nope")),
    Case("patch of an unknown entity", 404, "not-found",
         lambda a: a.patch("/v1/customers/nope", json={"email": "x@example.com"})),
    Case("unknown segment", 404, "not-found", lambda a: a.get("/v1/segments/nope")),
    Case("not a member", 404, "not-found", lambda a: a.get("/v1/segments/big/members/p9")),
    Case("unknown import", 404, "not-found", lambda a: a.get("/v1/imports/nope")),
    Case("a rule in a format that cannot say it", 422, "unconvertible-rule",
         lambda a: a.post("/v1/rules/convert", json={"kind": "product", "from": "jsonlogic",
                                                     "to": "text", "rule": {"map": []}})),
    Case("unknown version", 404, "not-found",
         lambda a: a.post("/v1/segments/big/versions/9/restore")),
    Case("body is not JSON", 400, "invalid-json",
         lambda a: _raw(a, "POST", "/v1/segments/preview", b'{"kind": ')),
    Case("body is not UTF-8", 400, "bad-request",
         lambda a: _raw(a, "POST", "/v1/segments/preview", b'{"kind": "\xff"}')),
    Case("JSON nested 5,000 deep", 400, "bad-request",
         lambda a: _raw(a, "POST", "/v1/segments/preview", JSON_NESTED_TOO_DEEP)),
    Case("wrong type in a body", 422, "invalid-request",
         lambda a: a.post("/v1/segments", json={"kind": "product", "code": "x", "name": 5,
                                                "rule": "price > 1"}),
         lambda body: body["errors"][0]["location"] == "body.name"),
    Case("unknown field", 422, "invalid-request",
         lambda a: a.patch("/v1/segments/big", json={"kind": "customer"}),
         lambda body: body["errors"][0] == {"message": "unknown field", "location": "body.kind"}),
    Case("bad query parameter", 422, "invalid-request",
         lambda a: a.get("/v1/segments?limit=0"),
         lambda body: body["errors"][0]["location"] == "query.limit"),
    Case("bad cursor", 422, "invalid-value", lambda a: a.get("/v1/segments?cursor=zzz")),
    Case("bad entity value", 422, "invalid-value",
         lambda a: a.put("/v1/products/p2", json={"price": "lots"}),
         lambda body: body["detail"] == "product p2: price must be a number, got 'lots'"),
    Case("custom attribute at the top level", 422, "invalid-value",
         lambda a: a.put("/v1/products/p2", json={"tier": "a"})),
    Case("bad item of a batch", 422, "invalid-value",
         lambda a: a.post("/v1/products/batch", json={"items": [{"id": "p2"}, {"id": 5}]}),
         lambda body: "item 1" in body["detail"]),
    Case("bad rule", 422, "invalid-rule",
         lambda a: a.post("/v1/segments/preview", json={"kind": "product", "rule": "prce > 1"}),
         lambda body: body["errors"][0] == {
             "message": "unknown attribute 'prce'", "line": 1, "column": 1,
             "hint": "did you mean 'price'?"}),
    Case("rule nested past the limit", 422, "invalid-rule",
         lambda a: a.post("/v1/segments/preview",
                          json={"kind": "product", "rule": RULE_NESTED_TOO_DEEP})),
    Case("JSON rule nested past the limit", 422, "invalid-rule",
         lambda a: a.post("/v1/segments/preview", json={"kind": "product", "rule": _deep(200)})),
    Case("pattern past the limits", 422, "invalid-rule",
         lambda a: a.post("/v1/segments/preview",
                          json={"kind": "product", "rule": "name MATCHES '(a{100}){100}'"})),
    Case("code taken", 409, "already-exists",
         lambda a: a.post("/v1/segments", json={"kind": "product", "code": "big", "name": "B",
                                                "rule": "price > 1"})),
    Case("delete a segment in use", 409, "in-use", lambda a: a.delete("/v1/segments/big"),
         lambda body: body["users"][0]["id"] == "mail"),
    Case("delete an attribute a rule uses", 409, "in-use",
         lambda a: a.delete("/v1/attributes/product/tier")),
    Case("stale If-Match", 412, "version-conflict",
         lambda a: a.patch("/v1/segments/big", json={"name": "X"}, headers={"If-Match": '"7"'}),
         lambda body: body["current_version"] == 1),
    Case("malformed If-Match", 400, "bad-request",
         lambda a: a.patch("/v1/segments/big", json={"name": "X"}, headers={"If-Match": "v1"})),
    Case("null for a field that cannot be removed", 422, "invalid-value",
         lambda a: a.patch("/v1/segments/big", json={"name": None})),
    Case("unknown member ids", 422, "unknown-ids",
         lambda a: a.post("/v1/segments/vip/members", json={"add": ["p7", "p8"]}),
         lambda body: body["ids"] == ["p7", "p8"]),
    Case("members of a dynamic segment", 422, "invalid-value",
         lambda a: a.post("/v1/segments/big/members", json={"add": ["p1"]})),
    Case("attribute shadowing a built-in", 422, "invalid-attribute",
         lambda a: a.post("/v1/attributes", json={"kind": "product", "key": "price",
                                                  "type": "number"})),
    Case("idempotency key reused", 422, "idempotency-key-reused", _reuse_key),
    Case("import of another media type", 415, "unsupported-media-type",
         lambda a: a.post("/v1/products/import", content=b"id\np1\n",
                          headers={"Content-Type": "text/plain"})),
    Case("import with a bad header", 422, "invalid-value",
         lambda a: a.post("/v1/products/import", content=b"id,prize\np1,1\n",
                          headers={"Content-Type": "text/csv"}),
         lambda body: "did you mean 'price'?" in body["detail"]),
    Case("import with a bad mapping", 422, "invalid-value",
         lambda a: a.post("/v1/products/import?map=price", content=b"id\np1\n",
                          headers={"Content-Type": "text/csv"})),
    Case("import that stops", 422, "import-stopped",
         lambda a: a.post("/v1/products/import?batch_size=1",
                          content=b"id,name\np5,A\np6,\xff\n",
                          headers={"Content-Type": "text/csv"}),
         lambda body: body["report"]["applied_lines"] == [[2, 2]]),
]
# fmt: on


def _deep(depth: int) -> dict[str, Any]:
    rule: dict[str, Any] = {"attr": "price", "op": ">", "value": 1}
    for _ in range(depth):
        rule = {"not": rule}
    return rule


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_every_error_is_a_problem_with_its_status_and_type(api: Caller, case: Case) -> None:
    _seed(api)
    body = is_problem(case.send(api), case.status, case.code)
    assert case.check(body), body


def test_a_401_says_how_to_authenticate(api: Caller) -> None:
    answer = api.client.get("/v1/segments")
    assert answer.headers["www-authenticate"].startswith("Bearer")


def test_a_405_names_every_method_of_the_path(api: Caller) -> None:
    answer = api.post("/v1/products/p1")
    assert answer.headers["allow"] == "DELETE, GET, HEAD, PATCH, PUT"


def test_bodies_over_the_limit_are_refused_declared_or_streamed(segmentry: Segmentry) -> None:
    tenant_id, key = new_tenant(segmentry, "small")
    with small_limits_client(segmentry, Limits(json_bytes=1_000, upload_bytes=2_000)) as client:
        api = Caller(client, key, tenant_id)
        declared = api.post("/v1/products/batch", json={"items": [{"id": "p" * 2_000}]})
        streamed = api.post(
            "/v1/products/import",
            content=iter([b"id\n"] + [b"p1234567\n"] * 300),  # no Content-Length: chunked
            headers={"Content-Type": "text/csv"},
        )
        small = api.post("/v1/products/import", content=b"id\np1\n",
                         headers={"Content-Type": "text/csv"})  # fmt: skip
    is_problem(declared, 413, "content-too-large")
    is_problem(streamed, 413, "content-too-large")
    assert small.status_code == 200
    (report,) = segmentry.shop(tenant_id).imports()  # the refused upload imported nothing
    assert report.applied == 1


def test_a_retry_while_its_import_runs_is_a_409_naming_the_import(
    api: Caller, segmentry: Segmentry
) -> None:
    body = b"id,price\np1,1\np2,2\n"
    once = Once("import-1", fingerprint("POST", "/v1/products/import", "", "text/csv",
                                        hashlib.sha256(body).hexdigest()))  # fmt: skip
    gate = _Gate(tuple(body.decode().splitlines()))
    shop = segmentry.shop(api.tenant_id)
    first = threading.Thread(target=shop.import_file_once, args=("product", gate, "csv", once))
    first.start()
    try:
        for _ in range(1_000):
            if shop.imports():
                break
            threading.Event().wait(0.01)
        headers = {"Content-Type": "text/csv", "Idempotency-Key": "import-1"}
        retry = api.post("/v1/products/import", content=body, headers=headers)
    finally:
        gate.opened.set()
        first.join(30)
    problem = is_problem(retry, 409, "idempotency-key-in-flight")
    assert problem["import_id"] == shop.imports()[0].import_id


def test_the_table_covers_every_problem_type_the_api_answers() -> None:
    exercised = {c.code for c in CASES} | {
        "content-too-large",
        "idempotency-key-in-flight",
        "database-unavailable",
    }
    answerable = {e.code for e in STATUS_OF_ERROR} | set(CODE_OF_STATUS.values())
    answerable |= {"invalid-request", "invalid-json", "import-stopped"}
    # A 500 is a bug, never the answer to a request.
    assert answerable - exercised == {"internal-error"}


def test_the_live_server_answers_problems_too(segmentry: Segmentry) -> None:
    with LiveServer(build_app(segmentry)) as live:
        answer = httpx.get(f"{live.url}/v1/segments")
        unknown = httpx.get(f"{live.url}/v1/nothing", headers={"Authorization": "Bearer x"})
        bare = httpx.get(f"{live.url}/v1")  # not the page's HTML 404
    is_problem(answer, 401, "unauthenticated")
    is_problem(unknown, 404, "not-found")
    is_problem(bare, 404, "not-found")


def test_a_database_gone_away_is_a_503_not_a_500(tmp_path: Path) -> None:
    database = tmp_path / "gone.db"
    with Segmentry(f"sqlite:///{database}") as segmentry:
        tenant_id, key = new_tenant(segmentry, "doomed")
        with small_limits_client(segmentry, Limits()) as client:
            for leftover in tmp_path.iterdir():
                leftover.unlink()
            segmentry.database.dispose()  # the pooled connections go: the next finds an empty file
            answer = Caller(client, key, tenant_id).get("/v1/segments")
    assert is_problem(answer, 503, "database-unavailable")
    assert answer.headers["retry-after"] == "5"


def test_every_api_route_reads_its_json_body_the_bounded_way(segmentry: Segmentry) -> None:
    """A router declared without ``JsonRoute`` would parse big bodies with the slow reader
    that stalled other clients (issue 16): every /v1 operation must use it."""
    from fastapi.routing import APIRoute

    from segmentry.api.app import create_app
    from segmentry.api.json_route import JsonRoute

    def operations(routes: list[Any]) -> Iterator[APIRoute]:
        for route in routes:
            if isinstance(route, APIRoute):
                yield route
            included = getattr(route, "original_router", None)  # FastAPI's included router
            if included is not None:
                yield from operations(included.routes)

    found = list(operations(create_app(segmentry).routes))
    assert len(found) > 40
    assert [r.path for r in found if not isinstance(r, JsonRoute)] == []
