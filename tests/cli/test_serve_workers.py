"""``segmentry serve --workers 2``: two processes share one database and stay exact."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from segmentry.cli.main import app
from segmentry.cli.server import free_port
from segmentry.engine.segmentry import Segmentry
from segmentry.engine.types import SegmentSpec

RULE_AT = 50.0
IDS_PER_THREAD, WRITES_PER_THREAD = 15, 40


@contextmanager
def served(db: str, workers: int, log: Path) -> Iterator[str]:
    """``segmentry serve`` in a child process until every worker is up; stopped after."""
    port = free_port()
    command = [sys.executable, "-m", "segmentry.cli.main", "serve", "--db", db,
               "--port", str(port), "--workers", str(workers)]  # fmt: skip
    with log.open("w") as sink:
        child = subprocess.Popen(command, stderr=sink, stdout=sink, env=os.environ.copy())
    try:
        deadline = time.monotonic() + 60
        while log.read_text().count("Application startup complete") < workers:
            if child.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"segmentry serve did not start:\n{log.read_text()}")
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        child.send_signal(signal.SIGINT)
        child.wait(timeout=30)


def _write(base: str, key: str, ids: list[str], seed: int, last: dict[str, float]) -> None:
    """PUTs on fresh connections, which the two processes take in turn as they accept."""
    rng = random.Random(seed)
    headers = {"Authorization": f"Bearer {key}"}
    for _ in range(WRITES_PER_THREAD):
        customer, value = rng.choice(ids), float(rng.randrange(100))
        answer = httpx.put(f"{base}/v1/customers/{customer}", json={"lifetime_value": value},
                           headers=headers, timeout=30)  # fmt: skip
        assert answer.status_code == 200, answer.text
        last[customer] = value


def test_writes_through_two_workers_keep_memberships_exact(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'shop.db'}"
    with Segmentry(db) as segmentry:
        shop = segmentry.default_shop()
        _, key = segmentry.issue_key(shop.tenant_id, "test")
        spec = SegmentSpec(
            kind="customer", code="big", name="Big", rule=f"lifetime_value > {RULE_AT}"
        )
        shop.create_segment(spec)
    last: dict[str, float] = {}
    with served(db, 2, tmp_path / "serve.log") as base:
        threads = [
            threading.Thread(
                target=_write,
                args=(base, key, [f"t{t}c{i}" for i in range(IDS_PER_THREAD)], t, last),
            )
            for t in range(2)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        expected = {c for c, v in last.items() if v > RULE_AT}
        headers = {"Authorization": f"Bearer {key}"}
        with httpx.Client(base_url=base, headers=headers) as client:
            for _ in range(3):  # fresh connections reach either process
                listed = client.get("/v1/segments/big/members", params={"limit": 500}).json()
                assert {m["id"] for m in listed["items"]} == expected
            for customer in last:
                answer = httpx.get(f"{base}/v1/segments/big/members/{customer}", headers=headers)
                assert answer.status_code == (200 if customer in expected else 404), customer
        pids = _worker_pids(tmp_path / "serve.log")
    assert len(pids) == 2
    with Segmentry(db) as segmentry:  # a full recompute by a process that wrote nothing
        shop = segmentry.default_shop()
        assert {m.id for m in shop.members("big", limit=500).items} == expected
        recount = shop.preview("customer", f"lifetime_value > {RULE_AT}", limit=500)
        assert set(recount.sample) == expected
        assert recount.count == len(expected)


def _worker_pids(log: Path) -> set[str]:
    return {
        line.split("[")[1].split("]")[0]
        for line in log.read_text().splitlines()
        if "Started server process" in line
    }


def test_a_budget_that_is_not_a_size_is_refused_before_serving(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'shop.db'}"
    refused = CliRunner().invoke(app, ["serve", "--db", db, "--memory-budget", "lots"])
    assert refused.exit_code == 1
    assert "memory budget 'lots' is not a size" in refused.stderr
