"""``segmentry serve`` delivers webhooks in the background, ``segmentry deliver`` alone;
``--allow-private-webhooks`` decides whether a loopback receiver is accepted."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from segmentry.cli.server import free_port
from segmentry.engine.segmentry import Segmentry
from tests.delivery.receiver import Receiver


@contextmanager
def command(args: list[str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("ab") as out:
        child = subprocess.Popen(
            [sys.executable, "-m", "segmentry.cli.main", *args],
            stdout=out,
            stderr=out,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    try:
        yield child
    finally:
        child.send_signal(signal.SIGTERM)
        child.wait(30)


def ready(base: str, child: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while True:
        assert child.poll() is None, log.read_text()
        try:
            httpx.get(f"{base}/openapi.json", timeout=1)
        except httpx.TransportError:
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        else:
            return


def test_serve_delivers_and_the_flag_admits_loopback_receivers(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'shop.db'}"
    with Segmentry(db) as segmentry:
        _, key = segmentry.issue_key(segmentry.tenants()[0].tenant_id, "hooks")
    auth = {"Authorization": f"Bearer {key}"}
    log = tmp_path / "serve.log"
    with Receiver() as receiver:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        serve = ["serve", "--db", db, "--port", str(port)]
        with command(serve, log) as child:
            ready(base, child, log)
            refused = httpx.post(f"{base}/v1/webhooks", json={"url": receiver.url}, headers=auth)
            assert refused.status_code == 422
            assert refused.json()["field"] == "url"
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        with command([*serve[:-1], str(port), "--allow-private-webhooks"], log) as child:
            ready(base, child, log)
            created = httpx.post(f"{base}/v1/webhooks", json={"url": receiver.url}, headers=auth)
            assert created.status_code == 201, created.text
            receiver.secrets.append(created.json()["secret"])
            segment = {
                "kind": "customer",
                "code": "vip",
                "name": "VIP",
                "rule": "lifetime_value > 1",
            }
            assert httpx.post(f"{base}/v1/segments", json=segment, headers=auth).status_code == 201
            put = httpx.put(f"{base}/v1/customers/c1", json={"lifetime_value": 5}, headers=auth)
            assert put.status_code == 200
            (event,) = receiver.wait_for(1)
            assert (event["segment"], event["entity_id"], event["change"]) == (
                "vip",
                "c1",
                "entered",
            )
        with command(["deliver", "--db", db, "--allow-private-webhooks"], log):
            with Segmentry(db) as segmentry:
                segmentry.default_shop().upsert("customer", "c2", {"lifetime_value": 9})
            assert [e["entity_id"] for e in receiver.wait_for(2)] == ["c1", "c2"]
