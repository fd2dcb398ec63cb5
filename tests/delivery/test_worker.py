"""The delivery worker against a real receiver on 127.0.0.1: signed batches of at most
100 events in feed order, retries, timeouts, resets, redirects, capped answers,
disabling after the retry window, resuming, replaying and rotating."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

from segmentry.engine.delivery.worker import WebhookWorker
from segmentry.engine.segmentry import Segmentry
from segmentry.store import webhooks as store
from tests.api.conftest import Caller
from tests.delivery.conftest import FAST, vip_shop
from tests.delivery.receiver import Receiver, verify


def hook(api: Caller, receiver: Receiver, **body: object) -> str:
    answer = api.post("/v1/webhooks", json={"url": receiver.url, **body})
    assert answer.status_code == 201, answer.text
    receiver.secrets.append(answer.json()["secret"])
    hook_id: str = answer.json()["id"]
    return hook_id


def customers(api: Caller, count: int, start: int = 0, value: int = 500) -> None:
    items = [
        {"id": f"c{i}", "lifetime_value": value, "platform": "ios"}
        for i in range(start, start + count)
    ]
    assert api.post("/v1/customers/batch", json={"items": items}).status_code == 200


def last_attempt(api: Caller, hook_id: str, count: int, timeout: float = 10) -> dict[str, Any]:
    """The newest delivery attempt once there are ``count``."""
    deadline = time.monotonic() + timeout
    while True:
        attempts = api.get(f"/v1/webhooks/{hook_id}/deliveries").json()["items"]
        if len(attempts) >= count:
            last: dict[str, Any] = attempts[0]
            return last
        assert time.monotonic() < deadline, f"{len(attempts)} attempts recorded"
        time.sleep(0.02)


def reached(api: Caller, hook_id: str, position: int, timeout: float = 10) -> None:
    """Wait until the webhook is done with the events up to ``position``."""
    deadline = time.monotonic() + timeout
    while api.get(f"/v1/webhooks/{hook_id}").json()["position"] < position:
        assert time.monotonic() < deadline
        time.sleep(0.02)


def test_a_replay_never_skips_what_was_not_delivered(api: Caller, receiver: Receiver) -> None:
    vip_shop(api)
    hook_id = hook(api, receiver, segments=["vip"])
    customers(api, 4)  # no worker runs: nothing is delivered yet
    events = feed(api)
    answer = api.post(f"/v1/webhooks/{hook_id}/replay", json={"after": events[2]["id"]})
    assert answer.json()["position"] == 0


def feed(api: Caller, *, segments: set[str] | None = None, after: int = 0) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    cursor: str | None = str(after)
    while cursor is not None:
        page = api.get("/v1/events", params={"after": cursor, "limit": 1000}).json()
        found += page["items"]
        cursor = page["next_cursor"]
    return [e for e in found if segments is None or e["segment"] in segments]


def test_events_arrive_signed_in_feed_order_in_batches_of_at_most_100(
    api: Caller, receiver: Receiver, worker: WebhookWorker
) -> None:
    vip_shop(api)
    hook(api, receiver, segments=["vip"])
    customers(api, 250)
    api.put("/v1/customers/c0", json={"lifetime_value": 1, "platform": "ios"})
    expected = feed(api, segments={"vip"})
    assert len(expected) == 251
    got = receiver.wait_for(251)
    assert got == expected  # the feed's own shape, order and ids; no other segment
    assert receiver.invalid() == []
    sizes = [len(r.events) for r in receiver.received]
    assert max(sizes) <= 100
    assert {r.headers["content-type"] for r in receiver.received} == {"application/json"}
    assert len({r.headers["webhook-id"] for r in receiver.received}) == len(receiver.received)


def test_filters_by_kind_and_change(api: Caller, receiver: Receiver, worker: WebhookWorker) -> None:
    vip_shop(api)
    hook(api, receiver, kinds=["customer"], changes=["exited"])
    customers(api, 3)
    api.put("/v1/products/p1", json={"price": 1})
    api.put("/v1/products/p1", json={"price": 100})
    api.put("/v1/customers/c1", json={"lifetime_value": 1, "platform": "android"})
    expected = [e for e in feed(api) if e["kind"] == "customer" and e["change"] == "exited"]
    assert len(expected) == 2
    assert receiver.wait_for(2) == expected
    time.sleep(0.3)
    assert receiver.events() == expected


def test_failures_are_retried_and_nothing_is_skipped(
    api: Caller, receiver: Receiver, worker: WebhookWorker
) -> None:
    vip_shop(api)
    hook_id = hook(api, receiver, segments=["vip"])
    receiver.mode = "fail"
    customers(api, 5)
    receiver.wait_attempts(3)
    customers(api, 5, start=5)
    receiver.mode = "ok"
    expected = feed(api, segments={"vip"})
    assert receiver.wait_for(10) == expected
    deadline = time.monotonic() + 10
    while (attempts := api.get(f"/v1/webhooks/{hook_id}/deliveries").json()["items"])[0][
        "status"
    ] != 200:  # the receiver has the events a moment before the attempt is recorded
        assert time.monotonic() < deadline
        time.sleep(0.02)
    failed = [a for a in attempts if a["status"] == 500]
    assert len(failed) >= 2
    assert all(a["error"].startswith("HTTP 500") for a in failed)
    assert attempts[0]["status"] == 200
    assert attempts[0]["error"] is None
    assert all(a["duration_ms"] >= 0 for a in attempts)
    health = api.get(f"/v1/webhooks/{hook_id}").json()
    assert health["failures"] == 0
    assert health["last_success_at"] is not None


def test_a_hanging_receiver_times_out_and_does_not_hold_up_another(
    segmentry: Segmentry, api: Caller, receiver: Receiver
) -> None:
    vip_shop(api)
    with Receiver(mode="hang") as hanging:
        stuck = hook(api, hanging, segments=["vip"])
        hook(api, receiver, segments=["vip"])
        worker = WebhookWorker(segmentry.database, replace(FAST, timeout=0.5))
        worker.start()
        try:
            started = time.monotonic()
            customers(api, 3)
            assert time.monotonic() - started < 2  # the write never waits for delivery
            assert len(receiver.wait_for(3, timeout=5)) == 3
            hanging.wait_attempts(2)
        finally:
            worker.stop()
    attempts = api.get(f"/v1/webhooks/{stuck}/deliveries").json()["items"]
    assert attempts
    assert all(a["status"] is None for a in attempts)
    assert all("within 0.5 s" in a["error"] for a in attempts)


def test_reset_refused_redirect_and_slow_answers_are_failures(
    api: Caller, receiver: Receiver, segmentry: Segmentry
) -> None:
    vip_shop(api)
    hook_id = hook(api, receiver, segments=["vip"])
    worker = WebhookWorker(segmentry.database, replace(FAST, timeout=0.4))
    worker.start()
    try:
        recorded = 0
        customers(api, 1)
        for mode, fragment in (("reset", "connection"), ("redirect", "not followed")):
            receiver.mode = mode
            recorded += 1
            last = last_attempt(api, hook_id, recorded)
            while fragment not in (last["error"] or ""):  # one attempt may precede the switch
                recorded += 1
                last = last_attempt(api, hook_id, recorded)
            assert last["status"] in (None, 307)
        receiver.mode, receiver.delay = "slow", 1.0
        time.sleep(0.3)
        recorded = len(api.get(f"/v1/webhooks/{hook_id}/deliveries").json()["items"])
        last = last_attempt(api, hook_id, recorded + 1)
        assert last["status"] is None
        assert "within 0.4 s" in last["error"]
        assert receiver.events() == []
        api.patch(f"/v1/webhooks/{hook_id}", json={"url": "http://127.0.0.1:9/closed"})
        time.sleep(0.6)
        recorded = len(api.get(f"/v1/webhooks/{hook_id}/deliveries").json()["items"])
        last = last_attempt(api, hook_id, recorded + 1)
        assert last["status"] is None
        assert "connection" in last["error"]
    finally:
        worker.stop()


def test_a_trickling_receiver_is_cut_off_at_the_deadline(
    segmentry: Segmentry, api: Caller, receiver: Receiver
) -> None:
    vip_shop(api)
    hook_id = hook(api, receiver, segments=["vip"])
    receiver.mode = "trickle"
    worker = WebhookWorker(segmentry.database, replace(FAST, timeout=0.5))
    worker.start()
    try:
        customers(api, 1)
        last = last_attempt(api, hook_id, 1)
    finally:
        worker.stop()
    assert last["status"] is None
    assert "within 0.5 s" in last["error"]
    assert last["duration_ms"] < 1_500


def test_an_endless_answer_is_cut_not_read_whole(
    api: Caller, receiver: Receiver, worker: WebhookWorker
) -> None:
    vip_shop(api)
    hook_id = hook(api, receiver, segments=["vip"])
    receiver.mode = "endless"
    customers(api, 2)
    assert len(receiver.wait_for(2, timeout=10)) == 2
    last = last_attempt(api, hook_id, 1)
    assert last["status"] == 200
    assert last["duration_ms"] < 1_500


def test_disabled_after_the_retry_window_and_enabling_resumes(
    segmentry: Segmentry, api: Caller, receiver: Receiver
) -> None:
    vip_shop(api)
    hook_id = hook(api, receiver, segments=["vip"])
    receiver.mode = "fail"
    worker = WebhookWorker(segmentry.database, replace(FAST, retry_window=0.5))
    worker.start()
    try:
        customers(api, 3)
        deadline = time.monotonic() + 10
        while api.get(f"/v1/webhooks/{hook_id}").json()["enabled"]:
            assert time.monotonic() < deadline, "the webhook was never disabled"
            time.sleep(0.05)
        got = api.get(f"/v1/webhooks/{hook_id}").json()
        assert "HTTP 500" in got["disabled_reason"]
        assert got["failures"] >= 2
        customers(api, 2, start=3)
        receiver.mode = "ok"
        time.sleep(0.3)
        assert receiver.events() == []  # disabled: nothing is sent
        api.patch(f"/v1/webhooks/{hook_id}", json={"enabled": True})
        assert receiver.wait_for(5) == feed(api, segments={"vip"})
    finally:
        worker.stop()


def test_replay_sends_again_from_an_event_id(
    api: Caller, receiver: Receiver, worker: WebhookWorker
) -> None:
    vip_shop(api)
    hook_id = hook(api, receiver, segments=["vip"])
    customers(api, 4)
    first = receiver.wait_for(4)
    reached(api, hook_id, first[-1]["id"])
    replayed = api.post(f"/v1/webhooks/{hook_id}/replay", json={"after": first[1]["id"]})
    assert replayed.status_code == 200
    assert receiver.wait_for(6)[4:] == first[2:]
    everything = api.post(f"/v1/webhooks/{hook_id}/replay", json={"after": 0})
    assert everything.status_code == 200
    assert receiver.wait_for(10)[6:] == first


def test_both_secrets_sign_during_a_rotation(
    segmentry: Segmentry, api: Caller, receiver: Receiver, worker: WebhookWorker
) -> None:
    vip_shop(api)
    hook_id = hook(api, receiver, segments=["vip"])
    old = receiver.secrets[0]
    new = api.post(f"/v1/webhooks/{hook_id}/rotate-secret").json()["secret"]
    receiver.secrets[:] = [new]  # the receiver knows the new secret only
    customers(api, 1)
    receiver.wait_for(1)
    (sent,) = receiver.received
    assert len(sent.headers["webhook-signature"].split(" ")) == 2
    assert verify([new], sent.headers, sent.body)
    assert verify([old], sent.headers, sent.body)
    with segmentry.database.begin() as conn:  # the 24 hours of the rotation have passed
        store.update(
            conn, tenant_id=api.tenant_id, webhook_id=hook_id, previous_until=time.time_ns() // 1000
        )
    customers(api, 1, start=1)
    receiver.wait_for(2)
    later = receiver.received[-1]
    assert len(later.headers["webhook-signature"].split(" ")) == 1
    assert verify([new], later.headers, later.body)
    assert not verify([old], later.headers, later.body)


def test_a_new_webhook_starts_at_the_end_of_the_feed(
    api: Caller, receiver: Receiver, worker: WebhookWorker
) -> None:
    vip_shop(api)
    customers(api, 3)
    hook(api, receiver, segments=["vip"])
    customers(api, 1, start=3)
    assert receiver.wait_for(1) == feed(api, segments={"vip"})[3:]
    time.sleep(0.2)
    assert len(receiver.events()) == 1
