"""Every event published to a real NATS JetStream: subjects, message ids, the stream
created if missing, and each event exactly once after the publisher is killed
mid-stream and after NATS itself was down."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from segmentry.engine.delivery.stream import StreamPublisher, StreamSettings
from segmentry.engine.segmentry import Segmentry
from segmentry.store import webhooks as store
from tests.api.conftest import Caller
from tests.conftest import _pg_admin_engine
from tests.delivery.conftest import vip_shop
from tests.delivery.nats_server import NatsServer, read_stream, stream_count
from tests.delivery.test_worker import customers, feed


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A database of this module's own: the publisher sends every tenant's events, and
    the session's PostgreSQL database holds those of every other test module too."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('stream') / 'shop.db'}"
        return
    request.getfixturevalue("pg_url")  # skips, or fails in CI, without PostgreSQL
    admin = _pg_admin_engine()
    name = f"segmentry_stream_{os.getpid()}_{secrets.token_hex(4)}"
    with admin.connect() as conn:
        conn.execute(sa.text(f"create database \"{name}\" encoding 'UTF8' template template0"))
    try:
        yield admin.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'drop database if exists "{name}" with (force)'))
        admin.dispose()


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[NatsServer]:
    server = NatsServer(tmp_path / "jetstream").start()
    try:
        yield server
    finally:
        server.stop()


def published_total(segmentry: Segmentry) -> int:
    """How many events all tenants of the database have: the publisher sends them all."""
    with segmentry.database.connect() as conn:
        return sum(store.last_event_ids(conn).values())


def wait_count(server: NatsServer, stream: str, count: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while stream_count(server.url, stream) < count:
        assert time.monotonic() < deadline, f"{stream_count(server.url, stream)} of {count}"
        time.sleep(0.1)


def test_each_event_is_published_with_its_subject_and_id(
    segmentry: Segmentry, api: Caller, nats_server: NatsServer
) -> None:
    vip_shop(api)
    customers(api, 30)
    api.put("/v1/products/p1", json={"price": 2})
    api.put("/v1/customers/c3", json={"lifetime_value": 1, "platform": "android"})
    publisher = StreamPublisher(
        segmentry.database, StreamSettings(nats_server.url, stream="TEST", prefix="t", checkpoint=7)
    )
    publisher.start()
    try:
        expected = feed(api)
        wait_count(nats_server, "TEST", published_total(segmentry))
    finally:
        publisher.stop()
    mine = [
        m
        for m in read_stream(nats_server.url, "TEST")
        if m.subject.startswith(f"t.{api.tenant_id}.")
    ]
    assert [json.loads(m.data)["id"] for m in mine] == [e["id"] for e in expected]
    for message, event in zip(mine, expected, strict=True):
        tenant, kind, code, change = api.tenant_id, event["kind"], event["segment"], event["change"]
        assert message.subject == f"t.{tenant}.{kind}.{code}.{change}"
        assert message.headers["Nats-Msg-Id"] == f"{tenant}:{event['id']}"
        assert json.loads(message.data) == {"tenant": tenant, **event}


def deliver(db: str, nats_url: str, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "segmentry.cli.main", "deliver", "--db", db, "--nats", nats_url],
            stdout=subprocess.DEVNULL,
            stderr=out,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )


def test_a_killed_publisher_and_a_nats_outage_lose_and_repeat_nothing(
    database_url: str, segmentry: Segmentry, api: Caller, nats_server: NatsServer, tmp_path: Path
) -> None:
    vip_shop(api)
    for start in range(0, 3_000, 1_000):
        customers(api, 1_000, start=start)
    total = published_total(segmentry)
    child = deliver(database_url, nats_server.url, tmp_path / "deliver.log")
    try:
        deadline = time.monotonic() + 60
        while (seen := stream_count(nats_server.url, "SEGMENTRY")) < 200:
            assert time.monotonic() < deadline, "nothing was published"
            assert child.poll() is None, (tmp_path / "deliver.log").read_text()
            time.sleep(0.01)
        child.send_signal(signal.SIGKILL)
        child.wait(10)
        assert seen < total, "the publisher finished before it was killed"
        nats_server.stop()
        customers(api, 500, start=3_000)  # written while NATS is down
        total = published_total(segmentry)
        child = deliver(database_url, nats_server.url, tmp_path / "deliver.log")
        time.sleep(1.5)  # the publisher retries meanwhile
        nats_server.start()
        wait_count(nats_server, "SEGMENTRY", total, timeout=90)
        time.sleep(0.5)
    finally:
        child.send_signal(signal.SIGTERM)
        child.wait(20)
    everything = read_stream(nats_server.url, "SEGMENTRY")
    assert len(everything) == total  # all tenants' events, none twice
    ids = [
        json.loads(m.data)["id"]
        for m in everything
        if json.loads(m.data)["tenant"] == api.tenant_id
    ]
    assert ids == [e["id"] for e in feed(api)]
