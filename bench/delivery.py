"""Delivery figures, each against a peer in the same run.

- ``writes_with_delivery_vs_without``: customers written one at a time, as fast
  as possible, into the demo shop with 20 webhooks being delivered the way
  ``segmentry serve`` delivers by default (``segmentry deliver`` as a child
  process, started by the function serve uses), over the same writes with no
  delivery running (target ≥ 0.9: delivery does not slow writes). The shop is
  built without its orders, so the written customers carry their own order
  values (lifetime value, order count, last order date) as in the figures
  measured before the demo had orders.
- ``delivery_lag_ms`` (p50, p99): from a write's commit to its events' receipt
  by each of the 20 receivers, while customers are written at 200 a second.
- ``nats_publish_rate``: events a second the JetStream publisher sends from the
  feed (reading it, publishing each event and waiting for its acknowledgement,
  storing its position), over a bare nats-py loop publishing as many messages
  of the same size, one acknowledged publish after another (target ≥ 0.5). It
  runs on a nats-server of its own when ``nats-server`` is installed, else on
  ``SEGMENTRY_NATS`` (default ``nats://127.0.0.1:4222``); without either it is
  left out.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import nats
import numpy as np
import orjson

from segmentry.cli import delivery_process
from segmentry.cli.delivery_process import DeliveryMode, Stoppable
from segmentry.cli.server import free_port
from segmentry.engine.delivery.stream import StreamPublisher, StreamSettings
from segmentry.engine.segmentry import Segmentry
from segmentry.engine.webhooks import Webhooks, WebhookSpec
from segmentry.store import webhooks as webhook_store
from segmentry.synthetic import generate as synthetic
from segmentry.synthetic.demo import build_demo

T = TypeVar("T")

WEBHOOKS = 20
RATE = 200.0  # customers written a second while the lag is measured
PACE_BATCH = 10
ROUNDS = 3


@dataclass
class DeliveryResult:
    writes: int
    without_per_s: float
    with_per_s: float
    lag_ms: list[float]
    nats_events: int = 0
    publisher_per_s: float | None = None
    bare_per_s: float | None = None

    @property
    def writes_ratio(self) -> float:
        return self.with_per_s / self.without_per_s

    @property
    def nats_ratio(self) -> float | None:
        if self.publisher_per_s is None or self.bare_per_s is None:
            return None
        return self.publisher_per_s / self.bare_per_s


RECEIVER = """
import json, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

first, lock, recording = {}, threading.Lock(), threading.Event()

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        now = time.monotonic()
        if recording.is_set():  # parsing costs CPU the writer shares: only for the lag
            with lock:
                for event in json.loads(body)["events"]:
                    first.setdefault(self.path + " " + event["entity_id"], now)
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self):
        if self.path == "/record":
            recording.set()
        with lock:
            body = json.dumps(first).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
server.daemon_threads = True
print("ready", flush=True)
server.serve_forever()
"""


class Receivers:
    """The 20 receivers: one HTTP server in a process of its own (the systems told are
    elsewhere; in this process they would take the writer's CPU), recording when each
    (path, customer) was first told about by the machine's monotonic clock."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-c", RECEIVER, str(self.port)], stdout=subprocess.PIPE
        )
        assert self.process.stdout is not None
        self.process.stdout.readline()

    def record(self) -> None:
        """From now on, note when each customer's events arrive."""
        httpx.get(f"http://127.0.0.1:{self.port}/record", timeout=30)

    def arrivals(self) -> dict[str, float]:
        found: dict[str, float] = httpx.get(f"http://127.0.0.1:{self.port}/", timeout=30).json()
        return found

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(10)
        if self.process.stdout is not None:
            self.process.stdout.close()


