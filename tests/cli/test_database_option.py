"""``--db`` and ``SEGMENTRY_DB``: which database a command works on, and what a bad one says."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from segmentry.cli.main import app
from segmentry.engine.segmentry import Segmentry
from tests.cli.conftest import Cli


def test_segmentry_db_chooses_the_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'from-env.db'}"
    result = CliRunner().invoke(app, ["tenants", "create", "Env"], env={"SEGMENTRY_DB": url})
    assert result.exit_code == 0
    with Segmentry(url) as segmentry:
        assert [t.name for t in segmentry.tenants()] == ["default", "Env"]


def test_the_default_database_is_segmentry_db_in_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["tenants", "list", "--json"], env={"SEGMENTRY_DB": None})
    assert json.loads(result.stdout)["items"][0]["name"] == "default"
    assert (tmp_path / "segmentry.db").is_file()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("shop.db", "not a database URL: 'shop.db'; use sqlite:///"),
        ("mysql://localhost/shop", "unsupported database 'mysql'"),
        ("sqlite:////no/such/folder/shop.db", "cannot open the database"),
    ],
)
def test_a_bad_database_gets_one_clear_line_and_exit_1(url: str, message: str) -> None:
    result = Cli(url, CliRunner())("segments", "list")
    assert result.exit_code == 1
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_the_installed_command_prints_no_traceback(tmp_path: Path) -> None:
    """A real process, not the test runner: errors reach the terminal as messages."""
    command = [sys.executable, "-m", "segmentry.cli.main", "segments", "preview", "prce > 1",
               "--kind", "product", "--db", f"sqlite:///{tmp_path / 'shop.db'}"]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 1
    assert "did you mean 'price'?" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


@pytest.mark.postgres
def test_a_tenant_and_its_segments_on_postgresql(pg_url: str) -> None:
    cli = Cli(pg_url, CliRunner())
    created = json.loads(cli("tenants", "create", "PG shop", "--json").stdout)
    tenant = str(created["tenant"]["tenant_id"])
    with Segmentry(pg_url) as segmentry:
        segmentry.shop(int(tenant)).upsert_many("customer", [
            {"id": "c1", "platform": "ios", "lifetime_value": 150},
            {"id": "c2", "platform": "android", "lifetime_value": 300},
        ])  # fmt: skip
    rule = "platform = 'ios' AND lifetime_value > 100"
    result = cli("segments", "create", "iosHigh", "--kind", "customer", "--name", "iOS high",
                 "--rule", rule, "--tenant", tenant)  # fmt: skip
    assert result.exit_code == 0
    members = json.loads(cli("segments", "members", "iosHigh", "--tenant", tenant, "--json").stdout)
    assert [m["id"] for m in members["items"]] == ["c1"]
