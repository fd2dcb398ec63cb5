"""The Webhooks section of the web page, served for real: create (the secret shown
once), the list with health, a webhook's recent deliveries, re-enable, replay,
delete; reachable from the nav and from a segment's uses; and one walk through it
in Chromium."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from segmentry.cli.server import LiveServer, build_app
from segmentry.engine.delivery.worker import WebhookWorker
from segmentry.engine.segmentry import Segmentry
from segmentry.engine.shop import Shop
from segmentry.engine.types import SegmentSpec
from tests.delivery.conftest import FAST
from tests.delivery.receiver import Receiver
from tests.web.browser import launch
from tests.web.conftest import Visitor

pytestmark = pytest.mark.xdist_group("browser")


@dataclass
class Site:
    url: str
    key: str
    shop: Shop
    segmentry: Segmentry


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    with Segmentry(f"sqlite:///{tmp_path / 'shop.db'}") as segmentry:
        tenant = segmentry.tenants()[0]
        _, key = segmentry.issue_key(tenant.tenant_id, "marketing")
        shop = segmentry.shop(tenant.tenant_id)
        shop.create_segment(
            SegmentSpec(kind="customer", code="vip", name="VIP", rule="lifetime_value > 100")
        )
        app = build_app(segmentry, allow_private_webhooks=True)
        with LiveServer(app) as live:
            yield Site(live.url, key, shop, segmentry)


@pytest.fixture
def visitor(site: Site) -> Iterator[Visitor]:
    client = Visitor(site.url)
    assert client.sign_in(site.key).status_code == 200
    yield client
    client.http.close()


SECRET = re.compile(r'<code id="webhook-secret">(whsec_[^<]+)</code>')


def test_create_shows_the_secret_once_and_the_page_tracks_health(
    site: Site, visitor: Visitor
) -> None:
    assert 'href="/webhooks"' in visitor.get("/segments").text  # in the nav
    with Receiver() as receiver:
        refused = visitor.post(
            "/webhooks", {"url": receiver.url, "segments": "nope", "kinds": "customer"}
        )
        assert refused.status_code == 400
        assert "no segment with code &#39;nope&#39;" in refused.text
        created = visitor.post(
            "/webhooks",
            {"url": receiver.url, "segments": "vip", "kinds": ["customer"], "changes": ["entered"]},
        )
        assert created.status_code == 200
        found = SECRET.search(created.text)
        assert found
        receiver.secrets.append(found[1])
        listed = visitor.get("/webhooks")
        assert receiver.url in listed.text
        assert found[1] not in listed.text  # shown once
        (hook_id,) = re.findall(r'href="/webhooks/(wh_[0-9a-f]+)"', listed.text)[:1]
        assert f"/webhooks/{hook_id}" in visitor.get("/segments/vip/uses").text
        worker = WebhookWorker(site.segmentry.database, FAST)
        worker.start()
        try:
            site.shop.upsert("customer", "c1", {"lifetime_value": 500})
            receiver.wait_for(1)
            disabled = visitor.post(f"/webhooks/{hook_id}/enabled", {"enabled": "false"})
            assert "disabled by a user" in disabled.text
            enabled = visitor.post(f"/webhooks/{hook_id}/enabled", {"enabled": "true"})
            assert "Webhook enabled." in enabled.text
            replayed = visitor.post(f"/webhooks/{hook_id}/replay", {"after": "0"})
            assert "Webhook replayed." in replayed.text
            receiver.wait_for(2)
            bad = visitor.post(f"/webhooks/{hook_id}/replay", {"after": "x"})
            assert bad.status_code == 400
        finally:
            worker.stop()
        page = visitor.get(f"/webhooks/{hook_id}").text
        assert "healthy" in page
        assert page.count("<td>200</td>") >= 2
        assert visitor.post(f"/webhooks/{hook_id}/delete").status_code == 200
        assert visitor.get(f"/webhooks/{hook_id}").status_code == 404


def test_a_post_without_the_token_is_refused(site: Site, visitor: Visitor) -> None:
    answer = visitor.http.post("/webhooks", data={"url": "http://127.0.0.1:9/x"})
    assert answer.status_code == 403
    assert site.segmentry.shop(site.shop.tenant_id).segmentry is site.segmentry
    assert "wh_" not in visitor.get("/webhooks").text


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from launch()


def test_a_marketer_creates_a_webhook_and_sees_its_deliveries(browser: Browser, site: Site) -> None:
    context = browser.new_context(base_url=site.url)
    page: Page = context.new_page()
    try:
        with Receiver() as receiver:
            page.goto("/")
            page.get_by_label("API key").fill(site.key)
            page.keyboard.press("Enter")
            page.get_by_role("navigation", name="Main").get_by_role("link", name="Webhooks").click()
            expect(page.get_by_role("heading", name="Webhooks", exact=True)).to_be_visible()
            page.get_by_label("URL").fill(receiver.url)
            page.get_by_label("Segments").fill("vip")
            page.get_by_role("button", name="Create webhook").click()
            secret = page.locator("#webhook-secret").inner_text()
            assert secret.startswith("whsec_")
            receiver.secrets.append(secret)
            worker = WebhookWorker(site.segmentry.database, FAST)
            worker.start()
            try:
                site.shop.upsert("customer", "c7", {"lifetime_value": 900})
                receiver.wait_for(1)
            finally:
                worker.stop()
            page.get_by_role("link", name=receiver.url).click()
            expect(page.locator("#health")).to_have_text("healthy")
            expect(page.get_by_role("cell", name="200", exact=True)).to_be_visible()
    finally:
        context.close()
