"""The member check over HTTP: answered while a write of the same tenant is open, and
from the committed state only."""

from __future__ import annotations

import threading

from segmentry.engine.segmentry import Segmentry
from tests.api.conftest import Caller, is_problem
from tests.engine.test_member_check import HELD, Background

CHECK = "/v1/segments/ios/members/c1"


def test_a_member_check_is_answered_while_a_write_holds_the_tenant(
    segmentry: Segmentry, api: Caller
) -> None:
    items = [{"id": "c1", "platform": "ios"}, {"id": "c2", "platform": "android"}]
    assert api.post("/v1/customers/batch", json={"items": items}).status_code == 200
    segment = {"kind": "customer", "code": "ios", "name": "iOS", "rule": "platform = 'ios'"}
    assert api.post("/v1/segments", json=segment).status_code == 201
    assert api.get(CHECK).status_code == 200
    opened, release = threading.Event(), threading.Event()

    def slow_write() -> None:
        with segmentry.transaction(api.tenant_id):
            opened.set()
            release.wait(HELD)

    writer = Background(slow_write)
    assert opened.wait(5)
    try:
        checks = Background(lambda: (api.get(CHECK), api.get("/v1/segments/ios/members/c2")))
        assert checks.done_within(HELD / 2), "the member check waited for the write"
        member, non_member = checks.answer
        assert member.status_code == 200
        assert member.json()["member"] is True
        is_problem(non_member, 404, "not-found")
    finally:
        release.set()
        assert writer.done_within(HELD)
