"""Time that passes while no process runs: a membership whose bound passed while the
server was stopped is gone at the very first request after a start, and in the CLI."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from segmentry.api.app import create_app
from segmentry.engine.segmentry import Segmentry
from segmentry.engine.types import SegmentSpec
from segmentry.model.values import format_instant
from tests.api.conftest import is_problem
from tests.cli.conftest import Cli
from tests.engine.conftest import ManualClock

RULE = "last_order_at > -1h"


def _stopped_shop(path: Path, clock: ManualClock) -> str:
    """A shop whose customer c1 ordered 50 minutes before ``clock``: a member of
    ``recent`` for ten more minutes. Returns an API key; the engine is closed."""
    with Segmentry(f"sqlite:///{path}", clock=clock) as running:
        tenant_id = running.tenants()[0].tenant_id
        _, key = running.issue_key(tenant_id, "checkout")
        shop = running.shop(tenant_id)
        ordered = format_instant(clock.now - timedelta(minutes=50))
        shop.upsert("customer", "c1", {"last_order_at": ordered})
        shop.create_segment(SegmentSpec(kind="customer", code="recent", name="Recent", rule=RULE))
        assert shop.member("recent", "c1") is not None
    return key


def test_the_first_member_check_after_a_start_knows_the_bound_passed(tmp_path: Path) -> None:
    clock = ManualClock()
    key = _stopped_shop(tmp_path / "shop.db", clock)
    clock.advance(timedelta(minutes=11))  # the bound passed a minute ago, while stopped
    with (
        Segmentry(f"sqlite:///{tmp_path / 'shop.db'}", clock=clock) as started,
        TestClient(create_app(started)) as client,
    ):
        auth = {"Authorization": f"Bearer {key}"}
        # Before: 200 (and explain said member) until the first sweep, 30 s after start.
        is_problem(client.get("/v1/segments/recent/members/c1", headers=auth), 404, "not-found")
        explained = client.get("/v1/segments/recent/explain/c1", headers=auth).json()
        assert explained["member"] is False
        assert client.get("/v1/segments/recent", headers=auth).json()["member_count"] == 0


def test_the_cli_on_a_stopped_servers_database_knows_the_bound_passed(tmp_path: Path) -> None:
    # The CLI reads the system clock: the shop stopped two hours before now.
    key = _stopped_shop(tmp_path / "shop.db", ManualClock(datetime.now(UTC) - timedelta(hours=2)))
    assert key
    cli = Cli(f"sqlite:///{tmp_path / 'shop.db'}", CliRunner())
    members = json.loads(cli("segments", "members", "recent", "--json").stdout)
    assert members["items"] == []
    explained = json.loads(cli("segments", "explain", "recent", "c1", "--json").stdout)
    assert explained["member"] is False
    human = cli("segments", "explain", "recent", "c1").stdout
    assert "c1 is not a member of recent." in human
