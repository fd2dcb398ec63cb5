"""The web page under test: the served application (API and web page) on a real
port, over a real SQLite database, with a small shop in it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page

from segmentry.cli.server import LiveServer, build_app
from segmentry.engine.segmentry import Segmentry
from segmentry.engine.shop import Shop
from tests.web.browser import Clock, Site, launch, seed

PRODUCTS = [
    {"id": "p1", "name": "Air Zoom", "brand": "Nike", "price": 120, "stock": 4},
    {"id": "p2", "name": "Club Tee", "brand": "Nike", "price": 25, "stock": 40},
    {"id": "p3", "name": "Ultraboost", "brand": "Adidas", "price": 180, "stock": 2},
    {"id": "p4", "name": "Socks", "brand": "Adidas", "price": 9.5, "tags": ["sale"]},
]
CUSTOMERS = [
    {"id": "c1", "email": "ana@example.com", "app_installed": True, "lifetime_value": 0},
    {"id": "c2", "email": "bo@example.com", "app_installed": True, "lifetime_value": 250},
    {"id": "c3", "email": "cy@example.com", "app_installed": False, "lifetime_value": 0},
    {"id": "c4", "email": "di@example.com", "app_installed": True, "lifetime_value": 0},
]
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Tenant:
    key: str
    shop: Shop


def open_tenant(segmentry: Segmentry, name: str) -> Tenant:
    tenant = segmentry.create_tenant(name)
    _, key = segmentry.issue_key(tenant.tenant_id, f"{name} web")
    shop = segmentry.shop(tenant.tenant_id)
    shop.upsert_many("product", PRODUCTS)
    shop.upsert_many("customer", CUSTOMERS)
    return Tenant(key, shop)


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Segmentry, str]]:
    """One database and one server per worker; each test gets its own tenant, which
    the library keeps apart from every other (tests/web/test_isolation.py checks the
    page does too)."""
    path = tmp_path_factory.mktemp("web") / "shop.db"
    with Segmentry(f"sqlite:///{path}") as opened, LiveServer(build_app(opened)) as server:
        yield opened, server.url


@pytest.fixture
def segmentry(served: tuple[Segmentry, str]) -> Segmentry:
    return served[0]


@pytest.fixture
def live(served: tuple[Segmentry, str]) -> str:
    """The base URL of the served application."""
    return served[1]


@pytest.fixture
def tenant(segmentry: Segmentry) -> Tenant:
    return open_tenant(segmentry, "Shop A")


class Visitor:
    """A browser without JavaScript: keeps cookies, reads the CSRF token off each page."""

    def __init__(self, base: str) -> None:
        self.http = httpx.Client(base_url=base, follow_redirects=True, timeout=30)
        self.token = ""

    def get(self, path: str, **kwargs: object) -> httpx.Response:
        response = self.http.get(path, **kwargs)  # type: ignore[arg-type]
        self._remember(response)
        return response

    def post(
        self, path: str, data: dict[str, object] | None = None, **kw: object
    ) -> httpx.Response:
        fields = {"csrf_token": self.token, **(data or {})}
        response = self.http.post(path, data=fields, **kw)  # type: ignore[arg-type]
        self._remember(response)
        return response

    def _remember(self, response: httpx.Response) -> None:
        found = TOKEN.search(response.text)
        if found:
            self.token = found[1]

    def sign_in(self, key: str) -> httpx.Response:
        self.get("/signin")
        return self.post("/signin", {"api_key": key, "next": "/products/segments"})


@pytest.fixture
def visitor(live: str) -> Iterator[Visitor]:
    client = Visitor(live)
    yield client
    client.http.close()


@pytest.fixture
def signed_in(visitor: Visitor, tenant: Tenant) -> Visitor:
    response = visitor.sign_in(tenant.key)
    assert response.status_code == 200
    return visitor


# -- the browser tests' site and Chromium ------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One Chromium per worker: xdist may run other modules' tests between these."""
    yield from launch()


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    clock = Clock()
    with Segmentry(f"sqlite:///{tmp_path / 'shop.db'}", clock=clock) as segmentry:
        tenant = segmentry.tenants()[0]
        _, key = segmentry.issue_key(tenant.tenant_id, "marketing")
        shop = segmentry.shop(tenant.tenant_id)
        seed(shop, clock)
        with LiveServer(build_app(segmentry)) as live:
            yield Site(live.url, key, shop)


@pytest.fixture
def page(browser: Browser, site: Site) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=site.url)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    context.close()
    assert errors == [], "the page raised JavaScript errors"