def run(customers: int, writes: int) -> DeliveryResult:
    with (
        tempfile.TemporaryDirectory() as folder,
        Segmentry(f"sqlite:///{Path(folder) / 'demo.db'}") as segmentry,
    ):
        products = max(1_000, customers // 4)
        demo = build_demo(segmentry, products=products, customers=customers, orders=0)
        shop = segmentry.shop(demo.tenant_id)
        docs = list(synthetic.customers(writes * 3, seed=41).documents())
        for n, doc in enumerate(docs):
            doc["id"] = f"new-{n}"
        receivers = Receivers()
        hooks = Webhooks(segmentry, demo.tenant_id, allow_private=True)
        paths = [f"/hook/{n}" for n in range(WEBHOOKS)]
        for path in paths:
            url = f"http://127.0.0.1:{receivers.port}{path}"
            hooks.create(WebhookSpec(url=url, kinds=["customer"]))
        seconds = {"without": 0.0, "with": 0.0}
        try:
            # Rounds taking turns, so a machine busy with something else for a while
            # weighs on both ways alike. The last round's delivery stays for the lag:
            # it is started and caught up, so no lag holds a process's start.
            step = max(1, writes // ROUNDS)
            delivery: Stoppable = delivery_process.Nothing()
            for start in range(0, step * ROUNDS, step):
                delivery.stop()
                seconds["without"] += _write_seconds(shop, docs[start : start + step])
                delivery = _started(segmentry)
                _drained(segmentry, hooks)  # the backlog of the writes just made
                seconds["with"] += _write_seconds(
                    shop, docs[writes + start : writes + start + step]
                )
                _drained(segmentry, hooks)
            receivers.record()
            committed = _paced(shop, docs[2 * writes :], RATE)
            lags = _lags(shop, committed, paths, receivers)
            delivery.stop()
        finally:
            receivers.close()
        measured = step * ROUNDS
        result = DeliveryResult(
            measured, measured / seconds["without"], measured / seconds["with"], lags
        )
        _nats(segmentry, result)
    return result


def _started(segmentry: Segmentry) -> Stoppable:
    """Delivery as ``segmentry serve`` runs it by default: a child process."""
    return delivery_process.start(
        DeliveryMode.PROCESS, segmentry.database, allow_private_webhooks=True
    )


def _write_seconds(shop: object, docs: list[dict[str, object]]) -> float:
    """Seconds taken to write the customers one at a time."""
    upsert = shop.upsert  # type: ignore[attr-defined]
    started = time.perf_counter()
    for doc in docs:
        upsert("customer", str(doc["id"]), doc)
    return time.perf_counter() - started


def _drained(segmentry: Segmentry, hooks: Webhooks, timeout: float = 300) -> None:
    with segmentry.database.connect() as conn:
        last = webhook_store.last_event_id(conn, tenant_id=hooks.tenant_id)
    deadline = time.monotonic() + timeout
    while any(h.position < last for h in hooks.all()) and time.monotonic() < deadline:
        time.sleep(0.1)


def _paced(shop: object, docs: list[dict[str, object]], rate: float) -> dict[str, float]:
    """Write ``rate`` customers a second, in batches of ``PACE_BATCH`` (one write a
    customer is this machine's whole capacity for durable SQLite commits); when each
    customer's commit returned."""
    upsert_many = shop.upsert_many  # type: ignore[attr-defined]
    committed: dict[str, float] = {}
    start = time.monotonic()
    for n in range(0, len(docs), PACE_BATCH):
        wait = start + n / rate - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        batch = docs[n : n + PACE_BATCH]
        upsert_many("customer", batch)
        done = time.monotonic()
        committed.update((str(doc["id"]), done) for doc in batch)
    return committed


def _lags(
    shop: object, committed: dict[str, float], paths: list[str], receivers: Receivers
) -> list[float]:
    """Commit-to-receipt times of every customer the paced writes moved into a segment."""
    events = shop.events  # type: ignore[attr-defined]
    moved: set[str] = set()
    cursor: str | None = None
    while True:
        page = events(after=cursor, limit=1_000)
        moved |= {e.entity_id for e in page.items if e.entity_id in committed}
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    wanted = [(f"{p} {c}", c) for p in paths for c in moved]
    deadline = time.monotonic() + 120
    while True:
        first = receivers.arrivals()
        if all(w in first for w, _ in wanted) or time.monotonic() > deadline:
            return [(first[w] - committed[c]) * 1e3 for w, c in wanted if w in first]
        time.sleep(0.2)


def _nats(segmentry: Segmentry, result: DeliveryResult) -> None:
    binary = shutil.which("nats-server") or (
        "/usr/sbin/nats-server" if os.access("/usr/sbin/nats-server", os.X_OK) else None
    )
    with tempfile.TemporaryDirectory() as store:
        server = None
        url = os.environ.get("SEGMENTRY_NATS", "nats://127.0.0.1:4222")
        if binary is not None:
            port = free_port()
            server = subprocess.Popen(
                [binary, "-js", "-a", "127.0.0.1", "-p", str(port), "-sd", store],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            url = f"nats://127.0.0.1:{port}"
        try:
            if not _reachable(url):
                return
            with segmentry.database.connect() as conn:
                total = sum(webhook_store.last_event_ids(conn).values())
            publisher = StreamPublisher(
                segmentry.database, StreamSettings(url, stream="BENCH", prefix="bench", batch=1_000)
            )
            started = time.perf_counter()
            publisher.start()
            while publisher.published < total:
                time.sleep(0.005)
            result.publisher_per_s = total / (time.perf_counter() - started)
            publisher.stop()
            result.nats_events = total
            result.bare_per_s = _on_own_loop(lambda: _bare(url, total))
        finally:
            if server is not None:
                server.terminate()
                server.wait(10)


async def _quiet(_error: Exception) -> None:
    """nats-py logs every failed connection attempt; these are expected while it starts."""


def _reachable(url: str) -> bool:
    async def connect() -> bool:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                client = await nats.connect(
                    url, connect_timeout=1, allow_reconnect=False, error_cb=_quiet
                )
            except Exception:  # noqa: BLE001 -- not up yet, or not there at all
                await asyncio.sleep(0.1)
                continue
            await client.close()
            return True
        return False

    return _on_own_loop(connect)


async def _bare(url: str, count: int) -> float:
    """A plain nats-py loop: one acknowledged publish after another, like the publisher's
    messages in size, subject depth and Nats-Msg-Id header."""
    client = await nats.connect(url)
    try:
        stream = client.jetstream()
        await stream.add_stream(name="BARE", subjects=["bare.>"])
        payload = orjson.dumps(
            {
                "tenant": 1,
                "id": 123456,
                "segment": "engageNoOrders",
                "kind": "customer",
                "entity_id": "c-000123",
                "change": "entered",
                "cause": "entity_changed",
                "at": "2026-12-05T22:29:51.123456Z",
            }
        )
        started = time.perf_counter()
        for n in range(count):
            await stream.publish(
                "bare.1.customer.engageNoOrders.entered",
                payload,
                stream="BARE",
                headers={"Nats-Msg-Id": f"1:{n}"},
            )
        return count / (time.perf_counter() - started)
    finally:
        await client.close()


def figures(result: DeliveryResult) -> dict[str, object]:
    lags = np.array(result.lag_ms) if result.lag_ms else np.array([np.nan])
    out: dict[str, object] = {
        "delivery_lag_ms": {
            "p50": round(float(np.percentile(lags, 50)), 1),
            "p99": round(float(np.percentile(lags, 99)), 1),
        },
        "writes_with_delivery_vs_without": round(result.writes_ratio, 3),
        "delivery_per_s": {
            "writes_without_delivery": round(result.without_per_s),
            "writes_with_delivery": round(result.with_per_s),
        },
        "delivery_sizes": {
            "writes": result.writes,
            "webhooks": WEBHOOKS,
            "lags": len(result.lag_ms),
        },
    }
    if result.nats_ratio is not None:
        out["nats_publish_rate"] = round(result.nats_ratio, 3)
        out["nats_per_s"] = {
            "publisher": round(result.publisher_per_s or 0),
            "bare_nats_py": round(result.bare_per_s or 0),
            "events": result.nats_events,
        }
    return out


def _on_own_loop(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """``make()`` run on an event loop of its own thread: the calling thread may already
    run one (under pytest, Playwright's sync API leaves one running in a worker)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(make())).result()
