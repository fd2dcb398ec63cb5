"""Engines on both back ends, with a clock the test moves by hand."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from segmentry.engine.segmentry import Segmentry
from segmentry.engine.shop import Shop

START = datetime(2024, 3, 15, 12, 0, tzinfo=UTC)


class ManualClock:
    """A clock that only moves when told to."""

    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'shop.db'}"
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.fixture
def segmentry(database_url: str, clock: ManualClock) -> Iterator[Segmentry]:
    segmentry = Segmentry(database_url, clock=clock)
    yield segmentry
    segmentry.close()


@pytest.fixture
def shop(segmentry: Segmentry) -> Shop:
    """A fresh tenant's shop (on PostgreSQL, tests share a database but never a tenant)."""
    return segmentry.shop(segmentry.create_tenant("test shop", "Europe/Madrid").tenant_id)
