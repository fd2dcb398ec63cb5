"""The webhooks section in Chromium: reached from a segment's uses, a webhook's page,
the list with each one's health; the list fits a phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from segmentry.engine.webhooks import Webhooks, WebhookSpec
from tests.web.browser import Site, shoot, sign_in

pytestmark = pytest.mark.xdist_group("browser")  # one browser at a time on two cores

RECEIVER = "http://127.0.0.1:8080/hooks/segments"  # a receiver on the shop's own machine


def test_a_segments_webhook_is_reached_from_its_uses(
    page: Page, browser: Browser, site: Site
) -> None:
    hooks = Webhooks(site.shop.segmentry, site.shop.tenant_id, allow_private=True)
    webhook, _ = hooks.create(
        WebhookSpec(RECEIVER, segments=["nikeSale"], kinds=["product"],
                    description="Price alerts in the marketing tool")
    )  # fmt: skip
    sign_in(page, site.key)
    page.goto("/segments/nikeSale")
    page.get_by_role("link", name="See uses (1)").click()
    page.get_by_role("link", name="see webhook").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Webhook {webhook.id}")
    expect(page.locator("#health")).to_have_text("healthy")
    page.get_by_role("navigation", name="Breadcrumb").get_by_role("link", name="Webhooks").click()
    row = page.get_by_role("row", name=RECEIVER)
    expect(row).to_contain_text("nikeSale")
    expect(row).to_contain_text("healthy")
    shoot(page, "webhooks")

    context = browser.new_context(viewport={"width": 390, "height": 844}, base_url=site.url)
    phone = context.new_page()
    sign_in(phone, site.key)
    for path in ("/webhooks", f"/webhooks/{webhook.id}"):
        phone.goto(path)
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390, path
    context.close()
