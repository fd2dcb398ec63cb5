"""Shared test settings: Hypothesis profiles and real database fixtures.

In CI (``CI=true``) nothing may skip for a missing service: the PostgreSQL
fixtures fail loudly instead. Locally they skip with the reason.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from _pytest.nodeid import coerce_node_id
from hypothesis import HealthCheck, settings
from schemathesis.pytest.plugin import SchemathesisFunction

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
PG_ADMIN_URL = os.environ.get(
    "SEGMENTRY_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
SHARED = Path(__file__).resolve().parents[1].parent / "shared"

settings.register_profile(
    "ci", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "dev", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("ci" if IN_CI else os.environ.get("HYPOTHESIS_PROFILE", "dev"))


def examples(in_ci: int, locally: int) -> int:
    """How many Hypothesis examples a test runs: the CI figure in CI."""
    return in_ci if IN_CI else locally


def _pg_admin_engine():  # type: ignore[no-untyped-def]
    import sqlalchemy as sa

    return sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", pool_pre_ping=True)


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session (worker), dropped afterwards."""
    import sqlalchemy as sa

    engine = _pg_admin_engine()
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
    except sa.exc.OperationalError as exc:
        engine.dispose()
        if IN_CI:
            pytest.fail(f"PostgreSQL is required in CI and unreachable at {PG_ADMIN_URL}: {exc}")
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}")
    name = f"segmentry_test_{os.getpid()}_{secrets.token_hex(4)}"
    with engine.connect() as conn:
        conn.execute(sa.text(f"create database \"{name}\" encoding 'UTF8' template template0"))
    url = engine.url.set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with engine.connect() as conn:
            conn.execute(sa.text(f'drop database if exists "{name}" with (force)'))
        engine.dispose()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real shop data beside the repository, or a skip saying it is absent."""
    data = SHARED / "data"
    if not data.is_dir():
        pytest.skip(f"real shop data not found at {data} (../shared/data beside the repository)")
    return data


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Give every item the node id xdist needs.

    pytest 9.2 builds an item's id from its function's name and its parametrize
    ids. Schemathesis 4.32 (one item per API operation, told apart by name) and
    xdist 3.8 (``xdist_group`` appends ``@group`` to the id) still set the id the
    old way, which pytest no longer reads: xdist would then run one of the
    operations' items, and groups would not group. Uses pytest's private
    ``_id``: if that changes, this fails loudly rather than running less."""
    for item in items:
        if "@" in item.nodeid:
            continue
        node_id = item.nodeid
        if isinstance(item, SchemathesisFunction) and item.parent is not None:
            node_id = f"{item.parent.nodeid}::{item.name}"
        groups = sorted({str(m.args[0]) for m in item.iter_markers("xdist_group") if m.args})
        if groups:
            node_id = f"{node_id}@{'_'.join(groups)}"
        if node_id != item.nodeid:
            item._id = coerce_node_id(node_id)
