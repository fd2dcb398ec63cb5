"""The page's second pass in Chromium: the keyboard alone, a phone, dates as people
say them, names beside ids, versions, and what relies on a segment."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from segmentry.engine.types import SegmentSpec
from tests.web.browser import Site, shoot, sign_in

pytestmark = pytest.mark.xdist_group("browser")  # one browser at a time on two cores


def tab_to(page: Page, target: Locator, *, back: bool = False, most: int = 12) -> int:
    """Press Tab (or Shift+Tab) until ``target`` has the focus; how many presses."""
    for presses in range(1, most + 1):
        page.keyboard.press("Shift+Tab" if back else "Tab")
        if target.evaluate("e => e === document.activeElement"):
            return presses
    raise AssertionError(f"{most} presses of Tab never reached {target}")


def test_a_segment_is_built_previewed_and_saved_with_the_keyboard_alone(
    page: Page, site: Site
) -> None:
    sign_in(page, site.key)
    page.goto("/products/segments/new")
    page.get_by_label("Name", exact=True).focus()
    page.keyboard.type("Premium Nike")
    page.keyboard.press("Enter")  # a half-filled form is not sent
    expect(page.locator("#form-problems")).to_have_count(0)
    expect(page).to_have_url(f"{site.url}/products/segments/new")
    page.keyboard.press("Tab")
    page.keyboard.type("premiumNike")

    attr = page.locator("#row-0-attr")
    assert tab_to(page, attr) <= 7  # description, type, status, the two modes, the help
    page.keyboard.type("Brand")  # the select's type-ahead, letter by letter
    expect(page.locator("#row-0-op")).to_be_visible()
    expect(attr).to_have_value("brand")
    expect(attr).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.locator("#row-0-op")).to_be_focused()
    page.keyboard.press("Tab")
    page.keyboard.type("Nike ")  # the trailing space is a slip, not part of the brand
    expect(page.locator("#preview-count")).to_have_text("3")
    expect(page.locator(".sample")).to_contain_text("Air Zoom Pegasus")  # names beside ids

    add = page.get_by_role("button", name="Add condition")
    assert tab_to(page, add) == 3  # past "Compare with" and "Remove condition 1"
    page.keyboard.press("Enter")
    expect(page.locator("#row-1-attr")).to_be_focused()  # the new row's first control
    page.keyboard.type("Unit P")
    expect(page.locator("#row-1-op")).to_be_visible()
    expect(page.locator("#row-1-attr")).to_have_value("price")
    page.keyboard.press("Tab")
    page.keyboard.type("greater")
    expect(page.locator("#row-1-op")).to_have_value(">")
    expect(page.locator("#row-1-value")).to_be_visible()
    expect(page.locator("#row-1-op")).to_be_focused()
    page.wait_for_timeout(600)  # the select re-renders the editor 500 ms after its change
    page.wait_for_function("() => !document.querySelector('.htmx-request')")
    page.keyboard.press("Tab")
    page.keyboard.type("100")
    expect(page.locator("#preview-count")).to_have_text("2")
    expect(page.locator("#rule-as-text")).to_have_text("brand = 'Nike' AND price > 100")

    tab_to(page, add)
    page.keyboard.press("Enter")
    expect(page.locator("#row-2-attr")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Remove condition 3")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#row-2-attr")).to_have_count(0)
    expect(page.locator("#row-1-attr")).to_be_focused()  # the row before it

    tab_to(page, page.get_by_role("button", name="Text", exact=True), back=True)
    page.keyboard.press("Enter")
    text = page.get_by_label("Rule text")
    expect(text).to_be_focused()
    expect(text).to_have_value("brand = 'Nike' AND price > 100")
    tab_to(page, page.get_by_role("button", name="Create segment"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Premium Nike")).to_be_visible()
    expect(page.locator("#member-count")).to_have_text("2")
    assert site.shop.segment("premiumNike").rule_text == "brand = 'Nike' AND price > 100"


def test_dates_are_said_as_people_say_them_and_written_as_the_language_does(
    page: Page, site: Site
) -> None:
    sign_in(page, site.key)
    page.goto("/customers/segments/new")
    page.locator("#row-0-attr").select_option(label="Created At")
    expect(page.locator("#row-0-op")).to_have_value("in the last")
    page.get_by_label("Condition 1: How many").fill("30")
    expect(page.locator("#preview-count")).to_have_text("6")
    expect(page.locator("#rule-as-text")).to_have_text("created_at > -30d")
    page.locator("#row-0-unit").select_option(label="days")
    page.locator("#row-0-op").select_option(label="more than … ago")
    expect(page.locator("#row-0-unit")).to_contain_text("weeks ago")
    page.get_by_label("Condition 1: How many").fill("1")
    page.locator("#row-0-unit").select_option(label="weeks ago")
    expect(page.locator("#rule-as-text")).to_have_text("created_at < -1w")
    expect(page.locator("#preview-count")).to_have_text("6")
    shoot(page, "editor-dates")

    page.get_by_role("button", name="Text", exact=True).click()
    text = page.get_by_label("Rule text")
    expect(text).to_have_value("created_at < -1w")
    text.fill("created_at > -3m AND created_at < 2026-03-10 ")
    expect(page.locator("#preview-count")).to_have_text("6")
    page.get_by_role("button", name="Rows", exact=True).click()
    expect(page.locator("#row-0-op")).to_have_value("in the last")
    expect(page.locator("#row-0-value")).to_have_value("3")
    expect(page.locator("#row-0-unit")).to_have_value("m")
    expect(page.locator("#row-1-op")).to_have_value("<")
    day = page.locator("#row-1-value")
    expect(day).to_have_attribute("type", "date")  # a date picker
    expect(day).to_have_value("2026-03-10")
    day.fill("2026-03-01")  # before anyone was created
    expect(page.locator("#preview-count")).to_have_text("0")
    expect(page.locator("#rule-as-text")).to_have_text(
        "created_at > -3m AND created_at < 2026-03-01"
    )


def test_versions_restore_duplicate_and_what_relies_on_a_segment(page: Page, site: Site) -> None:
    running = "IN SEGMENT 'nikeSale' AND tags CONTAINS 'running'"
    site.shop.create_segment(
        SegmentSpec(kind="product", code="nikeRunning", name="Nike running", rule=running)
    )
    sign_in(page, site.key)
    page.goto("/segments/nikeSale/edit")
    page.get_by_label("Name", exact=True).fill("Nike, discounted")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("status")).to_have_text("Saved.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Nike, discounted")

    page.get_by_role("link", name="Versions (2)").click()
    latest = page.locator("#version-2")
    expect(latest).to_contain_text("Nike on sale → Nike, discounted")
    expect(latest.get_by_role("button")).to_have_count(0)  # the current one
    shoot(page, "versions")
    page.get_by_role("button", name="Restore version 1").click()
    expect(page.get_by_role("status")).to_contain_text("Restored")
    expect(page.get_by_role("heading", level=1)).to_have_text("Nike on sale")
    assert site.shop.segment("nikeSale").version == 3

    page.get_by_role("link", name="See uses (1)").click()
    referrers = page.locator(".referrers")
    expect(referrers.get_by_role("link", name="Nike running", exact=True)).to_be_visible()
    page.goto("/segments/nikeSale/delete")
    expect(page.get_by_role("link", name="Nike running")).to_be_visible()
    expect(page.get_by_role("button", name="Delete segment")).to_have_count(0)
    page.get_by_role("link", name="Keep it").click()
    expect(page).to_have_url(f"{site.url}/segments/nikeSale")

    page.get_by_role("link", name="Duplicate").click()
    expect(page.get_by_label("Name", exact=True)).to_have_value("Copy of Nike on sale")
    expect(page.get_by_label("Code", exact=True)).to_have_value("nikeSaleCopy")
    expect(page.locator("#preview-count")).to_have_text("3")
    page.get_by_role("button", name="Create segment").click()
    expect(page.get_by_role("status")).to_have_text("Segment created.")
    assert site.shop.segment("nikeSaleCopy").rule_text == site.shop.segment("nikeSale").rule_text


PAGES = (
    "/products/segments", "/customers/segments", "/products/segments/new",
    "/customers/segments/new", "/segments/nikeSale", "/segments/nikeSale/edit",
    "/segments/nikeSale/members", "/segments/vipList/members", "/segments/nikeSale/uses",
    "/segments/nikeSale/delete", "/segments/nikeSale/versions", "/segments/nikeSale/duplicate",
    "/why?segment=nikeSale&id=p1", "/why?segment=loyalCustomersWithTheAppInstalled&id=c1",
    "/products", "/customers", "/product/p1", "/customer/c1", "/products/attributes",
    "/customers/attributes", "/help/rules",
)  # fmt: skip


def test_every_page_fits_a_phone(browser: Browser, site: Site) -> None:
    site.shop.create_segment(SegmentSpec(kind="customer", code="vipList", name="VIP list",
                                         type="fixed", members=["c1", "c2"]))  # fmt: skip
    site.shop.create_segment(SegmentSpec(
        kind="customer", code="loyalCustomersWithTheAppInstalled",
        name="Loyal customers with the app installed and a lifetime value",
        rule="app_installed = true AND lifetime_value >= 0"))  # fmt: skip
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, base_url=site.url
    )
    phone = context.new_page()
    phone.goto("/")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    sign_in(phone, site.key)
    wide = {}
    for path in PAGES:
        phone.goto(path)
        width = phone.evaluate("document.documentElement.scrollWidth")
        if width > 390:
            wide[path] = width
    assert wide == {}, f"pages wider than the phone: {wide}"
    phone.goto("/segments/nikeSale")
    expect(phone.locator("figure.chart svg")).to_be_visible()
    shoot(phone, "phone-segment")
    phone.goto("/segments/vipList/members")
    shoot(phone, "phone-members")
    phone.goto("/customer/c1")
    shoot(phone, "phone-customer")
    context.close()


def test_values_are_suggested_from_the_shop_with_their_counts(page: Page, site: Site) -> None:
    sign_in(page, site.key)
    page.goto("/products/segments/new")
    page.locator("#row-0-attr").select_option(label="Brand")
    value = page.locator("#row-0-value")
    expect(value).to_have_attribute("list", "row-0-values")
    options = page.locator("#row-0-values option")
    expect(options).to_have_count(4)  # every brand of the shop, the commonest first
    expect(options.first).to_have_attribute("value", "nike")
    expect(options.first).to_have_attribute("label", "3 products")
    value.press_sequentially("sa")  # as one types, the values containing it
    expect(options).to_have_count(1)
    expect(options.first).to_have_attribute("value", "salomon")
    expect(options.first).to_have_attribute("label", "2 products")
    page.locator("#row-0-op").select_option(label="contains")
    page.locator("#row-0-attr").select_option(label="Tags")
    page.locator("#row-0-value").fill("s")
    expect(page.locator("#row-0-values option").first).to_have_attribute("value", "sale")
    expect(page.locator("#row-0-values option").first).to_have_attribute("label", "5 products")
