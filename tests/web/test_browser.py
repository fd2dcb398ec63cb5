"""A marketer at work in a real browser: Chromium driven by Playwright, against the
served application on a real port over a real SQLite database.

These tests take the screenshots in docs/screenshots that the README shows.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, Request, expect

from segmentry.engine.types import Use, UseType
from tests.web.browser import Site, menu, shoot, sign_in

pytestmark = pytest.mark.xdist_group("browser")  # one browser at a time on two cores


def test_the_brief_product_segment_with_the_row_builder(page: Page, site: Site) -> None:
    page.goto("/")
    shoot(page, "sign-in")
    sign_in(page, site.key)
    shoot(page, "product-segments")
    page.get_by_role("link", name="Create new segment").click()
    page.get_by_label("Name", exact=True).fill("Premium products")
    page.get_by_label("Code", exact=True).fill("premiumProducts")
    page.locator("#row-0-attr").select_option(label="Unit Price")
    page.locator("#row-0-op").select_option(label="greater than")
    page.locator("#row-0-value").fill("100")
    expect(page.locator("#preview-count")).to_have_text("5")
    expect(page.locator("#rule-as-text")).to_have_text("price > 100")
    shoot(page, "editor-rows")
    # The selects reload the editor 500 ms after their last change (so type-ahead can
    # finish a word); let that reload land before switching to text, as a person would.
    page.wait_for_timeout(600)
    page.wait_for_function("() => !document.querySelector('.htmx-request')")

    page.get_by_role("button", name="Text", exact=True).click()
    expect(page.get_by_label("Rule text")).to_have_value("price > 100")
    expect(page.locator("#preview-count")).to_have_text("5")
    shoot(page, "editor-text")
    page.get_by_role("button", name="Rows", exact=True).click()
    expect(page.locator("#row-0-attr")).to_have_value("price")
    expect(page.locator("#row-0-op")).to_have_value(">")
    expect(page.locator("#row-0-value")).to_have_value("100")

    page.get_by_role("button", name="Create segment").click()
    expect(page.get_by_role("heading", name="Premium products")).to_be_visible()
    expect(page.locator("#member-count")).to_have_text("5")
    assert site.shop.segment("premiumProducts").rule_text == "price > 100"

    page.get_by_role("link", name="See products").click()
    expect(page.locator("#members-total")).to_have_text("5 products in this segment.")
    expect(page.get_by_role("row")).to_have_count(6)  # the header and five products
    shoot(page, "see-products")
    page.get_by_role("link", name="Why is p5 in Premium products?").click()
    expect(page.locator("#why-verdict")).to_contain_text("p5 is a member of Premium products")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Why Air Max 90 (p5) is in Premium products"
    )
    expect(page.locator(".condition")).to_contain_text("Unit Price greater than 100: seen 140")
    shoot(page, "explain")
    page.get_by_role("link", name="Air Max 90 (p5)", exact=True).click()
    expect(page.get_by_role("heading", name="Air Max 90")).to_be_visible()
    segments = page.locator(".memberships")
    expect(segments.get_by_role("link", name="Nike on sale", exact=True)).to_be_visible()
    expect(segments.get_by_role("link", name="Premium products", exact=True)).to_be_visible()


def test_a_rule_error_is_shown_at_its_row_and_at_its_text_position(page: Page, site: Site) -> None:
    sign_in(page, site.key)
    page.goto("/products/segments/new")
    page.locator("#row-0-attr").select_option(label="Stock")
    page.locator("#row-0-value").fill("a few")
    expect(page.locator("#row-0-error")).to_have_text(
        "'a few' is not a number; write it like 100 or 19.99"
    )
    page.get_by_role("button", name="Text", exact=True).click()  # refused: the row is wrong
    expect(page.locator("#row-0-value")).to_be_visible()
    page.locator("#row-0-value").fill("0")
    expect(page.locator("#preview-count")).to_have_text("1")
    page.get_by_role("button", name="Text", exact=True).click()
    page.get_by_label("Rule text").fill("stock = 0 AND NOT (brand = 'Nike' OR prce > 1)")
    expect(page.locator("#rule-text-error")).to_contain_text(
        "Line 1, column 38: unknown attribute 'prce'"
    )
    shoot(page, "editor-error")
    page.get_by_role("button", name="Rows", exact=True).click()  # rows cannot show a NOT group
    expect(page.locator("#rule-note")).to_contain_text("rows cannot show")
    expect(page.get_by_label("Rule text")).to_be_visible()


def test_a_huge_rule_is_refused_in_the_preview_and_the_page_keeps_its_width(
    page: Page, site: Site
) -> None:
    sign_in(page, site.key)
    page.goto("/products/segments/new")
    page.get_by_role("button", name="Text", exact=True).click()
    text = page.get_by_label("Rule text")
    text.fill("stock = 0")
    expect(page.locator("#preview-count")).to_have_text("1")
    long_line = "stock = 0 AND name = '" + "x" * 100_000 + "'"
    text.fill(long_line)
    expect(page.locator("#rule-text-error")).to_contain_text("rule is too long")
    expect(page.locator("#preview-count")).to_have_count(0)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1_280, f"the page is {width} px wide"
    text.fill("stock = 0 AND name = '" + "x" * 1_100_000 + "'")  # over the form's 1 MB
    expect(page.locator("#preview-refused")).to_contain_text("This rule is too long to preview")
    expect(page.locator("#preview-count")).to_have_count(0)
    text.fill("stock = 0")
    expect(page.locator("#preview-count")).to_have_text("1")  # and the preview comes back


def test_the_rule_builder_works_with_the_keyboard(page: Page, site: Site) -> None:
    sign_in(page, site.key)
    page.goto("/products/segments/new")
    page.locator("#row-0-attr").focus()
    page.keyboard.press("ArrowDown")  # the first attribute: ID; the editor is re-rendered
    expect(page.locator("#row-0-op")).to_be_visible()
    expect(page.locator("#row-0-attr")).to_be_focused()  # the focus survived the swap
    expect(page.locator("#row-0-attr")).to_have_value("id")
    page.keyboard.press("Tab")
    expect(page.locator("#row-0-op")).to_be_focused()
    page.keyboard.press("Tab")
    page.keyboard.type("p3")
    expect(page.locator("#preview-count")).to_have_text("1")
    expect(page.locator("#rule-as-text")).to_have_text("id = 'p3'")


def test_engage_no_orders_a_fixed_list_and_a_segment_deleted_while_in_use(
    page: Page, site: Site
) -> None:
    sign_in(page, site.key)
    menu(page, "Segmentation")
    page.get_by_role("link", name="Create new segment").click()
    page.get_by_label("Name", exact=True).fill("Engaged, no orders")
    page.get_by_label("Code", exact=True).fill("engageNoOrders")
    page.locator("#row-0-attr").select_option(label="App Installed")
    expect(page.locator("#row-0-value")).to_have_value("yes")
    page.get_by_role("button", name="Add condition").click()
    page.locator("#row-1-attr").select_option(label="Life Time Value")
    page.locator("#row-1-value").fill("0")
    expect(page.locator("#preview-count")).to_have_text("3")
    expect(page.locator("#rule-as-text")).to_have_text(
        "app_installed = true AND lifetime_value = 0"
    )
    shoot(page, "customer-editor")
    page.get_by_role("button", name="Create segment").click()
    expect(page.locator("#member-count")).to_have_text("3")

    menu(page, "Segmentation")
    page.get_by_role("link", name="Create new segment").click()
    page.get_by_label("Fixed").check()
    expect(page.locator("#rule-editor")).to_be_hidden()
    page.get_by_label("Name", exact=True).fill("Beta testers")
    page.get_by_label("Code", exact=True).fill("betaTesters")
    page.get_by_role("button", name="Create segment").click()
    expect(page.get_by_role("heading", name="Members of Beta testers")).to_be_visible()
    upload = page.locator("form[action$='/members/upload']")
    ids = {"name": "beta.csv", "mimeType": "text/csv", "buffer": b"id\nc2\nc5\nghost\n"}
    upload.get_by_label("Upload a CSV of ids").set_input_files(ids)
    upload.get_by_role("button", name="Upload", exact=True).click()
    expect(page.locator("#members-report")).to_contain_text("Nothing was changed: 1 id names no")
    upload = page.locator("form[action$='/members/upload']")
    upload.get_by_label("Upload a CSV of ids").set_input_files(ids)
    upload.get_by_label("Skip unknown ids").check()
    upload.get_by_role("button", name="Upload", exact=True).click()
    expect(page.locator("#members-report")).to_contain_text("Added 2, removed 0.")
    expect(page.locator("#members-report")).to_contain_text("ghost")
    expect(page.locator("#members-total")).to_have_text("2 customers in this segment.")
    shoot(page, "fixed-upload")

    push = Use("welcome-push", UseType.NOTIFICATION, "Welcome push", "https://push.example/w")
    site.shop.put_use("engageNoOrders", push)  # as the push service would, through the API
    page.goto("/segments/engageNoOrders")
    page.get_by_role("link", name="See uses (1)").click()
    expect(page.get_by_role("row", name="Welcome push")).to_contain_text("notification")
    shoot(page, "uses")
    page.goto("/segments/engageNoOrders")
    page.get_by_role("button", name="Deactivate").click()
    expect(page.get_by_role("status")).to_have_text("Segment deactivated.")
    expect(page.locator("#member-count")).to_have_text("0")
    page.get_by_role("link", name="Delete").click()
    expect(page.get_by_role("row", name="Welcome push")).to_be_visible()
    page.get_by_role("button", name="Delete segment").click()
    expect(page.get_by_role("alert")).to_contain_text("This segment is in use")
    shoot(page, "delete-in-use")
    page.get_by_role("button", name="Delete anyway").click()
    expect(page.get_by_role("status")).to_contain_text("engageNoOrders was deleted")
    assert [s.code for s in site.shop.segments("customer")] == ["betaTesters"]


def test_renaming_a_segment_in_use_shows_the_uses_and_asks_again(page: Page, site: Site) -> None:
    picks = Use("home-picks", UseType.WORKFLOW, "Home page: premium picks", "https://wf.example/7")
    site.shop.put_use("nikeSale", picks)
    sign_in(page, site.key)
    page.goto("/segments/nikeSale/edit")
    page.get_by_label("Code", exact=True).fill("nikeSaleX")
    page.get_by_role("button", name="Save changes").click()
    alert = page.locator("#in-use")
    expect(alert).to_contain_text("This segment is in use")
    expect(alert.get_by_role("row", name="Home page: premium picks")).to_contain_text("workflow")
    expect(page.get_by_label("Code", exact=True)).to_have_value("nikeSaleX")  # the edit is kept
    assert site.shop.segment("nikeSale").version == 1  # nothing saved
    shoot(page, "rename-in-use")
    page.get_by_role("button", name="Rename anyway, although 1 use relies on it").click()
    expect(page).to_have_url(f"{site.url}/segments/nikeSaleX?notice=saved")
    expect(page.get_by_role("status")).to_have_text("Saved.")
    assert [s.code for s in site.shop.segments("product")] == ["nikeSaleX"]


def test_typing_a_rule_sends_at_most_one_request_per_keystroke(page: Page, site: Site) -> None:
    sign_in(page, site.key)
    page.goto("/products/segments/new")
    page.get_by_role("button", name="Text", exact=True).click()
    box = page.get_by_label("Rule text")
    expect(box).to_be_visible()
    sent: list[str] = []

    def count(request: Request) -> None:
        if request.url.startswith(site.url):
            sent.append(request.url)

    page.on("request", count)
    text = "price > 100 AND brand = 'Nike'"
    box.press_sequentially(text, delay=40)
    expect(page.locator("#preview-count")).to_have_text("2")
    page.wait_for_timeout(600)  # longer than the debounce: nothing is left to send
    assert 1 <= len(sent) <= len(text)
    assert len(sent) <= len(text) // 5, f"{len(sent)} requests for {len(text)} keystrokes"
    assert all(url.endswith("/rule/preview") for url in sent)


def test_a_segment_page_charts_its_member_count_over_time(page: Page, site: Site) -> None:
    sign_in(page, site.key)
    page.get_by_role("link", name="Nike on sale", exact=True).click()
    chart = page.get_by_role("img")
    expect(chart).to_have_accessible_name(
        "Member count from 2026-03-02 to 2026-03-16: 2 at first, 3 now, 4 at most."
    )
    shoot(page, "segment")
