"""``segmentry serve`` delivers from a child process by default: a signed webhook
reaches a real receiver from it, a child that dies is started again, and the child
ends with the server, even one killed. ``--delivery thread`` delivers from the
server's own process."""

from __future__ import annotations

import logging
import os
import re
import signal
import time
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from segmentry.cli import delivery_process
from segmentry.cli.delivery_process import DeliveryMode
from segmentry.cli.server import free_port
from segmentry.engine.delivery.running import Delivery
from segmentry.engine.segmentry import Segmentry
from segmentry.store.database import create_engine
from segmentry.store.tables import webhooks
from tests.api.conftest import new_tenant
from tests.delivery.receiver import Receiver
from tests.delivery.test_commands import command, ready

STARTED = re.compile(r"delivery process (\d+) started")


def _shop(db: str) -> dict[str, str]:
    with Segmentry(db) as segmentry:
        _, key = new_tenant(segmentry, "hooks")
    return {"Authorization": f"Bearer {key}"}


def _hooked(base: str, auth: dict[str, str], receiver: Receiver) -> None:
    """A webhook to ``receiver`` for a segment of customers with a lifetime value."""
    created = httpx.post(f"{base}/v1/webhooks", json={"url": receiver.url}, headers=auth)
    assert created.status_code == 201, created.text
    receiver.secrets.append(created.json()["secret"])
    segment = {"kind": "customer", "code": "vip", "name": "VIP", "rule": "lifetime_value > 1"}
    assert httpx.post(f"{base}/v1/segments", json=segment, headers=auth).status_code == 201


def _write(base: str, auth: dict[str, str], customer: str) -> None:
    put = httpx.put(f"{base}/v1/customers/{customer}", json={"lifetime_value": 5}, headers=auth)
    assert put.status_code == 200, put.text


def _children(log: Path, count: int, timeout: float = 60) -> list[int]:
    """The pids of the delivery processes the log names, once there are ``count``."""
    deadline = time.monotonic() + timeout
    while True:
        found = [int(pid) for pid in STARTED.findall(log.read_text())]
        if len(found) >= count:
            return found
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.05)


def _released(db: str, timeout: float = 30) -> None:
    """Wait until no process holds a webhook: one killed while holding it would keep it
    until its lease ran out (a minute), and the test is about the restart, not that."""
    engine = create_engine(db)
    deadline = time.monotonic() + timeout
    try:
        while True:
            with engine.connect() as conn:
                owners = conn.execute(sa.select(webhooks.c.lease_owner)).scalars().all()
            if not any(owners):
                return
            assert time.monotonic() < deadline, owners
            time.sleep(0.05)
    finally:
        engine.dispose()


def _parent(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[1])


def _gone(pid: int, timeout: float = 30) -> bool:
    """Whether ``pid`` ends (or is left a zombie, its parent not having reaped it yet)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return True
        if state == "Z":
            return True
        time.sleep(0.05)
    return False


def test_the_child_delivers_is_started_again_when_killed_and_ends_with_the_server(
    database_url: str, tmp_path: Path
) -> None:
    db = database_url  # the package's: a SQLite file of this module, or PostgreSQL
    auth = _shop(db)
    log = tmp_path / "serve.log"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    args = ["serve", "--db", db, "--port", str(port), "--allow-private-webhooks"]
    with Receiver() as receiver:
        with command(args, log) as serve:
            ready(base, serve, log)
            (child,) = _children(log, 1)
            assert _parent(child) == serve.pid
            _hooked(base, auth, receiver)
            _write(base, auth, "c1")
            assert [e["entity_id"] for e in receiver.wait_for(1)] == ["c1"]
            assert not receiver.invalid()

            _released(db)
            os.kill(child, signal.SIGKILL)
            assert _gone(child)
            _write(base, auth, "c2")  # waits for the child started again
            assert [e["entity_id"] for e in receiver.wait_for(2)] == ["c1", "c2"]
            _, again = _children(log, 2)
            assert _parent(again) == serve.pid
            assert f"the delivery process {child} ended (signal 9)" in log.read_text()
        assert serve.returncode is not None
        assert _gone(again)


def test_a_killed_server_leaves_no_delivery_process(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'shop.db'}"
    log = tmp_path / "serve.log"
    port = free_port()
    with command(["serve", "--db", db, "--port", str(port)], log) as serve:
        ready(f"http://127.0.0.1:{port}", serve, log)
        (child,) = _children(log, 1)
        serve.kill()
        serve.wait(10)
        assert _gone(child), "the delivery process outlived its server"


def test_two_workers_share_one_delivery_process(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'shop.db'}"
    auth = _shop(db)
    log = tmp_path / "serve.log"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    args = ["serve", "--db", db, "--port", str(port), "--workers", "2",
            "--allow-private-webhooks"]  # fmt: skip
    with Receiver() as receiver:
        with command(args, log) as serve:
            ready(base, serve, log)
            (child,) = _children(log, 1)
            assert _parent(child) == serve.pid  # uvicorn's parent, not a worker
            _hooked(base, auth, receiver)
            _write(base, auth, "c1")
            assert [e["entity_id"] for e in receiver.wait_for(1)] == ["c1"]
            assert len(STARTED.findall(log.read_text())) == 1
        assert _gone(child)


def test_thread_delivery_runs_in_the_server_process(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'shop.db'}"
    auth = _shop(db)
    log = tmp_path / "serve.log"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    args = ["serve", "--db", db, "--port", str(port), "--allow-private-webhooks",
            "--delivery", "thread"]  # fmt: skip
    with Receiver() as receiver, command(args, log) as serve:
        ready(base, serve, log)
        _hooked(base, auth, receiver)
        _write(base, auth, "c1")
        assert [e["entity_id"] for e in receiver.wait_for(1)] == ["c1"]
        assert not STARTED.search(log.read_text())
        children = Path(f"/proc/{serve.pid}/task/{serve.pid}/children").read_text()
        assert children.split() == []


def test_an_in_memory_database_is_delivered_in_threads(caplog: pytest.LogCaptureFixture) -> None:
    with Segmentry("sqlite://") as segmentry:
        with caplog.at_level(logging.WARNING, "segmentry.delivery"):
            started = delivery_process.start(DeliveryMode.PROCESS, segmentry.database)
        try:
            assert isinstance(started, Delivery)
            assert "in-memory database is not seen by another process" in caplog.text
        finally:
            started.stop()
