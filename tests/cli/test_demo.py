"""The demo shop: plausible segments, served on a free port; and ``segmentry demo`` itself."""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from typer.testing import CliRunner

from segmentry.cli.main import app
from segmentry.cli.server import LiveServer, build_app, free_port
from segmentry.engine.segmentry import Segmentry
from segmentry.synthetic.demo import CUSTOMERS, HANDPICKED, PRODUCTS, DemoShop, build_demo

MOMENT = datetime(2031, 5, 1, 9, 30, tzinfo=UTC)  # far from the generator's own NOW


def assert_plausible(segmentry: Segmentry, built: DemoShop) -> None:
    """Member counts a marketer would believe, checked through the library."""
    shop = segmentry.shop(built.tenant_id)
    count = {s.code: s.member_count for s in shop.segments()}
    assert all(count.values()), count
    assert 0.05 * built.products < count["premiumProducts"] < 0.6 * built.products
    installed = shop.preview("customer", "app_installed = yes").count
    assert 0 < count["engageNoOrders"] < installed
    assert count["goldLoyalty"] < 0.25 * built.customers
    assert count["goldOnIos"] < count["goldLoyalty"]  # nested: a part of the Gold customers
    assert count["recentBuyers"] < 0.5 * built.customers
    assert count["handpickedVips"] == HANDPICKED
    assert [u.use_id for u in shop.uses("engageNoOrders")] == ["first-order-push"]
    assert segmentry.authenticate(built.api_key) == (built.tenant_id, built.key_id)


def test_the_demo_is_dated_from_the_engines_clock_and_served(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    with Segmentry(url, clock=lambda: MOMENT) as segmentry:
        built = build_demo(segmentry, products=2_000, customers=5_000)
        assert_plausible(segmentry, built)
        shop = segmentry.shop(built.tenant_id)
        recent = shop.members("recentBuyers", limit=50).items
        for member in recent:
            ordered = datetime.fromisoformat(shop.get("customer", member.id).attributes[
                "last_order_at"])  # fmt: skip
            assert MOMENT - timedelta(days=30) < ordered <= MOMENT
        with LiveServer(build_app(segmentry)) as live:
            docs = httpx.get(f"{live.url}/docs")
            page = httpx.get(f"{live.url}/")
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()
    assert page.status_code == 200
    assert "text/html" in page.headers["content-type"]


def test_the_demo_at_its_default_size_builds_within_a_minute(tmp_path: Path) -> None:
    with Segmentry(f"sqlite:///{tmp_path / 'demo.db'}") as segmentry:
        started = time.perf_counter()
        built = build_demo(segmentry)
        elapsed = time.perf_counter() - started
        assert (built.products, built.customers) == (PRODUCTS, CUSTOMERS)
        assert_plausible(segmentry, built)
    assert elapsed < 60


def test_demo_replaces_an_earlier_demo_file_but_not_another_file(tmp_path: Path) -> None:
    path = tmp_path / "demo.db"
    args = ["demo", "--db", str(path), "--no-serve", "--products", "300", "--customers", "600"]
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0
    assert f"Creating the demo shop in {path}" in first.stdout
    key = first.stdout.splitlines()[-1]
    second = CliRunner().invoke(app, args)
    assert f"Replacing the existing {path}" in second.stdout
    with Segmentry(f"sqlite:///{path}") as segmentry:
        assert len(segmentry.keys(1)) == 1  # a fresh file: the first run's key is gone
        assert segmentry.authenticate(second.stdout.splitlines()[-1])[0] == 1
        assert key != second.stdout.splitlines()[-1]
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes")
    refused = CliRunner().invoke(app, ["demo", "--db", str(notes), "--no-serve"])
    assert refused.exit_code == 2
    assert "is not a SQLite database; it is left alone" in refused.stderr
    assert notes.read_text() == "my notes"


def test_segmentry_demo_serves_until_interrupted(tmp_path: Path) -> None:
    port = free_port()
    command = [sys.executable, "-m", "segmentry.cli.main", "demo", "--port", str(port),
               "--products", "300", "--customers", "600"]  # fmt: skip
    env = os.environ | {"COLUMNS": "200"}
    with subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, text=True,
                          env=env) as server:  # fmt: skip
        try:
            lines = _lines_until_key(server)
            assert f"API docs:  http://127.0.0.1:{port}/docs" in lines
            assert f"Web page:  http://127.0.0.1:{port}/" in lines
            assert _get_when_up(f"http://127.0.0.1:{port}/docs").status_code == 200
            with Segmentry(f"sqlite:///{tmp_path / 'demo.db'}") as segmentry:
                assert segmentry.authenticate(lines[-1])[0] == 1
            status, body = _long_rule_listing(port, lines[-1])
            assert status == 200, body[:300]  # the server's head limit fits the rule's
            (delivery,) = _delivery_children(server.pid)  # delivers as serve does
        finally:
            server.send_signal(signal.SIGINT)
        assert server.wait(timeout=30) == 0  # Ctrl+C stops it cleanly
    assert not Path(f"/proc/{delivery}").exists() or _zombie(delivery)


def _delivery_children(pid: int) -> list[int]:
    """The child processes of ``pid`` running ``segmentry deliver``."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [
        int(child)
        for child in children
        if b"deliver" in Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
    ]


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def _long_rule_listing(port: int, key: str) -> tuple[int, bytes]:
    """``GET /v1/customers`` with a rule of 30,000 ``é`` (180 KB percent-encoded: past
    uvicorn's default head limit), sent by the standard library (httpx stops at 64 KiB)."""
    names = ", ".join(["'" + "é" * 4_000 + "'"] * 7)
    rule = quote(f"first_name IN ({names})")
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        headers = {"Authorization": f"Bearer {key}"}
        connection.request("GET", f"/v1/customers?rule={rule}", headers=headers)
        answer = connection.getresponse()
        return answer.status, answer.read()
    finally:
        connection.close()


def _lines_until_key(server: subprocess.Popen[str]) -> list[str]:
    assert server.stdout is not None
    lines: list[str] = []
    while not lines or not lines[-1].startswith("Demo API key"):
        line = server.stdout.readline()
        if not line:
            pytest.fail(f"segmentry demo ended early: {lines}")
        lines.append(line.rstrip("\n"))
    lines.append(server.stdout.readline().strip())
    return lines


def _get_when_up(url: str) -> httpx.Response:
    deadline = time.monotonic() + 30
    while True:
        try:
            return httpx.get(url)
        except httpx.ConnectError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
