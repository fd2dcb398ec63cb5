"""The API over a real Segmentry on both back ends, reached in-process (TestClient) or
through a real uvicorn server on a free port (LiveServer)."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from starlette.exceptions import StarletteDeprecationWarning

# starlette.testclient (the in-process client here and in Schemathesis's ASGI
# transport) warns once, on import, that it prefers httpx2 to httpx; the project
# pins httpx, which it still supports. Imported here under that one exception,
# so later imports (cached) stay silent and every other warning is an error.
with warnings.catch_warnings():
    warnings.filterwarnings(
        "ignore",
        message="Using `httpx` with `starlette.testclient` is deprecated",
        category=StarletteDeprecationWarning,
    )
    from fastapi.testclient import TestClient

from segmentry.api.app import create_app
from segmentry.api.limits import Limits
from segmentry.engine.segmentry import Segmentry


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('api') / 'shop.db'}"
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.fixture(scope="module")
def segmentry(database_url: str) -> Iterator[Segmentry]:
    """One Segmentry per module and back end; every test makes its own tenants."""
    with Segmentry(database_url) as opened:
        yield opened


@dataclass
class Caller:
    """One tenant's client: every request carries the tenant's API key."""

    client: httpx.Client | TestClient
    key: str
    tenant_id: int

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        headers = {**self.auth, **kwargs.pop("headers", {})}
        return self.client.request(method, url, headers=headers, **kwargs)

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def put(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("PUT", url, **kwargs)

    def patch(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("PATCH", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", url, **kwargs)


def new_tenant(segmentry: Segmentry, name: str) -> tuple[int, str]:
    tenant = segmentry.create_tenant(name)
    _, plain = segmentry.issue_key(tenant.tenant_id, f"{name} key")
    return tenant.tenant_id, plain


@pytest.fixture(scope="module")
def client(segmentry: Segmentry) -> Iterator[TestClient]:
    with TestClient(create_app(segmentry)) as opened:
        yield opened


@pytest.fixture
def api(segmentry: Segmentry, client: TestClient) -> Caller:
    """A fresh tenant (on PostgreSQL, tests share a database but never a tenant)."""
    tenant_id, key = new_tenant(segmentry, "shop a")
    return Caller(client, key, tenant_id)


@pytest.fixture
def other(segmentry: Segmentry, client: TestClient) -> Caller:
    tenant_id, key = new_tenant(segmentry, "shop b")
    return Caller(client, key, tenant_id)


def small_limits_client(segmentry: Segmentry, limits: Limits) -> TestClient:
    return TestClient(create_app(segmentry, limits=limits))


def is_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The problem of ``response``, checked for the RFC 9457 shape, status and type."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json", response.headers
    body: dict[str, Any] = response.json()
    assert body["type"] == f"https://segmentry.dev/problems/{code}", body
    assert body["status"] == status
    assert isinstance(body["title"], str)
    assert body["title"]
    assert isinstance(body["detail"], str)
    assert body["detail"]
    return body
