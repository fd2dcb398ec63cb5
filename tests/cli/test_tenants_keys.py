"""``segmentry tenants`` and ``segmentry keys``: the key printed is the one that works."""

from __future__ import annotations

import json

import pytest

from segmentry.engine.segmentry import Segmentry
from segmentry.errors import AuthenticationError
from tests.cli.conftest import Cli


def test_tenants_create_prints_the_key_alone_on_its_last_line_and_it_authenticates(
    cli: Cli, db: str
) -> None:
    result = cli("tenants", "create", "Acme Shoes", "--time-zone", "Europe/Madrid")
    assert result.exit_code == 0
    *text, key = result.stdout.splitlines()
    assert "Created tenant 2 'Acme Shoes' (time zone Europe/Madrid)" in text[0]
    assert key == key.strip()
    assert " " not in key
    with Segmentry(db) as segmentry:
        tenant_id, _ = segmentry.authenticate(key)
        assert segmentry.tenant(tenant_id).name == "Acme Shoes"


def test_tenants_list_shows_the_default_tenant_and_new_ones(cli: Cli) -> None:
    created = json.loads(cli("tenants", "create", "Acme", "--json").stdout)
    assert created["tenant"]["time_zone"] == "UTC"
    assert created["key"]["key_id"] in created["api_key"]
    listed = json.loads(cli("tenants", "list", "--json").stdout)["items"]
    assert [(t["tenant_id"], t["name"]) for t in listed] == [(1, "default"), (2, "Acme")]
    human = cli("tenants", "list").stdout
    assert "default" in human
    assert "Acme" in human


def test_an_unknown_time_zone_is_refused_with_a_hint(cli: Cli) -> None:
    result = cli("tenants", "create", "Acme", "--time-zone", "Mars/Olympus")
    assert result.exit_code == 1
    assert "unknown time zone 'Mars/Olympus'; use an IANA name" in result.stderr
    assert "Traceback" not in result.output


def test_a_revoked_key_stops_authenticating(cli: Cli, db: str) -> None:
    result = cli("keys", "create", "--name", "mailer")
    assert result.exit_code == 0
    key = result.stdout.splitlines()[-1]
    with Segmentry(db) as segmentry:
        _, key_id = segmentry.authenticate(key)
    listed = json.loads(cli("keys", "list", "--json").stdout)["items"]
    assert [(k["key_id"], k["name"], k["revoked_at"]) for k in listed] == [(key_id, "mailer", None)]
    assert cli("keys", "revoke", key_id).exit_code == 0
    with Segmentry(db) as segmentry, pytest.raises(AuthenticationError):
        segmentry.authenticate(key)
    assert json.loads(cli("keys", "list", "--json").stdout)["items"][0]["revoked_at"] is not None
    again = cli("keys", "revoke", key_id)
    assert again.exit_code == 1
    assert f"has no active key '{key_id}'" in again.stderr


def test_keys_belong_to_the_tenant_given(cli: Cli, db: str) -> None:
    cli("tenants", "create", "Acme")
    key = cli("keys", "create", "--tenant", "2").stdout.splitlines()[-1]
    with Segmentry(db) as segmentry:
        assert segmentry.authenticate(key)[0] == 2
    assert json.loads(cli("keys", "list", "--json").stdout)["items"] == []  # tenant 1 has none
    missing = cli("keys", "list", "--tenant", "9")
    assert missing.exit_code == 1
    assert "no tenant 9" in missing.stderr
