"""Several workers share the webhooks through the database: one webhook is never sent
from two places at once. Property: after any sequence of writes, receiver outages,
worker crashes (SIGKILL) and replays, every event of the feed for a webhook's
segments arrives at least once, first arrivals in feed order, and no other event."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from segmentry.engine.delivery.worker import WebhookWorker
from segmentry.engine.segmentry import Segmentry
from tests.api.conftest import Caller, TestClient, new_tenant
from tests.conftest import examples
from tests.delivery.conftest import FAST, vip_shop
from tests.delivery.receiver import Receiver
from tests.delivery.test_worker import customers, feed

WORKER = """
import sys, time
from segmentry.engine.delivery.worker import DeliverySettings, WebhookWorker
from segmentry.store.database import create_engine

settings = DeliverySettings(
    allow_private=True, poll_interval=0.02, timeout=1.0, retry_base=0.05, retry_cap=0.2,
    lease=1.5, batch_size=int(sys.argv[2]),
)
WebhookWorker(create_engine(sys.argv[1]), settings).start()
time.sleep(3600)
"""


def hook(api: Caller, url: str, **body: object) -> tuple[str, str]:
    answer = api.post("/v1/webhooks", json={"url": url, **body})
    assert answer.status_code == 201, answer.text
    return answer.json()["id"], answer.json()["secret"]


def caught_up(api: Caller, hook_ids: list[str], timeout: float = 60) -> None:
    """Wait until every webhook's position reached the feed's last event."""
    deadline = time.monotonic() + timeout
    while True:
        events = feed(api)
        last = events[-1]["id"] if events else 0
        positions = [api.get(f"/v1/webhooks/{h}").json()["position"] for h in hook_ids]
        if all(p >= last for p in positions):
            return
        assert time.monotonic() < deadline, f"positions {positions}, last event {last}"
        time.sleep(0.05)


def test_two_workers_never_send_one_webhook_at_once(
    segmentry: Segmentry, api: Caller, receiver: Receiver
) -> None:
    vip_shop(api)
    receiver.mode, receiver.delay = "slow", 0.03
    hooks = []
    for n in range(5):
        hook_id, secret = hook(api, f"{receiver.url}/{n}", segments=["vip"])
        receiver.secrets.append(secret)
        hooks.append(hook_id)
    workers = [
        WebhookWorker(segmentry.database, replace(FAST, batch_size=7, concurrency=3))
        for _ in range(2)
    ]
    sent: dict[str, int] = {}
    for worker in workers:
        worker.sent = lambda _row, _events, _outcome, w=worker.owner: sent.update(
            {w: sent.get(w, 0) + 1}
        )
        worker.start()
    try:
        for start in range(0, 120, 30):
            customers(api, 30, start=start)
        caught_up(api, hooks)
    finally:
        for worker in workers:
            worker.stop()
    expected = feed(api, segments={"vip"})
    for n in range(5):
        assert receiver.events(f"/hook/{n}") == expected
        assert receiver.most_in_flight[f"/hook/{n}"] == 1
    assert len(sent) == 2, sent  # three webhooks at a time each: both took a share


class Workers:
    """One worker process at a time, killed with SIGKILL and started again."""

    def __init__(self, database_url: str, log: Path, batch_size: int) -> None:
        self.args = [sys.executable, "-c", WORKER, database_url, str(batch_size)]
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(self.args, stdout=out, stderr=out)

    def kill(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)
            self.process = None


Step = tuple[str, int]
steps = st.lists(
    st.one_of(
        st.tuples(st.just("write"), st.integers(1, 60)),
        st.tuples(st.just("outage"), st.integers(0, 1)),
        st.tuples(st.just("kill"), st.just(0)),
        st.tuples(st.just("replay"), st.integers(0, 99)),  # a share of the feed, below all of it
        st.tuples(st.just("pause"), st.integers(1, 4)),
    ),
    min_size=1,
    max_size=10,
)


@settings(max_examples=examples(15, 4), deadline=None)
@given(plan=steps, batch_size=st.sampled_from([3, 100]))
def test_every_event_arrives_in_order_whatever_happens(
    *,
    segmentry: Segmentry,
    client: TestClient,
    database_url: str,
    tmp_path_factory: Any,
    plan: list[Step],
    batch_size: int,
) -> None:
    tenant_id, key = new_tenant(segmentry, "property")
    api = Caller(client, key, tenant_id)
    vip_shop(api)
    log = tmp_path_factory.mktemp("workers") / "worker.log"
    workers = Workers(database_url, log, batch_size)
    with Receiver() as receiver:
        vip, vip_secret = hook(api, f"{receiver.url}/vip", segments=["vip"])
        entered, entered_secret = hook(
            api, f"{receiver.url}/entered", segments=["vip", "ios"], changes=["entered"]
        )
        receiver.secrets += [vip_secret, entered_secret]
        workers.start()
        written = 0
        try:
            for action, value in plan:
                if action == "write":
                    # values move customers in and out of vip and ios
                    items = [
                        {
                            "id": f"c{(written + i) % 40}",
                            "lifetime_value": (written + i) * 37 % 200,
                            "platform": ["ios", "web"][(written + i) % 3 == 0],
                        }
                        for i in range(value)
                    ]
                    written += value
                    assert api.post("/v1/customers/batch", json={"items": items}).status_code == 200
                elif action == "outage":
                    receiver.mode = ["fail", "reset"][value]
                elif action == "kill":
                    workers.kill()
                    receiver.mode = "ok" if receiver.mode != "ok" else receiver.mode
                    workers.start()
                elif action == "replay":
                    events = feed(api)
                    after = events[value * len(events) // 100]["id"] - 1 if events else 0
                    for hook_id in (vip, entered):
                        api.post(f"/v1/webhooks/{hook_id}/replay", json={"after": after})
                else:
                    time.sleep(value / 20)
            receiver.mode = "ok"
            caught_up(api, [vip, entered])
        finally:
            workers.kill()
        assert receiver.invalid() == []
        everything = {e["id"]: e for e in feed(api)}
        for path, wanted in (
            ("/hook/vip", lambda e: e["segment"] == "vip"),
            ("/hook/entered", lambda e: e["change"] == "entered"),
        ):
            got = receiver.events(path)
            expected = [e for e in everything.values() if wanted(e)]
            assert {e["id"] for e in got} == {e["id"] for e in expected}
            assert all(everything[e["id"]] == e for e in got)  # the feed's events, unchanged
            firsts = list(dict.fromkeys(e["id"] for e in got))
            assert firsts == sorted(firsts)
