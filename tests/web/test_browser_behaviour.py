"""A behaviour row in Chromium, with the keyboard alone, on a phone-wide window:
built, shown as text and back as rows, previewed and saved."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.web.browser import Site, shoot, sign_in
from tests.web.test_browser_second_pass import tab_to

pytestmark = pytest.mark.xdist_group("browser")  # one browser at a time on two cores

ORDERS = [  # the site's clock stands at 2026-03-16 09:00 UTC once seeded
    ("o1", "c2", "2026-03-10T10:00:00Z", "p1", "150"),  # Nike on sale, in the last 30 days
    ("o2", "c5", "2026-03-12T10:00:00Z", "p3", "50"),
    ("o3", "c5", "2026-03-14T10:00:00Z", "p3", "60"),  # 110 in all, no Nike on sale
    ("o4", "c1", "2026-01-05T10:00:00Z", "p1", "500"),  # long before the window
]


@pytest.fixture
def narrow(browser: Browser, site: Site) -> Iterator[Page]:
    """A 390 px wide window (a phone's width), driven by the keyboard."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, base_url=site.url)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    context.close()
    assert errors == [], "the page raised JavaScript errors"


def no_horizontal_scroll(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_a_behaviour_segment_is_built_previewed_and_saved_with_the_keyboard(
    narrow: Page, site: Site
) -> None:
    for code, customer, placed, product, price in ORDERS:
        line = {"product_id": product, "quantity": 1, "unit_price": price}
        site.shop.put_order(code, {"customer_id": customer, "placed_at": placed, "lines": [line]})
    page = narrow
    sign_in(page, site.key)
    page.goto("/customers/segments/new")
    page.get_by_label("Name", exact=True).focus()
    page.keyboard.type("Big spenders")
    page.keyboard.press("Tab")
    page.keyboard.type("bigSpenders")

    attr = page.locator("#row-0-attr")
    tab_to(page, attr)
    page.keyboard.type("Amount")  # the select's type-ahead reaches the Behaviour group
    expect(page.locator("#row-0-op")).to_be_visible()
    expect(attr).to_have_value("@amount_spent")
    expect(attr).to_be_focused()
    page.keyboard.press("Tab")
    page.keyboard.type("greater")
    expect(page.locator("#row-0-op")).to_have_value(">")
    page.keyboard.press("Tab")
    page.keyboard.type("100")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Condition 1: Which orders")).to_be_focused()
    expect(page.get_by_label("Condition 1: Which orders")).to_have_value("")  # any order
    page.keyboard.press("Tab")
    window = page.get_by_label("Condition 1: When")
    expect(window).to_be_focused()
    page.keyboard.type("in")
    expect(window).to_have_value("last")
    count = page.get_by_label("Condition 1: How many")
    expect(count).to_be_visible()
    expect(window).to_be_focused()
    page.keyboard.press("Tab")
    expect(count).to_be_focused()
    page.keyboard.type("30")
    expect(page.locator("#rule-as-text")).to_have_text("amount_spent(since: -30d) > 100")
    expect(page.locator("#preview-count")).to_have_text("2")

    add = page.get_by_role("button", name="Add condition")
    tab_to(page, add)
    page.keyboard.press("Enter")
    expect(page.locator("#row-1-attr")).to_be_focused()  # the new row's first control
    page.keyboard.type("Purchased")
    expect(page.locator("#row-1-op")).to_have_value("purchased")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    which = page.get_by_label("Condition 2: Which products")
    expect(which).to_be_focused()
    page.keyboard.press("ArrowDown")  # from "any product" to the one product segment
    expect(which).to_have_value("segment:nikeSale")
    expect(page.locator("#rule-as-text")).to_have_text(
        "amount_spent(since: -30d) > 100 AND purchased(IN SEGMENT 'nikeSale')"
    )
    expect(page.locator("#preview-count")).to_have_text("1")
    no_horizontal_scroll(page)
    shoot(page, "editor-behaviour")

    tab_to(page, page.get_by_role("button", name="Text", exact=True), back=True, most=20)
    page.keyboard.press("Enter")
    text = page.get_by_label("Rule text")
    expect(text).to_be_focused()
    expect(text).to_have_value(
        "amount_spent(since: -30d) > 100 AND purchased(IN SEGMENT 'nikeSale')"
    )
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    expect(page.get_by_role("button", name="Rows", exact=True)).to_be_focused()
    page.keyboard.press("Enter")
    expect(attr).to_be_focused()  # back as the same rows
    expect(page.get_by_label("Condition 1: How many")).to_have_value("30")
    expect(page.get_by_label("Condition 2: Which products")).to_have_value("segment:nikeSale")
    no_horizontal_scroll(page)

    tab_to(page, page.get_by_role("button", name="Create segment"), most=30)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Big spenders")).to_be_visible()
    expect(page.locator("#member-count")).to_have_text("1")
    no_horizontal_scroll(page)
    saved = site.shop.segment("bigSpenders").rule_text
    assert saved == "amount_spent(since: -30d) > 100 AND purchased(IN SEGMENT 'nikeSale')"
