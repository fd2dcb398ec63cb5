"""Webhooks over a real engine on both back ends, with the API in-process and a real
receiver and delivery worker."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from segmentry.api.app import create_app
from segmentry.engine.delivery.worker import DeliverySettings, WebhookWorker
from segmentry.engine.segmentry import Segmentry
from tests.api.conftest import Caller, TestClient, new_tenant
from tests.delivery.receiver import Receiver

FAST = DeliverySettings(
    allow_private=True, poll_interval=0.02, timeout=2.0, retry_base=0.05, retry_cap=0.2
)


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('delivery') / 'shop.db'}"
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.fixture(scope="module")
def segmentry(database_url: str) -> Iterator[Segmentry]:
    with Segmentry(database_url) as opened:
        yield opened


@pytest.fixture(scope="module")
def client(segmentry: Segmentry) -> Iterator[TestClient]:
    with TestClient(create_app(segmentry, allow_private_webhooks=True)) as opened:
        yield opened


@pytest.fixture(scope="module")
def strict_client(segmentry: Segmentry) -> Iterator[TestClient]:
    """The API as a server started without --allow-private-webhooks."""
    with TestClient(create_app(segmentry)) as opened:
        yield opened


@pytest.fixture
def api(segmentry: Segmentry, client: TestClient) -> Caller:
    tenant_id, key = new_tenant(segmentry, "shop a")
    return Caller(client, key, tenant_id)


@pytest.fixture
def other(segmentry: Segmentry, client: TestClient) -> Caller:
    tenant_id, key = new_tenant(segmentry, "shop b")
    return Caller(client, key, tenant_id)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as opened:
        yield opened


@pytest.fixture
def worker(segmentry: Segmentry) -> Iterator[WebhookWorker]:
    started = WebhookWorker(segmentry.database, FAST)
    started.start()
    try:
        yield started
    finally:
        started.stop()


def vip_shop(api: Caller) -> None:
    """Two customer segments and a product one."""
    for body in (
        {"kind": "customer", "code": "vip", "name": "VIP", "rule": "lifetime_value > 100"},
        {"kind": "customer", "code": "ios", "name": "iOS", "rule": "platform = 'ios'"},
        {"kind": "product", "code": "cheap", "name": "Cheap", "rule": "price < 10"},
    ):
        assert api.post("/v1/segments", json=body).status_code == 201
